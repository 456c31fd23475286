"""Fine-tune extractive question answering (SQuAD v1.1 / v2.0 style answer spans).

Reads SQuAD JSON (the official nested {"data": [{"paragraphs": [{"context",
"qas": [{"id", "question", "answers": [{"text", "answer_start"}],
"is_impossible"}]}]}]}) or JSON lines {"question", "context", "answers":
{"text": [...], "answer_start": [...]}} (empty lists = unanswerable).
`answer_start` is a character offset into the context. Contexts longer than
--sequence-length are cut into windows --stride tokens apart. Writes to
--output-dir: model.keras, metrics.json (SQuAD exact match and F1 on --eval;
v2.0 scores when the data has unanswerable questions), predictions.json
({id: answer}) and TensorBoard logs in logs/. --export DIR also writes a
SavedModel that takes raw question and context strings.
"""

import json
import os
import time

from keras_bert.finetune import common


def add_arguments(parser):
    common.add_common_arguments(parser)
    g = parser.add_argument_group("question answering")
    g.add_argument("--stride", type=int, default=None, metavar="N",
                   help="tokens between the starts of consecutive windows of a long context "
                        "(default: half the context tokens a window holds)")
    g.add_argument("--max-question-length", type=int, default=None, metavar="N",
                   help="question tokens kept (default: min(64, sequence length / 2))")
    g.add_argument("--max-answer-length", type=int, default=30, metavar="N", help="longest answer in tokens")
    g.add_argument("--n-best", type=int, default=20, metavar="N", help="start and end candidates per window")
    g.add_argument("--null-threshold", type=float, default=None, metavar="X",
                   help="answer '' when null score - best span score > this (default 0.0 when the training data "
                        "has unanswerable questions, else never)")
    g.add_argument("--dropout", type=float, default=0.1, help="dropout before the span output layer")
    g.add_argument("--warmup-ratio", type=float, default=0.1,
                   help="fraction of the steps over which the learning rate rises linearly, then decays to 0")


# -------------------------------------------------------------- input files
def read_examples(path):
    """[{"id", "question", "context", "answers": {"text": [...], "answer_start": [...]}}] from a file."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such file: {path}")
    nested = None
    if path.lower().endswith(".json"):
        with open(path, encoding="utf-8-sig") as f:
            try:
                nested = json.load(f)
            except json.JSONDecodeError:
                nested = None  # JSON lines with a .json name (read_records names a bad line)
            except UnicodeDecodeError:
                nested = None  # read_records names the bad byte
    if isinstance(nested, dict):
        if "data" not in nested:
            raise ValueError(f"{path}: a SQuAD JSON file needs a top-level 'data' list; keys: {sorted(nested)}")
        return _from_squad(nested, path)
    records = common.read_records(path)
    examples = []
    for i, row in enumerate(records):
        for key in ("question", "context"):
            if not isinstance(row.get(key), str):
                raise ValueError(f"{records.where(i)}: needs a text field {key!r}; fields: {sorted(row)}")  # noqa: TRY004
        answers = _answers(row.get("answers"), records.where(i))
        examples.append({"id": str(row.get("id", i)), "question": row["question"], "context": row["context"],
                         "answers": answers, "where": records.where(i)})
    return examples


def _answers(value, where):
    """{"text": [...], "answer_start": [...]} from a list of {"text", "answer_start"} or that dict itself."""
    if value is None or value == [] or value == {}:
        return {"text": [], "answer_start": []}
    if isinstance(value, list):
        for k, answer in enumerate(value):
            _field(answer, "text", str, f"{where}: answers[{k}]")
            _field(answer, "answer_start", int, f"{where}: answers[{k}]")
        return {"text": [a["text"] for a in value], "answer_start": [a["answer_start"] for a in value]}
    if not isinstance(value, dict):
        raise ValueError(f"{where}: 'answers' must be a list of {{text, answer_start}} objects or "  # noqa: TRY004
                         f"{{\"text\": [...], \"answer_start\": [...]}}, got {type(value).__name__}")
    texts, starts = _field(value, "text", list, f"{where}: answers"), _field(value, "answer_start", list,
                                                                             f"{where}: answers")
    if len(texts) != len(starts):
        raise ValueError(f"{where}: answers has {len(texts)} texts but {len(starts)} answer_start values")
    for k, (text, start) in enumerate(zip(texts, starts)):
        if not isinstance(text, str) or isinstance(start, bool) or not isinstance(start, int):
            raise ValueError(f"{where}: answers entry {k} must be a text and an integer answer_start, got "
                             f"{text!r} and {start!r}")
    return {"text": texts, "answer_start": starts}


_KINDS = {str: "text", int: "an integer", list: "a list", dict: "an object"}


def _field(record, key, kind, where):
    """record[key], checked to be of `kind`; ValueError naming the file, the record and the field."""
    if not isinstance(record, dict):
        raise ValueError(f"{where}: expected an object with {key!r}, got {type(record).__name__}")  # noqa: TRY004
    if key not in record:
        raise ValueError(f"{where}: missing field {key!r}; fields: {sorted(record)}")
    value = record[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"{where}: field {key!r} must be {_KINDS[kind]}, got {type(value).__name__}")
    return value


def _from_squad(data, path):
    examples = []
    for a, article in enumerate(_field(data, "data", list, path)):
        paragraphs = article.get("paragraphs", []) if isinstance(article, dict) else _field(
            article, "paragraphs", list, f"{path}: data[{a}]")
        for p, paragraph in enumerate(paragraphs):
            where = f"{path}: data[{a}].paragraphs[{p}]"
            context = _field(paragraph, "context", str, where)
            for q, qa in enumerate(_field(paragraph, "qas", list, where) if "qas" in paragraph else []):
                where_q = f"{where}.qas[{q}]"
                question = _field(qa, "question", str, where_q)
                answers = [] if qa.get("is_impossible") else qa.get("answers", [])
                examples.append({"id": str(qa.get("id", f"{a}-{p}-{q}")), "question": question,
                                 "context": context, "answers": _answers(answers, where_q), "where": where_q})
    if not examples:
        raise ValueError(f"{path} has no questions")
    return examples


def _check_answers(examples):
    from keras_bert.text.qa import answer_char_span

    for ex in examples:
        for text, start in zip(ex["answers"]["text"], ex["answers"]["answer_start"]):
            answer_char_span(ex["context"], {"text": [text], "answer_start": [start]}, where=ex["where"])


# -------------------------------------------------------------------- run
def default_stride(args, question_tokens=64):
    if args.stride is not None:
        if args.stride < 1:
            raise ValueError(f"--stride must be >= 1; got {args.stride}")
        return args.stride
    question_tokens = args.max_question_length or min(question_tokens, args.sequence_length // 2)
    return max(1, (args.sequence_length - 3 - question_tokens) // 2)


def run(args, log=common.console.log):
    from keras_bert.metrics.squad import squad_scores
    from keras_bert.models.tasks.span_qa import BertSpanQA
    from keras_bert.pipelines.qa import QuestionAnswerer
    from keras_bert.text import BertPreprocessor
    from keras_bert.text.qa import qa_dataset, qa_training_features

    common.set_seed(args.seed)
    train = common.subsample(read_examples(args.train), args.max_train, args.seed)
    evaluation = read_examples(args.eval) if args.eval else None
    _check_answers(train + (evaluation or []))
    with_negative = any(not ex["answers"]["text"] for ex in train)
    null_threshold = args.null_threshold if args.null_threshold is not None else (0.0 if with_negative else None)
    log(f"data: {len(train)} train" + (f" / {len(evaluation)} eval" if evaluation else "") + " questions"
        + ("; some unanswerable (SQuAD 2.0 style)" if with_negative else ""))

    encoder, vocab = common.build_encoder(args)
    source = common.checkpoint_path(args)
    log(f"model: {'checkpoint ' + source if source else args.preset + ' BERT from scratch'}")
    tokenizer = common.make_tokenizer(vocab, args.lowercase, **common.tokenizer_options(args))
    max_question = args.max_question_length or min(64, args.sequence_length // 2)
    stride = default_stride(args)
    window = {"sequence_length": args.sequence_length, "stride": stride, "max_question_length": max_question}

    def features(examples):
        return qa_training_features(tokenizer, [e["question"] for e in examples], [e["context"] for e in examples],
                                    [e["answers"] for e in examples], **window)

    train_features = features(train)
    train_ds = qa_dataset(train_features, args.batch_size, shuffle=True, seed=args.seed)
    eval_ds = qa_dataset(features(evaluation), args.batch_size) if evaluation else None
    num_windows = len(train_features["token_ids"])
    log(f"windows: {num_windows} train (sequence length {args.sequence_length}, stride {stride})")

    model = BertSpanQA(encoder, dropout=args.dropout)
    train_ds, steps_per_epoch = common.sized(train_ds)
    total_steps = args.epochs * steps_per_epoch
    model.compile(learning_rate=common.learning_rate(args), total_steps=total_steps,
                  warmup_ratio=args.warmup_ratio)
    log(f"training: {args.epochs} epoch{'s' * (args.epochs != 1)} of {steps_per_epoch} batches")
    start = time.time()
    model.fit(train_ds, validation_data=eval_ds, epochs=args.epochs, callbacks=common.callbacks(args.output_dir),
              shuffle=False, verbose=common.progress_verbosity())
    train_seconds = time.time() - start

    decoding = {"max_answer_length": args.max_answer_length, "n_best": args.n_best,
                "null_threshold": null_threshold}
    result = {"task": "qa", "train_file": args.train, "eval_file": args.eval, "num_train": len(train),
              "num_train_windows": num_windows, "checkpoint": source, "epochs": args.epochs,
              "batch_size": args.batch_size, "learning_rate": common.learning_rate(args), **window, **decoding,
              "train_seconds": round(train_seconds, 1)}
    if evaluation:
        log(f"evaluating on {len(evaluation)} questions of {args.eval} ...")
        answerer = QuestionAnswerer(model, tokenizer, **window, **decoding)
        predictions = answerer([e["question"] for e in evaluation], [e["context"] for e in evaluation])
        version = 2 if with_negative or any(not e["answers"]["text"] for e in evaluation) else 1
        result["num_eval"] = len(evaluation)
        result["eval"] = squad_scores([p["answer"] for p in predictions], [e["answers"] for e in evaluation],
                                      version=version)
        result["eval"]["squad_version"] = "2.0" if version == 2 else "1.1"
        log(f"eval: exact match {result['eval']['exact_match']:.2f}, F1 {result['eval']['f1']:.2f} "
            f"(SQuAD v{result['eval']['squad_version']} rules)")
        common.write_metrics(args.output_dir, {e["id"]: p["answer"] for e, p in zip(evaluation, predictions)},
                             name="predictions.json")
    log(f"model: {common.save_model(model, args.output_dir, vocab=vocab)} (vocab.txt beside it)")
    version_dir = common.maybe_export(args, model, BertPreprocessor(tokenizer, args.sequence_length), log=log,
                                      stride=stride, max_question_length=max_question, **decoding)
    if version_dir:
        result["export"] = version_dir
    log(f"metrics: {common.write_metrics(args.output_dir, result)}")
    return 0
