# Probe 08: a reusable Trainer ("library" style) steps whatever scheduler it is given once per epoch;
# the script gives it a OneCycleLR sized in batches from a `build_scheduler(cfg, optimizer, ...)` factory.
#
# Source: aramis-lab/clinicadl issue #805 ("LRScheduler .step() location inaccurate": the library's
#   scheduler callback steps at epoch end, but "Some LRSchedulers expects the scheduler.step() after every
#   optimization steps (e.g. CyclicLR)"); same family: nodefluxio/vortex#58, eth-easl/modyn#163,
#   Quantinuum/lambeq PR #249 review ("this only works with epoch-based schedulers and not ... OneCycleLR").
#   torch docs for OneCycleLR: "step should be called after a batch has been used for training".
# Bug: OneCycleLR(epochs=E, steps_per_epoch=len(train_loader)) expects E*len(train_loader) steps; the
#   Trainer steps it E times, so the LR stays in the first few percent of the warm-up ramp (~max_lr/25)
#   for the whole run.
# Why it is a bug: the schedule is sized in iterations and stepped per epoch.
# Expected: LR103 at self.scheduler.step() in Trainer.fit.
# Also acceptable (marked also-ok): LR109 at the OneCycleLR constructor (the run covers 1/len(train_loader)
#   of the schedule), a consequence of the same mistake.
import argparse
import os

import torch
import torch.nn as nn
from torch.optim.lr_scheduler import OneCycleLR
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms

DEFAULT_CONFIG = {
    "optimizer": {"lr": 0.1, "momentum": 0.9, "weight_decay": 5e-4},
    "scheduler": {"max_lr": 0.4, "pct_start": 0.25},
    "epochs": 30,
    "batch_size": 256,
}


class Trainer:
    """Minimal reusable trainer: owns the loop, the device and the checkpointing."""

    def __init__(self, model, optimizer, criterion, scheduler=None, device="cuda", out_dir="runs"):
        self.model = model.to(device)
        self.optimizer = optimizer
        self.criterion = criterion
        self.scheduler = scheduler
        self.device = device
        self.out_dir = out_dir

    def train_one_epoch(self, loader):
        self.model.train()
        running = 0.0
        for images, targets in loader:
            images, targets = images.to(self.device), targets.to(self.device)
            self.optimizer.zero_grad(set_to_none=True)
            loss = self.criterion(self.model(images), targets)
            loss.backward()
            self.optimizer.step()
            running += loss.item()
        return running / len(loader)

    @torch.no_grad()
    def evaluate(self, loader):
        self.model.eval()
        correct = 0
        for images, targets in loader:
            images, targets = images.to(self.device), targets.to(self.device)
            correct += (self.model(images).argmax(1) == targets).sum().item()
        return correct / len(loader.dataset)

    def fit(self, train_loader, val_loader, epochs):
        for epoch in range(epochs):
            train_loss = self.train_one_epoch(train_loader)
            acc = self.evaluate(val_loader)
            if self.scheduler is not None:
                self.scheduler.step()  # expect: LR103
            print(f"epoch {epoch}: loss={train_loss:.4f} acc={acc:.4f}")
        torch.save(
            {
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            },
            os.path.join(self.out_dir, "last.pt"),
        )


def build_scheduler(cfg, optimizer, steps_per_epoch):
    return OneCycleLR(  # also-ok: LR109
        optimizer,
        max_lr=cfg["scheduler"]["max_lr"],
        epochs=cfg["epochs"],
        steps_per_epoch=steps_per_epoch,
        pct_start=cfg["scheduler"]["pct_start"],
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="./data")
    parser.add_argument("--out_dir", default="runs/resnet18")
    args = parser.parse_args()
    cfg = DEFAULT_CONFIG
    os.makedirs(args.out_dir, exist_ok=True)

    tfm = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(), transforms.ToTensor()])
    train_loader = DataLoader(datasets.CIFAR10(args.data, train=True, download=True, transform=tfm),
                              batch_size=cfg["batch_size"], shuffle=True, num_workers=4, drop_last=True)
    val_loader = DataLoader(datasets.CIFAR10(args.data, train=False, download=True, transform=transforms.ToTensor()),
                            batch_size=512)

    model = models.resnet18(num_classes=10)
    optimizer = torch.optim.SGD(model.parameters(), **cfg["optimizer"])
    scheduler = build_scheduler(cfg, optimizer, steps_per_epoch=len(train_loader))
    trainer = Trainer(model, optimizer, nn.CrossEntropyLoss(), scheduler=scheduler, out_dir=args.out_dir)
    trainer.fit(train_loader, val_loader, epochs=cfg["epochs"])


if __name__ == "__main__":
    main()
