"""Write an audit's HTML report and JSON record to a directory."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from seawall.audit import AuditResult
from seawall.reports._html import render_html

__all__ = ["ReportPaths", "write_report"]

HTML_NAME = "report.html"
JSON_NAME = "audit.json"


@dataclass(frozen=True, slots=True)
class ReportPaths:
    """Where :func:`write_report` wrote an audit.

    Attributes
    ----------
    html : pathlib.Path
        The self-contained HTML report, ``report.html``.
    json : pathlib.Path
        The machine-readable audit, ``audit.json``.
    """

    html: Path
    json: Path


def write_report(result: AuditResult, out_dir: str | Path) -> ReportPaths:
    """Write ``report.html`` and ``audit.json`` for an audit.

    Creates ``out_dir`` (and its parents) when needed and overwrites earlier
    files of the same names. The JSON is ``result.to_dict()``, indented, UTF-8;
    it never holds NaN (missing numbers are ``null``).

    Parameters
    ----------
    result : AuditResult
        The audit, from :func:`seawall.audit.audit`.
    out_dir : str or Path
        The directory to write to.

    Returns
    -------
    ReportPaths
        The paths of the two files.

    Raises
    ------
    OSError
        When the directory cannot be created or written.

    See Also
    --------
    render_html : The HTML report alone, as a string.

    Examples
    --------
    >>> import json, tempfile
    >>> import pandas as pd
    >>> from seawall.audit import audit
    >>> df = pd.DataFrame({"y": [1, 0, 1, 0] * 20, "p": [1, 0, 0, 0] * 20,
    ...                    "g": ["a", "a", "b", "b"] * 20})
    >>> res = audit(df, label="y", prediction="p", sensitive="g")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = write_report(res, tmp)
    ...     saved = json.loads(paths.json.read_text(encoding="utf-8"))
    ...     names = paths.html.name, paths.json.name
    >>> names, saved["data"]["fingerprint"] == res.fingerprint
    (('report.html', 'audit.json'), True)
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    html_path = out / HTML_NAME
    json_path = out / JSON_NAME
    document = json.dumps(result.to_dict(), indent=2, allow_nan=False)
    page = render_html(result)
    html_path.write_text(page, encoding="utf-8")
    json_path.write_text(document + "\n", encoding="utf-8")
    return ReportPaths(html=html_path, json=json_path)
