# Clean probe 28: manual optimisation with gradient accumulation; the scheduler steps with the optimizer.
#
# Source: public Lightning module found by exact-string search for `self.lr_schedulers().step()`:
#       self.manual_backward(train_loss['loss'] / self.config.accumulation_steps)
#       if (batch_idx + 1) % self.config.accumulation_steps == 0:
#           opt = self.optimizers(); opt.step(); opt.zero_grad()
#           self.lr_schedulers().step()
#   and its `on_train_epoch_end` that steps a ReduceLROnPlateau with a metric (commented-out variant of the
#   docs example in docs/source-pytorch/model/manual_optimization.rst).
# Why it is correct under Lightning 2.x: manual optimisation -> Lightning steps nothing
#   (loops/training_epoch_loop.py `_update_learning_rates` returns early), so the user's steps are the
#   only ones; the per-iteration scheduler steps exactly once per optimizer step, after it; the plateau
#   scheduler gets its metric.
# Traps: step() inside an `if (batch_idx + 1) % N` branch (not LR106); `isinstance` narrowing between a
#   plateau and a non-plateau scheduler (not LR301); manual mode (not LR104, schedulers are stepped).
import lightning as L
import torch
from torch.optim.lr_scheduler import ReduceLROnPlateau


class VocoderModule(L.LightningModule):
    def __init__(self, net: torch.nn.Module, config: dict):
        super().__init__()
        self.net = net
        self.config = config
        self.automatic_optimization = False

    def train_val_get(self, batch):
        wav, mel = batch
        return {"loss": torch.nn.functional.l1_loss(self.net(mel), wav)}

    def training_step(self, batch, batch_idx):
        train_loss = self.train_val_get(batch)
        self.manual_backward(train_loss["loss"] / self.config["accumulation_steps"])
        if (batch_idx + 1) % self.config["accumulation_steps"] == 0:
            opt = self.optimizers()
            opt.step()
            opt.zero_grad()
            sch = self.lr_schedulers()
            if not isinstance(sch, ReduceLROnPlateau):
                sch.step()
        self.log_dict(train_loss, sync_dist=True, prog_bar=True, on_epoch=True)

    def validation_step(self, batch, batch_idx):
        self.log("val_loss", self.train_val_get(batch)["loss"], sync_dist=True)

    def on_validation_epoch_end(self):
        if self.trainer.sanity_checking:
            return
        sch = self.lr_schedulers()
        if isinstance(sch, ReduceLROnPlateau):
            sch.step(self.trainer.callback_metrics["val_loss"])
        self.log("lr", self.optimizers().param_groups[0]["lr"])

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.net.parameters(), lr=self.config["lr"])
        if self.config["scheduler"] == "plateau":
            scheduler = ReduceLROnPlateau(optimizer, factor=0.5, patience=3)
        else:
            total = self.trainer.estimated_stepping_batches // self.config["accumulation_steps"]
            scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
        return [optimizer], [scheduler]
