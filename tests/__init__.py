"""E-Flux Local test suite."""
