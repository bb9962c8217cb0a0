# Probe 13: a per-iteration OneCycleLR whose horizon is the number of epochs, stepped per optimizer step.
#
# Source: ScrollPrize/villa PR #1495 ("Fix per-iteration LR schedulers being given an epoch count as their
#   horizon": `_get_scheduler` passed `max_steps=self.mgr.max_epoch`, but "onecycle, cyclic, cosine_warmup
#   ... are stepped once per optimizer step ... The horizon is therefore short by however many steps an
#   epoch takes"). torch: OneCycleLR.get_lr raises
#   `ValueError("Tried to step {} times. The specified number of total steps is {}")` once
#   `last_epoch > total_steps` (pytorch/pytorch#38170 quotes the check).
# Bug: total_steps = max_epoch, but the scheduler is stepped max_epoch * len(train_loader) times: the run
#   crashes with ValueError once max_epoch optimizer steps have run, i.e. after max_epoch / len(train_loader)
#   of the max_epoch epochs, instead of annealing over the whole run.
# Why it is a bug: OneCycleLR counts scheduler.step() calls; here they happen per batch.
# Expected: LR108 at the OneCycleLR constructor (error severity: OneCycleLR raises).
# Also acceptable (marked also-ok): LR102 on the same line -- total_steps is an epoch count
#   (`max_epoch`) and the scheduler is stepped in the batch loop.
import os
from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.optim.lr_scheduler import OneCycleLR
from torch.utils.data import DataLoader


@dataclass
class ConfigManager:
    max_epoch: int = 1000
    initial_lr: float = 1e-3
    batch_size: int = 2
    ckpt_out_base: str = "checkpoints"
    model_name: str = "surface_unet"


class VolumeTrainer:
    def __init__(self, mgr: ConfigManager, model: nn.Module, train_dataset):
        self.mgr = mgr
        self.model = model
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.train_loader = DataLoader(train_dataset, batch_size=mgr.batch_size, shuffle=True, num_workers=4)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=mgr.initial_lr, weight_decay=3e-5)
        self.scheduler = self._get_scheduler(self.optimizer)
        self.loss_fn = nn.BCEWithLogitsLoss()

    def _get_scheduler(self, optimizer):
        return OneCycleLR(  # expect: LR108; also-ok: LR102
            optimizer,
            max_lr=self.mgr.initial_lr,
            total_steps=self.mgr.max_epoch,
            pct_start=0.3,
        )

    def train(self):
        self.model.to(self.device)
        os.makedirs(self.mgr.ckpt_out_base, exist_ok=True)
        for epoch in range(self.mgr.max_epoch):
            self.model.train()
            epoch_loss = 0.0
            for i, batch in enumerate(self.train_loader):
                volume = batch["image"].to(self.device, non_blocking=True)
                target = batch["label"].to(self.device, non_blocking=True)
                self.optimizer.zero_grad(set_to_none=True)
                loss = self.loss_fn(self.model(volume), target)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), 12.0)
                self.optimizer.step()
                self.scheduler.step()
                epoch_loss += loss.item()
            print(f"epoch {epoch}: loss={epoch_loss / len(self.train_loader):.4f} lr={self.scheduler.get_last_lr()[0]:.2e}")
            torch.save(
                {
                    "model": self.model.state_dict(),
                    "optimizer": self.optimizer.state_dict(),
                    "scheduler": self.scheduler.state_dict(),
                    "epoch": epoch,
                },
                os.path.join(self.mgr.ckpt_out_base, f"{self.mgr.model_name}_{epoch}.pth"),
            )
