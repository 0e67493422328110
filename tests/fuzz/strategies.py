"""Hypothesis strategies that speak footfall's input languages.

Random text rarely gets past the first check of a parser (an unknown
property, a missing Snowplow `e`), so the fuzz suite mixes these in: filter
strings built from the real grammar, Snowplow parameter maps with the
required fields, event objects with the documented fields. Each still draws
hostile values (wildcards, escapes, separators, unicode, huge numbers)
where the grammar lets a value be anything.
"""

from __future__ import annotations

import base64
import json
import os
import time
from datetime import date, timedelta
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st

from footfall.collector.snowplow_protocol import PLATFORMS
from footfall.stats.model import INTERVALS, METRICS, PERIODS
from footfall.stats.properties import EVENT_PROPS, VISIT_PROPS

# CI draws the same cases every run; setting FOOTFALL_FUZZ_SEED explores others
# (the HTTP suite seeds with it; the properties then take pytest's --hypothesis-seed).
EXPLORE = os.environ.get("FOOTFALL_FUZZ_SEED") is not None


def fuzz_settings(examples: int, **options: Any) -> settings:
    """Hypothesis settings for this suite: no example database, no deadline."""
    return settings(
        max_examples=examples, deadline=None, database=None, derandomize=not EXPLORE, **options
    )


PROPERTY_NAMES = sorted({*EVENT_PROPS, *VISIT_PROPS})
OPERATORS = ("==", "!=", "~", "!~")
SNOWPLOW_EVENTS = ("pv", "se", "ue", "pp", "tr", "ti")
# The long one is there for wildcard filters to chew on (`/**a**a**a**b`).
PAGES = ("/", "/pricing", "/blog", "/blog/hello-world", "/docs/install", "/signup", "/" + "a" * 200)

# Characters that mean something to one of the parsers.
_SPECIAL = "*/|\\;=!~:,. %\x00\t\n'\"<>"
_AWKWARD = st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(_SPECIAL), max_size=40)


def _mostly(valid: st.SearchStrategy[Any], edge: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`valid` about four times in five: one bad parameter already ends a request.

    (`st.one_of` would not weigh a repeated branch: it draws `edge` as often.)
    """
    return st.sampled_from(range(5)).flatmap(lambda i: edge if i == 4 else valid)


def property_names() -> st.SearchStrategy[str]:
    custom = st.from_regex(r"\Aevent:props:[A-Za-z0-9_.\-]{1,20}\Z")
    return st.sampled_from(PROPERTY_NAMES) | custom | st.just("event:props:route")


def filter_values() -> st.SearchStrategy[str]:
    """A filter value: a real page or label, a wildcard pattern, or awkward text."""
    wildcard = st.lists(
        st.sampled_from(["/", "*", "**", "blog", "a", "b", "docs", ".", "-"]),
        min_size=1,
        max_size=12,
    ).map("".join)
    real = st.sampled_from([*PAGES, "Direct / None", "(none)", "DE", "Chrome", "200", "Google"])
    number = st.integers(0, 10**30).map(str)
    return real | wildcard | number | _AWKWARD


def filter_strings() -> st.SearchStrategy[str]:
    """`prop==a|b;prop2~c`: joined conditions, mostly grammatical."""
    condition = st.tuples(
        _mostly(property_names(), st.just("event:goal") | _AWKWARD),
        st.sampled_from(OPERATORS),
        st.lists(filter_values(), min_size=1, max_size=4).map("|".join),
    ).map("".join)
    return st.lists(condition, min_size=1, max_size=5).map(";".join)


def funnel_steps() -> st.SearchStrategy[list[str]]:
    good = st.tuples(
        st.sampled_from(["event:page==", "event:name=="]),
        st.sampled_from([*PAGES, "pageview", "signup", "/blog/**", "/*"]),
    ).map("".join)
    step = _mostly(
        good,
        st.tuples(
            st.sampled_from(["event:page", "event:name"]) | _AWKWARD,
            st.sampled_from(["==", "=", "~"]),
            filter_values(),
        ).map("".join),
    )
    return _mostly(st.lists(step, min_size=2, max_size=5), st.lists(step, max_size=9))


_DAY = st.integers(-40, 5).map(lambda n: (date.today() + timedelta(days=n)).isoformat())
_RANGE = st.tuples(_DAY, _DAY).map(sorted).map(",".join)
_BAD_DATES = _RANGE.map(lambda d: ",".join(reversed(d.split(",")))) | st.sampled_from(
    ["1999-12-31", "2101-01-01", "2026-02-30", "", "2026-01-01,"]
)


def _dates() -> st.SearchStrategy[str]:
    return _mostly(_DAY | _RANGE, _BAD_DATES)


@st.composite
def _period_and_date(draw: st.DrawFn) -> dict[str, str]:
    """`period` with a `date` that fits it (a range for custom), mostly."""
    period = draw(st.sampled_from(PERIODS))
    if period == "custom":
        return {"period": period, "date": draw(_mostly(_RANGE, _BAD_DATES))}
    found = {"period": period}
    if draw(st.booleans()):
        found["date"] = draw(_mostly(_DAY, _BAD_DATES))
    return found


def stats_parameters() -> dict[str, st.SearchStrategy[Any]]:
    """Grammatical values for the stats API's query parameters."""
    metrics = [m for m in METRICS if m != "conversion_rate"]  # needs a goal filter
    good_metrics = st.lists(st.sampled_from(metrics), min_size=1, max_size=4, unique=True)
    bad_metrics = st.lists(st.sampled_from([*METRICS, "visitor", ""]), min_size=1, max_size=5)
    return {
        "period": st.sampled_from(PERIODS),
        "date": _dates(),
        "metrics": _mostly(good_metrics, bad_metrics).map(",".join),
        "filters": filter_strings(),
        "property": property_names(),
        "interval": _mostly(st.sampled_from(INTERVALS[1:]), st.sampled_from(["hour", "minute"])),
        "limit": _mostly(st.integers(1, 1000), st.integers(-2, 10**20)).map(str),
        "page": _mostly(st.integers(1, 5), st.integers(-2, 10**20)).map(str),
        "compare": st.just("previous_period"),
        "step": funnel_steps(),
    }


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _b64(value: Any) -> str:
    return base64.urlsafe_b64encode(_json_text(value).encode()).decode().rstrip("=")


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | _AWKWARD,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_AWKWARD, inner, max_size=3),
    max_leaves=8,
)


def _self_describing(data: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    uri = st.sampled_from(
        [
            "iglu:com.acme/viewed_product/jsonschema/1-0-0",
            "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
            "iglu:bad",
        ]
    )
    return st.fixed_dictionaries({"schema": uri, "data": data})


def snowplow_parameters() -> dict[str, st.SearchStrategy[Any]]:
    """Grammatical values for Snowplow tracker parameters (as text, like a GET query)."""
    unstruct = _self_describing(_self_describing(st.dictionaries(_AWKWARD, _JSON_VALUES)))
    contexts = _self_describing(st.lists(_self_describing(_JSON_VALUES), max_size=3))
    recent = st.integers(-(7 * 86_400_000), 0).map(lambda ms: str(_now_ms() + ms))
    millis = _mostly(
        recent, st.integers(0, 10**15).map(str) | st.sampled_from(["-1", "1e3", "9" * 20, "²"])
    )
    return {
        # Gates: a bad `e` or `p` ends the event at once (random cases try those).
        "e": st.sampled_from(SNOWPLOW_EVENTS),
        "p": st.sampled_from(sorted(PLATFORMS)),
        "tv": st.sampled_from(["js-3.0.0", "py-1.0.0"]),
        "eid": st.uuids().map(str),
        "url": st.sampled_from(PAGES).map(lambda p: "https://demo.footfall.dev" + p),
        "refr": _mostly(st.just("https://www.google.com/"), st.just("javascript:alert(1)")),
        "ue_pr": unstruct.map(_json_text),
        "ue_px": unstruct.map(_b64),
        "co": contexts.map(_json_text),
        "cx": contexts.map(_b64),
        "se_ac": st.sampled_from(["play", "signup"]),
        "se_va": _mostly(st.sampled_from(["1", "2.5"]), st.sampled_from(["nan", "1e400", "x"])),
        "dtm": millis,
        "stm": millis,
        "ttm": millis,
        "duid": st.uuids().map(str),
        "sid": st.uuids().map(str),
        "uid": _AWKWARD,
        "ua": st.sampled_from(["Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0", "curl/8", ""]),
    }


def _now_ms() -> int:
    return int(time.time() * 1000)


def event_fields(trusted: bool = True) -> dict[str, st.SearchStrategy[Any]]:
    """Grammatical values for `POST /api/event` fields (`trusted`: with a token)."""
    key = _mostly(st.text(min_size=1, max_size=20), _AWKWARD)
    props = st.dictionaries(key, _JSON_VALUES, max_size=4)
    fields = {
        "name": st.sampled_from(["pageview", "signup", "shop.checkout"]),
        "url": _mostly(
            st.sampled_from(PAGES).map(lambda p: "https://demo.footfall.dev" + p),
            st.sampled_from(["ftp://x", "javascript:x", "https://" + "a" * 5000]),
        ),
        "referrer": _mostly(st.just("https://www.google.com/"), st.just("javascript:x")),
        "props": props | props.map(_json_text),
        "screen": _mostly(st.integers(0, 5000), st.integers(-5, 10**20)),
        "schema": st.sampled_from(["iglu:com.acme/viewed_product/jsonschema/1-0-0", "iglu:x"]),
    }
    if trusted:
        day = st.integers(-(30 * 86_400), 0).map(lambda s: time.time() + s)
        fields |= {
            "ts": _mostly(
                day,
                st.integers(-(10**14), 10**14)
                | st.floats(allow_nan=False, allow_infinity=False)
                | _AWKWARD,
            ),
            "user_id": _AWKWARD,
            "visitor_id": st.uuids().map(str),
            "status": _mostly(st.integers(0, 999), st.integers(-5, 10**20)),
            "duration_ms": st.floats(0, 1e9),
        }
    return fields


# Whole inputs, for when a case is redrawn from the grammar entirely.
PAYLOAD_DATA = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"
_REQUIRED_SNOWPLOW = ("e", "p", "tv")


def stats_query(names: set[str]) -> st.SearchStrategy[dict[str, Any]]:
    """A stats API query using only `names` (the site is set by the caller)."""
    params = stats_parameters()
    del params["period"], params["date"]  # drawn together below
    known = {k: v for k, v in params.items() if k in names}
    required = {k: known.pop(k) for k in ("property", "step") if k in known}
    rest = st.fixed_dictionaries(required, optional=known)
    if "period" not in names:
        return rest
    return st.tuples(_period_and_date(), rest).map(lambda pair: {**pair[0], **pair[1]})


def snowplow_event() -> st.SearchStrategy[dict[str, Any]]:
    params = snowplow_parameters()
    required = {k: params.pop(k) for k in _REQUIRED_SNOWPLOW}
    return st.fixed_dictionaries(required, optional=params)


def snowplow_body() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"schema": st.just(PAYLOAD_DATA), "data": st.lists(snowplow_event(), max_size=5)}
    )


def event_object(trusted: bool) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional=event_fields(trusted))


def event_body(trusted: bool) -> st.SearchStrategy[Any]:
    one = event_object(trusted)
    events = st.lists(one, min_size=1, max_size=5)
    return one | events | events.map(lambda e: {"events": e})


def pixel_query() -> st.SearchStrategy[dict[str, Any]]:
    fields = event_fields(trusted=False)
    return st.fixed_dictionaries(
        {},
        optional={
            "url": fields["url"],
            "ref": fields["referrer"],
            "name": fields["name"],
            "title": _AWKWARD,
            "w": st.integers(-5, 200_000).map(str),
        },
    )
