"""Atomic files and folders shared by every writer in the package (TF-free).

A reader (or a process killed mid-write and rerun) sees the old file or the new one,
never a torn one. New files and folders get the permissions `open()` / `os.mkdir()`
would give them under the process umask: `tempfile` creates 0600 files and 0700
folders, which a TF Serving process running as another user could not read.
An OSError raised while writing names the destination, not the temporary file.
"""

import contextlib
import errno
import json
import os
import shutil
import tempfile


def current_umask():
    """The process umask (read from /proc where possible: `os.umask` can only be read by setting it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def default_mode(directory=False):
    """0666 (files) or 0777 (folders) less the umask: what a plain `open()` / `os.mkdir()` gives."""
    return (0o777 if directory else 0o666) & ~current_umask()


def named_error(error, path):
    """`error` re-raised against `path` (ENOSPC from a write() names no file; mkstemp names its temp)."""
    if isinstance(error, OSError) and error.errno is not None:
        return type(error)(error.errno, error.strerror or os.strerror(error.errno), os.fspath(path))
    return error


def make_temp_dir(parent, prefix):
    """A new hidden folder in `parent` (created if needed) with the umask's permissions."""
    os.makedirs(parent, exist_ok=True)
    path = tempfile.mkdtemp(prefix=prefix, dir=parent)
    os.chmod(path, default_mode(directory=True))
    return path


@contextlib.contextmanager
def _atomic_file(path, suffix=""):
    """Yields a temporary path beside `path`; once the body has written it: umask mode, fsync, rename."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    tmp = None
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-" + os.path.basename(path), suffix=suffix)
        os.close(fd)
        yield tmp
        with open(tmp, "rb+") as f:
            os.fchmod(f.fileno(), default_mode())
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as error:
        raise named_error(error, path) from error
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write_bytes(path, data):
    """Writes `data` to `path` so readers see the old file or the new one, never half."""
    with _atomic_file(path) as tmp, open(tmp, "wb") as f:
        f.write(data)


def atomic_write_text(path, text):
    atomic_write_bytes(path, text.encode("utf-8"))


def save_keras_model(model, path):
    """`model.save(path)` atomically: a temporary `.keras` file beside `path`, synced, then renamed.

    A kill or a full disk leaves the previous file (or none), never a truncated
    zip that `keras.saving.load_model` cannot open. Returns `path`.
    """
    with _atomic_file(path, suffix=".keras") as tmp:
        model.save(tmp)
    return os.fspath(path)


def atomic_replace_dir(tmp_dir, final_dir):
    """Moves a fully written `tmp_dir` into place at `final_dir`, replacing what was there.

    The previous folder is first renamed to a unique hidden name in the same
    parent (never a fixed sibling such as `final_dir.old`, which may be a user's),
    and deleted once the new one is in place.
    """
    os.chmod(tmp_dir, default_mode(directory=True))
    if not os.path.lexists(final_dir):
        os.replace(tmp_dir, final_dir)
        return
    parent = os.path.dirname(os.path.abspath(final_dir))
    prefix = f".old-{os.path.basename(os.path.normpath(final_dir))}-"
    # Renamed onto a placeholder made just now: a name no one else holds.
    if os.path.isdir(final_dir) and not os.path.islink(final_dir):
        old = tempfile.mkdtemp(prefix=prefix, dir=parent)
    else:
        fd, old = tempfile.mkstemp(prefix=prefix, dir=parent)
        os.close(fd)
    os.replace(final_dir, old)
    try:
        os.replace(tmp_dir, final_dir)
    except BaseException:
        os.replace(old, final_dir)
        raise
    if os.path.isdir(old) and not os.path.islink(old):
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.unlink(old)


def publish_dir(tmp_dir, final_dir):
    """Renames a fully written `tmp_dir` to `final_dir` only if no such path exists.

    Raises FileExistsError when `final_dir` is taken, also when another process
    published it after the caller looked: rename(2) does not replace a non-empty
    folder, and a published folder is never empty.
    """
    os.chmod(tmp_dir, default_mode(directory=True))
    if os.path.lexists(final_dir):
        raise FileExistsError(errno.EEXIST, "already exists", os.fspath(final_dir))
    try:
        os.rename(tmp_dir, final_dir)
    except OSError as error:
        if error.errno in (errno.EEXIST, errno.ENOTEMPTY):
            raise FileExistsError(errno.EEXIST, "already exists", os.fspath(final_dir)) from None
        raise


def read_text(path):
    """The UTF-8 text of `path` (a byte-order mark dropped); ValueError naming the file if it is not UTF-8."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        data = f.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None


def read_json(path, what="a JSON object"):
    """The JSON object in `path`; ValueError naming the file (and line) when it does not parse or is not one."""
    try:
        value = json.loads(read_text(path))
    except json.JSONDecodeError as error:
        raise ValueError(f"{os.fspath(path)}:{error.lineno}: not valid JSON ({error.msg}, column {error.colno})") \
            from None
    if not isinstance(value, dict):
        raise ValueError(f"{os.fspath(path)}: expected {what}, got a JSON {type(value).__name__}")
    return value
