"""BertEmbedder: sentence embeddings by cls / mean / max pooling, optionally L2-normalised."""

import keras

from keras_bert.layers import SequencePooling
from keras_bert.models._quantization import QuantizeEncoderMixin
from keras_bert.models._serialization import from_wrapper_config, wrapper_config
from keras_bert.models.encoder import BertEncoder, encoder_inputs
from keras_bert.models.tasks.base import FromPretrainedMixin


@keras.saving.register_keras_serializable(package="keras_bert")
class BertEmbedder(FromPretrainedMixin, QuantizeEncoderMixin, keras.Model):
    """Encoder + `SequencePooling`: inputs dict -> embeddings [B, H] (float32).

    With the all-MiniLM-L6-v2 checkpoint, `pooling="mean", normalize=True`
    reproduces sentence-transformers' embedding of that model:
    `BertEmbedder.from_pretrained(path, pooling="mean", normalize=True)`.
    Raw strings: `keras_bert.pipelines.SentenceEmbedder`.
    """

    def __init__(self, encoder, pooling="mean", normalize=True, **kwargs):
        if not isinstance(encoder, BertEncoder):
            raise TypeError(f"encoder must be a BertEncoder, got {type(encoder).__name__}")
        inputs = encoder_inputs()
        pool = SequencePooling(pooling, normalize=normalize, dtype="float32", name="pooling")
        encoded = encoder(inputs)
        embedding = pool(encoded["sequence_output"], inputs["padding_mask"])
        super().__init__(inputs=inputs, outputs=embedding, **kwargs)
        self.dtype_policy = encoder.dtype_policy  # functional models drop `dtype`; see BertEncoder
        self.encoder = encoder
        self.pooling = pooling
        self.normalize = normalize

    def get_config(self):
        return wrapper_config(self, pooling=self.pooling, normalize=self.normalize)

    @classmethod
    def from_config(cls, config):
        return from_wrapper_config(cls, config)
