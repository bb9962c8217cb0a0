# Probe 05: OneCycleLR sized with len(train_dataloader) * epochs, but Trainer(accumulate_grad_batches=8).
#
# Source:
#   - hearai/hearai PR #70 (models/model.py): fix `steps_per_epoch = self.steps_per_epoch // self.trainer.accumulate_grad_batches`,
#     citing Lightning-AI/pytorch-lightning issue #1120 comment.
#   - Lightning-AI/pytorch-lightning issue #5449 "Number of steps per epoch" (tchaton: divide by
#     accumulate_grad_batches) and PR #11599 (estimated_stepping_batches added for exactly this).
# Bug:
#   Lightning steps an interval="step" scheduler only when the optimizer steps, i.e. once per 8 batches.
#   The schedule has len(loader) * max_epochs steps, the run performs 1/8 of them: with the default
#   pct_start=0.3 the LR is still in its warm-up ramp when training stops and never anneals.
# Lightning 2.x semantics checked (src/lightning/pytorch/loops/training_epoch_loop.py):
#   `update_lr_schedulers("step", ...)` returns early when `self._should_accumulate()` is true, so
#   "step" means optimizer step, not batch.  `Trainer.estimated_stepping_batches` =
#   ceil(num_training_batches / accumulate_grad_batches) * max_epochs (trainer/trainer.py).
import os

import lightning.pytorch as pl
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

BATCH_SIZE = 8
ACCUMULATE = 8
EPOCHS = 30


class AudioClips(Dataset):
    def __init__(self, root: str):
        self.root = root
        self.items = sorted(os.listdir(root))

    def __len__(self):
        return len(self.items)

    def __getitem__(self, idx):
        return torch.load(f"{self.root}/{self.items[idx]}")


class KeywordSpotter(pl.LightningModule):
    def __init__(self, data_root: str, lr: float = 1e-3):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Conv1d(40, 128, 3), nn.ReLU(), nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(128, 12))

    def train_dataloader(self):
        return DataLoader(AudioClips(self.hparams.data_root), batch_size=BATCH_SIZE, shuffle=True, drop_last=True)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.cross_entropy(self.net(x), y)
        self.log("loss", loss)
        return loss

    def configure_optimizers(self):
        optimizer = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
        steps_per_epoch = len(self.train_dataloader())
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=self.hparams.lr, steps_per_epoch=steps_per_epoch, epochs=EPOCHS)  # expect: LR109
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


if __name__ == "__main__":
    trainer = pl.Trainer(max_epochs=EPOCHS, accumulate_grad_batches=ACCUMULATE, precision="16-mixed")
    trainer.fit(KeywordSpotter("data/kws"))
