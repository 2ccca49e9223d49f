"""The HTML report in a real headless Chromium: charts drawn and visible, nothing fetched,
customers' text shown as text. The screenshot is left in the test's output directory."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cs_sdk._prompts import parse_config
from cs_sdk.collector._decode import ReceivedRecord
from cs_sdk.report import build_report, open_sqlite, render_html

from . import _data

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
HOSTILE = '<script>window.pwned = 1</script><img src="http://203.0.113.9/x.png"> is slow'


def _hostile_records() -> list[ReceivedRecord]:
    """A comment written to break the page, and an answer to it, so the page shows it."""
    feedback_id = uuid.uuid4().hex
    attrs = {
        "cs.event.id": feedback_id,
        "cs.event.name": "nps",
        "user.id": "u3",
        "cs.feedback.kind": "nps",
        "cs.feedback.score": 2,
        "cs.feedback.comment": HOSTILE,
        "cs.product.area": "reports",
    }
    answer = {
        "cs.event.id": uuid.uuid4().hex,
        "cs.feedback.id": feedback_id,
        "cs.response.team": "platform-team",
        "cs.response.status": "done",
        "cs.response.message": "Fixed </td></table><b>bold</b>",
    }
    t = _data.T0 + 9 * _data.DAY
    return [
        ReceivedRecord({}, "cs_sdk", "0.1.0", t, t, "cs.feedback", 9, "INFO", None, attrs),
        ReceivedRecord(
            {},
            "cs_sdk",
            "0.1.0",
            t + _data.DAY,
            t + _data.DAY,
            "cs.feedback.response",
            9,
            "INFO",
            None,
            answer,
        ),
    ]


@pytest.fixture
def page(tmp_path: Path) -> Path:
    db = _data.write_sqlite(tmp_path / "events.db", [*_data.records(), *_hostile_records()])
    source = open_sqlite(db)
    try:
        report = build_report(source, parse_config(_data.CONFIG), source="events.db")
    finally:
        source.close()
    out = tmp_path / "report.html"
    out.write_text(render_html(report), encoding="utf-8")
    return out


@pytest.fixture
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--window-size=1200,900",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)  # a hang guard, far above the second it takes
    try:
        yield driver
    finally:
        driver.quit()


def _requests(driver: Any) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def test_the_page_draws_its_charts_fetches_nothing_and_escapes_comments(
    page: Path, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(page.as_uri())
    assert browser.execute_script("return document.readyState") == "complete"
    for chart in ("#chart-funnel svg", "#chart-success svg", "#chart-scores svg"):
        elements = browser.find_elements(By.CSS_SELECTOR, chart)
        assert elements, chart
        for element in elements:
            assert element.is_displayed()
            assert element.size["width"] > 150 and element.size["height"] > 100
            drawn = element.find_elements(By.CSS_SELECTOR, "path, rect, use")
            assert len(drawn) > 5, chart
    # The funnel's step with the biggest loss is highlighted in the table.
    loss = browser.find_element(By.CSS_SELECTOR, "tr.loss td").text
    assert loss == "2. data_connected"
    teams = browser.find_element(By.ID, "teams").text
    assert "platform-team" in teams and "sales-team" in teams
    # The hostile comment is text on the page, not markup: no script ran, no image loaded.
    assert browser.execute_script("return window.pwned") is None
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "<script>window.pwned = 1</script>" in text
    assert "Fixed </td></table><b>bold</b>" in text
    assert not browser.find_elements(By.CSS_SELECTOR, "main b, main img, script")
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1200, min(int(height) + 100, 16000))
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 50_000
    print(f"screenshot: {shot}")
    # The only request the page made is for itself.
    assert _requests(browser) == [page.as_uri()]
