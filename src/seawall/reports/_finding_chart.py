"""The small Plotly chart of one investigation finding.

Two panels: the two sides' rates (or means) with their intervals when they
have one, and the difference with its interval against a line at zero. Labels
are HTML-escaped before they reach Plotly, as in :mod:`seawall.reports._charts`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from seawall.reports._charts import _FONT, PALETTE, _text
from seawall.reports._format import interval

__all__ = ["Side", "finding_chart"]

_INSIDE = PALETTE["significant gap"]
_OUTSIDE = PALETTE["reference"]
_DIFFERENCE = PALETTE["significant gap"]


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a comparison as charted.

    Attributes
    ----------
    name : str
        What the side is, e.g. ``"group B"`` (escaped here).
    value, lower, upper : float
        Its rate or mean and interval (NaN bounds when it has none).
    n : float
        Its rows.
    """

    name: str
    value: float
    lower: float
    upper: float
    n: float


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _whiskers(value: float, lower: float, upper: float) -> dict[str, Any]:
    if not (math.isfinite(lower) and math.isfinite(upper) and math.isfinite(value)):
        return {"visible": False}
    return {
        "type": "data",
        "symmetric": False,
        "array": [max(upper - value, 0.0)],
        "arrayminus": [max(value - lower, 0.0)],
        "thickness": 1.6,
        "width": 5,
    }


def finding_chart(
    quantity: str,
    inside: Side,
    outside: Side,
    difference: tuple[float, float, float],
    level: str,
    effect: str = "Difference (inside − outside)",
) -> Any:
    """Chart one finding: both sides, then their difference with its interval.

    Parameters
    ----------
    quantity : str
        What is compared, e.g. ``"Error rate"`` (the first panel's title).
    inside, outside : Side
        The context (or the group in it) and what it is compared with.
    difference : tuple of float
        ``(value, lower, upper)`` of ``inside - outside``.
    level : str
        The intervals' level as text, e.g. ``"97.5%"`` (for the hover text).
    effect : str, default="Difference (inside − outside)"
        What ``difference`` is (the second panel's title).

    Returns
    -------
    plotly.graph_objects.Figure
        The chart, 170 pixels high.

    Examples
    --------
    >>> fig = finding_chart("Error rate", Side("group <B>", 0.3, 0.25, 0.36, 300),
    ...                     Side("the rest", 0.1, 0.08, 0.12, 700), (0.2, 0.14, 0.26), "95%")
    >>> [t.y for t in fig.data]
    [('inside',), ('outside',), ('difference',)]
    >>> fig.layout.yaxis.ticktext
    ('group &lt;B&gt; (n=300)', 'the rest (n=700)')
    """
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.14,
        subplot_titles=[_text(quantity), _text(effect)],
    )
    for key, side, color in (("inside", inside, _INSIDE), ("outside", outside, _OUTSIDE)):
        shown = interval(side.value, side.lower, side.upper)
        fig.add_scatter(
            x=[_finite(side.value)],
            y=[key],
            mode="markers",
            marker={"size": 10, "color": color},
            error_x={**_whiskers(side.value, side.lower, side.upper), "color": color},
            text=[f"<b>{_text(side.name)}</b> (n={side.n:,.0f})<br>{_text(quantity)}: {shown}"],
            hovertemplate="%{text}<extra></extra>",
            showlegend=False,
            row=1,
            col=1,
        )
    value, lower, upper = difference
    fig.add_scatter(
        x=[_finite(value)],
        y=["difference"],
        mode="markers",
        marker={"size": 10, "color": _DIFFERENCE, "symbol": "diamond"},
        error_x={**_whiskers(value, lower, upper), "color": _DIFFERENCE},
        text=[f"{_text(effect)}: {interval(value, lower, upper)}<br>{level} interval"],
        hovertemplate="%{text}<extra></extra>",
        showlegend=False,
        row=1,
        col=2,
    )
    fig.add_vline(x=0.0, line={"color": "#374151", "width": 1.2}, row=1, col=2)
    fig.update_layout(
        template="simple_white",
        height=170,
        margin={"l": 10, "r": 20, "t": 34, "b": 36},
        font={"family": _FONT, "size": 12, "color": "#1f2933"},
        hoverlabel={"bgcolor": "white", "font": {"family": _FONT}},
        plot_bgcolor="white",
    )
    fig.update_yaxes(
        type="category",
        categoryorder="array",
        categoryarray=["outside", "inside"],
        tickmode="array",
        tickvals=["inside", "outside"],
        ticktext=[f"{_text(s.name)} (n={s.n:,.0f})" for s in (inside, outside)],
        range=[-0.6, 1.6],
        showgrid=True,
        gridcolor="#eef1f4",
        ticks="",
        showline=False,
        fixedrange=True,
        row=1,
        col=1,
    )
    fig.update_yaxes(showticklabels=False, ticks="", showline=False, fixedrange=True, row=1, col=2)
    fig.update_xaxes(showgrid=True, gridcolor="#eef1f4", zeroline=False, ticks="outside")
    for ann in fig.layout.annotations[:2]:
        ann.font = {"size": 12, "family": _FONT}
    return fig
