# Probe 15: a Trainer class logs the LR through `get_lr()` on the scheduler it keeps on `self`.
#
# Source: likyoo/Siam-NestedUNet issue #33 ("Use get_last_lr() instead of get_lr()"), ZhaoZhibin/UDTL#21
#   ("otherwise the lr printed will be incorrect at the lr step epoch"), HarukiYqM/Non-Local-Sparse-Attention#2
#   (legacy EDSR trainer), pytorch/pytorch#31871: with StepLR(step_size=5, gamma=0.5), `get_lr()` printed
#   0.025 at the decay epoch while the optimizer used 0.05; maintainer: "get_lr was not meant to be the
#   appropriate way of getting the learning rate ... The correct way is scheduler.get_last_lr".
# Bug: get_lr() recomputes the chainable formula from the *current* LR, so at every decay epoch the
#   logged value is gamma times the real one; torch also warns on each call outside step().
# Expected: LR303 at the get_lr() call.
import argparse
import os

import torch
import torch.nn as nn
from torch.optim import lr_scheduler
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter


def make_optimizer(args, model):
    return torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.999), weight_decay=args.weight_decay)


def make_scheduler(args, optimizer):
    return lr_scheduler.StepLR(optimizer, step_size=args.lr_decay_epochs, gamma=args.gamma)


class ChangeDetectionTrainer:
    def __init__(self, args, model, train_set, val_set):
        self.args = args
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.model = model.to(self.device)
        self.train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, num_workers=4)
        self.val_loader = DataLoader(val_set, batch_size=args.batch_size)
        self.criterion = nn.BCEWithLogitsLoss()
        self.optimizer = make_optimizer(args, self.model)
        self.lr_scheduler = make_scheduler(args, self.optimizer)
        self.writer = SummaryWriter(os.path.join(args.log_dir, "tb"))

    def train_epoch(self, epoch):
        self.model.train()
        lr = self.lr_scheduler.get_lr()[0]  # expect: LR303
        self.writer.add_scalar("train/lr", lr, epoch)
        total = 0.0
        for batch_img1, batch_img2, labels in self.train_loader:
            batch_img1 = batch_img1.to(self.device)
            batch_img2 = batch_img2.to(self.device)
            labels = labels.float().to(self.device)
            self.optimizer.zero_grad()
            preds = self.model(batch_img1, batch_img2)
            loss = self.criterion(preds, labels)
            loss.backward()
            self.optimizer.step()
            total += loss.item()
        self.lr_scheduler.step()
        return total / len(self.train_loader)

    @torch.no_grad()
    def validate(self):
        self.model.eval()
        total = 0.0
        for batch_img1, batch_img2, labels in self.val_loader:
            preds = self.model(batch_img1.to(self.device), batch_img2.to(self.device))
            total += self.criterion(preds, labels.float().to(self.device)).item()
        return total / len(self.val_loader)

    def fit(self):
        best = float("inf")
        for epoch in range(self.args.epochs):
            train_loss = self.train_epoch(epoch)
            val_loss = self.validate()
            self.writer.add_scalars("loss", {"train": train_loss, "val": val_loss}, epoch)
            if val_loss < best:
                best = val_loss
                torch.save(self.model.state_dict(), os.path.join(self.args.log_dir, "best_model.pt"))


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--weight_decay", type=float, default=1e-4)
    parser.add_argument("--lr_decay_epochs", type=int, default=8)
    parser.add_argument("--gamma", type=float, default=0.5)
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--log_dir", default="logs")
    return parser.parse_args()
