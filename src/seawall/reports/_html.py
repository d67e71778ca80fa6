"""The self-contained HTML report of an audit."""

from __future__ import annotations

import functools

import jinja2

from seawall.audit import AuditResult
from seawall.reports._context import report_context

__all__ = ["render_html"]


@functools.cache
def _environment() -> jinja2.Environment:
    # Built once: loading and compiling the template is the slow part.
    return jinja2.Environment(
        loader=jinja2.PackageLoader("seawall.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


@functools.cache
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    js: str = get_plotlyjs()
    if "</script" in js.lower():  # would end the inline <script> early
        js = js.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT")
    return js


def render_html(result: AuditResult, *, title: str | None = None) -> str:
    """Render an audit as one self-contained HTML page.

    The page opens offline: plotly.js is embedded once, inline, and the page
    loads no script, style sheet, font or image from anywhere. It shows, in
    order: a header with the verdict (PASS unless a gate failed) and the gate
    counts; the plain-language findings; the gates; the four-fifths rule per
    grouping (classification); for each grouping a chart of the per-group
    metrics and one of the disparities against the reference group, with their
    intervals and the groups too small to judge set apart; the per-group,
    disparity and largest-gap tables; and what reproduces the audit (the
    ``seawall audit`` command, parameters, seed, data fingerprint, versions).
    Every number is shown with its interval; every text from the data (group
    labels, column names) is HTML-escaped.

    Parameters
    ----------
    result : AuditResult
        The audit, from :func:`seawall.audit.audit`.
    title : str, optional
        The page title; by default it names the prediction column and the
        sensitive features.

    Returns
    -------
    str
        The HTML document (several megabytes, most of it plotly.js).

    See Also
    --------
    write_report : Write the HTML and the JSON to a directory.
    seawall.audit.audit : Run the audit.

    Examples
    --------
    >>> import pandas as pd
    >>> from seawall.audit import audit
    >>> df = pd.DataFrame({"y": [1, 0, 1, 0] * 20, "p": [1, 0, 0, 0] * 20,
    ...                    "g": ["a", "a", "b", "b"] * 20})
    >>> res = audit(df, label="y", prediction="p", sensitive="g",
    ...             gates=["disparate_impact<0.8"])
    >>> page = render_html(res, title="Loan model v3")
    >>> "<html" in page and "Loan model v3" in page and res.fingerprint in page
    True
    """
    template = _environment().get_template("report.html.j2")
    return template.render(report_context(result, title, _plotly_js()))
