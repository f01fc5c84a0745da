"""Errors shared by the parts that read configuration (site.yaml, HA options, meter settings)."""

from __future__ import annotations


class ConfigError(ValueError):
    """A configuration value is invalid: `key` says where (`chargers[CP1].max_current_a`),
    `reason` what is wrong, `file` which file (when it came from one)."""

    def __init__(self, key: str, reason: str, file: str | None = None) -> None:
        self.key = key
        self.reason = reason
        self.file = file
        where = f"{file}: {key}" if file else key
        super().__init__(f"{where}: {reason}")

    def in_file(self, file: str) -> ConfigError:
        """The same error, naming the file it was read from."""
        return ConfigError(self.key, self.reason, file)
