# Probe 04: Accelerate `accumulate()` with a scheduler that was NOT passed to `accelerator.prepare`.
#
# Source: huggingface/accelerate issue #2165 ("add option for scheduler step once per loop for multi-GPU";
#   the reporter's workaround: "not apply the prepare method on the scheduler anymore"), issue #963
#   ("Scheduler always steps when training with gradient accumulation") and src/accelerate/optimizer.py /
#   src/accelerate/scheduler.py: inside `with accelerator.accumulate(model):` the prepared
#   AcceleratedOptimizer.step() only calls the real `optimizer.step()` when
#   `gradient_state.sync_gradients` is True, and AcceleratedScheduler.step() returns early when it is
#   False. A raw (unprepared) scheduler has no such guard.
# Bug: to stop the scheduler from stepping num_processes times per update, the script leaves it out of
#   prepare(); it is still stepped on every micro-batch inside accumulate(), i.e. gradient_accumulation_steps
#   times per real optimizer update, while num_training_steps counts optimizer updates.
# Why it is a bug: the accumulate() exemption of RULES.md LR106 only holds for a *prepared* scheduler.
# Expected: LR106 at lr_scheduler.step().
# Also acceptable (marked also-ok): LR108 at the constructor (schedule exhausted after 1/accum of the run).
import argparse
import math

import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from datasets import load_dataset
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from transformers import (
    AutoModelForSeq2SeqLM,
    AutoTokenizer,
    DataCollatorForSeq2Seq,
    get_scheduler,
)


def parse_args():
    parser = argparse.ArgumentParser(description="Fine-tune a seq2seq model with Accelerate")
    parser.add_argument("--model_name_or_path", type=str, default="t5-small")
    parser.add_argument("--per_device_train_batch_size", type=int, default=8)
    parser.add_argument("--learning_rate", type=float, default=5e-5)
    parser.add_argument("--num_train_epochs", type=int, default=3)
    parser.add_argument("--gradient_accumulation_steps", type=int, default=8)
    parser.add_argument("--lr_scheduler_type", type=str, default="linear")
    parser.add_argument("--num_warmup_steps", type=int, default=500)
    parser.add_argument("--output_dir", type=str, default="t5-xsum")
    parser.add_argument("--seed", type=int, default=42)
    return parser.parse_args()


def main():
    args = parse_args()
    accelerator = Accelerator(gradient_accumulation_steps=args.gradient_accumulation_steps)
    set_seed(args.seed)

    tokenizer = AutoTokenizer.from_pretrained(args.model_name_or_path)
    model = AutoModelForSeq2SeqLM.from_pretrained(args.model_name_or_path)
    raw = load_dataset("xsum", split="train")

    def preprocess(examples):
        inputs = tokenizer(["summarize: " + d for d in examples["document"]], max_length=512, truncation=True)
        inputs["labels"] = tokenizer(text_target=examples["summary"], max_length=64, truncation=True)["input_ids"]
        return inputs

    train_dataset = raw.map(preprocess, batched=True, remove_columns=raw.column_names)
    train_dataloader = DataLoader(
        train_dataset,
        shuffle=True,
        batch_size=args.per_device_train_batch_size,
        collate_fn=DataCollatorForSeq2Seq(tokenizer, model=model),
    )

    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate)

    num_update_steps_per_epoch = math.ceil(len(train_dataloader) / args.gradient_accumulation_steps)
    max_train_steps = args.num_train_epochs * num_update_steps_per_epoch
    lr_scheduler = get_scheduler(  # also-ok: LR108
        name=args.lr_scheduler_type,
        optimizer=optimizer,
        num_warmup_steps=args.num_warmup_steps,
        num_training_steps=max_train_steps,
    )

    # The scheduler is deliberately left out of prepare(): a prepared scheduler steps
    # num_processes times per update on multi-GPU (see accelerate#2165).
    model, optimizer, train_dataloader = accelerator.prepare(model, optimizer, train_dataloader)

    progress_bar = tqdm(range(max_train_steps), disable=not accelerator.is_local_main_process)
    completed_steps = 0
    for epoch in range(args.num_train_epochs):
        model.train()
        for step, batch in enumerate(train_dataloader):
            with accelerator.accumulate(model):
                outputs = model(**batch)
                loss = outputs.loss
                accelerator.backward(loss)
                optimizer.step()
                lr_scheduler.step()  # expect: LR106
                optimizer.zero_grad()

            if accelerator.sync_gradients:
                progress_bar.update(1)
                completed_steps += 1

    accelerator.wait_for_everyone()
    unwrapped = accelerator.unwrap_model(model)
    unwrapped.save_pretrained(args.output_dir, save_function=accelerator.save)


if __name__ == "__main__":
    main()
