"""The OpenAPI document: complete, with every reference resolvable."""

from __future__ import annotations

from typing import Any

from _service_api import Api


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_every_reference_resolves_and_bodies_are_documented(api: Api) -> None:
    doc = api.client.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    refs = _refs(doc)
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref
    body = doc["paths"]["/api/v1/projects/{project}/predictions"]["post"]["requestBody"]
    assert set(body["content"]) == {
        "application/json",
        "application/vnd.apache.arrow.stream",
        "application/vnd.apache.parquet",
    }
    assert schemas["PredictionRow"]["required"] == ["model", "request_id", "time", "prediction"]


def test_api_routes_document_the_error_shape(api: Api) -> None:
    doc = api.client.get("/openapi.json").json()
    for path, methods in doc["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, op in methods.items():
            for status in ("401", "403", "422"):
                ref = op["responses"][status]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorBody"), (method, path, status)
            assert op["security"] == [{"HTTPBearer": []}], (method, path)
