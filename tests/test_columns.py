"""The one list of columns and dimensions is consistent with the `Event` it describes."""

from __future__ import annotations

import msgspec

from footfall.columns import (
    EVENT_COLUMNS,
    EVENT_PROPERTIES,
    JSON_COLUMNS,
    PAGE_VISIT_PROPERTIES,
    SQL_TYPES,
    TEXT,
    VISIT_PROPERTIES,
)
from footfall.event import Event
from footfall.stats.properties import EVENT_PROPS, VISIT_PROPS
from footfall.stats.summaries import clickhouse_sql, dimensions


def test_text_fields_are_text_columns_and_the_others_have_their_own_type() -> None:
    for field in msgspec.structs.fields(Event):
        assert (SQL_TYPES[field.name] == TEXT) == (field.type is str), field.name
    assert JSON_COLUMNS == ("props", "context")


def test_every_property_reads_an_events_column_and_names_are_unique() -> None:
    assert {p.column for p in EVENT_PROPERTIES} <= set(EVENT_COLUMNS)
    assert {p.source for p in VISIT_PROPERTIES} <= set(EVENT_COLUMNS)
    visit_names = [*PAGE_VISIT_PROPERTIES, *(p.name for p in VISIT_PROPERTIES)]
    assert len(set(visit_names)) == len(visit_names)
    assert len({p.name for p in EVENT_PROPERTIES}) == len(EVENT_PROPERTIES)


def test_the_engine_and_both_kinds_of_summaries_use_the_same_dimensions() -> None:
    assert [*EVENT_PROPS] == [f"event:{p.name}" for p in EVENT_PROPERTIES]
    assert [*VISIT_PROPS] == [f"visit:{n}" for n in PAGE_VISIT_PROPERTIES] + [
        f"visit:{p.name}" for p in VISIT_PROPERTIES
    ]
    kept = [*PAGE_VISIT_PROPERTIES, *(p.name for p in VISIT_PROPERTIES if p.summarised)]
    assert list(dimensions.VISIT_DIMS) == kept == list(clickhouse_sql.VISIT_DIMS)
    assert "visit:user_id" not in [f"visit:{d}" for d in kept]  # it names a person
    # The fold reads each summarised visit property from the column it comes from.
    first = dimensions.ROW_COLS[dimensions.FIRST_VISIT_COL :]
    assert list(first) == [p.source for p in VISIT_PROPERTIES if p.summarised]
