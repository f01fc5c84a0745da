"""docs/cloud-api.yaml lists exactly the routes the app serves, and its references resolve."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from backend.api import create_app
from backend.store import Store

SPEC = Path(__file__).resolve().parents[2] / "docs" / "cloud-api.yaml"
METHODS = {"get", "post", "put", "patch", "delete"}


def _spec() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SPEC.read_text())
    return data


def _served() -> set[tuple[str, str]]:
    app = create_app(Store.__new__(Store))  # routes only: no database is touched
    prefix = "/api/v1"
    return {
        (route.method.lower(), route.resource.canonical.removeprefix(prefix))
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }


def test_spec_and_routes_match() -> None:
    spec = _spec()
    assert spec["openapi"].startswith("3.")
    assert spec["servers"] == [{"url": "/api/v1"}]
    documented = {
        (method, path)
        for path, item in spec["paths"].items()
        for method in item
        if method in METHODS
    }
    served = _served()
    assert served - documented == set(), "routes missing from docs/cloud-api.yaml"
    assert documented - served == set(), "documented routes the app does not serve"


def test_every_operation_has_responses_and_every_ref_resolves() -> None:
    spec = _spec()

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            found = [node["$ref"]] if "$ref" in node else []
            return found + [r for v in node.values() for r in refs(v)]
        if isinstance(node, list):
            return [r for v in node for r in refs(v)]
        return []

    for path, item in spec["paths"].items():
        for method, operation in item.items():
            assert operation.get("responses"), (method, path)
            if "{id}" in path:
                names = [p.get("$ref", "") for p in operation.get("parameters", [])]
                assert "#/components/parameters/id" in names, (method, path)
    for ref in refs(spec):
        node: Any = spec
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        assert node, ref
