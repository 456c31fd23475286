"""`keras-bert serve`: a local HTTP server speaking TF Serving's REST API for an exported model.

Only TensorFlow (and tensorflow_text, for the tokenizer's ops) is used to
load and run the SavedModel, as TF Serving would; client code written
against this server works unchanged against TF Serving:

  GET  /v1/models/NAME                       model status (the loaded version)
  GET  /v1/models/NAME/versions/N            status of version N
  GET  /v1/models/NAME[/versions/N]/metadata signature defs
  POST /v1/models/NAME[/versions/N]:predict  {"instances": [...]} or {"inputs": ...},
                                             optional "signature_name" (default serving_default)

As in TF Serving, the newest version that loads is served (a damaged newer
one is logged and skipped), and every error is JSON `{"error": "..."}`:
400 malformed JSON, unknown signature, wrong input names, types, shapes or
ids, and any method or path under /v1/ that is not one of the above
("Malformed request: METHOD PATH"); 404 unknown model or version; 411 no
Content-Length; 413 body or batch over the limits. This server also answers
JSON where TF Serving's HTTP layer would not: 404 outside /v1/, 408 for a
request not received within `request_timeout` seconds, 503 when every worker
is busy and the queue is full, 400/501 for requests HTTP itself rejects.
Empty strings are valid text (the model sees `[CLS] [SEP]`).

Requests are answered by a fixed pool of `workers` threads fed from a
bounded queue; a reaper thread cuts off a client that has not sent its whole
request (or read its reply) within `request_timeout`, so slow clients hold a
worker for a bounded time and never the whole server.
"""

import errno
import json
import logging
import os
import queue
import re
import socket
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer

from keras_bert.export.rest_api import RequestError, parse_body, request_inputs, response

_API = re.compile(r"(?i)^/v1/")
_PREDICT = re.compile(r"(?i)^/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>\d+))?"
                      r":(?P<method>classify|regress|predict)$")
_STATUS = re.compile(r"(?i)^/v1/models(?:/(?P<name>[^/:]+))?(?:/versions/(?P<version>\d+))?"
                     r"(?P<metadata>/metadata)?$")
_log = logging.getLogger(__name__)


def model_versions(model_dir):
    """Integer version folders holding a saved_model.pb, ascending."""
    if not os.path.isdir(model_dir):
        raise FileNotFoundError(f"model folder not found: {model_dir}")
    return sorted(int(n) for n in os.listdir(model_dir)
                  if n.isdigit() and os.path.isfile(os.path.join(model_dir, n, "saved_model.pb")))


def graph_error_message(error):
    """The line of a TensorFlow error that names the problem.

    Eager calls of a signature report "Graph execution error:" first, then the
    node, then the op's message; a failed `tf.debugging.assert_*` reads
    "assertion failed: [message] [Condition ...] [x (...) = ] [values]".
    """
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    lines = [line.strip() for line in text.splitlines()]
    boilerplate = ("Graph execution error:", "Detected at node", "<stack traces unavailable>", "[[{{node",
                   'File "')
    kept = " ".join(line for line in lines if line and not line.startswith(boilerplate))
    kept = re.sub(r"\s*\[Op:[^\]]*\]$", "", kept).strip() or text.strip().splitlines()[0]
    found = re.search(r"assertion failed: \[(.*?)\s*\] \[Condition[^\]]*\] \[[^\]]*= \] (.*?)(?: \[y \(|$)", kept)
    if found:
        return f"{found.group(1).rstrip('. ')} (got {found.group(2).strip()})"
    return kept


class ServedModel:
    """The newest loadable version of an exported model, loaded with TensorFlow only."""

    def __init__(self, model_dir, name=None, log=None):
        import tensorflow as tf
        import tensorflow_text  # noqa: F401  (registers the tokenizer's ops)

        versions = model_versions(model_dir)
        if not versions:
            raise FileNotFoundError(f"no version folder (1/, 2/, ... with saved_model.pb) in {model_dir}")
        self.name = name or os.path.basename(os.path.normpath(model_dir))
        self._tf = tf
        log = log or _log.warning
        failures = []
        for version in reversed(versions):
            path = os.path.join(model_dir, str(version))
            try:
                self._load(path)
            except Exception as error:  # noqa: BLE001  (any load failure: try the version before)
                problem = graph_error_message(error)
                failures.append(f"version {version}: {problem}")
                log(f"{path}: not loaded ({problem}); trying the version before")
                continue
            self.version = version
            self.skipped = failures
            return
        raise ValueError(f"no version of {model_dir} loads: {'; '.join(failures)}")

    def _load(self, path):
        import numpy as np

        tf = self._tf
        loaded = tf.saved_model.load(path)
        signatures = dict(loaded.signatures)
        if not signatures:
            raise ValueError("the SavedModel has no signatures")
        self.input_specs = {
            name: {k: (np.dtype(object if spec.dtype == tf.string else spec.dtype.as_numpy_dtype),
                       spec.shape.as_list()) for k, spec in fn.structured_input_signature[1].items()}
            for name, fn in signatures.items()}
        self.signature_defs = _signature_defs(path)
        self._loaded, self.signatures = loaded, signatures

    def status(self):
        return {"model_version_status": [{"version": str(self.version), "state": "AVAILABLE",
                                          "status": {"error_code": "OK", "error_message": ""}}]}

    def metadata(self):
        return {"model_spec": {"name": self.name, "signature_name": "", "version": str(self.version)},
                "metadata": {"signature_def": {"signature_def": self.signature_defs}}}

    def predict(self, body, max_batch):
        request, signature = parse_body(body)
        if signature not in self.signatures:
            raise RequestError(400, f"Serving signature name: \"{signature}\" not found in signature def; "
                                    f"available: {', '.join(sorted(self.signatures))}")
        import numpy as np

        specs = self.input_specs[signature]
        arrays, row_format = request_inputs(request, specs, max_batch)
        tf = self._tf
        tensors = {k: tf.constant(a.tolist() if a.dtype == object else a, dtype=_tf_dtype(tf, specs[k][0]))
                   if a.size else tf.zeros(a.shape, _tf_dtype(tf, specs[k][0]))
                   for k, a in arrays.items()}
        try:
            outputs = self.signatures[signature](**tensors)
        except (tf.errors.InvalidArgumentError, ValueError, TypeError) as error:
            raise RequestError(400, graph_error_message(error)) from None
        return response({k: np.asarray(v.numpy()) for k, v in outputs.items()}, row_format)


def _tf_dtype(tf, numpy_dtype):
    return tf.string if numpy_dtype.kind == "O" else tf.as_dtype(numpy_dtype)


def _signature_defs(path):
    from google.protobuf import json_format
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(path, "saved_model.pb"), "rb") as f:
        proto.ParseFromString(f.read())
    defs = proto.meta_graphs[0].signature_def
    return {k: json_format.MessageToDict(defs[k], preserving_proto_field_name=True,
                                         always_print_fields_with_no_presence=True) for k in sorted(defs)}


class Router:
    """Maps (method, path, body) to (HTTP status, JSON-able body) as TF Serving does; no sockets involved."""

    def __init__(self, model, max_batch=64):
        self.model = model
        self.max_batch = int(max_batch)

    def __call__(self, method, path, body=b""):
        try:
            return 200, self._route(method, path.split("?", 1)[0], body)
        except RequestError as error:
            return error.status, {"error": error.message}
        except Exception as error:  # noqa: BLE001 (a server bug must still answer in JSON)
            return 500, {"error": f"internal error: {type(error).__name__}: {error}"}

    def _route(self, method, path, body):
        if not _API.match(path):
            raise RequestError(404, f"Not found: {path}; the REST API is under /v1/models/NAME")
        predict = _PREDICT.match(path) if method == "POST" else None
        status = _STATUS.match(path) if method == "GET" else None
        if predict is None and status is None:  # TF Serving: any other method or path is InvalidArgument
            raise RequestError(400, f"Malformed request: {method} {path}")
        name, version = (predict or status).group("name", "version")
        if not name:
            raise RequestError(400, "Missing model name in request.")
        if name != self.model.name:
            raise RequestError(404, f"Servable not found for request: Latest({name})")
        if version is not None and int(version) != self.model.version:
            raise RequestError(404, f"Servable not found for request: Specific({name}, {int(version)})")
        if predict is not None:
            if predict.group("method").lower() != "predict":
                raise RequestError(400, f"this server answers :predict only; {path} asks for "
                                        f":{predict.group('method')}")
            return self.model.predict(body, self.max_batch)
        return self.model.metadata() if status.group("metadata") else self.model.status()


def _json_bytes(payload):
    # backslashreplace turns a lone surrogate echoed from a request into the JSON escape it came as.
    return json.dumps(payload, ensure_ascii=False).encode("utf-8", "backslashreplace")


class _Handler(BaseHTTPRequestHandler):
    server_version = "keras-bert-serve"
    timed_out = False
    answered = False
    requestline, command, path = "", None, None  # until a request line is parsed (a client may send none)

    def setup(self):
        super().setup()
        # Each recv/send may block this long; the reaper's deadline (shorter) is what cuts clients off.
        self.connection.settimeout(2 * self.server.request_timeout)
        self.server.watch(self, "read")

    def handle(self):
        super().handle()
        if self.timed_out and not self.answered:  # cut off before a full request line came in
            self._timeout()

    def finish(self):
        self.server.unwatch(self)
        try:
            super().finish()
        except OSError:
            pass  # the client went away or was cut off

    def _answer(self, method):
        body = b""
        if method in ("POST", "PUT", "PATCH"):
            length = self.headers.get("Content-Length")
            if self.timed_out:
                return self._timeout()
            if length is None:
                return self._send(411, {"error": "Content-Length header required"})
            if not (length.isascii() and length.isdigit()):  # str.isdigit accepts "²"
                return self._send(400, {"error": f"invalid Content-Length: {length!r}"})
            if int(length) > self.server.max_body_bytes:
                return self._send(413, {"error": f"request body of {length} bytes exceeds the "
                                                 f"server's limit of {self.server.max_body_bytes} bytes"})
            try:
                body = self.rfile.read(int(length))
            except OSError:
                body = b""
            if len(body) < int(length):
                if self.timed_out:
                    return self._timeout()
                return self._send(400, {"error": f"request body ended after {len(body)} of {length} bytes"})
        if self.timed_out:
            return self._timeout()
        self.server.unwatch(self)  # the request is in; inference is bounded by --max-batch
        status, payload = self.server.router(method, self.path, body)
        self._send(status, payload)

    def _timeout(self):
        self._send(408, {"error": f"request not received within {self.server.request_timeout:g} s"})

    def _send(self, status, payload):
        self.answered = True
        self.request_version = "HTTP/1.0"  # never an HTTP/0.9 reply: that has no status line or headers
        data = _json_bytes(payload)
        self.server.watch(self, "write")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        except OSError:
            pass  # the client went away or was too slow to read
        self.close_connection = True  # one request per connection: an unread body cannot reach the next

    def send_error(self, code, message=None, explain=None):
        """HTTP-level errors (bad request line, unknown method, headers too long) in JSON too."""
        if self.timed_out:
            return self._timeout()
        if code == HTTPStatus.NOT_IMPLEMENTED and self.path is not None:
            return self._send(400, {"error": f"Malformed request: {self.command} {self.path}"})
        return self._send(int(code), {"error": message or HTTPStatus(code).phrase})

    def do_GET(self):
        self._answer("GET")

    def do_POST(self):
        self._answer("POST")

    def do_HEAD(self):
        self._answer("HEAD")

    def do_PUT(self):
        self._answer("PUT")

    def do_DELETE(self):
        self._answer("DELETE")

    def do_PATCH(self):
        self._answer("PATCH")

    def do_OPTIONS(self):
        self._answer("OPTIONS")

    def log_message(self, fmt, *args):
        if self.server.log:
            self.server.log(f"{self.address_string()} {fmt % args}")


class PooledHTTPServer(HTTPServer):
    """An HTTP server with a fixed pool of worker threads, a bounded queue and per-request deadlines."""

    def __init__(self, address, router=None, workers=16, queue_size=64, request_timeout=30.0,
                 max_body_bytes=1 << 20, log=None):
        if workers < 1 or queue_size < 1 or not request_timeout > 0 or max_body_bytes < 1:
            raise ValueError("workers, queue size, request timeout and max body bytes must be positive")
        self.router = router
        self.request_timeout = float(request_timeout)
        self.max_body_bytes = int(max_body_bytes)
        self.log = log
        self._queue = queue.Queue(maxsize=int(queue_size))
        self._deadlines = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = []
        super().__init__(address, _Handler)  # binds; on failure it calls server_close and raises
        self._threads = [threading.Thread(target=self._work, name=f"serve-worker-{i}", daemon=True)
                         for i in range(int(workers))]
        self._threads.append(threading.Thread(target=self._reap, name="serve-reaper", daemon=True))
        for thread in self._threads:
            thread.start()

    # Connections are queued for the workers; a full queue is answered 503 at once.
    def process_request(self, request, client_address):
        try:
            self._queue.put_nowait((request, client_address))
        except queue.Full:
            try:
                request.settimeout(1.0)
                data = _json_bytes({"error": "server busy: every worker is answering and the queue is full; "
                                             "retry later"})
                request.sendall(b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                                b"Connection: close\r\nContent-Length: " + str(len(data)).encode() + b"\r\n\r\n"
                                + data)
            except OSError:
                pass
            self.shutdown_request(request)

    def _work(self):
        while True:
            item = self._queue.get()
            if item is None:
                return
            request, client_address = item
            try:
                self.finish_request(request, client_address)
            except Exception:  # noqa: BLE001
                self.handle_error(request, client_address)
            finally:
                self.shutdown_request(request)

    def handle_error(self, request, client_address):
        if self.log:
            self.log(f"{client_address[0]} connection error: {sys.exc_info()[1]!r}")

    # Deadlines: reading the request, then writing the reply, each within request_timeout.
    def watch(self, handler, phase):
        with self._lock:
            self._deadlines[handler] = (time.monotonic() + self.request_timeout, phase)

    def unwatch(self, handler):
        with self._lock:
            self._deadlines.pop(handler, None)

    def _reap(self):
        tick = min(0.1, self.request_timeout / 10)
        while not self._stop.wait(tick):
            now = time.monotonic()
            with self._lock:
                due = [(h, phase) for h, (deadline, phase) in self._deadlines.items() if deadline <= now]
                for handler, _ in due:
                    del self._deadlines[handler]
            for handler, phase in due:
                if phase == "read":
                    handler.timed_out = True  # before the shutdown wakes the reader up
                try:  # reading ends at once (EOF); the 408 can still be written
                    handler.connection.shutdown(socket.SHUT_RD if phase == "read" else socket.SHUT_RDWR)
                except OSError:
                    pass

    def server_close(self):
        self._stop.set()
        super().server_close()
        for _ in self._threads:
            try:
                self._queue.put_nowait(None)
            except queue.Full:
                break


def make_server(router, host="127.0.0.1", port=8501, max_body_bytes=1 << 20, log=None, workers=16,
                queue_size=64, request_timeout=30.0):
    """A PooledHTTPServer answering with `router`; port 0 picks a free port (see `server_address`).

    A port in use (or not permitted) is an OSError naming the address.
    """
    try:
        return PooledHTTPServer((host, port), router, workers=workers, queue_size=queue_size,
                                request_timeout=request_timeout, max_body_bytes=max_body_bytes, log=log)
    except OSError as error:
        reason = error.strerror or str(error)
        if error.errno == errno.EADDRINUSE:
            reason += " (another server is listening there: pick another --port)"
        raise OSError(error.errno, f"cannot listen on {host}:{port}: {reason}") from None


def serve(model_dir, name=None, host="127.0.0.1", port=8501, max_batch=64, max_body_bytes=1 << 20, workers=16,
          queue_size=64, request_timeout=30.0):
    """Loads the newest loadable version under `model_dir` and serves it until interrupted."""
    if max_batch < 1 or max_body_bytes < 1:
        raise ValueError("--max-batch and --max-body-bytes must be positive")
    if workers < 1 or queue_size < 1 or not request_timeout > 0:
        raise ValueError("--workers, --queue-size and --request-timeout must be positive")

    def log(message):
        print(message, file=sys.stderr, flush=True)

    # The port first: a port in use is reported before the model takes seconds to load.
    server = make_server(None, host, port, max_body_bytes, log=log, workers=workers, queue_size=queue_size,
                         request_timeout=request_timeout)
    try:
        model = ServedModel(model_dir, name, log=log)
        server.router = Router(model, max_batch)
        host, port = server.server_address[:2]
        print(f"serving {model.name} version {model.version} at http://{host}:{port}/v1/models/{model.name} "
              f"(signatures: {', '.join(sorted(model.signatures))})", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
