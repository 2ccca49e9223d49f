"""The spool's directory and files are private whatever was there before; links are refused."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import cs_sdk
from cs_sdk import ConfigError
from cs_sdk._spool import FILE_NAME, Spool, SpoolError


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_an_existing_world_writable_spool_directory_is_tightened(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    directory.mkdir()
    os.chmod(directory, 0o777)
    Spool(directory, max_bytes=10_000).close()
    # Others may no longer plant or replace files in it; the owner's other choices stay.
    assert _mode(directory) == 0o755


def test_a_shared_sticky_directory_such_as_tmp_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "like-tmp"
    directory.mkdir()
    os.chmod(directory, 0o1777)
    with pytest.raises(SpoolError, match=r"other users may write"):
        Spool(directory, max_bytes=10_000)
    with pytest.raises(ConfigError, match=r"spool_dir=.*other users may write"):
        cs_sdk.Client(environ={}, spool_dir=str(directory))
    assert _mode(directory) == 0o1777  # left as the system set it
    assert not (directory / FILE_NAME).exists()


def test_existing_world_readable_spool_files_are_tightened(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    Spool(directory, max_bytes=10_000).close()
    files = [directory / FILE_NAME, *(directory / f"{FILE_NAME}{s}" for s in ("-wal", "-shm"))]
    for file in files:
        file.touch()
        os.chmod(file, 0o644)
    spool = Spool(directory, max_bytes=10_000)
    spool.append(b"x", 1, "application/x-protobuf", None)
    spool.close()
    for file in files:
        if file.exists():
            assert _mode(file) == 0o600, file.name


@pytest.mark.parametrize("dangling", [False, True])
def test_a_symbolic_link_at_the_spool_file_is_refused_not_followed(
    tmp_path: Path, dangling: bool
) -> None:
    directory = tmp_path / "spool"
    directory.mkdir(mode=0o700)
    target = tmp_path / "target.db"
    if not dangling:
        target.write_bytes(b"someone else's data")
        os.chmod(target, 0o644)
    (directory / FILE_NAME).symlink_to(target)
    with pytest.raises(SpoolError, match=r"symbolic link"):
        Spool(directory, max_bytes=10_000)
    with pytest.raises(ConfigError, match=r"spool_dir=.*symbolic link"):
        cs_sdk.Client(environ={}, spool_dir=str(directory))
    if dangling:
        assert not target.exists()
    else:
        assert target.read_bytes() == b"someone else's data"
        assert _mode(target) == 0o644


def test_a_symbolic_link_at_the_spool_wal_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    Spool(directory, max_bytes=10_000).close()
    for suffix in ("-wal", "-shm"):
        (directory / f"{FILE_NAME}{suffix}").unlink(missing_ok=True)
    victim = tmp_path / "victim"
    victim.write_bytes(b"")
    (directory / f"{FILE_NAME}-wal").symlink_to(victim)
    with pytest.raises(SpoolError, match=r"-wal.*symbolic link"):
        Spool(directory, max_bytes=10_000)
    assert victim.read_bytes() == b""
