"""`footfall import log`: real log files in every format become the same enriched page views."""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from footfall import Event
from footfall.processors.geo import GeoProcessor
from footfall.processors.useragent import UserAgentProcessor

from .conftest import (
    ALICE,
    BOTS,
    CURL,
    FIREFOX,
    HUMAN_PAGEVIEWS,
    PAGEVIEWS_BY_PATH,
    REQUESTS,
    SITE,
    SKIPPED,
    VISITORS,
    VISITS,
    WRITERS,
    Hit,
    format_args,
    rows,
    run_import,
    write_log,
)


@pytest.mark.parametrize("fmt", ["combined", "vhost_combined", "caddy", "json", "custom"])
def test_each_format_gives_the_same_page_views(
    fmt: str, tmp_path: Path, db: str, store_of: Any
) -> None:
    log = write_log(tmp_path / "access.log", fmt)
    result = run_import(str(log), "--db", db, *format_args(fmt))
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0].startswith("footfall: store sqlite:///")
    assert f"read {len(REQUESTS)} lines" in result.stdout
    assert f"stored {HUMAN_PAGEVIEWS} page views: {HUMAN_PAGEVIEWS} new" in result.stdout
    for reason, n in SKIPPED.items():
        assert f"{n:>12,}  {reason}" in result.stdout, result.stdout
    events = rows(store_of(db))
    assert Counter(e["path"] for e in events) == PAGEVIEWS_BY_PATH
    assert {e["name"] for e in events} == {"pageview"}
    assert {e["source"] for e in events} == {"log"}
    assert {e["site"] for e in events} == {SITE}
    assert len({e["visitor_id"] for e in events}) == VISITORS
    assert len({e["visit_id"] for e in events}) == VISITS
    assert len({e["id"] for e in events}) == HUMAN_PAGEVIEWS  # the double click is two


def test_events_keep_their_time_and_get_the_live_enrichment(
    tmp_path: Path, db: str, store_of: Any
) -> None:
    log = write_log(tmp_path / "access.log", "custom")
    assert run_import(str(log), "--db", db, *format_args("custom")).exit_code == 0
    events = rows(store_of(db))
    first = events[0]
    hit = REQUESTS[0]
    assert first["ts"] == int(hit.at.timestamp()) * 1_000_000  # 10:00 CET stored as 09:00 UTC
    assert first["url"] == f"https://{SITE}/" and first["host"] == SITE
    assert (first["method"], first["status"], first["bytes"]) == ("GET", 200, 5120)
    assert first["duration_ms"] == pytest.approx(12.0)
    live = UserAgentProcessor()(Event(name="pageview", user_agent=FIREFOX))
    assert (first["browser"], first["os"], first["device"]) == (live.browser, live.os, live.device)
    assert first["browser"] == "Firefox"
    assert first["country"] == GeoProcessor().lookup(ALICE).country != ""
    assert first["referrer_source"] == "Google"
    assert first["language"] == "de-DE"
    assert first["ip"] == ""  # dropped once geo and the visitor id had it
    bob = next(e for e in events if e["utm_source"])
    assert (bob["utm_source"], bob["utm_medium"], bob["utm_campaign"]) == (
        "newsletter", "email", "march",
    )  # fmt: skip
    # A referrer on the site itself is not a referral.
    assert all(e["referrer"] == "" for e in events if e["path"] == "/pricing")
    carol = next(e for e in events if e["path"] == "/signup")
    assert carol["referrer_source"] == "Hacker News"
    assert next(e for e in events if e["path"] == "/blog/hello world")["url"].endswith(
        "/blog/hello%20world"
    )


def test_gzip_files_and_stdin_are_read_as_they_are(tmp_path: Path, db: str, store_of: Any) -> None:
    gz = write_log(tmp_path / "access.log.1.gz", "combined")
    result = run_import(str(gz), "--db", db, "--site", SITE)
    assert result.exit_code == 0, result.output
    assert f"stored {HUMAN_PAGEVIEWS} page views: {HUMAN_PAGEVIEWS} new" in result.stdout
    # The same lines from stdin, gzip'd or not: already stored, nothing new.
    piped = run_import("-", "--db", db, "--site", SITE, input=gz.read_bytes())
    assert f"0 new, {HUMAN_PAGEVIEWS} already stored" in piped.stdout, piped.output
    plain = gzip.decompress(gz.read_bytes())
    piped = run_import("-", "--db", db, "--site", SITE, input=plain)
    assert f"0 new, {HUMAN_PAGEVIEWS} already stored" in piped.stdout, piped.output
    assert len(rows(store_of(db))) == HUMAN_PAGEVIEWS


def test_bad_lines_are_counted_and_shown_never_fatal(
    tmp_path: Path, db: str, store_of: Any
) -> None:
    log = write_log(tmp_path / "access.log", "combined", bad=7)
    result = run_import(str(log), "--db", db, "--site", SITE)
    assert result.exit_code == 0, result.output
    assert "bad lines: 7 (not in the combined format); the first:" in result.stdout
    shown = [line for line in result.stdout.splitlines() if "this is not a log line" in line]
    assert len(shown) == 5  # the first few
    assert shown[0].startswith(f"  {log}:4: does not match the log format: ")
    assert len(rows(store_of(db))) == HUMAN_PAGEVIEWS


def test_a_log_in_another_format_fails_with_a_hint(tmp_path: Path, db: str) -> None:
    log = write_log(tmp_path / "access.log", "caddy")
    result = run_import(str(log), "--db", db, "--site", SITE)  # read as combined
    assert result.exit_code == 1
    assert "no line was in the log format: check --format or --log-format" in result.output


def test_the_site_is_required_where_lines_do_not_name_it(tmp_path: Path, db: str) -> None:
    log = write_log(tmp_path / "access.log", "combined")
    result = run_import(str(log), "--db", db)
    assert result.exit_code == 2
    assert "--site is required: combined lines do not say which site" in result.output
    bad = run_import(str(log), "--db", db, "--log-format", '$remote_addr "$request"')
    assert bad.exit_code == 2 and "lacks a time" in bad.output


def test_the_virtual_host_names_the_site(tmp_path: Path, db: str, store_of: Any) -> None:
    line = WRITERS["combined"](REQUESTS[0])
    log = tmp_path / "access.log"
    log.write_text(
        f"{SITE}:443 {line}\n"
        f"WWW.Other.Example:8443 {line}\n"  # any case, any port
        f"${{jndi:ldap://x}}:443 {line}\n"  # a scanner's Host header is no site
    )
    result = run_import(str(log), "--db", db, "--format", "vhost_combined")
    assert result.exit_code == 0, result.output
    assert "1  no site (give --site)" in result.stdout
    assert sorted(e["site"] for e in rows(store_of(db))) == ["shop.example", "www.other.example"]
    # --site wins over the line's host.
    again = run_import(str(log), "--db", db, "--format", "vhost_combined", "--site", "one.example")
    assert again.exit_code == 0 and "stored 3 page views: 3 new" in again.stdout


def test_bots_assets_and_other_requests_are_kept_on_request(
    tmp_path: Path, db: str, store_of: Any
) -> None:
    log = write_log(tmp_path / "access.log", "caddy")
    result = run_import(str(log), "--db", db, "--format", "caddy", "--keep-requests")
    assert result.exit_code == 0, result.output
    events = rows(store_of(db))
    assert len(events) == len(REQUESTS)
    bots = [e for e in events if e["is_bot"]]
    # The crawlers' page views and the uptime checker's HEAD, flagged like live traffic.
    assert len(bots) == BOTS + 1 and {b["device"] for b in bots} == {"bot"}
    assert sum(1 for b in bots if b["name"] == "pageview") == BOTS
    assert sum(1 for e in events if e["name"] == "pageview" and not e["is_bot"]) == HUMAN_PAGEVIEWS
    requests = {(e["method"], e["path"], e["status"]) for e in events if e["name"] == "request"}
    assert requests == {
        ("GET", "/static/app.css", 200),
        ("GET", "/static/app.js", 200),
        ("GET", "/favicon.ico", 200),
        ("POST", "/signup", 302),
        ("GET", "/old-page", 404),
        ("GET", "/feed.xml", 200),
        ("HEAD", "/", 200),
    }
    assert "stored 11 page views and 7 requests" in result.stdout  # bots' page views included


def test_a_page_is_told_by_its_content_type_where_the_log_has_one(
    tmp_path: Path, db: str, store_of: Any
) -> None:
    at = REQUESTS[0].at
    hits = [
        Hit(at, ALICE, "GET", "/api/items", 200, 50, "", FIREFOX, "application/json"),
        Hit(at, ALICE, "GET", "/report", 200, 50, "", FIREFOX, "application/xhtml+xml"),
        Hit(at, ALICE, "GET", "/download", 200, 50, "", FIREFOX, "application/pdf"),
    ]
    log = write_log(tmp_path / "access.log", "caddy", hits)
    result = run_import(str(log), "--db", db, "--format", "caddy")
    assert result.exit_code == 0, result.output
    assert [e["path"] for e in rows(store_of(db))] == ["/report"]
    # Without a content type, the extension decides and the JSON API counts as a page.
    log = write_log(tmp_path / "plain.log", "combined", hits)
    assert run_import(str(log), "--db", db, "--site", SITE).exit_code == 0
    assert sorted(e["path"] for e in rows(store_of(db))) == [
        "/api/items",
        "/download",
        "/report",
        "/report",
    ]


def test_common_logs_have_no_user_agent_so_bots_count(
    tmp_path: Path, db: str, store_of: Any
) -> None:
    log = write_log(tmp_path / "access.log", "common")
    result = run_import(str(log), "--db", db, "--format", "common", "--site", SITE)
    assert result.exit_code == 0, result.output
    events = rows(store_of(db))
    assert len(events) == HUMAN_PAGEVIEWS + BOTS
    assert all(e["browser"] == "" for e in events)
    # Visitors are told apart by IP alone.
    assert len({e["visitor_id"] for e in events}) == VISITORS + 2  # Googlebot's and curl's IPs
    assert CURL not in log.read_text()


def test_a_gzip_file_cut_short_is_read_up_to_the_cut(
    tmp_path: Path, db: str, store_of: Any
) -> None:
    hits = REQUESTS * 400  # enough lines that half the file holds whole lines
    whole = write_log(tmp_path / "whole.log.gz", "combined", hits).read_bytes()
    cut = tmp_path / "access.log.2.gz"
    cut.write_bytes(whole[: len(whole) // 2])  # still being compressed, or copied half-way
    result = run_import(str(cut), "--db", db, "--site", SITE)
    assert result.exit_code == 0, result.output
    assert f"{cut}: cut short (" in result.stderr
    stored = len(rows(store_of(db)))
    assert 0 < stored < HUMAN_PAGEVIEWS * 400
