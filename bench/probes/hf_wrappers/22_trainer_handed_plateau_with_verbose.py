# Probe 22: ReduceLROnPlateau with `verbose=True` handed to the HF Trainer (the recipe posted in the
# Trainer ReduceLROnPlateau PR thread).
#
# Source: huggingface/transformers PR #23010 ("Add Trainer support for ReduceLROnPlateau"), comment by
#   lombardata: `lr_scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode='min',
#   factor=0.1, patience=5, verbose=True)` then `Trainer(..., optimizers=(optimizer, lr_scheduler))`.
#   torch: `verbose` deprecated in 2.2 (pytorch/pytorch PR #111302: "will no longer trigger print
#   statements"), removed in 2.7 (PR #147301: TypeError on `ReduceLROnPlateau(optim, verbose=True)`;
#   downstream fixes: gszfwsb/NCFM PR #11, weigertlab/spotiflow PR #30).
# Bug: on torch >= 2.7 the constructor raises TypeError; on 2.2-2.6 it warns and prints nothing.
# The Trainer side is correct: it never steps ReduceLROnPlateau in the batch loop and calls
#   `self.lr_scheduler.step(metrics[metric_to_check])` after evaluation (trainer.py `_evaluate`), with
#   metric_for_best_model set below -- so no LR301/LR102 here.
# Expected: LR202 at the `verbose=True` argument.
import numpy as np
import torch
from datasets import load_dataset
from transformers import AutoImageProcessor, AutoModelForImageClassification, Trainer, TrainingArguments


def collate_fn(batch):
    return {
        "pixel_values": torch.stack([x["pixel_values"] for x in batch]),
        "labels": torch.tensor([x["labels"] for x in batch]),
    }


def compute_metrics(eval_pred):
    predictions = np.argmax(eval_pred.predictions, axis=1)
    return {"accuracy": float((predictions == eval_pred.label_ids).mean())}


def main():
    checkpoint = "google/vit-base-patch16-224-in21k"
    processor = AutoImageProcessor.from_pretrained(checkpoint)
    ds = load_dataset("beans")

    def transform(example_batch):
        inputs = processor([x.convert("RGB") for x in example_batch["image"]], return_tensors="pt")
        inputs["labels"] = example_batch["labels"]
        return inputs

    prepared_ds = ds.with_transform(transform)
    labels = ds["train"].features["labels"].names
    model = AutoModelForImageClassification.from_pretrained(checkpoint, num_labels=len(labels))

    training_args = TrainingArguments(
        output_dir="./vit-base-beans",
        per_device_train_batch_size=16,
        eval_strategy="epoch",
        save_strategy="epoch",
        num_train_epochs=20,
        metric_for_best_model="eval_loss",
        load_best_model_at_end=True,
        remove_unused_columns=False,
    )

    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=0.0001)
    lr_scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer,
        mode="min",
        factor=0.1,
        patience=5,
        verbose=True,  # expect: LR202
    )

    trainer = Trainer(
        model=model,
        args=training_args,
        data_collator=collate_fn,
        train_dataset=prepared_ds["train"],
        eval_dataset=prepared_ds["validation"],
        compute_metrics=compute_metrics,
        optimizers=(optimizer, lr_scheduler),
    )
    trainer.train()


if __name__ == "__main__":
    main()
