# Clean probe 27: ReduceLROnPlateau with "monitor" inside the scheduler dict and frequency equal to
# check_val_every_n_epoch.
#
# Source: the configure_optimizers docstring in src/lightning/pytorch/core/module.py ("If 'monitor'
#   references validation metrics, then 'frequency' should be set to a multiple of
#   'trainer.check_val_every_n_epoch'") and txie-93/cdvae issue #43 (dict form with "strict": False).
# Why it is correct under Lightning 2.x:
#   - core/optimizer.py: the dict form carries its own "monitor"; reduce_on_plateau is detected from the class;
#   - loops/training_epoch_loop.py: plateau configs are stepped with `scheduler.step(monitor_val)` via
#     `lr_scheduler_step`, on epochs where `(current_epoch + 1) % frequency == 0` - here the epochs on which
#     validation ran, so the metric is fresh.
# Traps: a plateau scheduler with no user-written step(metric) (not LR301/LR104); frequency=2 (not a
#   "stepped every other epoch" bug); `verbose` absent.
import lightning.pytorch as pl
import torch
from torch import nn

CHECK_VAL_EVERY = 2


class PropertyPredictor(pl.LightningModule):
    def __init__(self, encoder: nn.Module, lr: float = 5e-4):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(256, 1)
        self.lr = lr

    def training_step(self, batch, batch_idx):
        loss = nn.functional.l1_loss(self.head(self.encoder(batch)).squeeze(-1), batch.y)
        self.log("train_mae", loss, batch_size=batch.num_graphs)
        return loss

    def validation_step(self, batch, batch_idx):
        loss = nn.functional.l1_loss(self.head(self.encoder(batch)).squeeze(-1), batch.y)
        self.log("val_loss", loss, batch_size=batch.num_graphs, sync_dist=True)

    def configure_optimizers(self):
        optimizer = torch.optim.Adam(self.parameters(), lr=self.lr)
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.6, patience=5, min_lr=1e-5)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {
                "scheduler": scheduler,
                "monitor": "val_loss",
                "interval": "epoch",
                "frequency": CHECK_VAL_EVERY,
                "strict": True,
            },
        }


if __name__ == "__main__":
    trainer = pl.Trainer(max_epochs=300, check_val_every_n_epoch=CHECK_VAL_EVERY)
