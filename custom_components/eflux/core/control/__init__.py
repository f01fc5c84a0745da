"""The controller's parts: inputs from chargers and meters, limit sending, departures, snapshots."""
