"""Tests of the HA-free core."""
