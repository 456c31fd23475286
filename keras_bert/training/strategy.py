"""One `strategy` option -> a `tf.distribute` strategy to build the model and dataset under.

| name | strategy |
| --- | --- |
| `default` | the default (no-op) strategy: one device |
| `mirrored` | `MirroredStrategy` over `devices` (default: every local GPU, else the CPU) |
| `multi_worker` | `MultiWorkerMirroredStrategy`, cluster and task read from the `TF_CONFIG` environment variable |
| `tpu` | `TPUStrategy` from `TPUClusterResolver(tpu)`: `tpu` is the TPU name or `grpc://` address ("" or "local" on a TPU VM) |
| `auto` | `multi_worker` when `TF_CONFIG` names more than one task, `mirrored` with 2+ GPUs, else `default` |

TPU path (untested here, no TPU available): connect to the cluster, initialise the TPU
system, then build everything under `strategy.scope()` as usual; datasets must have static
shapes there: `run_pretraining` pads to `max_length` under a TPU strategy (`data.padding: auto`);
from Python use `pretraining_dataset(..., drop_remainder=True, padding="max_length")`.

Build strategies first thing in a process: `MultiWorkerMirroredStrategy` must be created before
TensorFlow runs any op.
"""

import json
import os

import tensorflow as tf

STRATEGIES = ("auto", "default", "mirrored", "multi_worker", "tpu")


def _tf_config():
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return None
    try:
        config = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(f"TF_CONFIG is not valid JSON: {error}") from None
    if "cluster" not in config or "task" not in config:
        raise ValueError("TF_CONFIG needs 'cluster' and 'task' entries, e.g. "
                         '{"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": "worker", "index": 0}}')
    return config


def _num_tasks(config):
    return sum(len(v) for v in config["cluster"].values()) if config else 0


def get_strategy(name="auto", devices=None, tpu=None, communication="auto"):
    """The `tf.distribute.Strategy` named `name` (see the module docstring)."""
    if name not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {name!r}")
    if name == "auto":
        if _num_tasks(_tf_config()) > 1:
            name = "multi_worker"
        elif len(tf.config.list_logical_devices("GPU")) > 1:
            name = "mirrored"
        else:
            name = "default"
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(devices=devices)
    if name == "multi_worker":
        if _tf_config() is None:
            raise ValueError("strategy 'multi_worker' reads the cluster from TF_CONFIG, which is not set")
        options = tf.distribute.experimental.CommunicationOptions(
            implementation={"auto": tf.distribute.experimental.CommunicationImplementation.AUTO,
                            "ring": tf.distribute.experimental.CommunicationImplementation.RING,
                            "nccl": tf.distribute.experimental.CommunicationImplementation.NCCL}[communication])
        return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu="" if tpu in (None, "local") else tpu)
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def is_chief(strategy=None):
    """True in the process that writes checkpoints and logs (worker 0 / the chief / a single process)."""
    config = _tf_config()
    if not config or _num_tasks(config) <= 1:
        return True
    task = config["task"]
    if task.get("type") == "chief":
        return True
    return task.get("type") == "worker" and int(task.get("index", 0)) == 0 and "chief" not in config["cluster"]
