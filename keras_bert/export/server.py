"""`keras-bert serve`: a local HTTP server speaking TF Serving's REST API for an exported model.

Only TensorFlow (and tensorflow_text, for the tokenizer's ops) is used to
load and run the SavedModel, as TF Serving would; client code written
against this server works unchanged against TF Serving:

  GET  /v1/models/NAME                       model status (the loaded version)
  GET  /v1/models/NAME/versions/N            status of version N
  GET  /v1/models/NAME[/versions/N]/metadata signature defs
  POST /v1/models/NAME[/versions/N]:predict  {"instances": [...]} or {"inputs": ...},
                                             optional "signature_name" (default serving_default)

Errors are JSON `{"error": "..."}`: 400 malformed JSON, unknown signature,
wrong input names, types or shapes; 404 unknown model, version or path;
405 wrong method; 411 no Content-Length; 413 body or batch over the limits.
Empty strings are valid text (the model sees `[CLS] [SEP]`).
"""

import json
import os
import re
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from keras_bert.export.rest_api import RequestError, parse_body, request_inputs, response

_ROUTE = re.compile(r"^/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>[^/:]+))?"
                    r"(?P<suffix>/metadata|:predict)?$")


def model_versions(model_dir):
    """Integer version folders holding a saved_model.pb, ascending."""
    if not os.path.isdir(model_dir):
        raise FileNotFoundError(f"model folder not found: {model_dir}")
    return sorted(int(n) for n in os.listdir(model_dir)
                  if n.isdigit() and os.path.isfile(os.path.join(model_dir, n, "saved_model.pb")))


class ServedModel:
    """The newest version of an exported model, loaded with TensorFlow only."""

    def __init__(self, model_dir, name=None):
        import numpy as np
        import tensorflow as tf
        import tensorflow_text  # noqa: F401  (registers the tokenizer's ops)

        versions = model_versions(model_dir)
        if not versions:
            raise FileNotFoundError(f"no version folder (1/, 2/, ... with saved_model.pb) in {model_dir}")
        self.name = name or os.path.basename(os.path.normpath(model_dir))
        self.version = versions[-1]
        path = os.path.join(model_dir, str(self.version))
        self._tf = tf
        self._loaded = tf.saved_model.load(path)
        self.signatures = dict(self._loaded.signatures)
        self.input_specs = {
            name: {k: (np.dtype(object if spec.dtype == tf.string else spec.dtype.as_numpy_dtype),
                       spec.shape.as_list()) for k, spec in fn.structured_input_signature[1].items()}
            for name, fn in self.signatures.items()}
        self.signature_defs = _signature_defs(path)

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
            message = getattr(error, "message", None) or str(error)
            raise RequestError(400, message.strip().splitlines()[0] if message.strip() else repr(error)) from None
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
    """Maps (method, path, body) to (HTTP status, JSON-able body); no sockets involved."""

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
        match = _ROUTE.match(path)
        if not match:
            raise RequestError(404, f"Malformed request: {method} {path}; expected /v1/models/NAME"
                                    "[/versions/N][/metadata|:predict]")
        name, version, suffix = match.group("name", "version", "suffix")
        if name != self.model.name:
            raise RequestError(404, f"Servable not found for request: Latest({name})")
        if version is not None and (not version.isdigit() or int(version) != self.model.version):
            raise RequestError(404, f"Servable not found for request: Specific({name}, {version})")
        wanted = "POST" if suffix == ":predict" else "GET"
        if method != wanted:
            raise RequestError(405, f"{method} is not allowed on {path}; use {wanted}")
        if suffix == ":predict":
            return self.model.predict(body, self.max_batch)
        if suffix == "/metadata":
            return self.model.metadata()
        return self.model.status()


def make_server(router, host="127.0.0.1", port=8501, max_body_bytes=1 << 20, log=None):
    """A ThreadingHTTPServer answering with `router`; port 0 picks a free port (see `server_address`)."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "keras-bert-serve"

        def _answer(self, method):
            body = b""
            if method in ("POST", "PUT", "PATCH"):
                length = self.headers.get("Content-Length")
                if length is None:
                    return self._send(411, {"error": "Content-Length header required"})
                if not length.isdigit():
                    return self._send(400, {"error": f"invalid Content-Length: {length!r}"})
                if int(length) > max_body_bytes:
                    return self._send(413, {"error": f"request body of {length} bytes exceeds the "
                                                     f"server's limit of {max_body_bytes} bytes"})
                body = self.rfile.read(int(length))
            status, payload = router(method, self.path, body)
            self._send(status, payload, allow="POST" if self.path.endswith(":predict") else "GET")

        def _send(self, status, payload, allow=None):
            data = json.dumps(payload, ensure_ascii=False, indent=None).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if status == HTTPStatus.METHOD_NOT_ALLOWED and allow:
                self.send_header("Allow", allow)
            self.end_headers()
            self.wfile.write(data)
            self.close_connection = True  # an unread oversized body must not reach the next request

        def do_GET(self):
            self._answer("GET")

        def do_POST(self):
            self._answer("POST")

        def do_PUT(self):
            self._answer("PUT")

        def do_DELETE(self):
            self._answer("DELETE")

        def do_PATCH(self):
            self._answer("PATCH")

        def log_message(self, fmt, *args):
            if log:
                log(f"{self.address_string()} {fmt % args}")

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def serve(model_dir, name=None, host="127.0.0.1", port=8501, max_batch=64, max_body_bytes=1 << 20):
    """Loads the newest version under `model_dir` and serves it until interrupted."""
    if max_batch < 1 or max_body_bytes < 1:
        raise ValueError("--max-batch and --max-body-bytes must be positive")
    model = ServedModel(model_dir, name)
    server = make_server(Router(model, max_batch), host, port, max_body_bytes,
                         log=lambda m: print(m, file=sys.stderr))
    host, port = server.server_address[:2]
    print(f"serving {model.name} version {model.version} at http://{host}:{port}/v1/models/{model.name} "
          f"(signatures: {', '.join(sorted(model.signatures))})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
