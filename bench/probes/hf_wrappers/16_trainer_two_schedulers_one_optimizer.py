# Probe 16: a hand-rolled warmup LambdaLR and an ExponentialLR decay on the same optimizer, both stepped
# after every optimizer step.
#
# Source: torch docs "How to adjust learning rate" (chaining: "each scheduler is applied one after the
#   other on the learning rate obtained by the one preceding it") and torch/optim/lr_scheduler.py:
#   LambdaLR.get_lr returns `base_lr * lmbda(self.last_epoch)` (closed form, ignores the current LR),
#   ExponentialLR.get_lr returns `group["lr"] * gamma` (chainable). pytorch/pytorch#20527 documents the
#   interaction of several schedulers on one optimizer (the #13022 change "to support multiple simultaneous
#   schedulers"); users hit it when adding a warmup in front of a decay (Tony-Y/pytorch_warmup#14,
#   ildoonet/pytorch-gradual-warmup-lr#26).
# Bug: each iteration LambdaLR resets lr to base_lr * min(1, step/warmup), then ExponentialLR multiplies
#   it by gamma once: the decay never accumulates; after warmup the LR sits at base_lr * gamma for the
#   rest of the run.
# Why it is a bug: two schedulers of one optimizer stepped every iteration, outside SequentialLR.
# Expected: LR105 at the second step() (decay_scheduler.step()). LR102 should stay silent: the
#   ExponentialLR gamma comes from the hparams dict (a per-iteration decay of 0.999875).
import math

import torch
import torch.nn as nn
from torch.optim.lr_scheduler import ExponentialLR, LambdaLR
from torch.utils.data import DataLoader


class SpeechTrainer:
    def __init__(self, model, train_set, hparams):
        self.hparams = hparams
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.model = model.to(self.device)
        self.train_loader = DataLoader(train_set, batch_size=hparams["batch_size"], shuffle=True, drop_last=True)
        self.global_step = 0
        self.setup_optim()

    def setup_optim(self):
        hp = self.hparams
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=hp["lr"], betas=(0.8, 0.99))
        warmup = hp["warmup_steps"]
        self.warmup_scheduler = LambdaLR(self.optimizer, lambda step: min(1.0, (step + 1) / warmup))
        self.decay_scheduler = ExponentialLR(self.optimizer, gamma=hp["lr_decay"])

    def train_step(self, batch):
        mel, target = batch["mel"].to(self.device), batch["target"].to(self.device)
        self.optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.l1_loss(self.model(mel), target)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        if not math.isfinite(grad_norm):
            return None
        self.optimizer.step()
        self.warmup_scheduler.step()
        self.decay_scheduler.step()  # expect: LR105
        self.global_step += 1
        return loss.item()

    def train(self):
        for epoch in range(self.hparams["epochs"]):
            self.model.train()
            for batch in self.train_loader:
                loss = self.train_step(batch)
                if loss is not None and self.global_step % 100 == 0:
                    print(f"epoch {epoch} step {self.global_step}: loss={loss:.4f} lr={self.optimizer.param_groups[0]['lr']:.2e}")
            torch.save(
                {
                    "model": self.model.state_dict(),
                    "optimizer": self.optimizer.state_dict(),
                    "warmup": self.warmup_scheduler.state_dict(),
                    "decay": self.decay_scheduler.state_dict(),
                    "step": self.global_step,
                },
                f"ckpt_{epoch}.pt",
            )


HPARAMS = {"lr": 2e-4, "batch_size": 16, "warmup_steps": 4000, "lr_decay": 0.999875, "epochs": 100}
