"""Files only this user may read: the spool and the SQLite state store hold user ids and text.

One rule for both, applied every time a file is opened, not only when it is created:

- the file is opened with ``O_NOFOLLOW``: a symbolic link where the file should be is refused
  (:class:`UnsafePathError`), so nobody can point the SDK's writes at another file;
- it must be a regular file owned by this user; an existing one readable by others (a
  ``0644`` file from an older version, a copy, a umask) is tightened to ``0600``, and so are
  SQLite's ``-wal`` and ``-shm`` files beside it (which must not be links either);
- a directory the SDK owns (the spool's) is created ``0700``; an existing one that others may
  write to is tightened when this user owns it and refused when not, or when it is a shared
  sticky directory such as ``/tmp`` (chmod there would break the system's own use of it).

A check and SQLite's own ``open()`` of the same path are two steps: :func:`same_file` lets
the caller confirm afterwards that SQLite opened the file checked here.

    >>> fd_stat = open_private_file(Path("/var/lib/app/cs_state.db"))  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

__all__ = [
    "UnsafePathError",
    "open_private_file",
    "private_directory",
    "same_file",
    "tighten_sidecars",
]

_PRIVATE = 0o600
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
SIDECARS = ("-wal", "-shm", "-journal")


class UnsafePathError(OSError):
    """A private file or directory cannot be used safely; the message says why and where."""

    def __str__(self) -> str:
        return f"{self.filename}: {self.strerror}"


def _owner_is_me(info: os.stat_result) -> bool:
    geteuid = getattr(os, "geteuid", None)
    return geteuid is None or info.st_uid == geteuid()


def private_directory(directory: Path) -> None:
    """Create ``directory`` ``0700``, or make sure an existing one is not writable by others.

    Raises:
        UnsafePathError: it is not a directory, or others may write to it and it cannot be
            tightened (owned by someone else, or a sticky shared directory like ``/tmp``).
    """
    try:
        directory.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        pass
    else:
        os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask
        return
    info = os.stat(directory)  # a link to a directory is fine: the files in it are checked
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafePathError(errno.ENOTDIR, "not a directory", str(directory))
    mode = stat.S_IMODE(info.st_mode)
    if not mode & 0o022:
        return  # an existing directory keeps the mode its owner chose, unless others write
    if mode & stat.S_ISVTX or not _owner_is_me(info):
        raise UnsafePathError(
            errno.EPERM,
            f"other users may write to this directory (mode {mode:04o}); "
            "use a directory of its own (it is created 0700)",
            str(directory),
        )
    # Others could replace or plant files here (a link at the spool's -wal): not any more.
    os.chmod(directory, mode & ~0o022)


def _check_opened(fd: int, path: Path) -> os.stat_result:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise UnsafePathError(errno.EINVAL, "not a regular file", str(path))
    if not _owner_is_me(info):
        raise UnsafePathError(errno.EPERM, "owned by another user", str(path))
    if stat.S_IMODE(info.st_mode) != _PRIVATE:
        os.fchmod(fd, _PRIVATE)
    return info


def _open_nofollow(path: Path, flags: int) -> int:
    try:
        return os.open(path, flags | _O_NOFOLLOW | _O_CLOEXEC, _PRIVATE)
    except OSError as error:
        if error.errno == errno.ELOOP or (error.errno == errno.EEXIST and path.is_symlink()):
            raise UnsafePathError(
                errno.ELOOP, "is a symbolic link; cs_sdk does not follow links for its "
                "private files (use the real path)", str(path),
            ) from None  # fmt: skip
        raise


def open_private_file(path: Path) -> os.stat_result:
    """Create ``path`` ``0600`` or check and tighten the existing file and its sidecars.

    Returns the file's ``stat`` (for :func:`same_file` once SQLite opened it).

    Raises:
        UnsafePathError: ``path`` or a sidecar is a link, not a regular file, or not ours.
    """
    fd = _open_nofollow(path, os.O_RDWR | os.O_CREAT)
    try:
        info = _check_opened(fd, path)
    finally:
        os.close(fd)
    tighten_sidecars(path)
    return info


def tighten_sidecars(path: Path) -> None:
    """Refuse links at, and tighten to ``0600``, SQLite's ``-wal``/``-shm``/``-journal``.

    SQLite gives them the main file's mode when it creates them, but ones left by an older
    version, or made by hand, may be wider.
    """
    for suffix in SIDECARS:
        side = Path(f"{path}{suffix}")
        try:
            fd = _open_nofollow(side, os.O_RDWR)
        except FileNotFoundError:
            continue
        try:
            _check_opened(fd, side)
        finally:
            os.close(fd)


def same_file(path: Path, expected: os.stat_result) -> None:
    """Raise unless ``path`` is still the file checked by :func:`open_private_file`.

    Raises:
        UnsafePathError: it was replaced (by a link, or another file) in between.
    """
    with contextlib.suppress(FileNotFoundError):
        info = os.lstat(path)
        if (info.st_dev, info.st_ino) == (expected.st_dev, expected.st_ino):
            return
    raise UnsafePathError(errno.EBUSY, "was replaced while it was being opened", str(path))
