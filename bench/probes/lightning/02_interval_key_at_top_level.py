# Probe 02: "interval": "step" placed in the top-level optimizer dict instead of the scheduler dict.
#
# Source:
#   - Lightning-AI/pytorch-lightning issue #6948 "Learning rate interval update not working properly":
#     `return {"optimizer": optimizer, "lr_scheduler": scheduler, "monitor": "train_loss", 'interval': 'step'}`
#     with OneCycleLR(steps_per_epoch=len(train loader)).
#   - Lightning-AI/pytorch-lightning issue #4929 (same shape with a step-based LambdaLR).
# Bug:
#   The per-iteration OneCycleLR is stepped once per epoch because the "interval" key is not read.
# Lightning 2.x semantics checked (src/lightning/pytorch/core/optimizer.py):
#   - single-dict branch of `_configure_optimizers` reads only "optimizer", "lr_scheduler" and "monitor";
#     `_validate_optim_conf` warns "Found unsupported keys in the optimizer configuration: {'interval'}"
#     and the key is dropped.
#   - the bare scheduler becomes `LRSchedulerConfig(scheduler)` with the default interval "epoch".
import pytorch_lightning as pl
import torch
from torch import nn
from torch.utils.data import DataLoader


class SegmentationModule(pl.LightningModule):
    def __init__(self, net: nn.Module, train_set, cfg: dict):
        super().__init__()
        self.net = net
        self.train_set = train_set
        self.cfg = cfg
        self.criterion = nn.BCEWithLogitsLoss()

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.cfg["batch_size"], shuffle=True, num_workers=4)

    def training_step(self, batch, batch_idx):
        images, masks = batch
        loss = self.criterion(self.net(images), masks)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.net.parameters(), lr=self.cfg["lr"])
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer,
            max_lr=self.cfg["lr"],
            epochs=self.cfg["epochs"],
            steps_per_epoch=len(self.train_dataloader()),
        )
        return {"optimizer": optimizer, "lr_scheduler": scheduler, "monitor": "train_loss", "interval": "step"}  # expect: LR103


def fit(net: nn.Module, train_set, config: dict):
    module = SegmentationModule(net, train_set, config)
    trainer = pl.Trainer(max_epochs=config["epochs"], log_every_n_steps=10)
    trainer.fit(module)
