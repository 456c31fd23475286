"""Proof that pretraining learns: a tiny BERT from scratch on real text for a few CPU minutes.

Corpus: google-research/bert's sample_text.txt plus the docstrings of Python standard-library
modules (one sentence per line, one document per module), split by module into train and
held-out. Vocabulary: Google's uncased WordPiece vocab shipped in keras_bert/data.
Baseline: the cross-entropy (nats) of held-out maskable tokens under the training corpus's
unigram distribution, i.e. the MLM loss of a model that ignores context. Reports held-out MLM
loss / accuracy and NSP accuracy before and after training, writes TensorBoard logs and a PNG.

    python benchmarks/pretrain_proof.py --out runs/proof --steps 1500 [--png docs/pretraining_curves.png]
"""

import argparse
import collections
import importlib
import inspect
import json
import math
import os
import re
import sys
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SAMPLE = os.path.join(ROOT, "tests", "data", "text", "sample_text.txt")
VOCAB = os.path.join(ROOT, "keras_bert", "data", "vocab-uncased.txt")
MODULES = sorted(set(sys.stdlib_module_names) - {"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo"})


def module_document(name):
    """The docstrings of a module and its public classes/functions, one sentence per line."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            module = importlib.import_module(name)
        except Exception:  # noqa: BLE001 - platform-specific modules simply drop out
            return []
    texts = [inspect.getdoc(module) or ""]
    for attr, obj in sorted(vars(module).items()):
        if attr.startswith("_") or getattr(obj, "__module__", None) != name:
            continue
        if inspect.isclass(obj) or inspect.isfunction(obj):
            texts.append(inspect.getdoc(obj) or "")
    sentences = []
    for text in texts:
        text = re.sub(r"\s+", " ", text.replace(">>>", " ")).strip()
        for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z])", text):
            if 4 <= len(sentence.split()) <= 60:
                sentences.append(sentence)
    return sentences


def build_corpus(out):
    """Writes train.txt / heldout.txt; returns sentence counts."""
    with open(SAMPLE, encoding="utf-8") as f:
        sample_docs = [d.strip() for d in f.read().split("\n\n") if d.strip()]
    docs = [(name, module_document(name)) for name in MODULES]
    docs = [(n, d) for n, d in docs if len(d) >= 2]
    train = [d for i, (_, d) in enumerate(docs) if i % 10] + [doc.split("\n") for doc in sample_docs]
    held = [d for i, (_, d) in enumerate(docs) if i % 10 == 0]
    for name, group in (("train.txt", train), ("heldout.txt", held)):
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            f.write("\n\n".join("\n".join(doc) for doc in group) + "\n")
    return {"train_docs": len(train), "train_sentences": sum(map(len, train)),
            "heldout_docs": len(held), "heldout_sentences": sum(map(len, held))}


def unigram_baseline(train_file, held_file, tokenizer):
    """Held-out cross-entropy (nats) of maskable tokens under the train unigram (add-one smoothed)."""
    from keras_bert.text.pretraining_data import read_documents, tokenize_documents

    special = set(tokenizer.special_ids)

    def counts(path):
        c = collections.Counter()
        for doc in tokenize_documents(read_documents(path), tokenizer):
            for sentence in doc:
                c.update(t for t in sentence if t not in special)
        return c

    train, held = counts(train_file), counts(held_file)
    total, v = sum(train.values()), tokenizer.vocab_size
    ce = -sum(n * math.log((train[t] + 1) / (total + v)) for t, n in held.items()) / sum(held.values())
    entropy = -sum(n / total * math.log(n / total) for n in train.values())
    return {"heldout_cross_entropy": ce, "train_unigram_entropy": entropy, "train_tokens": total,
            "heldout_tokens": sum(held.values())}


def evaluate(model, records, seed=1):
    from keras_bert.text.pretraining_data import pretraining_dataset

    ds = pretraining_dataset(records, 64, shuffle=False, seed=seed, max_predictions=10)
    return model.evaluate(ds, return_dict=True, verbose=0)


def nsp_balanced(model, records):
    """NSP accuracy per class and their mean: held-out pairs are not 50/50 (one-sentence chunks always
    get a random B), so plain accuracy must be read against the majority share."""
    import numpy as np

    from keras_bert.text.pretraining_data import pretraining_dataset

    preds, labels = [], []
    for features, target, _ in pretraining_dataset(records, 64, shuffle=False, seed=1, max_predictions=10):
        preds.append(np.argmax(model(features, training=False)["nsp"], -1))
        labels.append(np.asarray(target["nsp"]))
    preds, labels = np.concatenate(preds), np.concatenate(labels)
    per_class = [float((preds[labels == c] == c).mean()) for c in (0, 1)]
    return {"is_next_recall": per_class[0], "random_next_recall": per_class[1],
            "balanced_accuracy": float(np.mean(per_class)), "random_next_share": float(labels.mean())}


def plot(log_dir, png, baseline):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_bert.training.callbacks import read_scalars

    s = read_scalars(log_dir)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    steps, values = zip(*s["train/mlm_loss"])
    axes[0].plot(steps, values, label="train MLM loss")
    axes[0].axhline(baseline, color="red", linestyle="--", label=f"unigram baseline {baseline:.2f}")
    axes[0].set_title("MLM loss (nats)")
    axes[0].legend()
    for key, label in (("train/mlm_accuracy", "MLM accuracy"), ("train/nsp_accuracy", "NSP accuracy")):
        steps, values = zip(*s[key])
        axes[1].plot(steps, values, label=label)
    axes[1].axhline(0.5, color="grey", linestyle=":")
    axes[1].set_title("training accuracy")
    axes[1].legend()
    steps, values = zip(*s["train/learning_rate"])
    axes[2].plot(steps, values)
    axes[2].set_title("learning rate")
    for ax in axes:
        ax.set_xlabel("step")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(png)), exist_ok=True)
    fig.savefig(png, dpi=90)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="runs/proof")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--png", default=None)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)

    import keras

    from keras_bert.text.pretraining_data import write_pretraining_data
    from keras_bert.text.tokenizer import BertTokenizer
    from keras_bert.training.pretrain import run_pretraining

    report = build_corpus(out)
    tokenizer = BertTokenizer(VOCAB, lowercase=True)
    report["baseline"] = unigram_baseline(os.path.join(out, "train.txt"), os.path.join(out, "heldout.txt"), tokenizer)
    held = os.path.join(out, "heldout_records")
    write_pretraining_data(os.path.join(out, "heldout.txt"), tokenizer, held, max_length=args.max_length,
                           short_seq_prob=0.1, seed=99, progress=False, max_predictions=10)
    config = {"model": {"preset": "tiny", "max_position_embeddings": 128},
              "data": {"text": os.path.join(out, "train.txt"), "vocab": VOCAB, "max_length": args.max_length,
                       "dupe_factor": 5, "max_predictions": 10},
              "batch_size": args.batch_size, "steps": args.steps, "steps_per_epoch": 250,
              "learning_rate": 1e-3, "warmup_steps": args.steps // 10, "output_dir": os.path.join(out, "run"),
              "checkpoint_every": 500, "log_every": 25, "seed": 0, "verbose": 2}
    model_path = os.path.join(out, "run", "model", "model.keras")
    start = time.perf_counter()
    report["train"] = run_pretraining(config)
    report["train_seconds"] = time.perf_counter() - start
    trained = keras.saving.load_model(model_path)
    report["heldout_after"] = evaluate(trained, held)
    report["heldout_nsp_after"] = nsp_balanced(trained, held)
    keras.utils.set_random_seed(0)
    from keras_bert.training.pretrain import build_model, resolve_config
    fresh = build_model(resolve_config(config), tokenizer.vocab_size)
    fresh.compile()
    report["heldout_before"] = evaluate(fresh, held)
    report["heldout_nsp_before"] = nsp_balanced(fresh, held)
    with open(os.path.join(out, "run", "data", "metadata.json")) as f:
        report["train_pairs"] = json.load(f)["num_instances"]
    if args.png:
        plot(os.path.join(out, "run", "logs"), args.png, report["baseline"]["heldout_cross_entropy"])
    print(json.dumps(report, indent=2))
    with open(os.path.join(out, "report.json"), "w") as f:
        json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
