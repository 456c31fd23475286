"""BertConfig: the hyper-parameters of a BERT encoder, presets, JSON in/out."""

import dataclasses
import json
import math
import os

ACTIVATIONS = ("gelu", "gelu_tanh", "relu", "silu")
POSITION_EMBEDDING_TYPES = ("learned", "sinusoidal")
ATTENTION_IMPLEMENTATIONS = ("auto", "fused", "explicit")


@dataclasses.dataclass
class BertConfig:
    """Hyper-parameters of a BERT encoder.

    `hidden_act` is `"gelu"` (exact, erf: Hugging Face's "gelu") or
    `"gelu_tanh"` (the tanh approximation that Google's original checkpoints
    were trained with, which their `bert_config.json` also calls "gelu").
    `attention_implementation`: `"fused"` always uses
    `keras.ops.dot_product_attention` (flash attention where the backend has
    it; attention-probability dropout is skipped), `"explicit"` always computes
    the softmax itself, `"auto"` uses the fused path except while training with
    `attention_dropout > 0`.
    """

    vocab_size: int = 30522
    hidden_size: int = 768
    num_layers: int = 12
    num_heads: int = 12
    intermediate_size: int = 3072
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    hidden_act: str = "gelu"
    dropout: float = 0.1
    attention_dropout: float = 0.1
    initializer_range: float = 0.02
    layer_norm_epsilon: float = 1e-12
    position_embedding_type: str = "learned"
    attention_implementation: str = "auto"
    pad_token_id: int = 0

    def __post_init__(self):
        self.validate()

    # Validation ---------------------------------------------------------
    def validate(self):
        """Raises ValueError naming the first field of the wrong type or out of range."""
        for name, kind in FIELD_KINDS.items():
            value = getattr(self, name)
            if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError(f"BertConfig.{name} must be an integer, got {value!r} ({type(value).__name__})")
            if kind == "float" and (isinstance(value, bool) or not isinstance(value, (int, float))
                                    or not math.isfinite(value)):
                raise ValueError(f"BertConfig.{name} must be a finite number, got {value!r} ({type(value).__name__})")
            if kind == "str" and not isinstance(value, str):
                raise ValueError(f"BertConfig.{name} must be a string, got {value!r} ({type(value).__name__})")
        positive = ("vocab_size", "hidden_size", "num_layers", "num_heads",
                    "intermediate_size", "max_position_embeddings", "type_vocab_size")
        for name in positive:
            value = getattr(self, name)
            if value <= 0:
                raise ValueError(f"BertConfig.{name} must be a positive integer, got {value!r}")
        if self.hidden_size % self.num_heads:
            raise ValueError(
                f"BertConfig.hidden_size ({self.hidden_size}) must be divisible by "
                f"num_heads ({self.num_heads})")
        for name in ("dropout", "attention_dropout"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"BertConfig.{name} must be in [0, 1), got {value!r}")
        if self.initializer_range <= 0:
            raise ValueError(f"BertConfig.initializer_range must be > 0, got {self.initializer_range!r}")
        if not 0 < self.layer_norm_epsilon < 1:
            raise ValueError(f"BertConfig.layer_norm_epsilon must be in (0, 1), got {self.layer_norm_epsilon!r}")
        choices = (("hidden_act", ACTIVATIONS),
                   ("position_embedding_type", POSITION_EMBEDDING_TYPES),
                   ("attention_implementation", ATTENTION_IMPLEMENTATIONS))
        for name, allowed in choices:
            if getattr(self, name) not in allowed:
                raise ValueError(f"BertConfig.{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if not 0 <= self.pad_token_id < self.vocab_size:
            raise ValueError(f"BertConfig.pad_token_id ({self.pad_token_id}) must be in [0, vocab_size) "
                             f"([0, {self.vocab_size}))")

    @property
    def head_size(self):
        return self.hidden_size // self.num_heads

    # Serialisation ------------------------------------------------------
    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        """Builds a config from a dict; unknown keys are an error (typos are not ignored)."""
        if not isinstance(values, dict):
            raise ValueError(f"a BertConfig is a JSON object / dict of fields, got {type(values).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(map(str, set(values) - known))
        if unknown:
            raise ValueError(f"Unknown BertConfig field(s): {', '.join(unknown)}")
        return cls(**values)

    def to_json(self, path=None):
        text = json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"
        if path is not None:
            from keras_bert.utils import atomic_write_text
            atomic_write_text(path, text)
        return text

    @classmethod
    def from_json(cls, path_or_text):
        """From a JSON file's path or a JSON string; ValueError naming the file and the problem."""
        from keras_bert.utils import read_json

        if isinstance(path_or_text, os.PathLike) or (isinstance(path_or_text, str)
                                                     and not path_or_text.lstrip().startswith(("{", "["))):
            source = os.fspath(path_or_text)
            if not os.path.isfile(source):
                raise FileNotFoundError(f"BertConfig file not found: {source!r}")
            values = read_json(source, "a BertConfig object")
        else:
            source = "BertConfig JSON"
            try:
                values = json.loads(path_or_text)
            except json.JSONDecodeError as error:
                raise ValueError(f"{source}: not valid JSON ({error.msg} at line {error.lineno}, "
                                 f"column {error.colno})") from None
        try:
            return cls.from_dict(values)
        except ValueError as error:
            raise ValueError(f"{source}: {error}") from None

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    # Presets ------------------------------------------------------------
    @classmethod
    def preset(cls, name, **overrides):
        """A named size: tiny, mini, small, medium (Turc et al. 2019), base, large."""
        if name not in PRESETS:
            raise ValueError(f"Unknown preset {name!r}; choose one of {sorted(PRESETS)}")
        layers, hidden = PRESETS[name]
        values = dict(num_layers=layers, hidden_size=hidden, num_heads=hidden // 64,
                      intermediate_size=4 * hidden)
        values.update(overrides)
        return cls(**values)


def config_from_file(path, convert):
    """`convert(values)` for the JSON object in a checkpoint's config file; ValueError naming the file and
    the missing key or the bad value."""
    from keras_bert.utils import read_json

    values = read_json(path, f"a {os.path.basename(path)} object")
    try:
        return convert(values)
    except KeyError as error:
        raise ValueError(f"{path}: missing key {error.args[0]!r}") from None
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None


# The type each field must have (bool is not accepted as an int or a number).
FIELD_KINDS = {
    "vocab_size": "int", "hidden_size": "int", "num_layers": "int", "num_heads": "int",
    "intermediate_size": "int", "max_position_embeddings": "int", "type_vocab_size": "int",
    "hidden_act": "str", "dropout": "float", "attention_dropout": "float", "initializer_range": "float",
    "layer_norm_epsilon": "float", "position_embedding_type": "str", "attention_implementation": "str",
    "pad_token_id": "int",
}

# name -> (layers, hidden size); heads = hidden / 64, FFN = 4 x hidden, as published.
PRESETS = {
    "tiny": (2, 128),
    "mini": (4, 256),
    "small": (4, 512),
    "medium": (8, 512),
    "base": (12, 768),
    "large": (24, 1024),
}
