from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

class Recorder:
    def __init__(
        self,
        *,
        client: Any,
        slow: Callable[..., str | None],
        slow_outcome: Callable[..., str | None],
        slow_feedback: Callable[..., str | None],
        slow_track: Callable[..., str | None],
        schema: Any,
        outcome_schema: Any,
        feedback_schema: Any,
        event_type: type | str,  # cs_sdk.Event, or its module name until loaded
        feedback_scores: dict[str, tuple[int, int] | None],
        attribute_names: tuple[str, str, str, str, str, str, str],
        fallbacks: dict[str, int],
        identity_var: ContextVar[Any],
        otel_context: Callable[[], Any] | ContextVar[Any],
        span_ids: Callable[[Any], tuple[int, int, int]],
        time_ns: Callable[[], int],
        normalize_id: Callable[[object], object],
        converters: dict[type, Callable[[Any], Any]],
        next_seq: Callable[[], int],
        sequence: Iterator[int] | None,
        queue_submit: Callable[..., bool] | None,
        deque_append: Callable[..., None],
        max_name: int,
        max_id: int,
        max_string: int,
        max_properties: int,
        max_items: int,
        max_depth: int,
        record_bytes: int,
        value_bytes: int,
        typed_bytes: int,
        attributes_bytes: int,
    ) -> None: ...
    def milestone(self, name: str, **kwargs: Any) -> str | None: ...
    def outcome(self, name: str, **kwargs: Any) -> str | None: ...
    def feedback(self, kind: str, **kwargs: Any) -> str | None: ...
    def track(self, event: Any, **kwargs: Any) -> str | None: ...

def set_sizes(sizes: tuple[int, ...], /) -> None: ...
def unpack(
    queued: tuple[Any, ...], /
) -> tuple[str, int, dict[Any, Any] | None, dict[Any, Any] | None]: ...
