"""End to end: raw strings -> class probabilities, keras_bert vs keras-hub's BertTextClassifier.

Both sides hold the same BERT weights (a keras-hub backbone built from a seed,
copied into ours with `keras_bert.checkpoints.keras_hub.from_keras_hub`, and the
classifier's dense layer copied), so their predictions must agree; the script
reports argmax agreement and the largest probability difference.

* ours: `BertTokenizer` + `BertPreprocessor(sequence_length=512)` in a
  `bucketed_dataset` (dynamic padding, length bucketing), then
  `BertClassifier.predict_on_batch` per batch; outputs go back to input order.
* keras-hub: `BertTextClassifier(preprocessor=BertTextClassifierPreprocessor(
  sequence_length=512 | 128))` with `classifier.predict(texts)`.

Texts: the movie snippets' test split (`keras_bert.datasets.movie_sentiment`).
keras-hub runs on seeded random subsets (it is slow at 512); ours on the whole
split. Timings are interleaved in one process (ours, hub@128, hub@512, then the
reverse order, ...). Peak RSS is measured per side in its own subprocess
(VmHWM from /proc/self/status after building the model and
predicting the same subset), so one side's memory cannot hide the other's.

    python benchmarks/bench_end_to_end.py                  # base config, ~5-7 min on 2 cores
    python benchmarks/bench_end_to_end.py --quick          # CI smoke run, tiny config
    python benchmarks/bench_end_to_end.py --write-md BENCHMARKS.md
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import numpy as np

MD_KEY = "bench_end_to_end"
SEED = 1234
IMPLS = ("keras_bert", "keras_hub@128", "keras_hub@512")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="smoke run: tiny config, few texts, 1 repeat")
    p.add_argument("--config", default=None, help="BertConfig preset (default base; tiny with --quick)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--texts", type=int, default=None, help="texts for keras_bert (default: whole test split)")
    p.add_argument("--hub-texts-128", type=int, default=None, help="keras-hub@128 subset (default 256)")
    p.add_argument("--hub-texts-512", type=int, default=None, help="keras-hub@512 subset (default 64)")
    p.add_argument("--repeats", type=int, default=None, help="timed passes per side (default 2)")
    p.add_argument("--no-rss", action="store_true", help="skip the peak-RSS subprocesses")
    p.add_argument("--write-md", metavar="PATH", default=None, help="update the bench_end_to_end section")
    p.add_argument("--rss-worker", choices=IMPLS, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    quick = args.quick
    args.config = args.config or ("tiny" if quick else "base")
    args.texts = args.texts or (48 if quick else None)
    args.hub_texts_128 = args.hub_texts_128 or (16 if quick else 256)
    args.hub_texts_512 = args.hub_texts_512 or (16 if quick else 64)
    args.repeats = args.repeats or (1 if quick else 2)
    return args


def load_texts(limit=None):
    from keras_bert.datasets import movie_sentiment
    _, (texts, _), _ = movie_sentiment("binary")
    return texts[:limit] if limit else texts


def subset(texts, n):
    """A seeded random subset (same length distribution as the whole split), sorted by index."""
    rng = np.random.default_rng(SEED)
    idx = np.sort(rng.choice(len(texts), size=min(n, len(texts)), replace=False))
    return idx, [texts[i] for i in idx]


# --- Models -----------------------------------------------------------------
def build_hub(preset, sequence_length):
    import common
    import keras
    import keras_hub

    import keras_bert
    from keras_bert.datasets import UNCASED_VOCAB

    cfg = keras_bert.BertConfig.preset(preset)
    keras.utils.set_random_seed(SEED)
    backbone = common.hub_backbone(cfg)
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=UNCASED_VOCAB, lowercase=True)
    pre = keras_hub.models.BertTextClassifierPreprocessor(tokenizer, sequence_length=sequence_length)
    return keras_hub.models.BertTextClassifier(backbone, num_classes=2, preprocessor=pre)


def ours_from_hub(hub_classifier):
    """BertClassifier with the keras-hub classifier's weights (encoder + dense head)."""
    from keras_bert.checkpoints.keras_hub import from_keras_hub
    from keras_bert.models.tasks import BertClassifier

    model = BertClassifier(from_keras_hub(hub_classifier.backbone), num_classes=2)
    model.get_layer("logits").set_weights(hub_classifier.get_layer("logits").get_weights())
    return model


def build_ours(preset):
    import keras

    import keras_bert
    from keras_bert.models.tasks import BertClassifier

    keras.utils.set_random_seed(SEED)
    cfg = keras_bert.BertConfig.preset(preset, hidden_act="gelu_tanh")
    return BertClassifier(keras_bert.bert_encoder(cfg), num_classes=2)


def ours_predictor(model, batch_size):
    import tensorflow as tf

    from keras_bert.datasets import UNCASED_VOCAB
    from keras_bert.text import BertPreprocessor, BertTokenizer, bucketed_dataset

    preprocessor = BertPreprocessor(BertTokenizer(UNCASED_VOCAB, lowercase=True), sequence_length=512)

    def predict(texts):
        ds = tf.data.Dataset.from_tensor_slices((texts, np.arange(len(texts))))
        logits = np.zeros((len(texts), 2), np.float32)
        positions = padded = 0
        for features, index in bucketed_dataset(ds, preprocessor, batch_size):
            logits[index.numpy()] = model.predict_on_batch(features)
            mask = features["padding_mask"].numpy()
            positions, padded = positions + mask.size, padded + int(mask.size - mask.sum())
        return logits, padded / positions

    return predict


def hub_predictor(classifier, batch_size):
    def predict(texts):
        logits = classifier.predict(texts, batch_size=batch_size, verbose=0)
        return np.asarray(logits, np.float32), None

    return predict


def calibrate_head(classifier, texts):
    """Makes the random classifier decide on the text, about half and half.

    A randomly initialised BERT gives nearly the same pooled output for every
    text, so its small random head would predict one class everywhere and
    argmax agreement would be trivially 100%. A unit-scale head with the bias
    set at the median logit gap puts the decision boundary among the texts.
    """
    dense = classifier.get_layer("logits")
    kernel, bias = dense.get_weights()
    kernel = np.random.default_rng(SEED).normal(size=kernel.shape).astype(kernel.dtype)
    dense.set_weights([kernel, bias])
    logits = classifier.predict(texts, verbose=0)
    bias[1] -= float(np.median(logits[:, 1] - logits[:, 0]))
    dense.set_weights([kernel, bias])


def softmax(logits):
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


# --- RSS worker -------------------------------------------------------------
def rss_mb():
    """Peak resident set size of this process so far, MiB.

    /proc/self/status VmHWM, not getrusage's ru_maxrss: on Linux ru_maxrss survives exec,
    so a worker started by a big parent would report the parent's peak.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def rss_worker(args):
    import keras  # noqa: F401 - counted in the baseline

    import keras_bert  # noqa: F401
    after_import = rss_mb()
    texts = subset(load_texts(args.texts), args.hub_texts_512)[1]
    if args.rss_worker == "keras_bert":
        model = build_ours(args.config)
        predict = ours_predictor(model, args.batch_size)
    else:
        model = build_hub(args.config, int(args.rss_worker.split("@")[1]))
        predict = hub_predictor(model, args.batch_size)
    after_build = rss_mb()
    predict(texts)
    print(json.dumps({"impl": args.rss_worker, "texts": len(texts), "rss_after_import_mb": round(after_import, 1),
                      "rss_after_build_mb": round(after_build, 1), "peak_rss_mb": round(rss_mb(), 1)}))


def measure_rss(args, impl):
    cmd = [sys.executable, os.path.abspath(__file__), "--rss-worker", impl, "--config", args.config,
           "--batch-size", str(args.batch_size), "--hub-texts-512", str(args.hub_texts_512)]
    if args.texts:
        cmd += ["--texts", str(args.texts)]
    result = subprocess.run(cmd, check=False, capture_output=True, text=True,
                            env=dict(os.environ), timeout=900)
    if result.returncode != 0:
        raise RuntimeError(f"RSS worker {impl} failed:\n{result.stderr[-3000:]}")
    return json.loads([line for line in result.stdout.splitlines() if line.startswith("{")][-1])


# --- Main -------------------------------------------------------------------
def main(argv=None):
    args = parse_args(argv)
    if args.rss_worker:
        return rss_worker(args)
    import common
    import keras

    backend = keras.backend.backend()
    versions = common.versions()
    texts = load_texts(args.texts)
    idx128, texts128 = subset(texts, args.hub_texts_128)
    idx512, texts512 = subset(texts, args.hub_texts_512)

    hub512 = build_hub(args.config, 512)
    calibrate_head(hub512, subset(texts, 2 * args.batch_size)[1])
    hub128 = build_hub(args.config, 128)
    hub128.backbone.set_weights(hub512.backbone.get_weights())
    hub128.get_layer("logits").set_weights(hub512.get_layer("logits").get_weights())
    ours = ours_from_hub(hub512)
    predictors = {"keras_bert": (ours_predictor(ours, args.batch_size), texts),
                  "keras_hub@128": (hub_predictor(hub128, args.batch_size), texts128),
                  "keras_hub@512": (hub_predictor(hub512, args.batch_size), texts512)}

    # Warm-up: trace every predict function; ours on batches of several lengths (it retraces
    # until Keras relaxes the sequence dimension).
    warm = subset(texts, 4 * args.batch_size)[1]
    for impl, (predict, _) in predictors.items():
        predict(warm if impl == "keras_bert" else warm[:args.batch_size])

    seconds = {impl: [] for impl in IMPLS}
    outputs = {}
    for rep in range(args.repeats):
        for impl in (IMPLS if rep % 2 == 0 else IMPLS[::-1]):
            predict, inputs = predictors[impl]
            t0 = time.perf_counter()
            outputs[impl] = predict(inputs)
            seconds[impl].append(time.perf_counter() - t0)

    ours_probs = softmax(outputs["keras_bert"][0])
    rows = []
    for impl in IMPLS:
        n = len(predictors[impl][1])
        rates = [n / s for s in seconds[impl]]
        record = {"bench": "end_to_end", "config": args.config, "impl": impl, "texts": n,
                  "batch_size": args.batch_size, "texts_per_s": round(statistics.median(rates), 2),
                  "seconds": [round(s, 2) for s in seconds[impl]], "repeats": args.repeats}
        if impl == "keras_bert":
            record["padded_fraction"] = round(outputs[impl][1], 4)
        else:
            seq = int(impl.split("@")[1])
            idx = idx128 if seq == 128 else idx512
            probs = softmax(outputs[impl][0])
            mine = ours_probs[idx]
            record["class1_fraction"] = round(float(np.mean(probs.argmax(1) == 1)), 3)
            record["argmax_agreement"] = round(float(np.mean(probs.argmax(1) == mine.argmax(1))), 4)
            record["max_abs_prob_diff"] = float(np.abs(probs - mine).max())
            # Speed-up: ours' rate over theirs, overall and per back-to-back repeat.
            record["ours_speedup"] = round(rows[0]["texts_per_s"] / record["texts_per_s"], 2)
            record["ours_speedup_paired"] = round(statistics.median(
                (len(texts) / a) / (n / b) for a, b in zip(seconds["keras_bert"], seconds[impl])), 2)
        record.update(backend=backend, versions=versions)
        rows.append(record)
    if not args.no_rss:
        for record in rows:
            record.update({k: v for k, v in measure_rss(args, record["impl"]).items()
                           if k not in ("impl", "texts")})
            record["rss_texts"] = len(texts512)
    for record in rows:
        common.emit(record)
    if args.write_md:
        write_markdown(args, rows, backend, versions, common)
    return rows


def write_markdown(args, rows, backend, versions, common):
    lines = [f"### End to end: raw strings -> predictions, BERT-{args.config} classifier ({backend} backend)", "",
             ("| pipeline | texts | texts/s | ours speed-up (paired) | same argmax | max prob diff "
              "| peak RSS MB (after build) |"), "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        name = ("keras_bert: bucketed dynamic padding, max 512" if r["impl"] == "keras_bert"
                else f"keras-hub BertTextClassifier, sequence_length={r['impl'].split('@')[1]}")
        speed = "-" if r["impl"] == "keras_bert" else f"{r['ours_speedup']:.1f}x ({r['ours_speedup_paired']:.1f}x)"
        agree = "-" if r["impl"] == "keras_bert" else f"{r['argmax_agreement']:.1%}"
        diff = "-" if r["impl"] == "keras_bert" else f"{r['max_abs_prob_diff']:.1e}"
        rss = f"{r['peak_rss_mb']:.0f} ({r['rss_after_build_mb']:.0f})" if "peak_rss_mb" in r else "-"
        lines.append(f"| {name} | {r['texts']} | {r['texts_per_s']:.1f} | {speed} | {agree} | {diff} | {rss} |")
    ours = rows[0]
    lines += [
        "",
        (f"Movie-snippet test split (binary, {ours['texts']} texts, batch {args.batch_size}); keras-hub runs on "
        "seeded random subsets of it. Same random weights on both sides (keras-hub backbone copied into ours); "
        f"ours pads {ours['padded_fraction']:.1%} of positions. Probabilities differ on texts with accents: "
        "keras-hub's uncased tokenizer keeps them (`café` becomes [UNK]), ours strips them as Google's "
        f"uncased BERT does. texts/s: median over {args.repeats} interleaved "
        "passes, tokenization included. Peak RSS: VmHWM of a separate process per pipeline that builds "
        f"its model and predicts the same {rows[0].get('rss_texts', '-')} texts (in brackets: after the model "
        "is built, before predicting)."),
        "",
        *common.provenance(common.machine(), versions),
    ]
    common.update_markdown_section(args.write_md, f"{MD_KEY}:{backend}", "\n".join(lines))


if __name__ == "__main__":
    main()
