"""What the compression subcommands do (TensorFlow side: files in, tf.data, fit, files out)."""

import os
import shutil
import time

import numpy as np

from keras_bert.finetune import common


def load_model(path):
    """A keras_bert task model from a .keras file, with a clear error for anything else."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"model not found: {path}")
    if not str(path).endswith(".keras"):
        raise ValueError(f"expected a .keras file saved from a keras_bert task model; got {path}")
    import keras

    import keras_bert.models  # noqa: F401  (registers the serializable classes)

    return keras.saving.load_model(path, compile=False)


def _vocab(model_path, vocab, required=True):
    from keras_bert.export.cli_commands import find_vocab

    try:
        return find_vocab(model_path, vocab)
    except FileNotFoundError:
        if required:
            raise
        return None


def _save(model, path, vocab=None, log=print):
    """Saves `model` atomically at `path` with vocab.txt beside it; returns the size in bytes."""
    directory = os.path.dirname(os.path.abspath(path)) or "."
    common.save_model(model, directory, os.path.basename(path))
    if vocab and os.path.abspath(vocab) != os.path.abspath(os.path.join(directory, "vocab.txt")):
        shutil.copyfile(vocab, os.path.join(directory, "vocab.txt"))
    size = os.path.getsize(path)
    log(f"model: {path} ({size / 1e6:.1f} MB)")
    return size


def _export(model, vocab, export_dir, sequence_length=None, log=print):
    from keras_bert.export import export
    from keras_bert.text import BertTokenizer

    version_dir = export(model, BertTokenizer(vocab), export_dir, sequence_length=sequence_length)
    log(f"exported SavedModel: {version_dir}")
    return version_dir


# ------------------------------------------------------------------- quantize
def run_quantize(args, log=print):
    from keras_bert.compression.quantization import fast_compute_dtype, quantize, with_dtype

    model = load_model(args.model)
    vocab = _vocab(args.model, args.vocab, required=bool(args.export))
    if args.mode == "bfloat16":
        compressed = with_dtype(model, "bfloat16")
    else:
        dtype = fast_compute_dtype() if args.compute_dtype == "auto" else args.compute_dtype
        compressed = quantize(model, activations=args.activations, dtype=dtype)
        log(f"int8 weights ({'and activations, ' if args.activations else ''}GEMMs in {dtype})")
    size = _save(compressed, args.out, vocab, log)
    log(f"size: {size / os.path.getsize(args.model):.2f}x {args.model}")
    if args.export:
        _export(compressed, vocab, args.export, args.sequence_length, log)
    return 0


# ----------------------------------------------------------------- data
def read_labelled(args, labels, path):
    """(texts, label ids) from a CSV / TSV / JSONL file, labels named as the model's `labels`."""
    records = common.read_records(path)
    if path == args.train:
        records = common.subsample(records, args.max_train, args.seed)
    texts = common.column(records, args.text_column)
    index = {name: i for i, name in enumerate(labels)}
    ids = []
    for i, value in enumerate(common.column(records, args.label_column)):
        if not isinstance(texts[i], str):
            raise ValueError(f"{records.where(i)}: column {args.text_column!r} must be text, got {texts[i]!r}")
        if str(value).strip() not in index:
            raise ValueError(f"{records.where(i)}: label {value!r} is not one of the model's labels {labels}")
        ids.append(index[str(value).strip()])
    return texts, np.asarray(ids, np.int32)


def dataset(preprocessor, texts, targets, batch_size, shuffle=False, seed=0):
    """Bucketed (features, targets) batches; `targets` an array or a dict of arrays, one row per text."""
    import tensorflow as tf

    from keras_bert.text import bucketed_dataset

    ds = tf.data.Dataset.from_tensor_slices((tf.constant(texts), targets))
    if shuffle:
        ds = ds.shuffle(len(texts), seed=seed, reshuffle_each_iteration=True)
    return bucketed_dataset(ds, preprocessor, batch_size)


def predict_in_order(model, preprocessor, texts, batch_size=64):
    """The model's outputs for `texts`, in input order (batches are bucketed by length)."""
    outputs = None
    for features, index in dataset(preprocessor, texts, np.arange(len(texts)), batch_size):
        out = np.asarray(model.predict_on_batch(features), np.float32)
        if outputs is None:
            outputs = np.zeros((len(texts),) + out.shape[1:], np.float32)
        outputs[index.numpy()] = out
    return outputs


def evaluate(model, preprocessor, texts, y):
    from keras_bert.finetune import metrics

    logits = predict_in_order(model, preprocessor, texts)
    return metrics.single_label(y, logits.argmax(-1), logits.shape[-1])


def _check_classifier(model, what):
    from keras_bert.models import BertClassifier

    if not isinstance(model, BertClassifier) or model.multi_label:
        raise ValueError(f"{what} must be a single-label BertClassifier; got {type(model).__name__}")


def _student(teacher, spec):
    from keras_bert.compression.distill import student_from_teacher
    from keras_bert.config import PRESETS, BertConfig

    if str(spec).isdigit():
        return student_from_teacher(teacher, num_layers=int(spec))
    if spec in PRESETS:
        return student_from_teacher(teacher, config=spec)
    if os.path.isfile(spec):
        return student_from_teacher(teacher, config=BertConfig.from_json(spec))
    raise ValueError(f"--student {spec!r}: give a block count, a preset ({', '.join(PRESETS)}) or a config JSON file")


def _start(args, model_path, what):
    """(classifier, vocab, (texts, y) of --train, (texts, y) of --eval or None, preprocessor)."""
    from keras_bert.text import BertPreprocessor

    model = load_model(model_path)
    _check_classifier(model, what)
    vocab = _vocab(model_path, args.vocab)
    common.set_seed(args.seed)
    train = read_labelled(args, model.labels, args.train)
    evaluation = read_labelled(args, model.labels, args.eval) if args.eval else None
    return model, vocab, train, evaluation, BertPreprocessor(common.make_tokenizer(vocab), args.sequence_length)


# ------------------------------------------------------------------- distill
def run_distill(args, log=print):
    from keras_bert.compression.distill import Distiller

    teacher, vocab, (texts, y), evaluation, preprocessor = _start(args, args.teacher, "--teacher")
    student = _student(teacher, args.student)
    s, t = student.encoder.config, teacher.encoder.config
    log(f"teacher: {t.num_layers} blocks x {t.hidden_size}; student: {s.num_layers} blocks x {s.hidden_size} "
        f"({student.count_params() / teacher.count_params():.2f}x the parameters)")

    num_labelled = len(texts)
    texts, y, label_weights = _augmented(args, texts, y, preprocessor, log)
    feature_losses = bool(args.hidden_weight or args.attention_weight)
    targets = {"labels": y, "label_weights": label_weights}
    if not feature_losses:  # the frozen teacher's logits, once per example rather than once per step
        start = time.time()
        targets["teacher_logits"] = predict_in_order(teacher, preprocessor, texts)
        log(f"teacher logits for {len(texts)} examples in {time.time() - start:.0f} s")
    distiller = Distiller(student, teacher if feature_losses else None, temperature=args.temperature,
                          alpha=args.alpha, hidden_weight=args.hidden_weight, attention_weight=args.attention_weight)
    from keras_bert.optimization import bert_adamw

    # Bucketing changes the number of batches: the schedule is sized from the real count.
    train, batches = common.sized(dataset(preprocessor, texts, targets, args.batch_size, shuffle=True, seed=args.seed),
                                  twin=dataset(preprocessor, texts, targets, args.batch_size))
    distiller.compile(optimizer=bert_adamw(student, args.learning_rate, total_steps=args.epochs * batches))
    distiller(next(iter(train))[0])  # built before fit: the epoch backup needs the variables
    start = time.time()
    distiller.fit(train, epochs=args.epochs, verbose=common.progress_verbosity(),
                  callbacks=common.callbacks(args.output_dir))
    result = {"teacher": args.teacher, "student": args.student, "train_file": args.train, "num_train": num_labelled,
              "augment": args.augment, "num_augmented": len(texts) - num_labelled,
              "temperature": args.temperature, "alpha": args.alpha, "hidden_weight": args.hidden_weight,
              "attention_weight": args.attention_weight, "epochs": args.epochs,
              "train_seconds": round(time.time() - start, 1),
              "student_parameters": int(student.count_params()), "teacher_parameters": int(teacher.count_params())}
    if evaluation is not None:
        result["eval"] = evaluate(student, preprocessor, *evaluation)
        result["teacher_eval"] = evaluate(teacher, preprocessor, *evaluation)
        result["accuracy_retained"] = result["eval"]["accuracy"] / result["teacher_eval"]["accuracy"]
        log(f"eval accuracy: student {result['eval']['accuracy']:.4f}, teacher "
            f"{result['teacher_eval']['accuracy']:.4f} ({result['accuracy_retained']:.1%} retained)")
    _finish(student, vocab, args, result, preprocessor, log)
    return 0


def _augmented(args, texts, y, preprocessor, log):
    """(texts, labels, label weights) with `args.augment` augmented copies per text appended (weight 0)."""
    from keras_bert.compression.augment import with_augmented

    if args.augment < 0:
        raise ValueError(f"--augment must be >= 0, got {args.augment}")
    # Without [MASK] in the vocabulary (a fine-tuning-only vocab) masked words become [UNK].
    mask_token = "[MASK]" if preprocessor.tokenizer.mask_id is not None else "[UNK]"
    texts, y, weights = with_augmented(texts, y, args.augment, seed=args.seed, mask_token=mask_token)
    if args.augment:
        log(f"augmented: {int((weights == 0).sum())} new texts from {int(weights.sum())} (teacher-labelled only)")
    return texts, y, weights


def _finish(model, vocab, args, result, preprocessor, log):
    result["model"] = os.path.join(args.output_dir, "model.keras")
    _save(model, result["model"], vocab, log)
    common.write_lines(args.output_dir, "labels.txt", model.labels)
    if args.export:
        from keras_bert.export import export

        result["export"] = export(model, preprocessor, args.export)
        log(f"exported SavedModel: {result['export']}")
    log(f"metrics: {common.write_metrics(args.output_dir, result)}")


# --------------------------------------------------------------------- prune
def run_prune(args, log=print):
    from keras_bert.compression.prune import drop_layers, head_importance, prune_heads, select_heads

    model, vocab, (texts, y), evaluation, preprocessor = _start(args, args.model, "MODEL")
    result = {"model_in": args.model, "layers_in": model.encoder.config.num_layers}
    if evaluation is not None:
        result["eval_before"] = evaluate(model, preprocessor, *evaluation)
    if args.keep_every or args.keep_layers:
        keep = [int(i) for i in args.keep_layers.split(",")] if args.keep_layers else None
        model = drop_layers(model, keep=keep, every=args.keep_every)
        log(f"kept {model.encoder.config.num_layers} of {result['layers_in']} blocks")
    if args.prune_heads:
        rank_texts, rank_y = evaluation if evaluation is not None else (texts, y)
        pick = np.random.default_rng(args.seed).permutation(len(rank_texts))[:args.importance_examples]
        batches = list(dataset(preprocessor, [rank_texts[i] for i in pick], rank_y[pick], args.batch_size))
        scores = head_importance(model, [(x, t.numpy()) for x, t in batches])
        heads = select_heads(scores, args.prune_heads)
        model = prune_heads(model, heads)
        result["pruned_heads"] = {str(k): v for k, v in heads.items()}
        log(f"pruned {sum(map(len, heads.values()))} of {scores.size} heads: {heads}")
    result["layers_out"] = model.encoder.config.num_layers
    if evaluation is not None:
        result["eval_pruned"] = evaluate(model, preprocessor, *evaluation)
    if args.epochs > 0:
        train, batches = common.sized(dataset(preprocessor, texts, y, args.batch_size, shuffle=True, seed=args.seed),
                                      twin=dataset(preprocessor, texts, y, args.batch_size))
        model.compile(learning_rate=args.learning_rate, total_steps=args.epochs * batches)
        start = time.time()
        model.fit(train, epochs=args.epochs, verbose=common.progress_verbosity(),
                  callbacks=common.callbacks(args.output_dir))
        result["train_seconds"] = round(time.time() - start, 1)
    if evaluation is not None:
        result["eval"] = evaluate(model, preprocessor, *evaluation)
        log("eval accuracy: " + ", ".join(f"{k} {result[k]['accuracy']:.4f}"
                                          for k in ("eval_before", "eval_pruned", "eval")))
    _finish(model, vocab, args, result, preprocessor, log)
    return 0


# ----------------------------------------------------------- export-onnx / -litert
def run_export_format(args, log=print):
    model = load_model(args.model)
    if args.format == "onnx":
        from keras_bert.export.onnx import export_onnx

        path = export_onnx(model, args.out, int8=args.int8)
    else:
        from keras_bert.export.litert import export_litert

        path = export_litert(model, args.out, int8=args.int8)
    log(f"exported {'int8 ' if args.int8 else ''}{args.format}: {path} ({os.path.getsize(path) / 1e6:.1f} MB)")
    return 0
