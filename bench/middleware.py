"""Per-request cost of the identity middlewares. Run: python -m bench.middleware

The same tiny app (one route answering "ok") is called directly through its ASGI or WSGI
interface, with no server and no network, so the difference between two rows is what the
middleware adds to a request. Each variant runs in a fresh interpreter (Sentry's init patches
frameworks process-wide). Rows:

- ``asgi bare`` / ``asgi cs_sdk`` / ``asgi posthog`` / ``asgi sentry``: a Starlette app,
  bare, with ``cs_sdk.integrations.asgi.CsMiddleware`` (the resolver reads a cookie), with
  PostHog's ``PosthogASGIMiddleware`` (request context from its headers) and with Sentry's
  ``SentryAsgiMiddleware`` (``sentry_sdk.init()`` without a DSN: scope per request, nothing
  sent). All three do the same job: who and what is this request, for the events inside it.
- ``wsgi bare`` / ``wsgi cs_sdk`` / ``wsgi sentry``: the same for a Flask app (PostHog's Flask
  integration is an exception hook, not a request-context middleware).

Each variant runs in its interpreter next to the bare app: warm-up, then ``--rounds`` rounds
of ``--requests`` requests of each, interleaved (the order alternating), so that the load of
a shared machine falls on both alike. The figure is the median of the per-round differences.
The peers are optional (the bench extra); a peer that is not installed is reported as such.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

VARIANTS = ("asgi cs_sdk", "asgi posthog", "asgi sentry", "wsgi cs_sdk", "wsgi sentry")
COOKIE = b"uid=u1; theme=dark"


def _resolver(request: Any) -> dict[str, str] | None:
    user = request.cookies.get("uid")
    return {"user_id": user, "account_id": "acme"} if user else None


def _asgi_app(variant: str) -> Any:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def ok(request: Any) -> PlainTextResponse:
        return PlainTextResponse("ok")

    app: Any = Starlette(routes=[Route("/reports", ok)])
    if variant == "asgi cs_sdk":
        from cs_sdk.integrations.asgi import CsMiddleware

        app.add_middleware(CsMiddleware, identify=_resolver)
    elif variant == "asgi posthog":
        from posthog.integrations.asgi import PosthogASGIMiddleware

        app.add_middleware(PosthogASGIMiddleware)
    elif variant == "asgi sentry":
        import sentry_sdk
        from sentry_sdk.integrations.asgi import SentryAsgiMiddleware

        # Only the middleware: no auto-enabled integration patching Starlette for the bare app.
        sentry_sdk.init(default_integrations=False, auto_enabling_integrations=False)
        app = SentryAsgiMiddleware(app)
    return app


def _time_asgi(apps: list[Any], requests: int, rounds: int) -> list[list[float]]:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/reports", "raw_path": b"/reports", "root_path": "",
        "query_string": b"", "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 5000),
        "headers": [(b"host", b"app.test"), (b"cookie", COOKIE), (b"user-agent", b"bench")],
    }  # fmt: skip
    request = {"type": "http.request", "body": b"", "more_body": False}

    async def receive() -> dict[str, Any]:
        return request

    async def send(message: dict[str, Any]) -> None:
        return None

    async def run(app: Any, count: int) -> float:
        start = time.perf_counter()
        for _ in range(count):
            await app(dict(scope), receive, send)
        return (time.perf_counter() - start) / count * 1e6

    async def measure() -> list[list[float]]:
        samples: list[list[float]] = [[] for _ in apps]
        for app in apps:
            await run(app, max(requests // 5, 10))
        for number in range(rounds):  # interleaved, the order alternating: drift cancels
            order = list(enumerate(apps))
            for index, app in order if number % 2 else reversed(order):
                samples[index].append(await run(app, requests))
        return samples

    return asyncio.run(measure())


def _wsgi_app(variant: str) -> Callable[..., Any]:
    from flask import Flask

    flask_app = Flask("bench")

    @flask_app.get("/reports")
    def ok() -> str:
        return "ok"

    app: Callable[..., Any] = flask_app.wsgi_app
    if variant == "wsgi cs_sdk":
        from cs_sdk.integrations.wsgi import CsMiddleware

        def from_environ(environ: dict[str, Any]) -> dict[str, str] | None:
            cookie = environ.get("HTTP_COOKIE", "")
            return {"user_id": "u1", "account_id": "acme"} if "uid=u1" in cookie else None

        app = CsMiddleware(app, identify=from_environ)
    elif variant == "wsgi sentry":
        import sentry_sdk
        from sentry_sdk.integrations.wsgi import SentryWsgiMiddleware

        sentry_sdk.init(default_integrations=False, auto_enabling_integrations=False)
        app = SentryWsgiMiddleware(app)
    return app


def _time_wsgi(apps: list[Callable[..., Any]], requests: int, rounds: int) -> list[list[float]]:
    import io

    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": "/reports", "SCRIPT_NAME": "", "QUERY_STRING": "",
        "SERVER_NAME": "app.test", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "app.test", "HTTP_COOKIE": COOKIE.decode(), "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": False,
        "wsgi.run_once": False, "wsgi.version": (1, 0),
    }  # fmt: skip

    def start_response(status: str, headers: list[Any], exc_info: Any = None) -> None:
        return None

    def run(app: Callable[..., Any], count: int) -> float:
        start = time.perf_counter()
        for _ in range(count):
            body = app({**environ, "wsgi.input": io.BytesIO(b"")}, start_response)
            for _chunk in body:
                pass
            close = getattr(body, "close", None)
            if close is not None:
                close()
        return (time.perf_counter() - start) / count * 1e6

    samples: list[list[float]] = [[] for _ in apps]
    for app in apps:
        run(app, max(requests // 5, 10))
    for number in range(rounds):
        order = list(enumerate(apps))
        for index, app in order if number % 2 else reversed(order):
            samples[index].append(run(app, requests))
    return samples


def measure(variant: str, requests: int, rounds: int) -> dict[str, Any]:
    """One variant against the bare app, interleaved in this interpreter:
    ``{"variant", "us", "bare_us", "adds_us"}`` (medians over rounds; ``adds_us`` is the
    median of the per-round differences), or ``{"variant", "missing"}``."""
    kind = variant.split()[0]
    try:
        if kind == "asgi":
            bare, app = _asgi_app(f"{kind} bare"), _asgi_app(variant)
            bare_samples, samples = _time_asgi([bare, app], requests, rounds)
        else:
            bare, app = _wsgi_app(f"{kind} bare"), _wsgi_app(variant)
            bare_samples, samples = _time_wsgi([bare, app], requests, rounds)
    except ImportError as error:
        return {"variant": variant, "missing": str(error.name)}
    pairs = zip(samples, bare_samples, strict=True)
    differences = [with_it - without for with_it, without in pairs]
    return {
        "variant": variant,
        "us": statistics.median(samples),
        "bare_us": statistics.median(bare_samples),
        "adds_us": statistics.median(differences),
    }


def _child(variant: str, requests: int, rounds: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.middleware", "--child", variant,
               "--requests", str(requests), "--rounds", str(rounds)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def table(results: list[dict[str, Any]]) -> str:
    """The Markdown table for bench/RESULTS.md."""
    lines = [
        "| app | µs / request | same app bare, µs | middleware adds, µs |",
        "|:--|--:|--:|--:|",
    ]
    for result in results:
        if "us" not in result:
            lines.append(f"| {result['variant']} | not installed ({result['missing']}) | | |")
            continue
        lines.append(
            f"| {result['variant']} | {result['us']:.1f} | {result['bare_us']:.1f} "
            f"| {result['adds_us']:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--child", choices=VARIANTS)
    parser.add_argument("--variants", nargs="*", choices=VARIANTS, default=list(VARIANTS))
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child, args.requests, args.rounds)))
        return 0
    results = [_child(variant, args.requests, args.rounds) for variant in args.variants]
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
