"""Test helpers for the dashboard in a real headless Chromium: python -m web served on a database, a browser page on
it that records console errors, and what its charts show. The fixtures browser and dashboard (conftest.py) use them."""

import json
import urllib.request

from stack.settings import ROOT, with_user
from tests.procs import free_port, start, stop, wait_for

ARTIFACTS = ROOT / "tests" / "artifacts"  # screenshots, for a person to look at
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
DESKTOP, PHONE = {"width": 1280, "height": 1400}, {"width": 390, "height": 844}


class Dashboard:
    """python -m web against a database, and a Chromium page on it that records console errors."""

    def __init__(self, url: str, log_dir):
        self.port, self.log = free_port(), log_dir / "web.log"
        self.url = url
        self.server = start("web", log=self.log, WEB_PORT=str(self.port), WEB_DATABASE_URL=with_user(url, "energy_web"))
        wait_for(lambda: "dashboard:" in self.log.read_text(), what="the dashboard to start")
        self.errors, self.foreign = [], []

    def api(self, path: str) -> dict:
        """What the API answers."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=30) as response:
            return json.load(response)

    def open(self, browser, viewport: dict, scheme: str, locale: str):
        """A page in a fresh context."""
        context = browser.new_context(viewport=viewport, color_scheme=scheme, locale=locale, accept_downloads=True)
        page = context.new_page()
        page.on("console", lambda m: self.errors.append(m.text) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: None if r.url.startswith(f"http://127.0.0.1:{self.port}/")
                else self.foreign.append(r.url))
        page.goto(f"http://127.0.0.1:{self.port}/")
        return page

    def close(self) -> None:
        """Stop the server."""
        stop(self.server)


def bars(page, canvas: str = "history-chart") -> int:
    """How many periods a chart shows."""
    return page.evaluate("(id) => { const c = Chart.getChart(id); return c ? c.data.labels.length : -1; }", canvas)


def series(page, label_index: int, canvas: str = "history-chart") -> list:
    """The values of one dataset of a chart."""
    return page.evaluate("([id, i]) => Chart.getChart(id).data.datasets[i].data", [canvas, label_index])


def show(page, level: str, day: str) -> None:
    """Pick a level and a date (with the date picker), then wait until the chart shows that window."""
    page.click(f"#history-levels button[data-level='{level}']")
    page.fill("#history-date", day)
    link = "() => document.getElementById('history-csv').href"
    wait_for(lambda: f"level={level}&date={day}" in page.evaluate(link), what=f"the {level} chart of {day}")
