"""Does Chinese pretraining help? Sentiment and NER fine-tuned from the Chinese checkpoint and from scratch.

    python benchmarks/finetune_zh.py --checkpoint runs/zh_pretrain/run/model --out runs/zh_finetune \
        --write-md docs/chinese.md

Same architecture (the checkpoint's BertConfig; from scratch: the same preset and vocabulary, random
weights), same budget (epochs, batch size, sequence length) and the same learning-rate search for
both starts. The learning rate is chosen on a dev slice cut from TRAIN (10%, seeded; to fit the CPU
budget the search trains on a seeded sample of --search-train rows of the other 90%, with the same
epochs); the chosen setting is then trained on all of TRAIN and scored once on TEST (line i % 5 == 0). Every run is a `keras-bert finetune` command (printed); its metrics.json is
kept, so an interrupted benchmark resumes where it stopped. Results: JSON lines on stdout and in
<out>/results.jsonl; --write-md rewrites this benchmark's section of a markdown file.

- sentiment: `keras-bert finetune classify` on {"text", "label"} JSON lines, test accuracy.
- NER: `keras-bert finetune tag --crf` on character-level {"tokens": [chars], "tags": [BIO]} JSON
  lines (PER = run of /nr tokens, LOC = /ns, ORG = /nt), long paragraphs in overlapping windows
  (training and evaluation), entity-level micro F1 (seqeval-compatible) and per type.
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import zh_data  # noqa: E402

TASKS = ("sentiment", "ner")
REFERENCES = {"sentiment": "majority 0.516, TF-IDF char 1-3-gram LR 0.856",
              "ner": "dictionary lookup 0.615, character CRF 0.948 (PER 0.934, LOC 0.954, ORG 0.981)"}


def write_data(folder):
    """JSON-lines files for both tasks: train (all TRAIN), train_sub + dev (TRAIN split 90/10), test."""
    os.makedirs(folder, exist_ok=True)
    if os.path.isfile(os.path.join(folder, "done")):
        return
    for split in ("train", "test"):
        records = zh_data.peoples_daily(split)
        zh_data.write_ner_jsonl(records, os.path.join(folder, f"ner_{split}.jsonl"))
        reviews = zh_data.reviews(split)
        zh_data.write_reviews_jsonl(reviews, os.path.join(folder, f"sentiment_{split}.jsonl"))
        if split == "train":
            sub, dev = zh_data.dev_split(records)
            zh_data.write_ner_jsonl(sub, os.path.join(folder, "ner_train_sub.jsonl"))
            zh_data.write_ner_jsonl(dev, os.path.join(folder, "ner_dev.jsonl"))
            sub, dev = zh_data.dev_split(reviews)
            zh_data.write_reviews_jsonl(sub, os.path.join(folder, "sentiment_train_sub.jsonl"))
            zh_data.write_reviews_jsonl(dev, os.path.join(folder, "sentiment_dev.jsonl"))
    open(os.path.join(folder, "done"), "w").close()


def command(task, init, lr, train, evaluation, out_dir, args, export=None, pooling="cls"):
    common = ["--train", train, "--eval", evaluation, "--epochs", str(args.epochs[task]),
              "--batch-size", str(args.batch_size), "--sequence-length", str(args.sequence_length),
              "--learning-rate", str(lr), "--seed", str(args.seed), "--output-dir", out_dir]
    if init == "pretrained":
        common += ["--checkpoint", args.checkpoint]
    else:
        common += ["--checkpoint", "none", "--preset", args.preset, "--vocab", args.vocab]
    if export:
        common += ["--export", export]
    if train.endswith("_train_sub.jsonl") and args.search_train:
        common += ["--max-train", str(args.search_train)]
    if task == "ner":
        return ["keras-bert", "finetune", "tag", "--crf", "--token-separator", "", *common]
    return ["keras-bert", "finetune", "classify", *(["--pooling", pooling] if pooling != "cls" else []), *common]


def score(task, metrics):
    if task == "ner":
        return {"f1": metrics["eval_f1"], "precision": metrics["eval_precision"], "recall": metrics["eval_recall"],
                "per_type": {k: round(v["f1"], 4) for k, v in metrics["eval_per_type"].items()}}
    return {"accuracy": metrics["eval"]["accuracy"], "macro_f1": metrics["eval"]["macro_f1"],
            "majority": metrics["eval"]["majority_accuracy"]}


def run(task, init, lr, stage, args, data, pooling="cls"):
    sample = args.test_max_train if stage == "test" else None
    name = f"{task}-{init}-lr{lr:g}{'' if pooling == 'cls' else '-' + pooling}-{stage}{sample or ''}"
    out_dir = os.path.join(args.out, "runs", name)
    train = os.path.join(data, f"{task}_train_sub.jsonl" if stage == "dev" else f"{task}_train.jsonl")
    evaluation = os.path.join(data, f"{task}_dev.jsonl" if stage == "dev" else f"{task}_test.jsonl")
    export = os.path.join(args.export_dir, f"zh_{task}") if stage == "test" and init == "pretrained" \
        and args.export_dir else None
    cmd = command(task, init, lr, train, evaluation, out_dir, args, export, pooling)
    if sample:
        cmd += ["--max-train", str(sample)]
    metrics_file = os.path.join(out_dir, "metrics.json")
    if not os.path.isfile(metrics_file):
        print("$ " + shlex.join(cmd), file=sys.stderr, flush=True)
        start = time.time()
        with open(os.path.join(args.out, "runs", name + ".log"), "w") as log:
            subprocess.run(cmd, check=True, stdout=log, stderr=subprocess.STDOUT)
        wall = time.time() - start
    else:
        wall = None
    with open(metrics_file) as f:
        metrics = json.load(f)
    record = {"task": task, "init": init, "learning_rate": lr, "pooling": pooling, "stage": stage,
              "train_rows": sample or "all",
              **score(task, metrics),
              "epochs": args.epochs[task], "train_seconds": metrics.get("train_seconds"), "wall_seconds": wall,
              "command": shlex.join(cmd)}
    print(json.dumps(record), flush=True)
    with open(os.path.join(args.out, "results.jsonl"), "a") as f:
        f.write(json.dumps(record) + "\n")
    return record


def main_metric(task):
    return "f1" if task == "ner" else "accuracy"


def _setting(r):
    pooling = r.get("pooling", "cls")
    return f"{r['learning_rate']:g}" + ("" if pooling == "cls" else f" {pooling}")


def markdown(rows, args):
    lines = ["| task | start | settings tried: learning rate, pooling (dev score) | chosen | test | per type (NER) |",
             "| --- | --- | --- | --- | --- | --- |"]
    for task in TASKS:
        for init in ("pretrained", "scratch"):
            dev = [r for r in rows if r["task"] == task and r["init"] == init and r["stage"] == "dev"]
            test = [r for r in rows if r["task"] == task and r["init"] == init and r["stage"] == "test"]
            if not test:
                continue
            key = main_metric(task)
            tried = ", ".join(f"{_setting(r)} ({r[key]:.3f})"
                              for r in sorted(dev, key=lambda r: (r.get("pooling", "cls"), r["learning_rate"])))
            t = test[-1]
            per_type = ", ".join(f"{k} {v:.3f}" for k, v in t.get("per_type", {}).items())
            lines.append(f"| {task} | {init} | {tried} | {_setting(t)} | **{t[key]:.4f}** | {per_type} |")
    lines.append("")
    lines.append(f"Reference points on the same test split: sentiment {REFERENCES['sentiment']}; "
                 f"NER {REFERENCES['ner']}.")
    lines.append(f"Budget for every run: epochs {args.epochs}, batch {args.batch_size}, sequence length "
                 f"{args.sequence_length}, seed {args.seed}; search runs on {args.search_train or 'all'} TRAIN rows, "
                 f"scored on the TRAIN dev slice. Command: `python benchmarks/finetune_zh.py "
                 f"{' '.join(sys.argv[1:])}`.")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", default="runs/zh_pretrain/run/model")
    parser.add_argument("--vocab", default=None, help="vocabulary for the from-scratch runs (default: the checkpoint's)")
    parser.add_argument("--preset", default="mini", help="from-scratch preset (must match the checkpoint)")
    parser.add_argument("--out", default="runs/zh_finetune")
    parser.add_argument("--inits", default="pretrained,scratch")
    parser.add_argument("--tasks", default="sentiment,ner")
    parser.add_argument("--learning-rates", default="1e-4,3e-4,1e-3")
    parser.add_argument("--sentiment-poolings", default="cls,mean", help="sentiment pooling settings searched")
    parser.add_argument("--sentiment-epochs", type=int, default=3)
    parser.add_argument("--ner-epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--search-train", type=int, default=3000,
                        help="training rows per learning-rate search run (0: all of TRAIN minus dev)")
    parser.add_argument("--sequence-length", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--export-dir", default="saved_models", help="exports of the pretrained final runs")
    parser.add_argument("--test-max-train", type=int, default=None,
                        help="train the final (test) runs on this many sampled TRAIN rows instead of all of them")
    parser.add_argument("--write-md", default=None)
    args = parser.parse_args(argv)
    args.epochs = {"sentiment": args.sentiment_epochs, "ner": args.ner_epochs}
    args.vocab = args.vocab or os.path.join(args.checkpoint, "vocab.txt")
    os.makedirs(os.path.join(args.out, "runs"), exist_ok=True)
    data = os.path.join(args.out, "data")
    write_data(data)
    rates = [float(x) for x in args.learning_rates.split(",")]
    rows = []
    for task in args.tasks.split(","):
        for init in args.inits.split(","):
            poolings = args.sentiment_poolings.split(",") if task == "sentiment" else ["cls"]
            dev = [run(task, init, lr, "dev", args, data, pooling) for pooling in poolings for lr in rates]
            best = max(dev, key=lambda r: r[main_metric(task)])
            rows += dev + [run(task, init, best["learning_rate"], "test", args, data, best["pooling"])]
    if args.write_md:
        from common import update_markdown_section

        update_markdown_section(args.write_md, "finetune_zh", markdown(rows, args))


if __name__ == "__main__":
    main()
