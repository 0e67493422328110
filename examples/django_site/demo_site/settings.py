"""Settings of the Django example: footfall's app, middleware and FOOTFALL."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "example-only-not-secret"  # an example, never deployed
DEBUG = False
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "footfall.integrations.django",
]

MIDDLEWARE = [
    "footfall.integrations.django.FootfallMiddleware",  # first: times the whole stack
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

ROOT_URLCONF = "demo_site.urls"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DJANGO_DB", str(BASE_DIR / "django.db")),  # *.db is git-ignored
    }
}

USE_TZ = True
STATIC_URL = "/assets/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

FOOTFALL = {
    "STORES": [os.environ.get("FOOTFALL_DB", "sqlite:///./footfall.db")],
    "SITE": "django.example",
    "EXCLUDE": ["/healthz"],
}
