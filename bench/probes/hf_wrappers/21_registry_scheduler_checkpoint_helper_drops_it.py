# Probe 21: scheduler built from a config-driven registry (class unknown statically); the checkpoint dict is
# built at the call site and written by a `save_checkpoint()` helper, without the scheduler's state.
#
# Source: Lornatang/ESRGAN-PyTorch train_gan.py: the epoch loop steps `g_scheduler`/`d_scheduler` and calls
#   `save_checkpoint({"epoch": ..., "state_dict": g_model.state_dict(), ..., "optimizer":
#   g_optimizer.state_dict()}, f"epoch_{epoch + 1}.pth.tar", samples_dir, results_dir, "g_best.pth.tar",
#   "g_last.pth.tar", is_best, is_last)` -- no scheduler entry -- while `load_resume_state_dict(..., g_scheduler,
#   ...)` expects to restore one. Same symptom: YehLi/xmodaler#15 ("Since we don't dump lr_scheduler's state
#   in the checkpoint file by default, you can not restore the learning rate schedule after training
#   interruption"), joeynmt PR #127.
# Bug: the checkpoint stores the optimizer but not the scheduler; a resumed run restarts the schedule
#   (MultiStepLR milestones / cosine phase counted from the resume epoch).
# Why it is a bug: RULES.md LR401 is class-independent, so it applies to a scheduler of unknown class.
# Expected: LR401 at the torch.save(...) in save_checkpoint (the dict reaches it as an argument).
import os
import shutil

import torch
from torch.optim import lr_scheduler

SCHEDULERS = {
    "MultiStepLR": lr_scheduler.MultiStepLR,
    "CosineAnnealingLR": lr_scheduler.CosineAnnealingLR,
    "ExponentialLR": lr_scheduler.ExponentialLR,
}

CONFIG = {
    "EXP_NAME": "RRDBNet_x4",
    "EPOCHS": 400,
    "OPTIM": {"LR": 2e-4, "BETAS": (0.9, 0.99), "WEIGHT_DECAY": 0.0},
    "LR_SCHEDULER": {"NAME": "MultiStepLR", "ARGS": {"milestones": [100, 200, 300], "gamma": 0.5}},
}


def build_scheduler(config, optimizer):
    sched_cfg = config["LR_SCHEDULER"]
    return SCHEDULERS[sched_cfg["NAME"]](optimizer, **sched_cfg["ARGS"])


def save_checkpoint(state_dict, file_name, samples_dir, results_dir, best_file_name, last_file_name, is_best=False, is_last=False):
    checkpoint_path = os.path.join(samples_dir, file_name)
    torch.save(state_dict, checkpoint_path)  # expect: LR401
    if is_best:
        shutil.copyfile(checkpoint_path, os.path.join(results_dir, best_file_name))
    if is_last:
        shutil.copyfile(checkpoint_path, os.path.join(results_dir, last_file_name))


def load_resume_state_dict(model, optimizer, scheduler, path):
    checkpoint = torch.load(path, map_location="cpu")
    model.load_state_dict(checkpoint["state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    if "scheduler" in checkpoint:
        scheduler.load_state_dict(checkpoint["scheduler"])
    return checkpoint["epoch"], checkpoint["psnr"]


def train_one_epoch(model, train_loader, pixel_criterion, optimizer, device):
    model.train()
    for batch in train_loader:
        gt, lr = batch["gt"].to(device), batch["lr"].to(device)
        optimizer.zero_grad(set_to_none=True)
        loss = pixel_criterion(model(lr), gt)
        loss.backward()
        optimizer.step()


@torch.no_grad()
def test(model, test_loader, device):
    model.eval()
    psnrs = []
    for batch in test_loader:
        sr = model(batch["lr"].to(device)).clamp(0, 1)
        mse = torch.mean((sr - batch["gt"].to(device)) ** 2)
        psnrs.append((10 * torch.log10(1.0 / mse)).item())
    return sum(psnrs) / len(psnrs)


def main(model, train_loader, test_loader, device, resume=None):
    config = CONFIG
    optimizer = torch.optim.Adam(model.parameters(), config["OPTIM"]["LR"], config["OPTIM"]["BETAS"],
                                 weight_decay=config["OPTIM"]["WEIGHT_DECAY"])
    scheduler = build_scheduler(config, optimizer)
    pixel_criterion = torch.nn.L1Loss()

    start_epoch, best_psnr = 0, 0.0
    if resume:
        start_epoch, best_psnr = load_resume_state_dict(model, optimizer, scheduler, resume)

    samples_dir = os.path.join("samples", config["EXP_NAME"])
    results_dir = os.path.join("results", config["EXP_NAME"])
    os.makedirs(samples_dir, exist_ok=True)
    os.makedirs(results_dir, exist_ok=True)

    for epoch in range(start_epoch, config["EPOCHS"]):
        train_one_epoch(model, train_loader, pixel_criterion, optimizer, device)
        scheduler.step()
        psnr = test(model, test_loader, device)
        is_best = psnr > best_psnr
        is_last = (epoch + 1) == config["EPOCHS"]
        best_psnr = max(psnr, best_psnr)
        save_checkpoint({"epoch": epoch + 1,
                         "psnr": psnr,
                         "state_dict": model.state_dict(),
                         "optimizer": optimizer.state_dict()},
                        f"epoch_{epoch + 1}.pth.tar",
                        samples_dir,
                        results_dir,
                        "g_best.pth.tar",
                        "g_last.pth.tar",
                        is_best,
                        is_last)
