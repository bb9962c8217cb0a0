# Clean probe 33: manual-optimisation GAN whose schedulers are stepped once per epoch in on_train_epoch_end.
#
# Source: voicepaw/so-vits-svc-fork PR #291 "fix(train): fix lr_decay not working" - the fix steps each
#   ExponentialLR once per epoch from the LightningModule (manual optimisation), "to match the behavior
#   before the lightning rewrite"; docs/source-pytorch/model/manual_optimization.rst "Learning Rate
#   Scheduling" (`sch1, sch2 = self.lr_schedulers()`).
# Why it is correct under Lightning 2.x: Lightning never steps schedulers in manual optimisation
#   (loops/training_epoch_loop.py `_update_learning_rates` returns early), so these are the only steps;
#   they run after every optimizer step of the epoch; gamma counts epochs and the cadence is per epoch.
# Traps: schedulers stepped in a hook with no optimizer.step() in the same function (not LR101:
#   the epoch-end hook runs after the epoch's training steps); returned schedulers in manual mode (not
#   LR104: they are stepped); ExponentialLR stepped per epoch (not LR102).
import lightning.pytorch as pl
import torch

from .losses import discriminator_loss, feature_loss, generator_loss
from .modules import MultiPeriodDiscriminator, SynthesizerTrn


class VitsLightning(pl.LightningModule):
    def __init__(self, hparams_cfg):
        super().__init__()
        self.save_hyperparameters(hparams_cfg)
        self.automatic_optimization = False
        self.net_g = SynthesizerTrn(**self.hparams.model)
        self.net_d = MultiPeriodDiscriminator(self.hparams.model["use_spectral_norm"])

    def configure_optimizers(self):
        train_cfg = self.hparams.train
        optim_g = torch.optim.AdamW(self.net_g.parameters(), train_cfg["learning_rate"], betas=train_cfg["betas"], eps=train_cfg["eps"])
        optim_d = torch.optim.AdamW(self.net_d.parameters(), train_cfg["learning_rate"], betas=train_cfg["betas"], eps=train_cfg["eps"])
        scheduler_g = torch.optim.lr_scheduler.ExponentialLR(optim_g, gamma=train_cfg["lr_decay"])
        scheduler_d = torch.optim.lr_scheduler.ExponentialLR(optim_d, gamma=train_cfg["lr_decay"])
        return [optim_g, optim_d], [scheduler_g, scheduler_d]

    def training_step(self, batch, batch_idx):
        optim_g, optim_d = self.optimizers()
        c, f0, spec, y, spk, lengths, uv = batch
        y_hat, ids_slice = self.net_g(c, f0, uv, spec, g=spk, c_lengths=lengths, spec_lengths=lengths)

        y_d_hat_r, y_d_hat_g, _, _ = self.net_d(y, y_hat.detach())
        loss_disc, _, _ = discriminator_loss(y_d_hat_r, y_d_hat_g)
        optim_d.zero_grad()
        self.manual_backward(loss_disc)
        optim_d.step()

        y_d_hat_r, y_d_hat_g, fmap_r, fmap_g = self.net_d(y, y_hat)
        loss_gen, _ = generator_loss(y_d_hat_g)
        loss_gen_all = loss_gen + feature_loss(fmap_r, fmap_g)
        optim_g.zero_grad()
        self.manual_backward(loss_gen_all)
        optim_g.step()

        self.log_dict({"loss/d/total": loss_disc, "loss/g/total": loss_gen_all})

    def on_train_epoch_end(self) -> None:
        scheduler_g, scheduler_d = self.lr_schedulers()
        scheduler_g.step()
        scheduler_d.step()
