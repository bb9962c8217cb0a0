# Probe 01: OneCycleLR sized in optimizer steps, returned without an "interval" (Lightning default: epoch).
#
# Source:
#   - Lightning-AI/pytorch-lightning PR #11599 review thread (docs/source/common/optimizers.rst):
#     the `estimated_stepping_batches` example returned `[optimizer], [scheduler]` and a reviewer
#     showed the cycle never completes because the default interval is "epoch".
#   - The same example is still in the docstring of `Trainer.estimated_stepping_batches`
#     (src/lightning/pytorch/trainer/trainer.py, stored version 000699b).
#   - Lightning-AI/pytorch-lightning issue #3869 (OneCycleLR in a dict without interval, LR constant).
# Bug:
#   total_steps = trainer.estimated_stepping_batches (number of optimizer steps for the whole run),
#   but the scheduler is returned bare, so Lightning steps it once per epoch.  After 20 epochs
#   the schedule is at 20/total_steps: the LR barely leaves its initial value (max_lr/div_factor).
# Lightning 2.x semantics checked:
#   - core/optimizer.py `_configure_optimizers`: `([opt], [sched])` shape -> bare scheduler list;
#     `_configure_schedulers_automatic_opt` wraps it as `LRSchedulerConfig(scheduler)`.
#   - utilities/types.py `LRSchedulerConfig.interval` defaults to "epoch".
#   - The OneCycleLR "interval: epoch" RuntimeWarning in `_configure_schedulers_automatic_opt` is only
#     emitted for the dict form, not for a bare scheduler: nothing warns here.
# Convention: with no "interval" key, LR103 is expected where the scheduler enters the returned structure.
import argparse

import lightning.pytorch as pl
import torch
from torch import nn
from torch.nn import functional as F


class LitClassifier(pl.LightningModule):
    def __init__(self, num_classes: int = 10, max_lr: float = 3e-3, weight_decay: float = 5e-4):
        super().__init__()
        self.save_hyperparameters()
        self.backbone = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 512), nn.ReLU())
        self.head = nn.Linear(512, num_classes)

    def forward(self, x):
        return self.head(self.backbone(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", F.cross_entropy(self(x), y), prog_bar=True)

    def configure_optimizers(self):
        optimizer = torch.optim.SGD(
            self.parameters(),
            lr=self.hparams.max_lr,
            momentum=0.9,
            weight_decay=self.hparams.weight_decay,
        )
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=self.hparams.max_lr, total_steps=self.trainer.estimated_stepping_batches
        )
        return [optimizer], [scheduler]  # expect: LR103


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--max_epochs", type=int, default=20)
    parser.add_argument("--max_lr", type=float, default=3e-3)
    args = parser.parse_args()
    model = LitClassifier(max_lr=args.max_lr)
    trainer = pl.Trainer(max_epochs=args.max_epochs, accelerator="auto")
    trainer.fit(model)


if __name__ == "__main__":
    main()
