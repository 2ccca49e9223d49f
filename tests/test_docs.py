"""The README and the guides stay true: every Python sample runs against a local collector,
every JSON sample parses, and the OTLP/JSON example is what the SDK sends.

``docs/pilots.md`` has its own tests (``tests/pilots/test_docs.py``). A sample that cannot run
on its own is marked in the document with ``<!-- not-executed: reason -->`` on the line before
it; it must still compile.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import cs_sdk
from cs_sdk.collector import LocalCollector

ROOT = Path(__file__).parents[1]
DOCUMENTS = ("README.md", "docs/otlp-mapping.md", "docs/reliability.md")
# The address the samples are written against; the tests substitute a live collector's.
SAMPLE_ENDPOINT = "http://127.0.0.1:4318"
FENCE = re.compile(
    r"(?:<!--\s*not-executed:\s*(?P<reason>.*?)\s*-->\s*\n)?"
    r"^```(?P<language>[\w-]*)\n(?P<code>.*?)^```",
    flags=re.DOTALL | re.MULTILINE,
)


@dataclass(frozen=True)
class Sample:
    document: str
    line: int
    language: str
    code: str
    not_executed: str | None

    def compiled(self) -> Any:
        # Line numbers in tracebacks point into the document.
        return compile("\n" * (self.line - 1) + self.code, self.document, "exec")


def samples(document: str, language: str) -> list[Sample]:
    text = (ROOT / document).read_text()
    return [
        Sample(
            document,
            text.count("\n", 0, match.start("code")) + 1,
            match["language"],
            match["code"],
            match["reason"],
        )
        for match in FENCE.finditer(text)
        if match["language"] == language
    ]


def run_samples(document: str, endpoint: str) -> dict[str, Any]:
    """Run the document's Python samples in order, in one namespace, against ``endpoint``."""
    namespace: dict[str, Any] = {"__name__": f"docs_sample_{Path(document).stem}"}
    for sample in samples(document, "python"):
        if sample.not_executed is None:
            code = sample.code.replace(SAMPLE_ENDPOINT, endpoint)
            exec(compile("\n" * (sample.line - 1) + code, document, "exec"), namespace)
    return namespace


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_python_sample_compiles(document: str) -> None:
    for sample in samples(document, "python"):
        sample.compiled()


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_json_sample_parses(document: str) -> None:
    for sample in samples(document, "json"):
        json.loads(sample.code)


def test_every_runnable_python_sample_is_run_by_a_test_here() -> None:
    # README.md and docs/reliability.md have a test each below; a sample added elsewhere
    # needs one too (or a not-executed mark with its reason).
    run_here = {"README.md", "docs/reliability.md"}
    for document in set(DOCUMENTS) - run_here:
        assert [s for s in samples(document, "python") if s.not_executed is None] == []


@pytest.mark.usefixtures("own_registry")
def test_the_readme_samples_run_and_their_events_arrive() -> None:
    with LocalCollector() as collector:
        run_samples("README.md", collector.endpoint)
        cs_sdk.shutdown(timeout=5)
        assert collector.wait_for(4, timeout=5)
        records = collector.records
    assert {(record.event_name, record.name) for record in records} == {
        ("cs.milestone", "first_report_created"),
        ("cs.feedback", "nps"),
        ("cs.outcome", "renewal"),
        ("report.exported", "report.exported"),
    }
    assert all(record.resource["service.name"] == "web" for record in records)


def test_the_reliability_guides_samples_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # the sample's spool_dir is relative
    with LocalCollector() as collector:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint)
        namespace = run_samples("docs/reliability.md", collector.endpoint)
        assert collector.wait_for(2, timeout=5)
        records = collector.records
    assert capsys.readouterr().out.splitlines()[0] == "1 0 0"  # as the sample's comment says
    assert (tmp_path / ".cs_spool").is_dir()
    assert namespace["client"].stats()["dropped"]["before_send"] == 1
    feedback = [record for record in records if record.event_name == "cs.feedback"]
    assert [record.attributes["cs.feedback.comment"] for record in feedback] == [
        "Call me on [phone]"
    ]


def test_the_otlp_json_example_is_what_the_sdk_sends() -> None:
    (example,) = samples("docs/otlp-mapping.md", "json")
    documented = json.loads(example.code)
    bodies: list[bytes] = []

    def collector(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return httpx.Response(200, json={}, headers={"content-type": "application/json"})

    client = cs_sdk.Client(
        environ={},
        endpoint=SAMPLE_ENDPOINT,
        protocol="http/json",
        compression="none",
        http_client=httpx.Client(transport=httpx.MockTransport(collector)),
    )
    # The call the document names, word for word.
    client.feedback(
        "nps",
        score=9,
        comment="Love it",
        user_id="u1",
        account_id="acme",
        prompt_id="nps-after-first-report",
        area="reports",
    )
    assert client.flush(timeout=5)
    client.shutdown()
    (body,) = bodies
    sent = json.loads(body)["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]

    assert sorted(sent) == sorted(documented)  # the same fields
    for name in ("timeUnixNano", "observedTimeUnixNano"):
        assert re.fullmatch(r"\d{19}", sent[name]) and re.fullmatch(r"\d{19}", documented[name])
        sent[name] = documented[name]
    sent_attributes = {a["key"]: a["value"] for a in sent["attributes"]}
    documented_attributes = {a["key"]: a["value"] for a in documented["attributes"]}
    assert len(sent_attributes) == len(sent["attributes"])  # no attribute twice
    for attributes in (sent_attributes, documented_attributes):
        assert re.fullmatch(r"[0-9a-f]{32}", attributes.pop("cs.event.id")["stringValue"])
    assert sent_attributes == documented_attributes
    assert {k: v for k, v in sent.items() if k != "attributes"} == {
        k: v for k, v in documented.items() if k != "attributes"
    }
