# Probe 20: LightningCLI's automatic configure_optimizers with a per-iteration OneCycleLR.
#
# Source:
#   - src/lightning/pytorch/cli.py (Lightning-AI/pytorch-lightning): `LightningCLI.configure_optimizers`
#     returns `[optimizer], [lr_scheduler]` for every scheduler except `lightning.pytorch.cli.ReduceLROnPlateau`
#     (which gets {"scheduler": ..., "monitor": ...}); `_add_configure_optimizers_method_to_model`
#     installs it when one optimizer and one scheduler group are registered as "AUTOMATIC".
#   - ashleve/lightning-hydra-template issue #566 "Using OneCycleLR scheduler" (OneCycleLR plugged into a
#     config-driven configure_optimizers).
# Bug:
#   `parser.add_lr_scheduler_args(OneCycleLR)` plus the default `link_to="AUTOMATIC"` makes Lightning use
#   the CLI's configure_optimizers, which registers the scheduler without "interval": it is stepped once
#   per epoch although total_steps counts optimizer steps.
#   Expected: LR103 at the line that registers the OneCycleLR with the CLI (the only user-written place).
# Lightning 2.x semantics checked: cli.py `LightningCLI.configure_optimizers` (static) quoted above;
#   default interval "epoch" (utilities/types.py `LRSchedulerConfig`).
import torch
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI
from torch.optim.lr_scheduler import OneCycleLR

from project.data import SpectrogramDataModule
from project.model import ConformerCTC


class ConformerCLI(LightningCLI):
    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_optimizer_args(torch.optim.AdamW)
        parser.add_lr_scheduler_args(OneCycleLR)  # expect: LR103
        parser.set_defaults(
            {
                "optimizer.lr": 1e-3,
                "optimizer.weight_decay": 1e-2,
                "lr_scheduler.max_lr": 1e-3,
                "lr_scheduler.total_steps": 120_000,
                "lr_scheduler.pct_start": 0.1,
                "trainer.max_steps": 120_000,
            }
        )


def cli_main():
    ConformerCLI(ConformerCTC, SpectrogramDataModule, save_config_kwargs={"overwrite": True})


if __name__ == "__main__":
    cli_main()
