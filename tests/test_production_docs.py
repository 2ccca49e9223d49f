"""docs/production.md stays true: its collector configuration is a whole, consistent
OpenTelemetry Collector pipeline from the OTLP/HTTP receiver to the ClickHouse exporter's
``otel_logs``, and its commands use options the SDK and ``cs-sdk`` really have."""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path
from typing import Any

import yaml

import cs_sdk

DOC = Path(__file__).parents[1] / "docs" / "production.md"
FENCE = re.compile(r"^```(?P<language>\w*)\n(?P<code>.*?)^```", re.DOTALL | re.MULTILINE)


def blocks(language: str) -> list[str]:
    return [m["code"] for m in FENCE.finditer(DOC.read_text()) if m["language"] == language]


def collector_config() -> dict[str, Any]:
    [text] = blocks("yaml")
    config = yaml.safe_load(text)
    assert isinstance(config, dict)
    return config


def test_the_collector_receives_otlp_over_http_on_the_sdk_default_port() -> None:
    http = collector_config()["receivers"]["otlp"]["protocols"]["http"]
    assert http["endpoint"].endswith(":4318")
    assert set(http["tls"]) == {"cert_file", "key_file"}


def test_the_clickhouse_exporter_writes_the_logs_table_the_report_reads() -> None:
    exporter = collector_config()["exporters"]["clickhouse"]
    assert exporter["logs_table_name"] == "otel_logs"
    assert exporter["endpoint"].startswith(("tcp://", "clickhouse://", "http://", "https://"))
    assert exporter["database"] == "otel"
    # The password comes from the environment, never from the file.
    assert exporter["password"] == "${env:CLICKHOUSE_PASSWORD}"
    assert exporter["sending_queue"]["storage"] == "file_storage"


def test_the_logs_pipeline_joins_defined_components_in_order() -> None:
    config = collector_config()
    service = config["service"]
    assert set(service["pipelines"]) == {"logs"}
    logs = service["pipelines"]["logs"]
    assert logs == {
        "receivers": ["otlp"],
        "processors": ["memory_limiter", "batch"],
        "exporters": ["clickhouse"],
    }
    for kind in ("receivers", "processors", "exporters"):
        assert set(logs[kind]) == set(config[kind]), kind
    assert set(service["extensions"]) == set(config["extensions"])
    batch = config["processors"]["batch"]
    assert batch["send_batch_max_size"] >= batch["send_batch_size"]


def test_the_report_command_uses_the_options_cs_sdk_report_has() -> None:
    from cs_sdk.cli import build_parser

    [script] = [block for block in blocks("bash") if "cs-sdk report" in block]
    command = script[script.index("cs-sdk report") :].replace("\\\n", " ")
    argv = shlex.split(command.splitlines()[0])[1:]
    args = build_parser().parse_args(argv)
    assert args.command == "report"
    assert "?table=otel_logs" in args.clickhouse and args.clickhouse.startswith("clickhouse://")
    assert (args.config, args.out) == ("pilots.toml", "report.html")


def test_the_sdk_sample_passes_options_a_client_accepts() -> None:
    [sample] = blocks("python")
    [call] = [
        node
        for node in ast.walk(ast.parse(sample))
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "cs_sdk.init"
    ]
    options = {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords}
    assert set(options) == {"service_name", "endpoint", "prompts", "state", "spool_dir"}
    # disabled: nothing is opened or fetched, but every option is resolved and checked.
    config = cs_sdk.Client(environ={}, disabled=True, **options).config
    assert config.logs_endpoint == "https://otel-collector.internal.example:4318/v1/logs"
    assert (config.state, config.spool_dir) == (options["state"], options["spool_dir"])


def test_the_environment_variables_are_the_ones_the_sdk_reads() -> None:
    [exports] = [block for block in blocks("bash") if "export OTEL_" in block]
    names = set(re.findall(r"export (\w+)=", exports))
    client = cs_sdk.Client(
        environ={
            "OTEL_SERVICE_NAME": "web",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "https://collector.example:4318",
            "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20t0ken",
        },
        disabled=True,
    )
    assert names == {
        "OTEL_SERVICE_NAME",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_HEADERS",
    }
    config = client.config
    assert config.service_name == "web"
    assert config.logs_endpoint == "https://collector.example:4318/v1/logs"
    assert dict(config.headers) == {"authorization": "Bearer t0ken"}
