"""Pretraining train-step throughput: keras_bert's BertPretrainer vs keras-hub's BertMaskedLM.

One process, interleaved (A B, B A, ...), after compile and warm-up. Per config
(tiny, base; vocab 30522, 512 positions, tanh-GELU, dropout 0.1 on both) and
batch B x sequence S with P masked positions:

* ours: `BertPretrainer` (MLM on the P masked positions only, tied output
  projection, plus next-sentence prediction), compiled here with sparse
  cross-entropy from logits on both outputs (on MLM
  `keras_bert.losses.SparseSoftmaxCrossEntropy`, its default: Keras' loss in
  fewer kernels) and BERT's AdamW (`keras_bert.optimization.bert_adamw`, no
  decay on LayerNorm/bias, no clipping; Keras' AdamW update as one fused
  kernel per variable on TensorFlow);
* keras-hub: `BertMaskedLM` (its MLM head also gathers the P masked positions
  first; no NSP), `keras.losses.SparseCategoricalCrossentropy(from_logits=True)`,
  `keras.optimizers.AdamW` with the same rate and the same LayerNorm/bias
  exclusion.

Both train with `train_on_batch(x, y, sample_weight=mask weights)`. Reported:
sequences/s, ratio ours/keras-hub (> 1: keras_bert faster; ours also does NSP),
and MFU = model FLOPs/s / the float32 GEMM rate measured in the same run
(matmul 2048^3 on the active backend). Model FLOPs per sequence, as in the
issue: 3 (2 N S + 4 L d S^2) + 6 (d^2 + d V) P with N = 12 L d^2, plus the
pooler; NSP's 2 x d head is negligible and not counted.

    python benchmarks/bench_pretrain.py                      # tiny + base, ~4-6 min on 2 cores
    python benchmarks/bench_pretrain.py --quick              # CI smoke run
    KERAS_BACKEND=jax python benchmarks/bench_pretrain.py    # JAX (also on a GPU machine, no TF needed)
    KERAS_BACKEND=jax python benchmarks/bench_pretrain.py --configs base --batch-size 256 \\
        --dtype-policy mixed_bfloat16 --jit-compile true     # GPU: see /work/notes/readme-perf.md
    python benchmarks/bench_pretrain.py --write-md BENCHMARKS.md
"""

import argparse
import dataclasses
import gc
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import common  # noqa: E402 (after the sys.path lines)
import numpy as np  # noqa: E402

MD_KEY = "bench_pretrain"
FULL_REPEATS = {"tiny": 15, "base": 7}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_size_arguments(p, target_sample_s=0.5)
    p.add_argument("--dtype-policy", default=None, help="e.g. mixed_bfloat16 (GPU); default float32")
    p.add_argument("--jit-compile", default="auto", choices=("auto", "true", "false"),
                   help="model.compile(jit_compile=...) for both sides")
    p.add_argument("--peak-tflops", type=float, default=None,
                   help="nominal device peak (e.g. 989 for H100 bf16 dense) for an extra MFU column")
    p.add_argument("--attention-dropout", type=float, default=None,
                   help="keras_bert's attention-probability dropout (default 0.1, as keras-hub's); 0 lets JAX "
                        "use the fused (flash) attention kernel")
    p.add_argument("--impls", default="keras_bert,keras_hub", help="which sides to run")
    p.add_argument("--write-md", metavar="PATH", default=None, help="update the bench_pretrain section")
    args = common.resolve_size_arguments(p.parse_args(argv))
    args.impls = args.impls.split(",")
    args.jit_compile = {"auto": "auto", "true": True, "false": False}[args.jit_compile]
    return args


def flops_per_sequence(cfg, seq_len, num_masked):
    """Training FLOPs of one sequence (the issue's formula, plus the pooler)."""
    d, L, V, S, P = cfg.hidden_size, cfg.num_layers, cfg.vocab_size, seq_len, num_masked
    n = L * (4 * d * d + 2 * d * cfg.intermediate_size)  # 12 L d^2 for the standard 4d FFN
    return 3 * (2 * n * S + 4 * L * d * S ** 2 + 2 * d * d) + 6 * (d * d + d * V) * P


def build(preset, impl, args):
    import keras

    import keras_bert

    cfg = common.bench_config(preset)
    if impl == "keras_bert" and args.attention_dropout is not None:
        cfg = dataclasses.replace(cfg, attention_dropout=args.attention_dropout)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    if impl == "keras_bert":
        from keras_bert.losses import SparseSoftmaxCrossEntropy
        from keras_bert.models import BertPretrainer
        from keras_bert.optimization import bert_adamw

        model = BertPretrainer(keras_bert.bert_encoder(cfg, dtype=args.dtype_policy))
        # clipnorm=None: keras-hub's side has no clipping either (same optimizer work).
        model.compile(optimizer=bert_adamw(model, common.LEARNING_RATE, clipnorm=None),
                      loss={"mlm": SparseSoftmaxCrossEntropy(),
                            "nsp": keras.losses.SparseCategoricalCrossentropy(from_logits=True)},
                      weighted_metrics=[], jit_compile=args.jit_compile)
    else:
        import keras_hub

        backbone = common.hub_backbone(cfg, dtype=args.dtype_policy)
        model = keras_hub.models.BertMaskedLM(backbone, preprocessor=None)
        optimizer = keras.optimizers.AdamW(common.LEARNING_RATE, weight_decay=0.01)
        optimizer.exclude_from_weight_decay(var_names=["gamma", "beta", "bias"])
        model.compile(optimizer=optimizer, loss=loss, weighted_metrics=[], jit_compile=args.jit_compile)
    return cfg, model


def make_batch(batch, seq_len, num_masked, seed=0):
    features, positions, mlm_ids = common.random_mlm_batch(batch, seq_len, num_masked, seed)
    x = dict(features, mask_positions=positions)
    weights = np.ones((batch, num_masked), np.float32)
    weights[:, -2:] = 0.0  # the last slots unused, as when a sequence has fewer maskable tokens
    nsp = np.random.default_rng(seed + 1).integers(0, 2, size=(batch,)).astype(np.int32)
    return x, mlm_ids, weights, nsp, np.ones((batch,), np.float32)


def step_fn(impl, model, batch):
    import keras
    x, mlm_ids, weights, nsp, nsp_weights = (keras.tree.map_structure(keras.ops.convert_to_tensor, b)
                                             for b in batch)
    if impl == "keras_bert":
        return lambda: model.train_on_batch(x, {"mlm": mlm_ids, "nsp": nsp},
                                            sample_weight={"mlm": weights, "nsp": nsp_weights})
    return lambda: model.train_on_batch(x, mlm_ids, sample_weight=weights)


def main(argv=None):
    args = parse_args(argv)
    import keras

    backend = keras.backend.backend()
    versions = common.versions()
    device = common.device_name()
    gemm_rate = common.GemmRate(args.dtype_policy, args.quick, backend)
    batch = make_batch(args.batch_size, args.seq_len, args.num_masked)
    pending = []
    for preset in args.configs:
        gemm_rate.measure(f"before {preset}")
        models = {impl: build(preset, impl, args) for impl in args.impls}
        cfg = next(iter(models.values()))[0]
        fns = {impl: step_fn(impl, model, batch) for impl, (_, model) in models.items()}
        for fn in fns.values():  # trace / compile, then a warm call
            fn()
            fn()
        inner = common.pick_inner(fns, args.target_sample_s)
        repeats = args.repeats or FULL_REPEATS.get(preset, 7)
        samples = common.interleaved(fns, repeats=repeats, inner=inner, warmup=0)
        flops = flops_per_sequence(cfg, args.seq_len, args.num_masked) * args.batch_size
        kernels = {impl: common.attention_kernel(model, batch[0], training=True)
                   for impl, (_, model) in models.items()}
        paired = None
        if len(samples) == 2:
            paired = statistics.median(h / o for h, o in zip(samples["keras_hub"], samples["keras_bert"]))
        for impl, ms in samples.items():
            s = common.summarize(ms)
            seq_per_s = args.batch_size / (s["median_ms"] / 1e3)
            record = {"bench": "pretrain_step", "config": preset, "impl": impl, "batch": args.batch_size,
                      "seq_len": args.seq_len, "num_masked": args.num_masked,
                      "objectives": "mlm+nsp" if impl == "keras_bert" else "mlm",
                      **s, "inner": inner, "sequences_per_s": round(seq_per_s, 2),
                      "gflop_per_step": round(flops / 1e9, 3),
                      "gflops_per_s": round(flops / (s["median_ms"] / 1e3) / 1e9, 1),
                      "dtype_policy": args.dtype_policy or "float32",
                      "attention_dropout": models[impl][0].attention_dropout, "attention_kernel": kernels[impl],
                      "jit_compile": bool(models[impl][1].jit_compile), "backend": backend,
                      "device": device, "versions": versions}
            if paired is not None:
                other = "keras_hub" if impl == "keras_bert" else "keras_bert"
                record["ratio_vs_other"] = round(
                    common.summarize(samples[other])["median_ms"] / s["median_ms"], 3)
                record["paired_ratio_ours_over_hub"] = round(paired, 3)
            pending.append(record)
        del models, fns
        keras.backend.clear_session()
        gc.collect()
    gemm = gemm_rate.finish(pending, args.peak_tflops)
    if args.write_md:
        write_markdown(args, pending, gemm, gemm_rate.dtype, backend, versions, common)
    return pending


def _attention_dropouts(rows):
    by_impl = {r["impl"]: r["attention_dropout"] for r in rows}
    if len(set(by_impl.values())) == 1:
        return f"{next(iter(by_impl.values())):g} in both"
    return ", ".join(f"{rate:g} in {impl}" for impl, rate in by_impl.items())


def write_markdown(args, rows, gemm, gemm_dtype, backend, versions, common):
    lines = [f"### Pretraining step: BertPretrainer vs keras-hub BertMaskedLM ({backend} backend)", "",
             ("| config (B x S, P) | ours seq/s (MLM+NSP) | keras-hub seq/s (MLM) | ratio (paired) "
              "| MFU ours | MFU keras-hub |"), "|---|---:|---:|---:|---:|---:|"]
    for (config,), ours, hub in common.ours_vs_hub(rows, "config"):
        lines.append(f"| {config} ({ours['batch']} x {ours['seq_len']}, {ours['num_masked']}) "
                     f"| {ours['sequences_per_s']:.1f} | {hub['sequences_per_s']:.1f} "
                     f"| {ours['ratio_vs_other']:.2f} ({ours['paired_ratio_ours_over_hub']:.2f}) "
                     f"| {ours['mfu']:.1%} | {hub['mfu']:.1%} |")
    first = rows[0] if rows else {}
    lines += [
        "",
        ("`train_on_batch` after warm-up, median over interleaved repeats; ratio = keras-hub step time / ours "
        "(> 1: keras_bert faster, although it also trains NSP); paired = median of back-to-back ratios. "
        "Both: AdamW (no decay on LayerNorm/bias; ours `bert_adamw`, the same update as one fused kernel per "
        "variable on TensorFlow, keras-hub `keras.optimizers.AdamW`), sparse CE from logits (on MLM ours "
        "`keras_bert.losses.SparseSoftmaxCrossEntropy`, the same values in fewer kernels), MLM on the "
        "masked positions only, attention-probability dropout "
        f"{_attention_dropouts(rows)}, "
        f"dtype policy {first.get('dtype_policy', 'float32')}, jit_compile={args.jit_compile} "
        f"(resolved: {'XLA' if first.get('jit_compile') else 'no XLA'}). MFU: model FLOPs "
        "(3(2NS + 4LdS^2) + 6(d^2 + dV)P per sequence) per second over the best measured "
        f"{gemm_dtype} GEMM rate "
        f"({gemm:.1f} GFLOP/s).") + common.attention_kernel_note(rows),
        "",
        *common.provenance(common.device_name(), versions),
    ]
    common.update_markdown_section(args.write_md, f"{MD_KEY}:{backend}", "\n".join(lines))


if __name__ == "__main__":
    main()
