from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from footfall.dashboard.view import View, interval_for, parse_view


def test_defaults_and_unknown_period() -> None:
    assert parse_view({}).period == "30d"
    view = parse_view({"period": "<script>"})
    assert view.period == "30d"
    assert view.errors and "unknown period" in view.errors[0]


def test_custom_range_from_the_form_fields() -> None:
    view = parse_view({"period": "custom", "from": "2026-10-01", "to": "2026-10-31"})
    assert (view.period, view.date) == ("custom", "2026-10-01,2026-10-31")
    assert view.custom_range == ("2026-10-01", "2026-10-31")
    assert view.period_label == "2026-10-01 to 2026-10-31"
    assert interval_for(view) == "date"


def test_impossible_custom_range_falls_back() -> None:
    for date in ("2026-02-30,2026-03-01", "2026-10-05,2026-10-01", "x", "2026-10-01"):
        view = parse_view({"period": "custom", "date": date})
        assert view.period == "30d" and view.errors, date


def test_intervals() -> None:
    assert interval_for(parse_view({"period": "day"})) == "hour"
    assert interval_for(parse_view({"period": "12mo"})) == "month"
    assert interval_for(parse_view({"period": "7d"})) == "date"
    one_day = parse_view({"period": "custom", "date": "2026-10-01,2026-10-01"})
    assert interval_for(one_day) == "hour"
    long = parse_view({"period": "custom", "date": "2025-01-01,2026-01-01"})
    assert interval_for(long) == "month"


def test_filters_round_trip_and_chips_remove_one() -> None:
    raw = "event:page==/pricing;visit:country==DE;bogus;visit:source!=Google"
    view = parse_view({"period": "7d", "filters": raw, "compare": "previous_period"})
    assert view.filters == ("event:page==/pricing", "visit:country==DE", "visit:source!=Google")
    assert any("bogus" in e for e in view.errors)
    chips = view.chips()
    assert [c.label for c in chips] == ["Page is", "Country is", "Source is not"]
    removed = parse_qs(urlsplit(chips[0].remove_url).query)
    assert removed["filters"] == ["visit:country==DE;visit:source!=Google"]
    assert removed["period"] == ["7d"] and removed["compare"] == ["previous_period"]
    assert view.filter_value("visit:country") == "DE"
    assert view.filter_value("visit:source") is None


def test_period_links_keep_filters_and_drop_dates() -> None:
    view = View("day", "2026-10-01", ("event:page==/",), True)
    q = parse_qs(urlsplit(view.period_url("30d")).query)
    assert q == {"period": ["30d"], "filters": ["event:page==/"], "compare": ["previous_period"]}
    assert "compare" not in parse_qs(urlsplit(view.compare_url).query)


def test_props_filter_chip_label() -> None:
    view = parse_view({"filters": "event:props:plan==pro"})
    assert view.chips()[0].label == "Property plan is"
