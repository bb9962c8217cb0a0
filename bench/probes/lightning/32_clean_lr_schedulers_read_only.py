# Clean probe 32: automatic optimisation where user code touches the scheduler only to read it.
#
# Source: aitor-alvarez/whisper-lightning-finetuning model.py logs `scheduler.get_last_lr()[0]` from
#   `self.lr_schedulers()` in training_step (the logging half is correct; probe 07 covers its extra step());
#   a public LogLR callback logs `pl_module.lr_schedulers().get_last_lr()` in `on_train_batch_start`;
#   the `optimizer_step` override that only adds gradient-norm logging follows the DEFAULT example in the
#   `optimizer_step` docstring (src/lightning/pytorch/core/module.py).
# Why it is correct under Lightning 2.x: Lightning is the only owner that steps the scheduler
#   (interval "step"); `get_last_lr()` is the public accessor; the optimizer_step override calls
#   `optimizer.step(closure=optimizer_closure)` and nothing else touches the LR.
# Traps: `self.lr_schedulers()` inside training_step / a callback without `.step()` (not LR105/LR101);
#   `get_last_lr` (not LR303); an `optimizer_step` override (not LR304: no param_group write);
#   `param_groups[0]["lr"]` is read, not written.
import lightning.pytorch as pl
import torch
from transformers import get_cosine_schedule_with_warmup


class LogLR(pl.Callback):
    def __init__(self, interval: int = 50):
        super().__init__()
        self.interval = interval

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.global_step % self.interval == 0 and trainer.logger is not None:
            trainer.logger.log_metrics({"learning_rate": pl_module.lr_schedulers().get_last_lr()[0]}, step=trainer.global_step)


class CaptionModel(pl.LightningModule):
    def __init__(self, model: torch.nn.Module, lr: float = 5e-5, warmup_steps: int = 1000):
        super().__init__()
        self.model = model
        self.lr = lr
        self.warmup_steps = warmup_steps

    def training_step(self, batch, batch_idx):
        loss = self.model(**batch).loss
        scheduler = self.lr_schedulers()
        self.log("lr", scheduler.get_last_lr()[0], prog_bar=True)
        self.log("train_loss", loss)
        return loss

    def optimizer_step(self, epoch, batch_idx, optimizer, optimizer_closure):
        optimizer.step(closure=optimizer_closure)
        self.log("lr_group0", optimizer.param_groups[0]["lr"])

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.lr)
        scheduler = get_cosine_schedule_with_warmup(
            optimizer,
            num_warmup_steps=self.warmup_steps,
            num_training_steps=self.trainer.estimated_stepping_batches,
        )
        return [optimizer], [{"scheduler": scheduler, "interval": "step"}]


def train(model: torch.nn.Module, datamodule):
    trainer = pl.Trainer(max_epochs=5, callbacks=[LogLR(interval=50)], accumulate_grad_batches=2)
    trainer.fit(CaptionModel(model), datamodule=datamodule)
