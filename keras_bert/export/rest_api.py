"""TF Serving's REST predict format: JSON request -> input arrays, output tensors -> JSON response.

Row format ("instances"): a list with one entry per example; an entry is the
value itself when the signature has one input, otherwise an object naming
every input. Replies `{"predictions": [...]}`: per-example values (one
output) or objects (several). Columnar format ("inputs"): the value or an
object of batched values; replies `{"outputs": ...}` likewise. String inputs
are JSON strings or `{"b64": "..."}`; string outputs come back as strings
(`{"b64": ...}` for outputs whose name ends in `_bytes`), as in TF Serving.
Problems raise `RequestError(status, message)`.
"""

import base64
import binascii
import json

import numpy as np


class RequestError(Exception):
    """A client error: HTTP `status` and a message for the JSON `error` field."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


# Deeper lists than any signature's rank are refused before they are walked.
MAX_NESTING = 32


def parse_body(body):
    try:
        request = json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise RequestError(400, f"JSON Parse error: {error}") from None
    except RecursionError:
        raise RequestError(400, "JSON Parse error: nested too deeply") from None
    if not isinstance(request, dict):
        raise RequestError(400, "request body must be a JSON object with 'instances' or 'inputs'")
    unknown = set(request) - {"signature_name", "instances", "inputs"}
    if unknown:
        raise RequestError(400, f"unknown field(s) in request: {', '.join(sorted(unknown))}; "
                                "expected 'instances' or 'inputs', and optionally 'signature_name'")
    if ("instances" in request) == ("inputs" in request):
        raise RequestError(400, "request must have exactly one of 'instances' (row format) or 'inputs' "
                                "(columnar format)")
    name = request.get("signature_name", "serving_default")
    if not isinstance(name, str):
        raise RequestError(400, "'signature_name' must be a string")
    return request, name


def request_inputs(request, input_specs, max_batch):
    """-> (dict name -> numpy array, row_format). `input_specs`: name -> (numpy dtype, shape list)."""
    names = sorted(input_specs)
    if "instances" in request:
        instances = request["instances"]
        if not isinstance(instances, list) or not instances:
            raise RequestError(400, "'instances' must be a non-empty list")
        _check_batch(len(instances), max_batch)
        columns = {n: [] for n in names}
        for i, instance in enumerate(instances):
            if _is_named(instance, names):
                _check_names(instance, names, f"instance {i}")
                for n in names:
                    columns[n].append(instance[n])
            elif len(names) == 1:
                columns[names[0]].append(instance)
            else:
                raise RequestError(400, f"instance {i} must be an object with the inputs {names}")
        return {n: to_array(columns[n], *input_specs[n], n) for n in names}, True
    inputs = request["inputs"]
    if _is_named(inputs, names):
        _check_names(inputs, names, "'inputs'")
    elif len(names) == 1:
        inputs = {names[0]: inputs}
    else:
        raise RequestError(400, f"'inputs' must be an object with the inputs {names}")
    arrays = {n: to_array(inputs[n], *input_specs[n], n) for n in names}
    batch = {a.shape[0] if a.ndim else None for a in arrays.values()}
    if len(batch) != 1 or None in batch:
        raise RequestError(400, "inputs must share their first (batch) dimension")
    (size,) = batch
    if size == 0:
        raise RequestError(400, "'inputs' must hold at least one example")
    _check_batch(size, max_batch)
    return arrays, False


def _is_named(value, names):
    return isinstance(value, dict) and not (set(value) == {"b64"} and "b64" not in names)


def _check_names(value, names, where):
    missing, extra = set(names) - set(value), set(value) - set(names)
    if missing or extra:
        raise RequestError(400, f"{where}: expected inputs {names}; "
                                + "; ".join(m for m in (f"missing {sorted(missing)}" if missing else "",
                                                        f"unknown {sorted(extra)}" if extra else "") if m))


def _check_batch(size, max_batch):
    if size > max_batch:
        raise RequestError(413, f"batch of {size} examples exceeds the server's limit of {max_batch}")


def to_array(value, dtype, shape, name):
    """JSON value -> numpy array of `dtype`, checked against the signature's `shape` (None = any)."""
    leaves, dims = [], _dims(value, name, min(len(shape) + 1, MAX_NESTING))
    _flatten(value, leaves)
    if len(dims) != len(shape) or any(s is not None and s != d for s, d in zip(shape, dims)):
        want = "[" + ", ".join("None" if s is None else str(s) for s in shape) + "]"
        raise RequestError(400, f"input '{name}' has shape {list(dims)}; the signature expects {want}")
    if dtype.kind in "SUO":
        data = [_to_bytes(v, name) for v in leaves]
        return np.array(data, dtype=object).reshape(dims)
    if dtype.kind in "iu":
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in leaves):
            raise RequestError(400, f"input '{name}' must hold integers ({dtype.name})")
        info = np.iinfo(dtype)
        if leaves and (min(leaves) < info.min or max(leaves) > info.max):
            raise RequestError(400, f"input '{name}' has values outside the {dtype.name} range")
    elif dtype.kind == "f":
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in leaves):
            raise RequestError(400, f"input '{name}' must hold numbers ({dtype.name})")
    elif dtype.kind == "b" and not all(isinstance(v, bool) for v in leaves):
        raise RequestError(400, f"input '{name}' must hold true/false values")
    return np.array(leaves, dtype=dtype).reshape(dims)


def _dims(value, name, depth):
    """Shape of a nested list; RequestError if ragged or nested deeper than `depth`."""
    if not isinstance(value, list):
        return ()
    if depth == 0:
        raise RequestError(400, f"input '{name}' is nested deeper than the signature's rank allows")
    if not value:
        return (0,)
    inner = {_dims(v, name, depth - 1) for v in value}
    if len(inner) != 1:
        raise RequestError(400, f"input '{name}' is ragged: every row must have the same length "
                                "(pad token ids and set padding_mask to 0)")
    return (len(value),) + inner.pop()


def _flatten(value, out):
    if isinstance(value, list):
        for v in value:
            _flatten(v, out)
    else:
        out.append(value)


def _to_bytes(value, name):
    if isinstance(value, str):
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError as error:  # "\ud800" alone is valid JSON but not a character
            raise RequestError(400, f"input '{name}' holds a lone UTF-16 surrogate "
                                    f"(\\u{ord(value[error.start]):04x}); send valid Unicode text") from None
    if isinstance(value, dict) and set(value) == {"b64"} and isinstance(value["b64"], str):
        try:
            return base64.b64decode(value["b64"], validate=True)
        except (binascii.Error, ValueError):
            raise RequestError(400, f"input '{name}': invalid base64 in {{\"b64\": ...}}") from None
    raise RequestError(400, f"input '{name}' must hold strings (or {{\"b64\": \"...\"}} objects); "
                            f"got {type(value).__name__}")


def to_json_value(array, output_name):
    """numpy output -> nested lists; strings decoded (base64 objects for `*_bytes` outputs)."""
    array = np.asarray(array)
    if array.dtype.kind in "SO":
        if output_name.endswith("_bytes"):
            encode = lambda b: {"b64": base64.b64encode(b).decode("ascii")}
        else:
            encode = lambda b: b.decode("utf-8", errors="replace")
        flat = [encode(b) for b in array.reshape(-1)]
        return np.array(flat, dtype=object).reshape(array.shape).tolist() if array.ndim else flat[0]
    return array.tolist()


def response(outputs, row_format):
    """Signature outputs (name -> numpy) -> TF Serving's reply body (dict)."""
    if row_format:
        names = sorted(outputs)
        columns = {n: to_json_value(outputs[n], n) for n in names}
        if len(names) == 1:
            return {"predictions": columns[names[0]]}
        size = len(columns[names[0]])
        return {"predictions": [{n: columns[n][i] for n in names} for i in range(size)]}
    if len(outputs) == 1:
        ((n, value),) = outputs.items()
        return {"outputs": to_json_value(value, n)}
    return {"outputs": {n: to_json_value(v, n) for n, v in sorted(outputs.items())}}
