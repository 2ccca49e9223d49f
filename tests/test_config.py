"""Configuration: arguments win over OTEL_* variables; env durations are milliseconds."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import cs_sdk
from cs_sdk import ConfigError
from cs_sdk._config import resolve


def test_defaults_point_at_a_local_collector() -> None:
    config = resolve({})
    assert config.logs_endpoint == "http://localhost:4318/v1/logs"
    assert config.protocol == "http/protobuf"
    assert config.compression == "gzip"
    assert config.service_name == "unknown_service"
    assert config.verify is True


def test_endpoint_argument_is_a_base_url() -> None:
    assert (
        resolve({}, endpoint="http://127.0.0.1:9999/").logs_endpoint
        == "http://127.0.0.1:9999/v1/logs"
    )


def test_generic_endpoint_variable_is_a_base_and_the_logs_variable_is_used_as_is() -> None:
    assert (
        resolve({"OTEL_EXPORTER_OTLP_ENDPOINT": "https://otel.example:4318"}).logs_endpoint
        == "https://otel.example:4318/v1/logs"
    )
    both = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "https://generic:4318",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "https://logs:4318/custom/path",
    }
    assert resolve(both).logs_endpoint == "https://logs:4318/custom/path"
    assert resolve(both, endpoint="http://arg:1").logs_endpoint == "http://arg:1/v1/logs"


def test_environment_durations_are_milliseconds_and_arguments_are_seconds() -> None:
    env = {
        "OTEL_EXPORTER_OTLP_TIMEOUT": "2500",
        "OTEL_BLRP_SCHEDULE_DELAY": "200",
        "OTEL_BLRP_EXPORT_TIMEOUT": "7000",
    }
    config = resolve(env)
    assert config.timeout == 2.5
    assert config.schedule_delay == 0.2
    assert config.export_timeout == 7.0
    assert resolve(env, timeout=1.5).timeout == 1.5


def test_signal_specific_variables_win_over_generic_ones() -> None:
    env = {
        "OTEL_EXPORTER_OTLP_TIMEOUT": "1000",
        "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT": "3000",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "http/json",
        "OTEL_EXPORTER_OTLP_COMPRESSION": "none",
        "OTEL_EXPORTER_OTLP_HEADERS": "a=1",
        "OTEL_EXPORTER_OTLP_LOGS_HEADERS": "b=2",
    }
    config = resolve(env)
    assert config.timeout == 3.0
    assert config.protocol == "http/json"
    assert config.compression == "none"
    assert dict(config.headers) == {"b": "2"}


def test_headers_and_resource_attributes_are_percent_decoded() -> None:
    env = {
        "OTEL_EXPORTER_OTLP_HEADERS": "api-key=s3cr%3Dt, x-team = growth",
        "OTEL_RESOURCE_ATTRIBUTES": "service.name=from-attrs,deployment.environment.name=prod",
    }
    config = resolve(env)
    assert dict(config.headers) == {"api-key": "s3cr=t", "x-team": "growth"}
    assert config.service_name == "from-attrs"
    assert config.environment == "prod"


def test_service_name_precedence() -> None:
    env = {"OTEL_SERVICE_NAME": "env-name", "OTEL_RESOURCE_ATTRIBUTES": "service.name=attr-name"}
    assert resolve(env).service_name == "env-name"
    assert resolve(env, service_name="arg").service_name == "arg"
    assert resolve(env, service_name="arg").resource_attributes["service.name"] == "arg"


def test_batch_processor_variables() -> None:
    config = resolve({"OTEL_BLRP_MAX_QUEUE_SIZE": "500", "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE": "100"})
    assert (config.max_queue_size, config.max_export_batch_size) == (500, 100)
    # A batch can never be larger than the queue.
    assert resolve({}, max_queue_size=10, max_export_batch_size=50).max_export_batch_size == 10


def test_sdk_disabled_variable() -> None:
    assert resolve({"OTEL_SDK_DISABLED": "true"}).disabled is True
    assert resolve({"OTEL_SDK_DISABLED": "false"}).disabled is False


def test_a_malformed_variable_is_logged_and_ignored(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="cs_sdk"):
        config = resolve({"OTEL_BLRP_MAX_QUEUE_SIZE": "lots", "OTEL_EXPORTER_OTLP_TIMEOUT": "-5"})
    assert config.max_queue_size == resolve({}).max_queue_size
    assert config.timeout == 10.0
    assert "OTEL_BLRP_MAX_QUEUE_SIZE" in caplog.text


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("protocol", "grpc", "protocol must be one of"),
        ("compression", "brotli", "compression must be one of"),
        ("timeout", -1, "timeout must be > 0"),
        ("max_queue_size", 1.5, "max_queue_size must be an integer"),
        ("endpoint", "localhost:4318", "endpoint must be an http(s) URL"),
        ("before_send", "not callable", "before_send must be a callable"),
        ("strict", "yes", "strict must be True or False"),
        ("colour", "blue", "unknown option(s): colour"),
    ],
)
def test_a_bad_argument_raises_a_clear_config_error(
    option: str, value: object, message: str
) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        resolve({}, **{option: value})


def test_secrets_never_appear_in_the_repr() -> None:
    config = resolve({}, headers={"Authorization": "Bearer top-secret"})
    assert "top-secret" not in repr(config)
    assert "Authorization" in repr(config)


def test_plain_http_to_a_remote_host_is_flagged() -> None:
    assert resolve({}, endpoint="http://collector.example:4318").is_plaintext_remote
    assert not resolve({}, endpoint="https://collector.example:4318").is_plaintext_remote
    assert not resolve({}, endpoint="http://127.0.0.1:4318").is_plaintext_remote


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),  # meant for another SDK in the process
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "deflate"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318"),
        ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "collector:4318/v1/logs"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "0"),
        ("OTEL_BLRP_MAX_QUEUE_SIZE", "0"),
        ("OTEL_BLRP_SCHEDULE_DELAY", "0"),
    ],
)
def test_an_invalid_variable_never_fails_init_and_the_default_stands(
    variable: str, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="cs_sdk"):
        config = resolve({variable: value})
    defaults = resolve({})
    assert (config.protocol, config.compression, config.logs_endpoint, config.timeout) == (
        defaults.protocol,
        defaults.compression,
        defaults.logs_endpoint,
        defaults.timeout,
    )
    assert (config.max_queue_size, config.schedule_delay) == (
        defaults.max_queue_size,
        defaults.schedule_delay,
    )
    assert variable in caplog.text


def test_a_bad_logs_endpoint_variable_falls_back_to_the_generic_one() -> None:
    config = resolve(
        {
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "not a url",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "https://otel.example.test",
        }
    )
    assert config.logs_endpoint == "https://otel.example.test/v1/logs"


def test_an_unusable_spool_dir_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(cs_sdk.ConfigError, match="spool_dir"):
        cs_sdk.Client(environ={}, spool_dir=str(blocker / "spool"))


def test_credentials_in_the_endpoint_url_stay_out_of_reprs_and_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = "http://user:s3cret@collector.example.com:4318"
    with caplog.at_level(logging.WARNING, logger="cs_sdk"):
        client = cs_sdk.Client(environ={}, endpoint=url + "?api_key=k3y")
    shown = repr(client) + repr(client.config) + caplog.text
    client.shutdown(timeout=0)
    assert "collector.example.com:4318" in shown
    assert "s3cret" not in shown
    assert "k3y" not in shown
