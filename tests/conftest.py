import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")


@pytest.fixture
def batch():
    """A padded batch of two rows with different real lengths."""
    rng = np.random.default_rng(0)
    token_ids = rng.integers(5, 100, size=(2, 9)).astype("int32")
    padding_mask = np.array([[1] * 9, [1] * 5 + [0] * 4], dtype="int32")
    token_ids = token_ids * padding_mask
    segment_ids = np.array([[0] * 4 + [1] * 5, [0] * 3 + [1] * 2 + [0] * 4], dtype="int32")
    return {"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask}
