"""Tokenizer throughput (ours in tf.data vs Hugging Face `tokenizers`) and padding waste.

Runs on the real VADER movie-review snippets (tests/data/text). Prints one JSON
line per measurement to stdout. `--quick` is a smoke run for CI.

    python benchmarks/bench_tokenizer.py [--quick] [--batch-size 256] [--repeats 3]
"""

import argparse
import json
import os
import platform
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "tests", "data", "text")
sys.path.insert(0, ROOT)


def load_movies():
    with open(os.path.join(DATA, "movieReviewSnippets_GroundTruth.txt"), encoding="utf-8", newline="") as f:
        return [line.rstrip("\r\n").split("\t", 2)[2] for line in f]


_CONTEXT = {}


def _context():
    """Machine and versions, from benchmarks/common.py when present (the other benchmarks use it)."""
    if not _CONTEXT:
        try:
            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            from common import machine, versions
            _CONTEXT.update(machine=machine(), **versions())
        except Exception:  # noqa: BLE001 - context is informative only
            _CONTEXT.update(python=platform.python_version())
        try:
            import tensorflow_text
            import tokenizers
            _CONTEXT.update(tensorflow_text=tensorflow_text.__version__, tokenizers=tokenizers.__version__)
        except ImportError:
            pass
    return _CONTEXT


def emit(**record):
    record.update({k: v for k, v in _context().items() if k not in record})
    print(json.dumps(record), flush=True)


def best_of(repeats, fn):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 texts, one repeat (CI smoke run)")
    parser.add_argument("--batch-size", type=int, default=256, help="tf.data tokenization batch size")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--vocab", default=os.path.join(DATA, "bert-base-uncased-vocab.txt"))
    args = parser.parse_args()

    import tensorflow as tf

    from keras_bert.text import BertPreprocessor, BertTokenizer, bucketed_dataset, padding_fraction

    texts = load_movies()
    repeats = args.repeats
    if args.quick:
        texts, repeats = texts[:1000], 1
    n = len(texts)
    tokenizer = BertTokenizer(args.vocab)
    common = {"texts": n, "vocab": os.path.basename(args.vocab), "cpus": os.cpu_count()}

    # Ours: a tf.data pipeline, tokenization mapped over batches of strings.
    # The pipeline is built (and its map function traced) once; each repeat is one pass over it.
    ds = (tf.data.Dataset.from_tensor_slices(texts).batch(args.batch_size)
          .map(tokenizer.tokenize, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE))

    def ours():
        return sum(int(tf.size(batch.flat_values)) for batch in ds)

    start = time.perf_counter()
    ours()  # first pass includes tracing and warm-up
    emit(name="tokenize_first_pass", impl="keras_bert tf.data", seconds=time.perf_counter() - start, **common)
    seconds, tokens = best_of(repeats, ours)
    emit(name="tokenize_throughput", impl="keras_bert tf.data", batch_size=args.batch_size, seconds=seconds,
         texts_per_s=n / seconds, tokens_per_s=tokens / seconds, tokens=tokens, **common)

    # Hugging Face tokenizers (Rust), same vocabulary and settings, batch API (multi-threaded).
    try:
        from tokenizers import BertWordPieceTokenizer
    except ImportError:
        emit(name="tokenize_throughput", impl="huggingface tokenizers", skipped="tokenizers not installed")
    else:
        hf = BertWordPieceTokenizer(args.vocab, lowercase=tokenizer.lowercase)
        hf.encode_batch(texts[:100], add_special_tokens=False)

        def theirs():
            return sum(len(e.ids) for e in hf.encode_batch(texts, add_special_tokens=False))

        seconds, hf_tokens = best_of(repeats, theirs)
        import tokenizers
        emit(name="tokenize_throughput", impl=f"huggingface tokenizers {tokenizers.__version__} encode_batch",
             seconds=seconds, texts_per_s=n / seconds, tokens_per_s=hf_tokens / seconds, tokens=hf_tokens,
             same_token_count=hf_tokens == tokens, **common)

    # Padded-position fraction at batch size 32.
    strings = tf.data.Dataset.from_tensor_slices(texts)
    batch = 32
    runs = [
        ("dynamic+bucketing, max 512", lambda: bucketed_dataset(strings, BertPreprocessor(tokenizer, 512), batch)),
        ("dynamic (no bucketing), max 512", lambda: strings.batch(batch).map(BertPreprocessor(tokenizer, 512))),
        ("fixed 128", lambda: strings.batch(batch).map(BertPreprocessor(tokenizer, 128, padding="max_length"))),
        ("fixed 512", lambda: strings.batch(batch).map(BertPreprocessor(tokenizer, 512, padding="max_length"))),
    ]
    for label, make in runs:
        emit(name="padding_fraction", padding=label, batch_size=batch, fraction=padding_fraction(make()), **common)


if __name__ == "__main__":
    main()
