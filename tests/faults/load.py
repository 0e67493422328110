"""A client posting events to `footfall serve` over HTTP and keeping score of each one.

Every event carries its own id, so the score is exact: an event is
*accepted* when the server answered 202 and did not list it among the
response's per-event errors. A 503 for an event (queue full) means "not
accepted, retry": the client sends it again later with the same id, as a
real client would. A request that got no answer at all (connection reset,
timeout) may or may not have been accepted; its events are *uncertain*
and re-sent until an answer comes, so at the end accepted <= stored <=
accepted + uncertain, and normally uncertain is empty.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import deque
from typing import Any

__all__ = ["BROWSER_UA", "Loader"]

BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PER_POST = 50  # events per request (the response lists up to 100 errors: all are visible)
REQUEST_TIMEOUT = 15.0  # seconds; longer than the collector's longest admission wait


class Loader:
    """Posts batches of page views from a thread until `stop()` or `total` events are sent."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        prefix: str,
        site: str = "example.com",
        rate: float = 1_000.0,
        total: int | None = None,
        per_visitor: int = 10,
    ) -> None:
        host_port = url.removeprefix("http://")
        self.host, _, port = host_port.partition(":")
        self.port = int(port)
        self.token = token
        self.prefix = prefix
        self.site = site
        self.interval = PER_POST / rate  # seconds between requests
        self.total = total
        self.per_visitor = per_visitor
        self.accepted: set[str] = set()
        self.uncertain: set[str] = set()
        self.visitor_of: dict[str, str] = {}
        self.refused = 0  # 503 answers (events), each retried later
        self.requests = 0
        self.statuses: dict[int, int] = {}
        self.errors: list[str] = []  # unexpected answers, for the report
        self._retry: deque[dict[str, Any]] = deque()
        self._made = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="fault-loader", daemon=True)

    # -- control ------------------------------------------------------------
    def start(self) -> Loader:
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop sending; waits for the request in flight (bounded)."""
        self._stop.set()
        self._thread.join(timeout)

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def count(self) -> int:
        with self._lock:
            return len(self.accepted)

    # -- sending ------------------------------------------------------------
    def _event(self) -> dict[str, Any]:
        n = self._made
        self._made += 1
        event_id = f"{self.prefix}-{n:07d}"
        # Consecutive events share a visitor, so each visitor's page views arrive
        # together: one visit each, and a visitor seen only during a fault has
        # no visit at all unless the events of the fault were processed fully.
        visitor = f"{self.prefix}-v{n // self.per_visitor}"
        self.visitor_of[event_id] = visitor
        return {
            "id": event_id,
            "site": self.site,
            "name": "pageview",
            "url": f"https://{self.site}/page/{n % 40}",
            "visitor_id": visitor,
            "user_agent": BROWSER_UA,
            "ts": time.time(),
        }

    def _next_batch(self) -> list[dict[str, Any]]:
        batch: list[dict[str, Any]] = []
        while self._retry and len(batch) < PER_POST:
            batch.append(self._retry.popleft())
        while len(batch) < PER_POST and (self.total is None or self._made < self.total):
            batch.append(self._event())
        return batch

    def _run(self) -> None:
        conn: http.client.HTTPConnection | None = None
        next_at = time.monotonic()
        while not self._stop.is_set():
            batch = self._next_batch()
            if not batch:
                return  # `total` sent and answered
            if conn is None:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT)
            try:
                status, body = self._post(conn, batch)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = None
                with self._lock:
                    self.uncertain.update(e["id"] for e in batch)
                self._retry.extend(batch)
                self._stop.wait(0.2)
                continue
            self._score(batch, status, body)
            next_at = max(next_at + self.interval, time.monotonic() - 1.0)
            self._stop.wait(max(0.0, next_at - time.monotonic()))
        if conn is not None:
            conn.close()

    def _post(
        self, conn: http.client.HTTPConnection, batch: list[dict[str, Any]]
    ) -> tuple[int, Any]:
        payload = json.dumps({"events": batch}).encode()
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        conn.request("POST", "/api/event", body=payload, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {"raw": raw[:200].decode(errors="replace")}
        return response.status, body

    def _score(self, batch: list[dict[str, Any]], status: int, body: Any) -> None:
        self.requests += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        retry: list[int] = []  # refused for now (queue full, rate): send again later
        lost: list[int] = []  # refused for good: a bug in this client or the server
        if status == 202:
            for err in body.get("errors", []):
                (retry if _busy(err) else lost).append(int(err["index"]))
        elif status in (429, 503):
            retry = list(range(len(batch)))
        else:
            lost = list(range(len(batch)))
        if lost:
            self.errors.append(f"HTTP {status}: {str(body)[:300]}")
        out = set(retry) | set(lost)
        with self._lock:
            for i, event in enumerate(batch):
                if i not in out:  # a refused retry of an unanswered request stays uncertain
                    self.accepted.add(event["id"])
                    self.uncertain.discard(event["id"])
        self.refused += len(retry)
        self._retry.extend(batch[i] for i in retry)


def _busy(error: dict[str, Any]) -> bool:
    """A per-event refusal that asks the client to retry (the collector's queue was full)."""
    reason = str(error.get("reason", "")).lower()
    return "busy" in reason or "queue full" in reason or "retry" in reason
