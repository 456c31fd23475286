"""A damaged metadata.json beside the pretraining TFRecords is an error naming that file."""

import os

import pytest

from keras_bert.text.pretraining_data import pretraining_dataset


@pytest.mark.parametrize("content, problem", [(b'{"max_length": 128,', "not valid JSON"),
                                              (b"\xff\xfe{}", "not valid JSON"),
                                              (b"[1, 2]", "expected a JSON object, got list")])
def test_bad_metadata_names_the_file(tmp_path, content, problem):
    (tmp_path / "data-00000.tfrecord").write_bytes(b"")
    (tmp_path / "metadata.json").write_bytes(content)
    with pytest.raises(ValueError) as info:
        pretraining_dataset(str(tmp_path), batch_size=2)
    message = str(info.value)
    assert message.startswith(os.path.join(str(tmp_path), "metadata.json") + ": ") and problem in message
