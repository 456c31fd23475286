"""Hugging Face export round trip: what we write, transformers (PyTorch) loads and reproduces.

transformers and torch are test-only dependencies; the module is skipped without them.
"""

import json
import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from checkpoint_test_utils import encoder_inputs, pretrainer_inputs, run  # noqa: E402
from keras_bert.checkpoints import from_pretrained, load_weights  # noqa: E402
from keras_bert.checkpoints.export import to_huggingface  # noqa: E402


def _torch_inputs(inputs):
    return {"input_ids": torch.tensor(inputs["token_ids"], dtype=torch.long),
            "token_type_ids": torch.tensor(inputs["segment_ids"], dtype=torch.long),
            "attention_mask": torch.tensor(inputs["padding_mask"], dtype=torch.long)}


def _load(cls, path):
    model, info = cls.from_pretrained(path, output_loading_info=True)
    model.eval()
    # Nothing "newly initialized", nothing left over.
    assert not info["missing_keys"], info
    assert not info["unexpected_keys"], info
    assert not info["mismatched_keys"], info
    return model


@pytest.fixture(scope="module")
def minilm_hf(tmp_path_factory, minilm_encoder, minilm_dir):
    out = tmp_path_factory.mktemp("minilm") / "hf"
    report = to_huggingface(minilm_encoder, out, vocab_file=os.path.join(minilm_dir, "vocab.txt"))
    return out, report


@pytest.fixture(scope="module")
def tiny_hf(tmp_path_factory, tiny_pretrainer, tiny_dir):
    out = tmp_path_factory.mktemp("tiny") / "hf"
    report = to_huggingface(tiny_pretrainer, out, vocab_file=os.path.join(tiny_dir, "vocab.txt"))
    return out, report


def test_encoder_export_is_bert_model_layout(minilm_hf):
    from safetensors.numpy import load_file

    out, report = minilm_hf
    assert sorted(os.listdir(out)) == ["config.json", "model.safetensors", "vocab.txt"]
    assert report["has_heads"] is False and report["not_exported"] == []
    config = json.loads((out / "config.json").read_text())
    assert config["architectures"] == ["BertModel"]
    assert config["hidden_act"] == "gelu"  # MiniLM: exact GELU stays exact
    names = set(load_file(out / "model.safetensors"))
    assert "encoder.layer.5.attention.self.value.weight" in names
    assert not any(n.startswith(("bert.", "cls.")) for n in names)
    # Only the encoder's temporary folder was used; nothing is left next to it.
    assert sorted(os.listdir(out.parent)) == ["hf"]


def test_minilm_export_loads_in_transformers_with_same_outputs(minilm_hf, minilm_encoder, minilm_reference):
    out, _ = minilm_hf
    model = _load(transformers.BertModel, out)
    inputs = encoder_inputs(minilm_reference)
    with torch.no_grad():
        theirs = model(**_torch_inputs(inputs))
    ours = run(minilm_encoder, inputs)
    real = inputs["padding_mask"].astype(bool)
    np.testing.assert_allclose(theirs.last_hidden_state.numpy()[real], ours["sequence_output"][real],
                               atol=1e-5, rtol=0)
    np.testing.assert_allclose(theirs.pooler_output.numpy(), ours["pooled_output"], atol=1e-5, rtol=0)


def test_minilm_export_reads_back_identically(minilm_hf, minilm_encoder):
    out, _ = minilm_hf
    again = from_pretrained(str(out))
    assert again.config == minilm_encoder.config
    for a, b in zip(minilm_encoder.weights, again.weights):
        assert a.path == b.path
        np.testing.assert_array_equal(np.asarray(a.value), np.asarray(b.value))


def test_pretrainer_export_is_bert_for_pretraining_layout(tiny_hf):
    from safetensors.numpy import load_file

    out, report = tiny_hf
    assert report["has_heads"] is True
    config = json.loads((out / "config.json").read_text())
    assert config["architectures"] == ["BertForPreTraining"]
    assert config["hidden_act"] == "gelu_pytorch_tanh"  # Google's tanh GELU
    assert config["tie_word_embeddings"] is True
    names = set(load_file(out / "model.safetensors"))
    assert {"bert.embeddings.word_embeddings.weight", "cls.predictions.bias",
            "cls.predictions.transform.dense.weight", "cls.seq_relationship.weight"} <= names
    # The decoder is tied to the word embeddings, as transformers' save_pretrained leaves it.
    assert "cls.predictions.decoder.weight" not in names
    assert len(names) == 46


def test_pretrainer_export_loads_in_transformers_with_same_outputs(tiny_hf, tiny_pretrainer, tiny_reference):
    out, _ = tiny_hf
    model = _load(transformers.BertForPreTraining, out)
    # The tie holds in the loaded model.
    assert model.cls.predictions.decoder.weight.data_ptr() == \
        model.bert.embeddings.word_embeddings.weight.data_ptr()
    inputs = pretrainer_inputs(tiny_reference)
    with torch.no_grad():
        theirs = model(**_torch_inputs(inputs))
        base = model.bert(**_torch_inputs(inputs))
    ours = run(tiny_pretrainer, inputs)
    np.testing.assert_allclose(theirs.prediction_logits.numpy(), ours["mlm"], atol=1e-5, rtol=0)
    np.testing.assert_allclose(theirs.seq_relationship_logits.numpy(), ours["nsp"], atol=1e-5, rtol=0)
    encoded = run(tiny_pretrainer.encoder, encoder_inputs(tiny_reference))
    np.testing.assert_allclose(base.last_hidden_state.numpy(), encoded["sequence_output"], atol=1e-5, rtol=0)
    np.testing.assert_allclose(base.pooler_output.numpy(), encoded["pooled_output"], atol=1e-5, rtol=0)
    # And transformers agrees with the reference it computed from the original TF1 files.
    np.testing.assert_allclose(theirs.prediction_logits.numpy(), tiny_reference["mlm_logits"], atol=1e-5, rtol=0)


def test_bert_model_loads_the_pretraining_export(tiny_hf):
    # A BertForPreTraining folder also serves BertModel (the heads are dropped, "bert." stripped).
    out, _ = tiny_hf
    model = transformers.BertModel.from_pretrained(out)
    assert model.config.num_hidden_layers == 2


def test_pretrainer_export_reads_back_into_our_pretrainer(tiny_hf, tiny_pretrainer, tiny_reference):
    from keras_bert.models import BertEncoder, BertPretrainer

    out, _ = tiny_hf
    model = BertPretrainer(BertEncoder(tiny_pretrainer.encoder.config))
    load_weights(model, str(out))
    inputs = pretrainer_inputs(tiny_reference)
    a, b = run(model, inputs), run(tiny_pretrainer, inputs)
    for key in ("mlm", "nsp"):
        np.testing.assert_array_equal(a[key], b[key])
