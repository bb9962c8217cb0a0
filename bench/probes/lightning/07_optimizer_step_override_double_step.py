# Probe 07: optimizer_step override steps the scheduler per batch AND Lightning steps it per epoch.
#
# Source:
#   - aitor-alvarez/whisper-lightning-finetuning, model.py (WhisperLightning): `optimizer_step` calls
#     `optimizer.step(closure=optimizer_closure)` then `self.lr_schedulers().step()`, while
#     `configure_optimizers` returns the transformers warmup schedule bare.
# Bug:
#   The user already steps the per-iteration schedule after every optimizer step; because it is also
#   registered with Lightning (default interval "epoch", automatic optimization) Lightning calls
#   `scheduler.step()` once more at every epoch end: the schedule runs ahead by one step per epoch and
#   the two owners of the same scheduler disagree.  The fix is to drop the manual call and register the
#   scheduler with {"interval": "step"}.
#   Expected: LR105 at the user's extra step() call.  (An LR103 at the `return` line is also defensible: also-ok: LR103)
# Lightning 2.x semantics checked:
#   - core/module.py: `optimizer_step(epoch, batch_idx, optimizer, optimizer_closure)` is the hook that
#     runs the optimizer step; overriding it does not stop Lightning's own scheduler stepping.
#   - loops/training_epoch_loop.py `_update_learning_rates` steps every registered config with
#     interval "epoch" at the last batch of the epoch (automatic optimization only).
import lightning as L
import torch
from transformers import WhisperForConditionalGeneration, get_linear_schedule_with_warmup


class WhisperLightning(L.LightningModule):
    def __init__(self, model_name: str):
        super().__init__()
        self.save_hyperparameters()
        self.model_name = model_name
        self.warmup_steps = 400
        self.model = WhisperForConditionalGeneration.from_pretrained(self.model_name)
        self.model.config.apply_spec_augment = True

    def step(self, batch, phase):
        output = self.model(batch["input_features"], decoder_input_ids=batch["decoder_input_ids"], labels=batch["labels"])
        self.log(f"{phase}_loss", output.loss, prog_bar=True, sync_dist=True)
        return output.loss

    def training_step(self, batch, batch_idx):
        loss = self.step(batch, "train")
        scheduler = self.lr_schedulers()
        self.log("lr", scheduler.get_last_lr()[0], prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        return self.step(batch, "val")

    def optimizer_step(self, epoch, batch_idx, optimizer, optimizer_closure):
        # update params
        optimizer.step(closure=optimizer_closure)
        # update learning rate
        self.lr_schedulers().step()  # expect: LR105

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=1e-5)
        scheduler = get_linear_schedule_with_warmup(
            optimizer,
            num_warmup_steps=self.warmup_steps,
            num_training_steps=self.trainer.estimated_stepping_batches,
        )
        return [optimizer], [scheduler]
