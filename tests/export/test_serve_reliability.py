"""`keras-bert serve` under hostile clients, over loopback with raw sockets: JSON errors everywhere
(HEAD/OPTIONS/unknown methods, bad Content-Length, lone surrogates, deep nesting), graph errors that name
the problem, slow clients cut off while others are answered, a bounded queue, the newest good version,
a port in use. Every count and wait is bounded."""

import json
import os
import shutil
import socket
import threading
import time

import pytest

PREDICT = "/v1/models/sentiment:predict"


@pytest.fixture(scope="module")
def model(sentiment_export):
    from keras_bert.export.server import ServedModel

    served = ServedModel(sentiment_export)
    served.predict(json.dumps({"instances": ["warm up"]}).encode(), 8)  # the first call builds the graph (~s)
    return served


def _start(model, **options):
    from keras_bert.export.server import Router, make_server

    httpd = make_server(Router(model, max_batch=8), "127.0.0.1", 0, **options)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return httpd


@pytest.fixture(scope="module")
def server(model):
    httpd = _start(model, workers=4, queue_size=32, request_timeout=1.0)
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def raw(port, data, timeout=10.0):
    """Sends `data` as is, returns (status, headers, body bytes) of the reply."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        return _read_reply(s)


def _read_reply(s):
    chunks = []
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
    reply = b"".join(chunks)
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers, body


def post(port, path, body, extra=b""):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return raw(port, b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: "
               + str(len(data)).encode() + b"\r\n" + extra + b"\r\n" + data)


def _json(reply):
    status, headers, body = reply
    assert headers["Content-Type"] == "application/json", reply
    return status, json.loads(body)


@pytest.mark.parametrize("request_bytes, status, message", [
    (b"POST " + PREDICT.encode() + b" HTTP/1.1\r\nContent-Length: \xc2\xb2\r\n\r\n", 400, "invalid Content-Length"),
    (b"OPTIONS /v1/models/sentiment HTTP/1.1\r\n\r\n", 400, "Malformed request: OPTIONS /v1/models/sentiment"),
    (b"BREW /v1/models/sentiment HTTP/1.1\r\n\r\n", 400, "Malformed request: BREW /v1/models/sentiment"),
    (b"GARBAGE\r\n\r\n", 400, "Bad request syntax"),
    (b"GET /index.html HTTP/1.1\r\n\r\n", 404, "Not found: /index.html"),
    (b"GET /v1/models/sentiment/versions/abc HTTP/1.1\r\n\r\n", 400, "Malformed request: GET"),
    (b"GET /v1/models HTTP/1.1\r\n\r\n", 400, "Missing model name in request."),
    (b"POST /v1/models/sentiment:classify HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", 400, ":predict only"),
])
def test_http_level_errors_are_json(server, request_bytes, status, message):
    got_status, body = _json(raw(server, request_bytes))
    assert got_status == status and message in body["error"], body


def test_head_gets_headers_only(server):
    status, headers, body = raw(server, b"HEAD /v1/models/sentiment HTTP/1.1\r\n\r\n")
    assert status == 400 and headers["Content-Type"] == "application/json" and body == b""


@pytest.mark.parametrize("body, message", [
    (b'{"instances": ["\\ud800"]}', "lone UTF-16 surrogate (\\ud800)"),
    (b'{"instances": ["ok"], "signature_name": "\\udfff"}', "not found in signature def"),
    (b"[" * 100000 + b"]" * 100000, "nested too deeply"),
    (json.dumps({"instances": [[[[[["a"]]]]]]}).encode(), "nested deeper than the signature's rank allows"),
    (json.dumps({"signature_name": "predict_ids", "instances": [
        {"token_ids": [101, -1, 102], "segment_ids": [0, 0, 0], "padding_mask": [1, 1, 1]}]}).encode(),
     "token_ids must be in [0, 30522) (got [[101 -1 102]])"),
    (json.dumps({"signature_name": "predict_ids", "inputs": {
        "token_ids": [[7] * 65], "segment_ids": [[0] * 65], "padding_mask": [[1] * 65]}}).encode(),
     "token_ids has more positions than the model takes (max_position_embeddings 64) (got [65])"),
    (json.dumps({"signature_name": "predict_ids", "inputs": {
        "token_ids": [[7, 8]], "segment_ids": [[0, 3]], "padding_mask": [[1, 1]]}}).encode(),
     "segment_ids must be in [0, 2) (got [[0 3]])"),
])
def test_bad_bodies_are_400_naming_the_problem(server, body, message):
    status, reply = _json(post(server, PREDICT, body))
    assert status == 400 and message in reply["error"], reply


def _slow(port, data):
    """A client that sends `data` and then nothing: returns its socket."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(data)
    return s


def _good(port):
    return _json(post(port, PREDICT, {"instances": ["a good film", "bad"]}))


def test_slow_clients_are_cut_off_while_others_are_answered(server):
    started = time.monotonic()
    slow = [_slow(server, b"POST " + PREDICT.encode() + b" HTTP/1.1\r\nContent-Len"),  # headers cut short
            _slow(server, b"POST " + PREDICT.encode() + b" HTTP/1.1\r\nContent-Length: 50\r\n\r\n{\"inst"),
            _slow(server, b"")]  # connects, sends nothing
    for _ in range(5):  # answered while all three hold a worker each
        status, body = _good(server)
        assert status == 200 and len(body["predictions"]) == 2
    assert time.monotonic() - started < 1.0  # before any slow client was cut off
    for s in slow:
        status, _, body = _read_reply(s)
        s.close()
        assert status == 408 and b"not received within 1 s" in body
    assert 1.0 <= time.monotonic() - started < 5.0


def test_a_trickling_client_is_cut_at_the_deadline(server):
    """One byte every 0.2 s never trips a per-recv timeout; the request deadline still ends it."""
    s = socket.create_connection(("127.0.0.1", server), timeout=10)
    started = time.monotonic()
    request = b"POST " + PREDICT.encode() + b" HTTP/1.1\r\nContent-Length: 1000\r\n\r\n" + b" " * 1000
    try:
        for byte in request:
            s.sendall(bytes([byte]))
            time.sleep(0.2)
    except OSError:
        pass  # the server shut the connection down
    status, _, _ = _read_reply(s)
    s.close()
    assert status == 408 and time.monotonic() - started < 3.0


def test_load_with_slow_clients_mixed_in(model):
    """200 well-formed requests from 8 threads, 6 slow clients (more than the 4 workers): 0 errors."""
    httpd = _start(model, workers=4, queue_size=64, request_timeout=1.0)
    port = httpd.server_address[1]
    results, errors = [], []

    def client():
        for _ in range(25):
            try:
                status, body = _good(port)
                results.append(status == 200 and len(body["predictions"]) == 2)
            except Exception as error:  # noqa: BLE001
                errors.append(repr(error))

    started = time.monotonic()
    try:
        slow = [_slow(port, b"POST " + PREDICT.encode() + b" HTTP/1.1\r\nContent-Length: 10\r\n\r\n{")
                for _ in range(6)]
        threads = [threading.Thread(target=client) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        cut = [_read_reply(s)[0] for s in slow]
        for s in slow:
            s.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert errors == [] and len(results) == 200 and all(results)
    assert cut == [408] * 6
    assert time.monotonic() - started < 60


def test_a_full_queue_is_503_at_once(model):
    httpd = _start(model, workers=1, queue_size=1, request_timeout=1.0)
    port = httpd.server_address[1]
    try:
        held = _slow(port, b"GET /v1/models/sentiment HTTP/1.1\r\n")  # the worker
        time.sleep(0.2)
        queued = _slow(port, b"GET /v1/models/sentiment HTTP/1.1\r\n")  # the queue's one place
        time.sleep(0.2)
        started = time.monotonic()
        status, body = _json(raw(port, b"GET /v1/models/sentiment HTTP/1.1\r\n\r\n"))
        assert status == 503 and "server busy" in body["error"] and time.monotonic() - started < 0.5
        assert _read_reply(held)[0] == 408 and _read_reply(queued)[0] == 408
        held.close()
        queued.close()
        assert _json(raw(port, b"GET /v1/models/sentiment HTTP/1.1\r\n\r\n"))[0] == 200
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_newest_good_version_is_served(sentiment_export, tmp_path):
    from keras_bert.export.server import ServedModel

    root = tmp_path / "sentiment"
    shutil.copytree(os.path.join(sentiment_export, "1"), root / "1")
    shutil.copytree(os.path.join(sentiment_export, "1"), root / "2")
    data = next((root / "2" / "variables").glob("variables.data-*"))
    data.write_bytes(data.read_bytes()[:100])  # a torn copy
    logged = []
    served = ServedModel(str(root), log=logged.append)
    assert served.version == 1 and served.status()["model_version_status"][0]["version"] == "1"
    assert len(logged) == 1 and f"{root / '2'}: not loaded" in logged[0] and "trying the version before" in logged[0]
    (root / "1" / "saved_model.pb").write_bytes(b"not a protobuf")
    with pytest.raises(ValueError, match="no version of .* loads: version 2: .*; version 1: "):
        ServedModel(str(root), log=logged.append)


def test_port_in_use_is_one_line(sentiment_export, capsys):
    from keras_bert.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert main(["serve", sentiment_export, "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert err == (f"keras-bert serve: error: [Errno 98] cannot listen on 127.0.0.1:{port}: Address already in use "
                   "(another server is listening there: pick another --port)\n")
