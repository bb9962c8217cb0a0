# Probe 32 (CLEAN): a Trainer subclass overrides `create_scheduler` to use a torch OneCycleLR sized by the
# `num_training_steps` the Trainer passes in; user code never steps it.
#
# Source: huggingface/transformers src/transformers/trainer.py: `create_scheduler(self,
#   num_training_steps, optimizer=None)` is called from `create_optimizer_and_scheduler(num_training_steps=
#   max_steps)`, where `max_steps = math.ceil(args.num_train_epochs * num_update_steps_per_epoch)` counts
#   optimizer updates; the loop then calls `self.lr_scheduler.step()` once per update (and exactly
#   max_steps times, which is what OneCycleLR's total_steps allows). The Trainer does not prepare the
#   scheduler with Accelerate (transformers PR #24088: "Do not prepare lr scheduler as it has the right
#   number of steps"), so there is no num_processes factor. Overrides like this one appear in user code,
#   e.g. imemmul/VVAP models/trainer.py (`def create_scheduler(self, num_training_steps: int,
#   optimizer=None): if self.lr_scheduler is None: self.lr_scheduler = get_linear_schedule_with_warmup(...)`).
# Traps for a naive linter: LR104 (no step() in user code), LR103/LR102 (OneCycleLR is per iteration
#   and the Trainer does step it per update), LR108 (total_steps == the Trainer's update count).
# Expected: no findings.
import torch
from torch.optim.lr_scheduler import OneCycleLR
from transformers import AutoModelForImageClassification, Trainer, TrainingArguments


class OneCycleTrainer(Trainer):
    def create_scheduler(self, num_training_steps: int, optimizer: torch.optim.Optimizer = None):
        if self.lr_scheduler is None:
            optimizer = self.optimizer if optimizer is None else optimizer
            self.lr_scheduler = OneCycleLR(
                optimizer,
                max_lr=self.args.learning_rate,
                total_steps=num_training_steps,
                pct_start=self.args.warmup_ratio or 0.3,
                anneal_strategy="cos",
            )
        return self.lr_scheduler


def main(train_dataset, eval_dataset, collate_fn):
    model = AutoModelForImageClassification.from_pretrained("facebook/convnext-tiny-224", num_labels=101,
                                                            ignore_mismatched_sizes=True)
    args = TrainingArguments(
        output_dir="convnext-food101",
        per_device_train_batch_size=64,
        gradient_accumulation_steps=2,
        num_train_epochs=5,
        learning_rate=1e-3,
        warmup_ratio=0.25,
        eval_strategy="epoch",
        save_strategy="epoch",
        remove_unused_columns=False,
    )
    trainer = OneCycleTrainer(
        model=model,
        args=args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        data_collator=collate_fn,
    )
    trainer.train()
