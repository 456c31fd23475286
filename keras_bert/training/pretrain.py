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
        return yaml.safe_load(text)
    except ImportError:
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text


def load_config(path=None, overrides=()):
    """Reads a JSON or YAML config file, applies `key.sub=value` overrides, fills defaults."""
    config = {}
    if path is not None:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"Config file not found: {path!r}")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if path.endswith((".yaml", ".yml")):
            try:
                import yaml
            except ImportError:
                raise ValueError("YAML configs need PyYAML (pip install pyyaml); or use JSON") from None
            config = yaml.safe_load(text) or {}
        else:
            config = json.loads(text)
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
        node[leaf] = _parse_value(value)
    return resolve_config(config)


def resolve_config(config):
    """Defaults filled in and values checked; raises ValueError naming a bad key."""
    unknown = sorted(set(config) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown config key(s): {', '.join(unknown)}; known: {', '.join(sorted(DEFAULTS))}")
    config = _merge(DEFAULTS, config)
    data = config["data"]
    if bool(data.get("tfrecords")) == bool(data.get("text")):
        raise ValueError("data needs exactly one of 'tfrecords' (a folder or glob) or 'text' (corpus files)")
    if data.get("text") and not data.get("vocab"):
        raise ValueError("data.text needs data.vocab (a vocab.txt or a checkpoint folder holding one)")
    for key in ("batch_size", "steps", "checkpoint_every", "log_every", "gradient_accumulation_steps"):
        if not isinstance(config[key], int) or config[key] < 1:
            raise ValueError(f"{key} must be a positive integer, got {config[key]!r}")
    flags = {"next_sentence": config["next_sentence"], "data.length_bucketing": data["length_bucketing"]}
    for key, value in flags.items():
        if not isinstance(value, bool):
            raise ValueError(f"{key} must be true or false, got {value!r}")
    if data["padding"] not in PADDINGS:
        raise ValueError(f"data.padding must be one of {', '.join(PADDINGS)}, got {data['padding']!r}")
    multiple = data["pad_to_multiple_of"]
    if multiple is not None and (not isinstance(multiple, int) or isinstance(multiple, bool) or multiple < 1):
        raise ValueError(f"data.pad_to_multiple_of must be a positive integer or null, got {multiple!r}")
    if config["steps_per_epoch"] is None:
        config["steps_per_epoch"] = min(config["steps"], 1000)
    return config


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
        with open(meta_path) as f:
            meta = json.load(f)
        if all(meta.get(k) == v for k, v in wanted.items()):
            return folder
    if not chief:
        raise ValueError(f"{folder} is not ready: with several workers, write the TFRecords first "
                         "(keras-bert pretraining-data) and pass data.tfrecords")
    if chief:
        write_pretraining_data(texts, data["vocab"], folder, seed=config["seed"], progress=False,
                               max_length=data["max_length"], dupe_factor=data["dupe_factor"],
                               short_seq_prob=data["short_seq_prob"], segmentation=data["segmentation"])
    return folder


def build_model(config, vocab_size):
    """BertPretrainer from the `model` section (under the caller's strategy scope)."""
    from keras_bert.config import BertConfig
    from keras_bert.models import BertEncoder, BertPretrainer

    fields = dict(config["model"])
    preset = fields.pop("preset", None)
    config_file = fields.pop("config_file", None)
    fields.setdefault("vocab_size", vocab_size)
    if config_file:
        bert_config = BertConfig.from_json(config_file).replace(**fields)
    elif preset:
        bert_config = BertConfig.preset(preset, **fields)
    else:
        bert_config = BertConfig(**fields)
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
    data_folder = data_path if os.path.isdir(data_path) else os.path.dirname(data_path)
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
        latest = cb.latest_checkpoint(ckpt_dir)
        if latest:
            state = cb.restore_checkpoint(latest, model)
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
