"""Simulators (charge points, meters, households) for tests, benches and the demo."""
