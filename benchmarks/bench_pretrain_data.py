"""Pretraining input pipeline: padding and sequences/s of `pretraining_dataset`, with and without length bucketing.

Real text: the 10,605 movie-review snippets (tests/data/text), in corpus order,
grouped into documents of `--doc-sentences` sentences (32: ~800 tokens, a short
encyclopedia article), written as NSP pairs by `write_pretraining_data`
(dupe_factor 2, short_seq_prob 0.1, BERT's recipe) for each `--max-lengths`.
Each setting is then read as `model.fit` would (shuffled, repeated, masked
dynamically) and timed over `--batches` batches after warm-up:

* padding: padded positions / all positions (work the encoder spends on nothing);
* sequences/s and real tokens/s the pipeline delivers on this machine's CPUs
  (a GPU step needs this much: 6,400 seq/s is the H100 goal at seq 128).

    python benchmarks/bench_pretrain_data.py [--quick] [--write-md BENCHMARKS.md]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import common  # noqa: E402 (after the sys.path lines)
from bench_tokenizer import DATA, load_movies  # noqa: E402

MD_KEY = "bench_pretrain_data"
BATCH_FOR = {128: 256, 512: 64}  # the GPU commands' batch sizes (docs/benchmarks.md)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="2,000 snippets, few batches (CI smoke run)")
    p.add_argument("--max-lengths", default="128,512")
    p.add_argument("--doc-sentences", type=int, default=32)
    p.add_argument("--batches", type=int, default=60, help="timed batches per repeat")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--write-md", default=None)
    args = p.parse_args(argv)
    args.max_lengths = [int(x) for x in args.max_lengths.split(",")]
    if args.quick:
        args.batches, args.repeats = 4, 1
    return args


def measure(folder, batch, bucketing, batches, seed):
    """(seconds, sequences, real tokens, positions) over `batches` batches after 3 warm-up ones."""
    from keras_bert.text import pretraining_dataset

    it = iter(pretraining_dataset(folder, batch, seed=seed, repeat=True, length_bucketing=bucketing))
    for _ in range(3):
        next(it)
    sequences = real = positions = 0
    start = time.perf_counter()
    for _ in range(batches):
        features, _, _ = next(it)
        mask = features["padding_mask"].numpy()
        sequences += mask.shape[0]
        real += int(mask.sum())
        positions += mask.size
    return time.perf_counter() - start, sequences, real, positions


def main(argv=None):
    args = parse_args(argv)
    from keras_bert.text import BertTokenizer, write_pretraining_data

    texts = load_movies()[:2000] if args.quick else load_movies()
    k = args.doc_sentences
    tokenizer = BertTokenizer(os.path.join(DATA, "bert-base-uncased-vocab.txt"))
    versions, machine, rows = common.versions(), common.machine(), []
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "corpus.txt")
        with open(corpus, "w", encoding="utf-8") as f:
            f.write("\n\n".join("\n".join(texts[i:i + k]) for i in range(0, len(texts), k)) + "\n")
        for max_length in args.max_lengths:
            folder = os.path.join(tmp, f"pairs{max_length}")
            meta = write_pretraining_data(corpus, tokenizer, folder, max_length=max_length, dupe_factor=2,
                                          seed=1, progress=False)
            batch = min(BATCH_FOR.get(max_length, 64), meta["num_instances"])
            runs = {False: [], True: []}
            for rep in range(args.repeats):  # interleaved, so drift hits both alike
                for bucketing in runs:
                    runs[bucketing].append(measure(folder, batch, bucketing, args.batches, seed=rep))
            for bucketing, samples in runs.items():
                seconds = statistics.median(s[0] for s in samples)
                _, sequences, real, positions = samples[0]  # same seeds per repeat: the same batches
                rows.append({"bench": "pretrain_data", "max_length": max_length, "batch": batch,
                             "length_bucketing": bucketing, "doc_sentences": k, "instances": meta["num_instances"],
                             "padding": round(1 - real / positions, 4), "sequences_per_s": round(sequences / seconds),
                             "real_tokens_per_s": round(real / seconds), "batches": args.batches,
                             "repeats": args.repeats, "cpus": len(os.sched_getaffinity(0)), "machine": machine,
                             "versions": versions})
                common.emit(rows[-1])
    if args.write_md:
        write_markdown(args, rows, machine, versions)
    return rows


def write_markdown(args, rows, machine, versions):
    lines = ["### Pretraining input pipeline: padding with and without length bucketing (tensorflow)", "",
             "| max length | batch | pairs | length bucketing | padded positions | sequences/s | real tokens/s |",
             "|---:|---:|---:|---|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['max_length']} | {r['batch']} | {r['instances']} | "
                     f"{'yes' if r['length_bucketing'] else 'no'} | {r['padding']:.1%} | "
                     f"{r['sequences_per_s']:,} | {r['real_tokens_per_s']:,} |")
    lines += ["", (f"Movie-review snippets in documents of {args.doc_sentences} sentences, NSP pairs from "
                   "`write_pretraining_data` (dupe_factor 2, short_seq_prob 0.1); read by `pretraining_dataset` "
                   "(shuffled, repeated, dynamic masking, dynamic padding) with `length_bucketing` off and on "
                   "(default buckets). Padded positions: encoder work spent on padding. sequences/s: median of "
                   f"{args.repeats} interleaved passes of {args.batches} batches after warm-up, on the CPUs below "
                   "(tf.data uses all of them)."), "", *common.provenance(machine, versions)]
    common.update_markdown_section(args.write_md, f"{MD_KEY}:tensorflow", "\n".join(lines))


if __name__ == "__main__":
    main()
