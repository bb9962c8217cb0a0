# Probe 11: manual optimisation (GAN / VITS-style) that returns schedulers and never steps them.
#
# Source:
#   - voicepaw/so-vits-svc-fork PR #291 "fix(train): fix lr_decay not working" (closes #292):
#     "Since we're using manual optimization, we need to call `step()` on each of the learning rate
#     schedulers" - after the Lightning rewrite the ExponentialLR decay silently stopped.
#   - Lightning-AI/pytorch-lightning issue #12284 (users expecting Lightning to keep stepping schedulers
#     in manual optimisation; "interval" in the returned dict suggests it would).
# Bug:
#   With `self.automatic_optimization = False` Lightning never calls `scheduler.step()`; the "interval"
#   key on the generator scheduler is ignored.  Neither ExponentialLR ever decays.
#   Expected: LR104 at both constructors (returned to Lightning, but nothing steps them).
# Lightning 2.x semantics checked:
#   - loops/training_epoch_loop.py `_update_learning_rates`: returns immediately when
#     `not trainer.lightning_module.automatic_optimization`.
#   - core/optimizer.py `_configure_schedulers_manual_opt`: dict keys are kept only for
#     LearningRateMonitor; comment: "the user needs to manually call the scheduler".
#   - docs/source-pytorch/model/manual_optimization.rst: "configuring keys such as 'frequency' and
#     'interval' will be ignored ... during manual optimization".
#   - Return shape `([opt_g, opt_d], [dict, scheduler])` is accepted by `_configure_optimizers`.
import lightning.pytorch as pl
import torch

from .modules import MultiPeriodDiscriminator, SynthesizerTrn, discriminator_loss, feature_loss, generator_loss


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
        scheduler_g = torch.optim.lr_scheduler.ExponentialLR(optim_g, gamma=train_cfg["lr_decay"])  # expect: LR104
        scheduler_d = torch.optim.lr_scheduler.ExponentialLR(optim_d, gamma=train_cfg["lr_decay"])  # expect: LR104
        return [optim_g, optim_d], [{"scheduler": scheduler_g, "interval": "epoch"}, scheduler_d]

    def training_step(self, batch, batch_idx):
        optim_g, optim_d = self.optimizers()
        c, f0, spec, y, spk, lengths, uv = batch
        y_hat, ids_slice = self.net_g(c, f0, uv, spec, g=spk, c_lengths=lengths, spec_lengths=lengths)

        # Discriminator
        y_d_hat_r, y_d_hat_g, _, _ = self.net_d(y, y_hat.detach())
        loss_disc, _, _ = discriminator_loss(y_d_hat_r, y_d_hat_g)
        optim_d.zero_grad()
        self.manual_backward(loss_disc)
        optim_d.step()

        # Generator
        y_d_hat_r, y_d_hat_g, fmap_r, fmap_g = self.net_d(y, y_hat)
        loss_gen, _ = generator_loss(y_d_hat_g)
        loss_gen_all = loss_gen + feature_loss(fmap_r, fmap_g)
        optim_g.zero_grad()
        self.manual_backward(loss_gen_all)
        optim_g.step()

        self.log_dict({"loss/d/total": loss_disc, "loss/g/total": loss_gen_all, "lr": optim_g.param_groups[0]["lr"]})
