"""The dashboard's charts: the fleet heat-map and series against their expected band."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup

from seawall.reports._charts import _text, figure_html, time_layout

__all__ = ["health_heatmap", "series_chart", "surprise"]

_VALUE = "#2563a8"
_BAND = "rgba(194, 65, 12, 0.12)"
_BASELINE = "#c2410c"
_FLAG = "#b91c1c"
_MAX_SURPRISE = 6.0


def surprise(score: float | None) -> float | None:
    """``-log10(1 - score)``, capped at 6: 2 for 0.99, 3 for 0.999 (1 in 1,000).

    Examples
    --------
    >>> surprise(0.999), surprise(None), surprise(1.0)
    (3.0, None, 6.0)
    """
    if score is None or not math.isfinite(score):
        return None
    return round(min(-math.log10(max(1.0 - score, 10**-_MAX_SURPRISE)), _MAX_SURPRISE), 6)


def health_heatmap(
    models: Sequence[str],
    windows: Sequence[dt.datetime],
    worst: Mapping[tuple[str, dt.datetime], float | None],
    div_id: str = "health",
) -> Markup:
    """Models × recent windows, coloured by the worst anomaly score of each cell.

    The colour is the score's surprise, ``-log10(1 - score)``: 3 is a 1-in-1,000
    step, and the scale saturates at 1 in a million.
    """
    import plotly.graph_objects as go

    z = [[surprise(worst.get((m, w))) for w in windows] for m in models]
    text = [
        [
            "no score" if (s := worst.get((m, w))) is None else f"worst score {s:.6f}"
            for w in windows
        ]
        for m in models
    ]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[w.isoformat(sep=" ", timespec="minutes") for w in windows],
            y=[_text(m) for m in models],
            text=text,
            hovertemplate="%{y}<br>%{x}<br>%{text}<extra></extra>",
            zmin=0,
            zmax=_MAX_SURPRISE,
            colorscale=[
                [0.0, "#f7f9fb"],
                [0.33, "#fde68a"],
                [0.5, "#f59e0b"],
                [0.66, "#dc2626"],
                [1.0, "#7f1d1d"],
            ],
            colorbar={
                "title": {"text": "1 in"},
                "tickvals": [0, 2, 3, 4, 6],
                "ticktext": ["1", "100", "1k", "10k", "1M"],
            },
            xgap=1,
            ygap=1,
        )
    )
    time_layout(fig, 120 + 22 * max(len(models), 1), top=36, legend="right")
    fig.update_yaxes(autorange="reversed", showgrid=False)
    fig.update_xaxes(showgrid=False)
    return Markup(figure_html(fig, div_id))  # noqa: S704 - built by plotly; data labels escaped


def series_chart(
    points: Sequence[Mapping[str, Any]],
    title: str,
    div_id: str,
    *,
    window: tuple[dt.datetime, dt.datetime] | None = None,
    height: int = 260,
) -> Markup:
    """A series' values (with their intervals) against its expected band, flags marked.

    The band is ``baseline ± 3 × scale``; ``window`` shades an incident's span.
    """
    import plotly.graph_objects as go

    x = [p["timestamp"] for p in points]
    fig = go.Figure()
    lower = [p.get("band_lower") for p in points]
    upper = [p.get("band_upper") for p in points]
    if any(v is not None for v in upper):
        fig.add_scatter(
            x=x, y=upper, mode="lines", line={"width": 0}, hoverinfo="skip", showlegend=False
        )
        fig.add_scatter(
            x=x,
            y=lower,
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor=_BAND,
            name="expected (baseline ± 3 scales)",
            hoverinfo="skip",
        )
        fig.add_scatter(
            x=x,
            y=[p.get("baseline") for p in points],
            mode="lines",
            name="baseline",
            line={"color": _BASELINE, "width": 1.1, "dash": "dash"},
        )
    has_interval = any(p.get("lower") is not None and p.get("upper") is not None for p in points)
    error_y = None
    if has_interval:
        error_y = {
            "type": "data",
            "symmetric": False,
            "array": [
                None
                if p.get("upper") is None or p.get("value") is None
                else p["upper"] - p["value"]
                for p in points
            ],
            "arrayminus": [
                None
                if p.get("lower") is None or p.get("value") is None
                else p["value"] - p["lower"]
                for p in points
            ],
            "color": "rgba(37, 99, 168, 0.25)",
            "thickness": 1,
            "width": 0,
        }
    fig.add_scatter(
        x=x,
        y=[p.get("value") for p in points],
        mode="lines+markers" if len(points) < 120 else "lines",
        name="value (with its interval)" if has_interval else "value",
        line={"color": _VALUE, "width": 1.4},
        marker={"size": 3},
        error_y=error_y,
        customdata=[p.get("score") for p in points],
        hovertemplate="%{x}<br>value %{y:.4g}<br>anomaly score %{customdata:.5f}<extra></extra>",
    )
    flagged = [p for p in points if p.get("is_anomaly")]
    if flagged:
        fig.add_scatter(
            x=[p["timestamp"] for p in flagged],
            y=[p.get("value") for p in flagged],
            mode="markers",
            name="flagged",
            marker={"color": _FLAG, "size": 8, "symbol": "x"},
        )
    if window is not None:
        # Half a window either side, so that an incident of one step still shows.
        steps = sorted({p["timestamp"] for p in points})
        gaps = sorted(b - a for a, b in zip(steps, steps[1:], strict=False))
        half = gaps[len(gaps) // 2] / 2 if gaps else dt.timedelta(0)
        fig.add_vrect(
            x0=window[0] - half,
            x1=window[1] + half,
            fillcolor="#fde8e8",
            opacity=0.8,
            line_width=0,
            layer="below",
        )
    time_layout(fig, height, top=36, legend="right")
    fig.update_layout(title={"text": _text(title), "x": 0.0, "font": {"size": 13}})
    return Markup(figure_html(fig, div_id))  # noqa: S704 - built by plotly; data labels escaped
