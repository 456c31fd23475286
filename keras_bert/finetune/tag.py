"""Fine-tune a token tagger (NER, chunking) on CoNLL files, optionally with a CRF.

--train / --eval: CoNLL files (token first, tag last column; blank lines
between sentences; -DOCSTART- lines skipped), or JSON-lines with a list of
tokens and a list of tags per row (--tokens-field, --tags-field). Tags may be
BIO or BIOES; they are re-encoded in --scheme. Writes to --output-dir:
model.keras, labels.txt, metrics.json (entity-level precision / recall / F1,
seqeval-compatible, overall and per type) and TensorBoard logs in logs/.
--export DIR also writes a SavedModel that takes raw strings and returns
entity spans.
"""

import os
import time

from keras_bert.finetune import common


def add_arguments(parser):
    common.add_common_arguments(parser)
    g = parser.add_argument_group("tagging")
    g.add_argument("--crf", action="store_true", help="a linear-chain CRF on top (Viterbi decoding)")
    g.add_argument("--scheme", choices=("BIO", "BIOES"), default="BIO", help="tag scheme the model learns")
    g.add_argument("--token-column", type=int, default=0, metavar="N", help="CoNLL column of the token")
    g.add_argument("--tag-column", type=int, default=-1, metavar="N", help="CoNLL column of the tag (-1: the last)")
    g.add_argument("--tokens-field", default="tokens", metavar="NAME", help="JSON-lines field with the token list")
    g.add_argument("--tags-field", default="tags", metavar="NAME", help="JSON-lines field with the tag list")
    g.add_argument("--dropout", type=float, default=0.1, help="dropout before the output layer")
    g.add_argument("--warmup-ratio", type=float, default=0.1,
                   help="fraction of the steps over which the learning rate rises linearly, then decays to 0")


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


def evaluate(model, features, y, labels, batch_size):
    """Entity-level scores (keras_bert.metrics.ner) of the model's decoded tags on tagged words."""
    import keras

    from keras_bert.metrics.ner import entity_scores
    from keras_bert.text.tagging import IGNORE_LABEL, word_level_tags

    predicted = []
    for start in range(0, len(y), batch_size):
        x = {k: v[start:start + batch_size] for k, v in features.items()}
        mask = y[start:start + batch_size] != IGNORE_LABEL
        tags = keras.ops.convert_to_numpy(model.decode(model.predict_on_batch(x), mask))
        predicted += [[labels[t] for t in row[m]] for row, m in zip(tags, mask)]
    return entity_scores(word_level_tags(y, labels), predicted)


def run(args, log=common.console.log):
    from keras_bert.models.tasks.token_classifier import BertTokenClassifier
    from keras_bert.text import BertPreprocessor
    from keras_bert.text.tagging import encode_tagged, entity_types, label_list

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
    tokenizer = common.make_tokenizer(vocab, args.lowercase)
    x_train, y_train = encode_tagged(tokenizer, train, labels, args.sequence_length, args.scheme)
    train_ds = _dataset(x_train, y_train, args.batch_size, True, args.seed)
    eval_data = None
    if evaluation is not None:
        x_eval, y_eval = encode_tagged(tokenizer, evaluation, labels, args.sequence_length, args.scheme)
        eval_data = _dataset(x_eval, y_eval, args.batch_size, False, args.seed)

    model = BertTokenClassifier(encoder, labels, scheme=args.scheme, use_crf=args.crf, dropout=args.dropout)
    train_ds, steps_per_epoch = common.sized(train_ds)
    total_steps = args.epochs * steps_per_epoch
    model.compile(learning_rate=common.learning_rate(args), total_steps=total_steps, warmup_ratio=args.warmup_ratio)
    log(f"training: {args.epochs} epoch{'s' * (args.epochs != 1)} of {steps_per_epoch} batches")
    start = time.time()
    model.fit(train_ds, validation_data=eval_data, epochs=args.epochs, callbacks=common.callbacks(args.output_dir),
              shuffle=False, verbose=common.progress_verbosity())
    train_seconds = time.time() - start

    result = {"task": "tag", "scheme": args.scheme, "crf": bool(args.crf), "labels": labels,
              "train_file": args.train, "eval_file": args.eval, "num_train": len(train), "checkpoint": source,
              "epochs": args.epochs, "batch_size": args.batch_size, "learning_rate": common.learning_rate(args),
              "sequence_length": args.sequence_length, "train_seconds": round(train_seconds, 1)}
    if evaluation is not None:
        log(f"evaluating on {len(evaluation)} sentences of {args.eval} ...")
        scores = evaluate(model, x_eval, y_eval, labels, args.batch_size)
        result.update({f"eval_{k}": v for k, v in scores.items()})
        log(f"eval: entity F1 {scores['f1']:.3f} (precision {scores['precision']:.3f}, recall "
            f"{scores['recall']:.3f}); " + ", ".join(f"{t} {s['f1']:.3f}" for t, s in scores["per_type"].items()))
    common.write_lines(args.output_dir, "labels.txt", labels)
    log(f"model: {common.save_model(model, args.output_dir, vocab=vocab)} (vocab.txt beside it)")
    log(f"metrics: {common.write_metrics(args.output_dir, result)}")
    common.maybe_export(args, model, BertPreprocessor(tokenizer, args.sequence_length), log=log)
    return 0
