# Probe 13: manual-optimisation GAN that steps the schedulers at the top of training_step.
#
# Source:
#   - Lightning-AI/pytorch-lightning issue #3051, comment by msverma101 (2022-09-27): for a GAN, adding
#     `lr_scheduler_dis.step()` in training_step triggers "Detected call of `lr_scheduler.step()` before
#     `optimizer.step()`".
#   - idiap/coqui-ai-Trainer PR #20 "only step scheduler if corresponding optimizer was stepped" (same
#     warning in GAN training).
# Bug:
#   In each iteration both schedulers are stepped before their optimizers: the first LR of each
#   schedule is skipped and torch warns at run time (the optimizers have not stepped yet on batch 0).
# Lightning 2.x semantics checked: manual optimisation, so the two step() calls below are the only
#   scheduler steps (loops/training_epoch_loop.py `_update_learning_rates` returns early);
#   `self.lr_schedulers()` returns a list in configure_optimizers order (core/module.py).
import lightning.pytorch as pl
import torch
from torch import nn


class SRGAN(pl.LightningModule):
    def __init__(self, generator: nn.Module, discriminator: nn.Module, lr: float = 1e-4, decay_every: int = 50_000):
        super().__init__()
        self.generator = generator
        self.discriminator = discriminator
        self.lr = lr
        self.decay_every = decay_every
        self.automatic_optimization = False
        self.adversarial = nn.BCEWithLogitsLoss()
        self.pixel = nn.MSELoss()

    def training_step(self, batch, batch_idx):
        lr_img, hr_img = batch
        g_opt, d_opt = self.optimizers()
        g_sch, d_sch = self.lr_schedulers()
        g_sch.step()  # expect: LR101
        d_sch.step()  # expect: LR101

        sr_img = self.generator(lr_img)

        # discriminator
        real = self.discriminator(hr_img)
        fake = self.discriminator(sr_img.detach())
        d_loss = self.adversarial(real, torch.ones_like(real)) + self.adversarial(fake, torch.zeros_like(fake))
        d_opt.zero_grad()
        self.manual_backward(d_loss)
        d_opt.step()

        # generator
        fake = self.discriminator(sr_img)
        g_loss = self.pixel(sr_img, hr_img) + 1e-3 * self.adversarial(fake, torch.ones_like(fake))
        g_opt.zero_grad()
        self.manual_backward(g_loss)
        g_opt.step()

        self.log_dict({"g_loss": g_loss, "d_loss": d_loss}, prog_bar=True)

    def configure_optimizers(self):
        g_opt = torch.optim.Adam(self.generator.parameters(), lr=self.lr, betas=(0.9, 0.999))
        d_opt = torch.optim.Adam(self.discriminator.parameters(), lr=self.lr, betas=(0.9, 0.999))
        g_sch = torch.optim.lr_scheduler.StepLR(g_opt, step_size=self.decay_every, gamma=0.1)
        d_sch = torch.optim.lr_scheduler.StepLR(d_opt, step_size=self.decay_every, gamma=0.1)
        return [g_opt, d_opt], [g_sch, d_sch]
