# Clean probe 31: warm-up + cosine as one SequentialLR, sized in optimizer steps, interval "step".
#
# Source: public Lightning modules using `SequentialLR(optimizer, [warmup_scheduler, final_scheduler],
#   milestones=[warmup])` in configure_optimizers (found by exact-string search), and
#   luxonis/luxonis-train PR #111 (LinearLR warm-up -> CosineAnnealingLR via SequentialLR).
# Why it is correct under Lightning 2.x: one registered scheduler, stepped once per optimizer step
#   (interval "step"); milestones has len(schedulers) - 1 entries; the cosine horizon
#   total_steps - warmup_steps plus the warm-up equals estimated_stepping_batches.
# Traps: two schedulers of the same optimizer exist (LinearLR, CosineAnnealingLR) but only the SequentialLR
#   is stepped (not LR105); CosineAnnealingLR T_max is a count of steps derived from
#   estimated_stepping_batches (not LR102); the inner schedulers are never stepped directly (not LR104).
import lightning.pytorch as pl
import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR


class MaskedAutoencoder(pl.LightningModule):
    def __init__(self, model: torch.nn.Module, base_lr: float = 1.5e-4, warmup_steps: int = 4000):
        super().__init__()
        self.model = model
        self.base_lr = base_lr
        self.warmup_steps = warmup_steps

    def training_step(self, batch, batch_idx):
        imgs, _ = batch
        loss, _, _ = self.model(imgs, mask_ratio=0.75)
        self.log("train/loss", loss, prog_bar=True, sync_dist=True)
        return loss

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.base_lr, betas=(0.9, 0.95), weight_decay=0.05)
        total_steps = self.trainer.estimated_stepping_batches
        warmup = LinearLR(optimizer, start_factor=1e-3, end_factor=1.0, total_iters=self.warmup_steps)
        cosine = CosineAnnealingLR(optimizer, T_max=total_steps - self.warmup_steps, eta_min=1e-6)
        scheduler = SequentialLR(optimizer, schedulers=[warmup, cosine], milestones=[self.warmup_steps])
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step", "name": "lr"}}
