"""Scenario files (NAME.yaml) and the runner that plays them: `scripts/scenario NAME`."""
