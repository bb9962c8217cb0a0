# Probe 17: the documented "manual warm-up in optimizer_step" combined with a registered scheduler.
#
# Source:
#   - src/lightning/pytorch/core/module.py, docstring of `optimizer_step`: "# Learning rate warm-up ...
#     # manually warm up lr without a scheduler: if self.trainer.global_step < 500: ... pg['lr'] = lr_scale * self.learning_rate".
#   - Lightning-AI/pytorch-lightning issue #4902 "conflicts of warm-up and lr scheduler": "this warm-up
#     method will override lr_scheduler's change".
#   - Lightning-AI/pytorch-lightning issue #17972 (the same example with a scheduler from
#     `configure_optimizers`; "warmup only starts from the second epoch").
# Bug:
#   Two writers own param_group["lr"]: the hand-written warm-up (every optimizer step while
#   global_step < 500) and MultiStepLR (at every epoch end).  On a small dataset the 500 warm-up steps
#   span several epochs, so the warm-up overwrites whatever the scheduler set at each epoch boundary,
#   and the scheduler (chainable: it multiplies the current LR) then decays from the warm-up value
#   instead of from its own base_lrs.  Issue #4902 asks exactly how to make the two cooperate;
#   the fix is one scheduler (SequentialLR/LinearLR warm-up + MultiStepLR, or a LambdaLR).
# Lightning 2.x semantics checked: `optimizer_step` runs once per optimizer step
#   (loops/optimization/automatic.py `_optimizer_step`); the scheduler is stepped by Lightning at epoch
#   end (loops/training_epoch_loop.py), so both write the same param_group["lr"].
import lightning.pytorch as pl
import torch
from torch import nn


class DetectorModule(pl.LightningModule):
    def __init__(self, model: nn.Module, learning_rate: float = 0.02, warmup_iters: int = 500):
        super().__init__()
        self.model = model
        self.learning_rate = learning_rate
        self.warmup_iters = warmup_iters

    def training_step(self, batch, batch_idx):
        images, targets = batch
        loss_dict = self.model(images, targets)
        loss = sum(loss_dict.values())
        self.log_dict({f"train/{k}": v for k, v in loss_dict.items()})
        return loss

    def optimizer_step(self, epoch, batch_idx, optimizer, optimizer_closure):
        # update params
        optimizer.step(closure=optimizer_closure)

        # manually warm up lr
        if self.trainer.global_step < self.warmup_iters:
            lr_scale = min(1.0, float(self.trainer.global_step + 1) / self.warmup_iters)
            for pg in optimizer.param_groups:
                pg["lr"] = lr_scale * self.learning_rate  # expect: LR304

    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.model.parameters(), lr=self.learning_rate, momentum=0.9, weight_decay=1e-4)
        scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[8, 11], gamma=0.1)
        return [optimizer], [scheduler]
