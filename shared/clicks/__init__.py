"""Clicks: privacy-first click events and their counts.

`events` (what a click is reduced to), `producer` (how the regional redirect hands one off, on
the hot path), `records` (decoding stream records of both sources), `counter` (the consumer's
exactly-once counting, the write side) and `stats` (`GET /urls/{code}/stats`, the read side).
"""
