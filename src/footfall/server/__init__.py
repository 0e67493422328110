"""The server behind `footfall serve`: the app (`app`), its OpenAPI document and per-process state."""
