"""Chinese BERT pretraining, one command: corpus -> vocabulary -> whole-word-masked MLM -> curves.

    python benchmarks/pretrain_zh.py --out runs/zh_pretrain --png docs/pretraining_zh_curves.png

Corpus (licensed text only, TRAIN lines only; benchmarks/zh_data.py): People's Daily 1998-01 train
lines with their gold word segmentation (words separated by spaces) plus the sentiment train reviews
segmented by jieba; one sentence per line, one document per paragraph / review.
Vocabulary: `keras-bert vocab` on that corpus (`--size 6000`: every character covering 99.99% of
character occurrences, plus the WordPiece pieces of Latin and digit runs).
Data: `keras-bert pretraining-data --segmentation spaces --whole-word --dupe-factor 4` (Chinese
whole-word masking: all characters of a word masked together).
Training: `keras-bert pretrain --config examples/pretrain_zh.yaml` (BERT-mini, MLM only).
Held-out curve: every checkpoint is scored (MLM loss and accuracy, the same whole-word masks) on
pairs made the same way from the TEST lines and reviews, never trained on; the baseline is the
held-out cross-entropy under the training unigram distribution (a model that ignores context).

Each stage is skipped when its output exists, so an interrupted run resumes (training resumes from
its last checkpoint). A longer schedule continuing a finished run (weights, optimizer and data
position of one of its checkpoints; the learning rate follows the new `steps`):

    python benchmarks/pretrain_zh.py --run-name run10k --continue-from runs/zh_pretrain/run/checkpoints/ckpt-000005000 \
        --png docs/pretraining_zh_curves.png steps=10000

The checkpoint is runs/.../run/model (model.keras + vocab.txt): `keras-bert
finetune ... --checkpoint runs/zh_pretrain/run/model`. The weights are not published; this recipe is.
"""

import argparse
import json
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import zh_data  # noqa: E402
from pretrain_proof import unigram_baseline  # noqa: E402

CONFIG = os.path.join(os.path.dirname(HERE), "examples", "pretrain_zh.yaml")


def emit(record):
    print(json.dumps(record, ensure_ascii=False), flush=True)


def prepare(out, vocab_size, dupe_factor, heldout_pairs):
    from keras_bert.text.pretraining_data import (create_instances, read_documents, tokenize_documents,
                                                  write_instances, write_pretraining_data)
    from keras_bert.text.tokenizer import BertTokenizer
    from keras_bert.text.vocab_learning import learn_vocab

    corpus, heldout = os.path.join(out, "corpus.txt"), os.path.join(out, "heldout.txt")
    if not os.path.isfile(heldout):
        emit({"stage": "corpus", "train": zh_data.write_pretraining_corpus(corpus, "train"),
              "heldout": zh_data.write_pretraining_corpus(heldout, "test")})
    vocab = os.path.join(out, "vocab.txt")
    if not os.path.isfile(vocab):
        tokens = learn_vocab(corpus, vocab_size, out_file=vocab)
        emit({"stage": "vocab", "tokens": len(tokens)})
    tokenizer = BertTokenizer(vocab)
    data = os.path.join(out, "data")
    if not os.path.isfile(os.path.join(data, "metadata.json")):
        meta = write_pretraining_data(corpus, tokenizer, data, max_length=128, dupe_factor=dupe_factor,
                                      whole_word=True, segmentation="spaces", seed=12345, progress=False)
        emit({"stage": "data", **meta})
    held = os.path.join(out, "heldout_data")
    if not os.path.isfile(os.path.join(held, "metadata.json")):
        docs = tokenize_documents(read_documents(heldout), tokenizer, segmentation="spaces")
        pairs = create_instances(docs, 128, 0.0, 1, seed=99)
        random.Random(0).shuffle(pairs)
        meta = write_instances(pairs[:heldout_pairs], tokenizer, held, 128, whole_word=True,
                               segmentation="spaces", seed=99)
        emit({"stage": "heldout_data", **meta})
    return corpus, heldout, data, held, tokenizer


def heldout_scores(config, held, vocab_size, checkpoints):
    """MLM loss / accuracy on the held-out pairs for a fresh model and every checkpoint."""
    import keras
    import numpy as np

    from keras_bert.text.pretraining_data import pretraining_dataset
    from keras_bert.training.pretrain import build_model

    keras.utils.set_random_seed(config["seed"])
    model = build_model(config, vocab_size)
    model.compile()
    ds = pretraining_dataset(held, 64, shuffle=False, seed=1, next_sentence=False)
    rows = [{"step": 0, **model.evaluate(ds, return_dict=True, verbose=0)}]
    for path in checkpoints:
        with np.load(os.path.join(path, "variables.npz")) as data:
            for i, variable in enumerate(model.variables):
                variable.assign(data[f"model_{i:05d}"])
        step = int(os.path.basename(path).split("-")[1])
        rows.append({"step": step, **model.evaluate(ds, return_dict=True, verbose=0)})
        emit({"stage": "heldout", **rows[-1]})
    return rows


def plot(log_dirs, png, heldout, baseline):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_bert.training.callbacks import read_scalars

    s = {}
    for log_dir in log_dirs:  # a continued run's steps follow the first run's
        for key, points in read_scalars(log_dir).items():
            s[key] = sorted(s.get(key, []) + list(points))
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    steps, values = zip(*s["train/mlm_loss"]) if "train/mlm_loss" in s else zip(*s["train/loss"])
    axes[0].plot(steps, values, label="train MLM loss", alpha=0.7)
    axes[0].plot([r["step"] for r in heldout], [r["loss"] for r in heldout], "o-", color="black",
                 label="held-out MLM loss (test lines)")
    axes[0].axhline(baseline, color="red", linestyle="--", label=f"unigram baseline {baseline:.2f}")
    axes[0].set_title("MLM loss (nats), whole-word masking")
    axes[0].set_ylim(0, max(values[0], baseline) * 1.05)
    axes[0].legend()
    steps, values = zip(*s["train/mlm_accuracy"])
    axes[1].plot(steps, values, label="train MLM accuracy", alpha=0.7)
    axes[1].plot([r["step"] for r in heldout], [r["mlm_accuracy"] for r in heldout], "o-", color="black",
                 label="held-out MLM accuracy")
    axes[1].set_title("MLM accuracy")
    axes[1].legend()
    steps, values = zip(*s["train/learning_rate"])
    axes[2].plot(steps, values)
    axes[2].set_title("learning rate")
    for ax in axes:
        ax.set_xlabel("step")
    fig.suptitle("Chinese BERT-mini pretraining (People's Daily + reviews, train split, 2.24M characters)")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(png)), exist_ok=True)
    fig.savefig(png, dpi=90)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="runs/zh_pretrain")
    parser.add_argument("--config", default=CONFIG)
    parser.add_argument("--vocab-size", type=int, default=6000)
    parser.add_argument("--dupe-factor", type=int, default=4)
    parser.add_argument("--heldout-pairs", type=int, default=2000)
    parser.add_argument("--png", default=None)
    parser.add_argument("--prepare-only", action="store_true")
    parser.add_argument("--run-name", default="run", help="training folder under --out (default run)")
    parser.add_argument("--continue-from", default=None, metavar="CKPT",
                        help="a checkpoint folder of an earlier run to continue from with the new schedule")
    parser.add_argument("overrides", nargs="*", help="KEY=VALUE config overrides (e.g. steps=200)")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)

    from keras_bert.training.callbacks import _checkpoints
    from keras_bert.training.pretrain import load_config, run_pretraining

    corpus, heldout, data, held, tokenizer = prepare(out, args.vocab_size, args.dupe_factor, args.heldout_pairs)
    if args.prepare_only:
        return
    run_dir = os.path.join(out, args.run_name)
    ckpt_dir = os.path.join(run_dir, "checkpoints")
    sources = []
    if args.continue_from:
        import shutil

        source = os.path.abspath(args.continue_from)
        sources = [os.path.join(os.path.dirname(source), name) for name in _checkpoints(os.path.dirname(source))
                   if name <= os.path.basename(source)]
        if not _checkpoints(ckpt_dir):
            os.makedirs(ckpt_dir, exist_ok=True)
            shutil.copytree(source, os.path.join(ckpt_dir, os.path.basename(source)))
    config = load_config(args.config, [f"data.tfrecords={data}", f"output_dir={run_dir}", *args.overrides])
    start = time.perf_counter()
    train = run_pretraining(config)
    emit({"stage": "train", "seconds": round(time.perf_counter() - start, 1), **train})
    own = [os.path.join(ckpt_dir, name) for name in _checkpoints(ckpt_dir)]
    rows = heldout_scores(config, held, tokenizer.vocab_size,
                          sources + [p for p in own if os.path.basename(p) not in map(os.path.basename, sources)])
    baseline = unigram_baseline(corpus, heldout, tokenizer)["heldout_cross_entropy"]
    report = {"config": config, "train": train, "heldout": rows, "unigram_baseline": baseline,
              "vocab_size": tokenizer.vocab_size, "checkpoint": os.path.join(run_dir, "model")}
    emit({"stage": "report", "unigram_baseline": baseline, "heldout_before": rows[0], "heldout_after": rows[-1]})
    with open(os.path.join(out, f"report-{args.run_name}.json" if args.run_name != "run" else "report.json"),
              "w") as f:
        json.dump(report, f, indent=2)
    if args.png:
        logs = [os.path.join(os.path.dirname(os.path.dirname(sources[0])), "logs")] if sources else []
        plot(logs + [os.path.join(run_dir, "logs")], args.png, rows, baseline)


if __name__ == "__main__":
    main()
