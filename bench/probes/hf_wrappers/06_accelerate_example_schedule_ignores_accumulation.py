# Probe 06: warmup/decay schedule sized in batches, stepped once per gradient-accumulation cycle.
#
# Source: huggingface/accelerate issue #225 ("Should `get_linear_schedule_with_warmup` consider
#   `gradient_accumulation_steps`?", sgugger: "That's completely correct") against examples/nlp_example.py
#   (Jan 2022): `num_training_steps=len(train_dataloader) * num_epochs` while `optimizer.step();
#   lr_scheduler.step()` run only `if step % gradient_accumulation_steps == 0`. Same family:
#   huggingface/diffusers#4387 (LR never reaches zero), axolotl-ai-cloud/axolotl#1170.
# Bug: the scheduler is stepped len(train_dataloader) * num_epochs / GRADIENT_ACCUMULATION_STEPS times
#   (= 1/4 of its horizon here), so the linear decay stops at ~75% of the peak LR: the annealing never
#   happens.
# Why it is a bug: get_linear_schedule_with_warmup counts scheduler.step() calls; the scheduler is not
#   prepared, so Accelerate does not rescale anything.
# Expected: LR109 at the constructor (run covers 25% of the schedule).
import argparse

import torch
from accelerate import Accelerator
from datasets import load_dataset
from torch.utils.data import DataLoader
from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup, set_seed

EVAL_BATCH_SIZE = 32
GRADIENT_ACCUMULATION_STEPS = 4


def get_dataloaders(tokenizer, batch_size):
    datasets = load_dataset("glue", "mrpc")

    def tokenize_function(examples):
        return tokenizer(examples["sentence1"], examples["sentence2"], truncation=True, max_length=None)

    tokenized = datasets.map(tokenize_function, batched=True, remove_columns=["idx", "sentence1", "sentence2"])
    tokenized = tokenized.rename_column("label", "labels")

    def collate_fn(examples):
        return tokenizer.pad(examples, padding="longest", return_tensors="pt")

    train_dataloader = DataLoader(tokenized["train"], shuffle=True, collate_fn=collate_fn, batch_size=batch_size)
    eval_dataloader = DataLoader(tokenized["validation"], shuffle=False, collate_fn=collate_fn, batch_size=EVAL_BATCH_SIZE)
    return train_dataloader, eval_dataloader


def training_function(config, args):
    accelerator = Accelerator(cpu=args.cpu, mixed_precision=args.mixed_precision)
    lr = config["lr"]
    num_epochs = int(config["num_epochs"])
    batch_size = int(config["batch_size"])
    set_seed(int(config["seed"]))

    tokenizer = AutoTokenizer.from_pretrained("bert-base-cased")
    train_dataloader, eval_dataloader = get_dataloaders(tokenizer, batch_size)
    model = AutoModelForSequenceClassification.from_pretrained("bert-base-cased", return_dict=True)
    model = model.to(accelerator.device)
    optimizer = torch.optim.AdamW(params=model.parameters(), lr=lr)

    model, optimizer, train_dataloader, eval_dataloader = accelerator.prepare(
        model, optimizer, train_dataloader, eval_dataloader
    )

    # Instantiate learning rate scheduler after preparing the training dataloader as the prepare method
    # may change its length.
    lr_scheduler = get_linear_schedule_with_warmup(  # expect: LR109
        optimizer=optimizer,
        num_warmup_steps=100,
        num_training_steps=len(train_dataloader) * num_epochs,
    )

    for epoch in range(num_epochs):
        model.train()
        for step, batch in enumerate(train_dataloader):
            outputs = model(**batch)
            loss = outputs.loss / GRADIENT_ACCUMULATION_STEPS
            accelerator.backward(loss)
            if step % GRADIENT_ACCUMULATION_STEPS == 0:
                optimizer.step()
                lr_scheduler.step()
                optimizer.zero_grad()

        model.eval()
        correct, total = 0, 0
        for batch in eval_dataloader:
            with torch.no_grad():
                outputs = model(**batch)
            predictions = outputs.logits.argmax(dim=-1)
            predictions, references = accelerator.gather_for_metrics((predictions, batch["labels"]))
            correct += (predictions == references).sum().item()
            total += references.numel()
        accelerator.print(f"epoch {epoch}: accuracy={correct / total:.4f}")


def main():
    parser = argparse.ArgumentParser(description="Simple example of training script.")
    parser.add_argument("--mixed_precision", type=str, default="no", choices=["no", "fp16", "bf16"])
    parser.add_argument("--cpu", action="store_true")
    args = parser.parse_args()
    config = {"lr": 2e-5, "num_epochs": 3, "seed": 42, "batch_size": 16}
    training_function(config, args)


if __name__ == "__main__":
    main()
