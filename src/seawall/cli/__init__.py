"""The ``seawall`` command line: a thin layer over the library."""

from __future__ import annotations

from seawall.cli._main import cli, main

__all__ = ["cli", "main"]
