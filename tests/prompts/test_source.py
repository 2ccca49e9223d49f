"""Reloading: a changed file, a polled URL with ETag/304, and bad versions kept out."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from cs_sdk import PromptConfigError
from cs_sdk._pilots import open_source
from cs_sdk._prompts import FileSource, Prompts, UrlSource
from cs_sdk.state import MemoryStore

URL = "https://config.example.com/pilots.json"


def document(question: str = "Recommend us?", **extra: Any) -> dict[str, Any]:
    prompt = {"id": "nps", "kind": "nps", "question": question, **extra}
    return {"prompts": [prompt]}


def write(path: Path, content: dict[str, Any] | str) -> None:
    text = content if isinstance(content, str) else json.dumps(content)
    path.write_text(text)
    # A new mtime even on filesystems with coarse timestamps.
    later = time.time_ns() + 1_000_000_000 * (1 + path.stat().st_mtime_ns % 7)
    os.utime(path, ns=(later, later))


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def question_of(source: FileSource | UrlSource) -> str:
    assert source.document is not None
    return source.document.prompts[0].question


def test_a_changed_file_is_reloaded_at_the_next_check(tmp_path: Path) -> None:
    path = tmp_path / "pilots.json"
    write(path, document("v1"))
    ticks = Ticks()
    source = FileSource(path, check_interval=2.0, monotonic=ticks)
    source.load()
    write(path, document("v2"))
    ticks.now = 1.9
    source.poll()
    assert question_of(source) == "v1"  # not time to look yet
    ticks.now = 2.0
    source.poll()
    assert question_of(source) == "v2"


def test_the_engine_picks_up_a_new_file_version(tmp_path: Path) -> None:
    path = tmp_path / "pilots.json"
    write(path, document("v1"))
    source = FileSource(path, check_interval=0.0)
    source.load()
    engine = Prompts(MemoryStore(), source=source)
    first = engine.next_for("u1")
    write(path, document("v2", priority=3))
    second = engine.next_for("u1")
    assert first is not None and second is not None
    assert (first.question, second.question, second.priority) == ("v1", "v2", 3)


def test_a_bad_new_file_is_rejected_once_and_the_last_good_stays(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "pilots.json"
    write(path, document("good"))
    source = FileSource(path, check_interval=0.0)
    source.load()
    write(path, document("bad", throttle={"max_shows": 0}))
    with caplog.at_level(logging.ERROR, logger="cs_sdk"):
        assert source.reload() is False
        source.poll()
        source.poll()
    assert question_of(source) == "good"
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "last good one stays" in errors[0].getMessage()
    assert "prompts[0].throttle.max_shows" in errors[0].getMessage()
    write(path, document("fixed"))
    assert source.reload() is True
    assert question_of(source) == "fixed"


def test_a_deleted_file_keeps_the_last_good_version(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "pilots.json"
    write(path, document("good"))
    source = FileSource(path, check_interval=0.0)
    source.load()
    path.unlink()
    with caplog.at_level(logging.WARNING, logger="cs_sdk"):
        source.poll()
    assert question_of(source) == "good"
    assert "cannot read" in caplog.text


def test_a_bad_file_at_startup_raises(tmp_path: Path) -> None:
    path = tmp_path / "pilots.json"
    write(path, "{")
    with pytest.raises(PromptConfigError, match=r"pilots\.json: not valid JSON"):
        open_source(str(path))
    with pytest.raises(PromptConfigError, match="cannot read"):
        open_source(str(tmp_path / "missing.toml"))


@respx.mock
def test_a_url_is_polled_with_etag_and_304_keeps_the_current_version(
    caplog: pytest.LogCaptureFixture,
) -> None:
    route = respx.get(URL)
    route.side_effect = [
        httpx.Response(200, json=document("v1"), headers={"ETag": '"1"'}),
        httpx.Response(304),
        httpx.Response(200, json=document("bad", kind="survey"), headers={"ETag": '"2"'}),
        httpx.Response(304),
        httpx.Response(200, json=document("v3"), headers={"ETag": '"3"'}),
    ]
    source = UrlSource(URL)
    with caplog.at_level(logging.ERROR, logger="cs_sdk"):
        assert source.reload() is True
        assert source.reload() is False
        assert route.calls[1].request.headers["If-None-Match"] == '"1"'
        assert source.reload() is False  # the bad version is rejected...
        assert question_of(source) == "v1"  # ...and the last good one stays
        assert source.reload() is False
        # The bad version's ETag is sent, so the server need not send it again.
        assert route.calls[3].request.headers["If-None-Match"] == '"2"'
        assert source.reload() is True
    assert question_of(source) == "v3"
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert f"{URL}: invalid pilot/prompt configuration" in errors[0]
    assert "prompts[0].kind" in errors[0]
    source.close()


@respx.mock
def test_a_bad_version_without_etag_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    respx.get(URL).side_effect = [
        httpx.Response(200, json=document("v1")),
        httpx.Response(200, text="{not json"),
        httpx.Response(200, text="{not json"),
    ]
    source = UrlSource(URL)
    with caplog.at_level(logging.ERROR, logger="cs_sdk"):
        for _ in range(3):
            source.reload()
    assert question_of(source) == "v1"
    assert sum(r.levelno == logging.ERROR for r in caplog.records) == 1
    source.close()


@respx.mock
def test_the_format_follows_the_content_type_and_credentials_stay_out_of_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret_url = "https://user:s3cret@config.example.com/pilots?token=abc"
    respx.get(secret_url).side_effect = [
        httpx.Response(
            200,
            text='[[prompts]]\nid = "nps"\nkind = "nps"\nquestion = "From TOML?"\n',
            headers={"Content-Type": "application/toml"},
        ),
        httpx.Response(500),
        httpx.ConnectError("refused"),
    ]
    source = UrlSource(secret_url)
    with caplog.at_level(logging.WARNING, logger="cs_sdk"):
        assert source.reload() is True
        assert source.reload() is False
        assert source.reload() is False
    assert question_of(source) == "From TOML?"
    assert "HTTP 500" in caplog.text and "ConnectError" in caplog.text
    assert "s3cret" not in caplog.text and "abc" not in caplog.text
    assert "s3cret" not in repr(source)
    source.close()


@respx.mock
def test_the_poller_thread_brings_new_versions_and_stops_on_close() -> None:
    updated = threading.Event()

    def serve(request: httpx.Request) -> httpx.Response:
        if request.headers.get("If-None-Match") == '"2"':
            updated.set()
            return httpx.Response(304)
        return httpx.Response(200, json=document("v2"), headers={"ETag": '"2"'})

    respx.get(URL).mock(side_effect=serve)
    source = UrlSource(URL, interval=0.01)
    source.start()
    assert updated.wait(timeout=5)
    assert question_of(source) == "v2"
    source.close()
    assert source._thread is not None and not source._thread.is_alive()
    source.poll()  # closed: no new thread
    assert not source._thread.is_alive()


@respx.mock
def test_open_source_fetches_a_url_first_and_survives_it_being_down() -> None:
    respx.get(URL).mock(side_effect=httpx.ConnectError("refused"))
    source = open_source(URL)
    assert source.document is None
    source.close()
    respx.get(URL).mock(return_value=httpx.Response(200, json=document("up")))
    source = open_source(URL)
    assert source.document is not None
    source.close()
