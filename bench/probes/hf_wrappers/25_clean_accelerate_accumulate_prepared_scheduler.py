# Probe 25 (CLEAN): the transformers `*_no_trainer.py` recipe: prepared scheduler stepped on every
# micro-batch inside `accelerator.accumulate()`, horizon scaled by num_processes.
#
# Source: huggingface/transformers examples/pytorch/*/run_*_no_trainer.py (current versions):
#   `num_update_steps_per_epoch = math.ceil(len(train_dataloader) / args.gradient_accumulation_steps)`,
#   `num_training_steps_for_scheduler = args.max_train_steps if overrode_max_train_steps else
#   args.max_train_steps * accelerator.num_processes`, scheduler passed to `accelerator.prepare(...)`, and
#   `with accelerator.accumulate(model): ... optimizer.step(); lr_scheduler.step(); optimizer.zero_grad()`.
#   huggingface/accelerate src/accelerate/scheduler.py: AcceleratedScheduler.step() returns unless
#   `gradient_state.sync_gradients`, then steps the wrapped scheduler num_processes times when
#   `split_batches=False` -- which is why the horizon is multiplied by num_processes when it was given in
#   per-process updates, and not when it was computed from the un-sharded dataloader length.
# Traps for a naive linter: LR106 (step() on every micro-batch: exempt, prepared + accumulate), LR109 or
#   LR108 (the `* accelerator.num_processes` factor and the pre-prepare dataloader length), LR401
#   (`accelerator.save_state` saves the prepared scheduler; there is no torch.save of an optimizer here).
# Expected: no findings.
import argparse
import math
import os

import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from datasets import load_dataset
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from transformers import AutoModelForCausalLM, AutoTokenizer, default_data_collator, get_scheduler


def parse_args():
    parser = argparse.ArgumentParser(description="Finetune a causal LM with Accelerate")
    parser.add_argument("--model_name_or_path", default="gpt2")
    parser.add_argument("--dataset_name", default="wikitext")
    parser.add_argument("--dataset_config_name", default="wikitext-2-raw-v1")
    parser.add_argument("--per_device_train_batch_size", type=int, default=8)
    parser.add_argument("--learning_rate", type=float, default=5e-5)
    parser.add_argument("--weight_decay", type=float, default=0.0)
    parser.add_argument("--num_train_epochs", type=int, default=3)
    parser.add_argument("--max_train_steps", type=int, default=None)
    parser.add_argument("--gradient_accumulation_steps", type=int, default=4)
    parser.add_argument("--lr_scheduler_type", default="linear")
    parser.add_argument("--warmup_ratio", type=float, default=0.03)
    parser.add_argument("--checkpointing_steps", type=int, default=500)
    parser.add_argument("--output_dir", default="clm-out")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def main():
    args = parse_args()
    accelerator = Accelerator(gradient_accumulation_steps=args.gradient_accumulation_steps)
    set_seed(args.seed)

    tokenizer = AutoTokenizer.from_pretrained(args.model_name_or_path)
    model = AutoModelForCausalLM.from_pretrained(args.model_name_or_path)
    raw = load_dataset(args.dataset_name, args.dataset_config_name, split="train")
    block_size = 512

    def group_texts(examples):
        ids = sum(tokenizer(examples["text"])["input_ids"], [])
        total = (len(ids) // block_size) * block_size
        blocks = [ids[i:i + block_size] for i in range(0, total, block_size)]
        return {"input_ids": blocks, "labels": [b[:] for b in blocks]}

    lm_dataset = raw.map(group_texts, batched=True, remove_columns=raw.column_names)
    train_dataloader = DataLoader(lm_dataset, shuffle=True, collate_fn=default_data_collator,
                                  batch_size=args.per_device_train_batch_size)

    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate, weight_decay=args.weight_decay)

    overrode_max_train_steps = False
    num_update_steps_per_epoch = math.ceil(len(train_dataloader) / args.gradient_accumulation_steps)
    if args.max_train_steps is None:
        args.max_train_steps = args.num_train_epochs * num_update_steps_per_epoch
        overrode_max_train_steps = True

    num_training_steps_for_scheduler = (
        args.max_train_steps if overrode_max_train_steps else args.max_train_steps * accelerator.num_processes
    )
    lr_scheduler = get_scheduler(
        name=args.lr_scheduler_type,
        optimizer=optimizer,
        num_warmup_steps=int(num_training_steps_for_scheduler * args.warmup_ratio),
        num_training_steps=num_training_steps_for_scheduler,
    )

    model, optimizer, train_dataloader, lr_scheduler = accelerator.prepare(
        model, optimizer, train_dataloader, lr_scheduler
    )

    # We need to recalculate our total training steps as the size of the training dataloader may have changed.
    num_update_steps_per_epoch = math.ceil(len(train_dataloader) / args.gradient_accumulation_steps)
    if overrode_max_train_steps:
        args.max_train_steps = args.num_train_epochs * num_update_steps_per_epoch
    args.num_train_epochs = math.ceil(args.max_train_steps / num_update_steps_per_epoch)

    progress_bar = tqdm(range(args.max_train_steps), disable=not accelerator.is_local_main_process)
    completed_steps = 0
    for epoch in range(args.num_train_epochs):
        model.train()
        for step, batch in enumerate(train_dataloader):
            with accelerator.accumulate(model):
                outputs = model(**batch)
                loss = outputs.loss
                accelerator.backward(loss)
                optimizer.step()
                lr_scheduler.step()
                optimizer.zero_grad()

            if accelerator.sync_gradients:
                progress_bar.update(1)
                completed_steps += 1
                if completed_steps % args.checkpointing_steps == 0:
                    accelerator.save_state(os.path.join(args.output_dir, f"step_{completed_steps}"))

            if completed_steps >= args.max_train_steps:
                break

    accelerator.wait_for_everyone()
    accelerator.unwrap_model(model).save_pretrained(args.output_dir, save_function=accelerator.save)


if __name__ == "__main__":
    main()
