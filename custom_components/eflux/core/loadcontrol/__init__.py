"""The load controller (`controller.py`: meter readings and charger events in, limits out) and
its parts: inputs from chargers and meters, limit sending, safe limits, re-planning, snapshots."""
