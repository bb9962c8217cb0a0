# Clean probe 29: a transformers linear schedule deliberately sized in epochs and stepped per epoch.
#
# Source: public Lightning modules found by exact-string search for
#   `num_training_steps=self.trainer.max_epochs`, e.g.
#       scheduler = get_linear_schedule_with_warmup(optimizer, num_warmup_steps=0,
#                                                   num_training_steps=self.trainer.max_epochs)
#       return ([optimizer], [{"scheduler": scheduler, "interval": "epoch"}])
# Why it is correct under Lightning 2.x: the LambdaLR returned by the factory counts whatever its step()
#   counts; Lightning steps an "epoch" config once per epoch (loops/training_epoch_loop.py), and the
#   horizon is max_epochs, so the linear decay reaches 0 at the end of the last epoch as intended.
# Trap: RULES.md calls transformers factories "per-iteration LambdaLR", so a linter keyed on the class
#   alone would report LR103 here; the sizes (`self.trainer.max_epochs`, warm-up 0) count epochs, and
#   LR103's own text ("sized in batches") does not hold.  Expected: no finding.
import lightning.pytorch as pl
import torch
from transformers import AutoModel, get_linear_schedule_with_warmup


class RewardModel(pl.LightningModule):
    def __init__(self, base_model: str = "gpt2", initial_lr: float = 1e-5):
        super().__init__()
        self.save_hyperparameters()
        self.backbone = AutoModel.from_pretrained(base_model)
        self.value_head = torch.nn.Linear(self.backbone.config.hidden_size, 1)
        self.initial_lr = initial_lr

    def forward(self, input_ids, attention_mask):
        hidden = self.backbone(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.value_head(hidden[:, -1]).squeeze(-1)

    def training_step(self, batch, batch_idx):
        chosen = self(batch["chosen_ids"], batch["chosen_mask"])
        rejected = self(batch["rejected_ids"], batch["rejected_mask"])
        loss = -torch.nn.functional.logsigmoid(chosen - rejected).mean()
        self.log("train/loss", loss)
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.initial_lr)
        scheduler = get_linear_schedule_with_warmup(
            optimizer,
            num_warmup_steps=0,
            num_training_steps=self.trainer.max_epochs,
        )
        return ([optimizer], [{"scheduler": scheduler, "interval": "epoch"}])
