"""/js/footfall.js is served with caching headers, gzip and a JS content type, or 404s."""

from __future__ import annotations

import gzip

from footfall.collector.routes import STATIC, _Script


def test_script_loader(tmp_path):
    path = tmp_path / "footfall.js"
    script = _Script(path)
    assert script.load() is None
    path.write_text("console.log(1)")
    raw, gz, etag = script.load()
    assert raw == b"console.log(1)" and gzip.decompress(gz) == raw and etag.startswith('"')


def test_script_route(env):
    r = env.client.get("/js/footfall.js", headers={"accept-encoding": "gzip"})
    if not (STATIC / "footfall.js").is_file():
        assert r.status_code == 404
        return
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/javascript")
    assert "max-age" in r.headers["cache-control"]
    assert r.content == (STATIC / "footfall.js").read_bytes()  # httpx decodes the gzip
    again = env.client.get("/js/footfall.js", headers={"if-none-match": r.headers["etag"]})
    assert again.status_code == 304
