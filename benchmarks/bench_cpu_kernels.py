"""Where CPU inference time goes: TensorFlow's GEMM kernels by dtype, and the per-call cost at batch 1.

Two measurements behind the compression results (docs/compression.md):

1. Projection GEMMs, as the 6-block MiniLM classifier runs them: a chain of 6
   FFN pairs (384 -> 1536 -> 384) in one tf.function, at batch-32 rows
   (32 texts x 40 tokens) and batch-1 rows (24 tokens), through each kernel
   TensorFlow 2.21 offers on a CPU:
   * float32 `MatMul` (oneDNN);
   * bfloat16 `MatMul` (oneDNN, AVX512-BF16 where present);
   * weight-only int8, dequantized then float32 `MatMul` (our `quantize` path);
   * Keras' int8 x int8 -> int32 `MatMul` (`quantize(..., activations=True)`);
   * oneDNN's `QuantizedMatMulWithBiasAndDequantize` (VNNI u8 x s8), with the
     activation quantized per call (per-tensor, shifted to be non-negative, as
     ONNX Runtime's dynamic quantization does) and the shift compensated; this
     is not in the package (see the notes written with the results).
   Each variant's error against a float64 reference is reported beside its speed.
2. The per-call cost of our graph at batch 1: a MiniLM-sized classifier
   (random weights) timed on one text of 8, 32 and 128 tokens; the intercept
   of the line through those points is what a call costs besides arithmetic,
   and the graph's operation count is printed with it.

    python benchmarks/bench_cpu_kernels.py --write-md BENCHMARKS.md
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import numpy as np  # noqa: E402

MD_KEY = "bench_cpu_kernels"
HIDDEN, INTERMEDIATE, PAIRS = 384, 1536, 6


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=7, help="interleaved timing rounds")
    p.add_argument("--quick", action="store_true", help="smoke run: fewer rounds")
    p.add_argument("--write-md", metavar="PATH", default=None)
    args = p.parse_args(argv)
    if args.quick:
        args.repeats = 2
    return args


# --- 1. projection kernels ---------------------------------------------------------------------
def _weights(rng):
    """[(kernel, bias)] for the chain: up (384x1536) and down (1536x384), PAIRS times, BERT-scaled."""
    out = []
    for _ in range(PAIRS):
        for k, n in ((HIDDEN, INTERMEDIATE), (INTERMEDIATE, HIDDEN)):
            out.append(((rng.standard_normal((k, n)) * 0.02).astype(np.float32),
                        (rng.standard_normal(n) * 0.02).astype(np.float32)))
    return out


def _int8(kernel):
    """Keras' per-output-channel absmax int8: (int8 kernel, scale), kernel ~= int8 / scale."""
    scale = 127.0 / np.maximum(np.abs(kernel).max(0), 1e-12)
    return np.round(kernel * scale).astype(np.int8), scale.astype(np.float32)


def kernel_variants(weights):
    """name -> projection(x, layer index), each built from the same float32 weights."""
    import tensorflow as tf

    f32 = [(tf.constant(k), tf.constant(b)) for k, b in weights]
    bf16 = [(tf.constant(k, tf.bfloat16), tf.constant(b, tf.bfloat16)) for k, b in weights]
    quantized = [(*_int8(k), b) for k, b in weights]
    q = [(tf.constant(kq), tf.constant(s), tf.constant(b)) for kq, s, b in quantized]
    q_onednn = [(tf.bitcast(tf.constant(kq), tf.qint8), tf.constant(127.0 / s), tf.constant(b))
                for kq, s, b in quantized]
    zero, top, minus, plus = (tf.constant(v) for v in (0.0, 255.0, -1.0, 1.0))

    def float32(x, i):
        return tf.matmul(x, f32[i][0]) + f32[i][1]

    def bfloat16(x, i):
        return tf.cast(tf.matmul(tf.cast(x, tf.bfloat16), bf16[i][0]) + bf16[i][1], tf.float32)

    def int8_weight_only(x, i):
        kq, s, b = q[i]
        return tf.matmul(x, tf.cast(kq, tf.float32) / s) + b

    def int8_keras_int32(x, i):  # per-row absmax activations, int8 x int8 -> int32, then rescale
        kq, s, b = q[i]
        amax = tf.maximum(tf.reduce_max(tf.abs(x), -1, keepdims=True), 1e-12)
        xq = tf.cast(tf.round(x * (127.0 / amax)), tf.int8)
        acc = tf.linalg.matmul(xq, kq, output_type=tf.int32)
        return tf.cast(acc, tf.float32) * (amax / 127.0) / s + b

    def onednn(a, kq, bias):
        # Constant scales (max_a 255, |b| 1) keep oneDNN's cached primitive; the real scales are applied outside.
        return tf.raw_ops.QuantizedMatMulWithBiasAndDequantize(
            a=a, b=kq, bias=bias, min_a=zero, max_a=top, min_b=minus, max_b=plus, min_freezed_output=zero,
            max_freezed_output=zero, Toutput=tf.float32, input_quant_mode="SCALED")

    def int8_onednn_vnni(x, i):
        # x = (x - lo) + lo: the shifted part is non-negative (SCALED u8); lo * column sums is added back.
        kq, c, b = q_onednn[i]
        lo = tf.minimum(tf.reduce_min(x), 0.0)
        span = tf.maximum(tf.reduce_max(x) - lo, 1e-6)
        xq = tf.quantization.quantize(x - lo, 0.0, span, tf.quint8, mode="SCALED", round_mode="HALF_TO_EVEN",
                                      ensure_minimum_range=0.0).output
        ones = tf.bitcast(tf.ones([1, x.shape[-1]], tf.uint8), tf.quint8)
        colsum = onednn(ones, kq, tf.zeros([kq.shape[1]]))[0] * c
        scale = span / 255.0 * c
        return onednn(xq, kq, (b + lo * colsum) / scale) * scale

    return {"float32": float32, "bfloat16": bfloat16, "int8 weight-only (dequantize, f32 GEMM)": int8_weight_only,
            "int8 x int8 -> int32 MatMul (Keras activations)": int8_keras_int32,
            "int8 oneDNN VNNI, dynamic activations": int8_onednn_vnni}


def measure_kernels(args, common):
    import tensorflow as tf

    rng = np.random.default_rng(0)
    weights = _weights(rng)
    variants = kernel_variants(weights)
    records = []
    for label, rows in (("batch 32 (1280 rows)", 32 * 40), ("batch 1 (24 rows)", 24)):
        x = rng.standard_normal((rows, HIDDEN)).astype(np.float32)
        reference = x.astype(np.float64)
        for k, b in weights:
            reference = reference @ k.astype(np.float64) + b
        fns, errors = {}, {}
        for name, projection in variants.items():
            def chain(x, projection=projection):
                for i in range(len(weights)):
                    x = projection(x, i)
                return x
            fn = tf.function(chain, input_signature=[tf.TensorSpec([None, HIDDEN], tf.float32)])
            xt = tf.constant(x)
            out = fn(xt).numpy()
            errors[name] = float(np.abs(out - reference).max() / np.abs(reference).max())
            fns[name] = lambda fn=fn, xt=xt: fn(xt).numpy()
        inner = common.pick_inner(fns, 0.2)
        ms = common.interleaved(fns, args.repeats, inner=inner)
        flops = 2.0 * rows * HIDDEN * INTERMEDIATE * 2 * PAIRS
        base = common.summarize(ms["float32"])["median_ms"]
        for name in variants:
            s = common.summarize(ms[name])
            record = {"bench": "cpu_kernels", "part": "gemm", "case": label, "rows": rows, "kernel": name,
                      **s, "gflops": round(flops / s["median_ms"] / 1e6, 1),
                      "speed_vs_float32": round(base / s["median_ms"], 3), "max_rel_error": round(errors[name], 5)}
            common.emit(record)
            records.append(record)
    return records


# --- 2. per-call cost at batch 1 ----------------------------------------------------------------
def measure_call_cost(args, common):
    import collections

    import keras
    import tensorflow as tf

    import keras_bert

    keras.utils.set_random_seed(0)
    config = keras_bert.BertConfig(vocab_size=30522, hidden_size=HIDDEN, num_layers=6, num_heads=12,
                                   intermediate_size=INTERMEDIATE, max_position_embeddings=512)
    model = keras_bert.BertClassifier(keras_bert.BertEncoder(config), labels=["negative", "positive"])
    spec = {name: tf.TensorSpec([None, None], tf.int32, name=name) for name in ("token_ids", "segment_ids",
                                                                                "padding_mask")}
    fn = tf.function(lambda x: model(x, training=False), input_signature=[spec])
    graph = fn.get_concrete_function().graph
    counts = collections.Counter(op.type for op in graph.get_operations())
    compute_ops = sum(n for t, n in counts.items() if t not in ("Const", "Placeholder", "NoOp", "Identity"))
    lengths = (8, 32, 128)
    fns = {}
    for n in lengths:
        ids = np.random.default_rng(n).integers(1000, 30000, (1, n)).astype(np.int32)
        x = {"token_ids": tf.constant(ids), "segment_ids": tf.zeros((1, n), tf.int32),
             "padding_mask": tf.ones((1, n), tf.int32)}
        fns[n] = lambda x=x: fn(x).numpy()
    ms = common.interleaved(fns, args.repeats, inner=common.pick_inner(fns, 0.2))
    medians = [common.summarize(ms[n])["median_ms"] for n in lengths]
    slope, intercept = np.polyfit(lengths, medians, 1)
    record = {"bench": "cpu_kernels", "part": "call_cost", "model": "MiniLM-sized classifier, 6 blocks x 384",
              "ms_by_tokens": dict(zip(map(str, lengths), medians)), "intercept_ms": round(float(intercept), 3),
              "ms_per_token": round(float(slope), 4), "graph_ops": compute_ops,
              "intercept_share_at_24_tokens": round(float(intercept / (intercept + 24 * slope)), 3)}
    common.emit(record)
    return record


def write_markdown(args, rows, call, common):
    lines = ["### CPU kernels: projection GEMMs by dtype, and the per-call cost at batch 1", "",
             "Six FFN pairs of the MiniLM classifier (384 -> 1536 -> 384, random BERT-scaled weights) chained in "
             "one tf.function; error: max |out - float64| / max |float64| after the chain.", "",
             "| rows | kernel | ms | GFLOP/s | vs float32 | max rel. error |", "|---|---|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['case']} | {r['kernel']} | {r['median_ms']:.2f} | {r['gflops']:.0f} "
                     f"| {r['speed_vs_float32']:.2f} | {r['max_rel_error']:.1e} |")
    ms = ", ".join(f"{k} tokens {v:.2f} ms" for k, v in call["ms_by_tokens"].items())
    lines += ["", f"Per-call cost of our float32 graph at batch 1 ({call['model']}, random weights, "
                  f"{call['graph_ops']} operations besides constants): {ms}; a line through them gives "
                  f"{call['intercept_ms']:.2f} ms per call plus {call['ms_per_token'] * 1000:.1f} us per token, "
                  f"so at 24 tokens {call['intercept_share_at_24_tokens']:.0%} of a call is the fixed cost.", ""]
    lines += common.provenance(common.machine(), common.versions())
    common.update_markdown_section(args.write_md, MD_KEY, "\n".join(lines))


def main(argv=None):
    args = parse_args(argv)
    import common

    rows = measure_kernels(args, common)
    call = measure_call_cost(args, common)
    if args.write_md:
        write_markdown(args, rows, call, common)
    return rows, call


if __name__ == "__main__":
    main()
