# Probe 24: a custom "resumable export" callback saves the optimizer state but not the scheduler's.
#
# Source:
#   - PolymathicAI/the_well PR #63 "fixed scheduler checkpoint loading": "resuming a run from a checkpoint
#     incorrectly restarts the LR scheduler's warmup and cosine decay ... saves and loads the optimizer
#     state but not the lr_scheduler state".
#   - lightly-ai/lightly-train PR #301 "Resume scheduler properly" (scheduler state missing from the saved
#     training state, LR resets to the warm-up stage on resume).
#   - Lightning's own checkpoints include "lr_schedulers" (Lightning-AI/pytorch-lightning issue #15462
#     discusses OneCycleLR restore); the bug appears when a project writes its own torch.save().
# Bug:
#   `resume()` restores model and optimizer from this file but the OneCycleLR restarts at step 0:
#   the warm-up runs again in the middle of training and the cycle is misaligned with the run.
# Lightning 2.x semantics checked: the scheduler lives in `trainer.lr_scheduler_configs[i].scheduler`
#   (core/module.py `lr_schedulers()` reads it from there); it is not part of `optimizer.state_dict()`.
import os

import lightning.pytorch as pl
import torch


class ResumableExport(pl.Callback):
    """Writes a plain-PyTorch checkpoint every N epochs so the model can be resumed outside Lightning."""

    def __init__(self, dirpath: str, every_n_epochs: int = 5):
        self.dirpath = dirpath
        self.every_n_epochs = every_n_epochs

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if (trainer.current_epoch + 1) % self.every_n_epochs != 0 or not trainer.is_global_zero:
            return
        os.makedirs(self.dirpath, exist_ok=True)
        torch.save(  # expect: LR401
            {
                "epoch": trainer.current_epoch,
                "global_step": trainer.global_step,
                "model": pl_module.state_dict(),
                "optimizer": trainer.optimizers[0].state_dict(),
            },
            os.path.join(self.dirpath, f"epoch_{trainer.current_epoch:03d}.pt"),
        )


class SurrogateModel(pl.LightningModule):
    def __init__(self, net: torch.nn.Module, lr: float = 1e-3):
        super().__init__()
        self.net = net
        self.lr = lr

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train/loss", loss)
        return loss

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.lr)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=self.lr, total_steps=self.trainer.estimated_stepping_batches)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


def resume(net: torch.nn.Module, path: str):
    state = torch.load(path, map_location="cpu")
    model = SurrogateModel(net)
    model.load_state_dict(state["model"])
    return model, state["optimizer"]
