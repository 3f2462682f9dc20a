"""The "ML Ops" view: a FastAPI app the api-server mounts at /ml-ops, and an entry in the UI's navigation.

Presentation only. The facts come from `ml_platform.dashboard` (records under REPORTS_URI and the MLflow
registry); this file renders them and wires Airflow's authentication:
- every route depends on `requires_access_view(PLUGINS)`, so an anonymous request gets 401 and the page
  uses the UI's own session cookie;
- the roll-back form is shown to, and accepted from, only users the auth manager lets trigger
  `model_rollback`; it triggers that DAG through Airflow's REST API with the user's own token, so Airflow
  checks the permission again and records who triggered it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, ClassVar
from urllib.parse import urlsplit

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
from airflow.api_fastapi.auth.managers.models.resource_details import AccessView, DagAccessEntity, DagDetails
from airflow.api_fastapi.core_api.security import GetUserDep, requires_access_dag, requires_access_view
from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from ml_platform import names
from ml_platform.run_context import MIN_REASON_CHARS
from ml_platform.summary import cell

TEMPLATES = Jinja2Templates(directory=Path(__file__).with_name("ml_ops_templates"))
TEMPLATES.env.filters["cell"] = cell
PAGES = {"models": "", "decisions": "decisions", "trends": "trends", "index": "index", "reports": "reports"}

app = FastAPI(
    title="ML Ops",
    description="Champions, decisions, trends, the live index and reports of the ML platform.",
    dependencies=[Depends(requires_access_view(AccessView.PLUGINS))],
)


def _reports():
    from ml_platform.reports import Reports
    from ml_platform.settings import Settings

    return Reports.at(Settings.from_env().reports_uri)


def _can_roll_back(user) -> bool:
    details = DagDetails(id=names.ROLLBACK)
    return get_auth_manager().is_authorized_dag(
        method="POST", access_entity=DagAccessEntity.RUN, details=details, user=user
    )


def _page(request: Request, template: str, active: str, **facts: Any) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return TEMPLATES.TemplateResponse(
        request, template, {"root": root, "pages": PAGES, "active": active, "min_reason": MIN_REASON_CHARS, **facts}
    )


@app.get("/", response_class=HTMLResponse)
def models_page(request: Request, user: GetUserDep) -> HTMLResponse:
    from ml_platform.dashboard.records import models_overview
    from ml_platform.registry import ModelRegistry
    from ml_platform.settings import Settings

    overview = models_overview(_reports(), ModelRegistry(Settings.from_env()))
    return _page(request, "models.html", "models", models=overview, can_roll_back=_can_roll_back(user))


@app.get("/decisions", response_class=HTMLResponse)
def decisions_page(request: Request, model: str | None = None, limit: int = 200) -> HTMLResponse:
    from ml_platform.dashboard.records import decisions, model_views

    known = [v.name for v in model_views()]
    if model and model not in known:
        raise HTTPException(404, f"no model named {model!r}; known: {', '.join(known)}")
    rows = decisions(_reports(), model, limit=max(1, min(limit, 2000)))
    return _page(request, "decisions.html", "decisions", rows=rows, model=model, models=known)


@app.get("/trends", response_class=HTMLResponse)
@app.get("/trends/{model}", response_class=HTMLResponse)
def trends_page(request: Request, model: str | None = None) -> HTMLResponse:
    from ml_platform.dashboard.charts import assistant_trend_svg, tabular_trend_svg
    from ml_platform.dashboard.records import model_views, trends

    known = [v.name for v in model_views()]
    model = model or known[0]
    if model not in known:
        raise HTTPException(404, f"no model named {model!r}; known: {', '.join(known)}")
    trend = trends(_reports(), model)
    draw = tabular_trend_svg if trend["kind"] == "tabular" else assistant_trend_svg
    return _page(request, "trends.html", "trends", trend=trend, chart=draw(trend), model=model, models=known)


@app.get("/index", response_class=HTMLResponse)
def index_page(request: Request) -> HTMLResponse:
    from ml_platform.dashboard.charts import index_svg
    from ml_platform.dashboard.records import live_index

    index = live_index(_reports())
    return _page(request, "index.html", "index", index=index, chart=index_svg(index))


@app.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, days: int = 30) -> HTMLResponse:
    from ml_platform.dashboard.records import report_links

    return _page(request, "reports.html", "reports", days=report_links(_reports(), max(1, min(days, 366))))


@app.get("/reports/file/{key:path}")
def report_file(key: str) -> Response:
    """A report from the reports location (local or S3), streamed through the plugin: the bucket itself is
    never exposed, and only keys inside a pipeline's date folder are served."""
    from ml_platform.dashboard.records import report_file as read

    try:
        data, media = read(_reports(), key)
    except KeyError as missing:
        raise HTTPException(404, str(missing)) from None
    # Reports are static pages (Evidently's and GX's HTML carry their own scripts): sandboxed, no cookies.
    return Response(data, media_type=media, headers={"Content-Security-Policy": "sandbox allow-scripts"})


def _same_origin(request: Request) -> None:
    """A form post must come from this server's own page (the cookie alone would let another site post it)."""
    origin = request.headers.get("origin") or request.headers.get("referer") or ""
    if urlsplit(origin).netloc != request.url.netloc:
        raise HTTPException(403, "roll-back requests must come from the ML Ops page itself")


def _api_root(request: Request) -> str:
    """Where Airflow's REST API answers: [api] base_url when set (a proxy in front), else this server."""
    base = os.environ.get("AIRFLOW__API__BASE_URL") or f"{request.url.scheme}://{request.url.netloc}"
    return base.rstrip("/")


@app.post(
    "/rollback",
    dependencies=[Depends(requires_access_dag("POST", DagAccessEntity.RUN, param_dag_id=names.ROLLBACK))],
)
async def rollback(request: Request, model: Annotated[str, Form()], reason: Annotated[str, Form()]) -> Response:
    import httpx

    _same_origin(request)
    if len(reason.strip()) < MIN_REASON_CHARS:
        raise HTTPException(422, f"a reason of at least {MIN_REASON_CHARS} characters is required")
    token = request.headers.get("authorization", "").removeprefix("Bearer ") or request.cookies.get(
        COOKIE_NAME_JWT_TOKEN, ""
    )
    async with httpx.AsyncClient(timeout=30) as client:
        reply = await client.post(
            f"{_api_root(request)}/api/v2/dags/{names.ROLLBACK}/dagRuns",
            json={"logical_date": None, "conf": {"model": model, "reason": reason.strip()}},
            headers={"Authorization": f"Bearer {token}"},
        )
    if reply.status_code >= 400:
        raise HTTPException(reply.status_code, f"Airflow refused the trigger: {reply.text}")
    run_id = reply.json()["dag_run_id"]
    root = request.scope.get("root_path", "")
    return RedirectResponse(f"{root}/rollback/{model}/{run_id}", status_code=303)


@app.get("/rollback/{model}/{run_id}", response_class=HTMLResponse)
async def rollback_result(request: Request, model: str, run_id: str) -> HTMLResponse:
    """The triggered run's state until it has finished, then the decision it recorded."""
    import httpx

    from ml_platform.dashboard.records import rollback_decision

    token = request.cookies.get(COOKIE_NAME_JWT_TOKEN, "")
    async with httpx.AsyncClient(timeout=30) as client:
        reply = await client.get(
            f"{_api_root(request)}/api/v2/dags/{names.ROLLBACK}/dagRuns/{run_id}",
            headers={"Authorization": f"Bearer {token}"},
        )
    state = reply.json().get("state", "unknown") if reply.status_code == 200 else f"unknown ({reply.status_code})"
    decision = rollback_decision(_reports(), model, run_id)
    done = state in ("success", "failed")
    return _page(
        request, "rollback.html", "models", model=model, run_id=run_id, state=state, decision=decision, done=done
    )


class MlOpsViewPlugin(AirflowPlugin):
    name = "ml_ops_view"
    fastapi_apps: ClassVar[list[dict[str, Any]]] = [{"app": app, "url_prefix": "/ml-ops", "name": "ML Ops"}]
    external_views: ClassVar[list[dict[str, Any]]] = [
        {"name": "ML Ops", "href": "/ml-ops/", "destination": "nav", "url_route": "ml-ops", "category": None}
    ]
