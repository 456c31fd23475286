"""Google TF1 export and keras_bert's own folder: round trips, names, atomic writes."""

import json
import os

import numpy as np
import pytest

from checkpoint_test_utils import encoder_inputs, pretrainer_inputs, run
from keras_bert.checkpoints import export as export_module
from keras_bert.checkpoints import (detect_format, from_pretrained, load_config, load_weights,
                                    read_tensors)
from keras_bert.checkpoints.cli_commands import load_model
from keras_bert.checkpoints.export import save_keras, to_google, to_huggingface
from keras_bert.config import BertConfig
from keras_bert.models import BertEncoder, BertPretrainer


def _variables(prefix):
    import tensorflow as tf

    reader = tf.train.load_checkpoint(prefix)
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


@pytest.fixture(scope="module")
def tiny_google(tmp_path_factory, tiny_pretrainer, tiny_dir):
    out = tmp_path_factory.mktemp("google") / "bert"
    report = to_google(tiny_pretrainer, out, vocab_file=os.path.join(tiny_dir, "vocab.txt"))
    return out, report


def test_google_export_files_and_config(tiny_google, tiny_dir):
    out, report = tiny_google
    assert sorted(os.listdir(out)) == ["bert_config.json", "bert_model.ckpt.data-00000-of-00001",
                                       "bert_model.ckpt.index", "vocab.txt"]
    assert detect_format(str(out)) == "google"
    written = json.loads((out / "bert_config.json").read_text())
    with open(os.path.join(tiny_dir, "bert_config.json")) as f:
        original = json.load(f)
    for key, value in written.items():
        assert original[key] == value, key
    assert load_config(str(out)) == load_config(tiny_dir)
    assert report["tensors"] == 46 and report["not_exported"] == []


def test_google_export_names_shapes_values_identical_to_googles(tiny_google, tiny_dir):
    out, _ = tiny_google
    ours = _variables(str(out / "bert_model.ckpt"))
    google = {n: v for n, v in _variables(os.path.join(tiny_dir, "bert_model.ckpt")).items()
              if not n.endswith(("/adam_m", "/adam_v")) and n != "global_step"}
    assert sorted(ours) == sorted(google)
    for name, value in google.items():
        assert ours[name].dtype == value.dtype == np.float32, name
        np.testing.assert_array_equal(ours[name], value, err_msg=name)


def test_google_export_round_trips_through_our_reader(tiny_google, tiny_pretrainer, tiny_reference):
    out, _ = tiny_google
    model = BertPretrainer(BertEncoder(load_config(str(out))))
    report = load_weights(model, str(out))
    assert report["unexpected"] == [] and len(report["loaded"]) == 38
    inputs = pretrainer_inputs(tiny_reference)
    a, b = run(model, inputs), run(tiny_pretrainer, inputs)
    np.testing.assert_array_equal(a["mlm"], b["mlm"])
    np.testing.assert_array_equal(a["nsp"], b["nsp"])
    np.testing.assert_allclose(a["mlm"], tiny_reference["mlm_logits"], atol=1e-5, rtol=0)


def test_encoder_google_export_has_no_heads(tmp_path, tiny_pretrainer):
    report = to_google(tiny_pretrainer.encoder, tmp_path / "enc")
    names = set(read_tensors(str(tmp_path / "enc"))[1])
    assert report["has_heads"] is False and len(names) == 39
    assert all(n.startswith("bert/") for n in names)
    assert not os.path.exists(tmp_path / "enc" / "vocab.txt")


def test_exact_gelu_model_warns_and_keeps_exact_gelu_on_record(tmp_path):
    config = BertConfig(vocab_size=20, hidden_size=8, num_layers=1, num_heads=2, intermediate_size=16,
                        max_position_embeddings=8, hidden_act="gelu")
    with pytest.warns(UserWarning, match="exact"):
        to_google(BertEncoder(config), tmp_path / "g")
    written = json.loads((tmp_path / "g" / "bert_config.json").read_text())
    assert written["hidden_act"] == "gelu" and written["keras_bert_hidden_act"] == "gelu"


def test_exact_gelu_survives_a_google_round_trip(tmp_path):
    config = BertConfig(vocab_size=20, hidden_size=8, num_layers=1, num_heads=2, intermediate_size=16,
                        max_position_embeddings=8, hidden_act="gelu")
    with pytest.warns(UserWarning, match="exact"):
        to_google(BertEncoder(config), tmp_path / "g")
    assert load_config(str(tmp_path / "g")) == config


def test_unexportable_configs_are_refused(tmp_path):
    small = dict(vocab_size=20, hidden_size=8, num_layers=1, num_heads=2, intermediate_size=16,
                 max_position_embeddings=8)
    with pytest.raises(ValueError, match="silu"):
        to_google(BertEncoder(BertConfig(hidden_act="silu", **small)), tmp_path / "a")
    sinusoidal = BertEncoder(BertConfig(position_embedding_type="sinusoidal", **small))
    with pytest.raises(ValueError, match="sinusoidal"):
        to_google(sinusoidal, tmp_path / "b")
    with pytest.raises(ValueError, match="sinusoidal"):
        to_huggingface(sinusoidal, tmp_path / "c")
    assert sorted(os.listdir(tmp_path)) == []  # nothing half-written


def test_export_finds_the_encoder_inside_a_task_model(tmp_path, tiny_pretrainer, tiny_reference):
    import keras

    encoder = tiny_pretrainer.encoder
    inputs = {k: keras.Input(shape=(None,), dtype="int32", name=k) for k in encoder.input}
    logits = keras.layers.Dense(3, name="classifier")(encoder(inputs)["pooled_output"])
    task = keras.Model(inputs, logits)
    report = to_google(task, tmp_path / "task")
    assert report["not_exported"] == ["classifier/bias", "classifier/kernel"]
    again = from_pretrained(str(tmp_path / "task"))
    feed = encoder_inputs(tiny_reference)
    np.testing.assert_array_equal(run(again, feed)["pooled_output"], run(encoder, feed)["pooled_output"])


def test_vocab_size_mismatch_is_refused_before_writing(tmp_path, tiny_pretrainer):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("".join(f"tok{i}\n" for i in range(16)))
    for writer in (to_google, to_huggingface, save_keras):
        with pytest.raises(ValueError, match="16 tokens.*vocab_size=15"):
            writer(tiny_pretrainer, tmp_path / "out", vocab_file=str(vocab))
    assert not os.path.exists(tmp_path / "out")


def test_writes_are_atomic_and_do_not_clobber_foreign_folders(tmp_path, tiny_pretrainer, monkeypatch):
    out = tmp_path / "ckpt"
    to_google(tiny_pretrainer, out)
    before = {f: (out / f).read_bytes() for f in os.listdir(out)}

    # A failure while writing leaves the previous checkpoint untouched and no temporary folder.
    def boom(tensors, prefix):
        open(prefix + ".index", "wb").close()
        raise RuntimeError("disk full")
    monkeypatch.setattr(export_module, "write_tf_checkpoint", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        to_google(tiny_pretrainer, out)
    monkeypatch.undo()
    assert {f: (out / f).read_bytes() for f in os.listdir(out)} == before
    assert sorted(os.listdir(tmp_path)) == ["ckpt"]

    # Re-exporting over a checkpoint folder replaces it.
    to_google(tiny_pretrainer.encoder, out)
    assert "cls/predictions/output_bias" not in read_tensors(str(out))[1]

    # A folder with other files in it is not replaced unless asked.
    (out / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="notes.txt"):
        to_huggingface(tiny_pretrainer, out)
    assert (out / "notes.txt").read_text() == "mine"
    to_huggingface(tiny_pretrainer, out, overwrite=True)
    assert sorted(os.listdir(out)) == ["config.json", "model.safetensors"]


def test_save_keras_round_trip(tmp_path, tiny_pretrainer, tiny_dir, tiny_reference):
    out = tmp_path / "keras"
    report = save_keras(tiny_pretrainer, out, os.path.join(tiny_dir, "vocab.txt"))
    assert sorted(os.listdir(out)) == ["keras_bert_config.json", "model.keras", "vocab.txt"]
    assert [os.path.basename(f) for f in report["files"]] == sorted(os.listdir(out))
    assert detect_format(str(out)) == "keras"
    assert BertConfig.from_json(str(out / "keras_bert_config.json")) == tiny_pretrainer.encoder.config
    again, fmt, _ = load_model(str(out))
    assert fmt == "keras" and isinstance(again, BertPretrainer)
    inputs = pretrainer_inputs(tiny_reference)
    a, b = run(again, inputs), run(tiny_pretrainer, inputs)
    np.testing.assert_array_equal(a["mlm"], b["mlm"])
    np.testing.assert_array_equal(a["nsp"], b["nsp"])
    # The MLM output projection is still tied to the token table after reload.
    assert again.mlm_head.token_embedding is again.encoder.embeddings
