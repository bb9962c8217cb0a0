# Probe 16: the timm workaround `scheduler.step(epoch=self.current_epoch)` kept after switching to a
# torch scheduler.
#
# Source:
#   - Lightning's own docstring for `LightningModule.lr_scheduler_step` (src/lightning/pytorch/core/module.py):
#     "# Alternative way to update schedulers if it requires an epoch value
#      def lr_scheduler_step(self, scheduler, metric): scheduler.step(epoch=self.current_epoch)".
#   - Many public modules copy it for timm (`create_scheduler_v2(...)` + `scheduler.step(epoch=self.current_epoch)`,
#     the workaround those modules cite as Lightning-AI/lightning issue #5555).  Here the module switched
#     from timm's CosineLRScheduler to torch's CosineAnnealingLR and the override stayed.
# Bug:
#   torch.optim.lr_scheduler.CosineAnnealingLR.step(epoch) is the deprecated form (EPOCH_DEPRECATION_WARNING);
#   it switches to the closed form and pins `last_epoch` to the value passed.  `current_epoch` is not yet
#   incremented when the epoch-interval step runs, so the scheduler is set to the epoch that just ended:
#   the LR lags one epoch behind the intended schedule (epoch 1 still trains at the base LR).
# Lightning 2.x semantics checked: `lr_scheduler_step` is called from loops/training_epoch_loop.py
#   `_update_learning_rates` at the last batch of the epoch, before `current_epoch` is incremented
#   (trainer.current_epoch = fit_loop.epoch_progress.current.completed).
import lightning as L
import timm
import torch

from .data import build_datamodule


class TimmClassifier(L.LightningModule):
    def __init__(self, arch: str = "resnet50", lr: float = 0.1, epochs: int = 100, warmup_epochs: int = 5):
        super().__init__()
        self.save_hyperparameters()
        self.model = timm.create_model(arch, pretrained=False, num_classes=1000)
        self.criterion = torch.nn.CrossEntropyLoss(label_smoothing=0.1)

    def training_step(self, batch, batch_idx):
        images, targets = batch
        loss = self.criterion(self.model(images), targets)
        self.log("train/loss", loss, sync_dist=True)
        return loss

    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.parameters(), lr=self.hparams.lr, momentum=0.9, weight_decay=5e-5, nesterov=True)
        # was: timm.scheduler.CosineLRScheduler(optimizer, t_initial=epochs, warmup_t=warmup_epochs, ...)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=self.hparams.epochs, eta_min=1e-5)
        return dict(optimizer=optimizer, lr_scheduler=dict(scheduler=scheduler, interval="epoch", frequency=1))

    def lr_scheduler_step(self, scheduler, metric):
        scheduler.step(epoch=self.current_epoch)  # expect: LR302


if __name__ == "__main__":
    dm = build_datamodule("imagenet", batch_size=256)
    L.Trainer(max_epochs=100, precision="bf16-mixed").fit(TimmClassifier(epochs=100), datamodule=dm)
