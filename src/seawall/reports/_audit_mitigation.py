"""The audit report's "What mitigation would do" section: a table and a trade-off chart."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from seawall.audit import AuditMitigation, MitigationOutcome
from seawall.metrics import Estimate
from seawall.reports._charts import _FONT, _text, figure_html
from seawall.reports._format import Interval, fmt_level, interval

__all__ = ["mitigation_chart", "mitigation_context"]

_REMEDIES = {
    "all": "Mitigation",
    "none": "No remedy",
    "threshold": "Threshold post-processing",
    "reweighing": "Reweighing",
    "repair": "Disparate-impact repair",
}
_SETTINGS = {
    "equal_opportunity": "equal opportunity",
    "demographic_parity": "demographic parity",
}
_MODELS = {"audited": "audited model", "stand-in": "stand-in model"}
_COLOURS = {
    "audited": "#1f2933",
    "threshold": "#2563a8",
    "reweighing": "#7c3aed",
    "repair": "#c2410c",
}


def _name(o: MitigationOutcome) -> str:
    setting = _SETTINGS.get(o.setting, o.setting.replace("repair_level=", "level "))
    remedy = _REMEDIES.get(o.remedy, o.remedy)
    return f"{remedy} ({setting})" if setting else remedy


def _shown(e: Estimate) -> Interval:
    return interval(e.value, e.lower, e.upper)


def _row(o: MitigationOutcome) -> dict[str, Any]:
    return {
        "remedy": _name(o),
        "model": _MODELS.get(o.model, o.model),
        "baseline": o.remedy == "none",
        "accuracy": _shown(o.accuracy),
        "disparate_impact": _shown(o.disparate_impact),
        "tpr_gap": _shown(o.tpr_gap),
    }


def mitigation_chart(section: AuditMitigation) -> Any:
    """The trade-off between disparate impact and accuracy, one point per model.

    The stand-in model repaired at increasing levels is one line (from level 0,
    the stand-in itself); every point carries both intervals as whiskers.

    Parameters
    ----------
    section : AuditMitigation
        The audit's mitigation section.

    Returns
    -------
    plotly.graph_objects.Figure
        The chart.
    """
    import plotly.graph_objects as go

    fig = go.Figure()
    level = fmt_level(section.confidence_level)

    def add(points: list[MitigationOutcome], name: str, colour: str, line: bool) -> None:
        xs = [p.disparate_impact for p in points]
        ys = [p.accuracy for p in points]
        fig.add_scatter(
            x=[e.value for e in xs],
            y=[e.value for e in ys],
            mode="lines+markers" if line else "markers",
            name=_text(name),
            marker={"size": 9, "color": colour},
            line={"color": colour, "width": 1.5},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [e.upper - e.value for e in xs],
                "arrayminus": [e.value - e.lower for e in xs],
                "color": colour,
                "thickness": 1,
            },
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [e.upper - e.value for e in ys],
                "arrayminus": [e.value - e.lower for e in ys],
                "color": colour,
                "thickness": 1,
            },
            text=[
                f"<b>{_text(_name(p))}</b>, {_MODELS.get(p.model, p.model)}<br>"
                f"disparate impact {_shown(p.disparate_impact)}<br>"
                f"accuracy {_shown(p.accuracy)}<br>{level} intervals"
                for p in points
            ],
            hovertemplate="%{text}<extra></extra>",
        )

    outcomes = section.outcomes
    audited = [o for o in outcomes if o.model == "audited"]
    if audited:
        add(audited[:1], "audited model", _COLOURS["audited"], False)
        post = audited[1:]
        if post:
            add(post, "audited model, post-processed", _COLOURS["threshold"], False)
    stand_in = [o for o in outcomes if o.model == "stand-in" and o.remedy in ("none", "repair")]
    if stand_in:
        add(stand_in, "stand-in, repaired (level 0 → 1)", _COLOURS["repair"], True)
    reweighed = [o for o in outcomes if o.remedy == "reweighing"]
    if reweighed:
        add(reweighed, "stand-in, reweighed", _COLOURS["reweighing"], False)
    fig.add_vline(
        x=0.8,
        line={"color": "#9aa1ab", "dash": "dash", "width": 1},
        annotation_text="four-fifths",
        annotation_position="top",
    )
    fig.update_layout(
        template="simple_white",
        height=360,
        margin={"l": 60, "r": 20, "t": 30, "b": 50},
        font={"family": _FONT, "size": 12, "color": "#1f2933"},
        legend={"orientation": "h", "y": -0.2},
        xaxis_title="Disparate impact (lowest group's selection rate / highest's)",
        yaxis_title="Accuracy",
        hoverlabel={"bgcolor": "white", "font": {"family": _FONT}},
    )
    return fig


def mitigation_context(section: AuditMitigation | None) -> dict[str, Any] | None:
    """The template's variables for the mitigation section of an audit.

    Parameters
    ----------
    section : AuditMitigation or None
        ``AuditResult.mitigation``; None when the audit did not ask for it.

    Returns
    -------
    dict or None
        The rows of the table, the trade-off chart (as ``Markup``), the remedies
        skipped with their reasons, and the notes; None without a section.
    """
    if section is None:
        return None
    features = ", ".join(section.features) or "none"
    return {
        "rows": [_row(o) for o in section.outcomes],
        "chart": (
            Markup(figure_html(mitigation_chart(section), "mitigation-chart"))
            if section.outcomes
            else None
        ),
        "skipped": [{"remedy": _REMEDIES.get(r, r), "reason": why} for r, why in section.skipped],
        "intro": (
            f"What each remedy would do to the disparity between the groups of "
            f"{section.sensitive}: fitted on one half of the rows ({section.n_fit:,}) and judged "
            f"on the other ({section.n_eval:,}), seed {section.random_state}. Threshold "
            f"post-processing acts on the audited model's scores. Reweighing and repair change "
            f"the training data, so they are judged on a stand-in model (gradient boosting on "
            f"{features}) retrained with and without them: a guide to what retraining would do, "
            f"not a measure of the audited model. This section does not affect the gates or "
            f"the verdict."
        ),
        "level": fmt_level(section.confidence_level),
    }
