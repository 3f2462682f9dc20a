"""The ML Ops plugin as Airflow loads it: one FastAPI app and one navigation entry, every route behind
Airflow's login (no auth manager is needed to refuse a request that carries no token)."""

from __future__ import annotations

import importlib.util

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.dags.conftest import REPO


@pytest.fixture(scope="module")
def plugin():
    spec = importlib.util.spec_from_file_location("ml_ops_view", REPO / "plugins" / "ml_ops_view.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_plugin_mounts_one_app_and_adds_one_navigation_entry(plugin) -> None:
    [app] = plugin.MlOpsViewPlugin.fastapi_apps
    assert app["url_prefix"] == "/ml-ops" and app["app"] is plugin.app
    [view] = plugin.MlOpsViewPlugin.external_views
    assert view["destination"] == "nav" and view["href"] == "/ml-ops/" and view["url_route"] == "ml-ops"


def test_every_route_refuses_a_request_without_a_login(plugin) -> None:
    client = TestClient(plugin.app)
    routes = [r for r in plugin.app.routes if isinstance(r, APIRoute)]
    assert len(routes) >= 8
    for route in routes:
        path = route.path.replace(":path", "").format(model="churn", run_id="manual__x", key="churn_training/a.html")
        method = next(iter(route.methods))
        reply = client.request(method, path, data={"model": "churn", "reason": "x" * 30})
        assert reply.status_code == 401, (method, path, reply.status_code)
