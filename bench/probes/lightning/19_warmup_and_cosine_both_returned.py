# Probe 19: warm-up and cosine returned as two separate schedulers of one optimizer, both per step.
#
# Source:
#   - Lightning-Universe/lightning-bolts issue #650 "chaining schedulers": a user returns two LambdaLR
#     schedulers for one optimizer in `configure_optimizers` ("a linear warmup ... followed by a ...
#     decay").
#   - luxonis/luxonis-train PR #111 "SequentialLR Scheduler" (the intended tool for warm-up -> cosine).
#   - Public Lightning modules that use SequentialLR([warmup, cosine], milestones=[...]) for the same
#     purpose (see clean probe 31).
# Bug:
#   Both configs have interval "step", so Lightning steps both after every optimizer step.  The two
#   chainable schedulers multiply their factors: during warm-up the cosine is already decaying, and
#   after warm-up LinearLR keeps its end factor while the cosine runs — the curve is neither the
#   intended warm-up nor the intended cosine.  SequentialLR(schedulers=[warmup, cosine],
#   milestones=[warmup_steps]) gives the phases.
#   Expected: LR105 where the second scheduler is registered (Lightning performs the second step()).
# Lightning 2.x semantics checked: core/optimizer.py `_configure_optimizers` accepts
#   `([optimizer], [cfg1, cfg2])`; `_update_learning_rates` (loops/training_epoch_loop.py) iterates over
#   every config and steps each one whose interval matches.
import lightning.pytorch as pl
import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR


class ViTPretrainer(pl.LightningModule):
    def __init__(self, encoder: torch.nn.Module, lr: float = 1.5e-4, weight_decay: float = 0.05, warmup_steps: int = 2000):
        super().__init__()
        self.encoder = encoder
        self.lr = lr
        self.weight_decay = weight_decay
        self.warmup_steps = warmup_steps

    def training_step(self, batch, batch_idx):
        images, _ = batch
        loss = self.encoder(images)
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.lr, betas=(0.9, 0.95), weight_decay=self.weight_decay)
        total_steps = self.trainer.estimated_stepping_batches
        warmup = LinearLR(optimizer, start_factor=1e-3, end_factor=1.0, total_iters=self.warmup_steps)
        cosine = CosineAnnealingLR(optimizer, T_max=total_steps - self.warmup_steps, eta_min=1e-6)
        return [optimizer], [
            {"scheduler": warmup, "interval": "step", "name": "warmup"},
            {"scheduler": cosine, "interval": "step", "name": "cosine"},  # expect: LR105
        ]
