# Probe 08: automatic optimisation, but training_step also calls self.lr_schedulers().step().
#
# Source:
#   - Public Lightning modules found by exact-string search for `self.lr_schedulers().step()` inside
#     `training_step` with automatic optimisation (e.g. a T5/BioNLP multitask module:
#     `output = self.forward(batch); self.lr_schedulers().step(); self.log("total/train/loss", ...)`).
#   - Lightning-AI/pytorch-lightning issue #3051 (a user stepping `lr_scheduler_dis.step()` inside
#     `training_step` gets "Detected call of `lr_scheduler.step()` before `optimizer.step()`").
# Bugs:
#   1. Double step (LR105): the scheduler is registered with {"interval": "step"}, so Lightning already
#      steps it after each optimizer step; the call in training_step steps it a second time: the warmup
#      and decay run twice as fast and the cosine reaches its floor at mid-run.
#   2. Order (LR101): in automatic optimisation `training_step` runs inside the optimizer closure, i.e.
#      before the parameter update of the same iteration, so this step() precedes optimizer.step().
# Lightning 2.x semantics checked:
#   - loops/optimization/automatic.py: `_make_closure` wraps `_training_step`; `_optimizer_step` calls the
#     `optimizer_step` hook with that closure, and `optimizer.step(closure)` runs the closure first.
#   - loops/training_epoch_loop.py: `update_lr_schedulers("step", ...)` after the batch.
#   Note: with the default precision plugin torch marks the optimizer as stepped before the closure
#   runs, so the runtime warning may not appear; with "16-mixed" the closure runs before scaler.step()
#   and torch warns.  Either way the scheduler moves before the update.
import lightning.pytorch as pl
import torch
from transformers import T5ForConditionalGeneration, get_cosine_schedule_with_warmup


class T5FineTuner(pl.LightningModule):
    def __init__(self, model_name: str = "t5-base", lr: float = 3e-4, warmup_ratio: float = 0.06):
        super().__init__()
        self.save_hyperparameters()
        self.transformer = T5ForConditionalGeneration.from_pretrained(model_name)

    def forward(self, features):
        return self.transformer(
            input_ids=features["input_ids"],
            attention_mask=features["attention_mask"],
            labels=features.get("labels"),
        )

    def training_step(self, batch, batch_idx):
        output = self(batch)
        self.lr_schedulers().step()  # expect: LR101, LR105
        self.log("train/loss", output.loss, prog_bar=False)
        return output.loss

    def validation_step(self, batch, batch_idx):
        self.log("val/loss", self(batch).loss, prog_bar=True)

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=0.01)
        total_steps = self.trainer.estimated_stepping_batches
        scheduler = get_cosine_schedule_with_warmup(
            optimizer,
            num_warmup_steps=int(self.hparams.warmup_ratio * total_steps),
            num_training_steps=total_steps,
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
