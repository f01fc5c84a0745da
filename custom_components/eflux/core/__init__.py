"""E-Flux Local core: all logic, unit-testable without Home Assistant (never imports it)."""
