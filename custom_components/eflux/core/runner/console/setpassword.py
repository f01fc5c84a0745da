"""`eflux-local --config site.yaml --set-password` and `--hash-password`.

The manager's hash goes into the side file next to site.yaml (console.password_file, by
default `console-password`, mode 0600), so site.yaml and its comments stay as they are. The file
is found without parsing the whole site (whose checks may refuse to start until a password is
set). `--hash-password` prints a hash for a resident's card entry (`console_password:`).
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import TextIO

import yaml

from ...config.console import DEFAULT_PASSWORD_FILE
from .hashing import hash_password

MIN_LENGTH = 10


def read_new_password(stdin: TextIO | None = None) -> str:
    """Asked twice on a terminal; one line from a pipe (scripts, the demo)."""
    stdin = stdin or sys.stdin
    if stdin.isatty():
        first = getpass.getpass("New console password: ")
        if getpass.getpass("Again: ") != first:
            raise ValueError("the two passwords differ")
    else:
        first = stdin.readline().rstrip("\r\n")
    if len(first) < MIN_LENGTH:
        raise ValueError(f"a console password needs at least {MIN_LENGTH} characters")
    return first


def password_file(config_path: Path) -> Path:
    data = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    console = data.get("console") if isinstance(data, dict) else None
    name = DEFAULT_PASSWORD_FILE
    if isinstance(console, dict) and console.get("password_file"):
        name = str(console["password_file"])
    return config_path.parent / name


def set_password(config_path: Path, password: str) -> Path:
    target = password_file(config_path)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(hash_password(password) + "\n")
    return target


def run_set_password(config: str | None, stdin: TextIO | None = None) -> int:
    if config is None:
        print("eflux-local: --set-password needs --config site.yaml", file=sys.stderr)
        return 2
    try:
        target = set_password(Path(config), read_new_password(stdin))
    except (ValueError, OSError, yaml.YAMLError) as err:
        print(f"eflux-local: password not set: {err}", file=sys.stderr)
        return 2
    print(f"console password stored (scrypt hash) in {target}")
    return 0


def run_hash_password(stdin: TextIO | None = None) -> int:
    try:
        print(hash_password(read_new_password(stdin)))
    except ValueError as err:
        print(f"eflux-local: {err}", file=sys.stderr)
        return 2
    return 0
