from __future__ import annotations

import re
from collections.abc import Iterator

import libcst as cst

from lrlint.findings import Severity
from lrlint.model import NEEDS_A_SCHEDULER, TraceItem, TrainingModel
from lrlint.rules.base import Report, Rule

# The epoch number under its usual names: `epoch`, `epochs`, `cur_epoch`, `epoch_idx`, `n_epoch`.
_EPOCH_NUMBER = re.compile(r"(?:[a-z]+_)?epochs?(?:_?(?:idx|index|id|i|n|num|number|no|count|counter))?")


class PlateauWithoutMetric(Rule):
    """
    `ReduceLROnPlateau.step()` called without the monitored metric, or with the epoch counter.

    `ReduceLROnPlateau.step(metrics)` requires the value it monitors: without it the call is a
    `TypeError`. Given the epoch (`plateau.step(epoch)`), torch silently reads the epoch number
    as the metric; in mode "min" a growing number never improves, so the learning rate is cut
    every `patience` epochs regardless of training.

    A ReduceLROnPlateau returned by a LightningModule's `configure_optimizers` without a
    `"monitor"` makes Lightning raise MisconfigurationException when fit starts: in its scheduler
    dict when it is returned in one (a `"monitor"` beside that dict is ignored), else beside it in
    the optimizer dict, also when an option picks it among other schedulers (`elif
    self.scheduler == "reduce":`: that option fails); `lr_scheduler_step(self, scheduler, metric)` is
    checked like any other step, with `scheduler` being what `configure_optimizers` returns.

    Fix: pass the validation metric: `scheduler.step(val_loss)`; in Lightning, return
    `{"scheduler": scheduler, "monitor": "val_loss"}`.
    """

    code = "LR301"
    name = "plateau-without-metric"
    severity = Severity.ERROR
    summary = "ReduceLROnPlateau.step() without the monitored metric, or with the epoch as metric"
    needs = NEEDS_A_SCHEDULER
    VALID = (
        """
import torch
optimizer = torch.optim.SGD(params, lr=0.1)
plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=3)
for epoch in range(50):
    for batch in loader:
        optimizer.step()
    val_loss = evaluate(model)
    plateau.step(val_loss)
""",
        """
import torch
optimizer = torch.optim.SGD(params, lr=0.1)
plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=3)
for epoch in range(50):
    epoch_loss = 0.0
    for batch in loader:
        optimizer.step()
        epoch_loss += loss.item()
    plateau.step(epoch_loss)  # a metric gathered per epoch, not the epoch number
""",
        """
import torch
from torch.optim.lr_scheduler import ReduceLROnPlateau, _LRScheduler


class Trainer:
    def __init__(self, network):
        self.optimizer = torch.optim.Adam(network.parameters(), lr=3e-4)
        self.lr_scheduler = ReduceLROnPlateau(self.optimizer, mode="min", factor=0.2)

    def load_checkpoint(self, checkpoint):
        self.epoch = checkpoint["epoch"]
        self.lr_scheduler.load_state_dict(checkpoint["lr_scheduler_state_dict"])
        if issubclass(self.lr_scheduler.__class__, _LRScheduler):  # not the plateau
            self.lr_scheduler.step(self.epoch)
""",
        """
import lightning.pytorch as pl
from torch import optim


def build_scheduler(name, optimizer):
    if name == "plateau":
        return optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=10)
    return optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=100)


class Model(pl.LightningModule):
    def configure_optimizers(self):
        optimizer = optim.SGD(self.parameters(), lr=0.1)
        scheduler = build_scheduler(self.scheduler, optimizer)
        if self.scheduler == "plateau":
            return {"optimizer": optimizer, "lr_scheduler": scheduler, "monitor": "val_loss"}
        return [optimizer], [scheduler]  # the plateau takes the return above
""",
    )
    INVALID = (
        """
import torch
import lightning.pytorch as pl

class Model(pl.LightningModule):
    def configure_optimizers(self):
        optimizer = torch.optim.Adam(self.parameters(), lr=1e-3)
        return [optimizer], [torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer)]  # expect: LR301
""",
        """
import pytorch_lightning as pl
from torch.optim import SGD
from torch.optim.lr_scheduler import CosineAnnealingLR, ReduceLROnPlateau


class LinearEval(pl.LightningModule):
    def configure_optimizers(self):
        optimizer = SGD(self.classifier.parameters(), lr=self.lr, momentum=0.9)
        if self.scheduler == "cosine":
            scheduler = CosineAnnealingLR(optimizer, self.max_epochs)
        elif self.scheduler == "reduce":
            scheduler = ReduceLROnPlateau(optimizer)
        else:
            raise ValueError(f"{self.scheduler} not in (cosine, reduce)")
        return [optimizer], [scheduler]  # expect: LR301
""",
        """
import torch
import lightning.pytorch as pl

class Model(pl.LightningModule):
    def configure_optimizers(self):
        optimizer = torch.optim.Adam(self.parameters(), lr=1e-3)
        plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=3)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": plateau, "interval": "epoch"},  # expect: LR301
            "monitor": "val_loss",  # read only beside a bare scheduler
        }
""",
        """
import torch
optimizer = torch.optim.SGD(params, lr=0.1)
plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=3)
for epoch in range(50):
    for batch in loader:
        optimizer.step()
    plateau.step()  # expect: LR301
""",
        """
import torch
optimizer = torch.optim.SGD(params, lr=0.1)
plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=3)
for epoch in range(50):
    for batch in loader:
        optimizer.step()
    plateau.step(epoch)  # expect: LR301
""",
        """
import torch


class Trainer:
    def __init__(self, model, loader):
        self.model, self.loader, self.epoch = model, loader, 0
        self.optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(self.optimizer, mode="min")

    def fit(self, epochs):
        for self.epoch in range(epochs):
            for batch in self.loader:
                self.optimizer.step()
            self.scheduler.step(self.epoch)  # expect: LR301
""",
        """
import torch
from transformers import get_scheduler

optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)
scheduler = get_scheduler("reduce_lr_on_plateau", optimizer)  # a ReduceLROnPlateau
for epoch in range(10):
    for batch in loader:
        optimizer.step()
    scheduler.step()  # expect: LR301
""",
    )

    def check(self, model: TrainingModel) -> Iterator[Report]:
        yield from _lightning_without_monitor(model)
        for _, item in model.scheduler_steps():
            if not all(s.spec is not None and s.spec.is_plateau for s in item.objects):
                continue
            receiver = model.receiver(item.call)
            metric = _metric_argument(item.call)
            if metric is None:
                yield Report(
                    item.call,
                    f"`{receiver}.step()` of ReduceLROnPlateau needs the monitored metric (TypeError without "
                    f"it): call `{receiver}.step(val_loss)`",
                )
            elif _is_epoch_counter(metric, item):
                yield Report(
                    item.call,
                    f"`{receiver}.step({model.code(metric)})` passes the epoch counter as the metric: "
                    f"ReduceLROnPlateau sees a value that never improves and cuts the LR every `patience` "
                    f"epochs; pass the validation metric instead",
                )


def _lightning_without_monitor(model: TrainingModel) -> Iterator[Report]:
    """A ReduceLROnPlateau returned to Lightning (automatic optimisation) without the metric to monitor,
    also when it is one of the schedulers an option picks (`elif self.scheduler == "reduce":`)."""
    for setup in model.lightning_modules:
        if not setup.automatic:
            continue
        configs = setup.configuration.schedulers
        # A return that gives a monitor: the module may route the plateau there (`if self.scheduler
        # == "plateau": return {..., "monitor": "val_loss"}`), and one that picks among schedulers
        # need not be the plateau's.
        monitors_one = any(c.monitor is not None or c.ignored_monitor is not None for c in configs)
        for config in configs:
            schedulers = model.configured_schedulers(config)
            plateaus = model.ordered(frozenset(s for s in schedulers if s.spec is not None and s.spec.is_plateau))
            if not plateaus or config.ignored or config.monitor is not None:
                continue
            if len(plateaus) < len(schedulers) and monitors_one:
                continue
            picked = (
                "" if len(plateaus) == len(schedulers) else f" when the code picks it ({model.where(plateaus[0].call)})"
            )
            if config.ignored_monitor is not None:
                yield Report(
                    config.scheduler,
                    f'ReduceLROnPlateau is returned in a scheduler dict without a "monitor"{picked}: Lightning '
                    f'ignores the "monitor" beside it ({model.where(config.ignored_monitor)}), which counts only '
                    "for a bare scheduler, and raises MisconfigurationException when fit starts; move "
                    f'"monitor": {model.code(config.ignored_monitor)} into the scheduler dict',
                )
            else:
                yield Report(
                    config.scheduler,
                    f'ReduceLROnPlateau is returned to Lightning without a "monitor"{picked}: Lightning raises '
                    "MisconfigurationException when fit starts; return "
                    '{"scheduler": scheduler, "monitor": "val_loss"} with the metric you log',
                )


def _metric_argument(call: cst.Call) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.star:
            return arg.value  # *args: something is passed
        if arg.keyword is None or arg.keyword.value == "metrics":
            return arg.value
    return None


def _is_epoch_counter(metric: cst.BaseExpression, item: TraceItem) -> bool:
    """A loop's counter, or a name for the epoch number (`epoch`, `cur_epoch`, `epoch_idx`,
    `self.current_epoch`); not a metric gathered per epoch (`epoch_loss`, `val_epoch_acc`)."""
    if isinstance(metric, cst.Attribute):
        return _names_the_epoch_number(metric.attr.value.lower())
    if not isinstance(metric, cst.Name):
        return False
    counters = set().union(*(loop.target_names() for loop in item.loops))
    return metric.value.lower() in counters or _names_the_epoch_number(metric.value.lower())


def _names_the_epoch_number(name: str) -> bool:
    return bool(_EPOCH_NUMBER.fullmatch(name))
