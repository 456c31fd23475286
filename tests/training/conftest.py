import json
import os
import socket
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SAMPLE_TEXT = os.path.join(ROOT, "tests", "data", "text", "sample_text.txt")
VOCAB = os.path.join(ROOT, "keras_bert", "data", "vocab-uncased.txt")
WORKER = os.path.join(HERE, "_worker.py")


@pytest.fixture(scope="session")
def tfrecords(tmp_path_factory):
    """Google's sample pretraining text as NSP pairs of 32 tokens (full length, so every
    sequence gets the same number of MLM predictions and replicas weigh equally)."""
    from keras_bert.text.pretraining_data import write_pretraining_data

    out = str(tmp_path_factory.mktemp("data") / "records")
    write_pretraining_data(SAMPLE_TEXT, VOCAB, out, max_length=32, short_seq_prob=0.0, seed=3, progress=False)
    return out


def tiny_config(tfrecords, output_dir, **overrides):
    config = {"model": {"num_layers": 1, "hidden_size": 32, "num_heads": 2, "intermediate_size": 64,
                        "max_position_embeddings": 32, "dropout": 0.0, "attention_dropout": 0.0},
              "data": {"tfrecords": tfrecords, "mask_rate": 0.5, "max_predictions": 4, "shuffle_buffer": 1000},
              "batch_size": 8, "steps": 8, "steps_per_epoch": 4, "learning_rate": 2e-3, "warmup_steps": 2,
              "output_dir": str(output_dir), "checkpoint_every": 4, "log_every": 1, "seed": 7, "verbose": 0}
    for key, value in overrides.items():
        if isinstance(value, dict):
            config[key] = {**config.get(key, {}), **value}
        else:
            config[key] = value
    return config


def write_json(path, data):
    with open(path, "w") as f:
        json.dump(data, f)
    return str(path)


def run_worker(*args, env=None, timeout=600):
    base = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env = {**base, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return subprocess.run([sys.executable, WORKER, *args], check=False, capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=ROOT)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
