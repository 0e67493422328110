"""URLs of the Django example."""

from __future__ import annotations

from django.urls import path

from demo_site import views

urlpatterns = [
    path("", views.index),
    path("api/ping", views.ping),
    path("account", views.account),
    path("stream", views.stream),
    path("boom", views.boom),
    path("healthz", views.healthz),
]
