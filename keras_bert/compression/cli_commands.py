"""`keras-bert quantize | distill | prune | export-onnx | export-litert` (arguments only; the work is in `runs`)."""

COMPUTE_DTYPES = ("auto", "float32", "mixed_bfloat16")


def _model_arguments(p, model_help="a .keras task model (e.g. runs/quickstart/model.keras)"):
    p.add_argument("model", help=model_help)
    p.add_argument("--vocab", default=None, help="vocab.txt (default: vocab.txt beside MODEL)")


def _data_arguments(g, epochs, learning_rate):
    g.add_argument("--train", required=True, metavar="FILE", help="training data (.csv, .tsv or .jsonl)")
    g.add_argument("--eval", default=None, metavar="FILE", help="evaluation data, same format (default: none; no evaluation)")
    g.add_argument("--text-column", default="text", help="CSV/TSV column or JSON key of the text")
    g.add_argument("--label-column", default="label", help="labels must be among the teacher's / model's labels")
    g.add_argument("--epochs", type=int, default=epochs, help="passes over the training data")
    g.add_argument("--batch-size", type=int, default=32, help="examples per step")
    g.add_argument("--learning-rate", type=float, default=learning_rate, help="peak AdamW rate (warm-up, then linear decay)")
    g.add_argument("--sequence-length", type=int, default=128, help="max tokens per input (longer texts are truncated)")
    g.add_argument("--max-train", type=int, default=None, help="train on a seeded random sample of N rows (default: all rows)")
    g.add_argument("--seed", type=int, default=0, help="seed for sampling, shuffling and initialisation")
    g.add_argument("--export", default=None, metavar="DIR", help="also export a raw-string SavedModel to DIR/<version>/ (default: no export)")


def add_cli(subparsers):
    from keras_bert.compression import runs

    q = subparsers.add_parser(
        "quantize", help="int8 or bfloat16 copy of a .keras model (a quarter / half of the bytes)",
        description="Writes OUT (.keras) with int8 weights (encoder projections and token table; task head "
                    "float) or bfloat16 weights, and vocab.txt beside it; --export also writes the raw-string "
                    "SavedModel.")
    _model_arguments(q)
    q.add_argument("--out", required=True, help="the compressed .keras file")
    q.add_argument("--mode", choices=("int8", "bfloat16"), default="int8",
                   help="int8: weight-only int8 (about a quarter of the bytes); bfloat16: half the bytes")
    q.add_argument("--compute-dtype", choices=COMPUTE_DTYPES, default="auto",
                   help="int8: dtype the weights are dequantized to for the GEMMs; auto = mixed_bfloat16 on CPUs "
                        "with AVX512-BF16 or AMX, else float32")
    q.add_argument("--activations", action="store_true",
                   help="int8: quantize activations too (Keras' int8 x int8 GEMMs; slow on TensorFlow's CPU kernels)")
    q.add_argument("--export", default=None, metavar="DIR", help="also export a raw-string SavedModel to DIR/<version>/ (default: no export)")
    q.add_argument("--sequence-length", type=int, default=None, help="export: max tokens per input (default: the model's position table)")
    q.set_defaults(func=runs.run_quantize)

    d = subparsers.add_parser(
        "distill", help="distil a fine-tuned classifier into a smaller student",
        description="Trains --student on --train with the teacher's temperature-scaled logits (computed once) "
                    "and the labels; hidden-state / attention losses run the teacher at every step. Writes "
                    "model.keras, vocab.txt, labels.txt and metrics.json to --output-dir.")
    d.add_argument("--teacher", required=True, help="the fine-tuned teacher (.keras BertClassifier)")
    d.add_argument("--student", required=True,
                   help="N (the teacher's sizes with N blocks, copied from its blocks), a preset (tiny, mini, "
                        "small, ...) or a BertConfig JSON file")
    d.add_argument("--vocab", default=None, help="vocab.txt (default: vocab.txt beside the teacher)")
    g = d.add_argument_group("distillation")
    g.add_argument("--temperature", type=float, default=4.0, help="softens both logit distributions (T^2-scaled KL)")
    g.add_argument("--alpha", type=float, default=0.2, help="weight of the labels' loss (1 - alpha: teacher's)")
    g.add_argument("--hidden-weight", type=float, default=0.0, help="MSE of mapped blocks' outputs")
    g.add_argument("--attention-weight", type=float, default=0.0, help="KL of mapped blocks' attention")
    g.add_argument("--augment", type=int, default=0, metavar="N",
                   help="add up to N augmented copies of each training text ([MASK]ed words, n-gram cuts; "
                        "Tang et al. 2019), labelled by the teacher alone (default 0: none)")
    _data_arguments(d.add_argument_group("data and training"), epochs=3, learning_rate=2e-4)
    d.add_argument("--output-dir", default="runs/distill", help="where the student and its metrics are written")
    d.set_defaults(func=runs.run_distill)

    p = subparsers.add_parser(
        "prune", help="drop transformer blocks and/or attention heads of a classifier, then fine-tune again",
        description="Keeps every K-th block (--keep-every) or the listed ones (--keep-layers), removes the "
                    "least important fraction of heads (--prune-heads, importance measured on --eval or "
                    "--train), fine-tunes for --epochs (0: none) and writes model.keras and metrics.json.")
    _model_arguments(p)
    keep = p.add_mutually_exclusive_group()
    keep.add_argument("--keep-every", type=int, default=None, metavar="K", help="keep blocks K-1, 2K-1, ... (every K-th; default: all blocks)")
    keep.add_argument("--keep-layers", default=None, metavar="I,J,...", help="keep these blocks, 0-based (default: all blocks)")
    p.add_argument("--prune-heads", type=float, default=0.0, metavar="FRACTION",
                   help="fraction of all heads to remove, least important first (at least one per block stays)")
    p.add_argument("--importance-examples", type=int, default=256, help="examples used to rank heads")
    _data_arguments(p.add_argument_group("re-fine-tuning"), epochs=1, learning_rate=3e-5)
    p.add_argument("--output-dir", default="runs/prune", help="where the pruned model and its metrics are written")
    p.set_defaults(func=runs.run_prune)

    for fmt, suffix in (("onnx", ".onnx"), ("litert", ".tflite")):
        e = subparsers.add_parser(
            f"export-{fmt}", help=f"export the token-id model as {fmt.upper() if fmt == 'onnx' else 'LiteRT'} "
                                  f"({suffix}), float32 or int8",
            description="Inputs token_ids, segment_ids, padding_mask (int32 [batch, length]); output the model's "
                        "(logits for classifiers). Tokenize with the model's vocab.txt (see docs/compression.md).")
        e.add_argument("model", help="a .keras task model (float; --int8 quantizes in the target format)")
        e.add_argument("--out", required=True, help=f"the {suffix} file")
        e.add_argument("--int8", action="store_true",
                       help="ONNX Runtime dynamic int8" if fmt == "onnx" else "LiteRT dynamic-range int8")
        e.set_defaults(func=runs.run_export_format, format=fmt)
