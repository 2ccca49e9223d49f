"""The OTLP attribute names of an event, written once (docs/otlp-mapping.md is their table).

A leaf module with no imports, so that every layer can read the names from here: the
mapping (``_export/_mapping.py``), the built-in events and their JSON Schema
(``events/_builtin.py``), the client's recording calls, ``testing.capture()``, redaction and
the local collector's decoder and store. Reports, schema validation and other backends
query these names: changing one is a breaking change of the wire format.
"""

from __future__ import annotations

from typing import Final

EVENT_ID: Final = "cs.event.id"
EVENT_NAME: Final = "cs.event.name"
SCHEMA_NAME: Final = "cs.schema.name"
SCHEMA_VERSION: Final = "cs.schema.version"
USER_ID: Final = "user.id"  # OpenTelemetry semantic conventions
SESSION_ID: Final = "session.id"  # OpenTelemetry semantic conventions
ACCOUNT_ID: Final = "cs.account.id"
PILOT_IDS: Final = "cs.pilot.ids"
PILOT_COHORTS: Final = "cs.pilot.cohorts"

FEEDBACK_KIND: Final = "cs.feedback.kind"
FEEDBACK_SCORE: Final = "cs.feedback.score"
FEEDBACK_COMMENT: Final = "cs.feedback.comment"
PROMPT_ID: Final = "cs.prompt.id"
PRODUCT_AREA: Final = "cs.product.area"
OUTCOME_VALUE: Final = "cs.outcome.value"
OUTCOME_UNIT: Final = "cs.outcome.unit"
PILOT_ID: Final = "cs.pilot.id"
PILOT_COHORT: Final = "cs.pilot.cohort"
PILOT_EXIT_REASON: Final = "cs.pilot.exit_reason"
