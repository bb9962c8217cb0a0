# Probe 28 (CLEAN): two schedulers on one optimizer, stepped in mutually exclusive phases (warmup, then
# cosine), kept on `self` and both checkpointed.
#
# Source: the hand-written equivalent of torch SequentialLR (torch/optim/lr_scheduler.py: SequentialLR
#   steps only `self._schedulers[idx]` for the current phase). This if/else shape is common in training
#   scripts written before SequentialLR existed (torch < 1.10), e.g. warmup followed by cosine in detection
#   and ViT recipes (facebookresearch/ConvNeXt PR #91 discusses the same warmup/cosine split).
# Traps for a naive linter: LR105 (two schedulers of one optimizer in the same loop -- but never both in
#   one iteration), LR102 (CosineAnnealingLR T_max and LinearLR total_iters are in iterations:
#   derived from len(loader)), LR401 (both state_dicts are saved).
# Expected: no findings.
import torch
import torch.nn as nn
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR
from torch.utils.data import DataLoader


class ViTTrainer:
    def __init__(self, model, train_set, epochs=100, warmup_epochs=5, lr=1e-3, batch_size=256):
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.model = model.to(self.device)
        self.loader = DataLoader(train_set, batch_size=batch_size, shuffle=True, drop_last=True, num_workers=8)
        self.epochs = epochs
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=lr, weight_decay=0.05)
        iters_per_epoch = len(self.loader)
        self.warmup_iters = warmup_epochs * iters_per_epoch
        self.total_iters = epochs * iters_per_epoch
        self.warmup_scheduler = LinearLR(self.optimizer, start_factor=1e-3, end_factor=1.0, total_iters=self.warmup_iters)
        self.cosine_scheduler = CosineAnnealingLR(self.optimizer, T_max=self.total_iters - self.warmup_iters, eta_min=1e-6)
        self.global_step = 0
        self.criterion = nn.CrossEntropyLoss()

    def step_schedulers(self):
        if self.global_step < self.warmup_iters:
            self.warmup_scheduler.step()
        else:
            self.cosine_scheduler.step()

    def train(self):
        for epoch in range(self.epochs):
            self.model.train()
            for images, targets in self.loader:
                images, targets = images.to(self.device), targets.to(self.device)
                self.optimizer.zero_grad(set_to_none=True)
                loss = self.criterion(self.model(images), targets)
                loss.backward()
                self.optimizer.step()
                self.step_schedulers()
                self.global_step += 1
            self.save(epoch)

    def save(self, epoch):
        torch.save(
            {
                "epoch": epoch,
                "global_step": self.global_step,
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "warmup_scheduler": self.warmup_scheduler.state_dict(),
                "cosine_scheduler": self.cosine_scheduler.state_dict(),
            },
            f"vit_epoch{epoch}.pt",
        )
