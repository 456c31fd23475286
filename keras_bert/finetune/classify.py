"""Fine-tune a classifier (single-label, multi-label) or a score regressor on texts or text pairs.

Reads CSV / TSV (header row) or JSON-lines files. Writes to --output-dir:
model.keras, labels.txt (classification), metrics.json (accuracy and macro-F1
for single-label; micro/macro-F1 for multi-label; Pearson r and MSE for
regression) and TensorBoard logs in logs/. --export DIR also writes a
SavedModel that takes raw strings.
"""

import json
import math
import os
import time

import numpy as np

from keras_bert.finetune import common
from keras_bert.finetune import metrics as M


def add_arguments(parser):
    common.add_common_arguments(parser)
    g = parser.add_argument_group("classification")
    g.add_argument("--text-column", default="text", metavar="NAME", help="column (or JSON field) with the text")
    g.add_argument("--text-pair-column", default=None, metavar="NAME",
                   help="column with the second text of a pair, e.g. an NLI hypothesis (default: single texts)")
    g.add_argument("--label-column", default="label", metavar="NAME", help="column with the label or score")
    mode = g.add_mutually_exclusive_group()
    mode.add_argument("--multi-label", action="store_true",
                      help="each row has zero or more labels: a JSON list or a --label-delimiter separated string")
    mode.add_argument("--regression", action="store_true", help="the label column is a real-valued score")
    g.add_argument("--label-delimiter", default=",", help="separates labels in multi-label strings")
    g.add_argument("--threshold", type=float, default=0.5, help="multi-label decision threshold")
    g.add_argument("--class-weight", choices=("none", "balanced"), default="none",
                   help="single-label: 'balanced' weights each class by n / (classes * count) in the loss")
    g.add_argument("--pooling", choices=("cls", "mean", "max"), default="cls",
                   help="sentence vector: the [CLS] pooler output, or the mean / max over tokens")
    g.add_argument("--dropout", type=float, default=0.1, help="dropout before the output layer")
    g.add_argument("--warmup-ratio", type=float, default=0.1,
                   help="fraction of the steps over which the learning rate rises linearly, then decays to 0")


# ------------------------------------------------------------------ labels
def _texts(records, name):
    values = common.column(records, name)
    for i, v in enumerate(values):
        if not isinstance(v, str):
            raise ValueError(f"{records.where(i)}: column {name!r} must be text, got {type(v).__name__} {v!r}")  # noqa: TRY004
    return values


def label_name(value, where, column):
    """A label's class name; numbers compare as numbers, so 1, "1", 1.0 and "1.0" are one class "1".

    Empty labels (``""``, null) and lists/objects are a ValueError naming `where` (file:line).
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        value = value.strip()
        if not value:
            raise ValueError(f"{where}: empty label in column {column!r}; every row needs a label")
        try:
            number = float(value)
        except ValueError:
            return value
        if not math.isfinite(number):
            return value  # "nan", "inf": names, not numbers
    elif isinstance(value, (int, float)):
        number = value
        if not math.isfinite(number):
            raise ValueError(f"{where}: label {value!r} in column {column!r} is not a finite number")
    elif value is None:
        raise ValueError(f"{where}: empty label (null) in column {column!r}; every row needs a label")
    else:
        raise ValueError(f"{where}: label {value!r} in column {column!r} must be text or a number, got "
                         f"{type(value).__name__}" + (" (several labels per row need --multi-label)"
                                                      if isinstance(value, list) else ""))
    if isinstance(value, int) or float(number).is_integer():
        try:
            return str(int(value))  # exact for big integers given as text
        except ValueError:
            return str(int(number))
    return repr(float(number))


def _label_list(value, delimiter, where, column):
    if isinstance(value, list):
        labels = value
    elif isinstance(value, str) and value.strip().startswith("["):
        try:
            labels = json.loads(value)
        except json.JSONDecodeError:
            raise ValueError(f"{where}: label {value!r} looks like a JSON list but does not parse") from None
    elif isinstance(value, str):
        labels = value.split(delimiter)
    elif value is None:
        labels = []
    else:
        labels = [value]
    return [label_name(label, where, column) for label in labels
            if not (label is None or (isinstance(label, str) and not label.strip()))]


def _sort_labels(names):
    try:
        return sorted(names, key=float)  # "2" before "10"
    except ValueError:
        return sorted(names)


def encode_labels(args, train, evaluation):
    """(label names or None, y_train, y_eval) from the label column."""
    raw = {"train": common.column(train, args.label_column)}
    if evaluation is not None:
        raw["eval"] = common.column(evaluation, args.label_column)
    if args.regression:
        out = {}
        for split, records in (("train", train), ("eval", evaluation)):
            if split not in raw:
                continue
            ys = []
            for i, v in enumerate(raw[split]):
                try:
                    ys.append(float(v))
                except (TypeError, ValueError):
                    raise ValueError(f"{records.where(i)}: --regression needs a number in column "
                                     f"{args.label_column!r}, got {v!r}") from None
            if not all(math.isfinite(y) for y in ys):
                raise ValueError(f"{records.path}: column {args.label_column!r} has NaN or infinite values")
            out[split] = np.asarray(ys, np.float32)
        return None, out["train"], out.get("eval")
    column = args.label_column
    if args.multi_label:
        lists = {s: [_label_list(v, args.label_delimiter, r.where(i), column) for i, v in enumerate(raw[s])]
                 for s, r in (("train", train), ("eval", evaluation)) if s in raw}
    else:
        lists = {s: [[label_name(v, r.where(i), column)] for i, v in enumerate(raw[s])]
                 for s, r in (("train", train), ("eval", evaluation)) if s in raw}
    names = _sort_labels({name for row in lists["train"] for name in row})
    if len(names) < (1 if args.multi_label else 2):
        raise ValueError(f"{train.path}: column {args.label_column!r} has {len(names)} distinct label(s) "
                         f"({names}); classification needs at least 2")
    index = {name: i for i, name in enumerate(names)}
    out = {}
    for split, records in (("train", train), ("eval", evaluation)):
        if split not in lists:
            continue
        for i, row in enumerate(lists[split]):
            for name in row:
                if name not in index:
                    raise ValueError(f"{records.where(i)}: label {name!r} does not occur in the training data "
                                     f"({train.path}); training labels: {names}")
        if args.multi_label:
            y = np.zeros((len(lists[split]), len(names)), np.float32)
            for i, row in enumerate(lists[split]):
                y[i, [index[n] for n in row]] = 1.0
        else:
            y = np.asarray([index[row[0]] for row in lists[split]], np.int32)
        out[split] = y
    return names, out["train"], out.get("eval")


# ------------------------------------------------------------------- data
def make_dataset(preprocessor, texts, pairs, y, batch_size, shuffle, seed):
    import tensorflow as tf

    from keras_bert.text import bucketed_dataset

    x = tf.constant(texts) if pairs is None else (tf.constant(texts), tf.constant(pairs))
    ds = tf.data.Dataset.from_tensor_slices((x, tf.constant(y)))
    if shuffle:
        ds = ds.shuffle(len(texts), seed=seed, reshuffle_each_iteration=True)
    return bucketed_dataset(ds, preprocessor, batch_size)


def predict_dataset(model, dataset):
    """(outputs, targets) over a `(features, y)` dataset, in the dataset's order."""
    outputs, targets = [], []
    for features, y in dataset:
        outputs.append(np.asarray(model.predict_on_batch(features), np.float32))
        targets.append(y.numpy())
    return np.concatenate(outputs), np.concatenate(targets)


def evaluate(model, dataset, args, names):
    outputs, y = predict_dataset(model, dataset)
    if args.regression:
        return M.regression(y, outputs)
    if args.multi_label:
        return M.multi_label(y, 1 / (1 + np.exp(-outputs)) >= np.asarray(model.thresholds))
    return M.single_label(y, outputs.argmax(-1), len(names))


# -------------------------------------------------------------------- run
def run(args, log=common.console.log):
    from keras_bert.models.tasks.classifier import BertClassifier
    from keras_bert.models.tasks.regressor import BertRegressor
    from keras_bert.text import BertPreprocessor

    common.set_seed(args.seed)
    train = common.subsample(common.read_records(args.train), args.max_train, args.seed)
    evaluation = common.read_records(args.eval) if args.eval else None
    texts = {"train": _texts(train, args.text_column)}
    pairs = {"train": _texts(train, args.text_pair_column) if args.text_pair_column else None}
    if evaluation is not None:
        texts["eval"] = _texts(evaluation, args.text_column)
        pairs["eval"] = _texts(evaluation, args.text_pair_column) if args.text_pair_column else None
    names, y_train, y_eval = encode_labels(args, train, evaluation)
    task = "regression" if args.regression else "multi-label" if args.multi_label else "single-label"
    log(f"data: {len(y_train)} train" + (f" / {len(y_eval)} eval" if y_eval is not None else "")
        + f" rows; {task}" + (f", {len(names)} labels: {names}" if names else ""))

    encoder, vocab = common.build_encoder(args)
    source = common.checkpoint_path(args)
    log(f"model: {'checkpoint ' + source if source else args.preset + ' BERT from scratch'}")
    preprocessor = BertPreprocessor(common.make_tokenizer(vocab, args.lowercase, **common.tokenizer_options(args)), args.sequence_length)
    train_ds, steps_per_epoch = common.sized(
        make_dataset(preprocessor, texts["train"], pairs["train"], y_train, args.batch_size, True, args.seed),
        twin=make_dataset(preprocessor, texts["train"], pairs["train"], y_train, args.batch_size, False, args.seed))
    eval_ds = (common.sized(make_dataset(preprocessor, texts["eval"], pairs["eval"], y_eval, args.batch_size,
                                         False, args.seed))[0]
               if y_eval is not None else None)

    if args.regression:
        model = BertRegressor(encoder, pooling=args.pooling, dropout=args.dropout,
                              target_mean=float(y_train.mean()), target_scale=float(y_train.std()) or 1.0)
    else:
        model = BertClassifier(encoder, labels=names, multi_label=args.multi_label, pooling=args.pooling,
                               dropout=args.dropout,
                               thresholds=[args.threshold] * len(names) if args.multi_label else None)
    class_weight = None
    if getattr(args, "class_weight", "none") == "balanced":
        if args.regression or args.multi_label:
            raise ValueError("--class-weight balanced applies to single-label classification only")
        counts = np.bincount(y_train, minlength=len(names))
        class_weight = {i: float(len(y_train) / (len(names) * c)) if c else 0.0 for i, c in enumerate(counts)}
        log("class weights: " + ", ".join(f"{n} {class_weight[i]:.2f}" for i, n in enumerate(names)))
    total_steps = args.epochs * steps_per_epoch  # from the real (length-bucketed) batches
    model.compile(learning_rate=common.learning_rate(args), total_steps=total_steps,
                  warmup_ratio=args.warmup_ratio)
    log(f"training: {args.epochs} epoch{'s' * (args.epochs != 1)} of {steps_per_epoch} batches; TensorBoard: "
        f"tensorboard --logdir {os.path.join(os.path.abspath(args.output_dir), 'logs')}")
    start = time.time()
    model.fit(train_ds, validation_data=eval_ds, epochs=args.epochs, callbacks=common.callbacks(args.output_dir),
              class_weight=class_weight, shuffle=False, verbose=common.progress_verbosity())
    train_seconds = time.time() - start

    result = {"task": task, "train_file": args.train, "eval_file": args.eval, "num_train": len(y_train),
              "checkpoint": source, "epochs": args.epochs, "batch_size": args.batch_size,
              "learning_rate": common.learning_rate(args), "sequence_length": args.sequence_length,
              "steps_per_epoch": steps_per_epoch, "total_steps": total_steps,
              "train_seconds": round(train_seconds, 1)}
    if class_weight:
        result["class_weight"] = {names[i]: w for i, w in class_weight.items()}
    if eval_ds is not None:
        result["num_eval"] = len(y_eval)
        log(f"evaluating on {len(y_eval)} rows of {args.eval} ...")
        result["eval"] = evaluate(model, eval_ds, args, names)
        log("eval: " + ", ".join(f"{k} {v:.4f}" for k, v in result["eval"].items() if isinstance(v, float)))
    if names:
        result["labels"] = names
        common.write_lines(args.output_dir, "labels.txt", names)
    log(f"model: {common.save_model(model, args.output_dir, vocab=vocab)} (vocab.txt beside it)")
    version_dir = common.maybe_export(args, model, preprocessor, log=log,
                                      **({"pairs": True} if args.text_pair_column else {}))
    if version_dir:
        result["export"] = version_dir
    log(f"metrics: {common.write_metrics(args.output_dir, result)}")
    return 0
