"""Exports: a store's events streamed out as JSON lines, CSV or Parquet.

Streaming keeps memory constant however many events a site has; the JSON-lines
form is what `footfall import footfall` reads back, so an export round-trips.
"""
