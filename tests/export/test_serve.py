"""`keras-bert serve`: TF Serving's REST API over loopback, with a real HTTP client (urllib)."""

import json
import threading
import urllib.error
import urllib.request

import numpy as np
import pytest
import tensorflow as tf


@pytest.fixture(scope="module")
def server(sentiment_export):
    from keras_bert.export.server import Router, ServedModel, make_server

    model = ServedModel(sentiment_export)
    httpd = make_server(Router(model, max_batch=4), "127.0.0.1", 0, max_body_bytes=2000)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def call(url, method="GET", body=None, headers=None):
    data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def expected_probabilities(classifier, tokenizer, texts):
    from keras_bert.text import BertPreprocessor

    return tf.nn.softmax(classifier(BertPreprocessor(tokenizer, 32)(tf.constant(texts)))).numpy()


def test_status_and_versions(server):
    ok = {"model_version_status": [{"version": "1", "state": "AVAILABLE",
                                    "status": {"error_code": "OK", "error_message": ""}}]}
    assert call(server + "/v1/models/sentiment") == (200, ok)
    assert call(server + "/v1/models/sentiment/versions/1") == (200, ok)
    status, body = call(server + "/v1/models/sentiment/versions/2")
    assert status == 404 and "Specific(sentiment, 2)" in body["error"]
    status, body = call(server + "/v1/models/other")
    assert status == 404 and "other" in body["error"]
    assert call(server + "/v2/whatever")[0] == 404


def test_metadata_lists_both_signatures(server):
    status, body = call(server + "/v1/models/sentiment/metadata")
    assert status == 200
    assert body["model_spec"] == {"name": "sentiment", "signature_name": "", "version": "1"}
    defs = body["metadata"]["signature_def"]["signature_def"]
    text = defs["serving_default"]["inputs"]["text"]
    assert text["dtype"] == "DT_STRING" and text["tensor_shape"]["dim"] == [{"size": "-1", "name": ""}]
    assert set(defs["serving_default"]["outputs"]) == {"probabilities", "label_ids", "labels"}
    assert set(defs["predict_ids"]["inputs"]) == {"token_ids", "segment_ids", "padding_mask"}
    assert defs["predict_ids"]["method_name"] == "tensorflow/serving/predict"


def test_predict_row_and_columnar(server, classifier, tokenizer):
    texts = ["a good film", "", "Ünïcode ☃ text"]  # an empty string is valid text: [CLS] [SEP]
    expected = expected_probabilities(classifier, tokenizer, texts)
    names = ["negative", "neutral", "positive"]
    status, body = call(server + "/v1/models/sentiment:predict", "POST", {"instances": texts})
    assert status == 200
    rows = body["predictions"]
    np.testing.assert_allclose([r["probabilities"] for r in rows], expected, atol=1e-6)
    assert [r["labels"] for r in rows] == [names[i] for i in expected.argmax(-1)]
    assert [r["label_ids"] for r in rows] == expected.argmax(-1).tolist()

    named = call(server + "/v1/models/sentiment/versions/1:predict", "POST",
                 {"signature_name": "serving_default", "instances": [{"text": t} for t in texts]})
    assert named == (200, body)
    b64 = call(server + "/v1/models/sentiment:predict", "POST", {"instances": [{"b64": "YSBnb29kIGZpbG0="}]})
    assert b64[1]["predictions"][0] == rows[0]

    status, columnar = call(server + "/v1/models/sentiment:predict", "POST", {"inputs": {"text": texts}})
    assert status == 200 and set(columnar["outputs"]) == {"probabilities", "label_ids", "labels"}
    np.testing.assert_allclose(columnar["outputs"]["probabilities"], expected, atol=1e-6)
    assert call(server + "/v1/models/sentiment:predict", "POST", {"inputs": texts}) == (200, columnar)


def test_predict_ids_signature(server, classifier, tokenizer):
    from keras_bert.text import BertPreprocessor

    features = {k: v.numpy().tolist() for k, v in BertPreprocessor(tokenizer, 32)(tf.constant(["a good film",
                                                                                              "bad"])).items()}
    expected = expected_probabilities(classifier, tokenizer, ["a good film", "bad"])
    status, body = call(server + "/v1/models/sentiment:predict", "POST",
                        {"signature_name": "predict_ids", "inputs": features})
    assert status == 200
    np.testing.assert_allclose(body["outputs"]["probabilities"], expected, atol=1e-6)
    rows = [{k: features[k][i] for k in features} for i in range(2)]
    status, body = call(server + "/v1/models/sentiment:predict", "POST",
                        {"signature_name": "predict_ids", "instances": rows})
    assert status == 200
    np.testing.assert_allclose([r["probabilities"] for r in body["predictions"]], expected, atol=1e-6)
    ragged = [{k: v[:3] for k, v in rows[0].items()}, rows[1]]
    status, body = call(server + "/v1/models/sentiment:predict", "POST",
                        {"signature_name": "predict_ids", "instances": ragged})
    assert status == 400 and "ragged" in body["error"]


@pytest.mark.parametrize("body, status, message", [
    (b"{not json", 400, "JSON"),
    ({"instances": [1, 2]}, 400, "must hold strings"),
    ({"instances": [{"txt": "a"}]}, 400, "unknown ['txt']"),
    ({"inputs": {"text": "a"}}, 400, "shape"),
    ({"instances": []}, 400, "non-empty"),
    ({"instances": ["a"], "inputs": ["a"]}, 400, "exactly one"),
    ({"instances": ["a"], "signature_name": "nope"}, 400, "nope"),
    ({"instances": ["a"], "signature_name": "predict_ids"}, 400, "token_ids"),
    ({"instances": ["a"] * 5}, 413, "limit of 4"),
    ({"instances": ["a" * 3000]}, 413, "limit of 2000 bytes"),
])
def test_bad_requests(server, body, status, message):
    got_status, got = call(server + "/v1/models/sentiment:predict", "POST", body)
    assert got_status == status and message in got["error"], got


def test_wrong_methods(server):
    """TF Serving answers any method or path it does not serve under /v1/ with 400 "Malformed request"."""
    assert call(server + "/v1/models/sentiment:predict") == (
        400, {"error": "Malformed request: GET /v1/models/sentiment:predict"})
    assert call(server + "/v1/models/sentiment", "POST", {"instances": ["a"]})[0] == 400
    assert call(server + "/v1/models/sentiment", "DELETE") == (
        400, {"error": "Malformed request: DELETE /v1/models/sentiment"})
