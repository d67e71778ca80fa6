"""A real ``seawall serve`` process on a free loopback port, for tests that need one."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running server: its process, URL and (on first start) the admin token it printed."""

    process: subprocess.Popen[str]
    url: str
    admin_token: str | None
    log: Path

    def kill(self) -> None:
        """SIGKILL: no shutdown, no checkpoint."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def start_server(store: Path, log: Path, port: int | None = None) -> Server:
    """Start ``seawall serve`` on ``store`` and wait until /healthz answers."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("a") as out:  # the child keeps its own descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "seawall", "serve", "--store", str(store), "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError(f"the server did not start: {log.read_text()}")
    tokens = re.findall(r"\bsw_[0-9a-f]{16}_[A-Za-z0-9_-]+", log.read_text())
    return Server(process, url, tokens[-1] if tokens else None, log)
