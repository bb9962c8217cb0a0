# Probe 24: a `create_scheduler(args, optimizer)` factory ported from timm to torch keeps timm's keyword.
#
# Source: huggingface/pytorch-image-models timm/scheduler/scheduler_factory.py (`create_scheduler(args,
#   optimizer)` reads `args.sched`, `args.decay_epochs`, `args.decay_rate`, `args.warmup_epochs`) and
#   timm/scheduler/step_lr.py (`StepLRScheduler(optimizer, decay_t, decay_rate=1., warmup_t=0, ...)`);
#   torch's StepLR signature is `StepLR(optimizer, step_size, gamma=0.1, last_epoch=-1)`.
#   The same keyword mix-up is RULES.md's own example (`StepLR(opt, step=10, decay=0.1)`).
# Bug: `decay_rate=` is not a StepLR parameter: TypeError ("unexpected keyword argument 'decay_rate'")
#   when the factory runs; the intended keyword is `gamma`.
# Why it is a bug: torch signature (shipped as data in lrlint).
# Expected: LR201 at the `decay_rate=` argument.
import argparse

import torch
import torch.nn as nn
from torch.optim.lr_scheduler import CosineAnnealingLR, StepLR
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms


def get_args():
    parser = argparse.ArgumentParser("ImageNet fine-tuning (timm-compatible CLI)")
    parser.add_argument("--sched", default="step", choices=["step", "cosine"])
    parser.add_argument("--epochs", type=int, default=90)
    parser.add_argument("--decay-epochs", type=int, default=30)
    parser.add_argument("--decay-rate", type=float, default=0.1)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--data-dir", default="/data/imagenet")
    return parser.parse_args()


def create_scheduler(args, optimizer):
    """Same CLI as timm.scheduler.create_scheduler, but returns a torch.optim.lr_scheduler object."""
    if args.sched == "cosine":
        return CosineAnnealingLR(optimizer, T_max=args.epochs)
    return StepLR(
        optimizer,
        step_size=args.decay_epochs,
        decay_rate=args.decay_rate,  # expect: LR201
    )


def train_one_epoch(model, loader, optimizer, criterion, device):
    model.train()
    for images, targets in loader:
        images, targets = images.to(device), targets.to(device)
        optimizer.zero_grad()
        loss = criterion(model(images), targets)
        loss.backward()
        optimizer.step()


def main():
    args = get_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    tfm = transforms.Compose([transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(), transforms.ToTensor()])
    loader = DataLoader(datasets.ImageFolder(f"{args.data_dir}/train", tfm), batch_size=args.batch_size, shuffle=True, num_workers=8)
    model = models.resnet50().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=1e-4)
    lr_scheduler = create_scheduler(args, optimizer)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(args.epochs):
        train_one_epoch(model, loader, optimizer, criterion, device)
        lr_scheduler.step()
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "lr_scheduler": lr_scheduler.state_dict(), "epoch": epoch}, "checkpoint.pth")


if __name__ == "__main__":
    main()
