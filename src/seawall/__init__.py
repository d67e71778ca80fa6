"""Seawall: audit models for fairness before they ship, and watch the fleet after.

Examples
--------
>>> import seawall
>>> isinstance(seawall.__version__, str)
True
"""

from __future__ import annotations

from seawall._version import __version__

__all__ = ["__version__"]
