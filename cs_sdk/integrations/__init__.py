"""Framework integrations, each an optional extra (``pip install 'cs-sdk[fastapi]'`` ...).

================================  ==========================================================
``cs_sdk.integrations.asgi``      ``CsMiddleware`` for Starlette / FastAPI (any ASGI app)
``cs_sdk.integrations.wsgi``      ``CsMiddleware`` for Flask (any WSGI app)
``cs_sdk.integrations.django``    ``CsMiddleware`` configured in Django settings
``cs_sdk.integrations.celery``    ``instrument_celery(app)``: identity travels with tasks
``cs_sdk.integrations.gunicorn``  ``worker_exit`` hook for gunicorn.conf.py
``cs_sdk.integrations.feedback``  ``feedback_asgi_app`` / ``feedback_wsgi_app`` and the widget
================================  ==========================================================

Nothing here is imported by ``import cs_sdk``; each module imports its framework only when
it is used, so an application installs only the extra it needs.
"""
