"""A ready Celery app that runs footfall's store task, for a dedicated worker:

    FOOTFALL_CELERY_BROKER=amqp://guest:guest@127.0.0.1:5672// \\
    FOOTFALL_DB=postgresql://... \\
    celery -A footfall.delivery.celery_app worker -Q footfall

Configured from the environment only, because Celery imports it by name.
Apps that already have a Celery app call `register_tasks(app, db_url)` instead.
"""

from __future__ import annotations

import os

from celery import Celery

from footfall.delivery.celery_sink import register_tasks

__all__ = ["app"]

app = Celery(
    "footfall",
    broker=os.environ.get("FOOTFALL_CELERY_BROKER", "amqp://guest:guest@127.0.0.1:5672//"),
)
app.conf.update(
    task_default_queue=os.environ.get("FOOTFALL_CELERY_QUEUE", "footfall"),
    worker_prefetch_multiplier=4,  # batches are big; do not hoard them on one worker
    broker_connection_retry_on_startup=True,
)
register_tasks(app, os.environ.get("FOOTFALL_DB"))
