"""Home Assistant custom integrations of this repository (a regular package so tests import it)."""
