# Probe 09: checkpointing lives in a base class that knows the optimizer but not the subclass's scheduler.
#
# Source: victoresque/pytorch-template base/base_trainer.py `_save_checkpoint` (state = {'arch', 'epoch',
#   'state_dict', 'optimizer': self.optimizer.state_dict(), 'monitor_best', 'config'};
#   `torch.save(state, filename)`), while trainer/trainer.py keeps `self.lr_scheduler` and steps it every
#   epoch; `_resume_checkpoint` restores model and optimizer only. The symptom is reported across many
#   projects: D-X-Y/NAS-Bench-201#19 ("You should also save the state of scheduler in the checkpoint"),
#   YehLi/xmodaler#15, lightly-ai/lightly-train PR #301 ("the scheduler status is not saved ... last_epoch
#   is always equal to -1 when resumed").
# Bug: a resumed run rebuilds MultiStepLR with last_epoch=-1. The restored optimizer keeps the decayed LR,
#   but the milestones [30, 60, 80] are counted again from the resume epoch, so the next decays come 30/60/80
#   epochs after resuming instead of at epochs 30/60/80.
# Why it is a bug: the scheduler's progress (last_epoch, _step_count) lives only in its state_dict().
# Expected: LR401 at the torch.save(...) of _save_checkpoint.
import argparse
import shutil
from pathlib import Path

import torch
import torch.nn as nn
from torch.optim.lr_scheduler import MultiStepLR
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms


class BaseTrainer:
    def __init__(self, model, criterion, optimizer, config):
        self.config = config
        self.device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
        self.model = model.to(self.device)
        self.criterion = criterion
        self.optimizer = optimizer
        self.epochs = config["epochs"]
        self.save_period = config["save_period"]
        self.start_epoch = 1
        self.mnt_best = float("inf")
        self.checkpoint_dir = Path(config["save_dir"])
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        if config.get("resume"):
            self._resume_checkpoint(config["resume"])

    def _train_epoch(self, epoch):
        raise NotImplementedError

    def train(self):
        for epoch in range(self.start_epoch, self.epochs + 1):
            log = self._train_epoch(epoch)
            best = log["val_loss"] < self.mnt_best
            if best:
                self.mnt_best = log["val_loss"]
            if epoch % self.save_period == 0:
                self._save_checkpoint(epoch, save_best=best)

    def _save_checkpoint(self, epoch, save_best=False):
        arch = type(self.model).__name__
        state = {
            "arch": arch,
            "epoch": epoch,
            "state_dict": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "monitor_best": self.mnt_best,
            "config": self.config,
        }
        filename = str(self.checkpoint_dir / f"checkpoint-epoch{epoch}.pth")
        torch.save(state, filename)  # expect: LR401
        print(f"Saving checkpoint: {filename} ...")
        if save_best:
            shutil.copyfile(filename, str(self.checkpoint_dir / "model_best.pth"))

    def _resume_checkpoint(self, resume_path):
        checkpoint = torch.load(resume_path, map_location="cpu")
        self.start_epoch = checkpoint["epoch"] + 1
        self.mnt_best = checkpoint["monitor_best"]
        self.model.load_state_dict(checkpoint["state_dict"])
        self.optimizer.load_state_dict(checkpoint["optimizer"])


class Trainer(BaseTrainer):
    def __init__(self, model, criterion, optimizer, config, data_loader, valid_data_loader, lr_scheduler=None):
        super().__init__(model, criterion, optimizer, config)
        self.data_loader = data_loader
        self.valid_data_loader = valid_data_loader
        self.lr_scheduler = lr_scheduler

    def _train_epoch(self, epoch):
        self.model.train()
        for data, target in self.data_loader:
            data, target = data.to(self.device), target.to(self.device)
            self.optimizer.zero_grad()
            loss = self.criterion(self.model(data), target)
            loss.backward()
            self.optimizer.step()
        val_loss = self._valid_epoch()
        if self.lr_scheduler is not None:
            self.lr_scheduler.step()
        return {"val_loss": val_loss}

    @torch.no_grad()
    def _valid_epoch(self):
        self.model.eval()
        total = 0.0
        for data, target in self.valid_data_loader:
            data, target = data.to(self.device), target.to(self.device)
            total += self.criterion(self.model(data), target).item()
        return total / len(self.valid_data_loader)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--resume", default=None)
    parser.add_argument("--save_dir", default="saved/models")
    cli = parser.parse_args()
    config = {"epochs": 90, "save_period": 5, "save_dir": cli.save_dir, "resume": cli.resume}

    tfm = transforms.Compose([transforms.RandomResizedCrop(224), transforms.ToTensor()])
    data_loader = DataLoader(datasets.ImageFolder("data/train", tfm), batch_size=128, shuffle=True, num_workers=8)
    valid_data_loader = DataLoader(datasets.ImageFolder("data/val", tfm), batch_size=256, num_workers=8)

    model = models.resnet50()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    lr_scheduler = MultiStepLR(optimizer, milestones=[30, 60, 80], gamma=0.1)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer, config, data_loader, valid_data_loader, lr_scheduler=lr_scheduler)
    trainer.train()


if __name__ == "__main__":
    main()
