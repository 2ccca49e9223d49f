"""A cold start stays cheap: ``import cs_sdk`` loads none of the heavy dependencies, and each
of them is loaded, and works, when first needed (init(), the first send, a typed event).

Each case runs in a fresh interpreter (``sys.modules`` of the test process has everything).
The timing check is a ratio against a bare interpreter measured in the same test, with a
generous bound: a guard against a heavy import creeping back, not a benchmark (that is
bench/cold_start.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import cs_sdk
from cs_sdk.collector import LocalCollector

# Not imported by `import cs_sdk`, each with what loads it instead:
HEAVY = {
    "pydantic": "cs_sdk.Event (typed events), the prompt document's models",
    "httpx": "the exporter's first send, a prompts= URL",
    "google.protobuf": "never on the SDK's side (the local collector decodes with it)",
    "opentelemetry": "the client (init() or cs_sdk.Client): the active span's ids",
    "opentelemetry.sdk": "never (the application's, for logger_provider=)",
    "tenacity": "the exporter's first send",
    "rich": "(httpx's command line, when installed)",
    "asyncio": "aflush()/ashutdown(), whose caller runs a loop already",
    "urllib.request": "(httpx)",
    "sqlite3": "the client (its state store), spool_dir=",
    "json": "the client (the JSON encoder, the exporter's answers)",
    "dataclasses": "the client (its configuration)",
    "cs_sdk._client": "init() or cs_sdk.Client",
}
# How many modules `import cs_sdk` adds to a bare interpreter: 37 on 3.12 (15 ours, the
# standard library's logging, threading, typing, datetime and what they pull in). What the
# import costs in time is measured, not asserted: `python -m bench.cold_start`.
MAX_NEW_MODULES = 60
HANG_GUARD = 120.0  # seconds for any one child process


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("CS_SDK_", "OTEL_"))}


def _run(code: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        env=_env(),
        cwd=cwd,
        check=False,
    )


def _json_out(code: str, cwd: Path | None = None) -> Any:
    done = _run(code, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def imported_by(code: str) -> set[str]:
    """Every module ``python -X importtime -c code`` imports (its report, on stderr)."""
    done = _run(code, "-X", "importtime")
    assert done.returncode == 0, done.stderr
    return {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line and "self [us]" not in line
    }


def test_import_cs_sdk_loads_none_of_the_heavy_dependencies() -> None:
    modules = imported_by("import cs_sdk")
    assert "cs_sdk" in modules and "cs_sdk._api" in modules
    loaded = {
        name: why
        for name, why in HEAVY.items()
        if name in modules or any(m.startswith(name + ".") for m in modules)
    }
    assert loaded == {}


def test_import_cs_sdk_adds_few_modules_to_a_bare_interpreter() -> None:
    added = _json_out(
        """
        import json, sys
        before = set(sys.modules)
        import cs_sdk
        print(json.dumps(sorted(set(sys.modules) - before)))
        """
    )
    ours = [name for name in added if name.split(".")[0] == "cs_sdk"]
    print(f"import cs_sdk adds {len(added)} modules, {len(ours)} of them ours")
    assert len(added) <= MAX_NEW_MODULES, added


def test_every_public_name_resolves_and_loads_its_part_when_first_named() -> None:
    seen = _json_out(
        """
        import json, sys
        import cs_sdk
        steps = {"import": "pydantic" in sys.modules}
        from cs_sdk import Client, Config, identify
        steps["client"] = ("pydantic" in sys.modules, "cs_sdk._client" in sys.modules)
        from cs_sdk import Event
        steps["event"] = "pydantic" in sys.modules
        missing = [n for n in cs_sdk.__all__ if not hasattr(cs_sdk, n)]
        listed = sorted(set(cs_sdk.__all__) - set(dir(cs_sdk)))
        same = Event is cs_sdk.events.Event is cs_sdk.Event
        builtins = sorted(c.__cs_schema__.name for c in cs_sdk.registry)
        print(json.dumps([steps, missing, listed, same, builtins]))
        """
    )
    steps, missing, listed, same, builtins = seen
    assert steps == {"import": False, "client": [False, True], "event": True}
    assert missing == [] and listed == [] and same is True
    assert "cs.milestone" in builtins and "cs.feedback" in builtins


def test_reading_the_registry_first_still_lists_the_built_in_events() -> None:
    names = _json_out(
        """
        import json, cs_sdk
        print(json.dumps([len(cs_sdk.registry), cs_sdk.registry.versions("cs.outcome")]))
        """
    )
    assert names[0] >= 8 and names[1] == ["1.0.0"]


def test_init_first_event_and_flush_load_each_piece_when_needed() -> None:
    with LocalCollector() as collector:
        seen = _json_out(
            """
            import json, sys, threading
            import cs_sdk
            cs_sdk.init(service_name="cold", endpoint=ENDPOINT)
            after_init = sorted(
                m for m in ("pydantic", "httpx", "tenacity", "sqlite3") if m in sys.modules
            )
            imports = []  # (thread, module) of every import from now on


            class Watch:
                @staticmethod
                def find_spec(name, path=None, target=None):
                    imports.append((threading.current_thread().name, name))


            sys.meta_path.insert(0, Watch)
            ids = [
                cs_sdk.milestone("first_report_created", user_id="u1", properties={"p": 1}),
                cs_sdk.feedback("nps", score=9, comment="fast", user_id="u1"),
            ]
            refused = cs_sdk.track(object(), user_id="u1")  # not an Event: no pydantic for that
            before_send = "pydantic" in sys.modules
            flushed = cs_sdk.flush(timeout=60)

            class Exported(cs_sdk.Event, name="report.exported", version="1.0.0"):
                pages: int

            ids.append(cs_sdk.track(Exported(pages=3), user_id="u1"))
            flushed = cs_sdk.flush(timeout=60) and flushed
            stats = cs_sdk.stats()
            cs_sdk.shutdown(timeout=10)
            ours = sorted({m for t, m in imports if t.startswith("cs_sdk")})
            print(json.dumps([after_init, before_send, ids, refused, flushed, stats, ours]))
            """.replace("ENDPOINT", repr(collector.endpoint))
        )
        after_init, before_send, ids, refused, flushed, stats, ours = seen
        # init() loads what the worker and sender need, on the caller's thread, before it
        # starts them (they import nothing themselves); recording needs no pydantic.
        assert after_init == ["httpx", "tenacity"] and before_send is False
        assert ours == []  # the worker and the sender imported nothing
        assert refused is None and None not in ids and flushed is True
        # The books: all three recorded events arrived, nothing else went anywhere.
        assert collector.wait_for(3, timeout=30)
        assert sorted(r.event_id or "" for r in collector.records) == sorted(ids)
        assert {r.name for r in collector.records} == {
            "first_report_created",
            "nps",
            "report.exported",
        }
    assert stats["recorded"] == 3 and stats["sent"] == 3
    assert stats["refused"]["invalid"] == 1  # the object that was not an event
    if "track" in stats["debug"]["accelerated"]:
        # The C track() found cs_sdk.Event once it was declared (init() had not loaded it):
        # only the object that was not an event went to Python.
        assert {k: n for k, n in stats["debug"]["fallbacks"].items() if n} == {"invalid": 1}
    assert stats["dropped_total"] == 0 and stats["queued"] == stats["in_flight"] == 0


RACER = """
import threading

import cs_sdk

done = {}


def record() -> None:
    cs_sdk.init(service_name="race", endpoint=ENDPOINT)
    done["id"] = cs_sdk.milestone("raced", user_id="u1")
    done["flushed"] = cs_sdk.flush(timeout=60)


worker = threading.Thread(target=record)
worker.start()
# The application's own imports, while the SDK loads the same ones on its threads (and this
# module's import lock is held all along: nothing the SDK loads may need it).
import httpx, pydantic, tenacity  # noqa: E401,F401


class Raced(cs_sdk.Event, name="raced.typed"):
    n: int


worker.join(90)
done["alive"] = worker.is_alive()
done["typed"] = cs_sdk.track(Raced(n=1), user_id="u1")
done["flushed"] = cs_sdk.flush(timeout=60) and done.get("flushed")
done["stats"] = cs_sdk.stats()
cs_sdk.shutdown(timeout=10)
"""


def test_recording_from_a_thread_while_the_application_imports(tmp_path: Path) -> None:
    with LocalCollector() as collector:
        (tmp_path / "racer.py").write_text(f"ENDPOINT = {collector.endpoint!r}\n" + RACER)
        done = _json_out("import json, racer; print(json.dumps(racer.done))", cwd=tmp_path)
        assert done["alive"] is False and done["flushed"] is True
        assert collector.wait_for(2, timeout=30)
        assert sorted(r.event_id or "" for r in collector.records) == sorted(
            [done["id"], done["typed"]]
        )
    assert done["stats"]["sent"] == done["stats"]["recorded"] == 2


def test_is_event_needs_no_pydantic_to_say_no() -> None:
    answers = _json_out(
        """
        import json, sys
        from cs_sdk.events import is_event
        answers = [is_event(object()), is_event({"a": 1}), "pydantic" in sys.modules]
        from cs_sdk.events import Milestone
        answers += [is_event(Milestone(name="m")), is_event(object())]
        print(json.dumps(answers))
        """
    )
    assert answers == [False, False, False, True, False]


def test_the_built_in_identities_match_their_models() -> None:
    from cs_sdk.events import _builtin, _builtin_rules

    assert _builtin.Milestone.__cs_schema__ == _builtin_rules.MILESTONE
    assert _builtin.Outcome.__cs_schema__ == _builtin_rules.OUTCOME
    assert _builtin.Feedback.__cs_schema__ == _builtin_rules.FEEDBACK
    assert _builtin.FeedbackResponse.__cs_schema__ == _builtin_rules.FEEDBACK_RESPONSE
    assert cs_sdk.registry.get("cs.milestone") is _builtin.Milestone
