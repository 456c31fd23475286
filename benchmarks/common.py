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


def emit(record):
    print(json.dumps(record, sort_keys=False), flush=True)


def command_line():
    env = f"KERAS_BACKEND={os.environ['KERAS_BACKEND']} " if os.environ.get("KERAS_BACKEND") else ""
    args = " ".join(sys.argv[1:])
    return f"{env}python {os.path.relpath(sys.argv[0]) if sys.argv[0] else ''} {args}".strip()


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
