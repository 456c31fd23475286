"""The proof script's corpus and NSP pair recipe (benchmarks/pretrain_proof.py), on hand-made input."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))

import pretrain_proof  # noqa: E402

NUMPY_STYLE = """Return the sum of array elements.

Parameters
----------
a : array_like
    Elements to sum.

Examples
--------
>>> np.sum([1, 2])
3

The sum runs over every axis by default.
"""


def test_paragraph_text_keeps_prose_drops_headings_and_doctests():
    # As in doctest, a prompt's output runs to the next blank line.
    text = pretrain_proof._paragraph_text(NUMPY_STYLE)
    assert "Return the sum of array elements." in text
    assert "The sum runs over every axis by default." in text
    for dropped in ("Parameters", "Examples", "----", ">>>", "np.sum([1, 2])", " 3 "):
        assert dropped not in text


def test_module_document_reads_docstrings_without_importing(tmp_path):
    source = tmp_path / "mod.py"
    source.write_text('"""A module about boats. It floats on water."""\n'
                      'raise SystemExit("imported!")\n'
                      'class Boat:\n    """A boat has a hull. The hull keeps water out."""\n'
                      'def _private():\n    """This private helper is skipped here."""\n', encoding="utf-8")
    assert pretrain_proof.module_document(str(source)) == [
        "A module about boats.", "It floats on water.", "A boat has a hull.", "The hull keeps water out."]
    (tmp_path / "bad.py").write_bytes(b"\xff\xfe not python")
    assert pretrain_proof.module_document(str(tmp_path / "bad.py")) == []


def test_balanced_pairs_true_pairs_are_contiguous_random_pairs_cross_documents():
    # Token (1000 * doc + index) identifies each one-token sentence.
    docs = [[[1000 * d + i] for i in range(40)] for d in range(30)]
    pairs = pretrain_proof.balanced_pairs(docs, max_length=13, dupe_factor=3, seed=0, short_seq_prob=0)
    labels = [r for _, _, r in pairs]
    assert 0.4 < sum(labels) / len(labels) < 0.6
    for a, b, is_random in pairs:
        assert a and b and len(a) + len(b) <= 10
        if is_random:
            assert {t // 1000 for t in b} != {a[-1] // 1000}
        else:
            assert b[0] == a[-1] + 1 and all(y == x + 1 for x, y in zip(a + b, (a + b)[1:]))
