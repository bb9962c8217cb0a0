# Probe 20: an Accelerate script builds a warmup scheduler, leaves it out of prepare(), and never steps it.
#
# Source: same bug in framework code: IntelLabs/matsciml PR #240 ("fixes the unintended behavior of not
#   stepping learning rate schedulers ... Because we use manual optimization, this kind of flew under the
#   radar and I caught it while monitoring the learning rate"), voicepaw/so-vits-svc-fork PR #291
#   ("fix lr_decay not working ... we need to call step() on each of the learning rate schedulers").
#   Accelerate only steps what the user steps: AcceleratedScheduler.step() is a wrapper around the user's
#   own call (src/accelerate/scheduler.py); nothing steps a scheduler on its own.
# Bug: the run trains at a constant LR equal to the optimizer's initial lr * lambda(0) -- for
#   get_scheduler("linear", num_warmup_steps>0) that is 0.0, so the model never learns.
# Why it is a bug: LambdaLR sets lr = base_lr * lambda(0) at construction (lambda(0) = 0 during warmup).
# Expected: LR104 at the constructor.
import argparse
import math

import torch
from accelerate import Accelerator
from datasets import load_dataset
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from transformers import AutoModelForMaskedLM, AutoTokenizer, DataCollatorForLanguageModeling, get_scheduler


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--model_name_or_path", default="roberta-base")
    p.add_argument("--train_file", required=True)
    p.add_argument("--batch_size", type=int, default=16)
    p.add_argument("--learning_rate", type=float, default=5e-5)
    p.add_argument("--num_train_epochs", type=int, default=3)
    p.add_argument("--num_warmup_steps", type=int, default=1000)
    p.add_argument("--gradient_accumulation_steps", type=int, default=1)
    p.add_argument("--output_dir", default="mlm-out")
    return p.parse_args()


def train(args):
    accelerator = Accelerator(gradient_accumulation_steps=args.gradient_accumulation_steps)
    tokenizer = AutoTokenizer.from_pretrained(args.model_name_or_path)
    model = AutoModelForMaskedLM.from_pretrained(args.model_name_or_path)

    raw = load_dataset("text", data_files={"train": args.train_file})["train"]
    tokenized = raw.map(lambda b: tokenizer(b["text"], truncation=True, max_length=128), batched=True, remove_columns=["text"])
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)
    train_dataloader = DataLoader(tokenized, shuffle=True, collate_fn=collator, batch_size=args.batch_size)

    no_decay = ["bias", "LayerNorm.weight"]
    grouped = [
        {"params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)], "weight_decay": 0.01},
        {"params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(grouped, lr=args.learning_rate)

    num_update_steps_per_epoch = math.ceil(len(train_dataloader) / args.gradient_accumulation_steps)
    max_train_steps = args.num_train_epochs * num_update_steps_per_epoch
    lr_scheduler = get_scheduler(  # expect: LR104
        name="linear",
        optimizer=optimizer,
        num_warmup_steps=args.num_warmup_steps,
        num_training_steps=max_train_steps,
    )

    model, optimizer, train_dataloader = accelerator.prepare(model, optimizer, train_dataloader)

    progress_bar = tqdm(range(max_train_steps), disable=not accelerator.is_local_main_process)
    for epoch in range(args.num_train_epochs):
        model.train()
        for batch in train_dataloader:
            with accelerator.accumulate(model):
                loss = model(**batch).loss
                accelerator.backward(loss)
                accelerator.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                optimizer.zero_grad()
            if accelerator.sync_gradients:
                progress_bar.update(1)
        accelerator.print(f"epoch {epoch}: last loss {loss.item():.4f}")

    accelerator.wait_for_everyone()
    accelerator.unwrap_model(model).save_pretrained(args.output_dir, save_function=accelerator.save)


if __name__ == "__main__":
    train(parse_args())
