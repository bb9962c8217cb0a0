# Probe 14: manual optimisation; the epoch-end hook steps ReduceLROnPlateau with the epoch number.
#
# Source:
#   - docs/source-pytorch/model/manual_optimization.rst (Lightning-AI/pytorch-lightning) "If you want to
#     call schedulers that require a metric value after each epoch": `if isinstance(sch, ReduceLROnPlateau):
#     sch.step(self.trainer.callback_metrics["loss"])`.  Here the branch was written generically as
#     "step(epoch)" for every scheduler, the way Lightning itself stepped schedulers before 0.7
#     (Lightning-AI/pytorch-lightning PR #252 "always calls the lr scheduler with epoch nb",
#     issue #298: ReduceLROnPlateau "needs scheduler.step(val_loss) instead of scheduler.step(num_epochs)").
# Bug:
#   Inside the isinstance(..., ReduceLROnPlateau) branch the scheduler receives `self.current_epoch` as
#   its metric.  mode="min" sees a value that only grows, "never improves", and the LR is cut every
#   `patience + 1` epochs regardless of the validation loss.  No exception is raised.
# Lightning 2.x semantics checked: manual optimisation -> no automatic scheduler step and the "monitor"
#   key is dropped with a warning (core/optimizer.py `_configure_schedulers_manual_opt` removes
#   {"reduce_on_plateau", "monitor", "strict"}); `self.lr_schedulers()` returns the single scheduler.
import lightning.pytorch as pl
import torch
from torch.optim.lr_scheduler import ReduceLROnPlateau, StepLR


class TabularRegressor(pl.LightningModule):
    def __init__(self, in_features: int, lr: float = 1e-3, scheduler: str = "plateau"):
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.mlp = torch.nn.Sequential(
            torch.nn.Linear(in_features, 256), torch.nn.ReLU(), torch.nn.Linear(256, 1)
        )

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.mlp(x).squeeze(-1), y)
        opt.zero_grad()
        self.manual_backward(loss)
        opt.step()
        self.log("loss", loss, on_epoch=True)

    def on_train_epoch_end(self):
        sch = self.lr_schedulers()
        if isinstance(sch, ReduceLROnPlateau):
            sch.step(self.current_epoch)  # expect: LR301
        else:
            sch.step()

    def configure_optimizers(self):
        optimizer = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
        if self.hparams.scheduler == "plateau":
            scheduler = ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=5)
        else:
            scheduler = StepLR(optimizer, step_size=20, gamma=0.5)
        return {"optimizer": optimizer, "lr_scheduler": scheduler}
