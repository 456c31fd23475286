"""Regenerates `_unicode_tables.py` from the Hugging Face `tokenizers` reference.

Developer tool, never imported at run time: `python -m keras_bert.text._make_unicode_tables`.

Why tables extracted from the reference rather than built from `unicodedata`:
`tokenizers`' BertNormalizer/BertPreTokenizer mix Unicode versions (an old
Unicode-9-era table for categories such as punctuation, control and
non-spacing marks; Rust's newer tables for lower-casing and NFD), so a table
derived from any single Unicode version differs on ~400-800 code points. We
record, for every code point and each (lowercase, strip_accents) setting, the
class the reference gives it and the code points it normalises to.
Per-character tables are exact here because no code point normalises to a mix
of classes (checked below) and BERT normalisation has no cross-character rule
that survives accent stripping.
"""

import base64
import json
import zlib

DROP, SPACE, ISOLATED, WORD = 0, 1, 2, 3


def _probe(lowercase, strip_accents):
    from tokenizers.normalizers import BertNormalizer
    from tokenizers.pre_tokenizers import BertPreTokenizer

    norm = BertNormalizer(clean_text=True, handle_chinese_chars=True,
                          strip_accents=strip_accents, lowercase=lowercase)
    pre = BertPreTokenizer()
    classes, mapping = [], {}
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:  # surrogates cannot occur in valid UTF-8
            classes.append(DROP)
            continue
        s = norm.normalize_str(chr(cp))
        if s == "":
            cls = DROP
        elif s.strip() == "":
            cls = SPACE
        else:
            padded = s != s.strip(" ")  # CJK ideographs come back padded with spaces
            s = s.strip(" ")
            pieces = [p for p, _ in pre.pre_tokenize_str("a" + s + "a")]
            if padded and len(s) == 1:
                cls = ISOLATED
            elif len(pieces) == 1:
                cls = WORD
            elif len(pieces) == 3 and pieces[1] == s:
                cls = ISOLATED
            else:
                raise AssertionError(f"U+{cp:04X} normalises to mixed classes: {pieces}")
            if s != chr(cp):
                mapping[cp] = [ord(c) for c in s]
        classes.append(cls)
    starts, values = [], []
    for cp, cls in enumerate(classes):
        if not values or values[-1] != cls:
            starts.append(cp)
            values.append(cls)
    return {"starts": starts, "classes": values, "map": mapping}


def main():
    import tokenizers

    tables = {}
    for lowercase in (False, True):
        for strip in (False, True):
            tables[f"{int(lowercase)}{int(strip)}"] = _probe(lowercase, strip)
    blob = base64.b64encode(zlib.compress(json.dumps(tables).encode(), 9)).decode()
    lines = [blob[i:i + 100] for i in range(0, len(blob), 100)]
    with open(__file__.replace("_make_unicode_tables.py", "_unicode_tables.py"), "w") as f:
        f.write('"""Per-code-point BERT normalisation tables (generated; do not edit).\n\n'
                f"Made by `_make_unicode_tables.py` from tokenizers {tokenizers.__version__}.\n"
                'Classes: 0 drop, 1 whitespace, 2 isolated (punctuation/CJK), 3 word character.\n"""\n\n'
                "import base64\nimport json\nimport zlib\n\n_BLOB = (\n")
        for line in lines:
            f.write(f'    "{line}"\n')
        f.write(")\n\n\ndef load():\n"
                '    """Returns {"<lowercase><strip_accents>": {"starts", "classes", "map"}}."""\n'
                "    return json.loads(zlib.decompress(base64.b64decode(_BLOB)))\n")


if __name__ == "__main__":
    main()
