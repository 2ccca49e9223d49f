"""The package version, below every module that reports it (the client, the collector)."""

__version__ = "0.1.0"
