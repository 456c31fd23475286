"""Dynamic masked-language-model masking as a `tf.data`-mappable function.

`MlmMasker(tokenizer)(features)` takes the packed-input dict (`token_ids`,
`segment_ids`, `padding_mask`; [B, S] or a single [S] example) and returns it
with `token_ids` masked and three fields added:

  mask_positions  int32 [B, P]   positions chosen for prediction, ascending; 0 where unused
  mask_ids        int32 [B, P]   the original token ids there (the MLM labels); 0 where unused
  mask_weights    float32 [B, P] 1.0 for a real prediction, 0.0 for padding

P = `max_predictions`. As in BERT: the candidates are the real tokens that are
not [CLS]/[SEP]/[PAD]; k = min(P, max(1, round(mask_rate * candidates)))
are chosen uniformly at random; each chosen token becomes [MASK] with
probability 0.8, a random non-special vocabulary token with 0.1, and stays
unchanged with 0.1. With `whole_word=True` a word (a token and the `##` pieces
after it) is chosen or left as a unit: words are taken in random order while
the running total stays within k (so a sequence can get slightly fewer than k).
Chinese words: BERT makes each CJK character a token of its own, so the input
may carry `word_continuation` (int/bool [B, S], 1 where a token continues the
previous token's word, from a segmenter: `keras_bert.text.chinese`); with
`whole_word=True` those tokens join their word exactly as `##` pieces do, so
all characters of "中共中央" are masked together (Chinese-BERT-wwm).
`unselectable_token_ids` are never chosen (nor counted as candidates), e.g.
`[UNK]`, whose prediction teaches nothing.

Randomness: pass `seed` (a shape-[2] int tensor) for stateless, reproducible
masks (`pretraining_dataset` feeds one per batch from `Dataset.random`);
without it TF's stateful RNG is used, so every epoch draws new masks.
"""

import tensorflow as tf

from keras_bert.text.vocab_file import VocabError

_MASK_TOKEN = 0.8
_RANDOM_TOKEN = 0.1


class MlmMasker(tf.Module):
    """Chooses and applies MLM masks. See the module docstring for the outputs.

    Args:
      tokenizer: a `BertTokenizer` (for the vocabulary and special ids).
      mask_rate: fraction of candidate tokens to predict (BERT: 0.15).
      max_predictions: P, the fixed number of prediction slots per sequence.
      whole_word: mask whole words (a token plus its `##` continuation pieces, and the tokens
        flagged in the input's `word_continuation`, if present).
      mask_token_rate, random_token_rate: the 80% / 10% split (rest unchanged).
      unselectable_token_ids: ids never chosen for prediction ([CLS], [SEP], [PAD] never are).
    """

    def __init__(self, tokenizer, mask_rate=0.15, max_predictions=20, whole_word=False,
                 mask_token_rate=_MASK_TOKEN, random_token_rate=_RANDOM_TOKEN, unselectable_token_ids=(),
                 name=None):
        super().__init__(name=name)
        if tokenizer.mask_id is None:
            raise VocabError("Masked-LM masking needs a [MASK] token and this vocabulary has none "
                             "(it is fine for fine-tuning); add [MASK] to vocab.txt, e.g. over an [unusedN] line.")
        if not 0.0 < mask_rate <= 1.0:
            raise ValueError(f"mask_rate must be in (0, 1]; got {mask_rate}.")
        if int(max_predictions) < 1:
            raise ValueError(f"max_predictions must be >= 1; got {max_predictions}.")
        if mask_token_rate < 0 or random_token_rate < 0 or mask_token_rate + random_token_rate > 1:
            raise ValueError("mask_token_rate and random_token_rate must be >= 0 and sum to at most 1; "
                             f"got {mask_token_rate} and {random_token_rate}.")
        vocab = tokenizer.vocabulary
        self.mask_rate = float(mask_rate)
        self.max_predictions = int(max_predictions)
        self.whole_word = bool(whole_word)
        self.mask_token_rate = float(mask_token_rate)
        self.random_token_rate = float(random_token_rate)
        self.mask_id = tokenizer.mask_id
        self.vocab_size = len(vocab)
        unselectable = [int(i) for i in unselectable_token_ids]
        bad = [i for i in unselectable if not 0 <= i < len(vocab)]
        if bad:
            raise ValueError(f"unselectable_token_ids {bad} are not ids of the {len(vocab)}-token vocabulary.")
        self.unselectable_token_ids = tuple(sorted(set(unselectable)))
        self._excluded = tf.constant(sorted({tokenizer.cls_id, tokenizer.sep_id, tokenizer.pad_id, *unselectable}),
                                     tf.int32)
        special = set(tokenizer.special_ids)
        # Random replacements never insert special tokens.
        self._replacement_ids = tf.constant([i for i in range(len(vocab)) if i not in special], tf.int32)
        self._is_continuation = tf.constant([t.startswith("##") for t in vocab], tf.bool)

    @tf.autograph.experimental.do_not_convert
    def __call__(self, features, seed=None):
        ids = tf.convert_to_tensor(features["token_ids"])
        single = ids.shape.rank == 1
        if single:
            features = {k: tf.expand_dims(v, 0) for k, v in features.items()}
        out = self._mask(dict(features), seed)
        if single:
            out = {k: v[0] for k, v in out.items()}
        return out

    def _uniform(self, shape, seed, salt):
        if seed is None:
            return tf.random.uniform(shape)
        seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
        return tf.random.stateless_uniform(shape, seed=tf.stack([seed[0], seed[1] + salt]))

    @tf.autograph.experimental.do_not_convert
    def _mask(self, features, seed):
        ids = tf.cast(features["token_ids"], tf.int32)
        shape = tf.shape(ids)
        s = shape[1]
        real = tf.cast(features["padding_mask"], tf.bool) if "padding_mask" in features else tf.ones_like(ids, tf.bool)
        excluded = tf.reduce_any(tf.equal(ids[:, :, None], self._excluded[None, None, :]), axis=-1)
        candidate = real & ~excluded
        n_cand = tf.reduce_sum(tf.cast(candidate, tf.int32), axis=1)
        k = tf.cast(tf.round(tf.cast(n_cand, tf.float32) * self.mask_rate), tf.int32)
        k = tf.minimum(tf.maximum(k, tf.minimum(n_cand, 1)), self.max_predictions)

        # Units: single tokens, or whole words (a word starts at a non-## token
        # or at a ## token not preceded by a candidate).
        if self.whole_word:
            cont = tf.gather(self._is_continuation, tf.clip_by_value(ids, 0, self.vocab_size - 1))
            if "word_continuation" in features:
                cont = cont | tf.not_equal(tf.cast(features["word_continuation"], tf.int32), 0)
            prev_cand = tf.pad(candidate[:, :-1], [[0, 0], [1, 0]])
            start = candidate & ~(cont & prev_cand)
        else:
            start = candidate
        unit = tf.cumsum(tf.cast(start, tf.int32), axis=1) - 1
        n_units = tf.reduce_sum(tf.cast(start, tf.int32), axis=1)
        # A random rank per unit (0..n_units-1), unique so units never interleave.
        noise = self._uniform(shape, seed, 0)
        positions = tf.broadcast_to(tf.range(s)[None, :], shape)
        noise = tf.where(positions < n_units[:, None], noise, 2.0)
        rank = tf.argsort(tf.argsort(noise, axis=1, stable=True), axis=1, stable=True)
        token_rank = tf.where(candidate, tf.gather(rank, tf.maximum(unit, 0), batch_dims=1), s + 1)
        # Walk tokens in rank order; the number of whole units that fit in k is m.
        order = tf.argsort(token_rank, axis=1, stable=True)
        sorted_rank = tf.gather(token_rank, order, batch_dims=1)
        sorted_cand = sorted_rank <= s
        count = tf.cumsum(tf.cast(sorted_cand, tf.int32), axis=1)
        next_rank = tf.pad(sorted_rank[:, 1:], [[0, 0], [0, 1]], constant_values=-1)
        unit_end = sorted_cand & tf.not_equal(sorted_rank, next_rank)
        m = tf.reduce_sum(tf.cast(unit_end & (count <= k[:, None]), tf.int32), axis=1)
        selected = candidate & (token_rank < m[:, None])

        # 80% [MASK], 10% random token, 10% unchanged.
        action = self._uniform(shape, seed, 1)
        random_ids = tf.gather(self._replacement_ids, tf.cast(
            self._uniform(shape, seed, 2) * tf.cast(tf.size(self._replacement_ids), tf.float32), tf.int32))
        replaced = tf.where(action < self.mask_token_rate, self.mask_id,
                            tf.where(action < self.mask_token_rate + self.random_token_rate, random_ids, ids))
        masked = tf.where(selected, replaced, ids)

        p = self.max_predictions
        key = tf.where(selected, positions, positions + s)
        chosen = tf.argsort(key, axis=1, stable=True)[:, :p]
        chosen = tf.pad(chosen, [[0, 0], [0, tf.maximum(p - s, 0)]])
        valid = tf.gather(selected, chosen, batch_dims=1) & (tf.range(p)[None, :] < s)
        mask_positions = tf.where(valid, chosen, 0)
        mask_ids = tf.where(valid, tf.gather(ids, mask_positions, batch_dims=1), 0)
        features["token_ids"] = masked
        features["mask_positions"] = tf.cast(mask_positions, tf.int32)
        features["mask_ids"] = tf.cast(mask_ids, tf.int32)
        features["mask_weights"] = tf.cast(valid, tf.float32)
        return features
