"""Render an audit for people (a self-contained HTML page) and for machines (JSON).

Examples
--------
>>> from seawall.reports import ReportPaths, render_html, write_report
>>> sorted(f for f in ReportPaths.__dataclass_fields__)
['html', 'json']
"""

from __future__ import annotations

from seawall.reports._html import render_html
from seawall.reports._write import ReportPaths, write_report

__all__ = ["ReportPaths", "render_html", "write_report"]
