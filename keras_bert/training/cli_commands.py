"""`keras-bert pretrain --config FILE [key=value ...]`."""


def add_cli(subparsers):
    p = subparsers.add_parser(
        "pretrain", help="pretrain BERT (MLM + NSP) from a JSON/YAML config",
        description="Pretrain a BERT from scratch with model.fit: MLM + NSP, AdamW or LAMB, tf.distribute, "
                    "mixed precision, TensorBoard logs and resumable checkpoints (run the same command again "
                    "to resume). Config keys: see keras_bert/training/pretrain.py.")
    p.add_argument("--config", metavar="FILE",
                   help="JSON or YAML config file (default: none; the built-in defaults plus KEY=VALUE overrides)")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                   help="config overrides, e.g. steps=200 data.tfrecords=out/ model.preset=mini")
    p.add_argument("--output-dir", metavar="DIR",
                   help="shortcut for output_dir=DIR (default: the config's output_dir, runs/pretrain)")
    p.set_defaults(func=_pretrain)


def _pretrain(args):
    import os

    from keras_bert.training.pretrain import load_config, run_pretraining

    overrides = list(args.overrides)
    if args.output_dir:
        overrides.append(f"output_dir={args.output_dir}")
    config = load_config(args.config, overrides)
    if config.get("verbose") == 1 and not any(o.startswith("verbose=") for o in overrides):
        from keras_bert import console

        config["verbose"] = console.progress_verbosity()  # a redrawn bar floods a log file
    log_dir = os.path.join(os.path.abspath(config["output_dir"]), "logs")
    print(f"TensorBoard: tensorboard --logdir {log_dir}", flush=True)
    metrics = run_pretraining(config)
    print("final: " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items()))
    print(f"model: {os.path.join(os.path.abspath(config['output_dir']), 'model')}")
    print(f"TensorBoard: tensorboard --logdir {log_dir}")
    return 0
