# Probe 21: ReduceLROnPlateau in an lr_scheduler *dict* with "monitor" put at the top level.
#
# Source:
#   - QData/spacetimeformer issues #79 and #94, LearnedVector/A-Hackers-AI-Voice-Assistant issues
#     #29/#54/#67: "MisconfigurationException: `configure_optimizers` must include a monitor when a
#     `ReduceLROnPlateau` scheduler is used".
#   - txie-93/cdvae issue #43 (the dict form {"scheduler": ..., "monitor": "val_loss", "strict": False}).
# Bug:
#   The top-level "monitor" is only used when "lr_scheduler" is a bare scheduler.  For the dict form
#   Lightning looks for "monitor" inside the dict, finds none, and raises
#   "The lr scheduler dict must include a monitor when a `ReduceLROnPlateau` scheduler is used" at fit
#   start: Lightning has no metric to pass to `ReduceLROnPlateau.step(metrics)`.
#   Expected: LR301 (plateau stepped without its metric) where the plateau scheduler enters the dict;
#   a linter that models Lightning's monitor lookup should see that no metric reaches step().
# Lightning 2.x semantics checked (src/lightning/pytorch/core/optimizer.py `_configure_schedulers_automatic_opt`):
#   dict branch: `if scheduler["reduce_on_plateau"] and scheduler.get("monitor") is None: raise ...`;
#   the `monitor` argument (from the top-level key) is consulted only in the bare-ReduceLROnPlateau branch.
import lightning.pytorch as pl
import torch
from torch import nn


class Forecaster(pl.LightningModule):
    def __init__(self, model: nn.Module, learning_rate: float = 1e-4, decay_factor: float = 0.8, patience: int = 3):
        super().__init__()
        self.model = model
        self.learning_rate = learning_rate
        self.decay_factor = decay_factor
        self.patience = patience

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.mse_loss(self.model(x), y)
        self.log("train/mse", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val/loss", nn.functional.mse_loss(self.model(x), y), sync_dist=True)

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.learning_rate, weight_decay=1e-2)
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="min", factor=self.decay_factor, patience=self.patience
        )
        return {
            "optimizer": optimizer,
            "lr_scheduler": {
                "scheduler": scheduler,  # expect: LR301
                "interval": "epoch",
                "frequency": 1,
            },
            "monitor": "val/loss",
        }
