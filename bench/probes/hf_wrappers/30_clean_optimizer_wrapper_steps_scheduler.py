# Probe 30 (CLEAN): a wrapper object owns optimizer + scheduler, steps them in the right order in its own
# step(), is stepped once per accumulation window, and checkpoints both through its own state_dict().
#
# Source: the wrapper pattern of "ScheduledOptim"/"NoamOpt"-style classes (jadore801120/
#   attention-is-all-you-need-pytorch, harvardnlp annotated-transformer), here holding a real torch
#   scheduler; RULES.md: "A scheduler held by a wrapper object that steps it in its own step() is stepped
#   whenever the wrapper is." torch docs: call optimizer.step() before scheduler.step().
# Traps for a naive linter: LR104 (the scheduler is never stepped by name in the training loop), LR106
#   (the wrapper is stepped under the `% accum` guard), LR101 (order inside the wrapper is correct),
#   LR401 (the checkpoint stores `self.optim.state_dict()`, which contains the scheduler's state).
# Expected: no findings.
import math

import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from transformers import get_inverse_sqrt_schedule


class ScheduledOptimizer:
    """Optimizer + LR schedule + clipping in one object."""

    def __init__(self, optimizer, scheduler, max_grad_norm=1.0):
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.max_grad_norm = max_grad_norm

    def step(self, parameters):
        torch.nn.utils.clip_grad_norm_(parameters, self.max_grad_norm)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)

    def get_last_lr(self):
        return self.scheduler.get_last_lr()

    def state_dict(self):
        return {"optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict()}

    def load_state_dict(self, state):
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])


class TranslationTrainer:
    def __init__(self, model, train_set, lr=7e-4, warmup=4000, batch_size=64, accum=8, epochs=30):
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.model = model.to(self.device)
        self.loader = DataLoader(train_set, batch_size=batch_size, shuffle=True)
        self.accum = accum
        self.epochs = epochs
        optimizer = torch.optim.Adam(self.model.parameters(), lr=lr, betas=(0.9, 0.98), eps=1e-9)
        scheduler = get_inverse_sqrt_schedule(optimizer, num_warmup_steps=warmup)
        self.optim = ScheduledOptimizer(optimizer, scheduler)
        self.criterion = nn.CrossEntropyLoss(ignore_index=0, label_smoothing=0.1)
        self.updates = 0

    def train(self):
        for epoch in range(self.epochs):
            self.model.train()
            for i, (src, tgt) in enumerate(self.loader):
                src, tgt = src.to(self.device), tgt.to(self.device)
                logits = self.model(src, tgt[:, :-1])
                loss = self.criterion(logits.reshape(-1, logits.size(-1)), tgt[:, 1:].reshape(-1)) / self.accum
                loss.backward()
                if (i + 1) % self.accum == 0:
                    self.optim.step(self.model.parameters())
                    self.updates += 1
                    if self.updates % 100 == 0:
                        print(f"update {self.updates} lr {self.optim.get_last_lr()[0]:.2e} ppl {math.exp(loss.item() * self.accum):.2f}")
            torch.save({"model": self.model.state_dict(), "optim": self.optim.state_dict(), "epoch": epoch},
                       f"transformer_ep{epoch}.pt")
