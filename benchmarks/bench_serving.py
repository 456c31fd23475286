"""Serving speed: encoder throughput by batch size and batch-1 latency, keras_bert vs keras-hub.

The inference goals of the performance issue (BERT-base, seq 128, one H100: >= 20,000 seq/s at
large batch, batch-1 p50 <= 1.0 ms) are measured with this script on the JAX backend; it also runs
on TensorFlow and on a CPU. Both encoders (`keras_bert.bert_encoder`, `keras_hub.models.BertBackbone`,
same sizes, random weights, full-length inputs) are timed in one process, interleaved, through two
call paths:

* ``predict_on_batch``: what `model.predict_on_batch(numpy_inputs)` costs, host transfers and
  Keras' per-call work included.
* ``compiled``: the forward pass as a server holding the model would run it, on inputs already on
  the device: JAX `jax.jit(model.stateless_call)` with the weights passed as arguments (Keras 3's
  documented JAX pattern), waiting with `block_until_ready`; TensorFlow a `tf.function` of
  `model(x, training=False)`. Outputs stay on the device.

For each batch size: median ms per call, sequences/s, ratio keras-hub / ours (> 1: ours faster)
and MFU (forward FLOPs 2NS + 4LdS^2 + pooler, over the GEMM rate measured in the compute dtype and,
with ``--peak-tflops``, over the device's nominal peak). For batch 1 also p50/p90/p99 latency over
``--latency-calls`` individually timed calls per side.

Usage::

    python benchmarks/bench_serving.py                        # CPU: tiny and base, batches 1 and 8
    python benchmarks/bench_serving.py --quick                # CI smoke test
    KERAS_BACKEND=jax python benchmarks/bench_serving.py --configs base --batch-sizes 1,32,256,1024 \\
        --dtype-policy bfloat16 --jit-compile true --peak-tflops 989 --write-md BENCHMARKS.md   # H100
"""

import argparse
import gc
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_encoder  # noqa: E402 (after the sys.path line)
import common  # noqa: E402

MD_KEY = "bench_serving"
METHODS = ("predict_on_batch", "compiled")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_size_arguments(p, target_sample_s=0.25)
    p.add_argument("--batch-sizes", default=None, help="comma-separated (default 1,8; 1,4 with --quick)")
    p.add_argument("--latency-calls", type=int, default=None, help="timed batch-1 calls per side (default 100)")
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--dtype-policy", default=None, help="e.g. bfloat16 or mixed_bfloat16 (GPU); default float32")
    p.add_argument("--jit-compile", default="auto", choices=("auto", "true", "false"),
                   help="compiled path on TensorFlow: XLA or not (JAX always compiles with XLA)")
    p.add_argument("--peak-tflops", type=float, default=None, help="nominal peak (989: H100 bf16 dense)")
    p.add_argument("--impls", default="keras_bert,keras_hub")
    p.add_argument("--write-md", metavar="PATH", default=None, help="update the bench_serving section")
    args = common.resolve_size_arguments(p.parse_args(argv))
    args.batch_sizes = [int(b) for b in (args.batch_sizes or ("1,4" if args.quick else "1,8")).split(",")]
    args.latency_calls = args.latency_calls or (10 if args.quick else 100)
    args.methods = args.methods.split(",")
    args.impls = args.impls.split(",")
    unknown = set(args.methods) - set(METHODS)
    if unknown:
        p.error(f"unknown method(s) {sorted(unknown)}; choose from {METHODS}")
    return args


def build(preset, impl, dtype):
    import keras_bert

    cfg = common.bench_config(preset)
    if impl == "keras_bert":
        return cfg, keras_bert.bert_encoder(cfg, dtype=dtype)
    return cfg, common.hub_backbone(cfg, dtype=dtype)


def full_length_inputs(batch, seq_len):
    features, _, _ = common.random_mlm_batch(batch, seq_len, 1)
    features["padding_mask"][:] = 1  # serving throughput is quoted for full sequences
    return features


def call_fn(model, method, features, jit_compile):
    """A zero-argument callable that runs one forward pass and waits for its result."""
    import keras

    if method == "predict_on_batch":
        return lambda: model.predict_on_batch(features)
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        forward, trainable, non_trainable = common.jax_forward(model)
        x = jax.device_put(features)
        return lambda: jax.block_until_ready(forward(trainable, non_trainable, x))
    if backend == "tensorflow":
        import tensorflow as tf

        x = {k: tf.convert_to_tensor(v) for k, v in features.items()}
        forward = tf.function(lambda x: model(x, training=False), jit_compile=jit_compile == "true")
        return lambda: forward(x)  # a CPU/GPU tf.function call returns once its outputs exist
    raise SystemExit(f"bench_serving: the compiled path supports jax and tensorflow, not {backend}")


def latency_samples(fns, calls):
    """Individually timed calls, alternating sides; dict name -> list of ms."""
    out = {name: [] for name in fns}
    for i in range(calls):
        for name in (list(fns) if i % 2 == 0 else list(fns)[::-1]):
            t0 = time.perf_counter()
            fns[name]()
            out[name].append((time.perf_counter() - t0) * 1e3)
    return out


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main(argv=None):
    args = parse_args(argv)
    import keras

    backend = keras.backend.backend()
    versions = common.versions()
    device = common.device_name()
    gemm_rate = common.GemmRate(args.dtype_policy, args.quick, backend)
    pending = []
    for preset in args.configs:
        gemm_rate.measure(f"before {preset}")
        models = {impl: build(preset, impl, args.dtype_policy) for impl in args.impls}
        cfg = next(iter(models.values()))[0]
        kernels = {batch: {impl: common.attention_kernel(model, full_length_inputs(batch, args.seq_len))
                           for impl, (_, model) in models.items()} for batch in args.batch_sizes}
        for method in args.methods:
            for batch in args.batch_sizes:
                features = full_length_inputs(batch, args.seq_len)
                fns = {impl: call_fn(model, method, features, args.jit_compile)
                       for impl, (_, model) in models.items()}
                for fn in fns.values():  # trace / compile, then a warm call
                    fn()
                    fn()
                inner = common.pick_inner(fns, args.target_sample_s)
                samples = common.interleaved(fns, repeats=args.repeats or 9, inner=inner, warmup=0)
                latency = latency_samples(fns, args.latency_calls) if batch == 1 else None
                flops = bench_encoder.encoder_forward_flops(cfg, batch, args.seq_len)
                for impl, ms in samples.items():
                    s = common.summarize(ms)
                    record = {"bench": "serving", "config": preset, "impl": impl, "method": method,
                              "batch": batch, "seq_len": args.seq_len, **s, "inner": inner,
                              "sequences_per_s": round(batch / (s["median_ms"] / 1e3), 1),
                              "gflops_per_s": round(flops / (s["median_ms"] / 1e3) / 1e9, 1),
                              "dtype_policy": args.dtype_policy or "float32", "backend": backend,
                              "attention_kernel": kernels[batch][impl], "device": device, "versions": versions}
                    if latency:
                        record.update({f"latency_p{q}_ms": round(percentile(latency[impl], q), 3)
                                       for q in (50, 90, 99)}, latency_calls=args.latency_calls)
                    if "keras_hub" in samples and impl != "keras_hub":
                        hub = samples["keras_hub"]
                        record["ratio_vs_keras_hub"] = round(common.summarize(hub)["median_ms"] / s["median_ms"], 3)
                        record["paired_ratio"] = round(statistics.median(h / o for h, o in zip(hub, ms)), 3)
                    pending.append(record)
        del models, fns
        keras.backend.clear_session()
        gc.collect()
    gemm = gemm_rate.finish(pending, args.peak_tflops)
    if args.write_md:
        write_markdown(args, pending, gemm, gemm_rate.dtype, backend, versions)
    return pending


def _latency_cell(record):
    if "latency_p50_ms" not in record:
        return "-"
    return f"{record['latency_p50_ms']:.2f} / {record['latency_p90_ms']:.2f}"


def write_markdown(args, rows, gemm, gemm_dtype, backend, versions):
    lines = [f"### Serving: encoder throughput and batch-1 latency ({backend} backend)", "",
             "| config, path, B x S | ours ms | keras-hub ms | ours seq/s | keras-hub seq/s "
             "| ratio (paired) | MFU ours | ours p50 / p90 ms | keras-hub p50 / p90 ms |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for (config, method, batch, seq), ours, hub in common.ours_vs_hub(rows, "config", "method", "batch", "seq_len"):
        lines.append(f"| {config}, {method}, {batch} x {seq} | {ours['median_ms']:.2f} | {hub['median_ms']:.2f} "
                     f"| {ours['sequences_per_s']:,.0f} | {hub['sequences_per_s']:,.0f} "
                     f"| {ours['ratio_vs_keras_hub']:.2f} ({ours['paired_ratio']:.2f}) | {ours['mfu']:.1%} "
                     f"| {_latency_cell(ours)} | {_latency_cell(hub)} |")
    first = rows[0] if rows else {}
    peak = f"; over the nominal {args.peak_tflops:g} TFLOP/s peak in the JSON lines" if args.peak_tflops else ""
    lines += [
        "",
        "Random weights, full-length inputs, dtype policy "
        f"{first.get('dtype_policy', 'float32')}. `predict_on_batch`: numpy in, numpy out. `compiled`: "
        "the forward pass on inputs already on the device (JAX: `jax.jit` of `stateless_call`; TensorFlow: "
        "a `tf.function`), outputs left there. ms: median per call over interleaved repeats; ratio = "
        "keras-hub / ours (> 1: keras_bert faster); p50 / p90: individually timed batch-1 calls. MFU: "
        f"forward FLOPs per second over the best measured {gemm_dtype} GEMM rate ({gemm:.1f} GFLOP/s){peak}."
        + common.attention_kernel_note(rows),
        "",
        *common.provenance(common.device_name(), versions),
    ]
    common.update_markdown_section(args.write_md, f"{MD_KEY}:{backend}", "\n".join(lines))


if __name__ == "__main__":
    main()
