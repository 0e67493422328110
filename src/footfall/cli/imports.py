"""`footfall import ...`: history from elsewhere; `footfall import log` for access logs.

Other sources add their sub-command to `import_group`.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from types import FrameType
from typing import Any, cast

import click

from footfall.cli.import_common import (
    files_argument,
    fold_summaries,
    geoip_option,
    ip_option,
    no_fold_option,
)
from footfall.cli.import_footfall import footfall_command
from footfall.cli.import_ftu import flask_track_usage
from footfall.cli.import_others import (
    delete_command,
    ga4_command,
    plausible_command,
    umami_command,
)
from footfall.cli.open_store import open_store
from footfall.cli.options import db_option
from footfall.importers.logformat import FORMATS
from footfall.processors.privacy import IpMode

__all__ = ["import_group", "register"]

FOLLOW_FLUSH_SECONDS = 1.0  # longest a followed line waits before it is stored


@click.group("import")
def import_group() -> None:
    """Import history: access logs (and other tools' data)."""


@import_group.command("log")
@files_argument
@db_option
@click.option(
    "--format",
    "format_name",
    type=click.Choice(FORMATS),
    default="combined",
    show_default=True,
    help="The log's format (nginx and Apache share combined and common).",
)
@click.option(
    "--log-format",
    "nginx_format",
    metavar="'LOG_FORMAT'",
    help="An nginx log_format string, e.g. '$remote_addr - $remote_user [$time_local] "
    '"$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $host\' '
    "(instead of --format).",
)
@click.option("--site", help="The site of every line (default: the line's virtual host).")
@click.option(
    "--keep-requests",
    is_flag=True,
    help="Also store what is not a human page view: assets, other methods, redirects, "
    "errors as `request` events, bots flagged (default: counted and skipped).",
)
@ip_option
@geoip_option
@click.option(
    "--follow",
    is_flag=True,
    help="Keep reading FILE as it grows, through rotation, until SIGINT or SIGTERM.",
)
@click.option(
    "--workers",
    type=click.IntRange(0, 64),
    help="Processes reading a large input besides this one (0: none). "
    "[default: one per CPU, at most 4; none on one CPU]",
)
@click.option(
    "--batch-size",
    type=click.IntRange(100, 1_000_000),
    help="Events per store write. [default: 20,000; the store's own preference when larger]",
)
@no_fold_option
@click.option("--quiet", is_flag=True, help="No progress bar.")
def log_command(
    files: tuple[str, ...],
    db_url: str,
    format_name: str,
    nginx_format: str | None,
    site: str | None,
    keep_requests: bool,
    ip: str,
    geoip_db: str | None,
    follow: bool,
    workers: int | None,
    batch_size: int | None,
    no_fold: bool,
    quiet: bool,
) -> None:
    """Import access logs (FILE..., `-` for stdin; gzip is read as is).

    Each GET answered 2xx or 304 for a page becomes a page view with the
    line's time, enriched like live traffic (browser, country, referrer
    source, UTM, visitor and visit). Importing the same lines again stores
    nothing twice, so an interrupted import is finished by running it again.
    """
    # lazy: keeps `footfall --help` fast
    from footfall.errors import ConfigurationError
    from footfall.importers.log import BATCH_SIZE, LogImporter
    from footfall.importers.logformat import log_format
    from footfall.importers.pool import default_workers, fewer_collections

    try:
        fmt = log_format(format_name, nginx_format)
    except ConfigurationError as exc:
        raise click.BadParameter(str(exc), param_hint="--log-format") from None
    if not site and not fmt.has_host:
        raise click.UsageError(
            f"--site is required: {fmt.name} lines do not say which site they are for"
        )
    missing = [f for f in files if f != "-" and not os.path.isfile(f)]
    if missing:
        raise click.BadParameter(f"no such file: {missing[0]}", param_hint="FILE")
    if follow and (len(files) != 1 or files[0] == "-"):
        raise click.UsageError("--follow takes exactly one FILE (not stdin)")
    if follow and _gzipped(files[0]):
        raise click.UsageError("--follow reads a log as it is written, not a gzip file")
    store = open_store(db_url, create=True)
    importer = LogImporter(
        store,
        format_name=format_name,
        log_format=nginx_format,
        site=site,
        keep_requests=keep_requests,
        ip=cast(IpMode, ip),  # click.Choice(IP_MODES)
        geoip_db=geoip_db,
        workers=0 if follow else (default_workers() if workers is None else workers),
        batch_size=batch_size or max(BATCH_SIZE, store.preferred_batch_size or 0),
    )
    started = time.monotonic()
    show = not quiet and sys.stderr.isatty()
    if follow:
        _follow(importer, files[0])
        state = "followed until stopped"
    else:
        with fewer_collections():
            interrupted = _import_files(importer, list(files), fmt.parse, show)
        state = "interrupted" if interrupted else ""
    elapsed = time.monotonic() - started
    _summary(importer, len(files), elapsed, fmt.name, state)
    if importer.report.new and not no_fold and not follow and state != "interrupted":
        fold_summaries(store)
    store.close()
    report = importer.report
    if report.lines and report.bad == report.lines - report.blank:
        raise click.ClickException("no line was in the log format: check --format or --log-format")
    if state == "interrupted":
        sys.exit(130)  # as a shell reports Ctrl-C, after saying what was stored


def _gzipped(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def _import_files(importer: Any, names: list[str], parse: Any, show: bool) -> bool:
    """Read every input, oldest first; True when Ctrl-C stopped it."""
    # lazy: keeps `footfall --help` fast
    from footfall.importers.sources import Input, ordered

    stdin = sys.stdin.buffer
    names = ordered(names, parse)
    progress = _Progress(importer, names, show)
    interrupted = False
    try:
        with progress:
            for name in names:
                try:
                    source = Input(name, stdin=stdin)
                except OSError as exc:
                    raise click.ClickException(f"cannot read {name}: {exc.strerror}") from None
                with source:
                    progress.start(source)
                    importer.read(source, progress.update)
                if source.error:
                    click.echo(
                        f"{source.label}: cut short ({source.error}); read up to there", err=True
                    )
    except KeyboardInterrupt:
        interrupted = True
    except BaseException:
        importer.abort()
        raise
    importer.close(interrupted=interrupted)
    return interrupted


def _follow(importer: Any, path: str) -> None:
    """Import `path` as it grows until SIGINT or SIGTERM; store everything read."""
    # lazy: keeps `footfall --help` fast
    from footfall.importers.follow import Follower

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    click.echo(f"footfall: following {path} (stop with Ctrl-C or SIGTERM)", err=True)
    flushed = time.monotonic()
    try:
        for lines in Follower(path, stop).batches():
            if lines:
                importer.feed(lines, path)
            if not lines or time.monotonic() - flushed >= FOLLOW_FLUSH_SECONDS:
                importer.flush()
                flushed = time.monotonic()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        importer.close()


class _Progress:
    """A rich progress bar on stderr when it is a terminal: bytes, lines/s, bad lines."""

    def __init__(self, importer: Any, names: list[str], show: bool) -> None:
        self.importer = importer
        self.show = show
        self.bar: Any = None
        self.task: Any = None
        self.done = 0  # bytes of the inputs finished
        self.source: Any = None
        self.started = time.monotonic()

    def __enter__(self) -> _Progress:
        if self.show:
            # lazy: rich is only needed at a terminal
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TextColumn("{task.fields[lines]} lines, {task.fields[rate]} lines/s"),
                TextColumn("{task.fields[bad]} bad"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.bar.__enter__()
        return self

    def start(self, source: Any) -> None:
        if self.source is not None and self.source.size:
            self.done += self.source.size
        self.source = source
        if self.bar is None:
            return
        if self.task is None:
            self.task = self.bar.add_task(source.label, total=None, lines="0", rate="0", bad=0)
        self.bar.update(self.task, description=source.label, total=source.size, completed=0)

    def update(self) -> None:
        if self.bar is None:
            return
        report = self.importer.report
        rate = report.lines / max(time.monotonic() - self.started, 1e-3)
        self.bar.update(
            self.task,
            completed=self.source.position(),
            lines=f"{report.lines:,}",
            rate=f"{rate:,.0f}",
            bad=report.bad,
        )

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _summary(importer: Any, inputs: int, elapsed: float, fmt: str, state: str) -> None:
    """What was read, stored and skipped, on stdout; the first bad lines."""
    # lazy: keeps `footfall --help` fast
    from footfall.importers.logevents import SKIPS

    r = importer.report
    rate = r.lines / elapsed if elapsed > 0 else 0.0
    noun = "input" if inputs == 1 else "inputs"
    note = f" ({state})" if state else ""
    click.echo(
        f"read {r.lines:,} lines from {inputs} {noun} in {elapsed:.1f} s "
        f"({rate:,.0f} lines/s){note}"
    )
    requests = r.stored - r.pageviews
    what = f"{r.pageviews:,} page views" + (f" and {requests:,} requests" if requests else "")
    click.echo(f"stored {what}: {r.new:,} new, {r.already:,} already stored")
    skipped = sum(r.skipped.values())
    if skipped:
        click.echo(f"skipped {skipped:,} lines:")
        for reason in sorted(r.skipped, key=lambda k: (-r.skipped[k], SKIPS.index(k))):
            click.echo(f"  {r.skipped[reason]:>12,}  {reason}")
    if r.blank:
        click.echo(f"blank lines: {r.blank:,}")
    if r.bad:
        click.echo(f"bad lines: {r.bad:,} (not in the {fmt} format); the first:")
        for label, number, reason, text in r.bad_samples:
            click.echo(f"  {label}:{number}: {reason}: {text[:160]}")
    if state == "interrupted":
        click.echo("interrupted: run the same command again to import the rest")


def register(group: click.Group) -> None:
    import_group.add_command(flask_track_usage)
    for command in (plausible_command, umami_command, ga4_command, delete_command):
        import_group.add_command(command)
    import_group.add_command(footfall_command)
    group.add_command(import_group)
