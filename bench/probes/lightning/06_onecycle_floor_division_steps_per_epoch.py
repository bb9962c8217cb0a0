# Probe 06: OneCycleLR steps_per_epoch computed with floor division while the DataLoader keeps the
# last partial batch.
#
# Source:
#   - Lightning-AI/pytorch-lightning issue #3205 "OneCycleLR scheduler looks wrong":
#     `steps_per_epoch=int((ds_len/total_bs))` with `'interval': 'step'`.
#   - hearai/hearai PR #98, which links the Lightning forum thread
#     "lr_scheduler.OneCycleLR ValueError: Tried to step X+2 times. The specified number of total steps is X".
# Bug:
#   len(dataset) // batch_size undercounts the batches of a DataLoader with drop_last=False
#   (it yields ceil(len/bs) batches).  OneCycleLR then has fewer total steps than the run performs
#   and raises "Tried to step N times. The specified number of total steps is M" in the last epoch
#   (with 50_000 samples and batch 96: 520 vs 521 batches per epoch).
# Lightning 2.x semantics checked: interval "step" configs are stepped once per optimizer step
#   (loops/training_epoch_loop.py `update_lr_schedulers`), i.e. once per batch here (no accumulation).
import pytorch_lightning as pl
import torch
from torch import nn
from torch.utils.data import DataLoader


class LitResNet(pl.LightningModule):
    def __init__(self, model: nn.Module, train_ds, val_ds, batch_size: int = 96, lr: float = 0.05, epochs: int = 30):
        super().__init__()
        self.model = model
        self.train_ds = train_ds
        self.val_ds = val_ds
        self.batch_size = batch_size
        self.lr = lr
        self.epochs = epochs

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=self.batch_size, shuffle=True, num_workers=8)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=self.batch_size * 2, num_workers=8)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.cross_entropy(self.model(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.model.parameters(), lr=self.lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
        steps_per_epoch = len(self.train_ds) // self.batch_size
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=self.lr, epochs=self.epochs, steps_per_epoch=steps_per_epoch)  # expect: LR108
        return [optimizer], [{"scheduler": scheduler, "interval": "step"}]


def train(model: nn.Module, train_ds, val_ds):
    module = LitResNet(model, train_ds, val_ds, batch_size=96, lr=0.05, epochs=30)
    trainer = pl.Trainer(max_epochs=30, devices=1)
    trainer.fit(module)
