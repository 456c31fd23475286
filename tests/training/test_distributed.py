"""Same loss curve on one device, Mirrored over 2 logical CPUs and 2 MultiWorkerMirrored processes;
gradient accumulation k=2 x batch b == batch 2b, also under Mirrored; the seeded training stream does
not depend on how many iterators are made over it (Keras makes an extra one under a strategy)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.training.conftest import ROOT, WORKER, free_port, run_worker, tiny_config, write_json

# float32 reduction order only: replicas' gradients are summed in another order than one device's
# (losses ~11; measured worst difference 2.9e-6 = 3 ulps, relative 2.6e-7, same on Mirrored and
# 2 workers). A different batch, mask or gradient scale moves these losses by more than 1e-3.
RTOL = 1e-5


def _fingerprints(dataset, n):
    out = []
    for features, labels, _ in dataset.take(n):
        out.append((features["token_ids"].numpy().tolist(), features["mask_positions"].numpy().tolist(),
                    labels["nsp"].numpy().tolist()))
    return out


def test_repeated_stream_is_the_same_for_every_iterator_and_changes_between_passes(tfrecords):
    from keras_bert.text.pretraining_data import pretraining_dataset

    ds = pretraining_dataset(tfrecords, 8, max_predictions=4, mask_rate=0.5, repeat=True, seed=7, drop_remainder=True)
    first = _fingerprints(ds, 6)
    assert _fingerprints(ds, 6) == first  # a second iterator (Keras' model-building one) changes nothing
    rebuilt = pretraining_dataset(tfrecords, 8, max_predictions=4, mask_rate=0.5, repeat=True, seed=7,
                                  drop_remainder=True)
    assert _fingerprints(rebuilt, 6) == first
    # Batches of one whole pass each: the same records (NSP labels as a multiset), a new order and new masks.
    with open(os.path.join(tfrecords, "metadata.json")) as f:
        n = json.load(f)["num_instances"]
    stream = pretraining_dataset(tfrecords, n, max_predictions=4, mask_rate=0.5, repeat=True, seed=7)
    (tokens0, masks0, nsp0), (tokens1, masks1, nsp1) = _fingerprints(stream, 2)
    assert len(tokens0) == len(tokens1) == n and sorted(nsp0) == sorted(nsp1)
    assert tokens0 != tokens1 and masks0 != masks1


def test_gradient_accumulation_matches_big_batch_and_works_under_mirrored(tmp_path):
    out = tmp_path / "acc.json"
    done = run_worker("accumulation", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["replicas"] == 2
    # SGD is linear in the gradient: 2 micro-batches of 4 == 1 batch of 8, exactly.
    assert result["sgd"]["moved"] > 1e-2 and result["sgd"]["diff"] < 1e-6
    assert result["sgd"]["iterations"] == [2, 2]
    # AdamW + accumulation over 2 logical CPUs == the same on one device.
    assert result["adamw_moved"] > 1e-2 and result["mirrored_fixed"]["diff"] < 1e-6
    assert result["mirrored_fixed"]["iterations"] == [2, 2]
    # Keras' own accumulation cannot trace under MirroredStrategy (why training.distributed exists);
    # if this starts passing, the work-around can go.
    assert "merge_call" in result["mirrored_keras"]


def test_mirrored_two_cpus_same_loss_curve_as_one_device(tfrecords, tmp_path):
    config = write_json(tmp_path / "config.json", tiny_config(tfrecords, tmp_path / "runs"))
    out = tmp_path / "curves.json"
    done = run_worker("curves", config, str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["replicas"] == 2
    one, two = np.array(result["default"]["loss"]), np.array(result["mirrored"]["loss"])
    assert len(one) == len(two) == 8
    assert one[-1] < one[0] - 0.05  # it learns at all
    np.testing.assert_allclose(two, one, rtol=RTOL)


@pytest.mark.slow
def test_multi_worker_mirrored_two_processes_same_loss_curve(tfrecords, tmp_path):
    from keras_bert.training.callbacks import read_scalars

    single = tiny_config(tfrecords, tmp_path / "single", strategy="default")
    done = run_worker("run", write_json(tmp_path / "single.json", single))
    assert done.returncode == 0, done.stderr[-3000:]
    ports = [free_port(), free_port()]
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    procs = []
    for index in range(2):
        config = tiny_config(tfrecords, tmp_path / f"worker{index}", strategy="multi_worker")
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
               "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})}
        procs.append(subprocess.Popen([sys.executable, WORKER, "run", write_json(tmp_path / f"w{index}.json", config)],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT))
    outputs = [p.communicate(timeout=600) for p in procs]
    for p, (_, err) in zip(procs, outputs):
        assert p.returncode == 0, err[-3000:]
    one = [v for _, v in read_scalars(str(tmp_path / "single" / "logs"))["train/loss"]]
    multi = [v for _, v in read_scalars(str(tmp_path / "worker0" / "logs"))["train/loss"]]
    assert len(one) == len(multi) == 8
    assert one[-1] < one[0] - 0.05  # it learns at all
    np.testing.assert_allclose(multi, one, rtol=RTOL)
    assert not os.path.exists(tmp_path / "worker1" / "checkpoints")  # only the chief writes
