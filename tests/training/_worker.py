"""Subprocess body for the distribution tests (logical devices must be set before TF starts).

python _worker.py curves CONFIG_JSON OUT_JSON        one device, then Mirrored over 2 logical CPUs
python _worker.py accumulation OUT_JSON              gradient accumulation, one device and Mirrored
python _worker.py run CONFIG_JSON                    run_pretraining as configured (TF_CONFIG for workers)
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _two_cpus():
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)


def _curves(config_path, out_path):
    _two_cpus()
    from keras_bert.training.callbacks import read_scalars
    from keras_bert.training.pretrain import run_pretraining

    with open(config_path) as f:
        config = json.load(f)
    out = {}
    for name in ("default", "mirrored"):
        run = dict(config, strategy=name, output_dir=os.path.join(config["output_dir"], name))
        metrics = run_pretraining(run, print_fn=lambda *a: None)
        out[name] = {"loss": [v for _, v in read_scalars(os.path.join(run["output_dir"], "logs"))["train/loss"]],
                     "metrics": metrics}
    import tensorflow as tf
    out["replicas"] = tf.distribute.MirroredStrategy().num_replicas_in_sync
    with open(out_path, "w") as f:
        json.dump(out, f)


def _accumulation(out_path):
    _two_cpus()
    import keras
    import numpy as np
    import tensorflow as tf

    from keras_bert import BertConfig, BertEncoder, BertPretrainer

    config = BertConfig(vocab_size=40, hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32,
                        max_position_embeddings=16, dropout=0.0, attention_dropout=0.0)
    rng = np.random.default_rng(0)
    n, s, p = 16, 10, 3
    x = {"token_ids": rng.integers(5, 40, (n, s)).astype("int32"), "segment_ids": (np.arange(s)[None] >= 4).repeat(n, 0).astype("int32"),
         "padding_mask": np.ones((n, s), "int32"),
         "mask_positions": np.tile(np.array([2, 5, 7], "int32"), (n, 1))}
    y = {"mlm": rng.integers(5, 40, (n, p)).astype("int32"), "nsp": rng.integers(0, 2, n).astype("int32")}
    w = {"mlm": np.ones((n, p), "float32"), "nsp": np.ones(n, "float32")}

    from keras_bert.training.distributed import reduce_before_apply

    def train(strategy, batch, k, fix=False, sgd=False):
        keras.utils.set_random_seed(1)
        with strategy.scope():
            model = BertPretrainer(BertEncoder(config))
            if sgd:  # linear in the gradient: accumulation must match the big batch exactly
                model.compile(optimizer=keras.optimizers.SGD(0.1, gradient_accumulation_steps=k))
            else:
                model.compile(learning_rate=1e-2, gradient_accumulation_steps=k)
            if fix:
                reduce_before_apply(model.optimizer)
        model.fit(x, y, sample_weight=w, batch_size=batch, epochs=1, shuffle=False, verbose=0)
        return [np.asarray(v) for v in model.trainable_variables], int(model.optimizer.iterations)

    def diff(a, b):
        return max(float(np.abs(p - q).max()) for p, q in zip(a, b))

    keras.utils.set_random_seed(1)
    init = [np.asarray(v) for v in BertPretrainer(BertEncoder(config)).trainable_variables]
    one, mirrored = tf.distribute.get_strategy(), tf.distribute.MirroredStrategy()
    results = {"replicas": mirrored.num_replicas_in_sync}
    big, it_big = train(one, 8, None, sgd=True)
    small, it_small = train(one, 4, 2, sgd=True)
    results["sgd"] = {"diff": diff(big, small), "moved": diff(big, init), "iterations": [it_big, it_small]}
    acc, it_acc = train(one, 4, 2)
    results["adamw_moved"] = diff(acc, init)
    fixed, it_fixed = train(mirrored, 4, 2, fix=True)
    results["mirrored_fixed"] = {"diff": diff(acc, fixed), "iterations": [it_acc, it_fixed]}
    try:
        train(mirrored, 4, 2)
        results["mirrored_keras"] = "ok"
    except Exception as error:  # noqa: BLE001 - the test reports what broke
        results["mirrored_keras"] = f"{type(error).__name__}: {error}"[:300]
    with open(out_path, "w") as f:
        json.dump(results, f)


def _run(config_path):
    from keras_bert.training.pretrain import run_pretraining

    with open(config_path) as f:
        config = json.load(f)
    print(json.dumps(run_pretraining(config)))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "curves":
        _curves(sys.argv[2], sys.argv[3])
    elif mode == "accumulation":
        _accumulation(sys.argv[2])
    else:
        _run(sys.argv[2])
