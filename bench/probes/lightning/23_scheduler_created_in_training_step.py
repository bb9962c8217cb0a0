# Probe 23: manual optimisation; a warm-up LambdaLR is (re)built inside training_step.
#
# Source:
#   - Constructed from Lightning-AI/pytorch-lightning issue #1120 (users re-creating OneCycleLR to restart
#     the cycle at fine-tune time) and the manual-optimisation docs
#     (docs/source-pytorch/model/manual_optimization.rst, "You can call lr_scheduler.step() at arbitrary
#     intervals"); no single public file with this exact shape was found - it is the port of a plain-PyTorch
#     "build scheduler then step" helper into a hook that runs every batch.
# Bug:
#   The LambdaLR is constructed on every call of training_step, so its step counter starts from 0 each
#   batch: construction applies lr_lambda(0), so every optimizer step uses 1/warmup_steps of the base LR
#   for the whole run (the following step() moves it to lambda(1) only for the next, discarded, scheduler).
# Lightning 2.x semantics checked: training_step runs once per batch (loops/training_epoch_loop.py
#   `advance` -> `manual_optimization.run`); nothing else steps schedulers in manual optimisation.
import lightning.pytorch as pl
import torch
from torch.optim.lr_scheduler import LambdaLR


def linear_warmup(warmup_steps: int):
    return lambda step: min(1.0, (step + 1) / warmup_steps)


class ContrastiveModule(pl.LightningModule):
    def __init__(self, encoder: torch.nn.Module, lr: float = 3e-4, warmup_steps: int = 1000, temperature: float = 0.1):
        super().__init__()
        self.encoder = encoder
        self.lr = lr
        self.warmup_steps = warmup_steps
        self.temperature = temperature
        self.automatic_optimization = False

    def info_nce(self, z1, z2):
        z1 = torch.nn.functional.normalize(z1, dim=-1)
        z2 = torch.nn.functional.normalize(z2, dim=-1)
        logits = z1 @ z2.t() / self.temperature
        labels = torch.arange(z1.shape[0], device=z1.device)
        return torch.nn.functional.cross_entropy(logits, labels)

    def training_step(self, batch, batch_idx):
        view1, view2 = batch
        opt = self.optimizers()
        scheduler = LambdaLR(opt.optimizer, lr_lambda=linear_warmup(self.warmup_steps))  # expect: LR107
        loss = self.info_nce(self.encoder(view1), self.encoder(view2))
        opt.zero_grad()
        self.manual_backward(loss)
        opt.step()
        scheduler.step()
        self.log("train/loss", loss, prog_bar=True)

    def configure_optimizers(self):
        return torch.optim.AdamW(self.encoder.parameters(), lr=self.lr, weight_decay=1e-4)
