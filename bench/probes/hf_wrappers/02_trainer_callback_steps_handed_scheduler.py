# Probe 02: a TrainerCallback that steps the scheduler the Trainer already steps.
#
# Source: huggingface/transformers src/transformers/trainer.py (_inner_training_loop steps
#   `self.lr_scheduler` right after `self.optimizer.step()`, then calls
#   `callback_handler.on_step_end(...)`), and src/transformers/trainer_callback.py
#   (CallbackHandler.call_event passes `optimizer=self.optimizer, lr_scheduler=self.lr_scheduler` to
#   every callback). The callback docs say callbacks are "read only" apart from TrainerControl
#   (https://huggingface.co/docs/transformers/main/en/main_classes/callback), but nothing stops one from
#   calling `.step()` on the scheduler it holds.
# Bug: the warmup/cosine schedule handed to the Trainer is also stepped in on_step_end, so it advances
#   twice per optimizer step: warmup is half as long as configured and the cosine reaches its minimum
#   at mid-run, then climbs back (the cosine lambda is evaluated at progress > 1 for the second half).
# Why it is a bug: one scheduler, two stepping sites per iteration (Trainer + callback).
# Expected: LR105 at the callback's step() (the Trainer's own step is the first one).
# Also acceptable (marked also-ok): LR108 at the get_cosine_schedule_with_warmup constructor, a
#   consequence of the doubled stepping, which exhausts num_training_steps half way.
import argparse
import math

import torch
from datasets import load_from_disk
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    DataCollatorForLanguageModeling,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    get_cosine_schedule_with_warmup,
)


class LrWarmupCallback(TrainerCallback):
    """Keeps the LR schedule in lock-step with the optimizer and logs the LR."""

    def __init__(self, scheduler, log_every=50):
        self.scheduler = scheduler
        self.log_every = log_every

    def on_step_end(self, args, state, control, **kwargs):
        self.scheduler.step()  # expect: LR105
        if state.global_step % self.log_every == 0 and state.is_world_process_zero:
            print({"step": state.global_step, "lr": self.scheduler.get_last_lr()[0]})
        return control


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model_name_or_path", default="gpt2")
    parser.add_argument("--dataset_path", required=True)
    parser.add_argument("--output_dir", default="out")
    parser.add_argument("--learning_rate", type=float, default=3e-4)
    parser.add_argument("--per_device_train_batch_size", type=int, default=8)
    parser.add_argument("--gradient_accumulation_steps", type=int, default=1)
    parser.add_argument("--num_train_epochs", type=int, default=3)
    parser.add_argument("--warmup_ratio", type=float, default=0.06)
    return parser.parse_args()


def main():
    args = parse_args()
    tokenizer = AutoTokenizer.from_pretrained(args.model_name_or_path)
    tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(args.model_name_or_path)
    train_dataset = load_from_disk(args.dataset_path)

    training_args = TrainingArguments(
        output_dir=args.output_dir,
        per_device_train_batch_size=args.per_device_train_batch_size,
        gradient_accumulation_steps=args.gradient_accumulation_steps,
        num_train_epochs=args.num_train_epochs,
        learning_rate=args.learning_rate,
        logging_steps=50,
        save_strategy="epoch",
    )

    updates_per_epoch = math.ceil(
        len(train_dataset) / (args.per_device_train_batch_size * args.gradient_accumulation_steps)
    )
    num_training_steps = updates_per_epoch * args.num_train_epochs
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate, weight_decay=0.1)
    scheduler = get_cosine_schedule_with_warmup(  # also-ok: LR108
        optimizer,
        num_warmup_steps=int(args.warmup_ratio * num_training_steps),
        num_training_steps=num_training_steps,
    )

    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=train_dataset,
        data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False),
        optimizers=(optimizer, scheduler),
        callbacks=[LrWarmupCallback(scheduler)],
    )
    trainer.train()


if __name__ == "__main__":
    main()
