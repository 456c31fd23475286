"""`keras-bert export` and `keras-bert serve`."""

import os


def add_cli(subparsers):
    p = subparsers.add_parser(
        "export", help="export a .keras task model + tokenizer as a TF Serving SavedModel (raw strings in)",
        description="Writes OUT/VERSION/ (saved_model.pb, variables/, assets/<vocab>) atomically. "
                    "Signatures: serving_default (raw strings) and predict_ids (token ids).")
    p.add_argument("model", metavar="MODEL", help="a .keras file saved from a keras_bert task model")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="model folder, versions go inside (default: saved_models/NAME, NAME the folder holding "
                        "MODEL: runs/quickstart/model.keras -> saved_models/quickstart)")
    p.add_argument("--version", type=int, default=None, metavar="N", help="integer version (default: newest + 1)")
    p.add_argument("--vocab", default=None, metavar="FILE", help="vocab.txt (default: vocab.txt beside MODEL)")
    p.add_argument("--sequence-length", type=int, default=None, metavar="N",
                   help="max tokens per input (default: the model's max positions, at most 512)")
    p.add_argument("--pairs", action="store_true", help="serving_default also takes `text_pair`")
    from keras_bert.finetune.common import add_tokenizer_arguments

    add_tokenizer_arguments(p)
    p.set_defaults(func=run_export)

    s = subparsers.add_parser(
        "serve", help="serve an exported model over TF Serving's REST API (local use)",
        description="Loads the newest version under MODEL_DIR and "
                    "answers GET /v1/models/NAME[/versions/N][/metadata] and "
                    "POST /v1/models/NAME[/versions/N]:predict, as TF Serving does.")
    s.add_argument("model_dir", metavar="MODEL_DIR", help="exported model folder, e.g. saved_models/NAME")
    s.add_argument("--name", default=None, help="model name in URLs (default: the folder's name)")
    s.add_argument("--port", type=int, default=8501, help="TCP port (TF Serving's REST port is 8501)")
    s.add_argument("--host", default="127.0.0.1",
                   help="address to bind; the server has no authentication, keep it local")
    s.add_argument("--max-batch", type=int, default=64, help="most instances per request (413 above)")
    s.add_argument("--max-body-bytes", type=int, default=1 << 20, help="largest request body (413 above)")
    s.add_argument("--workers", type=int, default=16, help="threads answering requests (default 16)")
    s.add_argument("--queue-size", type=int, default=64,
                   help="connections waiting for a worker; more are answered 503 (default 64)")
    s.add_argument("--request-timeout", type=float, default=30.0,
                   help="seconds a client has to send its request and to read the reply; 408 and cut off "
                        "after (default 30)")
    s.set_defaults(func=run_serve)


def find_vocab(model_path, vocab=None):
    """`vocab`, or vocab.txt beside `model_path`; FileNotFoundError naming what is missing."""
    if vocab:
        if not os.path.isfile(vocab):
            raise FileNotFoundError(f"vocabulary file not found: {vocab}")
        return vocab
    beside = os.path.join(os.path.dirname(os.path.abspath(model_path)), "vocab.txt")
    if not os.path.isfile(beside):
        raise FileNotFoundError(f"no vocabulary for {model_path}: pass --vocab PATH or put vocab.txt beside "
                                f"the model (looked for {beside})")
    return beside


def default_out(model_path):
    """saved_models/NAME for MODEL at .../NAME/model.keras (or saved_models/STEM for .../STEM.keras)."""
    path = os.path.abspath(model_path)
    stem = os.path.splitext(os.path.basename(path))[0]
    name = os.path.basename(os.path.dirname(path)) if stem == "model" else stem
    return os.path.join("saved_models", name)


def run_export(args, log=print):
    if not os.path.exists(args.model):
        raise FileNotFoundError(f"model not found: {args.model}")
    if not args.model.endswith(".keras"):
        raise ValueError(f"MODEL must be a .keras file saved from a keras_bert task model; got {args.model}")
    vocab = find_vocab(args.model, args.vocab)
    out = args.out or default_out(args.model)

    from keras_bert.checkpoints import load_keras
    from keras_bert.export import export, size_report
    from keras_bert.finetune.common import tokenizer_options
    from keras_bert.text import BertTokenizer

    model = load_keras(args.model, compile=False)
    options = {"pairs": True} if args.pairs else {}
    try:
        version_dir = export(model, BertTokenizer(vocab, **tokenizer_options(args)), out, version=args.version,
                             sequence_length=args.sequence_length, **options)
    except (TypeError, FileExistsError) as error:  # unsupported model/option, taken version: usage errors
        raise ValueError(str(error)) from error
    report = size_report(version_dir, model)
    log(f"exported {type(model).__name__} to {version_dir} ({report['saved_model_bytes'] / 1e6:.1f} MB, "
        f"{report['ratio']:.3f}x the weights)")
    return 0


def run_serve(args):
    from keras_bert.export.server import serve

    serve(args.model_dir, name=args.name, host=args.host, port=args.port, max_batch=args.max_batch,
          max_body_bytes=args.max_body_bytes, workers=args.workers, queue_size=args.queue_size,
          request_timeout=args.request_timeout)
    return 0
