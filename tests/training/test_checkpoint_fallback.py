"""A corrupt newest checkpoint (pretraining step checkpoints, fine-tuning epoch backups) is skipped with
a line naming the file, and training resumes from the one before; Keras' BackupAndRestore left a
0-byte `latest.weights.h5` after a kill mid-write and every rerun failed."""

import json
import os

import keras
import numpy as np
import pytest

from keras_bert.training import callbacks as cb


def _model(seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="mse")
    return model


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(16, 3)).astype("float32"), rng.normal(size=(16, 2)).astype("float32")


def _truncate(path):
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)


def _empty(path):
    open(path, "wb").close()


def _flip(path):
    """One bit flipped in the last byte of the first array's data (a disk error)."""
    import struct
    import zipfile

    with zipfile.ZipFile(path) as z:
        info = z.infolist()[0]
    data = bytearray(open(path, "rb").read())
    name_length, extra_length = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    data[info.header_offset + 30 + name_length + extra_length + info.compress_size - 1] ^= 0x01
    open(path, "wb").write(bytes(data))


def _torn_state(path):
    state = os.path.join(os.path.dirname(path), "state.json")
    open(state, "w").write('{"step": 4, "model_pa')


@pytest.mark.parametrize("damage", [_empty, _truncate, _flip, _torn_state])
def test_restore_latest_falls_back_past_a_corrupt_checkpoint(tmp_path, damage):
    model = _model()
    x, y = _data()
    model.fit(x, y, epochs=1, verbose=0)
    first = [np.array(v) for v in model.variables]
    cb.write_checkpoint(str(tmp_path), model, {"step": 2})
    model.fit(x, y, epochs=1, verbose=0)
    newest = cb.write_checkpoint(str(tmp_path), model, {"step": 4})
    damage(os.path.join(newest, "variables.npz"))

    fresh, logged = _model(seed=1), []
    path, state = cb.restore_latest(str(tmp_path), fresh, log=logged.append)
    assert state["step"] == 2 and path.endswith("ckpt-000000002")
    assert len(logged) == 1 and newest in logged[0] and "unreadable" in logged[0]
    for a, b in zip(first, fresh.variables):
        np.testing.assert_array_equal(a, np.array(b))

    damage(os.path.join(path, "variables.npz"))  # nothing left that reads: refuse, naming the files
    with pytest.raises(cb.CorruptCheckpointError, match="no readable checkpoint.*ckpt-000000004.*ckpt-000000002"):
        cb.restore_latest(str(tmp_path), _model(), log=logged.append)


def test_a_checkpoint_of_another_model_is_an_error_not_skipped(tmp_path):
    model = _model()
    model.fit(*_data(), epochs=1, verbose=0)
    cb.write_checkpoint(str(tmp_path), model, {"step": 1})
    inputs = keras.Input((3,))
    other = keras.Model(inputs, keras.layers.Dense(4)(inputs))
    other.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="has shape"):
        cb.restore_latest(str(tmp_path), other)


class _Interrupt(keras.callbacks.Callback):
    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise KeyboardInterrupt


def test_epoch_backup_resumes_after_a_torn_newest_backup(tmp_path):
    x, y = _data()
    backup = str(tmp_path / "backup")
    reference = _model()
    reference.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)

    model = _model()
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0,
                  callbacks=[cb.EpochBackup(backup), _Interrupt(2)])
    names = sorted(n for n in os.listdir(backup) if n.startswith("ckpt-"))
    assert names == ["ckpt-000000001", "ckpt-000000002"]
    _empty(os.path.join(backup, names[-1], "variables.npz"))  # what a kill mid-write used to leave

    logged = []
    resumed = _model(seed=5)
    history = resumed.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0,
                          callbacks=[cb.EpochBackup(backup, log=logged.append)])
    assert len(history.history["loss"]) == 2  # epochs 2 and 3 again, from the backup after epoch 1
    assert any("Skipping checkpoint" in m and names[-1] in m for m in logged)
    assert any(m.startswith(f"Resuming from {os.path.join(backup, names[0])}: 1 of 3 epochs done") for m in logged)
    assert not os.path.exists(backup)  # removed when training ends
    for a, b in zip(reference.variables, resumed.variables):
        np.testing.assert_allclose(np.array(a), np.array(b), atol=1e-6)


def test_pretraining_resumes_from_the_checkpoint_before_a_corrupt_one(tfrecords, tmp_path):
    from keras_bert.training.pretrain import run_pretraining
    from tests.training.conftest import tiny_config

    config = tiny_config(tfrecords, tmp_path / "run", steps=8, checkpoint_every=4)
    run_pretraining(config, print_fn=lambda *a: None)
    ckpts = tmp_path / "run" / "checkpoints"
    assert sorted(os.listdir(ckpts))[:2] == ["ckpt-000000004", "ckpt-000000008"]
    _truncate(str(ckpts / "ckpt-000000008" / "variables.npz"))
    logged = []
    metrics = run_pretraining(config, print_fn=logged.append)
    assert metrics["resumed_at"] == 4 and metrics["optimizer_iterations"] == 8
    assert any("ckpt-000000008" in m and "variables.npz" in m for m in logged), logged
    with open(ckpts / "ckpt-000000008" / "state.json") as f:
        assert json.load(f)["step"] == 8
