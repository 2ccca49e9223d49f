"""The feedback route's logic, free of any framework: request in, :class:`Reply` out.

The ASGI and WSGI adapters read the request (bounded) and call :meth:`FeedbackService.handle`;
everything that decides lives here, once.

Routes, relative to where the app is mounted (e.g. ``/cs/feedback``):

=========  ===============  ===================================================================
GET        ``/prompt``      the user's next eligible prompt (its show recorded) and the
                            team's answers to their earlier feedback, as JSON
POST       ``/answer``      ``{"prompt_id", "score", "comment"}``: records ``cs.feedback``
POST       ``/dismiss``     ``{"prompt_id"}``: records ``cs.prompt.dismissed``
GET        ``/widget.js``   the widget (``/widget.css`` its default style)
=========  ===============  ===================================================================

Identity is the server's: the ``identify()`` scope the middleware opened for the request. A
body may hold only the fields above, so nothing the browser sends can name another user.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ... import _api
from ..._client import Client
from ..._context import Identity
from ..._log import warn_once
from ...events._builtin import FEEDBACK_SCORES, feedback_rule
from ._guard import RateLimiter, csrf_refusal
from ._static import StaticFile, load_static

__all__ = ["FeedbackService", "Reply"]

_JSON = "application/json"
_JSON_HEADERS = (("cache-control", "no-store"), ("x-content-type-options", "nosniff"))
_ANSWER_FIELDS = frozenset(("prompt_id", "kind", "score", "comment"))
_DISMISS_FIELDS = frozenset(("prompt_id",))
ResponsesSource = Callable[[str], Sequence[Any]]


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP answer: status, body, content type and extra headers."""

    status: int
    body: bytes
    content_type: str = _JSON
    headers: tuple[tuple[str, str], ...] = _JSON_HEADERS


def _json(status: int, document: Mapping[str, Any], *extra: tuple[str, str]) -> Reply:
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    return Reply(status, body, headers=_JSON_HEADERS + extra)


class FeedbackService:
    """The feedback route. Build it through ``feedback_asgi_app`` / ``feedback_wsgi_app``.

    Args:
        client: the client that records and owns the prompts; by default the global one at
            the time of each request.
        max_body_bytes: larger request bodies are refused (413) before being read whole.
        max_comment_length: characters a comment may have.
        answers_per_minute: POSTs allowed per user and minute, after the burst.
        answer_burst: POSTs a user may send at once.
        reads_per_minute: GETs of ``/prompt`` allowed per user and minute, after the burst.
        read_burst: GETs of ``/prompt`` a user may send at once.
        responses: ``user_id -> list of cs_sdk.Answer`` to show in the widget; by default
            ``client.responses.for_user`` (API section 9).
    """

    def __init__(
        self,
        *,
        client: Client | None = None,
        max_body_bytes: int = 4096,
        max_comment_length: int = 2000,
        answers_per_minute: float = 10.0,
        answer_burst: int = 5,
        reads_per_minute: float = 60.0,
        read_burst: int = 20,
        responses: ResponsesSource | None = None,
    ) -> None:
        self._client = client
        self.max_body_bytes = max_body_bytes
        self._max_comment = max_comment_length
        self._posts = RateLimiter(answers_per_minute, answer_burst)
        self._reads = RateLimiter(reads_per_minute, read_burst)
        self._responses = responses
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._static: dict[str, StaticFile] = load_static()

    # -- books -----------------------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        """Counters: ``shown``, ``answered``, ``dismissed`` and ``refused.<reason>``."""
        with self._lock:
            return dict(self._counts)

    def _count(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1

    def _refuse(self, status: int, reason: str, message: str, *extra: tuple[str, str]) -> Reply:
        self._count(f"refused.{reason}")
        if reason in ("not_shown", "csrf", "already_answered"):
            warn_once(
                f"feedback:{reason}",
                "cs_sdk: the feedback route refused a request (%s): %s",
                reason,
                message,
            )
        return _json(status, {"error": reason, "message": message}, *extra)

    # -- request handling ------------------------------------------------------------------

    def before_body(
        self, method: str, path: str, headers: Mapping[str, str], identity: Identity
    ) -> Reply | None:
        """The answer to give without reading the body, or ``None`` to read it and go on.

        ``headers`` have lower-case names. Static files and GETs are answered here whole.
        """
        if path in self._static:
            if method not in ("GET", "HEAD"):
                return _json(405, {"error": "method_not_allowed"}, ("allow", "GET, HEAD"))
            return self._static_reply(path, headers)
        if path in ("", "/", "/prompt"):
            if method != "GET":
                return _json(405, {"error": "method_not_allowed"}, ("allow", "GET"))
            return self._next_prompt(identity)
        if path not in ("/answer", "/dismiss"):
            return _json(404, {"error": "not_found"})
        if method != "POST":
            return _json(405, {"error": "method_not_allowed"}, ("allow", "POST"))
        refusal = csrf_refusal(headers)
        if refusal is not None:
            return self._refuse(403, "csrf", refusal)
        if identity.user_id is None:
            return self._refuse(401, "anonymous", "feedback needs a signed-in user")
        wait = self._posts.take(identity.user_id)
        if wait > 0:
            return self._refuse(
                429, "rate_limited", "too many answers", ("retry-after", str(int(wait) + 1))
            )
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
            return self.too_large()
        return None

    def too_large(self) -> Reply:
        """The answer to a body over ``max_body_bytes`` (the adapters stop reading there)."""
        return self._refuse(413, "too_large", f"the body must be at most {self.max_body_bytes} B")

    def handle_body(self, path: str, body: bytes, identity: Identity) -> Reply:
        """Finish a POST that :meth:`before_body` let through."""
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return self._refuse(400, "bad_json", "the body is not JSON")
        if not isinstance(document, dict):
            return self._refuse(400, "bad_json", "the body must be a JSON object")
        allowed = _ANSWER_FIELDS if path == "/answer" else _DISMISS_FIELDS
        unexpected = sorted(set(document) - allowed)
        if unexpected:
            # user_id, account_id... are never taken from the browser.
            return self._refuse(400, "invalid", f"unexpected field(s): {', '.join(unexpected)}")
        client = self._client or _api.get_client()
        if client is None:
            return self._refuse(503, "unavailable", "cs_sdk.init() has not been called")
        prompt_id = document.get("prompt_id")
        if type(prompt_id) is not str or not prompt_id or len(prompt_id) > 256:
            return self._refuse(400, "invalid", "prompt_id must be a non-empty string")
        spec = _prompt_spec(client, prompt_id)
        if spec is None:
            return self._refuse(404, "unknown_prompt", f"no prompt {prompt_id!r}")
        user_id = identity.user_id
        assert user_id is not None  # before_body refused anonymous POSTs
        history = client.prompts.history(prompt_id, user_id)
        if history is None:
            return self._refuse(503, "unavailable", "the prompt history cannot be read")
        if history.shows == 0:
            return self._refuse(403, "not_shown", f"prompt {prompt_id!r} was not shown to you")
        if path == "/dismiss":
            client.prompts.dismissed(prompt_id, user_id, account_id=identity.account_id)
            self._count("dismissed")
            return _json(200, {"dismissed": prompt_id})
        return self._answer(client, spec, document, identity, history.answered_at)

    def _answer(
        self,
        client: Client,
        spec: Any,
        document: Mapping[str, Any],
        identity: Identity,
        answered_at: float | None,
    ) -> Reply:
        if answered_at is not None:
            return self._refuse(409, "already_answered", f"prompt {spec.id!r} was answered")
        kind = document.get("kind", spec.kind)
        if kind != spec.kind:
            return self._refuse(400, "invalid", f"this prompt asks for {spec.kind!r} feedback")
        score, comment = document.get("score"), document.get("comment")
        if isinstance(comment, str):
            comment = comment.strip() or None
        if comment is not None and (type(comment) is not str or len(comment) > self._max_comment):
            return self._refuse(
                400, "invalid", f"comment must be text of at most {self._max_comment} characters"
            )
        broken = feedback_rule(spec.kind, score, comment)
        if broken is not None:
            return self._refuse(400, "invalid", f"{broken[0]} {broken[1]}")
        # Two answers racing past the history check both record; the prompt is closed by the
        # first one (feedback() marks it answered at once), which is as far as a show-once
        # rule can go without a lock across servers. The report counts the first answer.
        event_id = client.feedback(
            spec.kind,
            score=score,
            comment=comment,
            user_id=identity.user_id,
            account_id=identity.account_id,
            session_id=identity.session_id,
            prompt_id=spec.id,
            area=spec.area,
        )
        self._count("answered")
        return _json(200, {"recorded": event_id is not None, "event_id": event_id})

    def _next_prompt(self, identity: Identity) -> Reply:
        user_id = identity.user_id
        client = self._client or _api.get_client()
        if user_id is None or client is None:
            return _json(200, {"prompt": None, "responses": []})
        wait = self._reads.take(user_id)
        if wait > 0:
            return self._refuse(
                429, "rate_limited", "too many requests", ("retry-after", str(int(wait) + 1))
            )
        document: dict[str, Any] = {"prompt": None, "responses": self._answers_for(client, user_id)}
        prompt = client.prompts.next_for(user_id, account_id=identity.account_id)
        if prompt is not None and client.prompts.shown(
            prompt.id, user_id, account_id=identity.account_id
        ):
            self._count("shown")
            bounds = FEEDBACK_SCORES.get(prompt.kind)
            document["prompt"] = {
                "id": prompt.id,
                "kind": prompt.kind,
                "question": prompt.question,
                "area": prompt.area,
                "min": bounds[0] if bounds else None,
                "max": bounds[1] if bounds else None,
            }
        return _json(200, document)

    def _answers_for(self, client: Client, user_id: str) -> list[dict[str, Any]]:
        source = self._responses or client.responses.for_user
        try:
            return [_response_json(item) for item in list(source(user_id))[:20]]
        except Exception:
            warn_once("feedback:responses", "cs_sdk: reading the answers to a user failed")
            return []

    def _static_reply(self, path: str, headers: Mapping[str, str]) -> Reply:
        static = self._static[path]
        cache = (("cache-control", "public, max-age=300"), ("etag", static.etag))
        nosniff = ("x-content-type-options", "nosniff")
        if headers.get("if-none-match") == static.etag:
            return Reply(304, b"", static.content_type, (*cache, nosniff))
        return Reply(200, static.body, static.content_type, (*cache, nosniff))


def _prompt_spec(client: Client, prompt_id: str) -> Any:
    config = client.prompts.config
    if config is None:
        return None
    return next((spec for spec in config.prompts if spec.id == prompt_id), None)


def _response_json(answer: Any) -> dict[str, Any]:
    """One :class:`~cs_sdk.Answer` as the widget shows it: only these fields leave the
    server (the feedback's comment is the redacted gist the SDK kept)."""
    said = answer.feedback
    return {
        "response_id": answer.response_id,
        "feedback_id": answer.feedback_id,
        "message": answer.message,
        "team": answer.team,
        "status": answer.status,
        "answered_at": answer.answered_at.isoformat(),
        "feedback": None
        if said is None
        else {"kind": said.kind, "score": said.score, "comment": said.comment, "area": said.area},
    }
