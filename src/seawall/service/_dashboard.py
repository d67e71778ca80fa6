"""The dashboard: server-rendered pages with Plotly charts, served with plotly.js (offline).

Pages need a login with a read token; the token is kept in an HttpOnly,
SameSite=Strict cookie, and the one form that changes state (actions on an
incident) also checks that it was posted from this site. Every page reads a
page of data (server-side aggregation over the health summary), never a whole
table, so the overview stays fast on a large fleet.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import duckdb
import jinja2
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from seawall._version import __version__
from seawall.service import _queries as q
from seawall.service._auth import SESSION_COOKIE
from seawall.service._dashboard_charts import health_heatmap, series_chart
from seawall.service._errors import ApiError
from seawall.service._state import service_store
from seawall.service._tokens import Principal, authenticate

__all__ = ["install_dashboard"]

router = APIRouter(include_in_schema=False)

_SESSION_HOURS = 12
_MAX_CHARTS = 6
_RESTATED = {"drift_psi", "drift_js", "drift_ks", "drifted_features"}
_GROUPS: tuple[tuple[str, frozenset[str] | None, str], ...] = (
    (
        "Performance",
        frozenset({"accuracy", "auc", "brier", "ece"}),
        "Measured once labels arrive; each window with its interval.",
    ),
    (
        "Label-free performance estimate",
        frozenset({"cbpe_accuracy"}),
        "Estimated from the model's own scores before labels arrive (confidence-based, "
        "as NannyML's CBPE), for calibrated classifiers.",
    ),
    (
        "Fairness by group",
        frozenset({"disparate_impact", "tpr_gap"}),
        "Per sensitive attribute, each window with its interval; the four-fifths rule "
        "is broken when disparate impact's whole interval lies under 0.8.",
    ),
    (
        "Drift by feature",
        frozenset({"drift"}),
        "Each logged feature against the reference window (effect size); the features "
        "with the most unusual drift are charted.",
    ),
    (
        "Outputs and volume",
        frozenset({"volume", "positive_rate", "score_mean", "score_p10", "score_p50", "score_p90"}),
        "What the model put out per window.",
    ),
    (
        "Data quality",
        frozenset({"null_rate", "unseen_rate"}),
        "Missing values and categories not seen in the reference, per feature.",
    ),
    ("Other metrics", None, "Business or custom metrics pushed for this model."),
)


class LoginRequired(Exception):
    """Raised by a page that needs a login; answered with a redirect to /login."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


@functools.cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.PackageLoader("seawall.service", "templates"),
                jinja2.PackageLoader("seawall.reports", "templates"),
            ]
        ),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def _page(name: str, **context: Any) -> HTMLResponse:
    context.setdefault("project", None)
    context.setdefault("projects", [])
    context.setdefault("who", None)
    context.setdefault("here", "")
    html = _env().get_template(name).render(version=__version__, **context)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


def _viewer(request: Request) -> Principal:
    token = request.cookies.get(SESSION_COOKIE)
    principal = authenticate(service_store(request), token) if token else None
    if principal is None or not principal.can("read"):
        raise LoginRequired(
            request.url.path + (f"?{request.url.query}" if request.url.query else "")
        )
    return principal


def _visible_projects(cur: duckdb.DuckDBPyConnection, principal: Principal) -> list[str]:
    rows = cur.execute("SELECT project FROM service_projects ORDER BY project").fetchall()
    return [str(r[0]) for r in rows if principal.sees(str(r[0]))]


@contextmanager
def _viewing(
    request: Request, project: str
) -> Iterator[tuple[duckdb.DuckDBPyConnection, dict[str, Any]]]:
    principal = _viewer(request)
    store = service_store(request)
    cur = store.cursor()
    try:
        projects = _visible_projects(cur, principal)
        if project not in projects:
            raise ApiError(
                404, f"no project {project!r} for this login; it does not exist or is not yours."
            )
        yield cur, {"project": project, "projects": projects, "who": principal.name}
    finally:
        cur.close()


def _safe_next(value: str) -> str:
    parts = urlsplit(value)
    # A path on this site only: not "//host", nor "/\\host" (which browsers read alike).
    if (
        value.startswith("/")
        and not value.startswith("//")
        and "\\" not in value
        and value.isprintable()
        and not parts.scheme
        and not parts.netloc
    ):
        return value
    return "/"


# ---------------------------------------------------------------------- #
# login


@router.get("/login")
def login_page(request: Request, next: str = "/", error: str = "") -> HTMLResponse:
    message = {
        "invalid": "That token is not valid: it is malformed, unknown or revoked.",
        "scope": "That token has no read scope; the dashboard needs one.",
    }.get(error, "")
    return _page("login.html.j2", title="Log in", next=_safe_next(next), error=message)


@router.post("/login")
async def login(request: Request) -> Response:
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    token = (form.get("token") or [""])[0].strip()
    next_url = _safe_next((form.get("next") or ["/"])[0])
    principal = await run_in_threadpool(authenticate, service_store(request), token)
    if principal is None or not principal.can("read"):
        reason = "invalid" if principal is None else "scope"
        return RedirectResponse(
            "/login?" + urlencode({"next": next_url, "error": reason}), status_code=303
        )
    response = RedirectResponse(next_url, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=_SESSION_HOURS * 3600,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/static/plotly.min.js")
def plotly_js() -> FileResponse:
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    return FileResponse(
        path, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"}
    )


# ---------------------------------------------------------------------- #
# pages


@router.get("/")
def home(request: Request, project: str | None = None) -> Response:
    principal = _viewer(request)
    cur = service_store(request).cursor()
    try:
        projects = _visible_projects(cur, principal)
        with_models = {
            str(r[0])
            for r in cur.execute(f"SELECT DISTINCT {q.PROJECT_OF} FROM models m").fetchall()
        }
    finally:
        cur.close()
    if project in projects:
        return RedirectResponse(f"/p/{project}", status_code=303)
    chosen = next((p for p in projects if p in with_models), projects[0] if projects else None)
    if chosen is None:
        raise ApiError(404, "this login sees no project; ask an admin to bind the token to one.")
    return RedirectResponse(f"/p/{chosen}", status_code=303)


def _label_keys(cur: duckdb.DuckDBPyConnection, project: str) -> list[str]:
    rows = cur.execute(
        f"SELECT l.key, count(*) FROM model_labels l JOIN models m USING (model) "
        f"WHERE {q.PROJECT_OF} = ? GROUP BY l.key ORDER BY count(*) DESC, l.key",
        [project],
    ).fetchall()
    keys = [str(r[0]) for r in rows]
    preferred: list[str] = [k for k in ("team", "region") if k in keys]
    return preferred or keys[:2]


def _overview(
    request: Request, project: str, search: str, label: str, recent: int, offset: int
) -> HTMLResponse:
    page_size = 50
    with _viewing(request, project) as (cur, ctx):
        labels: dict[str, str] = {}
        if label:
            key, sep, value = label.partition(":")
            if sep and key:
                labels[key] = value
        windows = q.recent_windows(cur, project, recent)
        since = windows[0] if windows else None
        total, models = q.models_page(
            cur, project, labels=labels, search=search or None, since=since,
            limit=page_size, offset=offset,
        )  # fmt: skip
        grid = q.health_grid(cur, [m["model"] for m in models], windows)
        open_total, incidents = q.incidents_page(cur, project, status="open", limit=20)
        by_label = {k: q.counts_by_label(cur, project, k, since) for k in _label_keys(cur, project)}
        all_models = total if not (labels or search) else q.model_count(cur, project)
    base = {"search": search, "label": label, "recent": recent}

    def url(at: int) -> str:
        return "?" + urlencode({**{k: v for k, v in base.items() if v}, "offset": at})

    return _page(
        "overview.html.j2",
        title=f"{project} overview",
        here="overview",
        total_models=all_models,
        total=total,
        models=models,
        windows=windows,
        last_window=windows[-1] if windows else None,
        heatmap=health_heatmap([m["model"] for m in models], windows, grid),
        incidents=incidents,
        open_total=open_total,
        by_label=by_label,
        offset=offset,
        prev_url=url(max(offset - page_size, 0)) if offset > 0 else None,
        next_url=url(offset + page_size) if offset + page_size < total else None,
        **base,
        **ctx,
    )


@router.get("/p/{project}")
async def overview(
    request: Request,
    project: str,
    search: str = "",
    label: str = "",
    recent: int = 24,
    offset: int = 0,
) -> HTMLResponse:
    recent = min(max(recent, 1), 500)
    offset = max(offset, 0)
    return await run_in_threadpool(_overview, request, project, search, label, recent, offset)


def _series(
    cur: duckdb.DuckDBPyConnection, member: str, since: dt.datetime | None, limit: int
) -> tuple[str, list[dict[str, Any]]]:
    model, _, rest = member.partition("/")
    metric, _, qualifier = rest.partition("/")
    return member, q.series_points(cur, model, metric, qualifier, since=since, limit=limit)


def _incident(request: Request, project: str, incident_id: str) -> HTMLResponse:
    with _viewing(request, project) as (cur, ctx):
        incident = q.incident_detail(cur, project, incident_id)
        if incident is None:
            raise ApiError(404, f"no incident {incident_id!r} in the project {project!r}.")
        start = incident["start"]
        charts = []
        for k, member in enumerate(incident["members"][:8]):
            name, points = _series(cur, member, start - dt.timedelta(days=3), 2000)
            points = [
                p
                for p in points
                if p["timestamp"] <= (incident["end"] or start) + dt.timedelta(days=1)
            ]
            if points:
                charts.append(
                    series_chart(
                        points, name, f"member-{k}", window=(start, incident["end"] or start)
                    )
                )
    return _page(
        "incident.html.j2", title=incident["summary"] or incident_id, incident=incident,
        charts=charts, **ctx,
    )  # fmt: skip


@router.get("/p/{project}/incidents/{incident_id}")
async def incident_page(request: Request, project: str, incident_id: str) -> HTMLResponse:
    return await run_in_threadpool(_incident, request, project, incident_id)


@router.post("/p/{project}/incidents/{incident_id}/actions")
async def incident_action(request: Request, project: str, incident_id: str) -> Response:
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.url.netloc:
        raise ApiError(403, "this form must be posted from the dashboard itself.")
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    action = (form.get("action") or [""])[0]
    comment = (form.get("comment") or [""])[0][:2000]
    if action not in ("acknowledge", "resolve", "false_alarm"):
        raise ApiError(422, f"action: {action!r} is not one of acknowledge, resolve, false_alarm.")

    def act() -> None:
        with _viewing(request, project) as (cur, ctx):
            if q.incident_detail(cur, project, incident_id) is None:
                raise ApiError(404, f"no incident {incident_id!r} in the project {project!r}.")
        note = f"{comment} ({ctx['who']})" if comment else str(ctx["who"])
        service_store(request).record_feedback(incident_id, action, note=note)

    await run_in_threadpool(act)
    return RedirectResponse(f"/p/{project}/incidents/{incident_id}", status_code=303)


def _groups(cur: duckdb.DuckDBPyConnection, detail: dict[str, Any]) -> list[dict[str, Any]]:
    series = [s for s in detail["series"] if s["metric"] not in _RESTATED]
    taken: set[int] = set()
    groups = []
    for title, metrics, note in _GROUPS:
        members = [
            (i, s) for i, s in enumerate(series)
            if i not in taken and (metrics is None or s["metric"] in metrics)
        ]  # fmt: skip
        if not members:
            continue
        taken.update(i for i, _ in members)
        ranked = sorted(members, key=lambda m: (-(m[1]["worst_score"] or 0), m[0]))
        charts = []
        for i, s in ranked[:_MAX_CHARTS]:
            name = s["metric"] + (f" · {s['qualifier']}" if s["qualifier"] else "")
            points = q.series_points(cur, detail["model"], s["metric"], s["qualifier"], limit=720)
            charts.append(series_chart(points, name, f"series-{i}", height=230))
        table = [s for _, s in ranked] if metrics == frozenset({"drift"}) else []
        if len(members) > _MAX_CHARTS:
            note += (
                f" The {_MAX_CHARTS} of {len(members)} series with the highest scores are charted."
            )
        groups.append({"title": title, "note": note, "charts": charts, "table": table})
    return groups


def _model(request: Request, project: str, model: str) -> HTMLResponse:
    with _viewing(request, project) as (cur, ctx):
        detail = q.model_detail(cur, project, model)
        if detail is None:
            raise ApiError(404, f"no model {model!r} in the project {project!r}.")
        groups = _groups(cur, detail)
    return _page("model.html.j2", title=model, model=detail, groups=groups, **ctx)


@router.get("/p/{project}/models/{model}")
async def model_page(request: Request, project: str, model: str) -> HTMLResponse:
    return await run_in_threadpool(_model, request, project, model)


@router.get("/p/{project}/models/{model}/reports/{report_id}")
def report_page(request: Request, project: str, model: str, report_id: str) -> HTMLResponse:
    with _viewing(request, project) as (cur, ctx):
        found = q.report(cur, project, model, report_id)
    if found is None:
        raise ApiError(404, f"no report {report_id!r} of the model {model!r} in {project!r}.")
    body = json.dumps(found["report"], indent=2, ensure_ascii=False)
    return _page(
        "report_view.html.j2", title=found["title"], model=model, report=found, body=body, **ctx
    )


@router.get("/p/{project}/models/{model}/reports/{report_id}/page")
def report_html_page(request: Request, project: str, model: str, report_id: str) -> HTMLResponse:
    with _viewing(request, project) as (cur, _):
        html = q.report_html(cur, project, model, report_id)
    if html is None:
        raise ApiError(404, f"no report page {report_id!r} of the model {model!r} in {project!r}.")
    # The page came from a user: it runs sandboxed, in an origin of its own, so its
    # scripts (plotly) draw the charts but cannot reach the dashboard or its cookie.
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": "sandbox allow-scripts",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def install_dashboard(app: FastAPI) -> None:
    """Add the dashboard's pages to ``app``, and send logged-out visitors to /login."""

    @app.exception_handler(LoginRequired)
    async def _login(_: Request, e: LoginRequired) -> RedirectResponse:
        return RedirectResponse("/login?" + urlencode({"next": e.next_url}), status_code=303)

    app.include_router(router)
