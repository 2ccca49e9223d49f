"""LocalCollector over real HTTP on 127.0.0.1: formats, answers, errors, lifecycle."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse

from cs_sdk.collector import LocalCollector

from .conftest import JSON, PROTOBUF, body_for, encode_json, export_request, milestones, post
from .test_decode import check_standard_record


def rpc_status(response: httpx.Response) -> tuple[int, str]:
    """(code, message) of a google.rpc.Status body, protobuf or JSON."""
    if response.headers["content-type"] == JSON:
        document = response.json()
        return document["code"], document["message"]
    status_pb2 = pytest.importorskip("google.rpc.status_pb2")
    status = status_pb2.Status.FromString(response.content)
    return status.code, status.message


def raw_exchange(collector: LocalCollector, request: bytes) -> bytes:
    """Send raw bytes and read until the server closes (bounded by a timeout)."""
    with socket.create_connection(("127.0.0.1", collector.port), timeout=5) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("content_type", [PROTOBUF, JSON])
@pytest.mark.parametrize("gzipped", [False, True], ids=["identity", "gzip"])
def test_a_request_is_answered_in_its_own_format_and_recorded(
    collector: LocalCollector, http: httpx.Client, content_type: str, gzipped: bool
) -> None:
    body = body_for(content_type)
    response = post(http, collector, body, content_type, gzipped=gzipped)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    if content_type == PROTOBUF:
        answer = ExportLogsServiceResponse.FromString(response.content)
        assert not answer.HasField("partial_success")
    else:
        assert response.json() == {}
    assert collector.wait_for(1, timeout=5)
    check_standard_record(collector.records[0])
    (info,) = collector.requests
    assert (info.path, info.method, info.status) == ("/v1/logs", "POST", 200)
    assert info.content_type == content_type
    assert info.content_encoding == ("gzip" if gzipped else None)
    assert info.size == int(response.request.headers["content-length"])
    assert info.headers["content-type"] == content_type
    assert "user-agent" in info.headers


def test_records_keep_arrival_order_across_requests(
    collector: LocalCollector, http: httpx.Client
) -> None:
    for _ in range(3):
        assert post(http, collector, milestones(2)).status_code == 200
    assert collector.wait_for(6, timeout=5)
    assert [record.name for record in collector.records] == ["m0", "m1"] * 3


@pytest.mark.parametrize(
    ("body", "content_type", "gzipped"),
    [
        (b"\x0a\xff\xff\xff\xff\x0f", PROTOBUF, False),
        (b'{"resourceLogs": [', JSON, False),
        (b"garbage", PROTOBUF, True),
    ],
    ids=["protobuf", "json", "gzip"],
)
def test_a_malformed_body_gets_400_with_a_status_and_the_server_keeps_serving(
    collector: LocalCollector,
    http: httpx.Client,
    body: bytes,
    content_type: str,
    gzipped: bool,
) -> None:
    if gzipped:  # announce gzip, send garbage
        response = http.post(
            collector.endpoint + "/v1/logs",
            content=body,
            headers={"Content-Type": content_type, "Content-Encoding": "gzip"},
        )
    else:
        response = post(http, collector, body, content_type)
    assert response.status_code == 400
    assert response.headers["content-type"] == content_type
    code, message = rpc_status(response)
    assert code == 3  # INVALID_ARGUMENT
    assert message
    assert collector.records == []
    good = post(http, collector, body_for(content_type), content_type)
    assert good.status_code == 200
    assert [request.status for request in collector.requests] == [400, 200]


def test_other_paths_are_404_and_other_methods_405(
    collector: LocalCollector, http: httpx.Client
) -> None:
    assert post(http, collector, export_request(), path="/v1/traces").status_code == 404
    assert http.get(collector.endpoint + "/").status_code == 404
    response = http.get(collector.endpoint + "/v1/logs")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert http.put(collector.endpoint + "/v1/logs", content=b"x").status_code == 405
    assert http.head(collector.endpoint + "/v1/logs").status_code == 405
    assert post(http, collector, export_request()).status_code == 200  # same connection
    assert [(r.method, r.status) for r in collector.requests] == [
        ("POST", 404),
        ("GET", 404),
        ("GET", 405),
        ("PUT", 405),
        ("HEAD", 405),
        ("POST", 200),
    ]


def test_an_unsupported_content_type_is_415(collector: LocalCollector, http: httpx.Client) -> None:
    response = post(http, collector, export_request(), "text/plain")
    assert response.status_code == 415
    response = http.post(
        collector.endpoint + "/v1/logs",
        content=export_request(),
        headers={"Content-Type": PROTOBUF, "Content-Encoding": "br"},
    )
    assert response.status_code == 415
    assert collector.records == []


def test_a_body_over_the_limit_is_413_and_the_connection_closed(collector: LocalCollector) -> None:
    head = (
        "POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\n"
        f"Content-Length: {collector.limits.max_body + 1}\r\n\r\n"
    ).encode()
    answer = raw_exchange(collector, head + b"\x00" * 1024)
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"Connection: close" in answer
    assert collector.requests[-1].status == 413


def test_an_invalid_content_length_is_400(collector: LocalCollector) -> None:
    head = b"POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n"
    assert raw_exchange(collector, head).startswith(b"HTTP/1.1 400 ")


def test_a_chunked_body_is_read(collector: LocalCollector, http: httpx.Client) -> None:
    body = export_request()

    def pieces() -> Iterator[bytes]:
        yield body[:10]
        yield body[10:]

    response = http.post(
        collector.endpoint + "/v1/logs", content=pieces(), headers={"Content-Type": PROTOBUF}
    )
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 200
    assert collector.wait_for(1, timeout=5)


def test_50_keep_alive_requests_on_one_client(
    collector: LocalCollector, http: httpx.Client
) -> None:
    body = export_request()
    post(http, collector, body)  # connect outside the measurement
    for _ in range(50):
        assert post(http, collector, body).status_code == 200
    assert collector.wait_for(51, timeout=5)


def test_wait_for_is_false_after_its_timeout_and_clear_forgets(
    collector: LocalCollector, http: httpx.Client
) -> None:
    assert collector.wait_for(1, timeout=0.05) is False
    post(http, collector, milestones(2))
    assert collector.wait_for(2, timeout=5) is True
    assert collector.wait_for_requests(1, timeout=5) is True
    collector.clear()
    assert (collector.records, collector.requests) == ([], [])


def test_wait_for_wakes_when_records_arrive_from_another_thread(
    collector: LocalCollector,
) -> None:
    def send_later() -> None:
        time.sleep(0.1)
        with httpx.Client(timeout=5) as other:
            post(other, collector, export_request())

    thread = threading.Thread(target=send_later)
    thread.start()
    assert collector.wait_for(1, timeout=5)
    thread.join(timeout=5)


def test_down_refuses_connections_and_up_listens_on_the_same_port(
    collector: LocalCollector, http: httpx.Client
) -> None:
    port = collector.port
    assert post(http, collector, export_request()).status_code == 200
    collector.down()
    with pytest.raises(httpx.TransportError):  # the kept-alive connection is gone too
        post(http, collector, export_request())
    with pytest.raises(httpx.ConnectError):
        post(http, collector, export_request())
    collector.up()
    assert collector.port == port
    assert post(http, collector, export_request()).status_code == 200
    with collector.down(), pytest.raises(httpx.TransportError):
        post(http, collector, export_request())
    assert post(http, collector, export_request()).status_code == 200
    assert collector.wait_for(3, timeout=5)


def test_endpoint_stop_and_a_fixed_port() -> None:
    with LocalCollector() as first:
        port = first.port
        assert first.endpoint == f"http://127.0.0.1:{port}"
    first.stop()  # again: harmless
    with LocalCollector(port=port) as second, httpx.Client(timeout=5) as http:
        assert second.endpoint == f"http://127.0.0.1:{port}"
        assert post(http, second, export_request()).status_code == 200


def test_nothing_is_written_to_stderr(
    capfd: pytest.CaptureFixture[str], collector: LocalCollector, http: httpx.Client
) -> None:
    post(http, collector, export_request())
    post(http, collector, b"garbage")
    post(http, collector, export_request(), path="/nowhere")
    http.get(collector.endpoint + "/v1/logs")
    raw_exchange(collector, b"NONSENSE\r\n\r\n")
    captured = capfd.readouterr()
    assert (captured.out, captured.err) == ("", "")


def test_json_error_bodies_are_json(collector: LocalCollector, http: httpx.Client) -> None:
    response = post(http, collector, encode_json({"resourceLogs": 5}), JSON)
    assert response.status_code == 400
    document = json.loads(response.content)
    assert document["code"] == 3
    assert "resourceLogs" in document["message"]
