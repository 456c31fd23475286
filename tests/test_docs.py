"""The README and docs/ pages: every command parses, and every page's code and commands run.

A page's ```python and ```bash blocks run in order in one temporary folder (with `tests/` linked in, so
paths like tests/data/... work as from the repository root), Python blocks in one namespace, `keras-bert`
lines through the CLI's `main` in this process. A block right after an `<!-- not run: why -->` line is
skipped; the reason names what covers it instead. Settings are made tiny by the replacements in `TINY`,
and `checkpoint_dir` is a tiny BERT saved as a keras_bert checkpoint folder.
"""

import contextlib
import glob
import io
import os
import re
import shlex

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))

# Real settings in the docs -> tiny ones for CI, applied to every block that runs.
TINY = {
    "steps=200": "steps=4",
    "steps = 100": "steps = 3",
    "--epochs 2": "--epochs 1 --max-train 64 --checkpoint none --sequence-length 32",
    "--crf --epochs 8": "--crf --epochs 1 --checkpoint none --sequence-length 32",
    "--dupe-factor 5": "--dupe-factor 1",
    "texts, labels = texts[:2000], labels[:2000]": "texts, labels = texts[:256], labels[:256]",
}

# Pages that are run (the rest are only parsed): each is a workflow whose commands are quick at tiny size.
RUN = ("models.md", "text-pipeline.md", "checkpoints.md", "pretraining.md", "export-and-serving.md",
       "fine-tuning.md")


def blocks(path):
    """[(language, code, runs)] of the fenced blocks in a markdown file."""
    out, lines, i = [], open(path, encoding="utf-8").read().splitlines(), 0
    while i < len(lines):
        match = re.match(r"```(\w*)\s*$", lines[i])
        if not match:
            i += 1
            continue
        previous = next((lines[j].strip() for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        out.append((match.group(1), "\n".join(lines[i + 1:end]), not previous.startswith("<!-- not run")))
        i = end + 1
    return out


def commands(code):
    """The `keras-bert ...` command lines of a shell block, continuations joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", code)
    found = []
    for line in joined.splitlines():
        line = line.split(" #", 1)[0].strip().removesuffix("&").strip()  # `keras-bert serve ... &`
        if line.startswith("keras-bert "):
            found.append(shlex.split(line)[1:])
    return found


def test_every_page_is_linked_from_the_readme():
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    for page in PAGES:
        name = os.path.basename(page)
        if name != "README.md":
            assert f"docs/{name}" in readme, f"README.md does not link docs/{name}"


def test_local_links_resolve():
    for path in [os.path.join(ROOT, "README.md"), *PAGES]:
        text = open(path, encoding="utf-8").read()
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if "://" in target or target.startswith("mailto:"):
                continue
            if target in ("docs/chinese.md", "docs/reliability.md", "docs/compression.md"):
                continue  # pages of issues 18, 19 and 21, merged separately
            assert os.path.exists(os.path.join(os.path.dirname(path), target)), f"{path}: broken link {target}"


def test_every_command_in_the_readme_and_docs_parses():
    from keras_bert.cli import build_parser

    parser = build_parser()
    seen = 0
    for path in [os.path.join(ROOT, "README.md"), *PAGES]:
        for language, code, _ in blocks(path):
            if language not in ("bash", "sh", ""):
                continue
            for argv in commands(code):
                try:
                    with contextlib.redirect_stdout(io.StringIO()):
                        parser.parse_args(argv)
                except SystemExit as error:
                    if error.code == 0:  # --help
                        continue
                    raise AssertionError(f"{os.path.basename(path)}: `keras-bert {shlex.join(argv)}` "
                                         f"does not parse") from error
                seen += 1
    assert seen >= 10


def test_the_pretraining_config_in_the_docs_is_valid(tmp_path):
    yaml_blocks = [code for language, code, _ in blocks(os.path.join(ROOT, "docs", "pretraining.md"))
                   if language == "yaml"]
    assert yaml_blocks
    from keras_bert.training.pretrain import load_config

    for code in yaml_blocks:
        (tmp_path / "pretrain.yaml").write_text(code)
        config = load_config(str(tmp_path / "pretrain.yaml"))
        assert config["steps"] == 20000 and config["data"]["tfrecords"] == "data/"


@pytest.fixture(scope="module")
def checkpoint_dir(tmp_path_factory):
    """A tiny BERT with the packaged vocabulary, saved as a keras_bert checkpoint folder."""
    import keras_bert
    from keras_bert.checkpoints import save_keras
    from keras_bert.datasets import UNCASED_VOCAB

    folder = str(tmp_path_factory.mktemp("checkpoint") / "tiny")
    save_keras(keras_bert.BertEncoder(keras_bert.BertConfig.preset("tiny")), folder, vocab_file=UNCASED_VOCAB)
    return folder


def _tiny(code):
    for real, tiny in TINY.items():
        code = code.replace(real, tiny)
    return code


def run_blocks(path, workdir, namespace):
    """Runs the runnable python and bash blocks of `path` in `workdir`; returns how many ran."""
    from keras_bert.cli import main

    os.symlink(os.path.join(ROOT, "tests"), os.path.join(workdir, "tests"))
    os.makedirs(os.path.join(workdir, "runs"), exist_ok=True)
    ran = 0
    for language, code, runs in blocks(path):
        if not runs or language not in ("python", "bash"):
            continue
        code = _tiny(code)
        if language == "python":
            exec(compile(code, f"{os.path.basename(path)} block", "exec"), namespace)  # noqa: S102
        else:
            other = [line for line in re.sub(r"\\\n\s*", " ", code).splitlines()
                     if line.strip() and not line.strip().startswith(("#", "keras-bert "))]
            assert not other, f"{path}: a runnable shell block may hold only keras-bert commands: {other}"
            for argv in commands(code):
                assert main(argv) == 0, f"{os.path.basename(path)}: keras-bert {shlex.join(argv)} failed"
        ran += 1
    return ran


@pytest.mark.slow  # each page trains, converts or exports tiny models: 10-60 s a page on 2 cores
@pytest.mark.parametrize("page", RUN)
def test_page_runs(page, tmp_path, monkeypatch, checkpoint_dir):
    monkeypatch.chdir(tmp_path)
    assert run_blocks(os.path.join(ROOT, "docs", page), str(tmp_path), {"checkpoint_dir": checkpoint_dir}) > 0


@pytest.mark.slow  # one epoch of a tiny BERT over the 8,065 movie snippets, then an export
def test_readme_tour_runs(tmp_path, monkeypatch, checkpoint_dir):
    monkeypatch.chdir(tmp_path)
    assert run_blocks(os.path.join(ROOT, "README.md"), str(tmp_path), {"checkpoint_dir": checkpoint_dir}) >= 1
    assert os.path.isfile(tmp_path / "saved_models" / "sentiment" / "1" / "saved_model.pb")
