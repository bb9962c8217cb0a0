# Probe 26 (CLEAN): ReduceLROnPlateau handed to the HF Trainer, monitored metric configured.
#
# Source: huggingface/transformers PR #23010 ("Add Trainer support for ReduceLROnPlateau") and
#   src/transformers/trainer.py: in `_inner_training_loop` the per-step call is guarded by
#   `if not isinstance(self.lr_scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
#   self.lr_scheduler.step()`; after each evaluation `_evaluate` runs
#   `self.lr_scheduler.step(metrics[metric_to_check])` with `metric_to_check = "eval_" +
#   args.metric_for_best_model` (KeyError with a helpful message if the metric is missing).
# Traps for a naive linter: LR102 (the Trainer steps handed-in schedulers per optimizer step -- but not
#   this class), LR301 (no user code calls step(metric); the Trainer does), LR104 (never stepped in user
#   code; it escapes into the Trainer anyway).
# Expected: no findings.
import numpy as np
import torch
from datasets import load_dataset
from seqeval.metrics import f1_score
from transformers import (
    AutoModelForTokenClassification,
    AutoTokenizer,
    DataCollatorForTokenClassification,
    Trainer,
    TrainingArguments,
)


def main():
    raw = load_dataset("conll2003")
    label_names = raw["train"].features["ner_tags"].feature.names
    tokenizer = AutoTokenizer.from_pretrained("bert-base-cased")

    def tokenize_and_align(examples):
        enc = tokenizer(examples["tokens"], truncation=True, is_split_into_words=True)
        all_labels = []
        for i, tags in enumerate(examples["ner_tags"]):
            word_ids = enc.word_ids(batch_index=i)
            all_labels.append([-100 if w is None else tags[w] for w in word_ids])
        enc["labels"] = all_labels
        return enc

    tokenized = raw.map(tokenize_and_align, batched=True, remove_columns=raw["train"].column_names)

    def compute_metrics(eval_pred):
        logits, labels = eval_pred
        preds = np.argmax(logits, axis=-1)
        true_labels = [[label_names[l] for l in row if l != -100] for row in labels]
        true_preds = [[label_names[p] for p, l in zip(prow, lrow) if l != -100] for prow, lrow in zip(preds, labels)]
        return {"f1": f1_score(true_labels, true_preds)}

    model = AutoModelForTokenClassification.from_pretrained("bert-base-cased", num_labels=len(label_names))
    args = TrainingArguments(
        output_dir="bert-ner",
        per_device_train_batch_size=16,
        num_train_epochs=10,
        learning_rate=3e-5,
        eval_strategy="epoch",
        save_strategy="epoch",
        metric_for_best_model="f1",
        greater_is_better=True,
        load_best_model_at_end=True,
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5, patience=1)

    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=tokenized["train"],
        eval_dataset=tokenized["validation"],
        data_collator=DataCollatorForTokenClassification(tokenizer),
        compute_metrics=compute_metrics,
        optimizers=(optimizer, scheduler),
    )
    trainer.train()


if __name__ == "__main__":
    main()
