"""Tests of the simulators themselves."""
