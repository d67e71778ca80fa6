"""The investigation report: contents, intervals, escaping, self-containment; findings.json."""

from __future__ import annotations

import html
import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import escape
from plotly.offline import get_plotlyjs

from seawall import __version__
from seawall.associations import Investigation
from seawall.reports import ReportPaths, render_investigation_html, write_investigation
from seawall.reports._format import fmt_p, interval

NAMES = ["error_investigation", "association_investigation", "null_investigation"]
COMMAND = "seawall investigate 'my data.csv' --protected group --output y_pred --out o"


def _e(text: str) -> str:
    return str(escape(text))


@pytest.fixture(scope="module")
def pages(request: pytest.FixtureRequest) -> dict[str, str]:
    return {
        name: render_investigation_html(
            request.getfixturevalue(name),
            source="my data.csv",
            command=COMMAND,
            fingerprint="ab" * 32,
        )
        for name in NAMES
    }


def _outside_bundle(page: str) -> str:
    js = get_plotlyjs()
    assert page.count(js) == 1, "plotly.js must be embedded exactly once"
    return page.replace(js, "")


def _strip(fragment: str) -> str:
    """Text of a fragment: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def _text(page: str) -> str:
    """The page's text outside the plotly.js bundle."""
    return _strip(_outside_bundle(page))


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


@pytest.mark.parametrize("name", NAMES)
def test_a_complete_self_contained_document(name: str, pages: dict[str, str]) -> None:
    page = pages[name]
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)
    assert not re.search(r"<link\b", page, re.I)
    rest = _outside_bundle(page)
    assert "http://" not in rest and "https://" not in rest
    assert "@import" not in rest and "url(" not in rest
    parser = _Tags()
    parser.feed(rest)
    for tag, attrs in parser.tags:
        for attr in ("src", "href", "srcset", "data", "action"):
            value = attrs.get(attr)
            assert value is None or value.startswith("#"), (tag, attr, value)


@pytest.mark.parametrize("name", NAMES)
def test_every_finding_with_its_context_and_intervals(
    name: str, pages: dict[str, str], request: pytest.FixtureRequest
) -> None:
    inv: Investigation = request.getfixturevalue(name)
    page, text = pages[name], _text(pages[name])
    f = inv.findings
    assert page.count('<article class="card"') == len(f)
    for i in range(len(f)):
        assert f"Where {f.context[i]}" in text
        diff = interval(f.difference[i], f.difference_lower[i], f.difference_upper[i])
        assert diff.bounds and str(diff) in text
        if math.isfinite(f.ratio[i]):
            assert str(interval(f.ratio[i], f.ratio_lower[i], f.ratio_upper[i])) in text
        assert fmt_p(f.p_adjusted[i]) in text
        assert f"{int(f.n_inside[i]):,}" in text and f"{int(f.n_outside[i]):,}" in text
        assert f'id="chart-{i}"' in page
    for shadows in inv.shadows:
        assert f"Shadows folded in{shadows}" in text
    assert page.count('class="plotly-graph-div"') == len(f)


def test_rates_carry_wilson_intervals(
    error_investigation: Investigation, pages: dict[str, str]
) -> None:
    text = _text(pages["error_investigation"])
    f = error_investigation.findings
    for i in range(len(f)):
        for rate in (f.inside[i], f.outside[i]):
            assert re.search(rf"{rate:.3f} \[0\.\d{{3}}, 0\.\d{{3}}\]", text), rate


def test_header_facts(error_investigation: Investigation, pages: dict[str, str]) -> None:
    text = _text(pages["error_investigation"])
    inv = error_investigation
    assert f"{inv.n_search_rows:,} / {inv.n_confirm_rows:,}" in text
    n_search = sum(1 for s in inv.hypotheses.stage if s == "search")
    n_again = len(inv.hypotheses) - n_search
    assert f"Hypotheses tested{n_search:,} + {n_again:,} again" in text
    assert "Alpha0.05" in text and "Correctionholm" in text
    assert "weak slices and error disparities between protected groups (error rate)" in text
    assert f'<div class="verdict-word">{len(inv.findings)}</div>' in pages["error_investigation"]


def test_hostile_group_label_is_escaped(
    pages: dict[str, str], hostile_labels: tuple[str, str]
) -> None:
    hostile = hostile_labels[0]
    page = pages["error_investigation"]
    assert hostile not in page
    assert "<script>alert" not in page
    assert f"group {_e(hostile)}" in page
    # Every <script> is one of ours: the bundle and one per chart.
    assert page.count("<script") == 1 + page.count('class="plotly-graph-div"')
    # In the chart's axis labels too (Plotly text is escaped before it is JSON-encoded).
    assert "group &lt;script&gt;alert('x')&lt;\\u002fscript&gt; (n=297)" in page


def test_a_custom_title_is_escaped(association_investigation: Investigation) -> None:
    page = render_investigation_html(association_investigation, title="Model <b>v2</b> & co")
    assert "<title>Model &lt;b&gt;v2&lt;/b&gt; &amp; co</title>" in page
    assert "<b>v2</b>" not in page
    # Without a command: no command block, a note instead.
    assert '<pre class="command">' not in page
    assert "run from Python" in page


def test_explained_associations_crude_against_stratified(
    association_investigation: Investigation, pages: dict[str, str]
) -> None:
    inv = association_investigation
    assert len(inv.explained) == 1
    section = pages["association_investigation"].split('id="explained"')[1].split("</section>")[0]
    text = _strip(section)
    e = inv.explained
    assert "qualification" in text
    assert f"{e.crude_difference[0]:.3f}" in text
    assert str(interval(e.difference[0], e.difference_lower[0], e.difference_upper[0])) in text
    # The stratified finding shows its crude difference and no ratio.
    page = pages["association_investigation"]
    card = _strip(page.split('id="finding-0"')[1].split("</article>")[0])
    assert f"Crude difference{inv.findings.crude_difference[0]:.3f}" in card
    assert "Ratio" not in card


@pytest.mark.parametrize("name", NAMES)
def test_confirmation_table_lists_every_retested_hypothesis(
    name: str, pages: dict[str, str], request: pytest.FixtureRequest
) -> None:
    inv: Investigation = request.getfixturevalue(name)
    h = inv.hypotheses
    confirm = [i for i in range(len(h)) if h.stage[i] == "confirm"]
    section = pages[name].split('id="confirmation"')[1].split("</section>")[0]
    for kind in set(h.kind):
        searched = sum(1 for i in range(len(h)) if h.kind[i] == kind and h.stage[i] == "search")
        passed = sum(1 for i in range(len(h)) if h.kind[i] == kind and h.status[i] == "candidate")
        again = sum(1 for i in confirm if h.kind[i] == kind)
        summary = f"{searched:,} searched, {passed:,} passed the search, {again:,} tested again"
        assert summary in _strip(section)
    assert section.count('<tr class="row-') == len(confirm)
    for i in confirm:
        assert f">{h.status[i]}</span>" in section
    assert "findings.json</code> lists every tested hypothesis" in section
    assert f"({len(h):,} in all)" in section


def test_no_finding(pages: dict[str, str]) -> None:
    page = pages["null_investigation"]
    assert "No finding: no hypothesis was confirmed" in page
    assert "No candidate passed the search" in page
    assert '<div class="verdict verdict-pass"' in page


@pytest.mark.parametrize("name", NAMES)
def test_reproduce_section(name: str, pages: dict[str, str]) -> None:
    section = pages[name].split('id="reproduce"')[1]
    assert "seawall investigate &#39;my data.csv&#39; \\\n  --protected group" in section
    assert "ab" * 32 in section
    assert f"Seawall {__version__}" in section


def test_rendering_is_deterministic(association_investigation: Investigation) -> None:
    assert render_investigation_html(association_investigation) == render_investigation_html(
        association_investigation
    )


def test_write_investigation(error_investigation: Investigation, tmp_path: Path) -> None:
    out = tmp_path / "a" / "b"
    paths = write_investigation(
        error_investigation, out, command=COMMAND, fingerprint="cd" * 32, source="x.csv"
    )
    assert paths == ReportPaths(html=out / "report.html", json=out / "findings.json")
    assert sorted(p.name for p in out.iterdir()) == ["findings.json", "report.html"]
    text = paths.json.read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text
    doc = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard constant {c}"))
    expected = json.loads(json.dumps(error_investigation.to_dict(), allow_nan=False))
    assert {k: doc[k] for k in expected} == expected
    assert doc["schema"] == "seawall.investigation/1"
    assert doc["seawall_version"] == __version__
    assert doc["command"] == COMMAND
    assert doc["data"] == {"source": "x.csv", "sha256": "cd" * 32}
    assert len(doc["hypotheses"]) == len(error_investigation.hypotheses)
    page = paths.html.read_text(encoding="utf-8")
    assert page == render_investigation_html(
        error_investigation, source="x.csv", command=COMMAND, fingerprint="cd" * 32
    )


def test_label_investigation(label_investigation: Investigation) -> None:
    page = render_investigation_html(label_investigation)
    label = label_investigation.findings.label[0]
    assert label not in page and "<img" not in _outside_bundle(page)
    text = _text(page)
    assert "Output labels associated with protected groups" in text
    assert f"label {label}" in text  # the card's head
    assert f"Label {label} is given to group B less often than to the rest here." in text
    assert f"Share of items labelled {label} [interval]" in text
    assert "<th>Label</th>" in page  # the confirmation and explained tables gain a column
