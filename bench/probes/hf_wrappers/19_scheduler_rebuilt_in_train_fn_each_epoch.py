# Probe 19: Kaggle-style `train_fn()` that builds the warmup/decay scheduler itself; the fold loop calls it
# once per epoch, so the schedule restarts every epoch.
#
# Source: Vision-CAIR/MiniGPT-4 PR #263 ("LR resets every epoch during warmup to warmup_start_lr because it
#   uses inner epoch step counter. We need to use total_cur_step to increment LR continuously from epoch to
#   epoch") -- same symptom, here caused by constructing the torch scheduler inside the per-epoch function.
#   transformers docs: get_linear_schedule_with_warmup(optimizer, num_warmup_steps, num_training_steps)
#   starts at step 0 (last_epoch=-1) on construction.
# Bug: every epoch gets a fresh LambdaLR: warmup is repeated each epoch and the LR never decays below
#   (1 - 1/epochs) of the peak, although num_training_steps spans all epochs.
# Why it is a bug: the scheduler is constructed inside the (epoch) loop that steps it.
# Expected: LR107 at the constructor inside train_fn (the epoch loop reaches it through the call).
# Also acceptable (marked also-ok): LR109 on the same line: each instance is stepped len(train_loader)
#   times, 1/epochs of its num_training_steps.
import argparse
import gc

import numpy as np
import torch
import torch.nn as nn
from sklearn.model_selection import StratifiedKFold
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm
from transformers import AutoModel, AutoTokenizer, get_linear_schedule_with_warmup


class EssayDataset(Dataset):
    def __init__(self, texts, labels, tokenizer, max_len):
        self.texts, self.labels, self.tokenizer, self.max_len = texts, labels, tokenizer, max_len

    def __len__(self):
        return len(self.texts)

    def __getitem__(self, idx):
        enc = self.tokenizer(self.texts[idx], truncation=True, max_length=self.max_len, padding="max_length", return_tensors="pt")
        item = {k: v.squeeze(0) for k, v in enc.items()}
        item["labels"] = torch.tensor(self.labels[idx], dtype=torch.float)
        return item


class RegressionModel(nn.Module):
    def __init__(self, name):
        super().__init__()
        self.backbone = AutoModel.from_pretrained(name)
        self.head = nn.Linear(self.backbone.config.hidden_size, 1)

    def forward(self, input_ids, attention_mask):
        hidden = self.backbone(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.head(hidden[:, 0]).squeeze(-1)


def train_fn(model, train_loader, optimizer, device, args):
    model.train()
    num_train_steps = len(train_loader) * args.epochs
    scheduler = get_linear_schedule_with_warmup(  # expect: LR107; also-ok: LR109
        optimizer, num_warmup_steps=int(0.1 * num_train_steps), num_training_steps=num_train_steps
    )
    losses = []
    for batch in tqdm(train_loader, total=len(train_loader)):
        input_ids = batch["input_ids"].to(device)
        attention_mask = batch["attention_mask"].to(device)
        labels = batch["labels"].to(device)
        optimizer.zero_grad()
        preds = model(input_ids, attention_mask)
        loss = nn.functional.mse_loss(preds, labels)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return float(np.mean(losses))


@torch.no_grad()
def valid_fn(model, valid_loader, device):
    model.eval()
    preds = []
    for batch in valid_loader:
        preds.append(model(batch["input_ids"].to(device), batch["attention_mask"].to(device)).cpu().numpy())
    return np.concatenate(preds)


def run_fold(fold, texts, labels, train_idx, valid_idx, tokenizer, device, args):
    train_ds = EssayDataset([texts[i] for i in train_idx], labels[train_idx], tokenizer, args.max_len)
    valid_ds = EssayDataset([texts[i] for i in valid_idx], labels[valid_idx], tokenizer, args.max_len)
    train_loader = DataLoader(train_ds, batch_size=args.batch_size, shuffle=True, num_workers=2, drop_last=True)
    valid_loader = DataLoader(valid_ds, batch_size=args.batch_size * 2, shuffle=False, num_workers=2)

    model = RegressionModel(args.model_name).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    best_rmse = np.inf
    for epoch in range(args.epochs):
        train_loss = train_fn(model, train_loader, optimizer, device, args)
        preds = valid_fn(model, valid_loader, device)
        rmse = float(np.sqrt(np.mean((preds - labels[valid_idx]) ** 2)))
        print(f"fold {fold} epoch {epoch}: train_loss={train_loss:.4f} rmse={rmse:.4f}")
        if rmse < best_rmse:
            best_rmse = rmse
            torch.save(model.state_dict(), f"model_fold{fold}.pt")
    del model, optimizer
    gc.collect()
    return best_rmse


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model_name", default="microsoft/deberta-v3-base")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--max_len", type=int, default=512)
    parser.add_argument("--n_folds", type=int, default=5)
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    tokenizer = AutoTokenizer.from_pretrained(args.model_name)
    texts = [line.rstrip("\n") for line in open("train.txt")]
    labels = np.loadtxt("labels.txt")
    skf = StratifiedKFold(n_splits=args.n_folds, shuffle=True, random_state=42)
    scores = []
    for fold, (train_idx, valid_idx) in enumerate(skf.split(texts, labels.round())):
        scores.append(run_fold(fold, texts, labels, train_idx, valid_idx, tokenizer, device, args))
    print("CV:", np.mean(scores))


if __name__ == "__main__":
    main()
