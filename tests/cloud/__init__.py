"""Tests of the local cloud-sync client."""
