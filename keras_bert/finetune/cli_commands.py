"""Registers `keras-bert finetune {classify,tag,qa}`; a subcommand whose module is absent is skipped."""

import functools
import importlib

SUBCOMMANDS = (
    ("classify", "keras_bert.finetune.classify",
     "text (or text-pair) classification: single-label, multi-label or regression"),
    ("tag", "keras_bert.finetune.tag", "token tagging / NER (BIO or BIOES), optional CRF"),
    ("qa", "keras_bert.finetune.qa", "extractive question answering (SQuAD-style spans)"),
)


def add_cli(subparsers):
    parser = subparsers.add_parser("finetune", help="fine-tune a task model from CSV/JSONL files",
                                   description="Fine-tune BERT on a task; writes model.keras, metrics.json and "
                                               "TensorBoard logs to --output-dir.")
    tasks = parser.add_subparsers(dest="task", metavar="TASK")
    for name, module_name, help_text in SUBCOMMANDS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name == module_name:  # that task is not there yet
                continue
            raise
        sub = tasks.add_parser(name, help=help_text, description=(module.__doc__ or help_text).strip())
        module.add_arguments(sub)
        sub.set_defaults(func=functools.partial(_run, module.run))

    def no_task(args):
        parser.print_help()
        return 2

    no_task.uses_tensorflow = False
    parser.set_defaults(func=no_task)
    return parser


def _run(run, args):
    from keras_bert.finetune.common import run_task  # options checked, --output-dir's backup matched

    return run_task(run, args)
