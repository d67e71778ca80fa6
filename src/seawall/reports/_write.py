"""Write the HTML report and the JSON record of an audit or an investigation to a directory."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seawall._version import __version__
from seawall.associations import Investigation
from seawall.audit import AuditResult
from seawall.reports._html import render_html, render_investigation_html

__all__ = ["ReportPaths", "write_investigation", "write_report"]

HTML_NAME = "report.html"
JSON_NAME = "audit.json"
FINDINGS_NAME = "findings.json"
#: The schema of ``findings.json``.
INVESTIGATION_SCHEMA = "seawall.investigation/1"


@dataclass(frozen=True, slots=True)
class ReportPaths:
    """Where :func:`write_report` or :func:`write_investigation` wrote a report.

    Attributes
    ----------
    html : pathlib.Path
        The self-contained HTML report, ``report.html``.
    json : pathlib.Path
        The machine-readable record: ``audit.json`` for an audit,
        ``findings.json`` for an investigation.
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
    return _write(out_dir, JSON_NAME, result.to_dict(), render_html(result))


def _write(out_dir: str | Path, json_name: str, record: dict[str, Any], page: str) -> ReportPaths:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    html_path = out / HTML_NAME
    json_path = out / json_name
    document = json.dumps(record, indent=2, allow_nan=False)
    html_path.write_text(page, encoding="utf-8")
    json_path.write_text(document + "\n", encoding="utf-8")
    return ReportPaths(html=html_path, json=json_path)


def write_investigation(
    investigation: Investigation,
    out_dir: str | Path,
    *,
    command: str | None = None,
    fingerprint: str | None = None,
    source: str | None = None,
    title: str | None = None,
) -> ReportPaths:
    """Write ``report.html`` and ``findings.json`` for an investigation.

    Creates ``out_dir`` (and its parents) when needed and overwrites earlier
    files of the same names. ``findings.json`` is ``investigation.to_dict()``
    (the findings, the explained associations and every tested hypothesis of
    both stages) with, first, ``schema``, ``seawall_version``, ``command`` and
    ``data`` (``source`` and ``sha256``); missing values are ``null``, never NaN.

    Parameters
    ----------
    investigation : Investigation
        From :func:`seawall.associations.find_associations`,
        :func:`~seawall.associations.profile_errors` or a label discovery.
    out_dir : str or Path
        The directory to write to.
    command : str, optional
        The command line that repeats the investigation.
    fingerprint : str, optional
        The SHA-256 of the data file (see ``seawall._io.file_sha256``).
    source : str, optional
        The data file.
    title : str, optional
        The report's title.

    Returns
    -------
    ReportPaths
        The paths of the two files (``json`` is ``findings.json``).

    Raises
    ------
    OSError
        When the directory cannot be created or written.

    See Also
    --------
    render_investigation_html : The HTML report alone, as a string.

    Examples
    --------
    >>> import json, tempfile
    >>> import numpy as np
    >>> from seawall.associations import find_associations
    >>> rng = np.random.default_rng(1)
    >>> group = rng.choice(["A", "B"], 6000, p=[0.6, 0.4])
    >>> city = rng.choice(["x", "y", "z"], 6000)
    >>> approved = rng.random(6000) < np.where((city == "z") & (group == "B"), 0.3, 0.6)
    >>> res = find_associations(approved, sensitive_features=group, context={"city": city})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = write_investigation(res, tmp, command="seawall investigate ...")
    ...     saved = json.loads(paths.json.read_text(encoding="utf-8"))
    >>> paths.json.name, saved["schema"], [f["context"] for f in saved["findings"]]
    ('findings.json', 'seawall.investigation/1', ['city = z'])
    """
    record = {
        "schema": INVESTIGATION_SCHEMA,
        "seawall_version": __version__,
        "command": command,
        "data": {"source": source, "sha256": fingerprint},
        **investigation.to_dict(),
    }
    page = render_investigation_html(
        investigation, title=title, source=source, command=command, fingerprint=fingerprint
    )
    return _write(out_dir, FINDINGS_NAME, record, page)
