"""Tests of the local OCPP central system, over real websockets on loopback."""
