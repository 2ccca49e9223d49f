"""Acme's shared event schemas: one package, imported by every service that records them.

    from acme_events import ReportExported, SubscriptionRenewed

Export them for review and CI with ``cs-sdk schemas export acme_events --out schemas/``.
"""

from .events import Currency, ReportExported, SubscriptionRenewed

__all__ = ["Currency", "ReportExported", "SubscriptionRenewed"]
