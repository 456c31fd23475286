"""Shared helpers for the benchmarks: versions, machine GEMM rate, interleaved timing, markdown.

Import after KERAS_BACKEND is set (the caller's environment decides the backend).
"""

import json
import os
import platform
import re
import statistics
import sys
import time


def versions():
    """Versions of the pieces a timing depends on."""
    import keras
    out = {"python": platform.python_version(), "keras": keras.__version__}
    for name in ("tensorflow", "jax", "keras_hub", "keras_bert", "numpy"):
        try:
            module = __import__(name)
            out[name] = getattr(module, "__version__", "?")
        except Exception:  # noqa: BLE001 - a missing optional package is just not reported
            pass
    return out


def machine():
    """A one-line description of the CPU and core count."""
    cpu = platform.processor() or platform.machine()
    flags = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            text = f.read()
        match = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
        if match:
            cpu = match.group(1).strip()
        isa = sorted(set(re.findall(r"\b(avx512_bf16|avx512f|amx_bf16|avx2)\b", text)))
        flags = " [" + ",".join(isa) + "]" if isa else ""
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cpu}{flags}, {cores} cores usable, {platform.system()} {platform.release()}"


def gemm_gflops(n=2048, repeats=7, dtype="float32"):
    """Measured GEMM rate (GFLOP/s) of an n x n x n matmul on the active Keras backend (median).

    TensorFlow: tf.matmul in a tf.function; JAX: jax.jit(jnp.matmul) at the default
    precision (on a GPU fp32 may use TF32, as the models do). Returns (median, min, max).
    """
    import keras
    if keras.backend.backend() == "jax":
        import jax
        import jax.numpy as jnp
        a = jax.random.normal(jax.random.PRNGKey(0), (n, n), dtype=dtype)
        b = jax.random.normal(jax.random.PRNGKey(1), (n, n), dtype=dtype)
        f = jax.jit(lambda x, y: jnp.sum(jnp.matmul(x, y).astype("float32")))

        def run():
            return f(a, b).block_until_ready()
    else:
        import tensorflow as tf
        a = tf.random.normal((n, n), dtype=dtype)
        b = tf.random.normal((n, n), dtype=dtype)
        f = tf.function(lambda x, y: tf.reduce_sum(tf.cast(tf.matmul(x, y), tf.float32)))

        def run():
            return f(a, b).numpy()
    run()  # trace + warm up
    run()
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        rates.append(2.0 * n ** 3 / (time.perf_counter() - t0) / 1e9)
    return statistics.median(rates), min(rates), max(rates)


class GemmRate:
    """The GEMM rate MFU is quoted against, measured in the compute dtype of `dtype_policy`.

    Measured before each config and at the end (a shared machine drifts); MFU uses the best
    median seen, an estimate of what the machine can do when it is quiet.
    """

    def __init__(self, dtype_policy, quick, backend):
        self.dtype = next((d for d in ("bfloat16", "float16") if d in (dtype_policy or "")), "float32")
        self.repeats = 3 if quick else 7
        self.backend = backend
        self.runs = []

    def measure(self, when):
        median, low, high = gemm_gflops(repeats=self.repeats, dtype=self.dtype)
        self.runs.append(median)
        emit({"bench": f"gemm_{self.dtype}", "when": when, "gflops_per_s": round(median, 1),
              "min": round(low, 1), "max": round(high, 1), "backend": self.backend, "device": device_name()})

    def finish(self, records, peak_tflops=None):
        """Measures once more, adds the MFU fields to `records` and prints them; returns the rate used."""
        self.measure("end")
        best = max(self.runs)
        for record in records:
            record[f"gemm_{self.dtype}_gflops_per_s"] = round(best, 1)
            record["mfu"] = round(record["gflops_per_s"] / best, 4)
            if peak_tflops:
                record["mfu_vs_peak"] = round(record["gflops_per_s"] / (peak_tflops * 1e3), 4)
            emit(record)
        return best


def device_name():
    """The accelerator the backend computes on (JAX GPU/TPU), else the CPU description."""
    try:
        import keras
        if keras.backend.backend() == "jax":
            import jax
            dev = jax.devices()[0]
            if dev.platform != "cpu":
                return f"{dev.device_kind} ({dev.platform}, {len(jax.devices())} device(s))"
    except Exception:  # noqa: BLE001 - informative only
        pass
    return machine()


# --- The compared models and inputs -----------------------------------------
# Both libraries get the same architecture: BERT's vocabulary, 512 positions, dropout 0.1 and the
# tanh GELU keras-hub uses.
VOCAB = 30522
MAX_POSITIONS = 512
DROPOUT = 0.1
LEARNING_RATE = 1e-4


def bench_config(preset):
    """The keras_bert config both sides are built from."""
    import keras_bert

    return keras_bert.BertConfig.preset(
        preset, vocab_size=VOCAB, max_position_embeddings=MAX_POSITIONS, hidden_act="gelu_tanh",
        dropout=DROPOUT, attention_dropout=DROPOUT)


def hub_backbone(cfg, **kwargs):
    """keras-hub's `BertBackbone` with `cfg`'s sizes (kwargs: e.g. `dtype`)."""
    import keras_hub

    return keras_hub.models.BertBackbone(
        vocabulary_size=cfg.vocab_size, num_layers=cfg.num_layers, num_heads=cfg.num_heads,
        hidden_dim=cfg.hidden_size, intermediate_dim=cfg.intermediate_size,
        max_sequence_length=cfg.max_position_embeddings, num_segments=cfg.type_vocab_size,
        dropout=cfg.dropout, **kwargs)


def random_mlm_batch(batch, seq_len, num_masked, seed=0):
    """(features, mask_positions [B, P], mlm labels [B, P]) of random ids, with some padding."""
    import numpy as np

    rng = np.random.default_rng(seed)
    token_ids = rng.integers(1000, VOCAB, size=(batch, seq_len), dtype=np.int32)
    segment_ids = np.zeros((batch, seq_len), np.int32)
    segment_ids[:, seq_len // 2:] = 1
    padding_mask = np.ones((batch, seq_len), np.int32)
    for row in range(batch):  # some padding, as in real batches; the cost is unchanged
        padding_mask[row, seq_len - rng.integers(0, seq_len // 4 + 1):] = 0
    mask_positions = np.sort(np.stack([rng.choice(seq_len, num_masked, replace=False)
                                       for _ in range(batch)]), axis=1).astype(np.int32)
    labels = np.take_along_axis(token_ids, mask_positions, axis=1)
    features = {"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask}
    return features, mask_positions, labels


CUDNN_ATTENTION_CALL = "__cudnn$fmha"  # prefix of JAX's cuDNN fused-attention custom calls


def attention_kernel(model, inputs, training=False):
    """"cudnn" when the JAX forward pass lowers to cuDNN fused (flash) attention, else "xla"; None off JAX.

    Keras falls back from cuDNN to XLA attention with only a logged exception, so every
    GPU figure records which kernel ran. Read from the lowered program, not timed.
    """
    import keras
    if keras.backend.backend() != "jax":
        return None
    forward, trainable, non_trainable = jax_forward(model, training)
    lowered = forward.lower(trainable, non_trainable, inputs)
    return "cudnn" if CUDNN_ATTENTION_CALL in lowered.as_text() else "xla"


def jax_forward(model, training=False):
    """(jitted forward(trainable, non_trainable, x) -> outputs, trainable values, non-trainable values).

    Keras 3's documented JAX pattern: `stateless_call` with the weights passed as arguments.
    """
    import jax

    def forward(trainable, non_trainable, x):
        return model.stateless_call(trainable, non_trainable, x, training=training)[0]

    return (jax.jit(forward), [v.value for v in model.trainable_variables],
            [v.value for v in model.non_trainable_variables])


def attention_kernel_note(rows):
    """A markdown sentence naming each side's attention kernel(s), or "" off JAX."""
    kernels = {}
    for r in rows:
        if r.get("attention_kernel"):
            kernels.setdefault(r["impl"], set()).add(r["attention_kernel"])
    if not kernels:
        return ""
    sides = ", ".join(f"{impl} {' / '.join(sorted(k))}" for impl, k in kernels.items())
    return f" Attention kernel (read from the lowered JAX program; cudnn = fused flash attention): {sides}."


def add_size_arguments(parser, target_sample_s):
    """The options every model benchmark shares; `resolve_size_arguments` fills the defaults."""
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny only, seq 32, 2 repeats")
    parser.add_argument("--configs", default=None, help="comma-separated presets (default tiny,base)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seq-len", type=int, default=None, help="default 128 (32 with --quick)")
    parser.add_argument("--num-masked", type=int, default=20, help="P, masked positions per sequence")
    parser.add_argument("--repeats", type=int, default=None, help="override the repeats of every case")
    parser.add_argument("--target-sample-s", type=float, default=target_sample_s,
                        help="fast calls are looped so one sample lasts about this long")


def resolve_size_arguments(args):
    if args.quick:
        args.configs = args.configs or "tiny"
        args.seq_len = args.seq_len or 32
        args.repeats = args.repeats or 2
        args.target_sample_s = min(args.target_sample_s, 0.05)
    args.configs = (args.configs or "tiny,base").split(",")
    args.seq_len = args.seq_len or 128
    return args


def pick_inner(fns, target_s):
    """Loops fast calls so a sample is ~target_s long; the same count for every side."""
    slowest = 0.0
    for fn in fns.values():
        t0 = time.perf_counter()
        fn()
        slowest = max(slowest, time.perf_counter() - t0)
    return max(1, round(target_s / max(slowest, 1e-6)))


# --- Timing -------------------------------------------------------------------
def interleaved(fns, repeats, inner=1, warmup=1):
    """Times callables interleaved (A B, B A, A B, ...) so machine drift hits all alike.

    `fns`: dict name -> zero-argument callable that blocks until its result is ready.
    Each sample is the mean of `inner` back-to-back calls. Returns dict name ->
    list of per-call milliseconds (one entry per repeat).
    """
    names = list(fns)
    for _ in range(warmup):
        for name in names:
            fns[name]()
    samples = {name: [] for name in names}
    for rep in range(repeats):
        order = names if rep % 2 == 0 else names[::-1]
        for name in order:
            t0 = time.perf_counter()
            for _ in range(inner):
                fns[name]()
            samples[name].append((time.perf_counter() - t0) * 1e3 / inner)
    return samples


def summarize(ms):
    """Median and spread of a list of milliseconds."""
    ordered = sorted(ms)
    q = statistics.quantiles(ordered, n=4) if len(ordered) >= 2 else [ordered[0]] * 3
    return {"median_ms": round(statistics.median(ordered), 3), "min_ms": round(ordered[0], 3),
            "max_ms": round(ordered[-1], 3), "iqr_ms": round(q[2] - q[0], 3), "n": len(ordered)}


def ours_vs_hub(rows, *keys):
    """Groups records by `keys`; yields (key values, ours, keras-hub's) for each case both sides ran."""
    cases = {}
    for r in rows:
        cases.setdefault(tuple(r[k] for k in keys), {})[r["impl"]] = r
    for key, pair in cases.items():
        if "keras_bert" in pair and "keras_hub" in pair:
            yield key, pair["keras_bert"], pair["keras_hub"]


def emit(record):
    print(json.dumps(record, sort_keys=False), flush=True)


def command_line():
    env = f"KERAS_BACKEND={os.environ['KERAS_BACKEND']} " if os.environ.get("KERAS_BACKEND") else ""
    args = " ".join(sys.argv[1:])
    return f"{env}python {os.path.relpath(sys.argv[0]) if sys.argv[0] else ''} {args}".strip()


def provenance(machine, versions):
    """The markdown lines naming the machine, the versions and the command of a benchmark section."""
    return [f"- Machine: {machine}", "- Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
            f"- Command: `{command_line()}`"]


def update_markdown_section(path, key, body):
    """Writes `body` between `<!-- key:start -->` / `<!-- key:end -->` in `path`.

    Replaces the section if present, appends it otherwise, creates the file if missing.
    """
    start, end = f"<!-- {key}:start -->", f"<!-- {key}:end -->"
    section = f"{start}\n{body.rstrip()}\n{end}\n"
    text = ""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end) + r"\n?", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        if text and not text.endswith("\n"):
            text += "\n"
        text += ("\n" if text else "") + section
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
