"""`keras-bert convert`: Google -> keras -> Hugging Face (-> Google) end to end, same outputs."""

import os

import numpy as np
import pytest

from checkpoint_test_utils import pretrainer_inputs, run
from keras_bert.checkpoints import detect_format, from_pretrained
from keras_bert.checkpoints.cli_commands import load_model
from keras_bert.cli import main
from keras_bert.models import BertEncoder, BertPretrainer


def test_convert_google_to_keras_to_huggingface_to_google(tmp_path, tiny_dir, tiny_reference, capsys):
    keras_dir, hf_dir, google_dir = tmp_path / "keras", tmp_path / "hf", tmp_path / "google"

    assert main(["convert", tiny_dir, str(keras_dir)]) == 0  # default: --to keras
    printed = capsys.readouterr().out
    assert "(google, BertPretrainer)" in printed and "model.keras" in printed
    assert sorted(os.listdir(keras_dir)) == ["keras_bert_config.json", "model.keras", "vocab.txt"]

    assert main(["convert", str(keras_dir), str(hf_dir), "--to", "huggingface"]) == 0
    printed = capsys.readouterr().out
    assert "(keras, BertPretrainer)" in printed and "model.safetensors" in printed
    assert detect_format(str(hf_dir)) == "huggingface"

    assert main(["convert", str(hf_dir), str(google_dir), "--to", "google"]) == 0
    assert sorted(os.listdir(google_dir)) == ["bert_config.json", "bert_model.ckpt.data-00000-of-00001",
                                              "bert_model.ckpt.index", "vocab.txt"]
    with open(os.path.join(tiny_dir, "vocab.txt"), "rb") as f:
        assert (google_dir / "vocab.txt").read_bytes() == f.read()

    inputs = pretrainer_inputs(tiny_reference)
    outputs = {}
    for name, path in [("original", tiny_dir), ("keras", keras_dir), ("hf", hf_dir), ("google", google_dir)]:
        model, _, _ = load_model(str(path))
        assert isinstance(model, BertPretrainer), name
        outputs[name] = run(model, inputs)
        encoder_out = run(from_pretrained(str(path)) if name != "keras" else model.encoder,
                          {k: v for k, v in inputs.items() if k != "mask_positions"})
        np.testing.assert_allclose(encoder_out["pooled_output"], tiny_reference["pooled_output"],
                                   atol=1e-5, rtol=0)
    for name in ("keras", "hf", "google"):
        for key in ("mlm", "nsp"):
            np.testing.assert_array_equal(outputs[name][key], outputs["original"][key], err_msg=name)
    np.testing.assert_allclose(outputs["hf"]["mlm"], tiny_reference["mlm_logits"], atol=1e-5, rtol=0)


def test_convert_encoder_only_checkpoint(tmp_path, minilm_dir, minilm_encoder, capsys):
    out = tmp_path / "minilm-google"
    with pytest.warns(UserWarning, match="exact"):
        assert main(["convert", minilm_dir, str(out), "--to", "google"]) == 0
    assert "(huggingface, BertEncoder)" in capsys.readouterr().out
    model, fmt, _ = load_model(str(out))
    assert fmt == "google" and isinstance(model, BertEncoder)
    for a, b in zip(model.weights, minilm_encoder.weights):
        np.testing.assert_array_equal(np.asarray(a.value), np.asarray(b.value))


def test_convert_errors_exit_with_a_message(tmp_path, tiny_dir, capsys):
    assert main(["convert", str(tmp_path / "nowhere"), str(tmp_path / "out")]) == 1
    assert "No checkpoint at" in capsys.readouterr().err

    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("mine")
    assert main(["convert", tiny_dir, str(occupied), "--to", "huggingface"]) == 1
    err = capsys.readouterr().err
    assert "holds other files (['notes.txt'])" in err and "--overwrite" in err
    assert (occupied / "notes.txt").read_text() == "mine"
    assert main(["convert", tiny_dir, str(occupied), "--to", "huggingface", "--overwrite"]) == 0
    assert not (occupied / "notes.txt").exists()

    bad_vocab = tmp_path / "vocab.txt"
    bad_vocab.write_text("[PAD]\n[UNK]\n")
    assert main(["convert", tiny_dir, str(tmp_path / "v"), "--vocab", str(bad_vocab)]) == 1
    assert "2 tokens but the model config says vocab_size=15" in capsys.readouterr().err
    assert not (tmp_path / "v").exists()

    with pytest.raises(SystemExit):
        main(["convert", tiny_dir, str(tmp_path / "x"), "--to", "onnx"])
