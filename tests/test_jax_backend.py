"""Runs the layer, model and loss tests again on the JAX backend, in a fresh process."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_layer_and_model_tests_pass_on_jax():
    pytest.importorskip("jax")
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "tests/layers", "tests/models", "tests/test_losses.py",
         "tests/test_jax_backend.py::test_backend_is_jax"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout


def test_backend_is_jax():
    if os.environ.get("KERAS_BACKEND") != "jax":
        pytest.skip("only meaningful inside the JAX run")
    import keras
    assert keras.backend.backend() == "jax"
