#!/usr/bin/env bash
# Each optional extra of pyproject.toml installs cleanly on its own in a fresh venv and
# the modules it enables work there (issue 16's acceptance: "the extras install cleanly one
# by one on a fresh venv"). Stops at the first problem. Not part of .ci/run: it creates one
# venv per extra (pip's cache makes a second run quick).
#
#   scripts/check-extras.sh            # every extra except dev (what CI installs)
#   scripts/check-extras.sh report     # only these
#   PYTHON=python3.13 scripts/check-extras.sh
#
# An extra added to pyproject.toml without a check below fails here: say what it enables.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-python3}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cs-sdk-extras.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# The smoke test of each extra: a Python program run in that extra's venv, from a directory
# outside the repository (so the installed package is used, not the source tree).
check_program() {
    case "$1" in
    asgi) cat <<'PY'
import asyncio
import starlette.applications, starlette.responses, starlette.routing
from cs_sdk.integrations.asgi import CsMiddleware
async def home(request):
    return starlette.responses.PlainTextResponse("ok")
app = CsMiddleware(starlette.applications.Starlette(routes=[starlette.routing.Route("/", home)]),
                   identify=lambda request: {"user_id": "u1"})
sent = []
async def main():
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": "/", "raw_path": b"/", "query_string": b"", "root_path": "",
             "headers": [], "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}
    async def send(message):
        sent.append(message)
    await app(scope, receive, send)
asyncio.run(main())
assert sent[0]["status"] == 200, sent
PY
    ;;
    fastapi) cat <<'PY'
import fastapi
from cs_sdk.integrations.asgi import CsMiddleware
from cs_sdk.integrations.feedback import feedback_asgi_app
app = fastapi.FastAPI()
app.add_middleware(CsMiddleware, identify=lambda request: {"user_id": "u1"})
PY
    ;;
    django) cat <<'PY'
import django
from django.conf import settings
settings.configure(MIDDLEWARE=["cs_sdk.integrations.django.CsMiddleware"], ROOT_URLCONF=__name__,
                   ALLOWED_HOSTS=["testserver"], CS_SDK_IDENTIFY=lambda request: None)
django.setup()
from cs_sdk.integrations.django import CsMiddleware, feedback_urls
CsMiddleware(lambda request: None)
PY
    ;;
    celery) cat <<'PY'
import celery
from cs_sdk.integrations.celery import instrument_celery
instrument_celery(celery.Celery("check", broker="memory://"))
PY
    ;;
    gunicorn) cat <<'PY'
import gunicorn.app.base
from cs_sdk.integrations.gunicorn import worker_exit
PY
    ;;
    report) cat <<'PY'
import json, pathlib, subprocess, sys, tempfile
from cs_sdk.collector._store import SqliteStore
from cs_sdk.report import build_report, open_sqlite, render_html, render_json, render_text
work = pathlib.Path(tempfile.mkdtemp())
SqliteStore(work / "events.db")  # the empty store `cs-sdk collector` creates
report = build_report(open_sqlite(work / "events.db"))
assert "<svg" in render_html(report) or "<html" in render_html(report)
json.loads(render_json(report)); print(render_text(report))
cli = pathlib.Path(sys.executable).with_name("cs-sdk")
subprocess.run([cli, "report", "--db", work / "events.db", "--out", work / "r.html"], check=True)
assert (work / "r.html").stat().st_size > 0
PY
    ;;
    redis) cat <<'PY'
import redis
from cs_sdk.state import RedisStore
RedisStore("redis://127.0.0.1:1/0")
PY
    ;;
    schemas) cat <<'PY'
import jsonschema
from cs_sdk.events._validator import strict_validator
strict_validator({"type": "object", "properties": {"n": {"type": "integer"}}}).validate({"n": 1})
PY
    ;;
    yaml) cat <<'PY'
import pathlib, tempfile
from cs_sdk._prompts._config import load_config
path = pathlib.Path(tempfile.mkdtemp()) / "pilots.yaml"
path.write_text("pilots:\n  - id: p1\n    path: [signed_up, first_report]\n")
assert load_config(path).pilots[0].path == ["signed_up", "first_report"]
PY
    ;;
    docs) cat <<'PY'
# The site builds strictly with only this extra (its hooks import cs_sdk's option reference).
import os, subprocess, sys, tempfile
site = tempfile.mkdtemp()
subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", site],
               cwd=os.environ["CS_SDK_ROOT"], check=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
assert os.path.isfile(os.path.join(site, "reference", "api", "index.html"))
PY
    ;;
    bench) cat <<'PY'
import posthog, segment.analytics, sentry_sdk
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
PY
    ;;
    *) echo "check-extras.sh: no check for the extra '$1'; add one" >&2; return 1 ;;
    esac
}

if [ $# -gt 0 ]; then
    extras=("$@")
else
    mapfile -t extras < <("$PYTHON" - <<'PY'
import tomllib
extras = tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]
print("\n".join(e for e in extras if e != "dev"))
PY
)
fi

for extra in "${extras[@]}"; do
    echo "== $extra"
    program=$(check_program "$extra")
    "$PYTHON" -m venv "$WORK/$extra"
    "$WORK/$extra/bin/python" -m pip install -q --disable-pip-version-check "$ROOT[$extra]"
    "$WORK/$extra/bin/python" -m pip check
    (cd "$WORK" && CS_SDK_ROOT=$ROOT "$WORK/$extra/bin/python" -W error::DeprecationWarning -c "$program")
    echo "ok $extra"
done
echo "all extras install and work on their own: ${extras[*]}"
