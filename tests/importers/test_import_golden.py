"""A fixed sample log stores exactly the same events, with the same ids, release after release.

Ids derive from the lines and the store's secret (docs/decisions/0020), so a
re-import after an upgrade must find every event already there: any change
to parsing, enrichment, ids or visits that alters a stored value shows up
here as a different digest of the stored rows. The sample mixes what a
real log holds: public, private, carrier-grade NAT, loopback and IPv6
addresses, escaped quotes, proxy-form and percent-encoded targets, UTM
tags, bots, 304s, HEADs and POSTs, identical lines, lines cut short and
blank lines, in three text formats.

When a change is meant to alter stored events, the digest is updated in the
same change, and the change says why re-imported logs store new ids.
"""

from __future__ import annotations

import hashlib
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import footfall
from footfall.importers.log import LogImporter
from footfall.importers.sources import Input

from .conftest import BOT_AGENTS, CHROME, CUSTOM_FORMAT, DAY, FIREFOX, IPHONE, SITE, WRITERS, Hit

IPS = [
    "81.2.69.142", "89.160.20.112", "216.160.83.56", "2.125.160.216", "175.16.199.7",
    "10.0.0.7", "192.168.1.20", "100.64.3.9", "127.0.0.1", "172.16.5.4", "-",
    "2001:4860:4860::8888", "2a02:c7f:1234::1", "fe80::1", "::1", "203.0.113.9",
]  # fmt: skip
AGENTS = [
    FIREFOX, IPHONE, CHROME, *sorted(BOT_AGENTS), "-",
    'Mozilla/5.0 (X11; Linux x86_64) "quoted" AppleWebKit/537.36 Chrome/120.0 Safari/537.36',
]  # fmt: skip
TARGETS = [
    ("GET", "/", 200), ("GET", "/pricing", 200), ("GET", "/pricing", 304),
    ("GET", "/blog/caf%C3%A9%20noir", 200), ("GET", "/docs/?q=a%20b&page=2", 200),
    ("GET", "/?utm_source=newsletter&utm_medium=email&utm_campaign=dec", 200),
    ("GET", "http://shop.example/from-a-proxy?x=1", 200), ("GET", "/static/app.css", 200),
    ("GET", "/feed.xml", 200), ("GET", "/old", 301), ("GET", "/missing", 404),
    ("POST", "/signup", 302), ("HEAD", "/", 200), ("GET", "/boom", 500),
]  # fmt: skip
REFERRERS = [
    "", "https://www.google.com/", "https://news.ycombinator.com/item?id=1",
    f"https://{SITE}/pricing", "https://t.co/abc", "android-app://com.slack/",
]  # fmt: skip
FORMATS = ("combined", "vhost_combined", "custom")
# sha256 of every stored row (all columns, by id) and of the import's report, per format.
EXPECTED = {
    "combined": "46148c9f3a668bea8284b9b84628bd8a8f5d4e699315a14f6d6b8416bac25573",
    "vhost_combined": "8bdaf2369a649a43ae67fcff2a5bc035c3a6545a7eb697134987da7f841069d8",
    "custom": "50182c7af72a34c8152d16fd74eb4dceb508566eb297103ffc8d13332bd4d27f",
}


def _hits() -> list[Hit]:
    """Two days of requests from a few dozen visitors, in time order, some twice."""
    rng = random.Random(20)
    hits: list[Hit] = []
    at = DAY
    for i in range(1_500):
        at += timedelta(seconds=rng.choice((0, 1, 3, 20, 200, 2_400)))
        method, target, status = rng.choice(TARGETS)
        hit = Hit(at, rng.choice(IPS), method, target, status, rng.randrange(0, 90_000),
                  rng.choice(REFERRERS), rng.choice(AGENTS), rng.choice(("text/html", "")),
                  rng.choice((0.004, 0.25)), rng.choice(("", "de-DE,de;q=0.9")))  # fmt: skip
        hits.append(hit)
        if i % 29 == 0:
            hits.append(hit)  # a double click: the same line twice
    return hits


def _write(path: Path, fmt: str) -> Path:
    lines = [WRITERS[fmt](h) for h in _hits()]
    for i in range(0, len(lines), 97):
        lines[i] = lines[i][: len(lines[i]) // 2]  # cut short by a crash
    lines.insert(500, "")
    lines[700] = lines[700].replace('"quoted"', r"\x22quoted\x22")  # nginx's escape
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def stored_digest(folder: Path, fmt: str) -> tuple[str, int]:
    """Import the sample as `fmt` into a new SQLite file: (digest of rows and report, events)."""
    store = footfall.connect(f"sqlite:///{folder / f'{fmt}.db'}")
    try:
        site = SITE if fmt == "combined" else None
        importer = LogImporter(
            store,
            format_name="combined" if fmt == "custom" else fmt,
            log_format=CUSTOM_FORMAT if fmt == "custom" else None,
            site=site,
            secret=b"s" * 32,
            batch_size=300,
        )
        with Input(str(_write(folder / f"{fmt}.log", fmt))) as source:
            importer.read(source)
        importer.close()
        report = importer.report
        digest = hashlib.sha256()
        digest.update(
            repr(
                (report.lines, report.blank, report.bad, report.stored, report.new,
                 report.pageviews, sorted(report.skipped.items()),
                 [sample[1:] for sample in report.bad_samples])  # not the file's path
            ).encode()
        )  # fmt: skip
        stored: list[Any] = store.query("SELECT * FROM events ORDER BY id")
        for row in stored:
            digest.update(repr(row).encode())
        return digest.hexdigest(), len(stored)
    finally:
        store.close()


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_sample_log_stores_the_same_events_as_ever(tmp_path: Path, fmt: str) -> None:
    digest, stored = stored_digest(tmp_path, fmt)
    assert stored > 200
    assert digest == EXPECTED[fmt]
