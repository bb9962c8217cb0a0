# Probe 17: the legacy `adjust_learning_rate()` helper kept alongside a newly added torch scheduler.
#
# Source: pytorch/examples imagenet/main.py: older versions set the LR by hand every epoch with
#   `def adjust_learning_rate(optimizer, epoch, args): lr = args.lr * (0.1 ** (epoch // 30));
#   for param_group in optimizer.param_groups: param_group['lr'] = lr`; the current version replaced it with
#   `scheduler = StepLR(optimizer, step_size=30, gamma=0.1)` and `scheduler.step()` per epoch. Forks that
#   add a scheduler but keep the helper get two writers of the same LR (the-database/traiNNer-redux PR #274
#   "fix warmup/scheduler learning rate bugs", torch-points3d PR #630 "the optimizer learning rate would
#   reset to the original learning rate").
# Bug: at the start of every epoch the helper overwrites param_group["lr"] with the step-decay value, so
#   the update CosineAnnealingLR made at the end of the previous epoch is discarded before it is used: the
#   run silently trains with step decay, and the checkpointed scheduler state describes LRs never used.
# Why it is a bug: one optimizer, a manual LR write and a scheduler in the same epoch loop.
# Expected: LR304 at the param_group["lr"] assignment (inside the helper called from the epoch loop).
import argparse
import os
import shutil

import torch
import torch.nn as nn
import torchvision.datasets as datasets
import torchvision.models as models
import torchvision.transforms as transforms
from torch.optim.lr_scheduler import CosineAnnealingLR

parser = argparse.ArgumentParser(description="PyTorch ImageNet Training")
parser.add_argument("data", metavar="DIR")
parser.add_argument("-a", "--arch", default="resnet18")
parser.add_argument("--epochs", default=90, type=int)
parser.add_argument("-b", "--batch-size", default=256, type=int)
parser.add_argument("--lr", "--learning-rate", default=0.1, type=float, dest="lr")
parser.add_argument("--momentum", default=0.9, type=float)
parser.add_argument("--wd", "--weight-decay", default=1e-4, type=float, dest="weight_decay")


def main():
    args = parser.parse_args()
    model = models.__dict__[args.arch]().cuda()
    criterion = nn.CrossEntropyLoss().cuda()
    optimizer = torch.optim.SGD(model.parameters(), args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
    scheduler = CosineAnnealingLR(optimizer, T_max=args.epochs)

    normalize = transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
    train_dataset = datasets.ImageFolder(
        os.path.join(args.data, "train"),
        transforms.Compose([transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(), transforms.ToTensor(), normalize]),
    )
    train_loader = torch.utils.data.DataLoader(train_dataset, batch_size=args.batch_size, shuffle=True, num_workers=8, pin_memory=True)

    best_acc1 = 0.0
    for epoch in range(args.epochs):
        adjust_learning_rate(optimizer, epoch, args)
        train(train_loader, model, criterion, optimizer, epoch)
        acc1 = validate(model, args)
        scheduler.step()

        is_best = acc1 > best_acc1
        best_acc1 = max(acc1, best_acc1)
        save_checkpoint(
            {
                "epoch": epoch + 1,
                "arch": args.arch,
                "state_dict": model.state_dict(),
                "best_acc1": best_acc1,
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
            },
            is_best,
        )


def train(train_loader, model, criterion, optimizer, epoch):
    model.train()
    for i, (images, target) in enumerate(train_loader):
        images = images.cuda(non_blocking=True)
        target = target.cuda(non_blocking=True)
        output = model(images)
        loss = criterion(output, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if i % 100 == 0:
            print(f"Epoch [{epoch}][{i}/{len(train_loader)}] loss {loss.item():.4f}")


def validate(model, args):
    model.eval()
    return 0.0


def save_checkpoint(state, is_best, filename="checkpoint.pth.tar"):
    torch.save(state, filename)
    if is_best:
        shutil.copyfile(filename, "model_best.pth.tar")


def adjust_learning_rate(optimizer, epoch, args):
    """Sets the learning rate to the initial LR decayed by 10 every 30 epochs"""
    lr = args.lr * (0.1 ** (epoch // 30))
    for param_group in optimizer.param_groups:
        param_group["lr"] = lr  # expect: LR304


if __name__ == "__main__":
    main()
