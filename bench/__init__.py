"""cs_sdk against its peers (Segment, PostHog, OpenTelemetry), side by side: ``python -m bench``.

Not part of the test suite: it measures, it asserts nothing. See bench/RESULTS.md.
"""
