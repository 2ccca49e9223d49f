from typing import Any

def decode(
    data: bytes,
    cls: type,
    setters: tuple[Any, ...],
    max_records: int,
    max_attributes: int,
    max_depth: int,
    max_values: int,
    /,
) -> list[Any] | None: ...
