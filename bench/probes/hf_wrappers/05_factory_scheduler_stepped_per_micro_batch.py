# Probe 05: scheduler from a config-driven factory, stepped on every micro-batch under gradient accumulation.
#
# Source: h2oai/h2o-llmstudio issue #663 ("[BUG] Scheduler should consider gradient accumulation while
#   assigning epoch_steps?") against train.py `run_train()`: `scheduler = get_scheduler(cfg=cfg,
#   optimizer=optimizer, epoch_steps=epoch_steps)`; in the batch loop `scaler.step(optimizer)` /
#   `optimizer.step()` run only `if num_updates % cfg.training.grad_accumulation == 0`, but
#   `if scheduler is not None: scheduler.step()` runs for every batch. The issue links the torch warning
#   "Detected call of lr_scheduler.step() before optimizer.step()".
# Bug: with grad_accumulation=k the LR moves k times per weight update; warmup lasts 1/k of the
#   intended number of updates, and the scheduler steps on iterations where the optimizer does not.
# Why it is a bug: torch schedulers count calls to step(), not weight updates.
# Expected: LR106 at scheduler.step(). The factory is defined in this file (returns a transformers
#   warmup schedule) so lrlint can resolve the class; LR106 does not need it anyway.
import logging
import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.cuda.amp import GradScaler, autocast
from tqdm import tqdm
from transformers import get_constant_schedule_with_warmup, get_cosine_schedule_with_warmup, get_linear_schedule_with_warmup

logger = logging.getLogger(__name__)


@dataclass
class TrainingConfig:
    epochs: int = 2
    learning_rate: float = 1e-4
    grad_accumulation: int = 4
    gradient_clip: float = 1.0
    schedule: str = "Cosine"
    warmup_epochs: float = 0.1
    evaluation_epochs: float = 1.0


@dataclass
class EnvironmentConfig:
    mixed_precision: bool = True
    device: str = "cuda"


@dataclass
class Config:
    training: TrainingConfig = field(default_factory=TrainingConfig)
    environment: EnvironmentConfig = field(default_factory=EnvironmentConfig)


def get_optimizer(model, cfg):
    return torch.optim.AdamW(model.parameters(), lr=cfg.training.learning_rate, weight_decay=0.0)


def get_scheduler(cfg, optimizer, epoch_steps):
    """Builds the LR schedule described in cfg.training (sizes are counted in batches)."""
    total_steps = epoch_steps * cfg.training.epochs
    warmup_steps = int(cfg.training.warmup_epochs * epoch_steps)
    if cfg.training.schedule == "Cosine":
        return get_cosine_schedule_with_warmup(
            optimizer, num_warmup_steps=warmup_steps, num_training_steps=total_steps
        )
    if cfg.training.schedule == "Linear":
        return get_linear_schedule_with_warmup(
            optimizer, num_warmup_steps=warmup_steps, num_training_steps=total_steps
        )
    return get_constant_schedule_with_warmup(optimizer, num_warmup_steps=warmup_steps)


def run_train(cfg, model, train_dataloader):
    epoch_steps = len(train_dataloader)
    optimizer = get_optimizer(model=model, cfg=cfg)
    scheduler = get_scheduler(cfg=cfg, optimizer=optimizer, epoch_steps=epoch_steps)
    scaler = GradScaler() if cfg.environment.mixed_precision else None

    optimizer.zero_grad(set_to_none=True)
    num_updates = 0
    for epoch in range(cfg.training.epochs):
        model.train()
        losses = []
        progress_bar = tqdm(total=epoch_steps, desc=f"epoch {epoch + 1}")
        tr_it = iter(train_dataloader)
        for itr in range(epoch_steps):
            num_updates += 1
            batch = next(tr_it)
            batch = {k: v.to(cfg.environment.device) for k, v in batch.items()}

            if cfg.environment.mixed_precision:
                with autocast():
                    output_dict = model(batch)
            else:
                output_dict = model(batch)
            loss = output_dict["loss"]
            losses.append(loss.item())
            if cfg.training.grad_accumulation != 1:
                loss = loss / cfg.training.grad_accumulation

            if cfg.environment.mixed_precision:
                scaler.scale(loss).backward()
                if num_updates % cfg.training.grad_accumulation == 0:
                    if cfg.training.gradient_clip > 0:
                        scaler.unscale_(optimizer)
                        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.training.gradient_clip)
                    scaler.step(optimizer)
                    scaler.update()
                    optimizer.zero_grad(set_to_none=True)
            else:
                loss.backward()
                if num_updates % cfg.training.grad_accumulation == 0:
                    if cfg.training.gradient_clip > 0:
                        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.training.gradient_clip)
                    optimizer.step()
                    optimizer.zero_grad(set_to_none=True)

            if scheduler is not None:
                scheduler.step()  # expect: LR106

            progress_bar.set_description(f"train loss: {np.mean(losses[-10:]):.2f}", refresh=False)
            progress_bar.update(1)
            if itr % 100 == 0:
                logger.info("lr=%.3e", optimizer.param_groups[0]["lr"])
        progress_bar.close()
    return model
