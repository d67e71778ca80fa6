"""Plotly charts of one grouping: per-group metrics, and disparities against the reference.

Both are dot-and-whisker ("forest") plots with one panel per quantity and the
groups down the shared vertical axis, which stays readable for intersections
of many groups where grouped bars would not. Labels are HTML-escaped before
they reach Plotly, whose text rendering understands a few tags.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from seawall.metrics import GroupMetrics
from seawall.reports._format import fmt_level, fmt_p, interval
from seawall.reports._labels import DISPARITY_CHART, RATE_CHART, disparity_label, metric_label

__all__ = ["PALETTE", "disparity_chart", "figure_html", "rate_chart"]

#: Colours of the point categories, shared with the report's CSS.
PALETTE: dict[str, str] = {
    "reference": "#1f2933",
    "not significant": "#2563a8",
    "significant gap": "#c2410c",
    "too small to judge": "#9aa1ab",
}
_FONT = '-apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
_ROW_PX = 30
# Ticks of the log-scaled ratio axis; 0.8 and 1.25 bound the four-fifths band.
_RATIO_TICKS = (0.1, 0.25, 0.5, 0.8, 1.0, 1.25, 2.0, 4.0, 10.0)
_RATIO_CLIP = (0.05, 20.0)
_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


def _text(label: str) -> str:
    """A label as Plotly text: ``<``, ``>`` and ``&`` escaped; Plotly does not decode quotes."""
    return html.escape(label, quote=False)


@dataclass(frozen=True, slots=True)
class _Point:
    group: str
    value: float
    lower: float
    upper: float
    category: str
    hover: str


@dataclass(frozen=True, slots=True)
class _Axis:
    """The group axis: escaped labels (top to bottom), their tick texts, the small ones."""

    keys: list[str]
    ticks: list[str]
    small: set[str]

    def without(self, dropped: set[str]) -> _Axis:
        kept = [(k, t) for k, t in zip(self.keys, self.ticks, strict=True) if k not in dropped]
        return _Axis([k for k, _ in kept], [t for _, t in kept], self.small - dropped)


def _group_axis(metrics: GroupMetrics, grouping: str) -> _Axis:
    g = metrics.groups
    axis = _Axis([], [], set())
    for i in range(len(g)):
        if g.grouping[i] != grouping:
            continue
        label = _text(g.group[i])
        axis.keys.append(label)
        if g.reference[i]:
            axis.ticks.append(f"<b>{label}</b> (ref)")
        elif g.small[i]:
            axis.small.add(label)
            axis.ticks.append(
                f"<span style='color:#8a919b'>{label} · n={int(g.n[i])}, too small</span>"
            )
        else:
            axis.ticks.append(label)
    return axis


def _significant(metrics: GroupMetrics, grouping: str) -> set[tuple[str, str]]:
    d = metrics.disparities
    return {
        (d.group[i], d.metric[i])
        for i in range(len(d))
        if d.grouping[i] == grouping and d.significant[i]
    }


def _layout(fig: Any, axis: _Axis, n_panels: int) -> None:
    order = list(reversed(axis.keys))  # categories run bottom to top
    fig.update_layout(
        template="simple_white",
        height=max(190, 110 + _ROW_PX * len(axis.keys)),
        margin={"l": 10, "r": 20, "t": 66, "b": 40},
        font={"family": _FONT, "size": 12, "color": "#1f2933"},
        legend={
            "orientation": "h",
            "yref": "container",
            "y": 1.0,
            "yanchor": "top",
            "x": 1.0,
            "xanchor": "right",
            "font": {"size": 12},
        },
        hoverlabel={"bgcolor": "white", "font": {"family": _FONT}},
        plot_bgcolor="white",
    )
    fig.update_yaxes(
        type="category",
        categoryorder="array",
        categoryarray=order,
        range=[-0.6, len(order) - 0.4],
        tickmode="array",
        tickvals=axis.keys,
        ticktext=axis.ticks,
        showgrid=True,
        gridcolor="#eef1f4",
        ticks="",
        showline=False,
        fixedrange=True,
    )
    fig.update_yaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=True, row=1, col=1)
    fig.update_xaxes(showgrid=True, gridcolor="#eef1f4", zeroline=False, ticks="outside")
    # Rows of groups too small to judge are greyed across every panel.
    for key in axis.small:
        pos = order.index(key)
        for col in range(1, n_panels + 1):
            fig.add_hrect(
                y0=pos - 0.5,
                y1=pos + 0.5,
                fillcolor="#eceef1",
                opacity=0.7,
                line_width=0,
                layer="below",
                row=1,
                col=col,
                exclude_empty_subplots=False,
            )
    # Panel titles a little smaller than the default.
    for ann in fig.layout.annotations[:n_panels]:
        ann.font = {"size": 13, "family": _FONT}


def _add_points(fig: Any, points: Sequence[_Point], col: int, seen: set[str]) -> None:
    for category, color in PALETTE.items():
        chosen = [p for p in points if p.category == category]
        if not chosen:
            continue
        hollow = category == "too small to judge"
        fig.add_scatter(
            x=[p.value if math.isfinite(p.value) else None for p in chosen],
            y=[p.group for p in chosen],
            mode="markers",
            name=category,
            legendgroup=category,
            legendrank=list(PALETTE).index(category),
            showlegend=category not in seen,
            marker={
                "size": 9,
                "color": color,
                "symbol": "diamond-open" if hollow else "circle",
                "line": {"color": color, "width": 2 if hollow else 0},
            },
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [_gap(p.upper, p.value) for p in chosen],
                "arrayminus": [_gap(p.value, p.lower) for p in chosen],
                "color": color,
                "thickness": 1.6,
                "width": 4,
            },
            text=[p.hover for p in chosen],
            hovertemplate="%{text}<extra></extra>",
            row=1,
            col=col,
        )
        seen.add(category)


def _gap(a: float, b: float) -> float | None:
    d = a - b
    return max(d, 0.0) if math.isfinite(d) else None


def rate_chart(metrics: GroupMetrics, grouping: str) -> Any:
    """Per-group metrics of one grouping with their intervals.

    One panel per metric (selection rate, TPR, FPR, precision and error rate;
    MAE, RMSE and mean prediction for regression), groups down the side, a
    dotted line at the reference group's value. Groups with a significant gap to
    the reference are drawn in orange; groups too small to judge as grey hollow
    diamonds, labelled with their size.

    Parameters
    ----------
    metrics : GroupMetrics
        The audit's metrics.
    grouping : str
        The grouping to draw.

    Returns
    -------
    plotly.graph_objects.Figure
        The chart.
    """
    from plotly.subplots import make_subplots

    wanted = [m for m in RATE_CHART.get(metrics.task, ()) if m in set(metrics.metrics.metric)]
    axis = _group_axis(metrics, grouping)
    fig = make_subplots(
        rows=1,
        cols=max(len(wanted), 1),
        shared_yaxes=True,
        horizontal_spacing=0.025,
        subplot_titles=[metric_label(m) for m in wanted],
    )
    significant = _significant(metrics, grouping)
    level = fmt_level(metrics.confidence_level)
    m, g = metrics.metrics, metrics.groups
    is_ref = {g.group[i]: g.reference[i] for i in range(len(g)) if g.grouping[i] == grouping}
    n_of = {g.group[i]: int(g.n[i]) for i in range(len(g)) if g.grouping[i] == grouping}
    seen: set[str] = set()
    for col, metric in enumerate(wanted, start=1):
        points = []
        ref_value = math.nan
        for i in range(len(m)):
            if m.grouping[i] != grouping or m.metric[i] != metric:
                continue
            group = m.group[i]
            v, lo, hi = float(m.value[i]), float(m.lower[i]), float(m.upper[i])
            if is_ref.get(group, False):
                category = "reference"
                ref_value = v
            elif m.small[i]:
                category = "too small to judge"
            elif (group, metric) in significant:
                category = "significant gap"
            else:
                category = "not significant"
            label = _text(group)
            hover = (
                f"<b>{label}</b> (n={n_of.get(group, 0)})<br>{metric_label(metric)}: "
                f"{interval(v, lo, hi)}<br>{level} interval · {category}"
            )
            points.append(_Point(label, v, lo, hi, category, hover))
        _add_points(fig, points, col, seen)
        if math.isfinite(ref_value):
            fig.add_vline(
                x=ref_value,
                line={"color": "#6b7280", "dash": "dot", "width": 1},
                row=1,
                col=col,
                exclude_empty_subplots=False,
            )
        if metrics.task == "classification":
            fig.update_xaxes(range=[-0.03, 1.03], tickformat=".1f", row=1, col=col)
    _layout(fig, axis, len(wanted))
    return fig


def _to_log(v: float) -> float:
    """``log10`` of a ratio, clipped to the drawable range (0 and infinity included)."""
    if math.isnan(v):
        return math.nan
    lo, hi = _RATIO_CLIP
    return math.log10(min(max(v, lo), hi))


def disparity_chart(metrics: GroupMetrics, grouping: str) -> Any:
    """Each group against its grouping's reference, with intervals.

    For classification: disparate impact, equal opportunity ratio and FPR ratio
    on a log scale (so a ratio and its reciprocal are equally far from 1), with
    a line at parity and the band 0.8–1.25 shaded (the four-fifths rule and its
    mirror). For regression: the MAE, RMSE and mean-prediction differences, with
    a line at zero.

    Parameters
    ----------
    metrics : GroupMetrics
        The audit's metrics.
    grouping : str
        The grouping to draw.

    Returns
    -------
    plotly.graph_objects.Figure
        The chart.
    """
    from plotly.subplots import make_subplots

    d = metrics.disparities
    rows = [i for i in range(len(d)) if d.grouping[i] == grouping]
    present = {d.name[i] for i in rows}
    wanted = [n for n in DISPARITY_CHART.get(metrics.task, ()) if n in present]
    ratio = metrics.task == "classification"
    axis = _group_axis(metrics, grouping).without({_text(d.reference[i]) for i in rows})
    fig = make_subplots(
        rows=1,
        cols=max(len(wanted), 1),
        shared_yaxes=True,
        horizontal_spacing=0.025,
        subplot_titles=[disparity_label(n) for n in wanted],
    )
    level = fmt_level(metrics.confidence_level)
    seen: set[str] = set()
    spans: list[float] = []
    for col, name in enumerate(wanted, start=1):
        points = []
        for i in rows:
            if d.name[i] != name:
                continue
            v, lo, hi = float(d.value[i]), float(d.lower[i]), float(d.upper[i])
            if d.note[i] or not math.isfinite(float(d.p_adjusted[i])):
                category = "too small to judge"
            elif d.significant[i]:
                category = "significant gap"
            else:
                category = "not significant"
            label = _text(d.group[i])
            hover = (
                f"<b>{label}</b> vs {_text(d.reference[i])}<br>"
                f"{disparity_label(name)}: {interval(v, lo, hi)}<br>"
                f"{level} interval · adjusted p {fmt_p(float(d.p_adjusted[i]))}"
            )
            if ratio:
                v, lo, hi = _to_log(v), _to_log(lo), _to_log(hi)
            points.append(_Point(label, v, lo, hi, category, hover))
        if ratio:
            fig.add_vrect(
                x0=math.log10(0.8),
                x1=math.log10(1.25),
                fillcolor="#16a34a",
                opacity=0.12,
                line_width=0,
                layer="below",
                row=1,
                col=col,
                exclude_empty_subplots=False,
            )
        fig.add_vline(
            x=0.0,
            line={"color": "#374151", "width": 1.2},
            row=1,
            col=col,
            exclude_empty_subplots=False,
        )
        _add_points(fig, points, col, seen)
        # Judged groups set the scale; a small group's wide interval may run off it.
        spans.extend(
            x
            for p in points
            for x in ((p.value,) if p.category == "too small to judge" else (p.lower, p.upper))
            if math.isfinite(x)
        )
    if ratio:
        # One log scale for every panel, so the ratios can be compared across panels.
        left = min([math.log10(0.5), *spans]) - 0.05
        right = max([math.log10(2.0), *spans]) + 0.05
        wide = right - left > 1.3  # then 0.8 and 1.25 crowd 1; the band still shows them
        ticks = [
            t
            for t in _RATIO_TICKS
            if left <= math.log10(t) <= right and not (wide and t in (0.8, 1.25))
        ]
        fig.update_xaxes(
            range=[left, right],
            tickmode="array",
            tickvals=[math.log10(t) for t in ticks],
            ticktext=[f"{t:g}" for t in ticks],
            tickangle=0,
        )
    _layout(fig, axis, len(wanted))
    return fig


def time_layout(fig: Any, height: int, *, top: int, legend: str) -> None:
    """The layout of a chart over time, shared by the fleet page and the dashboard.

    The report font, a horizontal legend at the top, light grid lines.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        The chart, changed in place.
    height, top : int
        The height and the top margin in pixels.
    legend : {"left", "right"}
        Where the legend sits.
    """
    fig.update_layout(
        template="simple_white",
        height=height,
        margin={"l": 10, "r": 20, "t": top, "b": 40},
        font={"family": _FONT, "size": 12, "color": "#1f2933"},
        legend={
            "orientation": "h",
            "yref": "container",
            "y": 1.0,
            "yanchor": "top",
            "x": 1.0 if legend == "right" else 0.0,
            "xanchor": legend,
        },
        hoverlabel={"bgcolor": "white", "font": {"family": _FONT}},
    )
    fig.update_xaxes(showgrid=True, gridcolor="#eef1f4")
    fig.update_yaxes(showgrid=True, gridcolor="#eef1f4")


def figure_html(fig: Any, div_id: str) -> str:
    """The HTML of one chart, without plotly.js (the report embeds it once).

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        The chart.
    div_id : str
        The id of its ``<div>`` (fixed, so the same audit renders the same HTML).

    Returns
    -------
    str
        A ``<div>`` and the ``<script>`` that draws into it.
    """
    text: str = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        include_mathjax=False,
        config=_CONFIG,
        div_id=div_id,
        default_height=f"{fig.layout.height}px",
    )
    return text
