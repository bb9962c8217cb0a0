# Probe 23: `build_scheduler(cfg, optimizer, steps_per_epoch)` assembles warmup -> hold -> cosine with
# SequentialLR but passes one milestone for three schedulers.
#
# Source: torch/optim/lr_scheduler.py SequentialLR.__init__: `if len(milestones) != len(schedulers) - 1:
#   raise ValueError("Sequential Schedulers expects number of schedulers provided to be one more than the
#   number of milestone points, but got number of schedulers {} and the number of milestones to be equal
#   to {}")`; pytorch/pytorch PR #69817 (SequentialLR signature/docs). The shape (a third "hold" phase added
#   to an existing warmup+cosine recipe) is the usual way this happens in config-driven trainers.
# Bug: construction raises ValueError before the first step; with the intended 2 milestones the phases
#   would be warmup_iters and warmup_iters + hold_iters.
# Why it is a bug: the milestones list is a literal of length 1 for 3 schedulers.
# Expected: LR203 at the `milestones=` argument.
from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.optim.lr_scheduler import ConstantLR, CosineAnnealingLR, LinearLR, SequentialLR
from torch.utils.data import DataLoader


@dataclass
class TrainConfig:
    epochs: int = 300
    warmup_epochs: int = 5
    hold_epochs: int = 10
    lr: float = 5e-4
    min_lr: float = 1e-6
    weight_decay: float = 0.05
    batch_size: int = 128


def build_optimizer(cfg, model):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim <= 1 or name.endswith(".bias") else decay).append(p)
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr,
    )


def build_scheduler(cfg, optimizer, steps_per_epoch):
    warmup_iters = cfg.warmup_epochs * steps_per_epoch
    hold_iters = cfg.hold_epochs * steps_per_epoch
    total_iters = cfg.epochs * steps_per_epoch
    warmup = LinearLR(optimizer, start_factor=0.01, end_factor=1.0, total_iters=warmup_iters)
    hold = ConstantLR(optimizer, factor=1.0, total_iters=hold_iters)
    cosine = CosineAnnealingLR(optimizer, T_max=total_iters - warmup_iters - hold_iters, eta_min=cfg.min_lr)
    return SequentialLR(
        optimizer,
        schedulers=[warmup, hold, cosine],
        milestones=[warmup_iters],  # expect: LR203
    )


class Trainer:
    def __init__(self, cfg, model, train_set):
        self.cfg = cfg
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.model = model.to(self.device)
        self.loader = DataLoader(train_set, batch_size=cfg.batch_size, shuffle=True, drop_last=True, num_workers=8)
        self.optimizer = build_optimizer(cfg, self.model)
        self.scheduler = build_scheduler(cfg, self.optimizer, steps_per_epoch=len(self.loader))
        self.criterion = nn.CrossEntropyLoss(label_smoothing=0.1)

    def fit(self):
        for epoch in range(self.cfg.epochs):
            self.model.train()
            for images, targets in self.loader:
                images, targets = images.to(self.device), targets.to(self.device)
                self.optimizer.zero_grad(set_to_none=True)
                loss = self.criterion(self.model(images), targets)
                loss.backward()
                self.optimizer.step()
                self.scheduler.step()
            torch.save(
                {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                 "scheduler": self.scheduler.state_dict(), "epoch": epoch},
                "checkpoint.pth",
            )
