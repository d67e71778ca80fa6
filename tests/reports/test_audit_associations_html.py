"""The audit report's Associations section: findings with intervals, escaping, skips, absence."""

from __future__ import annotations

import html
import re
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
from markupsafe import escape
from plotly.offline import get_plotlyjs

from seawall.audit import AuditResult, audit
from seawall.datasets import make_slices
from seawall.metrics import wilson_interval
from seawall.reports import render_html
from seawall.reports._format import fmt_level, fmt_p, interval

HOSTILE_VALUE = "<b onmouseover=alert(1)>b</b>"
HOSTILE_GROUP = 'B & "co" <i>'
HOSTILE_COLUMN = "f4<script>"


def _e(text: str) -> str:
    return str(escape(text))


def _text(page: str) -> str:
    """The page's visible text, outside the plotly.js bundle."""
    rest = page.replace(get_plotlyjs(), "")
    return html.unescape(re.sub(r"<[^>]+>", "", rest))


@pytest.fixture(scope="module")
def hostile_audit() -> AuditResult:
    """Planted slices, with a hostile f1 value, group label and column name."""
    f = make_slices(20_000, random_state=0).frame.copy()
    f["f1"] = f["f1"].where(f["f1"] != "b", HOSTILE_VALUE)
    f["group"] = f["group"].where(f["group"] != "B", HOSTILE_GROUP)
    f = f.rename(columns={"f4": HOSTILE_COLUMN})
    f["row_id"] = range(len(f))
    return audit(f, label="y_true", prediction="y_pred", sensitive="group")


@pytest.fixture(scope="module")
def page(hostile_audit: AuditResult) -> str:
    return render_html(hostile_audit)


def _section(page: str) -> str:
    start = page.index('<section id="associations">')
    return page[start : page.index("</section>", start)]


def test_section_and_toc_link(page: str) -> None:
    assert '<a href="#associations">Associations</a>' in page
    marks = ['id="grouping-0"', 'id="associations"', 'id="tables"', 'id="reproduce"']
    positions = [page.index(mark) for mark in marks]
    assert positions == sorted(positions)
    section = _section(page)
    assert "Weak slices and error disparities" in section
    assert "Output associations" in section
    assert "do not affect the gates" in section


def test_hostile_text_is_escaped(page: str) -> None:
    section = _section(page)
    for raw in (HOSTILE_VALUE, HOSTILE_GROUP, HOSTILE_COLUMN):
        assert raw not in page
        assert _e(raw) in section, raw
    planted = f"f1 = {HOSTILE_VALUE} and {HOSTILE_COLUMN} = b"
    assert f"<td>{_e(planted)}</td>" in section
    assert "onmouseover=alert" not in page.replace(_e(HOSTILE_VALUE), "")


def test_identifier_is_listed_as_left_out(page: str) -> None:
    assert "<code>row_id</code> (every one of its 20,000 values is distinct: an identifier)" in (
        _section(page)
    )


def test_every_finding_with_wilson_intervals(hostile_audit: AuditResult, page: str) -> None:
    section = hostile_audit.associations
    assert section is not None
    text = _text(_section(page))
    n_rows = 0
    for _, inv in section.investigations:
        t = inv.findings
        for i in range(len(t)):
            n_rows += 1
            z = NormalDist().inv_cdf(1 - (1 - t.level[i]) / 2)
            for value, n in ((t.inside[i], t.n_inside[i]), (t.outside[i], t.n_outside[i])):
                lo, hi = wilson_interval(round(value * n), n, z)
                assert str(interval(value, lo, hi)) in text
                assert f"n={n:,.0f}" in text
            diff = interval(t.difference[i], t.difference_lower[i], t.difference_upper[i])
            assert str(diff) in text
            assert fmt_level(t.level[i]) in text and fmt_p(t.p_adjusted[i]) in text
    assert n_rows >= 3
    assert _section(page).count('<tr class="row-bad">') == n_rows


def test_nothing_found_says_so() -> None:
    f = make_slices(20_000, effects="null", random_state=0).frame
    f = f[["y_true", "y_pred", "group", "f1", "f4"]]
    result = audit(f, label="y_true", prediction="y_pred", sensitive="group")
    section = result.associations
    assert section is not None and section.error_profile is not None
    assert len(section.error_profile.findings) == 0
    n = sum(1 for s in section.error_profile.hypotheses.stage if s == "search")
    text = _text(_section(render_html(result)))
    assert f"None found: no weak slice or error disparity among the {n:,} hypotheses" in text


def test_skip_reason_is_shown() -> None:
    f = make_slices(1_000, random_state=0).frame.head(150)
    result = audit(f, label="y_true", prediction="y_pred", sensitive="group")
    assert result.associations is not None and result.associations.skipped
    section = _section(render_html(result))
    assert f"Skipped: {_e(result.associations.skipped)}." in section
    assert "<table" not in section


def test_no_section_without_associations() -> None:
    f = make_slices(1_000, random_state=0).frame
    result = audit(f, label="y_true", prediction="y_pred", sensitive="group", associations=False)
    page = render_html(result)
    assert 'id="associations"' not in page
    assert 'href="#associations"' not in page
    command = re.search(r'<pre class="command"><code>(.*?)</code></pre>', page, re.S)
    assert command is not None and "--no-associations" in command.group(1)


def test_regression_section(rng: np.random.Generator) -> None:
    n = 4000
    city = rng.choice(["x", "y", "z"], n)
    y = rng.normal(size=n)
    frame = pd.DataFrame(
        {
            "y": y,
            "p": y + rng.normal(size=n) * np.where(city == "z", 3.0, 1.0),
            "g": rng.choice(["a", "b"], n),
            "city": city,
        }
    )
    result = audit(frame, label="y", prediction="p", sensitive="g")
    section = _section(render_html(result))
    assert "Contexts where the mean absolute error is higher" in section
    assert "<td>city = z</td>" in section and "<td>Mean absolute error</td>" in section
    assert "Contexts where one group&#39;s mean output differs" in section
