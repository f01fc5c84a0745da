"""A PostgreSQL database for tests: the machine's server when it answers, else a throwaway
cluster started from Debian's binaries in a temporary directory on a free port."""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .ports import LOOPBACK, free_port, port_answers

SYSTEM_PORT = 5432


def _binary_dir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_postgres_user(cmd: list[str]) -> list[str]:
    """initdb refuses to run as root: run the cluster as the 'postgres' system user then."""
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


async def _admin(dsn: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@contextmanager
def _throwaway_cluster() -> Iterator[int]:
    bindir = _binary_dir()
    if bindir is None:
        raise RuntimeError("PostgreSQL binaries (initdb, pg_ctl) are not installed")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError as err:
            raise RuntimeError("running as root and no 'postgres' user to own a cluster") from err
    # Its own directory right under /tmp: the 'postgres' user cannot enter pytest's root-owned
    # 0700 temp tree.
    datadir = Path(tempfile.mkdtemp(prefix="eflux-pg-"))
    if os.geteuid() == 0:
        shutil.chown(datadir, "postgres")
    port = free_port()
    subprocess.run(
        _as_postgres_user(
            [
                str(bindir / "initdb"),
                "-D",
                str(datadir),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ]
        ),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {datadir} -c listen_addresses={LOOPBACK} -c fsync=off"
    subprocess.run(
        _as_postgres_user(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(datadir),
                "-o",
                options,
                "-l",
                str(datadir / "log"),
                "-w",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield port
    finally:
        subprocess.run(
            _as_postgres_user(
                [str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "stop"]
            ),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(datadir, ignore_errors=True)


@contextmanager
def postgres_database() -> Iterator[str]:
    """Yield the DSN of a fresh, empty database; dropped afterwards."""
    name = f"eflux_test_{uuid.uuid4().hex[:12]}"

    @contextmanager
    def server() -> Iterator[int]:
        if port_answers(SYSTEM_PORT):
            yield SYSTEM_PORT
        else:
            with _throwaway_cluster() as port:
                yield port

    with server() as port:
        admin_dsn = f"postgresql://postgres@{LOOPBACK}:{port}/postgres"
        asyncio.run(_admin(admin_dsn, f'CREATE DATABASE "{name}"'))
        try:
            yield f"postgresql://postgres@{LOOPBACK}:{port}/{name}"
        finally:
            asyncio.run(_admin(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
