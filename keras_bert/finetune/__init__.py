"""`keras-bert finetune classify|tag|qa`: fine-tuning from CSV / JSONL (and CoNLL) files."""
