# Clean probe 26: OneCycleLR sized with trainer.estimated_stepping_batches, registered with interval "step".
#
# Source: Lightning-AI/pytorch-lightning issue #20436 (the configure_optimizers shown there is the
#   correct form; the reported symptom came from elsewhere) and the corrected docs example from the
#   PR #11599 review (`{"scheduler": scheduler, "interval": "step"}`).
# Why it is correct under Lightning 2.x:
#   - estimated_stepping_batches = ceil(num_training_batches / accumulate_grad_batches) * max_epochs,
#     capped by max_steps (trainer/trainer.py), i.e. exactly the number of optimizer steps;
#   - interval "step" configs are stepped once per optimizer step and skipped while accumulating
#     (loops/training_epoch_loop.py `update_lr_schedulers`), so accumulate_grad_batches=4 is accounted for.
# Traps for a naive linter: OneCycleLR + accumulation (not LR106/LR109), no explicit step() anywhere
#   (not LR104), `self.trainer.estimated_stepping_batches` as a size (not an epoch count).
import lightning.pytorch as pl
import torch
from torch import nn


class TextCNN(pl.LightningModule):
    def __init__(self, vocab_size: int, n_classes: int, max_lr: float = 1e-2):
        super().__init__()
        self.save_hyperparameters()
        self.embed = nn.EmbeddingBag(vocab_size, 256)
        self.fc = nn.Linear(256, n_classes)

    def training_step(self, batch, batch_idx):
        tokens, offsets, labels = batch
        loss = nn.functional.cross_entropy(self.fc(self.embed(tokens, offsets)), labels)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.hparams.max_lr, weight_decay=1e-2)
        total_steps = self.trainer.estimated_stepping_batches
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=self.hparams.max_lr, total_steps=total_steps)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {
                "scheduler": scheduler,
                "interval": "step",
                "frequency": 1,
            },
        }


if __name__ == "__main__":
    trainer = pl.Trainer(max_epochs=10, accumulate_grad_batches=4)
    trainer.fit(TextCNN(vocab_size=50_000, n_classes=4))
