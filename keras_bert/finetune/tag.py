"""Fine-tune a token tagger (NER, chunking) on CoNLL files, optionally with a CRF.

--train / --eval: CoNLL files (token first, tag last column; blank lines
between sentences; -DOCSTART- lines skipped), or JSON-lines with a list of
tokens and a list of tags per row (--tokens-field, --tags-field). Tags may be
BIO or BIOES; they are re-encoded in --scheme. Writes to --output-dir:
model.keras, labels.txt, metrics.json (entity-level precision / recall / F1,
seqeval-compatible, overall and per type) and TensorBoard logs in logs/.
--export DIR also writes a SavedModel that takes raw strings and returns
entity spans.

Long sentences: training cuts a sentence longer than --sequence-length into
overlapping windows (--stride tokens apart, default half a window), one
training row each, so no word is dropped; evaluation runs the raw-text
inference path (the words joined by spaces, the same windows, each token's
logits from the window where it has most context, decoding over the whole
sentence, Viterbi with --crf) and scores entities on the input words.

Chinese: give one character per token (pre-split, like CoNLL words) and
--token-separator "" so the model reads the original text, exactly as the
exported model and the pipeline will read raw strings; scores are then
character-level entity F1.
"""

import os
import time

from keras_bert.finetune import common


def add_arguments(parser):
    common.add_common_arguments(parser)
    g = parser.add_argument_group("tagging")
    g.add_argument("--crf", action="store_true", help="a linear-chain CRF on top (Viterbi decoding)")
    g.add_argument("--crf-lr-multiplier", type=float, default=100.0, metavar="X",
                   help="the CRF's scores learn X times faster than the encoder (at BERT's learning rates an "
                        "unscaled CRF barely moves from 0)")
    g.add_argument("--scheme", choices=("BIO", "BIOES"), default="BIO", help="tag scheme the model learns")
    g.add_argument("--token-column", type=int, default=0, metavar="N", help="CoNLL column of the token")
    g.add_argument("--tag-column", type=int, default=-1, metavar="N", help="CoNLL column of the tag (-1: the last)")
    g.add_argument("--tokens-field", default="tokens", metavar="NAME", help="JSON-lines field with the token list")
    g.add_argument("--tags-field", default="tags", metavar="NAME", help="JSON-lines field with the tag list")
    g.add_argument("--dropout", type=float, default=0.1, help="dropout before the output layer")
    g.add_argument("--warmup-ratio", type=float, default=0.1,
                   help="fraction of the steps over which the learning rate rises linearly, then decays to 0")
    g.add_argument("--token-separator", default=" ", metavar="SEP",
                   help="joins the tokens into the text the model reads (default a space; \"\" for Chinese "
                        "characters given one per token, so training sees the raw text)")
    g.add_argument("--stride", type=int, default=None,
                   help="tokens between the starts of overlapping windows over long sentences, in training and "
                        "evaluation (default: half of --sequence-length minus 2)")


def read_sentences(path, args):
    """[(words, tags)] from a CoNLL file or a JSON-lines file."""
    from keras_bert.text.tagging import read_conll

    if path.lower().endswith((".jsonl", ".ndjson")):
        records = common.read_records(path)
        tokens = common.column(records, args.tokens_field)
        tags = common.column(records, args.tags_field)
        sentences = []
        for i, (words, labels) in enumerate(zip(tokens, tags)):
            if not isinstance(words, list) or not isinstance(labels, list) or len(words) != len(labels):
                raise ValueError(f"{records.where(i)}: {args.tokens_field!r} and {args.tags_field!r} must be "
                                 "lists of equal length")
            sentences.append(([str(w) for w in words], [str(t) for t in labels]))
        return sentences
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such file: {path}")
    sentences = read_conll(path, args.token_column, args.tag_column)
    if not sentences:
        raise ValueError(f"{path} has no sentences")
    return sentences


def _scheme_tags(sentences, scheme, path):
    from keras_bert.text.tagging import convert_tags, validate_tags

    out = []
    for n, (words, tags) in enumerate(sentences):
        try:
            validate_tags(tags, "BIOES")
        except ValueError as error:
            raise ValueError(f"{path}: sentence {n + 1}: {error}") from None
        out.append((words, convert_tags(tags, scheme)))
    return out


def _dataset(features, y, batch_size, shuffle, seed):
    """Batches trimmed to their own longest row (dynamic padding)."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((features, y))
    if shuffle:
        ds = ds.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)

    def trim(x, labels):
        length = tf.reduce_max(tf.reduce_sum(x["padding_mask"], axis=1))
        return {k: v[:, :length] for k, v in x.items()}, labels[:, :length]

    return ds.batch(batch_size).map(trim)


def predict_sentences(model, tokenizer, sentences, sequence_length, stride, batch_size=32, separator=" "):
    """BIO tags for the words of each sentence [(words, tags)] from the raw-text inference path.

    The words are joined by `separator` and tagged as a `TokenTagger` tags a text (windows, max-context
    merge, decoding over the whole text); each predicted entity covers the input words from the one
    holding its first character to the one holding its last.
    """
    import tensorflow as tf

    from keras_bert.metrics.ner import get_entities
    from keras_bert.pipelines.tag import word_predictions
    from keras_bert.text.tagging import char_spans, continuation_table, word_tags_from_spans

    is_continuation = tf.constant(continuation_table(tokenizer))
    labels = model.labels

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def predict(texts):
        p = word_predictions(model, tokenizer, is_continuation, texts, sequence_length, stride)
        return p["word_tag_ids"], p["word_start"], p["word_end"]

    out = []
    for i in range(0, len(sentences), batch_size):
        batch = sentences[i:i + batch_size]
        tags, starts, ends = (r.to_list() for r in predict(tf.constant([separator.join(w) for w, _ in batch])))
        for (words, _), t, s, e in zip(batch, tags, starts, ends):
            found = [(kind, s[a], e[b]) for kind, a, b in get_entities([labels[k] for k in t])]
            out.append(word_tags_from_spans(len(words), char_spans(words, separator), found))
    return out


def evaluate(model, tokenizer, sentences, sequence_length, stride, batch_size=32, separator=" "):
    """Entity-level scores (keras_bert.metrics.ner, seqeval-compatible) on [(words, tags)]."""
    from keras_bert.metrics.ner import entity_scores
    from keras_bert.text.tagging import convert_tags

    predicted = predict_sentences(model, tokenizer, sentences, sequence_length, stride, batch_size, separator)
    return entity_scores([convert_tags(tags, "BIO") for _, tags in sentences], predicted)


def default_stride(sequence_length):
    return max(1, (sequence_length - 2) // 2)


def run(args, log=common.console.log):
    from keras_bert.models.tasks.token_classifier import BertTokenClassifier
    from keras_bert.text import BertPreprocessor
    from keras_bert.text.tagging import encode_tagged, entity_types, label_list

    if not args.crf_lr_multiplier > 0:
        raise ValueError(f"--crf-lr-multiplier must be > 0, got {args.crf_lr_multiplier}")
    common.set_seed(args.seed)
    train = _scheme_tags(common.subsample(read_sentences(args.train, args), args.max_train, args.seed),
                         args.scheme, args.train)
    evaluation = _scheme_tags(read_sentences(args.eval, args), args.scheme, args.eval) if args.eval else None
    types = entity_types(train)
    if not types:
        raise ValueError(f"{args.train}: no entity tags found (every tag is 'O')")
    labels = label_list(types, args.scheme)
    if evaluation is not None:
        unknown = sorted(set(entity_types(evaluation)) - set(types))
        if unknown:
            raise ValueError(f"{args.eval}: entity types {unknown} do not occur in {args.train} ({types})")
    log(f"data: {len(train)} train" + (f" / {len(evaluation)} eval" if evaluation else "")
        + f" sentences; {args.scheme} tags for {types}" + (" + CRF" if args.crf else ""))

    encoder, vocab = common.build_encoder(args)
    source = common.checkpoint_path(args)
    log(f"model: {'checkpoint ' + source if source else args.preset + ' BERT from scratch'}")
    tokenizer = common.make_tokenizer(vocab, args.lowercase, **common.tokenizer_options(args))
    stride = args.stride or default_stride(args.sequence_length)
    sep = args.token_separator
    x_train, y_train = encode_tagged(tokenizer, train, labels, args.sequence_length, args.scheme, stride=stride,
                                     separator=sep)
    if len(y_train) > len(train):
        log(f"windows: {len(y_train)} training rows from {len(train)} sentences (stride {stride})")
    train_ds = _dataset(x_train, y_train, args.batch_size, True, args.seed)
    eval_data = None
    if evaluation is not None:
        x_eval, y_eval = encode_tagged(tokenizer, evaluation, labels, args.sequence_length, args.scheme,
                                       stride=stride, separator=sep)
        eval_data = _dataset(x_eval, y_eval, args.batch_size, False, args.seed)

    model = BertTokenClassifier(encoder, labels, scheme=args.scheme, use_crf=args.crf, dropout=args.dropout,
                                crf_learning_rate_multiplier=args.crf_lr_multiplier)
    train_ds, steps_per_epoch = common.sized(train_ds)
    total_steps = args.epochs * steps_per_epoch
    model.compile(learning_rate=common.learning_rate(args), total_steps=total_steps, warmup_ratio=args.warmup_ratio)
    log(f"training: {args.epochs} epoch{'s' * (args.epochs != 1)} of {steps_per_epoch} batches")
    start = time.time()
    model.fit(train_ds, validation_data=eval_data, epochs=args.epochs, callbacks=common.callbacks(args.output_dir),
              shuffle=False, verbose=common.progress_verbosity())
    train_seconds = time.time() - start

    result = {"task": "tag", "scheme": args.scheme, "crf": bool(args.crf),
              "crf_lr_multiplier": args.crf_lr_multiplier, "labels": labels,
              "train_file": args.train, "eval_file": args.eval, "num_train": len(train), "checkpoint": source,
              "epochs": args.epochs, "batch_size": args.batch_size, "learning_rate": common.learning_rate(args),
              "sequence_length": args.sequence_length, "stride": stride, "token_separator": sep, "train_rows": len(y_train),
              "train_seconds": round(train_seconds, 1)}
    if evaluation is not None:
        log(f"evaluating on {len(evaluation)} sentences of {args.eval} (raw-text path) ...")
        start = time.time()
        scores = evaluate(model, tokenizer, evaluation, args.sequence_length, stride, args.batch_size, sep)
        result["eval_seconds"] = round(time.time() - start, 1)
        result.update({f"eval_{k}": v for k, v in scores.items()})
        log(f"eval: entity F1 {scores['f1']:.3f} (precision {scores['precision']:.3f}, recall "
            f"{scores['recall']:.3f}); " + ", ".join(f"{t} {s['f1']:.3f}" for t, s in scores["per_type"].items()))
    common.write_lines(args.output_dir, "labels.txt", labels)
    log(f"model: {common.save_model(model, args.output_dir, vocab=vocab)} (vocab.txt beside it)")
    log(f"metrics: {common.write_metrics(args.output_dir, result)}")
    common.maybe_export(args, model, BertPreprocessor(tokenizer, args.sequence_length), log=log, stride=stride)
    return 0
