"""The self-contained HTML reports of an audit and of an investigation."""

from __future__ import annotations

import functools

import jinja2

from seawall._version import __version__
from seawall.associations import Investigation
from seawall.audit import AuditResult
from seawall.reports._context import report_context
from seawall.reports._investigation import investigation_context

__all__ = ["render_html", "render_investigation_html"]


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
    intervals and the groups too small to judge set apart; the associations
    section, when the audit asked for one (weak slices, error disparities and
    output associations among the data's other columns, or why they were
    skipped); the per-group, disparity and largest-gap tables; and what
    reproduces the audit (the ``seawall audit`` command, parameters, seed, data
    fingerprint, versions).
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


def render_investigation_html(
    investigation: Investigation,
    *,
    title: str | None = None,
    source: str | None = None,
    command: str | None = None,
    fingerprint: str | None = None,
) -> str:
    """Render an investigation as one self-contained HTML page.

    Opens offline, like :func:`render_html`: plotly.js is embedded once, inline.
    It shows, in order: a header (the data, its rows and split sizes, what was
    investigated, the number of hypotheses tested, alpha and the correction);
    each finding as a card (its context in words, group or label, the rows on
    each side, both rates with intervals, the difference and the ratio with
    their intervals, the adjusted p-value, the shadows folded into it, and a
    chart); the associations that explanatory attributes account for (crude
    against stratified difference); every candidate of the confirmation stage
    with its status; and what reproduces the investigation. Every text from the
    data (contexts, groups, labels) is HTML-escaped.

    Parameters
    ----------
    investigation : Investigation
        From :func:`seawall.associations.find_associations`,
        :func:`~seawall.associations.profile_errors` or a label discovery.
    title : str, optional
        The page title; by default it says what was investigated.
    source : str, optional
        The data file, shown in the header.
    command : str, optional
        The command line that repeats the investigation (``seawall investigate ...``).
    fingerprint : str, optional
        The SHA-256 of the data file.

    Returns
    -------
    str
        The HTML document (several megabytes, most of it plotly.js).

    See Also
    --------
    write_investigation : Write the HTML and ``findings.json`` to a directory.
    render_html : The report of an audit.

    Examples
    --------
    >>> import numpy as np
    >>> from seawall.associations import profile_errors
    >>> rng = np.random.default_rng(0)
    >>> region = rng.choice(["north", "south", "east", "west"], 4000)
    >>> y_true = rng.integers(0, 2, 4000)
    >>> wrong = rng.random(4000) < np.where(region == "east", 0.4, 0.1)
    >>> res = profile_errors(y_true, np.where(wrong, 1 - y_true, y_true),
    ...                      context={"region": region})
    >>> page = render_investigation_html(res, title="Where <v2> errs")
    >>> "Where region = east" in page and "Where &lt;v2&gt; errs" in page
    True
    """
    template = _environment().get_template("investigation.html.j2")
    context = investigation_context(
        investigation,
        title=title,
        source=source,
        command=command,
        fingerprint=fingerprint,
        plotly_js=_plotly_js(),
        version=__version__,
    )
    return template.render(context)
