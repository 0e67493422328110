from __future__ import annotations

import csv
import io

import pytest

from footfall.dashboard.export import neutralise, to_csv


@pytest.mark.parametrize("bad", ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_neutralised(bad: str) -> None:
    assert neutralise(bad) == "'" + bad


@pytest.mark.parametrize("fine", ["/pricing", "Google", "", "a=b", 5, -3, 1.5, None])
def test_other_cells_are_kept(fine: object) -> None:
    assert neutralise(fine) == fine


def _read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_breakdown_csv() -> None:
    body = {
        "results": [{"page": '=HYPERLINK("http://x")', "visitors": 3}, {"page": "/", "visitors": 2}]
    }
    rows = _read(to_csv("breakdown", body))
    assert rows[0] == ["page", "visitors"]
    assert rows[1] == ['\'=HYPERLINK("http://x")', "3"]
    assert rows[2] == ["/", "2"]


def test_aggregate_csv() -> None:
    body = {"results": {"visitors": {"value": 3, "change": -10}, "pageviews": {"value": 7}}}
    assert _read(to_csv("aggregate", body)) == [
        ["metric", "value", "change"],
        ["visitors", "3", "-10"],
        ["pageviews", "7", ""],
    ]


def test_revenue_cells_are_amounts_with_a_currency_column() -> None:
    money = {"value": 68.5, "currency": "EUR"}
    body = {
        "results": [
            {"goal": "Purchase", "visitors": 1, "total_revenue": money},
            {"goal": "Signup", "visitors": 2, "total_revenue": None},
        ]
    }
    assert _read(to_csv("breakdown", body)) == [
        ["goal", "visitors", "total_revenue", "currency"],
        ["Purchase", "1", "68.5", "EUR"],
        ["Signup", "2", "", ""],
    ]
    totals = {"results": {"visitors": {"value": 1}, "average_revenue": {"value": money}}}
    assert _read(to_csv("aggregate", totals)) == [
        ["metric", "value", "change", "currency"],
        ["visitors", "1", "", ""],
        ["average_revenue", "68.5", "", "EUR"],
    ]


def test_funnel_and_nested_values() -> None:
    body = {"results": {"steps": [{"step": "event:page==/", "visitors": 5, "extra": {"a": 1}}]}}
    rows = _read(to_csv("funnel", body))
    assert rows == [["step", "visitors", "extra"], ["event:page==/", "5", '{"a":1}']]
