"""Pilots: memberships, the tagging of every event of an enrolled user, and ``assemble``.

``client.pilots`` (``cs_sdk.pilots`` for the global client) is a :class:`Pilots`::

    cs_sdk.pilots.enroll("u1", "new-dashboard", cohort="wave-1", account_id="acme")
    cs_sdk.pilots.of("u1")      # [Membership(pilot='new-dashboard', cohort='wave-1', ...)]
    cs_sdk.pilots.exit("u1", "new-dashboard", reason="finished")
"""

from ..state import Membership
from ._attach import Parts, assemble, open_source
from ._pilots import Pilots
from ._steps import PromptHistoryStep, pilot_tagger

__all__ = [
    "Membership",
    "Parts",
    "Pilots",
    "PromptHistoryStep",
    "assemble",
    "open_source",
    "pilot_tagger",
]
