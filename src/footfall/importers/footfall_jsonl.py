"""A footfall JSON-lines export read back into a store (`footfall import footfall`).

An export holds events as the store kept them: enriched (browser, country,
visitor and visit ids) and with their ids. So nothing is processed again:
each line is decoded, checked against the event limits (`validate`, as the
collector checks what the network sends) and written in batches straight to
the store. Ids are kept, so importing a file twice, or into a store that
already holds some of its events, stores each event once; an interrupted
import is finished by running it again. A line that is not an event is
counted and the first few are reported, as `footfall import log` does; it
never stops the import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import msgspec

from footfall.errors import ValidationError
from footfall.event import Event, validate
from footfall.importers.sources import Input
from footfall.stores.base import Store

__all__ = ["BATCH_SIZE", "FootfallImporter", "ImportReport"]

BATCH_SIZE = 10_000  # events per store write
BAD_SAMPLES = 5  # bad lines quoted in the report


class _Exported(Event, kw_only=True, omit_defaults=True, gc=False):
    """An event as exported: its id and time must be there, never made up here."""

    id: str
    ts: datetime


_decode = msgspec.json.Decoder(_Exported).decode
_asdict = msgspec.structs.asdict


@dataclass
class ImportReport:
    lines: int = 0
    blank: int = 0
    bad: int = 0
    new: int = 0  # stored by this import
    already: int = 0  # in the store before
    bad_samples: list[tuple[str, int, str, str]] = field(default_factory=list)

    @property
    def stored(self) -> int:
        return self.new + self.already


def parse_line(line: str | bytes) -> Event:
    """One exported line -> its Event; ValueError (naming what is wrong) otherwise."""
    try:
        exported = _decode(line)
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError too
        raise ValueError(str(exc)) from None
    event = Event(**_asdict(exported))
    try:
        return validate(event)
    except ValidationError as exc:
        raise ValueError(str(exc)) from None


class FootfallImporter:
    """Reads exported JSON lines into `store`, `batch_size` events per write."""

    def __init__(self, store: Store, *, batch_size: int | None = None) -> None:
        self.store = store
        self.batch_size = batch_size or max(BATCH_SIZE, store.preferred_batch_size or 0)
        self.report = ImportReport()
        self._batch: list[Event] = []

    def read(self, source: Input, progress: Callable[[], None] | None = None) -> None:
        """Import every line of `source` (a file, gzip'd or not, or stdin)."""
        report = self.report
        number = 0
        # Blocks of whole lines: a gzip file cut short still gives every line before
        # the cut (`source.error` says why it stopped).
        for block in source.blocks():
            lines = block.split(b"\n")
            if not lines[-1]:
                lines.pop()  # the block's last line end
            for line in lines:
                number += 1
                report.lines += 1
                if not line.strip():
                    report.blank += 1
                    continue
                try:
                    event = parse_line(line)
                except ValueError as exc:
                    report.bad += 1
                    if len(report.bad_samples) < BAD_SAMPLES:
                        text = line.decode("utf-8", "replace").rstrip("\r")
                        report.bad_samples.append((source.label, number, str(exc), text))
                    continue
                self._batch.append(event)
                if len(self._batch) >= self.batch_size:
                    self.flush()
                    if progress is not None:
                        progress()
        self.flush()

    def flush(self) -> None:
        """Write the events read so far."""
        batch, self._batch = self._batch, []
        if not batch:
            return
        new = self.store.write(batch)
        self.report.new += new
        self.report.already += len(batch) - new
