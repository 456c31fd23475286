"""Proof that pretraining learns: a tiny BERT from scratch on real text for a few CPU minutes.

Corpus: google-research/bert's sample_text.txt plus the docstrings of every module installed in this
Python environment, standard library and site-packages (parsed with `ast`, nothing imported; one
sentence per line; one document per source file: its module, class and function docstrings in source
order, doctests, code and section headings dropped; files under 4 sentences dropped; at most
4,000 sentences per top-level package so the few huge packages do not drown the rest).
Train / held-out split by top-level package (every 5th held out, with all its files), so no held-out
text, and no sibling of a held-out file, is seen in training. Vocabulary: Google's uncased WordPiece
vocab shipped in keras_bert/data. The corpus depends on what is installed; the report lists the
held-out packages and the corpus sizes.

NSP pairs are written here with a balanced variant of BERT's recipe (`balanced_pairs`): every pair's
label is drawn 50/50, true-next pairs only come from chunks of >= 2 sentences, random B comes from
another document of the same split. Training reads them through the library's normal path
(`data.tfrecords` -> `pretraining_dataset`, dynamic masking). The held-out set is built the same way
from held-out documents only (a random sample of `--heldout-pairs`), so NSP accuracy on it is
measured against a 50% chance level.
Baseline: the cross-entropy (nats) of held-out maskable tokens under the training corpus's unigram
distribution, i.e. the MLM loss of a model that ignores context.

    python benchmarks/pretrain_proof.py --out runs/proof --png docs/pretraining_curves.png   # ~10 min, 2 cores
"""

import argparse
import ast
import collections
import json
import math
import os
import random
import re
import sysconfig
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SAMPLE = os.path.join(ROOT, "tests", "data", "text", "sample_text.txt")
VOCAB = os.path.join(ROOT, "keras_bert", "data", "vocab-uncased.txt")
SKIP = {"test", "tests", "idlelib", "turtledemo", "lib2to3", "ensurepip", "pydoc_data", "site-packages",
        "keras_bert", "__pycache__"}
MIN_SENTENCES = 4
# Sentences per top-level package: keeps the few huge packages from drowning the rest, so the corpus
# spans many topics (maths, graphs, plotting, web servers, fonts, packaging, ML, the standard library).
MAX_SENTENCES_PER_PACKAGE = 4000
UNDERLINE = re.compile(r"^\s*([-=~^*`#])\1{2,}\s*$")


def _paragraph_text(doc):
    """Docstring prose: drops doctest lines and their output, code blocks and section headings."""
    lines, out, skip_block = doc.split("\n"), [], False
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith((">>>", "...")):
            skip_block = True
        if not stripped:
            skip_block = False
        if skip_block or UNDERLINE.match(line) or (i + 1 < len(lines) and UNDERLINE.match(lines[i + 1])):
            continue
        out.append(stripped)
    return " ".join(out)


def _sentences(text):
    text = re.sub(r"\s+", " ", text).strip()
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", text)
            if 4 <= len(s.split()) <= 60 and s.count("`") < 4 and not re.search(r"[{}\[\]=<>|]{2}", s)]


def module_document(path):
    """Sentences of one source file's docstrings (module, classes, functions, in source order), parsed
    with `ast`, so nothing is imported."""
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except (SyntaxError, UnicodeDecodeError, ValueError, OSError):
        return []
    nodes = [n for n in ast.walk(tree) if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                                          ast.AsyncFunctionDef))]
    nodes.sort(key=lambda n: getattr(n, "lineno", 0))
    docs = (ast.get_docstring(n) for n in nodes if not getattr(n, "name", "x").startswith("_"))
    return [s for d in docs if d for s in _sentences(_paragraph_text(d))]


def package_documents(path):
    """Documents (sentence lists) of a top-level module or package: one per source file, capped."""
    files = [path] if path.endswith(".py") else sorted(
        os.path.join(root, f) for root, dirs, fs in os.walk(path) for f in fs
        if f.endswith(".py") and not (set(os.path.relpath(root, path).split(os.sep)) & SKIP))
    docs, total = [], 0
    for file in files:
        if total >= MAX_SENTENCES_PER_PACKAGE:
            break
        doc = module_document(file)
        if len(doc) >= MIN_SENTENCES:
            docs.append(doc)
            total += len(doc)
    return docs


def source_packages():
    """{name: path} of every top-level module or package of the standard library and site-packages."""
    found = {}
    for lib in (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"]):
        for name in sorted(os.listdir(lib)):
            path = os.path.join(lib, name)
            top = name[:-3] if name.endswith(".py") else name
            if (top in SKIP or top.startswith(("_", ".")) or "-" in top or top in found
                    or not (name.endswith(".py") or os.path.isfile(os.path.join(path, "__init__.py")))):
                continue
            found[top] = path
    return found


def build_corpus(out):
    """Writes train.txt / heldout.txt; returns (train documents, held-out documents, package split)."""
    with open(SAMPLE, encoding="utf-8") as f:
        sample_docs = [d.strip().split("\n") for d in f.read().split("\n\n") if d.strip()]
    packages = [(name, package_documents(path)) for name, path in sorted(source_packages().items())]
    packages = [(name, docs) for name, docs in packages if docs]
    # Split by top-level package (every 5th held out): no held-out file, and no sibling of one, is seen.
    held_names = [name for i, (name, _) in enumerate(packages) if i % 5 == 0]
    train = [d for i, (_, docs) in enumerate(packages) if i % 5 for d in docs]
    train += [d for d in sample_docs if len(d) >= MIN_SENTENCES]
    held = [d for i, (_, docs) in enumerate(packages) if i % 5 == 0 for d in docs]
    for name, docs in (("train.txt", train), ("heldout.txt", held)):
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            f.write("\n\n".join("\n".join(doc) for doc in docs) + "\n")
    return train, held, {"packages": len(packages), "heldout_packages": held_names}


def balanced_pairs(documents, max_length, dupe_factor, seed, short_seq_prob=0.1):
    """NSP pairs [(a, b, is_random)] from tokenized documents with 50/50 labels.

    As BERT's recipe (chunks of whole sentences filling max_length - 3 tokens, split at a random
    sentence; unused sentences of a random pair go back), except that the label is drawn 50/50 for
    every chunk and a chunk grows to >= 2 sentences, so the classes stay balanced; A is trimmed from
    its start and B from its end, keeping the A|B boundary of true pairs intact.
    """
    rng = random.Random(seed)
    max_tokens = max_length - 3
    pairs = []
    for _ in range(dupe_factor):
        for d, doc in enumerate(documents):
            target = rng.randint(8, max_tokens) if rng.random() < short_seq_prob else max_tokens
            chunk, i = [], 0
            while i < len(doc):
                chunk.append(doc[i])
                if (sum(map(len, chunk)) >= target and len(chunk) >= 2) or i == len(doc) - 1:
                    if len(chunk) < 2:
                        break
                    a_end = rng.randint(1, len(chunk) - 1)
                    a = [t for s in chunk[:a_end] for t in s]
                    is_random = rng.random() < 0.5
                    if is_random:
                        other = rng.choice([k for k in range(len(documents)) if k != d])
                        b = []
                        for s in documents[other][rng.randint(0, len(documents[other]) - 1):]:
                            b.extend(s)
                            if len(b) >= max_tokens - len(a):
                                break
                        i -= len(chunk) - a_end
                    else:
                        b = [t for s in chunk[a_end:] for t in s]
                    while len(a) + len(b) > max_tokens:
                        if len(a) > len(b):
                            del a[0]
                        else:
                            b.pop()
                    pairs.append((a, b, is_random))
                    chunk = []
                    target = rng.randint(8, max_tokens) if rng.random() < short_seq_prob else max_tokens
                i += 1
    rng.shuffle(pairs)
    return pairs


def write_pairs(pairs, tokenizer, out_dir, max_length, max_predictions):
    """Writes pairs in `write_pretraining_data`'s layout (unmasked, dynamic masking) atomically."""
    from keras_bert.text.pretraining_data import write_instances

    return write_instances(pairs, tokenizer, out_dir, max_length, max_predictions=max_predictions)


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


def nsp_eval(model, records):
    """NSP accuracy on the held-out pairs, per-class recall and the class shares."""
    import numpy as np

    from keras_bert.text.pretraining_data import pretraining_dataset

    preds, labels = [], []
    for features, target, _ in pretraining_dataset(records, 64, shuffle=False, seed=1, max_predictions=10):
        preds.append(np.argmax(model(features, training=False)["nsp"], -1))
        labels.append(np.asarray(target["nsp"]))
    preds, labels = np.concatenate(preds), np.concatenate(labels)
    per_class = [float((preds[labels == c] == c).mean()) for c in (0, 1)]
    return {"accuracy": float((preds == labels).mean()), "is_next_recall": per_class[0],
            "random_next_recall": per_class[1], "is_next_share": float(1 - labels.mean()),
            "random_next_share": float(labels.mean()), "pairs": int(labels.size)}


def plot(log_dir, png, baseline, heldout_nsp=None):
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
        axes[1].plot(steps, values, label=f"train {label}")
    if heldout_nsp is not None:
        axes[1].plot([steps[-1]], [heldout_nsp], "o", color="black", label=f"held-out NSP accuracy {heldout_nsp:.3f}")
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
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--dupe-factor", type=int, default=10)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--heldout-pairs", type=int, default=4000, help="held-out pairs evaluated (a random sample)")
    parser.add_argument("--png", default=None)
    parser.add_argument("--prepare-only", action="store_true", help="write corpus and pairs, print sizes, stop")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)

    import keras

    from keras_bert.text.pretraining_data import tokenize_documents
    from keras_bert.text.tokenizer import BertTokenizer
    from keras_bert.training.pretrain import run_pretraining

    train_docs, held_docs, split = build_corpus(out)
    tokenizer = BertTokenizer(VOCAB, lowercase=True)
    train_ids, held_ids = tokenize_documents(train_docs, tokenizer), tokenize_documents(held_docs, tokenizer)
    report = {"corpus": {
        "train_docs": len(train_ids), "train_sentences": sum(map(len, train_ids)),
        "train_tokens": sum(len(s) for d in train_ids for s in d),
        "heldout_docs": len(held_ids), "heldout_sentences": sum(map(len, held_ids)),
        "heldout_tokens": sum(len(s) for d in held_ids for s in d), **split}}
    report["baseline"] = unigram_baseline(os.path.join(out, "train.txt"), os.path.join(out, "heldout.txt"), tokenizer)
    data, held = os.path.join(out, "train_records"), os.path.join(out, "heldout_records")
    report["train_pairs"] = write_pairs(balanced_pairs(train_ids, args.max_length, args.dupe_factor, seed=0),
                                        tokenizer, data, args.max_length, 10)
    held_pairs = balanced_pairs(held_ids, args.max_length, 1, seed=99, short_seq_prob=0)[:args.heldout_pairs]
    report["heldout_pairs"] = write_pairs(held_pairs, tokenizer, held, args.max_length, 10)
    print(json.dumps(report, indent=2), flush=True)
    if args.prepare_only:
        return
    config = {"model": {"preset": "tiny", "max_position_embeddings": 128},
              "data": {"tfrecords": data, "max_predictions": 10},
              "batch_size": args.batch_size, "steps": args.steps, "steps_per_epoch": 250,
              "learning_rate": args.learning_rate, "warmup_steps": args.steps // 10,
              "output_dir": os.path.join(out, "run"), "checkpoint_every": 500, "log_every": 25, "seed": 0,
              "verbose": 2}
    model_path = os.path.join(out, "run", "model", "model.keras")
    start = time.perf_counter()
    report["train"] = run_pretraining(config)
    report["train_seconds"] = time.perf_counter() - start
    trained = keras.saving.load_model(model_path)
    report["heldout_after"] = evaluate(trained, held)
    report["heldout_nsp_after"] = nsp_eval(trained, held)
    keras.utils.set_random_seed(0)
    from keras_bert.training.pretrain import build_model, resolve_config
    fresh = build_model(resolve_config(config), tokenizer.vocab_size)
    fresh.compile()
    report["heldout_before"] = evaluate(fresh, held)
    report["heldout_nsp_before"] = nsp_eval(fresh, held)
    if args.png:
        plot(os.path.join(out, "run", "logs"), args.png, report["baseline"]["heldout_cross_entropy"],
             report["heldout_nsp_after"]["accuracy"])
    print(json.dumps(report, indent=2))
    with open(os.path.join(out, "report.json"), "w") as f:
        json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
