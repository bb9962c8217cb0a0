# Probe 09: scheduler of unknown class (built by a config factory) stepped in on_train_batch_end and
# also handed to Lightning in configure_optimizers.
#
# Source:
#   - Public flow-matching trainer (LatentFlowTrainer, `jutils.load_partial_from_config`) found by
#     exact-string search for `self.lr_schedulers().step()`: `configure_optimizers` does
#     `out["lr_scheduler"] = sch` and `on_train_batch_end` calls `self.lr_schedulers().step()`.
# Bug:
#   The user steps the scheduler after every batch; Lightning also steps it once per epoch because it is
#   registered bare (default interval "epoch").  The class is unknown to a linter (the factory comes
#   from a config), but the double step does not depend on the class: RULES.md lists "double step"
#   among the rules that apply to a scheduler of unknown class.
# Lightning 2.x semantics checked:
#   - core/optimizer.py: single dict with "lr_scheduler" -> `LRSchedulerConfig(scheduler)` (interval "epoch").
#   - loops/training_epoch_loop.py: `on_train_batch_end` hooks run after `update_lr_schedulers("step", ...)`
#     in `advance()`; the "epoch" update runs when `_num_ready_batches_reached()`.
import pytorch_lightning as pl
import torch
from torch import nn

from ldm.helpers import exists, instantiate_from_config, load_partial_from_config, update_ema


class LatentFlowTrainer(pl.LightningModule):
    def __init__(self, model_cfg: dict, lr: float = 1e-4, weight_decay: float = 0.0,
                 lr_scheduler_cfg: dict | None = None, ema_rate: float = 0.9999):
        super().__init__()
        self.model = instantiate_from_config(model_cfg)
        self.ema_model = instantiate_from_config(model_cfg)
        self.lr = lr
        self.weight_decay = weight_decay
        self.lr_scheduler_cfg = lr_scheduler_cfg
        self.ema_rate = ema_rate
        self.loss_fn = nn.MSELoss()

    def configure_optimizers(self):
        opt = torch.optim.AdamW(
            [p for p in self.parameters() if p.requires_grad], lr=self.lr, weight_decay=self.weight_decay
        )
        out = dict(optimizer=opt)
        if exists(self.lr_scheduler_cfg):
            sch = load_partial_from_config(self.lr_scheduler_cfg)
            sch = sch(optimizer=opt)
            out["lr_scheduler"] = sch
        return out

    def training_step(self, batch, batch_idx):
        x1 = batch["latent"]
        x0 = torch.randn_like(x1)
        t = torch.rand(x1.shape[0], device=x1.device)
        xt = (1 - t[:, None, None, None]) * x0 + t[:, None, None, None] * x1
        loss = self.loss_fn(self.model(xt, t), x1 - x0)
        self.log("train/loss", loss, on_step=True)
        return loss

    def on_train_batch_end(self, outputs, batch, batch_idx):
        # first checking for trainer ensures that the module can be also used with accelerate
        if exists(self._trainer) and exists(self.lr_scheduler_cfg):
            self.lr_schedulers().step()  # expect: LR105
        update_ema(self.ema_model, self.model, decay=self.ema_rate)
