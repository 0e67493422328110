"""The dashboard's "Export all": every CSV of a dashboard page in one zip, streamed.

The zip holds what each CSV link of the page gives for the same view
(period, date, filters, comparison): the totals, the time series, and one
file per tab of every panel the page shows. Its list of parts is derived
from the page's list of panels, so a panel added to the dashboard is in the
zip without a change here. Each part is asked of the stats API through the
app, as the viewer (`export.call_api`), and written with `export.to_csv`,
so a file of the zip is byte for byte the panel's own CSV download.

The zip is written to the response as each part is ready (a zip's entries
carry their sizes after their data, so no part waits for the others); a
part the API refuses is listed in `errors.txt` instead, since the response
has started by then.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from starlette.requests import Request

from footfall.dashboard.export import call_api, to_csv
from footfall.dashboard.panels import Panel
from footfall.dashboard.view import View

__all__ = ["TOTALS_METRICS", "Part", "parts", "stream_zip", "zip_name"]

# The totals row of the page (dashboard.js's VISIT), compared with the period before.
TOTALS_METRICS = "visitors,visits,pageviews,bounce_rate,visit_duration"
BREAKDOWN_LIMIT = "1000"  # rows per breakdown, as the per-panel CSV


@dataclass(frozen=True)
class Part:
    """One CSV of the zip: its file name and the stats API call behind it."""

    name: str
    endpoint: str
    params: tuple[tuple[str, str], ...]


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in ".-_" else "_" for c in text)[:80] or "_"


def _view_params(view: View) -> list[tuple[str, str]]:
    """The view's period, date, filters and imported data (comparison is per part),
    as the page's own API calls send them (static/common.js `baseParams`)."""
    kept = [(k, v) for k, v in view.params() if k in ("period", "date", "filters")]
    return [*kept, ("with_imported", "true" if view.imported else "false")]


def parts(panels: Sequence[Panel], view: View, interval: str) -> list[Part]:
    """The zip's CSVs for `view`: totals, time series, one per tab of each panel."""
    base = _view_params(view)
    out = [
        Part(
            "totals.csv",
            "aggregate",
            (*base, ("metrics", TOTALS_METRICS), ("compare", "previous_period")),
        ),
        Part(
            "timeseries.csv",
            "timeseries",
            (*base, ("metrics", TOTALS_METRICS), ("interval", interval)),
        ),
    ]
    seen = {p.name for p in out}
    for panel in panels:
        for tab in panel.tabs:
            name = f"{_safe(panel.id)}/{_safe(tab.key)}.csv"
            if name in seen:
                name = f"{_safe(panel.id)}/{_safe(tab.label)}.csv"
            seen.add(name)
            params = (
                *base,
                ("property", tab.prop),
                ("metrics", tab.metrics),
                ("limit", BREAKDOWN_LIMIT),
            )
            out.append(Part(name, "breakdown", params))
    return out


def zip_name(site: str, view: View) -> str:
    """The download's file name: site, period and date."""
    return _safe("-".join(p for p in (site, view.period, view.date.replace(",", "_")) if p))


class _Pipe(io.RawIOBase):
    """A write-only, unseekable file that hands over what was written (zipfile
    then writes data descriptors and never seeks back)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        chunk = bytes(data)  # type: ignore[call-overload]  # a bytes-like object
        self.parts.append(chunk)
        return len(chunk)

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


async def stream_zip(request: Request, site: str, wanted: Sequence[Part]) -> AsyncIterator[bytes]:
    """The zip of `wanted`, a part at a time, asked of the API as the viewer."""
    pipe = _Pipe()
    errors: list[str] = []
    with zipfile.ZipFile(pipe, "w", zipfile.ZIP_DEFLATED) as archive:
        for part in wanted:
            status, body = await call_api(request, part.endpoint, [("site_id", site), *part.params])
            if status != 200:
                reason = body.get("error") if isinstance(body, dict) else None
                errors.append(f"{part.name}: stats API answered {status}: {reason or ''}")
                continue
            archive.writestr(part.name, to_csv(part.endpoint, body))
            yield pipe.take()
        if errors:
            archive.writestr("errors.txt", "\n".join(errors) + "\n")
    yield pipe.take()
