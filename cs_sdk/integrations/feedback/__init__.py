"""The in-app feedback route and widget (no dependency beyond the SDK).

    from cs_sdk.integrations.asgi import CsMiddleware
    from cs_sdk.integrations.feedback import feedback_asgi_app

    app.add_middleware(CsMiddleware, identify=identify)
    app.mount("/cs/feedback", feedback_asgi_app())

and in the page: ``<script src="/cs/feedback/widget.js" defer></script>``. Guide:
docs/widget.md.
"""

from ._asgi import FeedbackAsgiApp, feedback_asgi_app
from ._guard import CSRF_HEADER, RateLimiter
from ._service import FeedbackService, Reply
from ._wsgi import FeedbackWsgiApp, feedback_wsgi_app

__all__ = [
    "CSRF_HEADER",
    "FeedbackAsgiApp",
    "FeedbackService",
    "FeedbackWsgiApp",
    "RateLimiter",
    "Reply",
    "feedback_asgi_app",
    "feedback_wsgi_app",
]
