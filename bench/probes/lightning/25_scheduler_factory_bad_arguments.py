# Probe 25: a name -> scheduler factory used by configure_optimizers, with argument mistakes.
#
# Source:
#   - Scheduler factories of this shape are common in Lightning projects (e.g. a `match self.scheduler:
#     case "cos": CosineAnnealingLR(optimizer, T_max=self.trainer.max_epochs) ...` block found by exact-string
#     search for `T_max=self.trainer.max_epochs`).
#   - `min_lr` vs `eta_min`: ReduceLROnPlateau and most third-party cosine schedulers call the floor
#     `min_lr`, torch's CosineAnnealingLR calls it `eta_min` (huggingface/open-muse issue #144 and
#     tdrussell/qlora-pipe PR #38 show the naming confusion).
#   - `LinearLR(start_factor=0.0)` for a warm-up "from zero": torch rejects it with
#     "Starting multiplicative factor expected to be greater than 0 and less or equal to 1."
#     (RULES.md LR203 names `LinearLR(start_factor=0)` explicitly).
# Bugs:
#   1. LR201: `CosineAnnealingLR(..., min_lr=...)` -> TypeError: unexpected keyword argument 'min_lr'
#      (did you mean `eta_min`?).  Raised at fit start, when configure_optimizers runs.
#   2. LR203: `LinearLR(start_factor=0.0, ...)` -> ValueError at construction.
# Lightning 2.x semantics checked: configure_optimizers is called once at fit start by
#   core/optimizer.py `_init_optimizers_and_lr_schedulers`; the returned bare scheduler gets interval "epoch",
#   which matches the epoch-counted sizes below.
import lightning.pytorch as pl
import torch
from torch import optim


def build_scheduler(name: str, optimizer: optim.Optimizer, max_epochs: int):
    match name:
        case "cos":
            return optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max_epochs, min_lr=1e-6)  # expect: LR201
        case "warmup":
            return optim.lr_scheduler.LinearLR(optimizer, start_factor=0.0, end_factor=1.0, total_iters=5)  # expect: LR203
        case "multistep":
            return optim.lr_scheduler.MultiStepLR(optimizer, milestones=[30, 60, 90], gamma=0.2)
        case "plateau":
            return optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.1, patience=10, min_lr=1e-6)
        case _:
            raise ValueError(f"Invalid scheduler: {name}")


class LitModel(pl.LightningModule):
    def __init__(self, net: torch.nn.Module, lr: float = 0.1, scheduler: str = "cos"):
        super().__init__()
        self.net = net
        self.lr = lr
        self.scheduler = scheduler

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.cross_entropy(self.net(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", torch.nn.functional.cross_entropy(self.net(x), y))

    def configure_optimizers(self):
        optimizer = optim.SGD(self.parameters(), lr=self.lr, momentum=0.9, weight_decay=5e-4)
        scheduler = build_scheduler(self.scheduler, optimizer, self.trainer.max_epochs)
        if self.scheduler == "plateau":
            return {"optimizer": optimizer, "lr_scheduler": scheduler, "monitor": "val_loss"}
        return [optimizer], [scheduler]
