"""keras_bert.utils: atomic writes that respect the umask, name the destination on failure, and leave
no temporary behind; folder replacement that never touches a sibling; no-replace publishing."""

import errno
import os
import stat

import pytest

from keras_bert import utils


@pytest.fixture
def umask():
    old = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(old)


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002])
def test_files_and_folders_get_the_umask_permissions(tmp_path, umask, mask):
    umask(mask)
    assert utils.current_umask() == mask
    utils.atomic_write_text(tmp_path / "metrics.json", "{}\n")
    assert _mode(tmp_path / "metrics.json") == 0o666 & ~mask  # mkstemp alone gives 0600
    tmp = utils.make_temp_dir(str(tmp_path), ".tmp-")
    open(os.path.join(tmp, "f"), "w").close()
    utils.atomic_replace_dir(tmp, str(tmp_path / "folder"))
    assert _mode(tmp_path / "folder") == 0o777 & ~mask  # mkdtemp alone gives 0700
    import tempfile
    raw = tempfile.mkdtemp(dir=tmp_path)
    utils.publish_dir(raw, str(tmp_path / "7"))
    assert _mode(tmp_path / "7") == 0o777 & ~mask


def test_replacing_a_folder_never_touches_a_sibling_named_old(tmp_path):
    final = tmp_path / "records"
    final.mkdir()
    (final / "a.tfrecord").write_text("old")
    sibling = tmp_path / "records.old"
    sibling.mkdir()
    (sibling / "notes.txt").write_text("the user's")
    tmp = utils.make_temp_dir(str(tmp_path), ".tmp-")
    with open(os.path.join(tmp, "b.tfrecord"), "w") as f:
        f.write("new")
    utils.atomic_replace_dir(tmp, str(final))
    assert sorted(os.listdir(final)) == ["b.tfrecord"]
    assert (sibling / "notes.txt").read_text() == "the user's"
    assert sorted(os.listdir(tmp_path)) == ["records", "records.old"]  # no placeholder left


def test_a_failed_write_names_the_destination_and_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "metrics.json"
    path.write_text("old\n")

    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left on device") as info:
        utils.atomic_write_text(path, "new\n")
    assert info.value.filename == str(path) and info.value.errno == errno.ENOSPC
    assert path.read_text() == "old\n" and os.listdir(tmp_path) == ["metrics.json"]


def test_save_keras_model_is_atomic(tmp_path):
    class Model:
        def __init__(self, fail):
            self.fail = fail

        def save(self, path):
            with open(path, "wb") as f:
                f.write(b"PK" + b"x" * 1000)
                if self.fail:
                    raise KeyboardInterrupt  # a kill mid-write

    path = tmp_path / "model.keras"
    assert utils.save_keras_model(Model(False), path) == os.fspath(path)
    before = path.read_bytes()
    with pytest.raises(KeyboardInterrupt):
        utils.save_keras_model(Model(True), path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.keras"]


def test_publish_dir_never_replaces(tmp_path, monkeypatch):
    import tempfile

    (tmp_path / "1").mkdir()
    (tmp_path / "1" / "saved_model.pb").write_text("first")
    tmp = tempfile.mkdtemp(dir=tmp_path)
    open(os.path.join(tmp, "saved_model.pb"), "w").close()
    with pytest.raises(FileExistsError):
        utils.publish_dir(tmp, str(tmp_path / "1"))
    assert (tmp_path / "1" / "saved_model.pb").read_text() == "first"
    # The race the existence check cannot see: rename(2) still refuses a non-empty folder.
    monkeypatch.setattr(os.path, "lexists", lambda p: False)
    with pytest.raises(FileExistsError):
        utils.publish_dir(tmp, str(tmp_path / "1"))
    assert (tmp_path / "1" / "saved_model.pb").read_text() == "first"
