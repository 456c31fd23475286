"""Export versions are allocated atomically (a concurrent export never replaces another's version) and
readable under the umask; ids outside the vocabulary are refused in the Python API and in predict_ids."""

import os
import shutil
import stat

import numpy as np
import pytest
import tensorflow as tf


def _racing_save(monkeypatch, root, version):
    """tf.saved_model.save that, once done, lets 'another exporter' publish `version` first."""
    original = tf.saved_model.save

    def save(module, path, signatures=None):
        original(module, path, signatures=signatures)
        other = os.path.join(root, str(version))
        shutil.copytree(path, other)
        with open(os.path.join(other, "other-exporter.txt"), "w") as f:
            f.write("mine")
        monkeypatch.setattr(tf.saved_model, "save", original)

    monkeypatch.setattr(tf.saved_model, "save", save)


def test_concurrent_exports_get_distinct_versions_readable_under_the_umask(tmp_path, embedder, tokenizer,
                                                                          monkeypatch):
    from keras_bert.export import export

    root = str(tmp_path / "m")
    _racing_save(monkeypatch, root, 1)  # we pick 1, another exporter publishes 1 while we save
    old = os.umask(0o027)
    try:
        version_dir = export(embedder, tokenizer, root)
    finally:
        os.umask(old)
    assert version_dir.endswith(os.sep + "2")
    assert (tmp_path / "m" / "1" / "other-exporter.txt").read_text() == "mine"  # not replaced
    assert sorted(os.listdir(root)) == ["1", "2"]  # no temporary left
    assert stat.S_IMODE(os.stat(version_dir).st_mode) == 0o750  # tempfile.mkdtemp alone gives 0700
    for folder, _, files in os.walk(version_dir):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o750, folder
        for name in files:
            assert stat.S_IMODE(os.stat(os.path.join(folder, name)).st_mode) == 0o640, name

    _racing_save(monkeypatch, root, 9)  # an explicit version taken meanwhile: refused, not replaced
    with pytest.raises(FileExistsError, match="9 already exists; versions are immutable"):
        export(embedder, tokenizer, root, version=9)
    assert (tmp_path / "m" / "9" / "other-exporter.txt").read_text() == "mine"
    assert sorted(os.listdir(root)) == ["1", "2", "9"]


def _inputs(token_ids, segment_ids=None):
    token_ids = np.asarray(token_ids, "int32")
    return {"token_ids": token_ids,
            "segment_ids": np.zeros_like(token_ids) if segment_ids is None else np.asarray(segment_ids, "int32"),
            "padding_mask": np.ones_like(token_ids)}


def test_ids_outside_the_tables_are_refused_in_python(classifier):
    bad = _inputs([[101, 2000, 102], [101, -1, 102]])
    for call in (classifier.encoder, classifier, classifier.predict_on_batch,
                 lambda x: classifier.predict(x, verbose=0)):
        with pytest.raises(ValueError, match=r"token_ids must be in \[0, 30522\); token_ids\[1, 1\] is -1"):
            call(bad)
    with pytest.raises(ValueError, match=r"token_ids\[0, 0\] is 30522"):
        classifier(_inputs([[30522]]))
    with pytest.raises(ValueError, match=r"segment_ids must be in \[0, 2\); segment_ids\[0, 1\] is 2"):
        classifier(_inputs([[101, 5]], [[0, 2]]))
    assert classifier(_inputs([[101, 30521, 102]])).shape == (1, 3)


def test_predict_ids_signature_checks_ids(sentiment_export):
    loaded = tf.saved_model.load(os.path.join(sentiment_export, "1"))
    predict_ids = loaded.signatures["predict_ids"]

    def call(inputs):
        return predict_ids(**{k: tf.constant(v) for k, v in inputs.items()})

    assert call(_inputs([[101, 2000, 102]]))["label_ids"].shape == (1,)
    for inputs, message in [(_inputs([[101, -1, 102]]), r"token_ids must be in \[0, 30522\)"),
                            (_inputs([[101, 30522, 102]]), r"token_ids must be in \[0, 30522\)"),
                            (_inputs([[101, 5]], [[0, -1]]), r"segment_ids must be in \[0, 2\)"),
                            (_inputs([[7] * 65]), "max_position_embeddings 64"),
                            ({**_inputs([[1, 2, 3]]), "segment_ids": np.zeros((1, 2), "int32")},
                             "segment_ids must have the shape of token_ids")]:
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            call(inputs)
