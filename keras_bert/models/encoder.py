"""BertEncoder: the BERT encoder as a functional Keras model with dict inputs and outputs."""

import keras
import numpy as np

from keras_bert.config import BertConfig
from keras_bert.layers import BertEmbeddings, BertPooler, TransformerEncoder, attention_mask_from_padding
from keras_bert.models._quantization import QuantizableEncoderMixin

INPUT_NAMES = ("token_ids", "segment_ids", "padding_mask")


def _values(x):
    """`x` as numpy when it holds values (eager calls), None when symbolic (functional construction,
    graph or jit tracing), so compiled code pays nothing for `check_ids`."""
    if isinstance(x, np.ndarray):
        return x
    if x is None or keras.backend.is_keras_tensor(x):
        return None
    try:
        return np.asarray(keras.ops.convert_to_numpy(x))
    except Exception:  # noqa: BLE001  (a traced value: TF's NotImplementedError, JAX's TracerArrayConversionError)
        return None


def check_ids(inputs, config):
    """ValueError naming the input, the position and the value of an id outside its table.

    Keras' `take` wraps a negative id around to the end of the table (and on
    GPUs a too-large one silently reads zeros); checked on concrete inputs only.
    """
    if not isinstance(inputs, dict):
        return
    for name, size in (("token_ids", config.vocab_size), ("segment_ids", config.type_vocab_size)):
        values = _values(inputs.get(name))
        if values is None or values.size == 0:
            continue
        bad = np.argwhere((values < 0) | (values >= size))
        if len(bad):
            where = tuple(int(i) for i in bad[0])
            raise ValueError(f"{name} must be in [0, {size}); {name}{list(where)} is {values[where]} "
                             f"({len(bad)} id(s) out of range)")


def encoder_inputs(*extra_names):
    """Symbolic int32 [B, S] inputs: the encoder's three, plus `extra_names` (e.g. mask_positions)."""
    return {name: keras.Input(shape=(None,), dtype="int32", name=name)
            for name in INPUT_NAMES + extra_names}


@keras.saving.register_keras_serializable(package="keras_bert")
class BertEncoder(QuantizableEncoderMixin, keras.Model):
    """BERT encoder: embeddings, `num_layers` TransformerEncoder blocks, pooler.

    Inputs, a dict of int32 [B, S] tensors (S up to `max_position_embeddings`,
    any batch size): `token_ids`, `segment_ids`, `padding_mask` (1 = real token).
    Outputs, a dict: `sequence_output` [B, S, H], `pooled_output` [B, H], and
    with `output_all_layers=True` also `encoder_outputs`, a list of every
    block's [B, S, H] output.

    A functional model: `encoder.get_layer("transformer_layer_3")` and
    `keras.Model(encoder.inputs, ...)` work as for any functional model, and
    `.keras` files reload with `keras.saving.load_model` alone.
    """

    def __init__(self, config=None, output_all_layers=False, dtype=None, quantization_config=None, **kwargs):
        if config is None:
            config = BertConfig()
        elif isinstance(config, dict):
            config = BertConfig.from_dict(config)
        inputs = encoder_inputs()

        # === Layers ===
        embeddings = BertEmbeddings(
            vocab_size=config.vocab_size,
            hidden_size=config.hidden_size,
            max_positions=config.max_position_embeddings,
            type_vocab_size=config.type_vocab_size,
            position_embedding_type=config.position_embedding_type,
            initializer_range=config.initializer_range,
            layer_norm_epsilon=config.layer_norm_epsilon,
            dropout=config.dropout,
            dtype=dtype,
            name="embeddings",
        )
        blocks = [
            TransformerEncoder(
                hidden_size=config.hidden_size,
                num_heads=config.num_heads,
                intermediate_size=config.intermediate_size,
                activation=config.hidden_act,
                dropout=config.dropout,
                attention_dropout=config.attention_dropout,
                attention_implementation=config.attention_implementation,
                initializer_range=config.initializer_range,
                layer_norm_epsilon=config.layer_norm_epsilon,
                dtype=dtype,
                name=f"transformer_layer_{i}",
            )
            for i in range(config.num_layers)
        ]
        pooler = BertPooler(config.hidden_size, initializer_range=config.initializer_range,
                            dtype=dtype, name="pooler")

        # === Functional graph ===
        x = embeddings(inputs["token_ids"], inputs["segment_ids"])
        mask = attention_mask_from_padding(inputs["padding_mask"])
        layer_outputs = []
        for block in blocks:
            x = block(x, attention_mask=mask)
            layer_outputs.append(x)
        outputs = {"sequence_output": x, "pooled_output": pooler(x)}
        if output_all_layers:
            outputs["encoder_outputs"] = layer_outputs
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # Keras' functional constructor drops `dtype`; without this the model would
        # report (and save) float32 whatever its layers compute in.
        self.dtype_policy = embeddings.dtype_policy

        # === Attributes ===
        self.config = config
        self.output_all_layers = output_all_layers
        self.embeddings = embeddings
        self.transformer_layers = blocks
        self.pooler = pooler
        self._restore_quantization(quantization_config)  # int8 (see models/_quantization.py)

    def call(self, inputs, training=None, mask=None, **kwargs):
        check_ids(inputs, self.config)
        return super().call(inputs, training=training, mask=mask, **kwargs)

    @property
    def token_embeddings(self):
        """The [vocab, hidden] token table (tied to the masked-LM output)."""
        return self.embeddings.token_embeddings

    def attention_scores(self, inputs):
        """Runs the encoder eagerly and returns each layer's attention probabilities.

        A list of `num_layers` arrays [B, heads, S, S], for visualisation.
        """
        x = self.embeddings(inputs["token_ids"], inputs["segment_ids"])
        mask = attention_mask_from_padding(inputs["padding_mask"])
        scores = []
        for block in self.transformer_layers:
            x, probs = block(x, attention_mask=mask, return_attention_scores=True)
            scores.append(probs)
        return scores

    def get_config(self):
        return {
            "config": self.config.to_dict(),
            "output_all_layers": self.output_all_layers,
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
            **self.quantization_config_entries(),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.dtype_policies.deserialize(config["dtype"])
        return cls(**config)


def bert_encoder(config=None, output_all_layers=False, dtype=None, name="bert_encoder"):
    """Builds a `BertEncoder` from a `BertConfig`, a dict, or a preset name ("tiny" ... "large")."""
    if isinstance(config, str):
        config = BertConfig.preset(config)
    return BertEncoder(config, output_all_layers=output_all_layers, dtype=dtype, name=name)
