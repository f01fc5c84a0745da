"""Helpers that start real services for the tests (broker, database) on loopback."""
