"""Chinese text: tokenizer parity with Hugging Face on a Chinese vocabulary, word boundaries,
whole-word masking on hand-checked examples, the People's Daily reader, vocabulary learning."""

import collections
import os

import numpy as np
import pytest
import tensorflow as tf

from keras_bert.text import BertTokenizer, MlmMasker, chinese, pku_corpus
from keras_bert.text.pretraining_data import pretraining_dataset, write_pretraining_data

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "chinese")
VOCAB = os.path.join(DATA, "vocab.txt")
PEOPLES_DAILY = os.path.join(DATA, "peoples_daily_head600.txt")
REVIEWS = os.path.join(DATA, "reviews_head1000.tsv")

# Full-width / half-width forms, ideographic space, other scripts, astral CJK, emoji, zero-width.
EDGE_CASES = [
    "ＡＢＣ ａｂｃ ABC abc １２３ 123 ，。！？（）《》【】「」、；：",
    "Ｈｅｌｌｏ，Ｗｏｒｌｄ！ｉＰｈｏｎｅ４Ｓ卖３９９９元",
    "全角空格\u3000分隔　　两个", "ｶﾀｶﾅ カタカナ ㈱ ① ⅷ ﬁ", "한국어 日本語 中文 café ÉCOLE",
    "𠀀𪚥 emoji😀 \u200b零宽", "１９９８年１月１日，江泽民在北京。", "价格：￥３９９．００（含税）",
    "", "　", "[MASK]是[UNK]的",
]


@pytest.fixture(scope="module")
def tok():
    return BertTokenizer(VOCAB)


def _lines(path):
    with open(path, encoding="utf-8") as f:
        return [line for line in f if line.strip()]


def test_tokenizer_matches_hugging_face_on_chinese(tok, hf_reference):
    encode = hf_reference(VOCAB, lowercase=True)
    texts = [pku_corpus.read_line(line)["text"] for line in _lines(PEOPLES_DAILY)]
    texts += [line.rstrip("\n").split("\t", 1)[1] for line in _lines(REVIEWS)] + EDGE_CASES
    ids = tok.tokenize(tf.constant(texts)).to_list()
    ours_ids, ours_starts, ours_ends = tok.tokenize_with_offsets(tf.constant(texts))
    from keras_bert.text import byte_to_char_offsets

    starts = byte_to_char_offsets(tf.constant(texts), ours_starts).to_list()
    ends = byte_to_char_offsets(tf.constant(texts), ours_ends).to_list()
    for i, text in enumerate(texts):
        ref_ids, ref_offsets = encode(text)
        assert ids[i] == ref_ids, text
        assert list(zip(starts[i], ends[i])) == ref_offsets, text
    assert len(texts) > 1500


def test_chinese_characters_and_full_width_forms(tok):
    # Google's Chinese BERT: every CJK ideograph is a token; full-width forms are NOT folded to
    # half-width (no NFKC), full-width Latin is lower-cased, the ideographic space is whitespace.
    pieces = [tok.id_to_token(i) for i in tok.tokenize(tf.constant(["中共中央ＡＢ，AB　１２"]))[0].numpy()]
    assert pieces[:4] == ["中", "共", "中", "央"]
    assert pieces[4] == "ａ" and pieces[5] == "##ｂ" and "，" in pieces and pieces[7] == "a"
    assert "ｂ" not in pieces and "　" not in pieces


def test_word_starts_and_segment():
    assert chinese.word_starts("中共中央 总书记 、 江 泽民") == [0, 5, 9, 11, 13]
    assert chinese.segment("中共中央 总书记  、江 泽民") == ["中共中央", "总书记", "、江", "泽民"]
    assert chinese.word_starts("  前导 空格") == [2, 5]
    assert chinese.word_starts("我爱北京", lambda t: ["我", "爱", "北京"]) == [0, 1, 2]
    with pytest.raises(ValueError, match="concatenate"):
        chinese.word_starts("我爱北京", lambda t: ["我", "北京"])
    with pytest.raises(ValueError, match="segmentation"):
        chinese.word_starts("我", "ltp")


def test_jieba_segmentation():
    pytest.importorskip("jieba")
    # jieba's README, default (accurate) mode: 我/ 来到/ 北京/ 清华大学
    assert chinese.segment("我来到北京清华大学", "jieba") == ["我", "来到", "北京", "清华大学"]
    assert chinese.segment("他来到了 网易杭研大厦", "jieba")[:3] == ["他", "来到", "了"]


def test_word_continuation_flags_hand_checked(tok):
    [(ids, flags)] = chinese.word_continuation(tok, ["中共中央 总书记 、 江 泽民 发表 １９９８年 讲话"])
    tokens = [tok.id_to_token(i) for i in ids]
    assert tokens == ["中", "共", "中", "央", "总", "书", "记", "、", "江", "泽", "民", "发", "表",
                      "１９９８", "年", "讲", "话"]
    assert flags == [0, 1, 1, 1, 0, 1, 1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1]
    # Unsegmented text: words from a segmenter; `##` pieces continue their word too.
    [(ids, flags)] = chinese.word_continuation(tok, ["清华大学ｈｅｌｌｏ"], lambda t: ["清华大学", "ｈｅｌｌｏ"])
    assert [tok.id_to_token(i) for i in ids][:4] == ["清", "华", "大", "学"]
    assert flags[:5] == [0, 1, 1, 1, 0] and all(flags[5:])


def _units(tokens, flags):
    """Word index of every position (specials: -1) from continuation flags."""
    unit, out = -1, []
    for t, f in zip(tokens, flags):
        if t in (0, 2, 3):
            out.append(-1)
            continue
        if not f or unit < 0:
            unit += 1
        out.append(unit)
    return out


def test_masker_takes_whole_chinese_words(tok):
    [(ids, flags)] = chinese.word_continuation(tok, ["中共中央 总书记 、 国家 主席 江 泽民 发表 新年 讲话"])
    row = [tok.cls_id, *ids, tok.sep_id]
    cont = [0, *flags, 0]
    feats = {"token_ids": tf.constant([row] * 400), "segment_ids": tf.zeros([400, len(row)], tf.int32),
             "padding_mask": tf.ones([400, len(row)], tf.int32), "word_continuation": tf.constant([cont] * 400)}
    words = _units(row, cont)
    out = MlmMasker(tok, mask_rate=0.3, max_predictions=10, whole_word=True)(feats, seed=[5, 6])
    w = out["mask_weights"].numpy() > 0
    chosen_words = collections.Counter()
    for r in range(400):
        positions = set(out["mask_positions"].numpy()[r][w[r]].tolist())
        picked = {words[p] for p in positions}
        # Every chosen word is chosen whole: all its positions, nothing else.
        assert positions == {p for p, u in enumerate(words) if u in picked}
        assert 0 < len(positions) <= round(0.3 * 21)
        chosen_words.update(picked)
    assert set(chosen_words) == set(range(10))  # all ten words get picked sometimes, 中共中央 included
    # Without the flags the same masker picks single characters: 中 of 中共中央 alone.
    plain = {k: v for k, v in feats.items() if k != "word_continuation"}
    out = MlmMasker(tok, mask_rate=0.3, max_predictions=10, whole_word=True)(plain, seed=[5, 6])
    w = out["mask_weights"].numpy() > 0
    assert (w.sum(axis=1) == 6).all()  # round(0.3 * 21) single characters per row
    rows = [set(p[m].tolist()) for p, m in zip(out["mask_positions"].numpy(), w)]
    assert any(1 in r and 2 not in r for r in rows)


def test_unselectable_token_ids(tok):
    text = "中共中央总书记、国家主席江泽民发表新年讲话。"
    feats = tok.tokenize(tf.constant([text] * 200)).to_tensor()
    row = tf.concat([tf.fill([200, 1], tok.cls_id), feats, tf.fill([200, 1], tok.sep_id)], 1)
    batch = {"token_ids": row, "segment_ids": tf.zeros_like(row), "padding_mask": tf.ones_like(row)}
    banned = [tok.token_to_id("中"), tok.token_to_id("。")]
    out = MlmMasker(tok, mask_rate=0.5, max_predictions=20, unselectable_token_ids=banned)(batch, seed=[1, 2])
    w = out["mask_weights"].numpy() > 0
    assert not np.isin(out["mask_ids"].numpy()[w], banned).any()
    # The count is 50% of the 19 candidates left (22 tokens minus 2 x 中 and 。): round(9.5) = 10.
    assert (w.sum(axis=1) == 10).all()
    with pytest.raises(ValueError, match="not ids"):
        MlmMasker(tok, unselectable_token_ids=[tok.vocab_size])


def test_pretraining_data_stores_gold_words(tok, tmp_path):
    records = [pku_corpus.read_line(line) for line in _lines(PEOPLES_DAILY)[:60]]
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n\n".join(" ".join(r["words"]) for r in records) + "\n", encoding="utf-8")
    meta = write_pretraining_data(str(corpus), tok, tmp_path / "data", segmentation="spaces", whole_word=True,
                                  progress=False, seed=3)
    assert meta["segmentation"] == "spaces" and meta["whole_word"]
    # Independent expectation: for every gold word of the corpus, the first character starts a unit.
    gold_multi = {w for r in records for w in r["words"] if len(w) > 1 and all(map(chinese.is_cjk_char, w))}
    ds = pretraining_dataset(str(tmp_path / "data"), 16, seed=0, shuffle=False, return_sample_weights=False)
    masked_words = collections.Counter()
    for features, labels in ds:
        ids, pos = features["token_ids"].numpy(), features["mask_positions"].numpy()
        w, gold = features["mask_weights"].numpy() > 0, labels["mlm"].numpy()
        for r in range(len(ids)):
            p = pos[r][w[r]]
            # Runs of consecutive masked positions, read as strings of the original characters.
            runs, current = [], [p[0]] if len(p) else []
            for a, b in zip(p[:-1], p[1:]):
                if b == a + 1:
                    current.append(b)
                else:
                    runs.append(current)
                    current = [b]
            if current:
                runs.append(current)
            original = dict(zip(p.tolist(), gold[r][w[r]].tolist()))
            for run in runs:
                masked_words["".join(tok.id_to_token(original[i]) for i in run)] += 1
    multi = [s for s in masked_words if len(s) > 1 and all(map(chinese.is_cjk_char, s))]
    assert len(multi) > 100
    # A run of masked Chinese characters is one gold word or adjacent gold words, never a piece of one
    # (checked on the runs that are single gold words, the common case).
    assert sum(masked_words[s] for s in multi if s in gold_multi) > 0.8 * sum(masked_words[s] for s in multi)


def test_static_masking_takes_whole_words(tmp_path, tok):
    corpus = tmp_path / "c.txt"
    corpus.write_text("中共中央 总书记 、 国家 主席 江 泽民 。\n\n迈向 充满 希望 的 新 世纪 。\n", encoding="utf-8")
    write_pretraining_data(str(corpus), tok, tmp_path / "d", segmentation="spaces", whole_word=True,
                           masking="static", mask_rate=0.5, progress=False, dupe_factor=20, seed=1)
    words = ["中共中央", "总书记", "国家", "主席", "泽民", "迈向", "充满", "希望", "世纪"]
    whole = partial = 0
    for features, labels in pretraining_dataset(str(tmp_path / "d"), 8, shuffle=False, return_sample_weights=False):
        for ids, pos, w, gold in zip(features["token_ids"].numpy(), features["mask_positions"].numpy(),
                                     features["mask_weights"].numpy() > 0, labels["mlm"].numpy()):
            original = ids.copy()
            original[pos[w]] = gold[w]
            text = [tok.id_to_token(int(i)) for i in original]
            masked = set(pos[w].tolist())
            for word in words:
                for start in range(len(text) - len(word) + 1):
                    if "".join(text[start:start + len(word)]) == word:
                        hit = [start + k in masked for k in range(len(word))]
                        whole += all(hit)
                        partial += any(hit) and not all(hit)
    assert whole > 20 and partial == 0  # each occurrence of a word is masked whole or not at all


def test_pretraining_data_cli_segmentation(tmp_path, tok):
    from keras_bert.cli import main

    corpus = tmp_path / "c.txt"
    corpus.write_text("中共中央 总书记 江 泽民 。\n新年 讲话\n\n迈向 充满 希望 的 新 世纪\n", encoding="utf-8")
    assert main(["pretraining-data", str(corpus), "--vocab", VOCAB, "--out", str(tmp_path / "d"),
                 "--segmentation", "spaces", "--whole-word", "--quiet"]) == 0
    example = next(iter(tf.data.TFRecordDataset(str(tmp_path / "d" / "pretraining-00000-of-00001.tfrecord"))))
    parsed = tf.train.Example.FromString(example.numpy()).features.feature
    ids = parsed["token_ids"].int64_list.value
    flags = parsed["word_continuation"].int64_list.value
    assert len(ids) == len(flags) and flags[0] == 0 and sum(flags) > 0


def test_people_daily_reader_hand_checked():
    r = pku_corpus.read_line("中共中央/nt  总书记/n  、/w  国家/n  主席/n  江/nr  泽民/nr  访问/v  北京/ns  ，/w  "
                             "李/nr  鹏/nr  、/w  朱/nr  镕基/nr  １/m")
    assert r["text"] == "中共中央总书记、国家主席江泽民访问北京，李鹏、朱镕基１"
    assert r["entities"] == [("ORG", 0, 4), ("PER", 12, 15), ("LOC", 17, 19), ("PER", 20, 22), ("PER", 23, 26)]
    assert r["tags"][:5] == ["B-ORG", "I-ORG", "I-ORG", "I-ORG", "O"]
    assert r["tags"][12:15] == ["B-PER", "I-PER", "I-PER"]
    assert pku_corpus.parse_line("１/２/m") == [("１/２", "m")]
    with pytest.raises(ValueError, match="word/TAG"):
        pku_corpus.parse_line("没有标签")


def test_people_daily_slice_counts():
    # Counted by hand-written rules in a different way: tags per token, PER runs merged.
    records = pku_corpus.read_file(PEOPLES_DAILY)
    assert len(records) == 600 and records[0]["line"] == 0
    per = loc = org = 0
    for line in _lines(PEOPLES_DAILY):
        tags = [item.rsplit("/", 1)[1] for item in line.split()]
        loc += tags.count("ns")
        org += tags.count("nt")
        per += sum(1 for i, t in enumerate(tags) if t == "nr" and (i == 0 or tags[i - 1] != "nr"))
    found = collections.Counter(k for r in records for k, _, _ in r["entities"])
    assert found == {"PER": per, "LOC": loc, "ORG": org}
    for r in records:
        for kind, s, e in r["entities"]:
            assert r["tags"][s] == f"B-{kind}" and all(t == f"I-{kind}" for t in r["tags"][s + 1:e])


def test_vocab_learning_keeps_every_chinese_character(tmp_path):
    from keras_bert.text import learn_vocab

    texts = [pku_corpus.read_line(line)["text"] for line in _lines(PEOPLES_DAILY)]
    corpus = tmp_path / "zh.txt"
    corpus.write_text("\n".join(texts) + "\n", encoding="utf-8")
    vocab = learn_vocab(str(corpus), 4000, out_file=str(tmp_path / "vocab.txt"))
    chars = collections.Counter(c for t in texts for c in t if chinese.is_cjk_char(c))
    assert len(chars) > 1500  # more than the WordPiece learner's default alphabet of 1,000 holds
    covered = sum(n for c, n in chars.items() if c in set(vocab)) / sum(chars.values())
    assert covered >= 0.9999
    # No ## form of a character the tokenizer always isolates (it could never be produced).
    assert not [t for t in vocab if t.startswith("##") and len(t) == 3 and (chinese.is_cjk_char(t[2]) or t[2] in "，。")]
    assert "##ｍ" in vocab or "##１" in vocab or "##９" in vocab  # word characters keep their ## forms
    assert len(vocab) <= 4000
