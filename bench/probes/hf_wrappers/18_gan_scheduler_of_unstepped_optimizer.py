# Probe 18: SRGAN-style training where the discriminator update calls the generator's optimizer, so the
# discriminator's scheduler belongs to an optimizer that is never stepped.
#
# Source: Lornatang/SRGAN-PyTorch issue #85 ("I notice that you specify 'g_optimizer' as discriminator
#   optimizer and 'd_optimizer' is not used during training" -- maintainer: "You're right. It's a
#   mistake."); same family: Lornatang/ESRGAN-PyTorch#39 ("line 147 and 148 in train_gan.py are all
#   g_optimizer"). The script builds schedulers with `define_scheduler(g_optimizer, d_optimizer, config)` and
#   steps `g_scheduler.step(); d_scheduler.step()` after each epoch's `train(...)`.
# Bug: d_scheduler = MultiStepLR(d_optimizer, ...) is stepped every epoch, but the loop only ever steps
#   g_optimizer (twice per batch); the discriminator is never trained and its schedule is meaningless.
# Why it is a bug: a scheduler of optimizer A stepped in a loop that only steps optimizer B.
# Expected: LR204 at the d_scheduler constructor.
# Also acceptable (marked also-ok): LR101 at d_scheduler.step() ("the loop steps a scheduler and never
#   steps its optimizer" overlaps with LR204).
import os
import time

import torch
import torch.nn as nn
from torch import optim
from torch.optim import lr_scheduler
from torch.utils.data import DataLoader

CONFIG = {
    "EPOCHS": 18,
    "LR": 1e-4,
    "BETAS": (0.9, 0.999),
    "MILESTONES": [9],
    "GAMMA": 0.5,
    "ADV_WEIGHT": 1e-3,
    "BATCH_SIZE": 16,
}


def define_optimizer(g_model, d_model, config):
    g_optimizer = optim.Adam(g_model.parameters(), config["LR"], config["BETAS"])
    d_optimizer = optim.Adam(d_model.parameters(), config["LR"], config["BETAS"])
    return g_optimizer, d_optimizer


def define_scheduler(g_optimizer, d_optimizer, config):
    g_scheduler = lr_scheduler.MultiStepLR(g_optimizer, config["MILESTONES"], config["GAMMA"])
    d_scheduler = lr_scheduler.MultiStepLR(d_optimizer, config["MILESTONES"], config["GAMMA"])  # expect: LR204
    return g_scheduler, d_scheduler


def train(g_model, d_model, train_loader, pixel_criterion, adversarial_criterion, g_optimizer, d_optimizer, epoch, device, config):
    g_model.train()
    d_model.train()
    end = time.time()
    for batch_index, (lr_img, gt_img) in enumerate(train_loader):
        lr_img, gt_img = lr_img.to(device), gt_img.to(device)
        real_label = torch.ones(gt_img.size(0), 1, device=device)
        fake_label = torch.zeros(gt_img.size(0), 1, device=device)

        # (1) update the discriminator
        for p in d_model.parameters():
            p.requires_grad = True
        d_model.zero_grad(set_to_none=True)
        sr_img = g_model(lr_img)
        d_loss_hr = adversarial_criterion(d_model(gt_img), real_label)
        d_loss_sr = adversarial_criterion(d_model(sr_img.detach()), fake_label)
        d_loss = d_loss_hr + d_loss_sr
        d_loss.backward()
        g_optimizer.step()

        # (2) update the generator
        for p in d_model.parameters():
            p.requires_grad = False
        g_model.zero_grad(set_to_none=True)
        pixel_loss = pixel_criterion(sr_img, gt_img)
        adversarial_loss = config["ADV_WEIGHT"] * adversarial_criterion(d_model(sr_img), real_label)
        g_loss = pixel_loss + adversarial_loss
        g_loss.backward()
        g_optimizer.step()

        if batch_index % 100 == 0:
            print(f"Epoch {epoch} [{batch_index}/{len(train_loader)}] D {d_loss.item():.4f} G {g_loss.item():.4f} "
                  f"({time.time() - end:.1f}s)")


def main(g_model, d_model, train_dataset, device, results_dir="results/SRGAN_x4"):
    config = CONFIG
    train_loader = DataLoader(train_dataset, batch_size=config["BATCH_SIZE"], shuffle=True, drop_last=True, num_workers=4)
    pixel_criterion = nn.MSELoss().to(device)
    adversarial_criterion = nn.BCEWithLogitsLoss().to(device)
    g_optimizer, d_optimizer = define_optimizer(g_model, d_model, config)
    g_scheduler, d_scheduler = define_scheduler(g_optimizer, d_optimizer, config)
    os.makedirs(results_dir, exist_ok=True)

    for epoch in range(config["EPOCHS"]):
        train(g_model, d_model, train_loader, pixel_criterion, adversarial_criterion, g_optimizer, d_optimizer, epoch, device, config)
        g_scheduler.step()
        d_scheduler.step()  # also-ok: LR101
        torch.save({"epoch": epoch + 1, "state_dict": g_model.state_dict(), "optimizer": g_optimizer.state_dict(),
                    "scheduler": g_scheduler.state_dict()}, os.path.join(results_dir, "g_last.pth.tar"))
        torch.save({"epoch": epoch + 1, "state_dict": d_model.state_dict(), "optimizer": d_optimizer.state_dict(),
                    "scheduler": d_scheduler.state_dict()}, os.path.join(results_dir, "d_last.pth.tar"))
