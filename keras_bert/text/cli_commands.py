"""`keras-bert vocab` and `keras-bert pretraining-data` subcommands (registered by `add_cli`)."""

import os
import sys


def add_cli(subparsers):
    """Registers the text subcommands on an `argparse` subparsers object."""
    p = subparsers.add_parser(
        "vocab", help="learn a WordPiece vocabulary from text files",
        description="Learn a WordPiece vocab.txt ([PAD] [UNK] [CLS] [SEP] [MASK] first) from text files "
                    "(one text per line).")
    p.add_argument("corpus", nargs="+", metavar="CORPUS", help="text file(s), one sentence or text per line")
    p.add_argument("--size", type=int, required=True, metavar="N", help="target vocabulary size")
    p.add_argument("--out", required=True, metavar="FILE", help="vocab.txt to write")
    p.add_argument("--cased", action="store_true", help="keep case and accents (default: lower-case, strip accents)")
    p.add_argument("--min-count", type=int, default=None, metavar="N",
                   help="ignore words seen fewer than N times (default: 1 under a million words, else 10)")
    p.set_defaults(func=_vocab)

    p = subparsers.add_parser(
        "pretraining-data", help="write BERT pretraining TFRecords (NSP pairs, MLM masking)",
        description="Build NSP sentence pairs from documents (one sentence per line, blank line between "
                    "documents) and write sharded TFRecords. Masking is dynamic (at read time) unless "
                    "--static-masking is given.")
    p.add_argument("corpus", nargs="+", metavar="CORPUS", help="corpus file(s)")
    p.add_argument("--vocab", required=True, metavar="V", help="vocab.txt or a checkpoint folder holding one")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder; refused if it holds files, unless --overwrite")
    p.add_argument("--overwrite", action="store_true",
                   help="replace --out even if it is a non-empty folder (its files are deleted)")
    p.add_argument("--max-length", type=int, default=128, help="packed sequence length")
    p.add_argument("--shards", type=int, default=1, help="number of TFRecord files")
    p.add_argument("--seed", type=int, default=12345, help="random seed")
    p.add_argument("--dupe-factor", type=int, default=1,
                   help="passes over the corpus with different pairings/masks")
    p.add_argument("--short-seq-prob", type=float, default=0.1,
                   help="probability of a shorter target length")
    p.add_argument("--whole-word", action="store_true", help="whole-word masking (a token and its ## pieces)")
    p.add_argument("--segmentation", choices=("spaces", "jieba"), default=None,
                   help="Chinese word boundaries for --whole-word: 'spaces' (corpus words separated by spaces, "
                        "e.g. gold segmentation) or 'jieba' (pip install jieba); default: none, each Chinese character is a word")
    p.add_argument("--static-masking", action="store_true",
                   help="mask once when writing, as the original BERT (default: mask when reading)")
    p.add_argument("--mask-rate", type=float, default=0.15, help="fraction of tokens to predict")
    p.add_argument("--max-predictions", type=int, default=20, help="prediction slots per sequence")
    case = p.add_mutually_exclusive_group()
    case.add_argument("--cased", dest="lowercase", action="store_false", default=None,
                      help="do not lower-case (default: guessed from the vocabulary)")
    case.add_argument("--uncased", dest="lowercase", action="store_true", help="lower-case and strip accents")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_pretraining_data)


def _fail(message):
    print(f"error: {message}", file=sys.stderr)
    return 2


def _vocab(args):
    from keras_bert.text.vocab_learning import learn_vocab

    try:
        vocab = learn_vocab(args.corpus, args.size, out_file=args.out, lowercase=not args.cased,
                            min_count=args.min_count)
    except (OSError, ValueError, TypeError) as e:
        return _fail(e)
    print(f"wrote {len(vocab)} tokens to {args.out}")
    return 0


def _pretraining_data(args):
    from keras_bert.text.pretraining_data import write_pretraining_data

    if os.path.exists(args.out) and not os.path.isdir(args.out):
        return _fail(f"--out {args.out} is a file, not a folder")
    if os.path.isdir(args.out) and os.listdir(args.out) and not args.overwrite:
        found = sorted(os.listdir(args.out))
        return _fail(f"--out {args.out} is not empty ({len(found)} entries: {', '.join(found[:5])}"
                     f"{', ...' if len(found) > 5 else ''}); writing replaces the whole folder: choose an empty "
                     "or new folder, or pass --overwrite")
    try:
        meta = write_pretraining_data(
            args.corpus, args.vocab, args.out, max_length=args.max_length, num_shards=args.shards,
            seed=args.seed, dupe_factor=args.dupe_factor, short_seq_prob=args.short_seq_prob,
            masking="static" if args.static_masking else "dynamic", whole_word=args.whole_word,
            mask_rate=args.mask_rate, max_predictions=args.max_predictions, lowercase=args.lowercase,
            progress=not args.quiet, segmentation=args.segmentation)
    except (OSError, ValueError, TypeError, ImportError) as e:
        return _fail(e)
    print(f"wrote {meta['num_instances']} pairs in {meta['num_shards']} shard(s) to {args.out}")
    return 0
