# Probe 12: manual optimisation with gradient accumulation; the scheduler is stepped on every micro-batch.
#
# Source:
#   - docs/source-pytorch/model/manual_optimization.rst (Lightning-AI/pytorch-lightning): the
#     "Gradient Accumulation" example (`if (batch_idx + 1) % N == 0: opt.step(); opt.zero_grad()`)
#     next to the "Learning Rate Scheduling" example (`sch = self.lr_schedulers(); sch.step()` "step every
#     batch"); combining the two snippets gives exactly this code.
#   - Contrast: a public module found by exact-string search steps `self.lr_schedulers().step()` inside
#     the `(batch_idx + 1) % self.config.accumulation_steps == 0` branch (the correct form, see probe 28).
# Bug:
#   The warmup/cosine schedule is sized in optimizer steps (estimated_stepping_batches / accumulation)
#   but stepped on each of the `accumulation_steps` micro-batches: it finishes after 1/4 of the run
#   and the cosine climbs back.
# Lightning 2.x semantics checked: manual optimisation -> Lightning steps no scheduler
#   (loops/training_epoch_loop.py `_update_learning_rates` returns when automatic_optimization is False),
#   so the only step() is the one below, and it runs every batch.
import math

import lightning as L
import torch
from torch.optim.lr_scheduler import LambdaLR


def warmup_cosine(optimizer, warmup_steps: int, total_steps: int) -> LambdaLR:
    def lr_lambda(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    return LambdaLR(optimizer, lr_lambda)


class SpeechEnhancer(L.LightningModule):
    def __init__(self, net: torch.nn.Module, lr: float = 2e-4, accumulation_steps: int = 4, warmup_steps: int = 500):
        super().__init__()
        self.net = net
        self.lr = lr
        self.accumulation_steps = accumulation_steps
        self.warmup_steps = warmup_steps
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        noisy, clean = batch
        loss = torch.nn.functional.l1_loss(self.net(noisy), clean)
        opt = self.optimizers()
        sch = self.lr_schedulers()

        self.manual_backward(loss / self.accumulation_steps)
        if (batch_idx + 1) % self.accumulation_steps == 0:
            self.clip_gradients(opt, gradient_clip_val=1.0, gradient_clip_algorithm="norm")
            opt.step()
            opt.zero_grad()
        sch.step()  # expect: LR106
        self.log("train/loss", loss, prog_bar=True)

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.net.parameters(), lr=self.lr, betas=(0.8, 0.99))
        total_steps = self.trainer.estimated_stepping_batches // self.accumulation_steps
        scheduler = warmup_cosine(optimizer, self.warmup_steps, total_steps)
        return [optimizer], [scheduler]
