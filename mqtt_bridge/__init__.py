"""Modbus to MQTT bridge daemon with Home Assistant discovery."""
