"""The Django app: add `"footfall.integrations.django"` to INSTALLED_APPS.

`ready()` builds the tracker from `settings.FOOTFALL` once per process (the
store is opened and migrated here, at start-up, never on a request) and
registers it as the global default tracker, so `footfall.emit(...)` in views
writes where the middleware writes. The worker thread starts on the first
event (so it is right after a pre-fork server forks) and is flushed by
footfall's exit hooks (`atexit` and SIGTERM) when the process stops.
"""

from __future__ import annotations

from django.apps import AppConfig

from footfall.integrations.django import configured_tracker

__all__ = ["FootfallConfig"]


class FootfallConfig(AppConfig):  # type: ignore[misc]  # django ships no type hints
    """Starts footfall delivery for a Django project."""

    name = "footfall.integrations.django"
    label = "footfall"
    verbose_name = "Footfall"

    def ready(self) -> None:
        configured_tracker()
