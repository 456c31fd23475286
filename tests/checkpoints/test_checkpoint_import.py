"""Import parity: real checkpoints reproduce outputs computed by Hugging Face transformers."""

import numpy as np

from checkpoint_test_utils import encoder_inputs, pretrainer_inputs, run
from keras_bert.checkpoints import detect_format, from_pretrained, load_config, read_tensors


def test_tiny_google_checkpoint_is_detected_with_tanh_gelu(tiny_dir):
    assert detect_format(tiny_dir) == "google"
    config = load_config(tiny_dir)
    # Google's "gelu" is the tanh approximation.
    assert config.hidden_act == "gelu_tanh"
    assert (config.vocab_size, config.hidden_size, config.num_layers, config.num_heads) == (15, 4, 2, 4)


def test_tiny_google_encoder_matches_reference(tiny_dir, tiny_reference):
    encoder = from_pretrained(tiny_dir)
    out = run(encoder, encoder_inputs(tiny_reference))
    # Every position, padded ones included (their keys are masked in both implementations).
    np.testing.assert_allclose(out["sequence_output"], tiny_reference["sequence_output"], atol=1e-5, rtol=0)
    np.testing.assert_allclose(out["pooled_output"], tiny_reference["pooled_output"], atol=1e-5, rtol=0)


def test_tiny_google_pretrainer_matches_reference(tiny_pretrainer, tiny_reference):
    out = run(tiny_pretrainer, pretrainer_inputs(tiny_reference))
    assert out["mlm"].shape == tiny_reference["mlm_logits"].shape == (2, 8, 15)
    np.testing.assert_allclose(out["mlm"], tiny_reference["mlm_logits"], atol=1e-5, rtol=0)
    np.testing.assert_allclose(out["nsp"], tiny_reference["nsp_logits"], atol=1e-5, rtol=0)


def test_tiny_google_optimizer_slots_and_step_are_skipped(tiny_dir, tiny_pretrainer):
    from keras_bert.checkpoints import load_weights

    _, tensors = read_tensors(tiny_dir)
    slots = [n for n in tensors if n.endswith(("/adam_m", "/adam_v"))]
    assert "global_step" in tensors and len(slots) == 2 * 46
    report = load_weights(tiny_pretrainer, tiny_dir)  # strict: would raise on unexpected names
    assert report["unexpected"] == []
    assert len(report["loaded"]) == len(tiny_pretrainer.weights) == 38  # fused QKV: 46 tensors -> 38
    assert not any("adam" in n or n == "global_step" for n in report["loaded"] + report["skipped"])


def test_minilm_matches_reference(minilm_dir, minilm_encoder, minilm_reference):
    assert detect_format(minilm_dir) == "huggingface"
    assert minilm_encoder.config.hidden_act == "gelu"  # config.json says "gelu": exact erf
    out = run(minilm_encoder, encoder_inputs(minilm_reference))
    real = minilm_reference["attention_mask"].astype(bool)
    np.testing.assert_allclose(out["sequence_output"][real], minilm_reference["last_hidden_state"][real],
                               atol=1e-4, rtol=0)
    np.testing.assert_allclose(out["pooled_output"], minilm_reference["pooler_output"], atol=1e-4, rtol=0)
    # What sentence-transformers returns: masked mean, L2-normalised.
    weights = real[..., None].astype("float32")
    mean = (out["sequence_output"] * weights).sum(1) / weights.sum(1)
    embedding = mean / np.linalg.norm(mean, axis=-1, keepdims=True)
    np.testing.assert_allclose(embedding, minilm_reference["sentence_embedding"], atol=1e-5, rtol=0)
