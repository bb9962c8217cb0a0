# Probe 27 (CLEAN): `transformers.get_scheduler("reduce_lr_on_plateau", ...)` stepped once per epoch with
# the validation loss.
#
# Source: huggingface/transformers src/transformers/optimization.py `get_scheduler`:
#   `if name == SchedulerType.REDUCE_ON_PLATEAU: return schedule_func(optimizer, **scheduler_specific_kwargs)`
#   where schedule_func is `get_reduce_on_plateau_schedule` -> `ReduceLROnPlateau(optimizer, **kwargs)`
#   ("Return: torch.optim.lr_scheduler.ReduceLROnPlateau"). So not every transformers factory returns a
#   per-iteration LambdaLR: get_scheduler's class depends on its `name` argument (and it returns a
#   LayerWiseDummyScheduler for layer-wise optimizers).
# Traps for a naive linter: LR103 (treating every transformers factory as a per-iteration LambdaLR stepped
#   per epoch), LR302 (`step(val_loss)` read as the deprecated epoch argument), LR301 (metric is passed).
# Expected: no findings.
import argparse

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm
from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_scheduler


def evaluate(model, loader, device):
    model.eval()
    total, n = 0.0, 0
    with torch.no_grad():
        for batch in loader:
            batch = {k: v.to(device) for k, v in batch.items()}
            total += model(**batch).loss.item() * batch["labels"].size(0)
            n += batch["labels"].size(0)
    return total / n


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model_name_or_path", default="roberta-base")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--patience", type=int, default=2)
    args = parser.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    tokenizer = AutoTokenizer.from_pretrained(args.model_name_or_path)
    model = AutoModelForSequenceClassification.from_pretrained(args.model_name_or_path, num_labels=3).to(device)
    train_set = torch.load("train_features.pt")
    valid_set = torch.load("valid_features.pt")
    train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
    valid_loader = DataLoader(valid_set, batch_size=64)

    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr)
    lr_scheduler = get_scheduler(
        "reduce_lr_on_plateau",
        optimizer=optimizer,
        scheduler_specific_kwargs={"mode": "min", "factor": 0.5, "patience": args.patience},
    )

    best = float("inf")
    for epoch in range(args.epochs):
        model.train()
        for batch in tqdm(train_loader, desc=f"epoch {epoch}"):
            batch = {k: v.to(device) for k, v in batch.items()}
            loss = model(**batch).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        val_loss = evaluate(model, valid_loader, device)
        lr_scheduler.step(val_loss)
        print(f"epoch {epoch}: val_loss={val_loss:.4f} lr={optimizer.param_groups[0]['lr']:.2e}")
        if val_loss < best:
            best = val_loss
            model.save_pretrained("best")
            tokenizer.save_pretrained("best")


if __name__ == "__main__":
    main()
