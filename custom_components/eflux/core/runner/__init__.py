"""`eflux-local --config site.yaml`: central system + meters + controller + local API, no HA."""

from .main import main, run

__all__ = ["main", "run"]
