from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

class Recorder:
    def __init__(
        self,
        client: Any,
        slow: Callable[..., str | None],
        schema: Any,
        identity_var: ContextVar[Any],
        otel_context: Callable[[], Any] | ContextVar[Any],
        span_ids: Callable[[Any], tuple[int, int, int]],
        time_ns: Callable[[], int],
        max_name: int,
        max_string: int,
        max_properties: int,
        record_bytes: int,
        value_bytes: int,
    ) -> None: ...
    def milestone(self, name: str, **kwargs: Any) -> str | None: ...
