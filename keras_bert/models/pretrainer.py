"""BertPretrainer: encoder + masked-LM head (tied, masked positions only) + next-sentence head."""

import keras

from keras_bert.layers import MaskedLMHead, NextSentenceHead
from keras_bert.models._serialization import from_wrapper_config, wrapper_config
from keras_bert.models.encoder import INPUT_NAMES, BertEncoder, encoder_inputs


@keras.saving.register_keras_serializable(package="keras_bert")
class BertPretrainer(keras.Model):
    """BERT's pretraining model as a functional Keras model.

    Inputs: the encoder's dict plus `mask_positions` int32 [B, P].
    Outputs: `{"mlm": logits [B, P, vocab], "nsp": logits [B, 2]}`, named so a
    data pipeline yielding `(features, {"mlm": mask_ids, "nsp": labels},
    {"mlm": mask_weights})` trains it with plain `model.fit`.
    The MLM output projection is the encoder's token-embedding table.
    """

    def __init__(self, encoder, **kwargs):
        if not isinstance(encoder, BertEncoder):
            raise TypeError(f"encoder must be a BertEncoder, got {type(encoder).__name__}")
        config = encoder.config
        inputs = encoder_inputs("mask_positions")

        # === Layers ===
        mlm_head = MaskedLMHead(
            vocab_size=config.vocab_size,
            hidden_size=config.hidden_size,
            activation=config.hidden_act,
            initializer_range=config.initializer_range,
            layer_norm_epsilon=config.layer_norm_epsilon,
            token_embedding=encoder.embeddings,
            dtype=encoder.dtype_policy,
            name="mlm_head",
        )
        nsp_head = NextSentenceHead(initializer_range=config.initializer_range,
                                    dtype=encoder.dtype_policy, name="nsp_head")

        # === Functional graph ===
        encoded = encoder({name: inputs[name] for name in INPUT_NAMES})
        # Logits in float32 so losses stay accurate under mixed precision.
        mlm = keras.layers.Activation("linear", dtype="float32", name="mlm")(
            mlm_head(encoded["sequence_output"], inputs["mask_positions"]))
        nsp = keras.layers.Activation("linear", dtype="float32", name="nsp")(
            nsp_head(encoded["pooled_output"]))
        super().__init__(inputs=inputs, outputs={"mlm": mlm, "nsp": nsp}, **kwargs)

        # === Attributes ===
        self.encoder = encoder
        self.mlm_head = mlm_head
        self.nsp_head = nsp_head

    def get_config(self):
        return wrapper_config(self)

    @classmethod
    def from_config(cls, config):
        return from_wrapper_config(cls, config)
