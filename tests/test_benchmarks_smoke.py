"""The benchmarks run (not how fast: speed lives in BENCHMARKS.md, never in tests)."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_encoder_benchmark_quick_mode_prints_json_lines():
    result = subprocess.run([sys.executable, "benchmarks/bench_encoder.py", "--quick"], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    impls = {(r.get("bench"), r.get("impl")) for r in records}
    assert ("inference", "keras_bert") in impls and ("inference", "keras_hub") in impls
    assert all(r["median_ms"] > 0 for r in records if "median_ms" in r)
