"""The server behind `footfall serve`: the app, its OpenAPI document, per-process state."""
