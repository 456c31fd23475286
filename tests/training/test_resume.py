"""SIGKILL mid-run, rerun the same command: it resumes from the last checkpoint and ends with the
weights of an uninterrupted run."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.training.conftest import ROOT, tiny_config, write_json


def _cli(config_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("TF_CONFIG", None)
    return [sys.executable, "-m", "keras_bert.cli", "pretrain", "--config", config_path], env


def _weights(output_dir):
    import keras

    model = keras.saving.load_model(os.path.join(output_dir, "model", "model.keras"))
    return [np.asarray(v) for v in model.weights], int(model.optimizer.iterations)


@pytest.mark.slow
def test_sigkill_then_rerun_resumes_and_matches_uninterrupted_run(tfrecords, tmp_path):
    steps = 120
    config = tiny_config(tfrecords, tmp_path / "killed", steps=steps, steps_per_epoch=50, checkpoint_every=10,
                         log_every=10)
    killed_cfg = write_json(tmp_path / "killed.json", config)
    ref_cfg = write_json(tmp_path / "ref.json", dict(config, output_dir=str(tmp_path / "ref")))

    cmd, env = _cli(killed_cfg)
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ckpts = tmp_path / "killed" / "checkpoints"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        names = sorted(n for n in os.listdir(ckpts) if n.startswith("ckpt-")) if ckpts.is_dir() else []
        if names and int(names[-1][5:]) >= 20:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be killed:\n" + proc.stderr.read()[-2000:]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "killed" / "metrics.json").exists()
    from keras_bert.training.callbacks import latest_checkpoint

    # The newest complete folder counts (the kill may land between its rename and the `latest` pointer).
    with open(os.path.join(latest_checkpoint(str(ckpts)), "state.json")) as f:
        saved = json.load(f)
    assert 20 <= saved["step"] < steps

    done = subprocess.run(cmd, check=False, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Resuming from" in done.stdout
    metrics = json.loads((tmp_path / "killed" / "metrics.json").read_text())
    assert metrics["resumed_at"] >= saved["step"] and metrics["optimizer_iterations"] == steps

    cmd, env = _cli(ref_cfg)
    done = subprocess.run(cmd, check=False, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    resumed, it_resumed = _weights(str(tmp_path / "killed"))
    reference, it_reference = _weights(str(tmp_path / "ref"))
    assert it_resumed == it_reference == steps
    init_gap = max(float(np.abs(a).max()) for a in reference)
    assert init_gap > 0
    for a, b in zip(resumed, reference):
        np.testing.assert_allclose(a, b, atol=1e-5)
