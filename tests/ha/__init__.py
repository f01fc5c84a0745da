"""Tests of the Home Assistant layer (run with the HA test plugin)."""
