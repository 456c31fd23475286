"""Copies named source tensors into a model's variables through the name map, with checks."""

import re

import numpy as np

from keras_bert.checkpoints import name_map


class CheckpointMismatchError(ValueError):
    """A checkpoint does not fit the model: missing, unexpected or mis-shaped variables."""


def _convert(arrays, kind, fmt):
    converted = []
    for a in arrays:
        a = np.asarray(a)
        if kind == "out_in" or (kind == "kernel" and fmt == "huggingface"):
            a = a.T
        converted.append(a)
    return converted[0] if len(converted) == 1 else np.concatenate(converted, axis=-1)


_LAYER_PATH = re.compile(r"(?:^|/)transformer_layer_(\d+)/")
_HEAD_PREFIXES = ("mlm_head/", "nsp_head/")


def _model_num_layers(variables):
    """How many transformer_layer_{i} blocks the model's variable paths show."""
    found = [int(m.group(1)) for p in variables for m in [_LAYER_PATH.search(p)] if m]
    return max(found) + 1 if found else 0


def find_variable(variables, our_path):
    """The variable whose path is `our_path` or ends with `/our_path` (None if absent)."""
    hits = [v for v in variables if v.path == our_path or v.path.endswith("/" + our_path)]
    if len(hits) > 1:
        raise CheckpointMismatchError(f"Several model variables match {our_path!r}: "
                                      f"{[v.path for v in hits]}")
    return hits[0] if hits else None


def check_vocab_size(vocab_file, config, config_source="model"):
    """Raises if `vocab_file` (non-empty lines) does not hold `config.vocab_size` tokens."""
    with open(vocab_file, encoding="utf-8") as f:
        size = sum(1 for line in f if line.rstrip("\n"))
    if size != config.vocab_size:
        raise CheckpointMismatchError(f"{vocab_file} has {size} tokens but the {config_source} config "
                                      f"says vocab_size={config.vocab_size}")


def assign_from_checkpoint(model, tensors, fmt, num_layers, strict=True, required_prefixes=None):
    """Assigns `tensors` (name -> array, in format `fmt`) into `model`.

    `fmt` is "google" or "huggingface". Every variable of the model that the
    name map covers must be present in `tensors` (else: missing variable);
    every tensor must be used by the model, known to the map (e.g. pretraining
    heads when loading an encoder alone), or ignorable (optimizer slots,
    step counters); with `strict`, anything else is an unexpected variable.
    Shapes must match exactly. Returns a dict with the names loaded and skipped.
    """
    column = {"google": 1, "huggingface": 2}[fmt]
    variables = {v.path: v for v in model.weights}
    model_layers = _model_num_layers(variables)
    missing, wrong_shape, loaded, skipped, used, no_place = [], [], [], [], set(), []
    covered = set()
    for row in name_map.rows(max(num_layers, model_layers)):
        our_path, sources, kind = row[0], row[column], row[3]
        sources = sources if isinstance(sources, tuple) else (sources,)
        known = [s for s in sources if s in tensors]
        used.update(known)
        variable = find_variable(variables.values(), our_path)
        if variable is None:
            if our_path.startswith(_HEAD_PREFIXES):
                skipped.extend(known)  # pretraining heads are optional (loading an encoder)
            else:
                no_place.extend(known)  # e.g. blocks beyond the model's num_layers
            continue
        covered.add(variable.path)
        if len(known) != len(sources):
            missing.append(f"{', '.join(s for s in sources if s not in tensors)} (for {variable.path})")
            continue
        value = _convert([tensors[s] for s in sources], kind, fmt)
        if tuple(value.shape) != tuple(variable.shape):
            wrong_shape.append(f"{variable.path}: model {tuple(variable.shape)}, "
                               f"checkpoint {' + '.join(sources)} {tuple(value.shape)}")
            continue
        variable.assign(value.astype(variable.dtype))
        loaded.append(variable.path)

    ignored = [re.compile(p) for p in name_map.IGNORED[fmt]]
    unexpected = sorted(n for n in tensors
                        if n not in used and not any(p.match(n) for p in ignored))
    uncovered = sorted(p for p in variables if p not in covered)
    problems = []
    if wrong_shape:
        problems.append("shape mismatch:\n  " + "\n  ".join(wrong_shape))
    if missing:
        problems.append("missing from the checkpoint:\n  " + "\n  ".join(missing))
    if strict and no_place:
        problems.append("checkpoint variables the model has no place for:\n  " + "\n  ".join(no_place))
    if strict and unexpected:
        problems.append("unexpected checkpoint variables (not part of a BERT model):\n  "
                        + "\n  ".join(unexpected))
    if problems and model_layers != num_layers:
        problems.insert(0, f"the model has {model_layers} transformer layers, the checkpoint {num_layers};")
    if problems:
        raise CheckpointMismatchError("Checkpoint does not match the model config; "
                                      + "\n".join(problems))
    return {"loaded": loaded, "skipped": skipped, "unexpected": unexpected, "not_in_model": no_place,
            "not_in_checkpoint_map": uncovered}
