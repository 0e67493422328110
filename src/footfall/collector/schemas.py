"""JSON Schema registry for self-describing events (Iglu-style URIs).

A self-describing event names its schema as
`iglu:vendor/name/jsonschema/M-R-A`; the schema is read from
`DIR/vendor/name/jsonschema/M-R-A` (a `.json` suffix is accepted too), the
layout of a static Iglu repository. Schemas are compiled once with
fastjsonschema and cached; a schema that was missing is looked for again
after `MISSING_RETRY_SECONDS`, so adding a file needs no restart.

Schema names come from the network, so every cache here is a bounded LRU
(`MAX_VALIDATORS` compiled schemas, `MAX_MISSING` names not found or
broken): a sender inventing names evicts other invented names, never grows
the process. Without a schema folder nothing is looked up and nothing is kept.

Unknown schemas pass unless the registry is strict: then they fail like an
invalid event (and land in failed events, to be retried once the schema is
added).
"""

from __future__ import annotations

import os
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

import fastjsonschema
import orjson

__all__ = ["IGLU_URI", "SchemaRegistry", "parse_iglu"]

IGLU_URI = re.compile(
    r"^iglu:([a-zA-Z0-9_.-]+)/([a-zA-Z0-9_.-]+)/(jsonschema)/([0-9]+-[0-9]+-[0-9]+)$"
)
MISSING_RETRY_SECONDS = 10.0
MAX_SCHEMA_BYTES = 1_000_000
MAX_VALIDATORS = 1_000  # compiled schemas kept (a folder rarely holds more in use)
MAX_MISSING = 1_000  # names remembered as missing or broken, to skip the disk

V = TypeVar("V")


class _Lru(Generic[V]):
    """A dict that forgets its least recently used entry beyond `cap` entries.

    Used from the event loop and the failed-events retry alike; each method
    is a few dict operations, so no lock (a lost race costs one more lookup).
    """

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._data: OrderedDict[str, V] = OrderedDict()

    def get(self, key: str) -> V | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: str, value: V) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.cap:
            self._data.popitem(last=False)

    def pop(self, key: str) -> None:
        self._data.pop(key, None)

    def __len__(self) -> int:
        return len(self._data)


def parse_iglu(uri: str) -> tuple[str, str, str, str] | None:
    """`(vendor, name, format, version)` of an Iglu URI, or None if it is not one."""
    m = IGLU_URI.match(uri)
    if m is None or ".." in uri:
        return None
    return m.group(1), m.group(2), m.group(3), m.group(4)


class SchemaRegistry:
    """Compiled validators for the schemas found under `root`."""

    def __init__(
        self,
        root: str | Path | None,
        *,
        strict: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.root = Path(root).resolve() if root else None
        self.strict = strict
        self.clock = clock
        self._validators: _Lru[Callable[[Any], Any]] = _Lru(MAX_VALIDATORS)
        self._missing: _Lru[float] = _Lru(MAX_MISSING)  # name -> when it was missing
        self._broken: _Lru[str] = _Lru(MAX_MISSING)  # name -> why it could not load

    def _path(self, parts: tuple[str, str, str, str]) -> Path | None:
        if self.root is None:
            return None
        # os.path, not pathlib: pathlib interns every part of a path it parses,
        # and these parts are names a sender made up.
        root = str(self.root)
        base = os.path.join(root, *parts)
        for candidate in (base, base + ".json"):
            resolved = os.path.realpath(candidate)
            if resolved.startswith(root + os.sep) and os.path.isfile(resolved):
                return Path(resolved)
        return None

    def _load(self, uri: str, parts: tuple[str, str, str, str]) -> Callable[[Any], Any] | None:
        if self.root is None:
            return None  # no folder: every schema is unknown, and nothing is remembered
        found = self._validators.get(uri)
        if found is not None:
            return found
        missing_since = self._missing.get(uri)
        if missing_since is not None and self.clock() - missing_since < MISSING_RETRY_SECONDS:
            return None
        path = self._path(parts)
        if path is None:
            self._missing.put(uri, self.clock())
            return None
        try:
            if path.stat().st_size > MAX_SCHEMA_BYTES:
                raise ValueError("schema file too large")
            schema = orjson.loads(path.read_bytes())
            validator: Callable[[Any], Any] = fastjsonschema.compile(schema)
        except (OSError, ValueError, fastjsonschema.JsonSchemaDefinitionException) as exc:
            self._broken.put(uri, f"schema {uri} could not be loaded: {exc}")
            self._missing.put(uri, self.clock())
            return None
        self._missing.pop(uri)
        self._broken.pop(uri)
        self._validators.put(uri, validator)
        return validator

    def known(self, uri: str) -> bool:
        parts = parse_iglu(uri)
        return parts is not None and self._load(uri, parts) is not None

    def validate(self, uri: str, data: Any) -> str | None:
        """None if `data` is valid for `uri`, else the reason it is not."""
        parts = parse_iglu(uri)
        if parts is None:
            return f"schema {uri[:200]!r} is not an iglu:vendor/name/jsonschema/M-R-A URI"
        validator = self._load(uri, parts)
        if validator is None:
            broken = self._broken.get(uri)
            if broken is not None:
                return broken
            return f"schema {uri[:200]} is unknown" if self.strict else None
        try:
            validator(data)
        except fastjsonschema.JsonSchemaValueException as exc:
            return f"does not match {uri}: {exc.message}"
        except Exception as exc:
            # Generated validator code can trip over odd data (or an odd schema
            # keyword); that is the event's failure, never the request's.
            return f"could not be validated against {uri}: {type(exc).__name__}: {exc}"
        return None
