# Clean probe 30: timm scheduler with the documented lr_scheduler_step override.
#
# Source: src/lightning/pytorch/core/module.py `lr_scheduler_step` docstring ("Alternative way to update
#   schedulers if it requires an epoch value: scheduler.step(epoch=self.current_epoch)") and public modules
#   using `timm.scheduler.CosineLRScheduler` + `scheduler.step(epoch=self.current_epoch)`.
# Why it is correct under Lightning 2.x: timm schedulers are not torch LRScheduler subclasses, so Lightning
#   requires an `lr_scheduler_step` override (core/optimizer.py `_validate_scheduler_api` raises otherwise);
#   timm's `step(epoch)` takes the epoch index by design.  Interval "epoch" and sizes in epochs agree.
# Trap: LR302 must stay silent (RULES.md: "nor for non-torch schedulers such as timm's").
import lightning.pytorch as pl
import timm.scheduler
import torch


class LitModel(pl.LightningModule):
    def __init__(self, args):
        super().__init__()
        self.save_hyperparameters()
        self.args = args
        self.model = timm.create_model(args.arch, num_classes=1000)
        self.criterion = torch.nn.CrossEntropyLoss()

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.criterion(self.model(x), y)
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.parameters(), lr=self.args.learning_rate, weight_decay=self.args.weight_decay, momentum=0.9, nesterov=True)
        scheduler = timm.scheduler.CosineLRScheduler(
            optimizer,
            t_initial=self.args.num_epochs,
            lr_min=1e-5,
            warmup_lr_init=1e-3,
            warmup_t=5,
            cycle_limit=1,
        )
        return [optimizer], [{"scheduler": scheduler, "interval": "epoch"}]

    def lr_scheduler_step(self, scheduler, metric):
        scheduler.step(epoch=self.current_epoch)
