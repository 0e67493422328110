"""Self-describing events: schema registry, failed events, `footfall failed list|retry`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from footfall.cli import main
from footfall.collector.ingest import validate_self_describing
from footfall.collector.schemas import SchemaRegistry, parse_iglu
from footfall.stores.meta import open_meta

URI = "iglu:com.acme/viewed_product/jsonschema/1-0-0"
SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {"sku": {"type": "string"}, "price": {"type": "number", "minimum": 0}},
    "required": ["sku"],
    "additionalProperties": False,
}


def _write_schema(root: Path, uri: str = URI, schema: dict = SCHEMA) -> None:
    vendor, name, fmt, version = parse_iglu(uri)
    path = root / vendor / name / fmt / version
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(schema))


def _sd(props, uri=URI):
    return {"name": "viewed_product", "site": "example.com", "schema": uri, "props": props}


def test_registry_validates_and_reports(tmp_path):
    _write_schema(tmp_path)
    reg = SchemaRegistry(tmp_path)
    assert reg.validate(URI, {"sku": "a1", "price": 3}) is None
    assert "sku" in reg.validate(URI, {"price": 3})
    assert "price" in reg.validate(URI, {"sku": "a", "price": -1})
    assert reg.validate("iglu:com.acme/unknown/jsonschema/1-0-0", {}) is None  # lenient
    strict = SchemaRegistry(tmp_path, strict=True)
    assert "unknown" in strict.validate("iglu:com.acme/unknown/jsonschema/1-0-0", {})
    assert "not an iglu" in reg.validate("iglu:../../etc/passwd", {})
    assert "not an iglu" in reg.validate("http://x/y", {})
    assert reg.known(URI) and not reg.known("iglu:a/b/jsonschema/1-0-0")


def test_registry_accepts_json_suffix_and_reports_broken_schema(tmp_path):
    p = tmp_path / "com.acme" / "thing" / "jsonschema" / "1-0-0.json"
    p.parent.mkdir(parents=True)
    p.write_text(json.dumps({"type": "object", "required": ["a"]}))
    reg = SchemaRegistry(tmp_path)
    assert reg.validate("iglu:com.acme/thing/jsonschema/1-0-0", {}) is not None
    (tmp_path / "com.acme" / "thing" / "jsonschema" / "2-0-0").write_text("{not json")
    assert "could not be loaded" in reg.validate("iglu:com.acme/thing/jsonschema/2-0-0", {})


def test_valid_self_describing_event_stored(make_env, tmp_path):
    _write_schema(tmp_path / "schemas")
    env = make_env(FOOTFALL_RATE_LIMIT="off", FOOTFALL_SCHEMAS=str(tmp_path / "schemas"))
    r = env.client.post("/api/event", json=_sd({"sku": "a1", "price": 9.5}))
    assert r.status_code == 202 and r.json()["accepted"] == 1
    [ev] = env.stored()
    assert ev.schema == URI and ev.props == {"sku": "a1", "price": 9.5}
    assert validate_self_describing(env.state, URI, {"sku": 1}) is not None


def test_invalid_event_kept_as_failed_then_retried(make_env, tmp_path):
    schemas = tmp_path / "schemas"
    _write_schema(schemas)
    env = make_env(FOOTFALL_RATE_LIMIT="off", FOOTFALL_SCHEMAS=str(schemas))
    r = env.client.post(
        "/api/event",
        json={
            "events": [_sd({"sku": "ok"}), _sd({"sku": 42}), {"n": "pageview", "d": "example.com"}]
        },
    )
    assert r.status_code == 202
    body = r.json()
    assert body["accepted"] == 2 and body["failed"] == 1
    assert body["errors"][0]["index"] == 1 and body["errors"][0]["kept"] is True
    assert len(env.stored()) == 2
    [row] = open_meta(env.store).list_failed()
    assert row.schema == URI and row.site == "example.com" and "sku" in row.reason
    assert json.loads(row.payload)["props"] == {"sku": 42}  # the original input
    url = env.state.db_url

    out = CliRunner().invoke(main, ["failed", "list", "--db", url, "--payload"])
    assert out.exit_code == 0 and URI in out.output and '"sku":42' in out.output
    # Still failing against the same schema.
    out = CliRunner().invoke(main, ["failed", "retry", "--db", url, "--schemas", str(schemas)])
    assert "recovered 0, still failing 1" in out.output
    # A new version of the schema accepts numbers: the retry recovers the event.
    _write_schema(schemas, schema={**SCHEMA, "properties": {"sku": {"type": ["string", "number"]}}})
    out = CliRunner().invoke(main, ["failed", "retry", "--db", url, "--schemas", str(schemas)])
    assert out.exit_code == 0 and "recovered 1, still failing 0" in out.output, out.output
    assert {json.dumps(e.props) for e in env.stored(name="viewed_product")} == {
        '{"sku": "ok"}',
        '{"sku": 42}',
    }
    assert all(e.ip == "" and e.visitor_id for e in env.stored())  # enriched like any event
    # Kept without its IP, the recovered event still has the visitor id of its sender.
    assert len({e.visitor_id for e in env.stored()}) == 1
    assert open_meta(env.store).list_failed() == []
    out = CliRunner().invoke(main, ["failed", "list", "--db", url])
    assert "no failed events" in out.output


def test_strict_unknown_schema_is_failed_and_retry_after_adding_it(make_env, tmp_path):
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    env = make_env(
        FOOTFALL_RATE_LIMIT="off", FOOTFALL_SCHEMAS=str(schemas), FOOTFALL_SCHEMAS_STRICT="1"
    )
    r = env.client.post("/api/event", json=_sd({"sku": "x"}))
    assert r.status_code == 202 and r.json()["failed"] == 1
    assert env.stored() == []
    url = env.state.db_url
    out = CliRunner().invoke(
        main, ["failed", "retry", "--db", url, "--schemas", str(schemas), "--strict"]
    )
    assert "still failing 1" in out.output
    _write_schema(schemas)
    out = CliRunner().invoke(
        main, ["failed", "retry", "--db", url, "--schemas", str(schemas), "--strict"]
    )
    assert "recovered 1" in out.output
    assert len(env.stored()) == 1


def test_unknown_schema_passes_when_not_strict(env):
    r = env.client.post("/api/event", json=_sd({"anything": 1}, "iglu:com.x/y/jsonschema/1-0-0"))
    assert r.status_code == 202 and r.json()["accepted"] == 1


def test_malformed_schema_uri_kept_as_failed(env):
    r = env.client.post("/api/event", json=_sd({"a": 1}, "not-a-uri"))
    assert r.status_code == 202 and r.json()["failed"] == 1
    env.flush()
    assert "iglu" in open_meta(env.store).list_failed()[0].reason
