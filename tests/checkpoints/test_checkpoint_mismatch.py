"""Checkpoints that do not fit: the error names the variable and what differs."""

import os
import shutil

import pytest

from keras_bert.checkpoints import (CheckpointMismatchError, from_pretrained, load_config,
                                    load_weights, read_tensors)
from keras_bert.checkpoints.export import to_huggingface, write_tf_checkpoint
from keras_bert.models import BertEncoder, BertPretrainer


def _google_copy(tiny_dir, out, change):
    """A copy of the tiny Google folder whose tensors went through `change(dict)`."""
    os.makedirs(out)
    for name in ("bert_config.json", "vocab.txt"):
        shutil.copyfile(os.path.join(tiny_dir, name), os.path.join(out, name))
    _, tensors = read_tensors(tiny_dir)
    change(tensors)
    write_tf_checkpoint(tensors, os.path.join(out, "bert_model.ckpt"))
    return str(out)


def _load_with(config_changes, path):
    config = load_config(path).replace(**config_changes)
    load_weights(BertPretrainer(BertEncoder(config)), path)


def test_different_hidden_size_names_variable_and_both_shapes(tiny_dir):
    with pytest.raises(CheckpointMismatchError) as error:
        _load_with(dict(hidden_size=8, intermediate_size=32), tiny_dir)
    message = str(error.value)
    assert "shape mismatch" in message
    assert "embeddings/token_embeddings: model (15, 8), checkpoint bert/embeddings/word_embeddings (15, 4)" \
        in message
    assert ("transformer_layer_0/attention/qkv/kernel: model (8, 24), checkpoint "
            "bert/encoder/layer_0/attention/self/query/kernel + bert/encoder/layer_0/attention/self/key/kernel"
            " + bert/encoder/layer_0/attention/self/value/kernel (4, 12)") in message


def test_different_vocab_size_names_variable_and_both_shapes(tiny_dir):
    with pytest.raises(CheckpointMismatchError) as error:
        _load_with(dict(vocab_size=20), tiny_dir)
    message = str(error.value)
    assert "embeddings/token_embeddings: model (20, 4), checkpoint bert/embeddings/word_embeddings (15, 4)" \
        in message
    assert "mlm_head/output_bias: model (20,), checkpoint cls/predictions/output_bias (15,)" in message




def test_more_layers_than_checkpoint_names_missing_variables(tiny_dir):
    try:
        _load_with(dict(num_layers=3), tiny_dir)
    except CheckpointMismatchError as error:
        message = str(error)
        assert "bert/encoder/layer_2/attention/output/dense/kernel" in message
        assert "transformer_layer_2" in message
        assert "the model has 3 transformer layers, the checkpoint 2" in message
    else:
        raise AssertionError("a 3-layer model loaded a 2-layer checkpoint without error")


def test_fewer_layers_than_checkpoint_names_unexpected_variables(tiny_dir):
    try:
        _load_with(dict(num_layers=1), tiny_dir)
    except CheckpointMismatchError as error:
        assert "bert/encoder/layer_1/output/dense/kernel" in str(error)
        assert "the model has 1 transformer layers, the checkpoint 2" in str(error)
    else:
        raise AssertionError("a 1-layer model loaded a 2-layer checkpoint without error")


def test_missing_variable_is_named(tiny_dir, tmp_path):
    path = _google_copy(tiny_dir, tmp_path / "missing",
                        lambda t: t.pop("bert/encoder/layer_1/attention/self/key/kernel"))
    with pytest.raises(CheckpointMismatchError) as error:
        from_pretrained(path)
    message = str(error.value)
    assert "missing from the checkpoint" in message
    assert ("bert/encoder/layer_1/attention/self/key/kernel "
            "(for transformer_layer_1/attention/qkv/kernel)") in message


def test_missing_head_variable_is_named_for_a_pretrainer_only(tiny_dir, tmp_path):
    path = _google_copy(tiny_dir, tmp_path / "nohead",
                        lambda t: t.pop("cls/seq_relationship/output_weights"))
    from_pretrained(path)  # an encoder does not need the heads
    with pytest.raises(CheckpointMismatchError, match="cls/seq_relationship/output_weights"):
        load_weights(BertPretrainer(BertEncoder(load_config(path))), path)


def test_unknown_variable_is_reported_as_unexpected(tiny_dir, tmp_path):
    def add(tensors):
        tensors["bert/encoder/layer_0/attention/self/relative_positions/kernel"] = \
            tensors["bert/encoder/layer_0/attention/self/key/kernel"]
    path = _google_copy(tiny_dir, tmp_path / "extra", add)
    with pytest.raises(CheckpointMismatchError) as error:
        from_pretrained(path)
    message = str(error.value)
    assert "unexpected checkpoint variables" in message
    assert "bert/encoder/layer_0/attention/self/relative_positions/kernel" in message
    # Non-strict loading reports it instead.
    model = BertEncoder(load_config(path))
    report = load_weights(model, path, strict=False)
    assert report["unexpected"] == ["bert/encoder/layer_0/attention/self/relative_positions/kernel"]


def test_vocab_file_size_differs_from_config(tiny_dir, tmp_path):
    path = tmp_path / "vocab"
    shutil.copytree(tiny_dir, path)
    tokens = (path / "vocab.txt").read_text(encoding="utf-8").splitlines()
    (path / "vocab.txt").write_text("\n".join(tokens + ["extra"]) + "\n", encoding="utf-8")
    with pytest.raises(CheckpointMismatchError) as error:
        from_pretrained(str(path))
    message = str(error.value)
    assert "vocab.txt has 16 tokens" in message and "vocab_size=15" in message


def test_huggingface_missing_and_mis_shaped_tensors(tiny_pretrainer, tmp_path):
    from safetensors.numpy import load_file, save_file

    out = tmp_path / "hf"
    to_huggingface(tiny_pretrainer, out)
    tensors = load_file(out / "model.safetensors")
    tensors.pop("bert.encoder.layer.0.intermediate.dense.weight")
    tensors["bert.pooler.dense.bias"] = tensors["bert.pooler.dense.bias"][:3]
    save_file(tensors, out / "model.safetensors")
    with pytest.raises(CheckpointMismatchError) as error:
        from_pretrained(str(out))
    message = str(error.value)
    assert "encoder.layer.0.intermediate.dense.weight (for transformer_layer_0/intermediate/kernel)" in message
    assert "pooler/dense/bias: model (4,), checkpoint pooler.dense.bias (3,)" in message
