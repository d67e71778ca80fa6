"""Render an audit or an investigation for people (a self-contained HTML page) and for machines.

Examples
--------
>>> from seawall.reports import ReportPaths, render_html, write_report
>>> sorted(f for f in ReportPaths.__dataclass_fields__)
['html', 'json']
"""

from __future__ import annotations

from seawall.reports._html import render_html, render_investigation_html
from seawall.reports._write import ReportPaths, write_investigation, write_report

__all__ = [
    "ReportPaths",
    "render_html",
    "render_investigation_html",
    "write_investigation",
    "write_report",
]
