"""What the feedback route checks before it reads a request: origin, body size, rate.

CSRF, for cookie sessions: a state-changing request (POST) must

1. carry the custom header ``X-CS-Feedback: 1``. An HTML form cannot set a header, and a
   cross-origin ``fetch`` that sets one needs a CORS preflight, which this route never
   answers, so a foreign page cannot make the browser send it;
2. be ``application/json`` (a form or ``text/plain`` post is refused before it is read);
3. when the browser says where it comes from (``Origin``, or ``Sec-Fetch-Site``), come
   from this site: the ``Origin`` host must equal the ``Host`` the request was sent to and
   ``Sec-Fetch-Site`` must be ``same-origin`` (or ``none``, typed by the user).

Any one of these suffices against today's browsers; together they also hold against an old
browser or a misconfigured CORS proxy that lets one through.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

__all__ = ["CSRF_HEADER", "RateLimiter", "csrf_refusal"]

CSRF_HEADER = "x-cs-feedback"


def csrf_refusal(headers: Mapping[str, str]) -> str | None:
    """Why a POST with these (lower-case) headers is refused as cross-site, or ``None``."""
    if headers.get(CSRF_HEADER) != "1":
        return f"the {CSRF_HEADER} header is required"
    media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        return "the body must be application/json"
    site = headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return f"cross-site request (sec-fetch-site: {site})"
    origin = headers.get("origin")
    if origin is not None:
        host = headers.get("host", "")
        try:
            origin_host = urlsplit(origin).netloc
        except ValueError:
            origin_host = ""
        if not host or origin_host.lower() != host.lower():
            return "the Origin does not match the Host"
    return None


class RateLimiter:
    """A token bucket per key (per user): ``burst`` requests at once, ``per_minute`` after.

    Bounded: the least recently seen keys are forgotten past ``max_keys`` (a forgotten key
    starts again with a full bucket, which only ever errs towards letting a user through).
    """

    def __init__(
        self,
        per_minute: float,
        burst: int,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0.0 when the request may go on; otherwise the seconds until it may."""
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (self._burst, now))
            tokens = min(self._burst, tokens + (now - last) * self._rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self._rate if self._rate > 0 else 60.0
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
            return wait
