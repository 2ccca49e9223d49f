"""``cs-sdk report`` as a user runs it: sources, formats, and data that lacks things."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest

from cs_sdk.cli import main
from cs_sdk.collector._store import SqliteStore

from . import _data


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return _data.write_sqlite(tmp_path / "events.db")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "pilots.toml"
    path.write_text(_data.CONFIG)
    return path


def test_json_has_every_figure(db: Path, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--db", str(db), "--config", str(config), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    pilot = data["pilots"][0]
    assert pilot["id"] == "nd"
    everyone = pilot["cohorts"][0]
    assert everyone["cohort"] == "*"
    assert everyone["success"] == {
        "value": pytest.approx(4 / 7),
        "low": pytest.approx(0.2504, abs=1e-3),
        "high": pytest.approx(0.8418, abs=1e-3),
        "n": 7,
        "k": 4,
    }
    assert [s["reached"] for s in everyone["funnel"]] == [7, 6, 5]
    assert everyone["feedback"][0]["kind"] == "nps"
    assert everyone["feedback"][0]["distribution"] == {"3": 1, "6": 1, "8": 1, "9": 2, "10": 2}
    assert {t["name"] for t in pilot["teams"]} >= {"platform-team", "sales-team"}
    assert pilot["pain_points"] and pilot["success_points"]
    assert {c["figure"] for c in pilot["comparisons"]} >= {"success", "NPS"}


def test_html_is_written_private_and_the_summary_printed(
    db: Path, config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    assert main(["report", "--db", str(db), "--config", str(config), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Did the participants solve the problem? Too close to call" in printed
    assert f"report written to {out}" in printed
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    page = out.read_text()
    assert page.count("<svg") >= 4 and "<script" not in page


def test_text_names_what_could_not_be_computed_without_a_configuration(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--db", str(db), "--format", "text"]) == 0
    out = capsys.readouterr().out
    assert "Pilot nd" in out and "enrolled" in out
    assert 'add [[pilots]] id = "nd" with path and success' in out
    assert "add [[teams]]" in out
    assert "pass --config pilots.toml" in out


def test_a_store_with_only_enrolments_says_what_is_missing(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = [r for r in _data.records() if r.event_name == "cs.pilot.enrolled"]
    db = _data.write_sqlite(tmp_path / "events.db", records)
    assert main(["report", "--db", str(db), "--config", str(config), "--format", "text"]) == 0
    out = capsys.readouterr().out
    assert "no feedback from participants yet" in out
    assert re.search(r"active\s+0\s+0\s+0\n", out)  # enrolled, and nothing since
    assert "No, most participants have not solved it: 0% (0 of 7" in out


def test_an_empty_store_and_an_unknown_file_give_a_message_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    SqliteStore(tmp_path / "empty.db").close()
    assert main(["report", "--db", str(tmp_path / "empty.db"), "--format", "text"]) == 0
    assert "the store holds no events" in capsys.readouterr().out
    assert main(["report", "--db", str(tmp_path / "missing.db"), "--format", "text"]) == 1
    err = capsys.readouterr().err
    assert "cannot open the source" in err and "missing.db" in err and "Traceback" not in err
    (tmp_path / "other.db").write_bytes(b"")
    assert main(["report", "--db", str(tmp_path / "other.db"), "--format", "text"]) == 1
    assert "no events table" in capsys.readouterr().err


def test_an_invalid_configuration_is_rejected_with_suggestions(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "pilots.toml"
    bad.write_text(
        '[[pilots]]\nid = "nd"\npath = ["a", "b"]\nsucess = 1\n[routing]\ndefault = "x"\n'
    )
    assert main(["report", "--db", str(db), "--config", str(bad), "--format", "text"]) == 2
    err = capsys.readouterr().err
    assert "pilots[0].sucess: unknown field; did you mean 'success'?" in err
    assert "routing.default: unknown field; did you mean 'default_team'?" in err


def test_an_unreachable_clickhouse_is_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    # Port 1 on loopback: refused at once, nothing leaves the machine.
    assert main(["report", "--clickhouse", "http://127.0.0.1:1/default", "--format", "text"]) == 1
    err = capsys.readouterr().err
    assert "cs-sdk report: cannot open the source" in err and "Traceback" not in err


def test_the_python_sample_in_docs_report_runs(
    db: Path, config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    guide = (Path(__file__).parents[2] / "docs" / "report.md").read_text()
    (sample,) = re.findall(r"```python\n(.*?)```", guide, flags=re.DOTALL)
    monkeypatch.chdir(db.parent)
    config.rename(db.parent / "pilots.toml")
    exec(compile(sample, "docs/report.md", "exec"), {})
    out = capsys.readouterr().out
    assert "Pilot nd" in out and "Too close to call" in out
