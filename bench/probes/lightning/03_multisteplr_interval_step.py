# Probe 03: epoch-milestone MultiStepLR registered with "interval": "step".
#
# Source:
#   - Pattern from Lightning-AI/pytorch-lightning issue #18570 (an epoch-sized schedule registered with
#     interval "step"; maintainer: "You set the num training steps to max_epochs but the interval for
#     scheduling to 'step'") and from the common copy of a OneCycleLR config block
#     (issue #4466 answer: `{'scheduler': OneCycleLR(...), 'interval': 'step'}`) onto an
#     ImageNet-style MultiStepLR recipe (milestones 30/60/80 epochs).
# Bug:
#   Milestones [30, 60, 80] count epochs, but Lightning steps the scheduler after every optimizer step:
#   the LR is divided by 1000 within the first 80 batches of epoch 0.
# Lightning 2.x semantics checked (src/lightning/pytorch/loops/training_epoch_loop.py):
#   `advance()` calls `update_lr_schedulers("step", ...)` after every batch (skipped only while
#   accumulating) and `_update_learning_rates` steps every config whose `interval == "step"`.
# Convention: LR102 expected at the "interval" value (Lightning has no user-written step()).
import lightning as L
import torch
from torch import nn
from torchvision.models import resnet50


SCHEDULER_DEFAULTS = {
    "name": "lr",
    "frequency": 1,
}


class ImageNetModule(L.LightningModule):
    def __init__(self, lr: float = 0.1, momentum: float = 0.9, weight_decay: float = 1e-4):
        super().__init__()
        self.save_hyperparameters()
        self.model = resnet50()
        self.criterion = nn.CrossEntropyLoss()

    def training_step(self, batch, batch_idx):
        images, target = batch
        loss = self.criterion(self.model(images), target)
        self.log("train/loss", loss, on_step=True, on_epoch=True)
        return loss

    def configure_optimizers(self):
        optimizer = torch.optim.SGD(
            self.model.parameters(),
            lr=self.hparams.lr,
            momentum=self.hparams.momentum,
            weight_decay=self.hparams.weight_decay,
        )
        scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[30, 60, 80], gamma=0.1)
        lr_scheduler_config = dict(SCHEDULER_DEFAULTS)
        lr_scheduler_config["scheduler"] = scheduler
        lr_scheduler_config["interval"] = "step"  # expect: LR102
        return {"optimizer": optimizer, "lr_scheduler": lr_scheduler_config}


if __name__ == "__main__":
    trainer = L.Trainer(max_epochs=90, devices=8, strategy="ddp")
    trainer.fit(ImageNetModule())
