"""Cloud sync client: session outbox, card and departure pulls, backoff (no Home Assistant)."""
