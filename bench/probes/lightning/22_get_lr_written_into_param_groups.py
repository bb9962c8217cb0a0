# Probe 22: on_train_batch_start copies `self.lr_schedulers().get_lr()[0]` into the param groups.
#
# Source:
#   - Public Lightning module (RL fine-tuning with reward temperature / advantage-alpha schedules) found by
#     exact-string search for `self.lr_schedulers().get_lr()`:
#         lr = self.lr_schedulers().get_lr()[0]
#         ...
#         for pg in self.optimizers().param_groups:
#             pg["lr"] = lr
#   - Several other public modules log `self.lr_schedulers().get_lr()[0]` in training_step
#     (e.g. `self.log('lr', self.lr_schedulers().get_lr()[0], prog_bar=True, logger=False)`).
# Bugs:
#   1. LR303: `get_lr()` is internal; outside `step()` it computes the next value (for chainable
#      schedulers such as ExponentialLR it multiplies the *current* LR by gamma again).
#   2. LR304: the value is written into param_groups every batch while Lightning also steps the same
#      scheduler (interval "step"): with ExponentialLR the LR is multiplied by gamma twice per batch.
# Lightning 2.x semantics checked: `self.lr_schedulers()` returns the configured scheduler object
#   (core/module.py); `on_train_batch_start` runs before the training step of every batch
#   (loops/training_epoch_loop.py `advance`); the "step" scheduler update runs after it.
import lightning.pytorch as pl
import torch


class PolicyFineTuner(pl.LightningModule):
    def __init__(self, policy: torch.nn.Module, reward_fn, lr: float = 1e-5, lr_gamma: float = 0.9999,
                 reward_temp_start: float = 1.0, reward_temp_end: float = 0.1, anneal_steps: int = 10_000):
        super().__init__()
        self.policy = policy
        self.reward = reward_fn
        self.lr = lr
        self.lr_gamma = lr_gamma
        self.reward_temp_start = reward_temp_start
        self.reward_temp_end = reward_temp_end
        self.anneal_steps = anneal_steps

    def get_reward_temp_at_step(self, step: int) -> float:
        frac = min(1.0, step / self.anneal_steps)
        return self.reward_temp_start + frac * (self.reward_temp_end - self.reward_temp_start)

    def on_train_batch_start(self, batch, batch_idx):
        self.reward.temperature = self.get_reward_temp_at_step(self.global_step)
        lr = self.lr_schedulers().get_lr()[0]  # expect: LR303
        self.log("train/reward_temp", self.reward.temperature, on_step=True)
        for pg in self.optimizers().param_groups:
            pg["lr"] = lr  # expect: LR304

    def training_step(self, batch, batch_idx):
        log_probs, samples = self.policy.sample(batch)
        rewards = self.reward(samples)
        loss = -(log_probs.sum(-1) * (rewards - rewards.mean())).mean()
        self.log("train/loss", loss)
        return loss

    def configure_optimizers(self):
        optimizer = torch.optim.Adam(self.policy.parameters(), lr=self.lr)
        scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=self.lr_gamma)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
