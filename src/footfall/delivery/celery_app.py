"""A ready Celery app that runs footfall's store task, for a dedicated worker:

    FOOTFALL_CELERY_BROKER=amqp://guest:guest@127.0.0.1:5672// \\
    FOOTFALL_DB=postgresql://... \\
    celery -A footfall.delivery.celery_app worker -Q footfall

Configured from the environment only, because Celery imports it by name:
`FOOTFALL_CELERY_BROKER`, `FOOTFALL_CELERY_QUEUE` (default "footfall") and
`FOOTFALL_DB` (docs/configuration.md).
Apps that already have a Celery app call `register_tasks(app, db_url)` instead.
"""

from __future__ import annotations

from celery import Celery

from footfall import settings
from footfall.delivery.celery_sink import register_tasks

__all__ = ["app"]

app = Celery(
    "footfall",
    broker=settings.CELERY_BROKER(),
)
app.conf.update(
    task_default_queue=settings.CELERY_QUEUE(),
    worker_prefetch_multiplier=4,  # batches are big; do not hoard them on one worker
    broker_connection_retry_on_startup=True,
)
register_tasks(app)  # into $FOOTFALL_DB
