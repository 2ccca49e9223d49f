"""The type of the feedback apps' optional ``identify=`` resolver."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

IdentifyArg = Callable[[Any], Any] | None
