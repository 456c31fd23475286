"""Large constant arrays stored zlib-compressed in a SavedModel and unpacked once when it loads.

A `tf.constant` captured by a traced function is written uncompressed into
`saved_model.pb`; the tokenizer's tables (the FastWordPiece model, the
Unicode normalisation tables) would cost several MB per export. Here each is
a resource variable that a SavedModel does not checkpoint: its initializer,
run once when the SavedModel (or the Python object) is created, decompresses
the value from a small constant. Traced code reads the variable (no copy);
eager code reads ordinary tensors.
"""

import uuid
import zlib

import numpy as np
import tensorflow as tf


class _CompressedConstant(tf.saved_model.experimental.TrackableResource):
    def __init__(self, array, level):
        super().__init__()
        self._dtype = tf.as_dtype(array.dtype)
        self._shape = list(array.shape)
        little = array.astype(array.dtype.newbyteorder("<"), copy=False)
        self._compressed = tf.constant(zlib.compress(little.tobytes(), level))
        self._shared_name = f"packed_constant_{uuid.uuid4().hex}"
        self._resource_handle = self._create_resource()
        self._initialize()

    def _create_resource(self):
        return tf.raw_ops.VarHandleOp(dtype=self._dtype, shape=self._shape, shared_name=self._shared_name)

    def _initialize(self):
        raw = tf.io.decode_compressed(self._compressed, "ZLIB")
        value = tf.reshape(tf.io.decode_raw(raw, self._dtype, little_endian=True), self._shape)
        return tf.raw_ops.AssignVariableOp(resource=self.resource_handle, value=value)

    def read(self):
        value = tf.raw_ops.ReadVariableOp(resource=self.resource_handle, dtype=self._dtype)
        value.set_shape(self._shape)
        return value


class PackedConstants(tf.Module):
    """Named numeric numpy arrays, readable as tensors with `packed[name]` in eager and traced code."""

    def __init__(self, arrays, level=6, name=None):
        super().__init__(name=name)
        arrays = {n: np.ascontiguousarray(a) for n, a in arrays.items()}
        for n, a in arrays.items():
            if a.dtype.kind not in "iuf":
                raise TypeError(f"PackedConstants holds numeric arrays; {n!r} is {a.dtype}.")
        self._eager = self._no_dependency({n: tf.constant(a) for n, a in arrays.items()})
        self._resources = {n: _CompressedConstant(a, level) for n, a in arrays.items()}

    def __getitem__(self, name):
        if not tf.inside_function():
            return self._eager[name]
        return self._resources[name].read()
