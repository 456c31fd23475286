"""--never-split / --preserve-unused-tokens reach the tokenizer that fine-tuning and `export` build."""

import os

import pytest

from keras_bert.cli import build_parser, main
from keras_bert.finetune.common import make_tokenizer, tokenizer_options

VOCAB = os.path.join(os.path.dirname(__file__), "..", "..", "keras_bert", "data", "vocab-uncased.txt")


def _line(token):
    with open(VOCAB, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f].index(token)


def _ids(args, text):
    tokenizer = make_tokenizer(VOCAB, args.lowercase if hasattr(args, "lowercase") else "auto",
                               **tokenizer_options(args))
    return [int(i) for i in tokenizer([text]).to_list()[0]]


@pytest.mark.parametrize("command", [["finetune", "classify", "--train", "t.csv"],
                                     ["finetune", "tag", "--train", "t.conll"],
                                     ["export", "model.keras"]])
def test_never_split_tokens_stay_whole(command):
    text = "he said [unused1] hello [unused2]"
    plain = _ids(build_parser().parse_args(command), text)
    assert _line("[unused1]") not in plain  # split into "[", "unused", ... without the option
    kept = _ids(build_parser().parse_args(command + ["--never-split", "[unused1], [unused2]"]), text)
    assert kept == [_line("he"), _line("said"), _line("[unused1]"), _line("hello"), _line("[unused2]")]
    every = _ids(build_parser().parse_args(command + ["--preserve-unused-tokens"]), text)
    assert every == kept


def test_never_split_token_missing_from_the_vocabulary_is_one_line(tmp_path, capsys):
    train = tmp_path / "train.csv"
    train.write_text("text,label\na good film,pos\na bad film,neg\n", encoding="utf-8")
    code = main(["finetune", "classify", "--train", str(train), "--checkpoint", "none", "--vocab", VOCAB,
                 "--never-split", "[E1]", "--output-dir", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1 and "never_split token '[E1]' is not in the vocabulary" in err and "Traceback" not in err
