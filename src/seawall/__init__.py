"""Seawall: audit models for fairness before they ship, and watch the fleet after.

Examples
--------
>>> import seawall
>>> isinstance(seawall.__version__, str)
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from seawall._version import __version__

if TYPE_CHECKING:
    from seawall.client import Client

__all__ = ["Client", "__version__"]


def __getattr__(name: str) -> Any:
    # The client (httpx) is imported only when asked for: ``seawall.Client``.
    if name == "Client":
        from seawall.client import Client

        return Client
    raise AttributeError(f"module 'seawall' has no attribute {name!r}")
