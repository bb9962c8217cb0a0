# Probe 04: transformers linear warmup sized with trainer.max_epochs but stepped every optimizer step.
#
# Source:
#   - Lightning-AI/pytorch-lightning issue #18570 "Schedulers don't work":
#     `get_linear_schedule_with_warmup(optimizer, num_warmup_steps=10, num_training_steps=self.trainer.max_epochs)`
#     returned as `dict(optimizer=optimizer, lr_scheduler=dict(scheduler=scheduler, interval="step", frequency=1))`.
#     Maintainer (awaelchli): "You set the num training steps to max_epochs but the interval for scheduling
#     to 'step'".
# Bug:
#   num_training_steps = max_epochs (e.g. 15) while the scheduler is stepped after every optimizer step
#   (thousands per run): after 15 steps the linear decay reaches 0 and the LR stays at 0 for the rest of
#   the run.  Two findings are defensible:
#     * LR108 at the constructor: the horizon (15) is far shorter than the steps the run takes;
#     * LR102 at the "interval" value: a scheduler whose size counts epochs is stepped per batch.
# Lightning 2.x semantics checked: loops/training_epoch_loop.py `update_lr_schedulers("step", ...)` after
#   every batch for configs with interval "step" (frequency 1).
import lightning.pytorch as pl
import torch
from transformers import AutoModelForSequenceClassification, get_linear_schedule_with_warmup


class SentimentClassifier(pl.LightningModule):
    def __init__(self, model_name: str = "distilbert-base-uncased", lr: float = 2e-5, n_warmup_steps: int = 10):
        super().__init__()
        self.save_hyperparameters()
        self.model = AutoModelForSequenceClassification.from_pretrained(model_name, num_labels=2)
        self.n_warmup_steps = n_warmup_steps

    def training_step(self, batch, batch_idx):
        out = self.model(**batch)
        self.log("train_loss", out.loss, prog_bar=True)
        return out.loss

    def validation_step(self, batch, batch_idx):
        out = self.model(**batch)
        self.log("val_loss", out.loss, prog_bar=True)

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr)
        scheduler = get_linear_schedule_with_warmup(optimizer, num_warmup_steps=self.n_warmup_steps, num_training_steps=self.trainer.max_epochs)  # expect: LR108
        return dict(
            optimizer=optimizer,
            lr_scheduler=dict(
                scheduler=scheduler,
                interval="step",  # expect: LR102
                frequency=1,
            ),
        )


if __name__ == "__main__":
    trainer = pl.Trainer(max_epochs=15, accelerator="gpu", devices=1)
    trainer.fit(SentimentClassifier())
