"""``RedisStore``: shared state for a fleet of app servers (the optional ``redis`` extra).

    >>> store = RedisStore("redis://127.0.0.1:6379/0")   # doctest: +SKIP
    >>> store.try_show("u1", "nps", time.time(), ShowRules(max_shows=1))   # doctest: +SKIP
    True

Each user's state lives in four hashes (memberships, finished pilot periods, milestones,
prompt history and the opt-out flag) whose keys share the hash tag ``{user}``, so a Redis
Cluster keeps them on one node. The set of opted-out users and the change marker (a hash of
version counters, bumped after each change) share the hash tag ``{cs-meta}``.
:meth:`RedisStore.try_show` is one Lua script: Redis runs it without interleaving any other
command, so the throttle check and the recorded show cannot be split by another server.
The answers to a user's feedback live in a hash and a sorted set under the same ``{user}``
tag; each remembered feedback event is a key of its own that expires after a year.

After a fork the child opens a client of its own (see :meth:`RedisStore._reinit_after_fork`).
"""

from __future__ import annotations

import importlib
import time
from typing import Any

from .._config import shown_url
from .._errors import ConfigError
from .._fork import register_for_fork
from ._answers import (
    ANSWERS_PER_USER,
    FEEDBACK_RETENTION,
    Answer,
    FeedbackSummary,
    answer_from_json,
    answer_order,
    summary_from_json,
    to_json,
)
from ._base import (
    NO_HISTORY,
    Membership,
    PilotPeriod,
    PromptHistory,
    ShowRules,
    UserState,
    Versions,
)
from ._redis_scripts import (
    ADD_ANSWER,
    PUT_MEMBERSHIP,
    REMOVE_MEMBERSHIP,
    SET_UNLESS_OPTED_OUT,
    TRY_SHOW,
)

__all__ = ["RedisStore"]


def _import_redis() -> Any:
    try:
        return importlib.import_module("redis")
    except ImportError:
        raise ConfigError(
            "state='redis://...' needs the redis package: pip install 'cs-sdk[redis]'"
        ) from None


class RedisStore:
    """A :class:`~cs_sdk.state.StateStore` in Redis.

    Args:
        url: ``redis://host:port/db`` (or ``rediss://`` for TLS, ``unix://`` for a socket).
        prefix: prepended to every key, to share a Redis database with other data.
        client: an existing ``redis.Redis`` to use instead of ``url`` (closed by the caller).
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "cs:",
        socket_timeout: float = 5.0,
        client: Any = None,
    ) -> None:
        self._url = url
        self._socket_timeout = socket_timeout
        self._prefix = prefix
        self._owns_client = client is None
        self._use(client if client is not None else self._open_client())
        if self._owns_client:
            register_for_fork(self)

    def _open_client(self) -> Any:
        # No I/O here: redis-py connects on the first command.
        return _import_redis().Redis.from_url(
            self._url,
            decode_responses=True,
            socket_timeout=self._socket_timeout,
            socket_connect_timeout=self._socket_timeout,
        )

    def _use(self, client: Any) -> None:
        self._redis = client
        self._try_show = client.register_script(TRY_SHOW)
        self._put = client.register_script(PUT_MEMBERSHIP)
        self._remove = client.register_script(REMOVE_MEMBERSHIP)
        self._add_answer = client.register_script(ADD_ANSWER)
        self._set = client.register_script(SET_UNLESS_OPTED_OUT)

    def _reinit_after_fork(self) -> None:
        # redis-py's pool notices a new pid and resets itself, but under its own lock, copied
        # in whatever state the fork found it: a parent thread taking a connection at that
        # moment hangs the child's first command for ever. So the child gets a client (and a
        # pool, and locks) of its own. The inherited one must not close its pool when it is
        # collected, which would take that same lock; its sockets are closed without a
        # shutdown (redis-py checks the pid), so the parent's connections are untouched.
        inherited = self._redis
        if hasattr(inherited, "auto_close_connection_pool"):
            inherited.auto_close_connection_pool = False
        self._use(self._open_client())

    def __repr__(self) -> str:
        # The URL may carry a password (user info or ?password=): show only where it points.
        return f"RedisStore({shown_url(self._url)!r})"

    def _key(self, user_id: str, kind: str) -> str:
        return f"{self._prefix}{{{user_id}}}:{kind}"

    def _meta(self, kind: str) -> str:
        # The kinds differ from a user's ("pilots", "prompts"...): no user id can collide.
        return f"{self._prefix}{{cs-meta}}:{kind}"

    def _bump(self, kind: str) -> None:
        # After the change it marks: a reader that sees the new version sees the change.
        self._redis.hincrby(self._meta("versions"), kind, 1)

    def put_membership(self, user_id: str, membership: Membership) -> tuple[Membership, bool]:
        value, changed = self._put(
            keys=[self._key(user_id, "pilots"), self._key(user_id, "prompts")],
            args=[
                membership.pilot,
                _encode_cohort(membership.cohort),
                repr(membership.enrolled_ts),
            ],
        )
        if value is None:
            return membership, False  # opted out: nothing stored
        if changed:
            self._bump("memberships")
        return _membership(membership.pilot, value), bool(changed)

    def remove_membership(
        self, user_id: str, pilot_id: str, at: float | None = None
    ) -> Membership | None:
        exited_at = time.time() if at is None else at
        value = self._remove(
            keys=[self._key(user_id, "pilots"), self._key(user_id, "exits")],
            args=[pilot_id, repr(exited_at)],
        )
        if not value:
            return None
        self._bump("memberships")
        return _membership(pilot_id, value)

    def memberships(self, user_id: str) -> tuple[Membership, ...]:
        return _memberships(self._redis.hgetall(self._key(user_id, "pilots")))

    def pilot_periods(self, user_id: str) -> tuple[PilotPeriod, ...]:
        # One round trip for both hashes.
        pipe = self._redis.pipeline(transaction=False)
        pipe.hgetall(self._key(user_id, "pilots"))
        pipe.hgetall(self._key(user_id, "exits"))
        current, finished = pipe.execute()
        periods = [_period(pilot, None, value) for pilot, value in current.items()]
        for pilot, value in finished.items():
            exited_at, _, membership = value.partition("|")
            periods.append(_period(pilot, float(exited_at), membership))
        return tuple(periods)

    def add_milestone(self, user_id: str, name: str, at: float) -> None:
        keys = [self._key(user_id, "milestones"), self._key(user_id, "prompts")]
        self._set(keys=keys, args=[name, repr(at), "nx"])

    def has_milestone(self, user_id: str, name: str) -> bool:
        return bool(self._redis.hexists(self._key(user_id, "milestones"), name))

    def milestones(self, user_id: str) -> frozenset[str]:
        return frozenset(self._redis.hkeys(self._key(user_id, "milestones")))

    def history(self, user_id: str, prompt_id: str) -> PromptHistory:
        fields = [f"{tag}:{prompt_id}" for tag in "slad"]
        values = self._redis.hmget(self._key(user_id, "prompts"), fields)
        return _history(*values)

    def last_prompt_at(self, user_id: str) -> float | None:
        value = self._redis.hget(self._key(user_id, "prompts"), "last")
        return None if value is None else float(value)

    def user_state(self, user_id: str) -> UserState:
        # One round trip for the three hashes.
        pipe = self._redis.pipeline(transaction=False)
        pipe.hgetall(self._key(user_id, "pilots"))
        pipe.hkeys(self._key(user_id, "milestones"))
        pipe.hgetall(self._key(user_id, "prompts"))
        pilots, milestones, prompts = pipe.execute()
        grouped: dict[str, dict[str, str]] = {}
        for field, value in prompts.items():
            tag, _, prompt_id = field.partition(":")
            if prompt_id:
                grouped.setdefault(prompt_id, {})[tag] = value
        history = {
            prompt_id: _history(f.get("s"), f.get("l"), f.get("a"), f.get("d"))
            for prompt_id, f in grouped.items()
        }
        last = prompts.get("last")
        return UserState(
            _memberships(pilots),
            frozenset(milestones),
            history,
            None if last is None else float(last),
            "optout" in prompts,
        )

    def try_show(self, user_id: str, prompt_id: str, now: float, rules: ShowRules) -> bool:
        allowed = self._try_show(
            keys=[self._key(user_id, "prompts")],
            args=[
                prompt_id,
                repr(now),
                -1 if rules.max_shows is None else rules.max_shows,
                repr(rules.global_wait),
                1 if rules.stop_after_answer else 0,
                -1 if rules.dismiss_cooldown is None else repr(rules.dismiss_cooldown),
            ],
        )
        return bool(allowed)

    def record_answered(self, user_id: str, prompt_id: str, at: float) -> None:
        prompts = self._key(user_id, "prompts")
        self._set(keys=[prompts, prompts], args=[f"a:{prompt_id}", repr(at), ""])

    def record_dismissed(self, user_id: str, prompt_id: str, at: float) -> None:
        prompts = self._key(user_id, "prompts")
        self._set(keys=[prompts, prompts], args=[f"d:{prompt_id}", repr(at), ""])

    def set_opted_out(self, user_id: str, opted_out: bool, at: float) -> bool:
        # The per-user flag (read atomically by try_show) first, then the shared set, then
        # the marker; each step is idempotent, so a retry after a failure completes it.
        prompts = self._key(user_id, "prompts")
        if opted_out:
            changed = self._redis.hsetnx(prompts, "optout", repr(at))
            changed = self._redis.sadd(self._meta("opted_out"), user_id) or changed
        else:
            changed = self._redis.hdel(prompts, "optout")
            changed = self._redis.srem(self._meta("opted_out"), user_id) or changed
        if changed:
            self._bump("opt_outs")
        return bool(changed)

    def is_opted_out(self, user_id: str) -> bool:
        return bool(self._redis.hexists(self._key(user_id, "prompts"), "optout"))

    def opted_out_users(self) -> frozenset[str]:
        return frozenset(self._redis.sscan_iter(self._meta("opted_out"), count=1000))

    def versions(self) -> Versions:
        found = self._redis.hmget(self._meta("versions"), ["memberships", "opt_outs"])
        return Versions(int(found[0] or 0), int(found[1] or 0))

    def remember_feedback(self, summary: FeedbackSummary) -> None:
        # One key per feedback event (not per user: respond() knows only the event id),
        # expiring on its own when the retention has passed since the feedback's time.
        remaining = int(summary.recorded_ts + FEEDBACK_RETENTION - time.time())
        if remaining <= 0:
            return
        self._redis.set(
            f"{self._prefix}feedback:{summary.feedback_id}", to_json(summary), ex=remaining
        )

    def feedback_summary(self, feedback_id: str) -> FeedbackSummary | None:
        value = self._redis.get(f"{self._prefix}feedback:{feedback_id}")
        return None if value is None else summary_from_json(value)

    def add_answer(self, user_id: str, answer: Answer) -> None:
        self._add_answer(
            keys=[self._key(user_id, "answers"), self._key(user_id, "answer_times")],
            args=[
                answer.response_id,
                repr(answer.answered_ts),
                to_json(answer),
                ANSWERS_PER_USER,
                int(FEEDBACK_RETENTION),
            ],
        )

    def answers(self, user_id: str, limit: int = ANSWERS_PER_USER) -> tuple[Answer, ...]:
        values = self._redis.hvals(self._key(user_id, "answers"))
        found = sorted((answer_from_json(value) for value in values), key=answer_order)
        found.reverse()
        return tuple(found[: max(limit, 0)])

    def close(self) -> None:
        if self._owns_client:
            self._redis.close()


def _encode_cohort(cohort: str | None) -> str:
    return "" if cohort is None else f"={cohort}"


def _membership(pilot: str, value: str) -> Membership:
    enrolled_at, _, cohort = value.partition("|")
    return Membership.from_ts(pilot, cohort[1:] if cohort else None, float(enrolled_at))


def _period(pilot: str, exited_at: float | None, value: str) -> PilotPeriod:
    enrolled_at, _, cohort = value.partition("|")
    return PilotPeriod(pilot, cohort[1:] if cohort else None, float(enrolled_at), exited_at)


def _memberships(values: dict[str, str]) -> tuple[Membership, ...]:
    found = [_membership(pilot, value) for pilot, value in values.items()]
    return tuple(sorted(found, key=lambda m: (m.enrolled_at, m.pilot)))


def _history(
    shows: str | None, last: str | None, answered: str | None, dismissed: str | None
) -> PromptHistory:
    if shows is None and answered is None and dismissed is None:
        return NO_HISTORY
    return PromptHistory(
        int(shows or 0),
        None if last is None else float(last),
        None if answered is None else float(answered),
        None if dismissed is None else float(dismissed),
    )
