"""Thin collectors: read a device, turn what it says into (ts, metric, value) readings, write them."""
