"""Checkpoint variable names, kept as data: our weight path <- Google TF1 name, Hugging Face name.

Each row: (our path, google name(s), huggingface name(s), kind). `{i}` is the layer
index. Kinds say how a source tensor becomes ours:
- "copy": same layout in both formats.
- "kernel": a dense kernel; Google stores [in, out] like Keras, Hugging Face
  (torch.nn.Linear) stores [out, in] and is transposed.
- "out_in": stored [out, in] in both formats (Google's NSP `output_weights`).
Rows with three names are concatenated along the output axis (our fused QKV).
"""

QKV = ("query", "key", "value")

EMBEDDINGS = [
    ("embeddings/token_embeddings", "bert/embeddings/word_embeddings",
     "embeddings.word_embeddings.weight", "copy"),
    ("embeddings/position_embeddings", "bert/embeddings/position_embeddings",
     "embeddings.position_embeddings.weight", "copy"),
    ("embeddings/segment_embeddings", "bert/embeddings/token_type_embeddings",
     "embeddings.token_type_embeddings.weight", "copy"),
    ("embeddings/layer_norm/gamma", "bert/embeddings/LayerNorm/gamma",
     "embeddings.LayerNorm.weight", "copy"),
    ("embeddings/layer_norm/beta", "bert/embeddings/LayerNorm/beta",
     "embeddings.LayerNorm.bias", "copy"),
]

LAYER = [
    ("transformer_layer_{i}/attention/qkv/kernel",
     tuple(f"bert/encoder/layer_{{i}}/attention/self/{n}/kernel" for n in QKV),
     tuple(f"encoder.layer.{{i}}.attention.self.{n}.weight" for n in QKV), "kernel"),
    ("transformer_layer_{i}/attention/qkv/bias",
     tuple(f"bert/encoder/layer_{{i}}/attention/self/{n}/bias" for n in QKV),
     tuple(f"encoder.layer.{{i}}.attention.self.{n}.bias" for n in QKV), "copy"),
    ("transformer_layer_{i}/attention/output/kernel",
     "bert/encoder/layer_{i}/attention/output/dense/kernel",
     "encoder.layer.{i}.attention.output.dense.weight", "kernel"),
    ("transformer_layer_{i}/attention/output/bias",
     "bert/encoder/layer_{i}/attention/output/dense/bias",
     "encoder.layer.{i}.attention.output.dense.bias", "copy"),
    ("transformer_layer_{i}/attention_layer_norm/gamma",
     "bert/encoder/layer_{i}/attention/output/LayerNorm/gamma",
     "encoder.layer.{i}.attention.output.LayerNorm.weight", "copy"),
    ("transformer_layer_{i}/attention_layer_norm/beta",
     "bert/encoder/layer_{i}/attention/output/LayerNorm/beta",
     "encoder.layer.{i}.attention.output.LayerNorm.bias", "copy"),
    ("transformer_layer_{i}/intermediate/kernel",
     "bert/encoder/layer_{i}/intermediate/dense/kernel",
     "encoder.layer.{i}.intermediate.dense.weight", "kernel"),
    ("transformer_layer_{i}/intermediate/bias",
     "bert/encoder/layer_{i}/intermediate/dense/bias",
     "encoder.layer.{i}.intermediate.dense.bias", "copy"),
    ("transformer_layer_{i}/output/kernel",
     "bert/encoder/layer_{i}/output/dense/kernel",
     "encoder.layer.{i}.output.dense.weight", "kernel"),
    ("transformer_layer_{i}/output/bias",
     "bert/encoder/layer_{i}/output/dense/bias",
     "encoder.layer.{i}.output.dense.bias", "copy"),
    ("transformer_layer_{i}/output_layer_norm/gamma",
     "bert/encoder/layer_{i}/output/LayerNorm/gamma",
     "encoder.layer.{i}.output.LayerNorm.weight", "copy"),
    ("transformer_layer_{i}/output_layer_norm/beta",
     "bert/encoder/layer_{i}/output/LayerNorm/beta",
     "encoder.layer.{i}.output.LayerNorm.bias", "copy"),
]

POOLER = [
    ("pooler/dense/kernel", "bert/pooler/dense/kernel", "pooler.dense.weight", "kernel"),
    ("pooler/dense/bias", "bert/pooler/dense/bias", "pooler.dense.bias", "copy"),
]

# Pretraining heads. The MLM output projection is tied to the token embeddings,
# so only its bias is stored.
HEADS = [
    ("mlm_head/transform/kernel", "cls/predictions/transform/dense/kernel",
     "cls.predictions.transform.dense.weight", "kernel"),
    ("mlm_head/transform/bias", "cls/predictions/transform/dense/bias",
     "cls.predictions.transform.dense.bias", "copy"),
    ("mlm_head/layer_norm/gamma", "cls/predictions/transform/LayerNorm/gamma",
     "cls.predictions.transform.LayerNorm.weight", "copy"),
    ("mlm_head/layer_norm/beta", "cls/predictions/transform/LayerNorm/beta",
     "cls.predictions.transform.LayerNorm.bias", "copy"),
    ("mlm_head/output_bias", "cls/predictions/output_bias", "cls.predictions.bias", "copy"),
    ("nsp_head/dense/kernel", "cls/seq_relationship/output_weights",
     "cls.seq_relationship.weight", "out_in"),
    ("nsp_head/dense/bias", "cls/seq_relationship/output_bias",
     "cls.seq_relationship.bias", "copy"),
]

# Source names that carry no model weights: optimizer state, step counters,
# buffers, and the tied MLM decoder (a copy of the token embeddings).
IGNORED = {
    "google": (r".*/adam_[mv]$", r"^global_step$", r".*/(Adam|LAMB|Momentum)(_\d+)?$",
               r"^bad_steps$", r"^good_steps$", r"^loss_scale$"),
    "huggingface": (r"^embeddings\.position_ids$", r"^cls\.predictions\.decoder\.(weight|bias)$",
                    r".*\.num_batches_tracked$"),
}


def rows(num_layers):
    """The full table for a model with `num_layers` blocks, `{i}` expanded."""
    def fill(value, i):
        if isinstance(value, tuple):
            return tuple(v.format(i=i) for v in value)
        return value.format(i=i)

    table = list(EMBEDDINGS)
    for i in range(num_layers):
        table += [tuple(fill(v, i) if n < 3 else v for n, v in enumerate(row)) for row in LAYER]
    return table + POOLER + HEADS
