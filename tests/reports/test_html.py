"""The HTML report: contents, escaping, self-containment, every task."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from markupsafe import escape
from plotly.offline import get_plotlyjs

from seawall.audit import AuditResult, audit
from seawall.reports import render_html
from seawall.reports._format import fmt_p, interval

AUDITS = ["classification_audit", "plain_audit", "regression_audit"]


def _e(text: str) -> str:
    return str(escape(text))


@pytest.fixture(scope="module")
def pages(
    classification_audit: AuditResult, plain_audit: AuditResult, regression_audit: AuditResult
) -> dict[str, str]:
    return {
        "classification_audit": render_html(classification_audit),
        "plain_audit": render_html(plain_audit),
        "regression_audit": render_html(regression_audit),
    }


def _outside_bundle(page: str) -> str:
    js = get_plotlyjs()
    assert page.count(js) == 1, "plotly.js must be embedded exactly once"
    return page.replace(js, "")


class _Tags(HTMLParser):
    """Collects every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(_outside_bundle(page))
    return parser.tags


@pytest.mark.parametrize("name", AUDITS)
def test_page_is_a_complete_document(name: str, pages: dict[str, str]) -> None:
    page = pages[name]
    assert page.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in page
    assert page.rstrip().endswith("</html>")


@pytest.mark.parametrize("name", AUDITS)
def test_self_contained(name: str, pages: dict[str, str]) -> None:
    page = pages[name]
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)
    assert not re.search(r"<link\b", page, re.I)
    rest = _outside_bundle(page)
    # Outside the embedded plotly.js bundle, no address at all: nothing to load.
    assert "http://" not in rest and "https://" not in rest
    assert "@import" not in rest and "url(" not in rest
    for tag, attrs in _tags(page):
        for attr in ("src", "href", "srcset", "data", "action"):
            value = attrs.get(attr)
            assert value is None or value.startswith("#"), (tag, attr, value)


@pytest.mark.parametrize("name", AUDITS)
def test_every_group_label_is_shown(
    name: str, pages: dict[str, str], request: pytest.FixtureRequest
) -> None:
    result: AuditResult = request.getfixturevalue(name)
    for label in set(result.metrics.groups.group):
        assert _e(label) in pages[name], label


@pytest.mark.parametrize("name", AUDITS)
def test_every_finding_is_shown_escaped(
    name: str, pages: dict[str, str], request: pytest.FixtureRequest
) -> None:
    result: AuditResult = request.getfixturevalue(name)
    assert result.findings
    for finding in result.findings:
        assert _e(finding.text) in pages[name]


@pytest.mark.parametrize("name", AUDITS)
def test_fingerprint_seed_and_versions(
    name: str, pages: dict[str, str], request: pytest.FixtureRequest
) -> None:
    result: AuditResult = request.getfixturevalue(name)
    page = pages[name]
    assert result.fingerprint in page
    assert f"--seed {result.parameters.random_state}" in page
    for lib, version in result.versions:
        assert _e(lib) in page and _e(version) in page


def test_every_gate_with_its_interval_and_status(
    classification_audit: AuditResult, pages: dict[str, str]
) -> None:
    page = pages["classification_audit"]
    statuses = {g.status for g in classification_audit.gates}
    assert {"fail", "pass", "inconclusive"} <= statuses
    pattern = (
        r'<tr class="row-(bad|warn|good|muted)"><td><code>(.*?)</code></td>'
        r'<td>(.*?)</td><td class="num">(.*?)</td>'
    )
    rows = re.findall(pattern, page)
    assert len(rows) == len(classification_audit.gates)
    for gate, (tone, text, grouping, value) in zip(classification_audit.gates, rows, strict=True):
        assert text == _e(gate.gate)
        assert grouping == _e(gate.grouping)
        expected = interval(gate.value, gate.lower, gate.upper)
        assert re.sub("<[^>]+>", "", value) == str(expected)
        assert tone == {"fail": "bad", "inconclusive": "warn", "pass": "good"}[gate.status]
    assert "99.2%" in page  # the Bonferroni-corrected level of the gate intervals


def test_verdict_and_gate_counts(classification_audit: AuditResult, pages: dict[str, str]) -> None:
    page = pages["classification_audit"]
    assert not classification_audit.passed
    assert 'class="verdict verdict-fail"' in page
    assert '<div class="verdict-word">FAIL</div>' in page
    n_fail = sum(g.status == "fail" for g in classification_audit.gates)
    assert f"{n_fail} fail</span>" in page


def test_four_fifths_verdicts(classification_audit: AuditResult, pages: dict[str, str]) -> None:
    page = pages["classification_audit"]
    assert 'id="four-fifths"' in page
    for f in classification_audit.four_fifths:
        assert f"{f.verdict}</span>" in page
        assert str(interval(f.ratio, f.lower, f.upper)).split(" [")[0] in page


def test_hostile_group_label_is_escaped(
    pages: dict[str, str], hostile_labels: tuple[str, str], classification_audit: AuditResult
) -> None:
    HOSTILE, AMPERSAND = hostile_labels
    page = pages["classification_audit"]
    assert HOSTILE not in page
    assert "<script>alert" not in page
    assert _e(HOSTILE) in page
    assert _e(AMPERSAND) in page
    # Every <script> in the page is one of ours: the bundle and one per chart (two per
    # grouping, and the mitigation section's trade-off chart).
    assert classification_audit.mitigation is not None
    n_charts = 2 * len(set(page_groupings(page))) + 1
    assert page.count("<script") == 1 + n_charts


def page_groupings(page: str) -> list[str]:
    return re.findall(r'<section id="(grouping-\d+)"', page)


def test_a_custom_title_is_escaped(classification_audit: AuditResult) -> None:
    page = render_html(classification_audit, title="Model <b>v2</b> & co")
    assert "<title>Model &lt;b&gt;v2&lt;/b&gt; &amp; co</title>" in page
    assert "<b>v2</b>" not in page


def test_numbers_carry_intervals(classification_audit: AuditResult, pages: dict[str, str]) -> None:
    page = html.unescape(re.sub(r"<[^>]+>", "", _outside_bundle(pages["classification_audit"])))
    m = classification_audit.metrics.metrics
    for i in range(len(m)):
        assert str(interval(m.value[i], m.lower[i], m.upper[i])) in page
    d = classification_audit.metrics.disparities
    for i in range(len(d)):
        assert str(interval(d.value[i], d.lower[i], d.upper[i])) in page
        assert fmt_p(d.p_adjusted[i]) in page
    s = classification_audit.metrics.summary
    for i in range(len(s)):
        assert str(interval(s.value[i], s.lower[i], s.upper[i])) in page


def test_small_groups_are_marked(classification_audit: AuditResult, pages: dict[str, str]) -> None:
    page = pages["classification_audit"]
    g = classification_audit.metrics.groups
    n_small = sum(g.small)
    assert n_small >= 2
    assert page.count("too small</span>") >= n_small  # table pills
    assert "too small to judge" in page  # the chart legend and notes
    assert "n=10, too small" in page  # the chart's axis label of group 'tiny'


def test_one_chart_pair_per_grouping(
    pages: dict[str, str], classification_audit: AuditResult
) -> None:
    page = pages["classification_audit"]
    groupings = list(dict.fromkeys(classification_audit.metrics.groups.grouping))
    for k in range(len(groupings)):
        assert f'id="rates-{k}"' in page and f'id="gaps-{k}"' in page
    assert 'id="mitigation-chart"' in page
    assert page.count('class="plotly-graph-div"') == 2 * len(groupings) + 1


def test_sections_in_order(pages: dict[str, str]) -> None:
    page = pages["classification_audit"]
    marks = [
        '<header class="masthead">',
        'id="findings"',
        'id="gates"',
        'id="four-fifths"',
        'id="grouping-0"',
        'id="tables"',
        'id="reproduce"',
    ]
    positions = [page.index(mark) for mark in marks]
    assert positions == sorted(positions)


def test_regression_report(regression_audit: AuditResult, pages: dict[str, str]) -> None:
    page = pages["regression_audit"]
    assert 'id="four-fifths"' not in page
    assert "Mean absolute error" in page and "RMSE" in page and "Mean prediction" in page
    assert "Ratio [interval]" not in page  # regression compares differences only
    assert "Student-t intervals" in page
    assert "mae_difference" in page


def test_without_gates_or_scores(plain_audit: AuditResult, pages: dict[str, str]) -> None:
    page = pages["plain_audit"]
    assert plain_audit.gates == () and plain_audit.parameters.score is None
    assert "No gates were declared" in page
    assert '<div class="verdict-word">PASS</div>' in page
    assert "--fail-on" in page  # only in the hint, not in the command
    command = re.search(r'<pre class="command"><code>(.*?)</code></pre>', page, re.S)
    assert command is not None and "--fail-on" not in command.group(1)
    assert "--score" not in command.group(1)
    assert "ROC AUC" not in page


def test_missing_numbers_are_dashes() -> None:
    # A group with no negatives has no FPR: shown as a dash, not 'nan'.
    frame = pd.DataFrame(
        {
            "y": [1] * 40 + [0, 1] * 20,
            "p": [1, 0] * 20 + [1, 0, 0, 0] * 10,
            "g": ["a"] * 40 + ["b"] * 40,
        }
    )
    result = audit(frame, label="y", prediction="p", sensitive="g")
    assert np.isnan(result.metrics.metric("fpr", "a").value)
    page = _outside_bundle(render_html(result))
    assert "—" in page
    assert not re.search(r"\bnan\b", page, re.I)


def test_rendering_is_deterministic(plain_audit: AuditResult) -> None:
    assert render_html(plain_audit) == render_html(plain_audit)
