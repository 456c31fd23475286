"""Encoder speed: keras_bert vs keras-hub's BERT, in one process, interleaved.

For each config (tiny, base; vocab 30522, 512 positions, tanh-GELU in both,
dropout 0.1 in both) and batch 8 x seq 128 it times

* ``inference``: ``model.predict_on_batch(inputs)`` on the bare encoder
  (``keras_bert.bert_encoder`` vs ``keras_hub.models.BertBackbone``). Both go
  through Keras' own compiled predict function with the model's default
  ``jit_compile`` ("auto": no XLA on a CPU-only TensorFlow, XLA on JAX), so
  the path is the same for both and is what users get.
* ``train_step``: ``model.train_on_batch`` of an MLM model
  (``keras_bert.models.BertPretrainer`` vs ``keras_hub.models.BertMaskedLM``),
  P=20 masked positions, Adam, sparse categorical cross-entropy from logits on
  the MLM output only, ``model.compile(..., jit_compile="auto")``. Each side
  uses its package's Adam and loss: ``keras_bert.optimization.Adam`` (the same
  update, as one fused kernel per variable on TensorFlow) and
  ``keras_bert.losses.SparseSoftmaxCrossEntropy`` (the same values and
  gradients, BertPretrainer's default) vs ``keras.optimizers.Adam`` and
  ``keras.losses.SparseCategoricalCrossentropy(from_logits=True)``. A third
  model, keras-hub's with our Adam and loss (``keras_hub+our_adam_loss``),
  separates what the model code gains from what those two gain.

Runs are interleaved (A B, B A, ...) after a warm-up; each line of stdout is one
JSON record with the median and spread, ``ratio_vs_keras_hub`` (keras-hub time
/ our time: > 1 means keras_bert is faster) and MFU against the float32 GEMM
rate measured in the same run (``tf.matmul`` 2048^3).

FLOPs counted: encoder forward = 2 * (matmul parameters) * tokens
+ 4 * L * H * S^2 * B (QK^T and PV) + the pooler; a training step = 3 x
(encoder forward + the MLM head on B*P positions: H*H transform and the tied
H*V projection).

Usage (the backend is whatever KERAS_BACKEND says, TensorFlow by default)::

    python benchmarks/bench_encoder.py                   # full run, ~5-8 min on 2 cores
    python benchmarks/bench_encoder.py --quick           # CI smoke test, tiny only, < 60 s
    KERAS_BACKEND=jax python benchmarks/bench_encoder.py --quick
    python benchmarks/bench_encoder.py --write-md BENCHMARKS.md
"""

import argparse
import gc
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402 (after the sys.path line)

MD_KEY = "bench_encoder"
HUB_OUR_TRAINING = "keras_hub+our_adam_loss"  # train_step only: keras-hub's model, keras_bert's Adam and loss

# Repeats per (config, bench) in the full run; base training steps take seconds each.
FULL_REPEATS = {("tiny", "inference"): 15, ("tiny", "train_step"): 15,
                ("base", "inference"): 9, ("base", "train_step"): 7}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_size_arguments(p, target_sample_s=0.25)
    p.add_argument("--benches", default="inference,train_step")
    p.add_argument("--write-md", metavar="PATH", default=None,
                   help="write/update the bench_encoder section of a markdown file")
    args = common.resolve_size_arguments(p.parse_args(argv))
    args.benches = args.benches.split(",")
    return args


# --- FLOPs ------------------------------------------------------------------
def encoder_forward_flops(cfg, batch, seq_len):
    h, i, layers = cfg.hidden_size, cfg.intermediate_size, cfg.num_layers
    tokens = batch * seq_len
    matmul_params = layers * (4 * h * h + 2 * h * i)
    return (2 * matmul_params * tokens + 4 * layers * h * seq_len ** 2 * batch
            + 2 * h * h * batch)  # pooler


def train_step_flops(cfg, batch, seq_len, num_masked):
    h = cfg.hidden_size
    mlm_head = 2 * batch * num_masked * (h * h + h * cfg.vocab_size)
    return 3 * (encoder_forward_flops(cfg, batch, seq_len) + mlm_head)


# --- Models -----------------------------------------------------------------
def build_models(preset):
    import keras
    import keras_hub

    import keras_bert
    from keras_bert.losses import SparseSoftmaxCrossEntropy
    from keras_bert.models import BertPretrainer
    from keras_bert.optimization import Adam

    cfg = common.bench_config(preset)
    ours = keras_bert.bert_encoder(cfg)
    hub = common.hub_backbone(cfg)
    n_ours, n_hub = ours.count_params(), hub.count_params()
    if n_ours != n_hub:
        raise RuntimeError(f"parameter counts differ: keras_bert {n_ours} vs keras_hub {n_hub}")

    ours_mlm = BertPretrainer(ours)
    ours_mlm.compile(optimizer=Adam(common.LEARNING_RATE),
                     loss={"mlm": SparseSoftmaxCrossEntropy(), "nsp": None}, weighted_metrics=[], jit_compile="auto")
    hub_mlm = keras_hub.models.BertMaskedLM(hub, preprocessor=None)
    hub_mlm.compile(optimizer=keras.optimizers.Adam(common.LEARNING_RATE),
                    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                    weighted_metrics=[], jit_compile="auto")
    hub_our_training = keras_hub.models.BertMaskedLM(hub, preprocessor=None)
    hub_our_training.compile(optimizer=Adam(common.LEARNING_RATE), loss=SparseSoftmaxCrossEntropy(),
                             weighted_metrics=[], jit_compile="auto")
    return cfg, {"keras_bert": (ours, ours_mlm), "keras_hub": (hub, hub_mlm),
                 HUB_OUR_TRAINING: (None, hub_our_training)}


def case_fns(models, bench, features, mask_positions, labels):
    import keras
    x = {k: keras.ops.convert_to_tensor(v) for k, v in features.items()}
    x_mlm = dict(x, mask_positions=keras.ops.convert_to_tensor(mask_positions))
    y = keras.ops.convert_to_tensor(labels)
    nsp = keras.ops.zeros((labels.shape[0],), "int32")
    fns = {}
    for impl, (encoder, mlm) in models.items():
        if bench == "inference" and encoder is None:
            continue
        if bench == "inference":
            fns[impl] = (lambda m=encoder: m.predict_on_batch(x))
        else:
            # Keras wants a target per named output; NSP's loss is None, its labels unused.
            target = {"mlm": y, "nsp": nsp} if impl == "keras_bert" else y
            fns[impl] = (lambda m=mlm, t=target: m.train_on_batch(x_mlm, t))
    return fns


# --- Main -------------------------------------------------------------------
def main(argv=None):
    args = parse_args(argv)
    import keras

    backend = keras.backend.backend()
    versions = common.versions()
    gemm_rate = common.GemmRate(None, args.quick, backend)  # float32: this benchmark has no dtype option
    features, mask_positions, labels = common.random_mlm_batch(args.batch_size, args.seq_len, args.num_masked)
    pending = []  # records wait for the final GEMM rate before their MFU is computed
    for preset in args.configs:
        gemm_rate.measure(f"before {preset}")
        cfg, models = build_models(preset)
        for bench in args.benches:
            if bench == "inference":
                flops = encoder_forward_flops(cfg, args.batch_size, args.seq_len)
                method = "predict_on_batch"
                jit = {impl: bool(m[0].jit_compile) for impl, m in models.items() if m[0] is not None}
            elif bench == "train_step":
                flops = train_step_flops(cfg, args.batch_size, args.seq_len, args.num_masked)
                method = "train_on_batch"
                jit = {impl: bool(m[1].jit_compile) for impl, m in models.items()}
            else:
                raise ValueError(f"unknown bench {bench!r}")
            fns = case_fns(models, bench, features, mask_positions, labels)
            for fn in fns.values():  # trace / compile, then one more warm call
                fn()
            inner = common.pick_inner(fns, args.target_sample_s)
            repeats = args.repeats or FULL_REPEATS.get((preset, bench), 7)
            samples = common.interleaved(fns, repeats=repeats, inner=inner, warmup=0)
            stats = {impl: common.summarize(ms) for impl, ms in samples.items()}
            hub_ms = stats["keras_hub"]["median_ms"]
            # paired_ratio_median: the ratio of samples taken back to back in each repeat (robust to drift).
            for impl in stats:
                s = stats[impl]
                achieved = flops / (s["median_ms"] / 1e3) / 1e9
                record = {
                    "bench": bench, "config": preset, "impl": impl,
                    "batch": args.batch_size, "seq_len": args.seq_len,
                    **({"num_masked": args.num_masked} if bench == "train_step" else {}),
                    **s, "inner": inner,
                    "ratio_vs_keras_hub": round(hub_ms / s["median_ms"], 3),
                    "paired_ratio_median": round(statistics.median(
                        h / o for h, o in zip(samples["keras_hub"], samples[impl])), 3),
                    "gflop": round(flops / 1e9, 3), "gflops_per_s": round(achieved, 1),
                    "mfu": None, "method": method,
                    "jit_compile": jit[impl], "backend": backend, "versions": versions,
                }
                pending.append(record)
        del models, fns
        keras.backend.clear_session()
        gc.collect()
    gemm = gemm_rate.finish(pending)
    if args.write_md:
        write_markdown(args.write_md, pending, gemm, backend, versions, common)
    return pending


def write_markdown(path, rows, gemm, backend, versions, common):
    lines = [
        f"### Encoder: keras_bert vs keras-hub ({backend} backend)",
        "",
        "| case | ours ms | keras-hub ms | ratio (hub/ours) | paired ratio | MFU ours | MFU keras-hub "
        "| keras-hub on our Adam and loss: ms (paired ratio vs keras-hub) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    by_case = {}
    for r in rows:
        by_case.setdefault((r["config"], r["bench"], r["batch"], r["seq_len"]), {})[r["impl"]] = r
    for (config, bench, batch, seq), pair in by_case.items():
        ours, hub, hub_ours = pair["keras_bert"], pair["keras_hub"], pair.get(HUB_OUR_TRAINING)
        extra = f", P={ours['num_masked']}" if bench == "train_step" else ""
        third = f"{hub_ours['median_ms']:.1f} ({hub_ours['paired_ratio_median']:.2f})" if hub_ours else "-"
        lines.append(
            f"| {config} {bench} (B={batch}, S={seq}{extra}) "
            f"| {ours['median_ms']:.1f} ({ours['min_ms']:.1f}-{ours['max_ms']:.1f}) "
            f"| {hub['median_ms']:.1f} ({hub['min_ms']:.1f}-{hub['max_ms']:.1f}) "
            f"| {ours['ratio_vs_keras_hub']:.2f} | {ours['paired_ratio_median']:.2f} "
            f"| {ours['mfu']:.1%} | {hub['mfu']:.1%} | {third} |")
    first = rows[0] if rows else {}
    lines += [
        "",
        "Median (min-max) milliseconds per call over interleaved repeats; ratio = keras-hub "
        "median / ours (> 1: keras_bert is faster); paired ratio = median over repeats of the "
        "ratio of the two back-to-back samples (robust to machine drift). Inference: `predict_on_batch` "
        "on the bare encoder; training: "
        "`train_on_batch` of an MLM model (sparse CE from logits and Adam, each package's own: ours "
        "`keras_bert.losses.SparseSoftmaxCrossEntropy` and `keras_bert.optimization.Adam`, the same "
        "values and updates in fewer kernels, keras-hub `keras.losses.SparseCategoricalCrossentropy` and "
        "`keras.optimizers.Adam`; the last column gives keras-hub's model our loss and Adam, to separate "
        "model gains from loss and optimizer gains), both with "
        f"`jit_compile=\"auto\"` (here: XLA {'on' if first.get('jit_compile') else 'off'}). "
        "tanh-GELU and dropout 0.1 in both models.",
        "",
        *common.provenance(f"{common.machine()}; fp32 GEMM rate used for MFU (best median of "
                           f"tf.matmul 2048^3 measured during the run): {gemm:.1f} GFLOP/s", versions),
    ]
    common.update_markdown_section(path, f"{MD_KEY}:{backend}", "\n".join(lines))


if __name__ == "__main__":
    main()
