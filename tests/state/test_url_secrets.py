"""A Redis URL's password never shows: not in reprs, not in configuration errors."""

from __future__ import annotations

import pytest

import cs_sdk
from cs_sdk import ConfigError
from cs_sdk._config import shown_url
from cs_sdk.state import RedisStore, open_store

SECRET = "s3cr3t-Pa55"


@pytest.mark.parametrize(
    "url",
    [
        f"redis://127.0.0.1:6379/0?password={SECRET}",
        f"redis://user:{SECRET}@127.0.0.1:6379/0",
        f"redis://:{SECRET}@127.0.0.1:6379/0?socket_timeout=1",
        f"rediss://127.0.0.1:6380/0?username=u&password={SECRET}",
        f"unix:///tmp/redis.sock?db=0&password={SECRET}",
        f"redis://u:/{SECRET}@127.0.0.1/0",  # a "/" in the password: redis-py takes it
    ],
)
def test_the_pilots_repr_shows_where_redis_is_not_its_password(url: str) -> None:
    client = cs_sdk.Client(
        service_name="t", endpoint="http://127.0.0.1:9", state=url, redact_pii=True
    )
    try:
        shown = repr(client.pilots)
        assert SECRET not in shown
        assert "RedisStore(" in shown
        assert SECRET not in repr(client) + repr(client.config) + repr(client.prompts)
    finally:
        client.shutdown(0)
    assert SECRET not in repr(RedisStore(url))


@pytest.mark.parametrize(
    "url",
    [
        # A "/" in the password makes the rest of it the path and its start the port.
        f"redis://:pa/{SECRET}@127.0.0.1:6379/0",
        f"redis://127.0.0.1:6379/0?password={SECRET}&socket_timeout=soon",
        f"redis://:{SECRET}@[::1/0",
        f"redis://:{SECRET}@127.0.0.1:port/0",
        f"postgres://app:{SECRET}@db.example.com/app?sslpassword={SECRET}",
    ],
)
def test_configuration_errors_about_a_state_url_never_carry_its_password(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        open_store(url)
    message = str(caught.value)
    assert SECRET not in message
    assert "pa/" not in message  # nor a piece of it
    assert SECRET not in "".join(str(arg) for arg in caught.value.args)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:pw@host:6379/0?password=pw", "redis://host:6379/0"),
        (
            "https://user:token@example.com/prompts.json?api_key=k",
            "https://example.com/prompts.json",
        ),
        # The password swallowed the path: nothing after the host is shown.
        ("redis://u:/ss@host/0", "redis://u/[masked]"),
        ("redis://:pa/ss@host/0", "redis://:[invalid port]/[masked]"),
    ],
)
def test_one_rule_masks_every_url_shown(url: str, shown: str) -> None:
    assert shown_url(url) == shown
