"""Pretraining callbacks: atomic step checkpoints with resume, TensorBoard scalars, a step limit.

Why not `keras.callbacks.BackupAndRestore`: in Keras 3.15 it writes `model.save_weights(...)`
and its JSON in place (a kill mid-write leaves a torn file; it then falls back to the previous
backup only when loading raises `OSError`), and on resume it restores the epoch number but not
the position inside the epoch, so a mid-epoch resume replays that epoch's first batches.
`StepCheckpoint` writes each checkpoint into a temporary folder and renames it into place,
records the number of batches trained, and `restore_checkpoint` puts back the model variables,
the optimizer's variables (moments, iteration counter, gradient accumulators, loss scale) and
that batch count, from which the caller skips the data already seen.

Layout: `<dir>/ckpt-<batches:09d>/{variables.npz,state.json}` and `<dir>/latest` (the newest
folder's name); the newest `keep` checkpoints are kept. `restore_latest` skips a checkpoint that
does not read (a disk error, a file truncated by hand) and restores the one before, saying why.
`EpochBackup` is the same machinery per epoch, for `model.fit` runs that resume by epoch (fine-tuning).
"""

import json
import os
import re
import shutil
import time
import zipfile
import zlib

import keras
import numpy as np

from keras_bert.utils import atomic_write_text, make_temp_dir, named_error

_CKPT = re.compile(r"^ckpt-(\d+)$")


def _checkpoints(directory):
    if not os.path.isdir(directory):
        return []
    found = [(int(m.group(1)), name) for name in os.listdir(directory) if (m := _CKPT.match(name))
             and os.path.isfile(os.path.join(directory, name, "state.json"))]
    return [name for _, name in sorted(found)]


def latest_checkpoint(directory):
    """The newest complete checkpoint folder in `directory`, or None."""
    names = _checkpoints(directory)
    return os.path.join(directory, names[-1]) if names else None


def _values(variables):
    return [np.asarray(keras.ops.convert_to_numpy(v.value if hasattr(v, "value") else v)) for v in variables]


def write_checkpoint(directory, model, state, keep=2):
    """Writes model + optimizer variables and `state` (a JSON dict with "step") atomically."""
    try:
        tmp = make_temp_dir(directory, prefix=".tmp-ckpt-")
    except OSError as error:
        raise named_error(error, directory) from error
    try:
        arrays = {f"model_{i:05d}": a for i, a in enumerate(_values(model.variables))}
        arrays.update({f"optimizer_{i:05d}": a for i, a in enumerate(_values(model.optimizer.variables))})
        with open(os.path.join(tmp, "variables.npz"), "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        state = dict(state, model_paths=[v.path for v in model.variables],
                     optimizer_paths=[v.path for v in model.optimizer.variables])
        with open(os.path.join(tmp, "state.json"), "w") as f:
            json.dump(state, f)
            f.flush()
            os.fsync(f.fileno())
        final = os.path.join(directory, f"ckpt-{int(state['step']):09d}")
        if os.path.exists(final):
            shutil.rmtree(final)
        os.replace(tmp, final)
    except OSError as error:  # a full disk: name the checkpoint, leave no half-written folder
        shutil.rmtree(tmp, ignore_errors=True)
        raise named_error(error, os.path.join(directory, f"ckpt-{int(state['step']):09d}")) from error
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    atomic_write_text(os.path.join(directory, "latest"), os.path.basename(final) + "\n")
    for name in _checkpoints(directory)[:-keep]:
        shutil.rmtree(os.path.join(directory, name), ignore_errors=True)
    return final


class CorruptCheckpointError(ValueError):
    """A checkpoint file that cannot be read (truncated, torn, bit-flipped); names the file."""


# What numpy / zipfile raise on a truncated or damaged .npz (EOFError for an empty file,
# BadZipFile for a cut or bit-flipped one, zlib.error / KeyError for a damaged member).
_READ_ERRORS = (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, zlib.error)


def _read_state(path):
    state_path = os.path.join(path, "state.json")
    try:
        with open(state_path, encoding="utf-8") as f:
            state = json.load(f)
        if not isinstance(state, dict):
            raise ValueError(f"expected a JSON object, got {type(state).__name__}")  # noqa: TRY004
        for key in ("step", "model_paths", "optimizer_paths"):
            if key not in state:
                raise ValueError(f"no {key!r} entry")
    except (OSError, ValueError) as error:
        raise CorruptCheckpointError(f"{state_path}: unreadable ({error})") from None
    return state


def restore_checkpoint(path, model):
    """Loads a `write_checkpoint` folder into a compiled model; returns its state dict.

    The optimizer is built first if needed. Raises CorruptCheckpointError naming
    the file that does not read, and ValueError naming the first variable whose
    path or shape differs (a checkpoint of another configuration).
    """
    state = _read_state(path)
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    npz = os.path.join(path, "variables.npz")
    try:
        data = np.load(npz)
    except _READ_ERRORS as error:
        raise CorruptCheckpointError(f"{npz}: unreadable ({type(error).__name__}: {error})") from None
    with data:
        for kind, variables in (("model", model.variables), ("optimizer", model.optimizer.variables)):
            paths = state[f"{kind}_paths"]
            if len(paths) != len(variables):
                raise ValueError(f"checkpoint {path} has {len(paths)} {kind} variables, the model has "
                                 f"{len(variables)}: a different configuration?")
            for i, (saved_path, variable) in enumerate(zip(paths, variables)):
                try:
                    value = data[f"{kind}_{i:05d}"]
                except _READ_ERRORS as error:
                    raise CorruptCheckpointError(f"{npz}: array {kind}_{i:05d} ({saved_path}) unreadable "
                                                 f"({type(error).__name__}: {error})") from None
                if tuple(value.shape) != tuple(variable.shape):
                    raise ValueError(f"checkpoint {path}: {kind} variable {saved_path!r} has shape {value.shape}, "
                                     f"the model's {variable.path!r} has {tuple(variable.shape)}")
                variable.assign(value)
    return state


def restore_latest(directory, model, log=print):
    """Restores the newest checkpoint in `directory` that reads; returns `(path, state)`, or `(None, None)`.

    A corrupt checkpoint is skipped with a log line naming the file and the
    problem, and the one before it is restored (every variable is assigned
    again, so a partial read leaves nothing behind). Raises
    CorruptCheckpointError when checkpoints exist but none reads.
    """
    problems = []
    for name in reversed(_checkpoints(directory)):
        path = os.path.join(directory, name)
        try:
            return path, restore_checkpoint(path, model)
        except CorruptCheckpointError as error:
            log(f"Skipping checkpoint {path}: {error}; trying the one before.")
            problems.append(str(error))
    if problems:
        raise CorruptCheckpointError(f"no readable checkpoint in {directory} ({'; '.join(problems)}); move the "
                                     "folder away to start over")
    return None, None


def remove_stale_temporaries(directory):
    """Deletes half-written checkpoint folders left by a killed process."""
    if os.path.isdir(directory):
        for name in os.listdir(directory):
            if name.startswith(".tmp-ckpt-"):
                shutil.rmtree(os.path.join(directory, name), ignore_errors=True)


class StepCheckpoint(keras.callbacks.Callback):
    """Checkpoints every `every` batches (and at the end) with `write_checkpoint`.

    `start_step`: batches already trained before this `fit` (from a restored
    checkpoint). `write=False` (non-chief workers) counts without writing.
    """

    def __init__(self, directory, every, start_step=0, keep=2, write=True, extra_state=None):
        super().__init__()
        if int(every) < 1:
            raise ValueError(f"checkpoint_every must be >= 1, got {every}")
        self.directory = directory
        self.every = int(every)
        self.step = int(start_step)
        self.keep = keep
        self.write = write
        self.extra_state = dict(extra_state or {})
        self.last_written = None

    def _save(self):
        if self.write and self.last_written != self.step:
            write_checkpoint(self.directory, self.model,
                             dict(self.extra_state, step=self.step,
                                  optimizer_iterations=int(keras.ops.convert_to_numpy(
                                      self.model.optimizer.iterations))), self.keep)
        self.last_written = self.step

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step % self.every == 0:
            self._save()

    def on_train_end(self, logs=None):
        self._save()


class EpochBackup(keras.callbacks.Callback):
    """`keras.callbacks.BackupAndRestore`, written atomically: resumes an interrupted `fit` by epoch.

    After each epoch, the model and optimizer variables go to `directory` with
    `write_checkpoint` (the newest two kept). On `fit`'s start, the newest
    readable one is restored (`restore_latest` falls back past a corrupt one)
    and the run continues from the epoch after it, saying so with `log`. The
    folder is deleted when training ends. Keras' own callback rewrites
    `latest.weights.h5` in place: a kill mid-write left it empty and every rerun
    then failed.
    """

    def __init__(self, directory, log=print, keep=2):
        super().__init__()
        self.directory = directory
        self.log = log
        self.keep = keep

    def on_train_begin(self, logs=None):
        remove_stale_temporaries(self.directory)
        path, state = restore_latest(self.directory, self.model, self.log)
        if path is not None:
            epoch = int(state["epoch"])
            self.model._initial_epoch = epoch  # what BackupAndRestore sets; fit starts from it
            total = (self.params or {}).get("epochs")
            self.log(f"Resuming from {path}: {epoch} of {total} epochs done.")

    def on_epoch_end(self, epoch, logs=None):
        write_checkpoint(self.directory, self.model, {"step": epoch + 1, "epoch": epoch + 1}, self.keep)

    def on_train_end(self, logs=None):
        self.model._initial_epoch = None
        shutil.rmtree(self.directory, ignore_errors=True)


class StopAtStep(keras.callbacks.Callback):
    """Stops `fit` once `total` batches have been trained in all (counting `start_step`)."""

    def __init__(self, total, start_step=0):
        super().__init__()
        self.total = int(total)
        self.step = int(start_step)

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step >= self.total:
            self.model.stop_training = True


class ScalarLogger(keras.callbacks.Callback):
    """TensorBoard scalars every `every` batches: losses, accuracies, learning rate, sequences/s.

    Values are means over the last `every` batches (Keras reports running means
    since the epoch began; the window mean is recovered from two of them, exact
    for the losses, weighted by batch rather than by prediction count for the
    MLM accuracy). Epoch-end values (validation included) go under `epoch/`.
    The x axis is the number of batches trained (continuing across resumes).
    """

    def __init__(self, log_dir, every=10, batch_size=None, start_step=0, write=True):
        super().__init__()
        self.log_dir = log_dir
        self.every = max(int(every), 1)
        self.batch_size = batch_size
        self.step = int(start_step)
        self.write = write
        self._writer = None

    def _summary(self, values, prefix):
        if not self.write:
            return
        import tensorflow as tf

        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.log_dir)
        with self._writer.as_default(step=self.step):
            for key, value in values.items():
                tf.summary.scalar(prefix + key, float(value))
        self._writer.flush()

    def _learning_rate(self):
        return float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

    def on_epoch_begin(self, epoch, logs=None):
        self._seen, self._prev, self._time = 0, {}, time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        self._seen += 1
        if self.step % self.every:
            return
        now = time.perf_counter()
        n = self._seen - self._prev.get("_seen", 0)
        values = {}
        for key, value in (logs or {}).items():
            mean = float(value)
            values[key] = (mean * self._seen - self._prev.get(key, 0.0) * self._prev.get("_seen", 0)) / n
        self._prev = {**{k: float(v) for k, v in (logs or {}).items()}, "_seen": self._seen}
        values["learning_rate"] = self._learning_rate()
        if self.batch_size:
            values["sequences_per_second"] = n * self.batch_size / max(now - self._time, 1e-9)
        self._time = now
        self._summary(values, "train/")

    def on_epoch_end(self, epoch, logs=None):
        self._summary(dict(logs or {}), "epoch/")

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()


def read_scalars(log_dir):
    """{tag: [(step, value), ...]} from the TensorBoard event files in `log_dir` (sorted by step)."""
    import glob

    import tensorflow as tf

    out = {}
    for path in sorted(glob.glob(os.path.join(log_dir, "events.out.tfevents.*"))):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                scalar = float(tf.make_ndarray(value.tensor)) if value.HasField("tensor") else value.simple_value
                out.setdefault(value.tag, {})[event.step] = scalar  # a resumed run rewrites later steps
    return {tag: sorted(points.items()) for tag, points in out.items()}
