"""`keras-bert convert SRC DST [--to keras|huggingface|google]`."""

import os
import sys

FORMATS = ("keras", "huggingface", "google")


def add_cli(subparsers):
    parser = subparsers.add_parser(
        "convert",
        help="convert a BERT checkpoint between Google TF1, Hugging Face and keras_bert formats",
        description=(
            "Reads SRC (a Google folder with bert_config.json + bert_model.ckpt.*, a Hugging Face "
            "folder with config.json + model.safetensors, or a keras_bert folder / .keras file; the "
            "format is detected) and writes DST in the format given by --to. Pretraining heads "
            "(masked LM, next sentence) are kept when SRC has them. DST is written atomically."))
    parser.add_argument("src", metavar="SRC", help="checkpoint folder or .keras file to read")
    parser.add_argument("dst", metavar="DST", help="folder to write")
    parser.add_argument("--to", choices=FORMATS, default="keras",
                        help="output format (default: keras, keras_bert's own model.keras folder)")
    parser.add_argument("--vocab", metavar="FILE", default=None,
                        help="vocab.txt to write with the checkpoint (default: SRC's vocab.txt, if any)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace DST even if it holds files other than a checkpoint's")
    parser.set_defaults(func=run_convert)
    return parser


def _has_heads(tensors, fmt):
    from keras_bert.checkpoints import name_map

    column = {"google": 1, "huggingface": 2}[fmt]
    for row in name_map.HEADS:
        if row[column] not in tensors:
            return False
    return True


def load_model(src):
    """The model in `src`: a BertPretrainer when the checkpoint has both heads, else a BertEncoder.

    Returns `(model, format, report)`; for Google and Hugging Face sources
    `report` is `assign_from_checkpoint`'s (names loaded and skipped).
    """
    from keras_bert import checkpoints
    from keras_bert.models import BertEncoder, BertPretrainer

    fmt = checkpoints.detect_format(src)
    if fmt == "keras":  # the whole saved model, heads and all
        return checkpoints.load_keras(src), fmt, {}
    config = checkpoints.load_config(src)
    checkpoints._check_vocab(src, config)
    _, tensors = checkpoints.read_tensors(src)
    encoder = BertEncoder(config)
    model = BertPretrainer(encoder) if _has_heads(tensors, fmt) else encoder
    report = checkpoints.assign_from_checkpoint(model, tensors, fmt, config.num_layers)
    return model, fmt, report


def convert(src, dst, to="keras", vocab_file=None, overwrite=False):
    """Reads `src` (any supported format) and writes `dst` in format `to`; returns the writer's report."""
    from keras_bert import checkpoints
    from keras_bert.checkpoints import export

    if to not in FORMATS:
        raise ValueError(f"Unknown format {to!r}; choose one of {FORMATS}")
    if os.path.abspath(src) == os.path.abspath(dst):
        raise ValueError("SRC and DST are the same path; write the conversion to a new folder")
    model, fmt, load_report = load_model(src)
    vocab = vocab_file or checkpoints.vocab_file(src)
    report = export.export(model, dst, to=to, vocab_file=vocab, overwrite=overwrite)
    report.update(source_format=fmt, model=type(model).__name__, vocab=vocab,
                  skipped=load_report.get("skipped", []))
    return report


def run_convert(args):
    try:
        report = convert(args.src, args.dst, to=args.to, vocab_file=args.vocab,
                         overwrite=args.overwrite)
    except FileExistsError as error:
        print(f"keras-bert convert: error: {error} (on the command line: --overwrite)", file=sys.stderr)
        return 1
    print(f"Converted {args.src} ({report['source_format']}, {report['model']}) "
          f"-> {args.dst} ({report['format']}):")
    for path in report["files"]:
        print(f"  wrote {path} ({os.path.getsize(path):,} bytes)")
    if report.get("skipped"):
        print(f"  not carried over (the model has no place for them): {', '.join(report['skipped'])}")
    if report.get("not_exported"):
        print(f"  not written ({report['format']} has no place for them): "
              f"{', '.join(report['not_exported'])}")
    if report.get("vocab") is None:
        print("  note: no vocab.txt found next to SRC; pass --vocab to include one")
    return 0
