"""End to end in a real browser: the FastAPI example with the middleware and the route, under
the OpenTelemetry ASGI instrumentation, in headless Chromium. The prompt is seen, answered
with the keyboard only, and the answer arrives at the local collector with the user, the
pilot tags and the trace id of the request that carried it. Screenshots of the widget are
written to test-output/."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import format_trace_id
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

import cs_sdk
from cs_sdk.collector import LocalCollector, ReceivedRecord

from ._browser import OUTPUT, chromium, load_example, serve

WAIT = 30  # seconds: a hang guard, not a budget


@pytest.fixture
def collector() -> Iterator[LocalCollector]:
    with LocalCollector() as running:
        yield running


def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting (hang guard)"
        time.sleep(0.05)


def _feedback(collector: LocalCollector, kind: str) -> ReceivedRecord:
    _until(lambda: any(r.name == kind for r in collector.records))
    return next(r for r in collector.records if r.name == kind)


def _widget(driver: WebDriver) -> Any:
    return WebDriverWait(driver, WAIT).until(
        lambda d: d.find_element(By.CSS_SELECTOR, ".csfb[role='dialog']")
    )


def _tab_into_widget(driver: WebDriver) -> None:
    """Press Tab until the focus is in the widget's answer group (bounded)."""
    for _ in range(10):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        if driver.execute_script("return !!document.activeElement.closest('.csfb-scale')"):
            return
    raise AssertionError("Tab never reached the widget")


def test_a_user_answers_the_prompt_with_the_keyboard_and_the_answer_arrives_traced(
    collector: LocalCollector,
) -> None:
    example = load_example("examples/fastapi_app/app.py", "fastapi_example")
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    app = example.build_app(endpoint=collector.endpoint, schedule_delay=0.2)
    traced = OpenTelemetryMiddleware(app, tracer_provider=provider)
    OUTPUT.mkdir(exist_ok=True)

    with serve(traced) as base, chromium() as driver:
        driver.get(base + "/login?user=u1")
        widget = _widget(driver)
        assert widget.get_attribute("aria-labelledby")
        question = widget.find_element(By.CSS_SELECTOR, ".csfb-question").text
        assert question == "How likely are you to recommend the new dashboard to a colleague?"
        radios = widget.find_elements(By.CSS_SELECTOR, "input[type=radio]")
        assert [r.get_attribute("aria-label") for r in radios] == [str(n) for n in range(11)]

        _tab_into_widget(driver)
        ActionChains(driver).send_keys(*[Keys.ARROW_RIGHT] * 9).perform()
        assert widget.find_element(By.CSS_SELECTOR, "input:checked").get_attribute("value") == "9"
        # The page themes the widget with a CSS variable (--csfb-accent: #8250df).
        chosen = "return getComputedStyle(document.querySelector('.csfb input:checked + span'))"
        assert driver.execute_script(chosen + ".backgroundColor") == "rgb(130, 80, 223)"
        ActionChains(driver).send_keys(Keys.TAB, "Love the new dashboard").perform()
        widget.screenshot(str(OUTPUT / "widget-nps.png"))
        ActionChains(driver).send_keys(Keys.TAB, Keys.ENTER).perform()  # Tab to Send, Enter
        WebDriverWait(driver, WAIT).until(
            lambda d: "Thank you" in d.find_element(By.CSS_SELECTOR, ".csfb-status").text
        )
        answer = _feedback(collector, "nps")

        # The team answers; the user sees it on the next page, next to what they said.
        cs_sdk.respond(
            answer.event_id, message="Thanks! Scheduled exports ship next week.",
            team="reports-team", status="planned",
        )  # fmt: skip
        assert cs_sdk.flush(timeout=WAIT)
        driver.get(base + "/")
        replies = WebDriverWait(driver, WAIT).until(
            lambda d: d.find_element(By.CSS_SELECTOR, ".csfb-replies[role='region']")
        )
        # .text is empty until the element is painted (the widget fades in).
        WebDriverWait(driver, WAIT).until(lambda d: "Scheduled exports" in replies.text)
        assert "You said: \u201cLove the new dashboard\u201d" in replies.text
        assert "reports-team" in replies.text and "Planned" in replies.text
        replies.screenshot(str(OUTPUT / "widget-replies.png"))

        # Offline: the next prompt's answer is kept in localStorage, then sent when back.
        widget = _widget(driver)
        assert "PDF export" in widget.text
        driver.execute_cdp_cmd("Network.enable", {})
        offline = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
        driver.execute_cdp_cmd("Network.emulateNetworkConditions", offline)
        _tab_into_widget(driver)
        ActionChains(driver).send_keys(Keys.ARROW_RIGHT, Keys.TAB, Keys.TAB, Keys.ENTER).perform()
        WebDriverWait(driver, WAIT).until(
            lambda d: "offline" in d.find_element(By.CSS_SELECTOR, ".csfb-status").text
        )
        kept = driver.execute_script("return localStorage.getItem('cs-feedback-outbox')")
        assert '"prompt_id":"thumbs-export"' in kept
        assert not any(r.name == "thumbs" for r in collector.records)
        driver.execute_cdp_cmd("Network.emulateNetworkConditions", {**offline, "offline": False})
        thumbs = _feedback(collector, "thumbs")  # the widget's retry delivered it
        WebDriverWait(driver, WAIT).until(
            lambda d: d.execute_script("return localStorage.getItem('cs-feedback-outbox')") == "[]"
        )

        # Escape dismisses; a phone-width screenshot shows the layout there.
        driver.set_window_size(390, 844)
        driver.get(base + "/")
        widget = _widget(driver)
        widget.screenshot(str(OUTPUT / "widget-csat-phone.png"))
        inside = driver.execute_script(
            "const r = document.querySelector('.csfb').getBoundingClientRect();"
            "return r.left >= 0 && r.right <= window.innerWidth && r.width > 300;"
        )
        assert inside, "the widget must fit a phone's width"
        _tab_into_widget(driver)
        ActionChains(driver).send_keys(Keys.ESCAPE).perform()
        dismissed = "cs.prompt.dismissed"
        _until(lambda: any(r.attributes.get("cs.schema.name") == dismissed
                           for r in collector.records))  # fmt: skip
    provider.shutdown()

    assert answer.user_id == "u1"
    assert answer.attributes["cs.account.id"] == "acme"
    assert answer.attributes["cs.feedback.score"] == 9
    assert answer.attributes["cs.feedback.comment"] == "Love the new dashboard"
    assert answer.attributes["cs.prompt.id"] == "nps-dashboard"
    assert answer.attributes["cs.pilot.ids"] == ["new-dashboard"]
    assert answer.attributes["cs.pilot.cohorts"] == ["wave-1"]
    posts = [
        span
        for span in spans.get_finished_spans()
        if span.kind.name == "SERVER" and "/cs/feedback/answer" in str(span.attributes)
    ]
    assert answer.trace_id in {format_trace_id(span.context.trace_id) for span in posts}
    assert thumbs.user_id == "u1" and thumbs.attributes["cs.feedback.score"] == 1
    assert (OUTPUT / "widget-nps.png").stat().st_size > 1000
