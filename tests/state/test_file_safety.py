"""The state file is private whatever it was before, and a link at its path is never followed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import cs_sdk
from cs_sdk import ConfigError
from cs_sdk.state import SqliteStore, open_store


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_an_existing_world_readable_state_database_is_tightened_with_its_wal(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.db"
    SqliteStore(path).close()
    # An older version, a copy or a restore left it (and its -wal/-shm) readable by all.
    sidecars = [Path(f"{path}{suffix}") for suffix in ("-wal", "-shm")]
    for file in (path, *sidecars):
        file.touch()
        os.chmod(file, 0o644)
    store = SqliteStore(path)
    try:
        store.add_milestone("u1", "signup", 1.0)
        for file in (path, *sidecars):
            assert _mode(file) == 0o600, file.name
    finally:
        store.close()


def test_a_symbolic_link_at_the_state_path_is_refused_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_text("the application's own file\n")
    os.chmod(target, 0o644)
    link = tmp_path / "state.db"
    link.symlink_to(target)
    with pytest.raises(ConfigError, match=r"symbolic link"):
        open_store(f"sqlite:///{link}")
    with pytest.raises(ConfigError, match=r"symbolic link"):
        cs_sdk.Client(environ={}, state=f"sqlite:///{link}")
    # The target was neither written nor had its mode changed.
    assert target.read_text() == "the application's own file\n"
    assert _mode(target) == 0o644


def test_a_dangling_link_at_the_state_path_does_not_create_its_target(tmp_path: Path) -> None:
    link = tmp_path / "state.db"
    target = tmp_path / "created-through-the-link.db"
    link.symlink_to(target)
    with pytest.raises(ConfigError, match=r"symbolic link"):
        open_store(f"sqlite:///{link}")
    assert not target.exists()


def test_a_link_at_the_wal_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    SqliteStore(path).close()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    target = tmp_path / "victim"
    target.write_bytes(b"")
    Path(f"{path}-wal").symlink_to(target)
    with pytest.raises(ConfigError, match=r"state\.db-wal.*symbolic link"):
        open_store(f"sqlite:///{path}")
    assert target.read_bytes() == b""
