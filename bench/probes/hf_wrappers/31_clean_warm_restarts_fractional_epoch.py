# Probe 31 (CLEAN): CosineAnnealingWarmRestarts stepped per batch with a fractional epoch, the usage the
# torch docs show, inside a Trainer class whose scheduler comes from a helper.
#
# Source: torch docs for CosineAnnealingWarmRestarts.step: "Step could be called after every batch update"
#   with the example `scheduler.step(epoch + i / iters)`; RULES.md LR302 exempts this class ("fractional
#   epochs are its documented API"). espnet PR #3319 notes CosineAnnealingWarmRestarts "is also per
#   iteration" when used this way.
# Traps for a naive linter: LR302 (step(epoch) form), LR102 (T_0 counts epochs and the call is in the
#   batch loop -- but the fractional epoch argument keeps it in epoch units).
# Expected: no findings.
import torch
import torch.nn as nn
from torch.optim.lr_scheduler import CosineAnnealingWarmRestarts
from torch.utils.data import DataLoader


def make_scheduler(optimizer, restart_epochs=10, mult=2, min_lr=1e-6):
    return CosineAnnealingWarmRestarts(optimizer, T_0=restart_epochs, T_mult=mult, eta_min=min_lr)


class SegmentationTrainer:
    def __init__(self, model, train_set, epochs=70, lr=3e-4, batch_size=8):
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.model = model.to(self.device)
        self.loader = DataLoader(train_set, batch_size=batch_size, shuffle=True, num_workers=4)
        self.epochs = epochs
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=lr, weight_decay=1e-4)
        self.scheduler = make_scheduler(self.optimizer)
        self.criterion = nn.CrossEntropyLoss(ignore_index=255)

    def train(self):
        iters = len(self.loader)
        for epoch in range(self.epochs):
            self.model.train()
            for i, (images, masks) in enumerate(self.loader):
                images, masks = images.to(self.device), masks.to(self.device)
                self.optimizer.zero_grad()
                loss = self.criterion(self.model(images), masks)
                loss.backward()
                self.optimizer.step()
                self.scheduler.step(epoch + i / iters)
            torch.save(
                {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                 "scheduler": self.scheduler.state_dict(), "epoch": epoch},
                "seg_last.pt",
            )
