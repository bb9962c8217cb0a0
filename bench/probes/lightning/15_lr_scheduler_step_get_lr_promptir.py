# Probe 15: lr_scheduler_step override that reads scheduler.get_lr().
#
# Source:
#   - va1shn9v/PromptIR, train.py (PromptIRModel):
#       def lr_scheduler_step(self, scheduler, metric):
#           scheduler.step(self.current_epoch)
#           lr = scheduler.get_lr()
#     with `LinearWarmupCosineAnnealingLR` imported from the repository's own utils/schedulers.py.
#     The same two lines are copied into several derived all-in-one restoration repos.
# Bug:
#   `get_lr()` is the scheduler's internal closed-form/recursive step; called outside `step()` it
#   returns a value for the *next* step (and for chainable schedulers it applies the factor again).
#   `get_last_lr()` is the public accessor.  The scheduler class comes from another module (unknown
#   class to a single-file linter), but RULES.md says `get_lr()` applies to schedulers of unknown class.
#   The `step(self.current_epoch)` form is the deprecated epoch argument; whether LR302 applies
#   depends on the class (unknown here), so it is NOT expected.
# Lightning 2.x semantics checked: core/module.py `lr_scheduler_step(self, scheduler, metric)` is called
#   by loops/training_epoch_loop.py `_update_learning_rates` for every due config; its `scheduler`
#   argument is the object returned from configure_optimizers.
import lightning.pytorch as pl
import torch.nn as nn
import torch.optim as optim
from lightning.pytorch.callbacks import ModelCheckpoint
from torch.utils.data import DataLoader

from net.model import PromptIR
from options import options as opt
from utils.dataset_utils import PromptTrainDataset
from utils.schedulers import LinearWarmupCosineAnnealingLR


class PromptIRModel(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = PromptIR(decoder=True)
        self.loss_fn = nn.L1Loss()

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        ([clean_name, de_id], degrad_patch, clean_patch) = batch
        restored = self.net(degrad_patch)
        loss = self.loss_fn(restored, clean_patch)
        self.log("train_loss", loss)
        return loss

    def lr_scheduler_step(self, scheduler, metric):
        scheduler.step(self.current_epoch)
        lr = scheduler.get_lr()  # expect: LR303
        self.log("lr", lr[0])

    def configure_optimizers(self):
        optimizer = optim.AdamW(self.parameters(), lr=2e-4)
        scheduler = LinearWarmupCosineAnnealingLR(optimizer=optimizer, warmup_epochs=15, max_epochs=150)
        return [optimizer], [scheduler]


def main():
    trainset = PromptTrainDataset(opt)
    checkpoint_callback = ModelCheckpoint(dirpath=opt.ckpt_dir, every_n_epochs=1, save_top_k=-1)
    trainloader = DataLoader(trainset, batch_size=opt.batch_size, pin_memory=True, shuffle=True, drop_last=True, num_workers=opt.num_workers)
    model = PromptIRModel()
    trainer = pl.Trainer(max_epochs=opt.epochs, accelerator="gpu", devices=opt.num_gpus, callbacks=[checkpoint_callback])
    trainer.fit(model=model, train_dataloaders=trainloader)


if __name__ == "__main__":
    main()
