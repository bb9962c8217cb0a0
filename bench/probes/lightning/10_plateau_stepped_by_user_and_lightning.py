# Probe 10: ReduceLROnPlateau registered with a monitor AND stepped by hand at validation end.
#
# Source:
#   - LearnedVector/A-Hackers-AI-Voice-Assistant, VoiceAssistant/speechrecognition/neuralnet/train.py:
#     `self.scheduler = ReduceLROnPlateau(...)`, `return [self.optimizer], [self.scheduler]` and
#     `validation_epoch_end: self.scheduler.step(avg_loss)`.
#   - Its issues #29/#54/#67 ("configure_optimizers must include a monitor ...") were fixed by adding
#     "monitor" (Lightning-AI/pytorch-lightning issue #5945 shape), which registers the plateau scheduler
#     with Lightning while the manual step() stays.  Ported here to the Lightning 2.x hook name.
# Bug:
#   The plateau scheduler is stepped twice per epoch (once by the user with val_loss, once by Lightning
#   with the monitored val_loss): `patience=6` acts like 3 epochs and the cooldown counts double.
# Lightning 2.x semantics checked:
#   - core/optimizer.py: single dict with bare ReduceLROnPlateau + top-level "monitor" ->
#     `LRSchedulerConfig(scheduler, reduce_on_plateau=True, monitor=monitor)`.
#   - loops/training_epoch_loop.py `on_advance_end`: `update_lr_schedulers("step", update_plateau_schedulers=True)`
#     and the fit loop's epoch-end `update_lr_schedulers("epoch", update_plateau_schedulers=True)` call
#     `lr_scheduler_step(scheduler, monitor_val)` -> `scheduler.step(metric)`.
import pytorch_lightning as pl
import torch
from torch import nn, optim
from torch.nn import functional as F


class SpeechModule(pl.LightningModule):
    def __init__(self, model: nn.Module, args):
        super().__init__()
        self.model = model
        self.criterion = nn.CTCLoss(blank=28, zero_infinity=True)
        self.args = args
        self.val_losses = []

    def forward(self, x, hidden):
        return self.model(x, hidden)

    def configure_optimizers(self):
        self.optimizer = optim.AdamW(self.model.parameters(), self.args.learning_rate)
        self.scheduler = optim.lr_scheduler.ReduceLROnPlateau(self.optimizer, mode="min", factor=0.50, patience=6)
        return {"optimizer": self.optimizer, "lr_scheduler": self.scheduler, "monitor": "val_loss"}

    def step(self, batch):
        spectrograms, labels, input_lengths, label_lengths = batch
        hidden = self.model._init_hidden(spectrograms.shape[0])
        output, _ = self(spectrograms, (hidden[0].to(self.device), hidden[1].to(self.device)))
        output = F.log_softmax(output, dim=2)
        return self.criterion(output, labels, input_lengths, label_lengths)

    def training_step(self, batch, batch_idx):
        loss = self.step(batch)
        self.log("loss", loss)
        self.log("lr", self.optimizer.param_groups[0]["lr"])
        return loss

    def validation_step(self, batch, batch_idx):
        loss = self.step(batch)
        self.val_losses.append(loss)
        return loss

    def on_validation_epoch_end(self):
        avg_loss = torch.stack(self.val_losses).mean()
        self.val_losses.clear()
        self.scheduler.step(avg_loss)  # expect: LR105
        self.log("val_loss", avg_loss)
