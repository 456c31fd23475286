"""int8 quantization of a BertEncoder through Keras' API, and how a quantized encoder is saved.

`encoder.quantize("int8")` (or `config=keras.quantizers.Int8QuantizationConfig(...)`)
quantizes every projection (`keras_bert.layers.Dense`, through Keras' `Model.quantize`)
and the token table (`BertEmbeddings.quantize`, which Keras skips: the layer has
sublayers). Task models and the pretrainer pass `quantize` on to their encoder, so
task heads (a few thousand weights) stay float.

Our layers build their sublayers themselves, so a sublayer's dtype policy never
reaches the saved config on its own. The encoder's config records them instead
as a `DTypePolicyMap` (layer path -> `int8_from_float32`, ...), keras-hub's
scheme: each sublayer receives the map and builds int8 variables where its path
says so. The `Int8QuantizationConfig` (whether activations are quantized) is
saved beside it and given back to the projections after the rebuild.
"""

import keras

QUANTIZED_TYPES = (keras.layers.Dense, keras.layers.EinsumDense, keras.layers.Embedding)


def resolve_int8_config(mode, config):
    """The `Int8QuantizationConfig` for `mode`/`config`; other modes raise ValueError."""
    if isinstance(config, str):
        mode, config = config, None
    if config is None:
        if mode != "int8":
            raise ValueError(f"keras_bert models support quantize('int8') only, got mode={mode!r}")
        return keras.quantizers.Int8QuantizationConfig()
    if config.mode != "int8" or (mode is not None and mode != "int8"):
        raise ValueError(f"keras_bert models support int8 quantization only, got {config.mode!r}")
    return config


def layer_policy(layer):
    """The layer's own `DTypePolicy`, looked up by path when it holds a `DTypePolicyMap`."""
    policy = layer.dtype_policy
    if isinstance(policy, keras.dtype_policies.DTypePolicyMap):
        return policy[layer.path] if layer.path else policy.default_policy
    return policy


def _name_filter(filters):
    if filters is None:
        return lambda layer: True
    if callable(filters) and not isinstance(filters, (str, list, tuple)):
        return filters
    from keras.src.quantizers.utils import should_quantize_layer

    return lambda layer: should_quantize_layer(layer, filters)


class QuantizableEncoderMixin:
    """`quantize` for BertEncoder, and the config entries that rebuild a quantized encoder."""

    def quantize(self, mode=None, config=None, filters=None, **kwargs):
        """Quantizes the projections (Keras' int8 Dense) and the token table to int8.

        `config`: a `keras.quantizers.Int8QuantizationConfig`; with
        `activation_quantizer=None` weights only are int8 and each projection
        dequantizes its kernel into the compute dtype (the fast path on CPUs:
        see `keras_bert.layers.Dense`). `filters`: Keras' layer-name regex(es) or
        a callable, applied to the projections and the embeddings layer.
        """
        from keras_bert.layers import BertEmbeddings

        config = resolve_int8_config(mode, config)
        wanted = _name_filter(filters)
        super().quantize(config=config, filters=lambda layer: isinstance(layer, QUANTIZED_TYPES) and wanted(layer),
                         **kwargs)
        for layer in self._flatten_layers(include_self=False):
            if isinstance(layer, BertEmbeddings) and layer.quantization_mode is None and wanted(layer):
                layer.quantize("int8", config=config)
        self._quantization_config = config

    def _restore_quantization(self, quantization_config):
        """After a rebuild from config: give the projections back their saved `Int8QuantizationConfig`."""
        if quantization_config is None:
            return
        if isinstance(quantization_config, dict):
            quantization_config = keras.saving.deserialize_keras_object(quantization_config)
        for layer in self._flatten_layers(include_self=False):
            if isinstance(layer, keras.layers.Dense) and layer.quantization_mode == "int8":
                layer.quantization_config = quantization_config
                layer.inputs_quantizer = quantization_config.activation_quantizer
        self._quantization_config = quantization_config

    def quantization_config_entries(self):
        """{"dtype": DTypePolicyMap, "quantization_config": ...} when quantized, else {}."""
        quantized = {layer.path: layer_policy(layer) for layer in self._flatten_layers(include_self=False)
                     if layer.quantization_mode is not None}
        if not quantized:
            return {}
        policy_map = keras.dtype_policies.DTypePolicyMap(default_policy=layer_policy(self))
        for path, policy in quantized.items():
            policy_map[path] = policy
        config = getattr(self, "_quantization_config", None)
        return {"dtype": keras.dtype_policies.serialize(policy_map),
                "quantization_config": keras.saving.serialize_keras_object(config) if config else None}


class QuantizeEncoderMixin:
    """`quantize` for models wrapping a BertEncoder (tasks, pretrainer): the encoder is quantized, heads stay float."""

    def quantize(self, mode=None, config=None, filters=None, **kwargs):
        """Quantizes `self.encoder` (see `BertEncoder.quantize`); the task head keeps its float weights."""
        self.encoder.quantize(mode, config=config, filters=filters, **kwargs)
        self.train_function = self.test_function = self.predict_function = None
