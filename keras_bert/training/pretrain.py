"""`run_pretraining(config)`: BERT pretraining (MLM + NSP) with `model.fit`, from a dict / JSON / YAML file.

Config keys (defaults in `DEFAULTS`):
  model:      BertConfig fields, plus `preset` (tiny..large) and/or `config_file` (a BertConfig
              JSON); `vocab_size` defaults to the data's vocabulary
  data:       `tfrecords` (folder or glob written by `keras-bert pretraining-data`), or `text`
              (corpus files: one sentence per line, blank line between documents) with `vocab`,
              `max_length`, `dupe_factor`, `short_seq_prob`, which are turned into TFRecords under
              `<output_dir>/data` first; both are masked dynamically when read (`mask_rate`,
              `max_predictions`, `whole_word` (null: as the TFRecords' metadata); `shuffle_buffer`);
              `segmentation` (spaces | jieba, data.text only): Chinese word boundaries for
              whole-word masking; `length_bucketing: true` batches
              pairs of similar length together (less padding when many pairs are short);
              `padding`: auto (max_length under a TPU strategy: static shapes; else dynamic) |
              dynamic | max_length, and `pad_to_multiple_of` (bounds XLA's shapes when dynamic)
  next_sentence: true (MLM + NSP, BERT) | false (MLM only, no NSP head)
  batch_size: global batch per step (split over replicas)
  steps:      optimizer updates; with `gradient_accumulation_steps: k` each update takes k batches
  steps_per_epoch: updates per Keras epoch (progress bar and epoch logs)
  optimizer (adamw | lamb), learning_rate, warmup_steps (or warmup_ratio), weight_decay, clipnorm
  strategy:   auto | default | mirrored | multi_worker | tpu (see `keras_bert.training.strategy`),
              `tpu` (name/address for the TPU resolver)
  precision:  float32 | mixed_float16 | mixed_bfloat16
  output_dir, checkpoint_every (updates), keep_checkpoints, log_every (batches), seed, verbose

Every key is checked against `RULES` (or its default's type) and unknown keys are refused,
with a message naming the key.

Outputs under `output_dir`: `checkpoints/` (resume: run the same command again), `logs/`
(TensorBoard), `model/model.keras` (the BertPretrainer) with `model/vocab.txt`, `config.json`
(the resolved config) and `metrics.json`.
Data order is a function of `seed` and the number of batches already trained, so a resumed run
sees exactly the batches an uninterrupted one would.
"""

import copy
import json
import math
import os
import shutil
import tempfile

PADDINGS = ("auto", "dynamic", "max_length")
DEFAULTS = {
    "model": {"preset": "tiny"},
    "data": {"mask_rate": 0.15, "max_predictions": 20, "whole_word": None, "segmentation": None, "max_length": 128,
             "dupe_factor": 1, "short_seq_prob": 0.1, "shuffle_buffer": 10000,
             "length_bucketing": False, "padding": "auto", "pad_to_multiple_of": None},
    "next_sentence": True, "batch_size": 32, "steps": 1000, "steps_per_epoch": None,
    "optimizer": "adamw", "learning_rate": 1e-4, "warmup_steps": None, "warmup_ratio": 0.01,
    "weight_decay": 0.01, "clipnorm": 1.0, "gradient_accumulation_steps": 1,
    "strategy": "auto", "tpu": None, "precision": "float32",
    "output_dir": "runs/pretrain", "checkpoint_every": 500, "keep_checkpoints": 2, "log_every": 10,
    "seed": 0, "verbose": 1,
}
# data keys with no default (data.tfrecords or data.text + data.vocab name the corpus).
DATA_SOURCES = {"tfrecords": None, "text": None, "vocab": None}

# Type and range of each key, checked by `resolve_config` with a message naming the key. A key
# not listed here must hold the type of its default (bool, int, float or str); a trailing "?"
# allows null. Ranges: ">= 1", "> 0", "(0, 1)", "[0, 1]"; "choice" lists the allowed values.
RULES = {
    "data.mask_rate": ("number", "(0, 1)"), "data.max_predictions": ("int", ">= 1"),
    "data.max_length": ("int", ">= 4"), "data.dupe_factor": ("int", ">= 1"),
    "data.short_seq_prob": ("number", "[0, 1]"), "data.shuffle_buffer": ("int", ">= 1"),
    "data.padding": ("choice", PADDINGS), "data.whole_word": ("bool?", None),
    "data.segmentation": ("choice?", ("spaces", "jieba")), "data.pad_to_multiple_of": ("int?", ">= 1"),
    "data.tfrecords": ("str?", None), "data.text": ("paths?", None), "data.vocab": ("str?", None),
    "batch_size": ("int", ">= 1"), "steps": ("int", ">= 1"), "steps_per_epoch": ("int?", ">= 1"),
    "optimizer": ("choice", ("adamw", "lamb")), "learning_rate": ("number", "> 0"),
    "warmup_steps": ("int?", ">= 0"), "warmup_ratio": ("number", "[0, 1)"), "weight_decay": ("number", ">= 0"),
    "clipnorm": ("number?", "> 0"), "gradient_accumulation_steps": ("int", ">= 1"),
    "strategy": ("choice", ("auto", "default", "mirrored", "multi_worker", "tpu")), "tpu": ("str?", None),
    "precision": ("choice", ("float32", "mixed_float16", "mixed_bfloat16")), "output_dir": ("str", None),
    "checkpoint_every": ("int", ">= 1"), "keep_checkpoints": ("int", ">= 1"), "log_every": ("int", ">= 1"),
    "seed": ("int", ">= 0"), "verbose": ("choice", ("auto", 0, 1, 2)),
}


def _merge(base, override):
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _parse_value(text):
    try:
        import yaml
    except ImportError:
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text  # e.g. "[1" or "a: b: c": taken as the string it is


def _yaml_error(path, error):
    """One line naming the file, the line and the problem (PyYAML's messages span several lines)."""
    mark = getattr(error, "problem_mark", None)
    where = f"{path}:{mark.line + 1}" if mark is not None else path
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    return ValueError(f"{where}: not valid YAML: {problem}")


def load_config(path=None, overrides=()):
    """Reads a JSON or YAML config file, applies `key.sub=value` overrides, fills defaults."""
    config = {}
    if path is not None:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"Config file not found: {path!r}")
        from keras_bert.utils import read_json, read_text

        if path.endswith((".yaml", ".yml")):
            try:
                import yaml
            except ImportError:
                raise ValueError("YAML configs need PyYAML (pip install pyyaml); or use JSON") from None
            try:  # safe_load refuses python/* tags (arbitrary objects) with a ConstructorError
                config = yaml.safe_load(read_text(path)) or {}
            except yaml.YAMLError as error:
                raise _yaml_error(path, error) from None
        else:
            config = read_json(path, "a mapping of config keys")
        if not isinstance(config, dict):
            raise ValueError(f"{path}: the config must be a mapping, got {type(config).__name__}")
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"override {item!r} must look like key=value or section.key=value")
        node = config
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"override {item!r}: {part} is not a section (it holds {node!r})")
        node[leaf] = _parse_value(value)
    return resolve_config(config)


def resolve_config(config):
    """Defaults filled in and every key checked; raises ValueError naming a bad key."""
    if not isinstance(config, dict):
        raise ValueError(f"the config must be a mapping, got {type(config).__name__}")
    unknown = sorted(map(str, set(config) - set(DEFAULTS)))
    if unknown:
        raise ValueError(f"unknown config key(s): {', '.join(unknown)}; known: {', '.join(sorted(DEFAULTS))}")
    for section in ("model", "data"):
        if not isinstance(config.get(section, {}), dict):
            raise ValueError(f"{section} must be a mapping of keys, got {config[section]!r}")
    known_data = {**DEFAULTS["data"], **DATA_SOURCES}
    unknown = sorted(map(str, set(config.get("data", {})) - set(known_data)))
    if unknown:
        raise ValueError(f"unknown key(s) under data: {', '.join(unknown)}; known: {', '.join(sorted(known_data))}")
    config = _merge(DEFAULTS, config)
    for key, default in DEFAULTS.items():
        if key == "data":
            for sub, sub_default in known_data.items():
                _check_value(f"data.{sub}", config["data"].get(sub), sub_default)
        elif key != "model":
            _check_value(key, config[key], default)
    data = config["data"]
    if bool(data.get("tfrecords")) == bool(data.get("text")):
        raise ValueError("data needs exactly one of 'tfrecords' (a folder or glob) or 'text' (corpus files)")
    if data.get("text") and not data.get("vocab"):
        raise ValueError("data.text needs data.vocab (a vocab.txt or a checkpoint folder holding one)")
    _check_model(config["model"])
    if config["steps_per_epoch"] is None:
        config["steps_per_epoch"] = min(config["steps"], 1000)
    return config


def _check_value(key, value, default):
    kind, bounds = RULES.get(key, (None, None))
    if kind is None:  # typed by its default
        kind = {bool: "bool", int: "int", float: "number", str: "str"}.get(type(default))
        if kind is None:
            return
    nullable = kind.endswith("?")
    kind = kind.rstrip("?")
    if nullable and value is None:
        return
    if kind == "choice":
        if isinstance(value, bool) or value not in bounds:
            raise ValueError(f"{key} must be one of {', '.join(map(str, bounds))}, got {value!r}")
        return
    typed = {"bool": lambda v: isinstance(v, bool),
             "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
             "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v),
             "str": lambda v: isinstance(v, str) and v != "",
             "paths": lambda v: (isinstance(v, str) and v != "") or (isinstance(v, list) and len(v) > 0 and all(
                 isinstance(x, str) and x for x in v))}[kind]
    if not typed(value) or (bounds and not _in_range(value, bounds)):
        raise ValueError(f"{key} must be {_describe(kind, bounds)}{' or null' if nullable else ''}, got {value!r}")


def _describe(kind, bounds):
    named = {("int", ">= 1"): "a positive integer", ("int", ">= 0"): "a non-negative integer",
             ("number", "> 0"): "a positive number", ("number", ">= 0"): "a non-negative number"}
    if (kind, bounds) in named:
        return named[(kind, bounds)]
    noun = {"bool": "true or false", "int": "an integer", "number": "a finite number",
            "str": "a non-empty string", "paths": "a path or a list of paths"}[kind]
    return f"{noun} in {bounds}" if bounds and bounds[0] in "[(" else f"{noun} {bounds}" if bounds else noun


def _in_range(value, bounds):
    if bounds.startswith(">"):
        op, limit = bounds.split()
        return value >= float(limit) if op == ">=" else value > float(limit)
    low, high = (float(x) for x in bounds[1:-1].split(","))
    return (low <= value if bounds[0] == "[" else low < value) and (value <= high if bounds[-1] == "]" else value < high)


def _check_model(fields):
    """The model section builds a valid BertConfig (vocab_size aside, which may come from the data)."""
    from keras_bert.config import BertConfig, PRESETS

    known = {"preset", "config_file", *BertConfig.__dataclass_fields__}
    unknown = sorted(map(str, set(fields) - known))
    if unknown:
        raise ValueError(f"unknown key(s) under model: {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    preset = fields.get("preset")
    if preset is not None and preset not in PRESETS:
        raise ValueError(f"model.preset must be one of {', '.join(PRESETS)}, got {preset!r}")
    try:
        _bert_config(fields, fields.get("vocab_size", 30522))
    except ValueError as error:
        raise ValueError(f"model: {error}") from None


def _bert_config(fields, vocab_size):
    from keras_bert.config import BertConfig

    fields = dict(fields)
    preset = fields.pop("preset", None)
    config_file = fields.pop("config_file", None)
    fields.setdefault("vocab_size", vocab_size)
    if config_file:
        return BertConfig.from_json(config_file).replace(**fields)
    if preset:
        return BertConfig.preset(preset, **fields)
    return BertConfig(**fields)


def _prepare_data(config, output_dir, chief):
    """The TFRecord folder/glob to read: the configured one, or one written from `data.text`."""
    from keras_bert.text.pretraining_data import METADATA_FILENAME, write_pretraining_data

    data = config["data"]
    if data.get("tfrecords"):
        return data["tfrecords"]
    folder = os.path.join(output_dir, "data")
    texts = [data["text"]] if isinstance(data["text"], str) else list(data["text"])
    wanted = {"max_length": data["max_length"], "dupe_factor": data["dupe_factor"], "seed": config["seed"],
              "short_seq_prob": data["short_seq_prob"], "segmentation": data["segmentation"]}
    meta_path = os.path.join(folder, METADATA_FILENAME)
    if os.path.isfile(meta_path):
        try:
            with open(meta_path, encoding="utf-8") as f:
                meta = json.load(f)
        except (OSError, ValueError):
            meta = {}  # torn or unreadable: written again below
        if isinstance(meta, dict) and all(meta.get(k) == v for k, v in wanted.items()):
            return folder
    if not chief:
        raise ValueError(f"{folder} is not ready: with several workers, write the TFRecords first "
                         "(keras-bert pretraining-data) and pass data.tfrecords")
    if chief:
        write_pretraining_data(texts, data["vocab"], folder, seed=config["seed"], progress=False,
                               max_length=data["max_length"], dupe_factor=data["dupe_factor"],
                               short_seq_prob=data["short_seq_prob"], segmentation=data["segmentation"])
    return folder


def _data_folder(data_path):
    """The folder holding the shards and their vocab.txt; FileNotFoundError naming data.tfrecords."""
    import glob

    found = glob.glob(os.path.join(data_path, "*.tfrecord")) if os.path.isdir(data_path) else glob.glob(data_path)
    if not found:
        raise FileNotFoundError(f"data.tfrecords: no TFRecord files at {data_path!r} (give the folder written by "
                                "keras-bert pretraining-data, or a glob of its shards)")
    folder = data_path if os.path.isdir(data_path) else os.path.dirname(sorted(found)[0])
    if not os.path.isfile(os.path.join(folder, "vocab.txt")):
        raise FileNotFoundError(f"data.tfrecords: {folder} has no vocab.txt (keras-bert pretraining-data writes "
                                "one beside the shards)")
    return folder


def build_model(config, vocab_size):
    """BertPretrainer from the `model` section (under the caller's strategy scope)."""
    from keras_bert.models import BertEncoder, BertPretrainer

    bert_config = _bert_config(config["model"], vocab_size)
    if bert_config.vocab_size < vocab_size:
        raise ValueError(f"model.vocab_size ({bert_config.vocab_size}) is smaller than the data's vocabulary "
                         f"({vocab_size})")
    return BertPretrainer(BertEncoder(bert_config), next_sentence=config["next_sentence"])


def make_dataset(data_path, config, skip_batches=0, strategy=None):
    """The training batches, deterministic for a seed; the first `skip_batches` are skipped."""
    import tensorflow as tf

    from keras_bert.text.pretraining_data import pretraining_dataset

    data = config["data"]
    padding = data["padding"]
    if padding == "auto":  # TPUs compile one program per shape and need static shapes
        padding = "max_length" if isinstance(strategy, tf.distribute.TPUStrategy) else "dynamic"
    ds = pretraining_dataset(data_path, config["batch_size"], max_predictions=data["max_predictions"],
                             mask_rate=data["mask_rate"], whole_word=data["whole_word"], shuffle=True,
                             shuffle_buffer=data["shuffle_buffer"], repeat=True, seed=config["seed"],
                             drop_remainder=True, next_sentence=config["next_sentence"],
                             length_bucketing=data["length_bucketing"], padding=padding,
                             pad_to_multiple_of=data["pad_to_multiple_of"])
    if skip_batches:
        ds = ds.skip(skip_batches)
    options = tf.data.Options()
    # Every worker builds the same global batches and keeps its share of each; file-based
    # sharding would need at least one shard file per worker.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    options.deterministic = True
    return ds.with_options(options)


def run_pretraining(config, print_fn=print):
    """Trains as configured (a dict, already resolved or not); returns a dict of final metrics."""
    import keras

    from keras_bert.text.tokenizer import BertTokenizer
    from keras_bert.training import callbacks as cb
    from keras_bert.training.distributed import fit_under_strategy, reduce_before_apply
    from keras_bert.training.precision import set_precision
    from keras_bert.training.strategy import get_strategy, is_chief
    from keras_bert.utils import atomic_replace_dir, atomic_write_text

    config = resolve_config(config)
    if config["data"].get("tfrecords"):
        _data_folder(config["data"]["tfrecords"])  # before anything is written
    strategy = get_strategy(config["strategy"], tpu=config.get("tpu"))
    chief = is_chief(strategy)
    output_dir = os.path.abspath(config["output_dir"])
    ckpt_dir = os.path.join(output_dir, "checkpoints")
    log_dir = os.path.join(output_dir, "logs")
    if chief:
        os.makedirs(output_dir, exist_ok=True)
        atomic_write_text(os.path.join(output_dir, "config.json"), json.dumps(config, indent=2) + "\n")
        cb.remove_stale_temporaries(ckpt_dir)
    set_precision(config["precision"])
    keras.utils.set_random_seed(config["seed"])

    data_path = _prepare_data(config, output_dir, chief)
    data_folder = _data_folder(data_path)
    tokenizer = BertTokenizer(data_folder)
    k = config["gradient_accumulation_steps"]
    total_batches = config["steps"] * k
    with strategy.scope():
        model = build_model(config, tokenizer.vocab_size)
        model.compile(optimizer_name=config["optimizer"], learning_rate=config["learning_rate"],
                      total_steps=config["steps"], warmup_steps=config["warmup_steps"],
                      warmup_ratio=config["warmup_ratio"], weight_decay=config["weight_decay"],
                      clipnorm=config["clipnorm"], gradient_accumulation_steps=k if k > 1 else None)
        reduce_before_apply(model.optimizer)
        fit_under_strategy(model)
        start = 0
        latest, state = cb.restore_latest(ckpt_dir, model, log=print_fn)
        if latest:
            start = int(state["step"])
            print_fn(f"Resuming from {latest}: {start} of {total_batches} batches done, optimizer at "
                     f"iteration {state['optimizer_iterations']}.")

    spe = config["steps_per_epoch"] * k
    epochs = math.ceil(total_batches / spe)
    callbacks = [
        cb.StopAtStep(total_batches, start),
        cb.ScalarLogger(log_dir, config["log_every"], config["batch_size"], start, write=chief),
        cb.StepCheckpoint(ckpt_dir, config["checkpoint_every"] * k, start, config["keep_checkpoints"], write=chief),
    ]
    history = {}
    if start < total_batches:
        dataset = make_dataset(data_path, config, skip_batches=start, strategy=strategy)
        fit = model.fit(dataset, epochs=epochs, initial_epoch=start // spe, steps_per_epoch=spe,
                        callbacks=callbacks, verbose=config["verbose"], shuffle=False)
        history = {key: float(values[-1]) for key, values in fit.history.items()}
    metrics = {"batches": total_batches, "resumed_at": start,
               "optimizer_iterations": int(keras.ops.convert_to_numpy(model.optimizer.iterations)), **history}
    if chief:
        tmp = tempfile.mkdtemp(prefix=".tmp-model-", dir=output_dir)
        try:
            model.save(os.path.join(tmp, "model.keras"))
            shutil.copy(os.path.join(data_folder, "vocab.txt"), os.path.join(tmp, "vocab.txt"))
            atomic_replace_dir(tmp, os.path.join(output_dir, "model"))
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        atomic_write_text(os.path.join(output_dir, "metrics.json"), json.dumps(metrics, indent=2) + "\n")
    return metrics
