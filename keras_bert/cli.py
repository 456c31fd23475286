"""`keras-bert` command line: each subcommand lives with the code it drives."""

import argparse
import importlib
import os
import sys

# Modules that register subcommands through `add_cli(subparsers)`; imported lazily
# so `keras-bert --help` does not pay for TensorFlow.
COMMAND_MODULES = (
    "keras_bert.quickstart",
    "keras_bert.checkpoints.cli_commands",
    "keras_bert.text.cli_commands",
    "keras_bert.training.cli_commands",
    "keras_bert.finetune.cli_commands",
    "keras_bert.export.cli_commands",
    "keras_bert.compression.cli_commands",
)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keras-bert",
        description="BERT for TensorFlow/Keras 3: tokenize, pretrain, fine-tune, convert, export, serve.")
    from keras_bert import __version__
    parser.add_argument("--version", action="version", version=f"keras-bert-tf {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name == name:  # that part of the package is not there yet
                continue
            raise
        module.add_cli(subparsers)
    return parser


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args) or 0
    except (ValueError, FileNotFoundError) as error:
        print(f"keras-bert {args.command}: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
