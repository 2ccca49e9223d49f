"""``open_store(url)``: the ``state=`` option of a client, turned into a store.

>>> open_store("memory")
MemoryStore()
>>> open_store("sqlite:///state.db")          # ./state.db  # doctest: +SKIP
>>> open_store("sqlite:////var/lib/app/cs.db")  # an absolute path  # doctest: +SKIP
>>> open_store("redis://127.0.0.1:6379/0")     # doctest: +SKIP
"""

from __future__ import annotations

from .._config import shown_url
from .._errors import ConfigError
from ._base import StateStore
from ._memory import MemoryStore

# The SQLite and Redis stores (sqlite3, the Redis scripts) are imported when one is opened:
# the default state="memory" needs neither, and init() is part of every cold start.

__all__ = ["open_store"]

_FORMS = '"memory", "sqlite:///relative.db", "sqlite:////absolute.db" or "redis://host:port/db"'


def open_store(url: str) -> StateStore:
    """Open the store ``url`` names.

    ``sqlite:///`` URLs follow SQLAlchemy's convention: what follows the third slash is the
    path, so a fourth slash makes it absolute.

    Raises:
        ConfigError: the URL is not one of the accepted forms, the SQLite file cannot be
            created or opened, or Redis is asked for without the ``redis`` package installed.
    """
    if url in ("memory", "memory://"):
        return MemoryStore()
    # Every message names the URL as shown_url() shows it: a password may sit in the user
    # info or the query string, and a malformed URL can put part of it anywhere.
    shown = shown_url(url)
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if not path or path == ":memory:":
            raise ConfigError(
                f"state={shown!r} needs a file path; use state='memory' for in-process state"
            )
        import sqlite3

        from ._sqlite import SqliteStore

        try:
            return SqliteStore(path)
        except (OSError, sqlite3.Error) as error:
            # A read-only disk or a missing volume is the deployer's to fix: say what and where.
            problem: object = error
            if isinstance(error, OSError) and error.strerror:
                where = str(error.filename or path)
                problem = error.strerror if where == path else f"{where}: {error.strerror}"
            raise ConfigError(
                f"state={shown!r}: cannot open the SQLite state file {path!r}: {problem}"
            ) from error
    if url.startswith(("redis://", "rediss://", "unix://")):
        from ._redis import RedisStore  # imports the redis package only when one is opened

        try:
            return RedisStore(url)
        except ValueError:
            # redis-py's message quotes the piece it could not read, which may be part of a
            # password ("redis://:pa/ss@host" reads "pa" as the port): not repeated here.
            raise ConfigError(
                f"state={shown!r} is not a valid Redis URL: check its host, port, database "
                "number and query options (a password with '/', '@' or ':' must be "
                "percent-encoded)"
            ) from None
    raise ConfigError(f"state={shown!r} is not a state store URL; use {_FORMS}")
