"""A block of log lines -> enriched events: the part of an import that can run anywhere.

The default processor chain splits in two at the visits step. Everything
before it (user agent, bots, geo, referrer, UTM, language, visitor id with
the day's derived salt) works on each event alone, so it runs wherever the
block is read: in the importing process, or in worker processes side by side
(`pool.py`). The visits step and what follows it (visit plugins, privacy)
need every event in time order and run in the importing process
(`log.py`), which is also the only one to see identical lines across blocks.

A `ReadSpec` is everything a worker needs to read blocks exactly as the
importing process would: the format, the rules, the import secret.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import msgspec

from footfall.event import Event
from footfall.importers.ids import ImportIds
from footfall.importers.logevents import SKIP_BOT, LineRules
from footfall.importers.logformat import log_format
from footfall.importers.logline import BadLine
from footfall.processors import Processor, run_chain
from footfall.processors.bots import BotProcessor
from footfall.processors.defaults import default_processors
from footfall.processors.privacy import IpMode
from footfall.processors.state import MemoryState
from footfall.processors.visits import VisitsProcessor

__all__ = ["BAD_SAMPLES", "BlockReader", "BlockResult", "ReadSpec", "import_chain"]

BAD_SAMPLES = 5  # bad lines kept per block (the report keeps the first few overall)

_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(list[Event]).decode


@dataclass(frozen=True)
class ReadSpec:
    """How to read a log's lines: picklable, so worker processes read them the same way."""

    secret: bytes
    format_name: str = "combined"
    log_format: str | None = None
    site: str = ""
    keep_requests: bool = False
    default_scheme: str = "https"
    ip: IpMode = "drop"
    geoip_db: str | None = None


@dataclass
class BlockResult:
    """What one block held: counts, the first bad lines, and its events so far enriched."""

    lines: int = 0
    blank: int = 0
    bad: int = 0
    bad_samples: list[tuple[int, str, str]] = field(default_factory=list)  # (index, reason, line)
    skipped: Counter[str] = field(default_factory=Counter)
    events: list[Event] = field(default_factory=list)
    packed: bytes = b""  # the events as MessagePack, when they crossed a process boundary

    def pack(self) -> BlockResult:
        """Encode the events for the trip back from a worker (pickling them is 50x slower)."""
        self.packed, self.events = _encode(self.events), []
        return self

    def unpacked(self) -> list[Event]:
        return _decode(self.packed) if self.packed else self.events


class _SkipBots:
    """A chain step after the bot processor: drops bots (counted by their absence)."""

    def __call__(self, event: Event) -> Event | None:
        return None if event.is_bot else event

    def process_batch(self, events: list[Event]) -> list[Event]:
        return [e for e in events if not e.is_bot]

    def __repr__(self) -> str:
        return "SkipBots()"


def import_chain(spec: ReadSpec, ids: ImportIds) -> tuple[list[Processor], list[Processor]]:
    """The default chain for imported events, split before the visits step.

    Daily salts and visit ids derived from the secret, visit state in this
    process's memory; without `keep_requests`, bots are dropped right after
    they are recognised.
    """
    chain = default_processors(
        None,
        geoip_db=spec.geoip_db,
        ip=spec.ip,
        state=MemoryState(),
        salts=ids.day_salt,
        visit_ids=ids.visit_id,
    )
    if not spec.keep_requests:
        at = next(i for i, p in enumerate(chain) if isinstance(p, BotProcessor))
        chain.insert(at + 1, _SkipBots())
    split = next(i for i, p in enumerate(chain) if isinstance(p, VisitsProcessor))
    return chain[:split], chain[split:]


class BlockReader:
    """Reads blocks of lines into enriched events (all but visits and privacy)."""

    def __init__(self, spec: ReadSpec) -> None:
        self.spec = spec
        self.format = log_format(spec.format_name, spec.log_format)
        self.ids = ImportIds(spec.secret)
        self.rules = LineRules(
            self.ids,
            site=spec.site,
            keep_requests=spec.keep_requests,
            default_scheme=spec.default_scheme,
        )
        self.prefix, self.suffix = import_chain(spec, self.ids)

    def read_block(self, block: bytes) -> BlockResult:
        """A block of whole lines as read from the file (UTF-8, invalid bytes replaced)."""
        text = block.decode("utf-8", "replace")
        lines = text.split("\n")
        if lines and not lines[-1]:
            lines.pop()
        if "\r" in text:
            lines = [line.rstrip("\r") for line in lines]
        return self.read_lines(lines)

    def read_lines(self, lines: list[str]) -> BlockResult:
        """Lines without their line ends -> counts and events."""
        result = BlockResult(lines=len(lines))
        skipped = result.skipped
        read, judge, build = self.format.read, self.rules.judge, self.rules.build
        events: list[Event] = []
        keep = events.append
        for index, line in enumerate(lines):
            if not line or line.isspace():
                result.blank += 1
                continue
            if "\x00" in line:
                line = line.replace("\x00", "")  # PostgreSQL refuses NUL in text
            try:
                req = read(line, judge)
            except BadLine as exc:
                result.bad += 1
                if len(result.bad_samples) < BAD_SAMPLES:
                    result.bad_samples.append((index, exc.reason, line[:300]))
                continue
            if isinstance(req, str):
                skipped[req] += 1
            else:
                keep(build(line, req))
        if events:
            enriched = run_chain(self.prefix, events)
            if len(enriched) < len(events):
                skipped[SKIP_BOT] += len(events) - len(enriched)
            events = enriched
        result.events = events
        return result
