"""Simulated OCPP charge points (1.6J and 2.0.1) with a simple car, on the `ocpp` library."""

from .behaviour import SimBehaviour
from .car import Car
from .core import SimChargePoint, SimOffline

__all__ = ["Car", "SimBehaviour", "SimChargePoint", "SimOffline"]
