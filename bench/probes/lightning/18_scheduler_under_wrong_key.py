# Probe 18: ReduceLROnPlateau returned under the key "scheduler" instead of "lr_scheduler", with verbose=True.
#
# Source:
#   - Lightning-AI/pytorch-lightning issue #4454 "ReduceLROnPlateau Scheduler documentation problem":
#     `return {'optimizer': optimizer, 'scheduler': scheduler, 'monitor': 'val_loss'}` with
#     `ReduceLROnPlateau(optimizer, patience=1, verbose=True)`; "the Scheduler was not working ...
#     trainer.lr_schedulers gives an empty list".
#   - `verbose` deprecation: pytorch/pytorch PR #111302 "Deprecated verbose parameter in LR schedulers";
#     removals in downstream projects (e.g. scverse/scvi-tools PR #3297, gszfwsb/NCFM PR #11: TypeError
#     on recent torch).
# Bugs:
#   1. LR104: Lightning ignores the "scheduler" key, so the plateau scheduler is never stepped.
#   2. LR202: `verbose=` is deprecated (torch 2.2) and rejected by recent torch.
# Lightning 2.x semantics checked (src/lightning/pytorch/core/optimizer.py):
#   single-dict branch: `lr_schedulers = [optim_conf["lr_scheduler"]] if "lr_scheduler" in optim_conf else []`;
#   `_validate_optim_conf` only warns "Found unsupported keys in the optimizer configuration: {'scheduler'}".
import pytorch_lightning as pl
import torch
from torch import nn

LEARNING_RATE = 3e-4
WEIGHT_DECAY = 1e-6


class LeafDiseaseClassifier(pl.LightningModule):
    def __init__(self, backbone: nn.Module, n_classes: int = 5):
        super().__init__()
        self.backbone = backbone
        self.fc = nn.Linear(backbone.num_features, n_classes)
        self.criterion = nn.CrossEntropyLoss()

    def forward(self, x):
        return self.fc(self.backbone(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.criterion(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", self.criterion(self(x), y), prog_bar=True)

    def configure_optimizers(self):
        optimizer = torch.optim.Adam(
            params=self.parameters(),
            lr=LEARNING_RATE,
            weight_decay=WEIGHT_DECAY,
        )
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(  # expect: LR104
            optimizer,
            patience=1,
            verbose=True,  # expect: LR202
        )
        return {
            "optimizer": optimizer,
            "scheduler": scheduler,
            "monitor": "val_loss",
        }
