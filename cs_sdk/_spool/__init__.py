"""The durable on-disk buffer behind the ``spool_dir`` option."""

from ._sqlite_spool import FILE_NAME, Spool, SpooledBatch, SpoolError

__all__ = ["FILE_NAME", "Spool", "SpoolError", "SpooledBatch"]
