# Probe 07: a generic Trainer class steps the scheduler it was handed with no argument; the caller hands
# it a ReduceLROnPlateau built by a helper.
#
# Source: victoresque/pytorch-template issue #89 ("ReduceLROnPlateau lr_scheduler": traceback
#   `trainer.py, in _train_epoch: self.lr_scheduler.step()` -> `TypeError: step() missing 1 required
#   positional argument: 'metrics'`), against trainer/trainer.py, whose `_train_epoch` ends with
#   `if self.lr_scheduler is not None: self.lr_scheduler.step()`, and train.py, which builds the scheduler
#   from the config and passes it as `Trainer(..., lr_scheduler=lr_scheduler)`.
# Bug: ReduceLROnPlateau.step(metrics) requires the monitored value; calling step() without it raises
#   TypeError at the end of the first epoch.
# Why it is a bug: torch.optim.lr_scheduler.ReduceLROnPlateau.step(self, metrics, epoch=None).
# Expected: LR301 at self.lr_scheduler.step().
import argparse
import json

import torch
import torch.nn as nn
from torch.optim import lr_scheduler
from torch.utils.data import DataLoader
from torchvision import datasets, transforms


class BaseTrainer:
    def __init__(self, model, criterion, optimizer, config):
        self.config = config
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.model = model.to(self.device)
        self.criterion = criterion
        self.optimizer = optimizer
        self.epochs = config["trainer"]["epochs"]
        self.start_epoch = 1

    def _train_epoch(self, epoch):
        raise NotImplementedError

    def train(self):
        for epoch in range(self.start_epoch, self.epochs + 1):
            log = {"epoch": epoch}
            log.update(self._train_epoch(epoch))
            for key, value in log.items():
                print(f"    {key:15s}: {value}")


class Trainer(BaseTrainer):
    def __init__(self, model, criterion, optimizer, config, data_loader, valid_data_loader=None, lr_scheduler=None):
        super().__init__(model, criterion, optimizer, config)
        self.data_loader = data_loader
        self.valid_data_loader = valid_data_loader
        self.do_validation = self.valid_data_loader is not None
        self.lr_scheduler = lr_scheduler
        self.log_step = 100

    def _train_epoch(self, epoch):
        self.model.train()
        total_loss = 0.0
        for batch_idx, (data, target) in enumerate(self.data_loader):
            data, target = data.to(self.device), target.to(self.device)
            self.optimizer.zero_grad()
            output = self.model(data)
            loss = self.criterion(output, target)
            loss.backward()
            self.optimizer.step()
            total_loss += loss.item()
            if batch_idx % self.log_step == 0:
                print(f"Train Epoch: {epoch} [{batch_idx}/{len(self.data_loader)}] Loss: {loss.item():.6f}")
        log = {"loss": total_loss / len(self.data_loader)}

        if self.do_validation:
            val_log = self._valid_epoch(epoch)
            log.update(**{"val_" + k: v for k, v in val_log.items()})

        if self.lr_scheduler is not None:
            self.lr_scheduler.step()  # expect: LR301
        return log

    def _valid_epoch(self, epoch):
        self.model.eval()
        total = 0.0
        with torch.no_grad():
            for data, target in self.valid_data_loader:
                data, target = data.to(self.device), target.to(self.device)
                total += self.criterion(self.model(data), target).item()
        return {"loss": total / len(self.valid_data_loader)}


def build_lr_scheduler(config, optimizer):
    sched_cfg = config["lr_scheduler"]["args"]
    return lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", factor=sched_cfg["factor"], patience=sched_cfg["patience"]
    )


def main(config):
    tfm = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    train_set = datasets.MNIST("data", train=True, download=True, transform=tfm)
    valid_set = datasets.MNIST("data", train=False, download=True, transform=tfm)
    data_loader = DataLoader(train_set, batch_size=config["data_loader"]["batch_size"], shuffle=True)
    valid_data_loader = DataLoader(valid_set, batch_size=256)

    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    criterion = nn.CrossEntropyLoss()
    trainable_params = filter(lambda p: p.requires_grad, model.parameters())
    optimizer = torch.optim.Adam(trainable_params, lr=config["optimizer"]["args"]["lr"])
    scheduler = build_lr_scheduler(config, optimizer)

    trainer = Trainer(
        model,
        criterion,
        optimizer,
        config=config,
        data_loader=data_loader,
        valid_data_loader=valid_data_loader,
        lr_scheduler=scheduler,
    )
    trainer.train()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="PyTorch Template")
    parser.add_argument("-c", "--config", default="config.json", type=str)
    cli = parser.parse_args()
    with open(cli.config) as f:
        main(json.load(f))
