"""Plausible ranges, as the catalog (energy.metric) declares them: a reading outside its metric's range is a
corrupt telegram or a misread register, not a measurement."""

from typing import NamedTuple

from ingest.spool import Reading

CATALOG = "SELECT name, kind, min_value, max_value, max_rise_per_hour FROM energy.metric WHERE source = %s"


class Limits(NamedTuple):
    """A metric's kind and range; None means no limit."""

    kind: str
    min_value: float | None
    max_value: float | None
    max_rise_per_hour: float | None


class Plausibility:
    """Judges readings in order against their metric's limits. A counter may rise at most max_rise_per_hour per
    hour since its highest accepted reading; a drop is accepted (the aggregation tells a glitch from a reset)
    and does not lower that reference, so one glitch cannot shut out the readings that follow it."""

    def __init__(self, limits: dict[str, Limits] | None = None):
        self.limits = limits or {}
        self.highest: dict[str, Reading] = {}

    def problem(self, reading: Reading) -> tuple[str, str] | None:
        """None for a plausible reading (remembered as the reference of its counter), else (reason, detail)."""
        limits = self.limits.get(reading.metric)
        if limits is None:
            return None
        if limits.min_value is not None and reading.value < limits.min_value:
            return "below the catalog's minimum", f"{describe(reading)} < {limits.min_value}"
        if limits.max_value is not None and reading.value > limits.max_value:
            return "above the catalog's maximum", f"{describe(reading)} > {limits.max_value}"
        if limits.kind != "counter":
            return None
        reference = self.highest.get(reading.metric)
        if reference is not None and reading.ts > reference.ts and limits.max_rise_per_hour is not None:
            hours = (reading.ts - reference.ts).total_seconds() / 3600
            if reading.value - reference.value > limits.max_rise_per_hour * hours:
                return "rose faster than the catalog allows", (
                    f"{describe(reading)}: +{reading.value - reference.value:.6g} in {hours * 3600:.0f} s since "
                    f"{reference.value} (at most {limits.max_rise_per_hour} per hour)")
        if reference is None or (reading.value >= reference.value and reading.ts > reference.ts):
            self.highest[reading.metric] = reading
        return None


def describe(reading: Reading) -> str:
    """'energy_import_t1 = 999999999.965 at 2026-06-01 10:00:00+00:00'."""
    return f"{reading.metric} = {reading.value} at {reading.ts}"
