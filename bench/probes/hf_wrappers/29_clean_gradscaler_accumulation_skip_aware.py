# Probe 29 (CLEAN): mixed precision + gradient accumulation done right: `scaler.step(optimizer)` is the
# optimizer step, the scheduler is stepped inside the same `% accum` branch, after it, and only when the
# scaler did not skip the step; the last partial accumulation window also updates.
#
# Source: princeton-vl/RAFT issue #104 (user believed optimizer.step() was never called; maintainer:
#   "optimizer.step() is called in scaler.step(optimizer)"), torch.cuda.amp.GradScaler.step docs (skips
#   optimizer.step() when grads contain inf/NaN), huggingface/transformers trainer.py (steps the scheduler
#   only `if not self.accelerator.optimizer_step_was_skipped`; `do_sync_step = (step + 1) %
#   args.gradient_accumulation_steps == 0 or (step + 1) == steps_in_epoch`), and
#   huggingface/accelerate#435 (off-by-one `% gradient_accumulation_steps` conditions).
# Traps for a naive linter: LR101 (no literal `optimizer.step()`; GradScaler.step counts), LR106 (the
#   scheduler is under the same `%` guard as the optimizer step), LR108/LR109 (t_total counts updates
#   including the final partial window), LR401 (scheduler and scaler state are saved).
# Expected: no findings.
import argparse
import math
import os

import torch
from torch.cuda.amp import GradScaler, autocast
from torch.utils.data import DataLoader
from transformers import AutoModelForQuestionAnswering, get_linear_schedule_with_warmup


def train(args, model, train_dataset):
    train_dataloader = DataLoader(train_dataset, batch_size=args.train_batch_size, shuffle=True)
    updates_per_epoch = math.ceil(len(train_dataloader) / args.gradient_accumulation_steps)
    t_total = updates_per_epoch * args.num_train_epochs

    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate, eps=1e-8)
    scheduler = get_linear_schedule_with_warmup(optimizer, num_warmup_steps=int(0.1 * t_total), num_training_steps=t_total)
    scaler = GradScaler()

    global_step = 0
    model.zero_grad()
    for epoch in range(args.num_train_epochs):
        model.train()
        for step, batch in enumerate(train_dataloader):
            batch = {k: v.to(args.device) for k, v in batch.items()}
            with autocast():
                loss = model(**batch).loss / args.gradient_accumulation_steps
            scaler.scale(loss).backward()

            if (step + 1) % args.gradient_accumulation_steps == 0 or (step + 1) == len(train_dataloader):
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
                scale_before = scaler.get_scale()
                scaler.step(optimizer)
                scaler.update()
                if scaler.get_scale() >= scale_before:
                    scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                global_step += 1

                if global_step % args.save_steps == 0:
                    torch.save(
                        {
                            "model": model.state_dict(),
                            "optimizer": optimizer.state_dict(),
                            "scheduler": scheduler.state_dict(),
                            "scaler": scaler.state_dict(),
                            "global_step": global_step,
                        },
                        os.path.join(args.output_dir, f"checkpoint-{global_step}.pt"),
                    )
    return global_step


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--train_batch_size", type=int, default=12)
    parser.add_argument("--gradient_accumulation_steps", type=int, default=4)
    parser.add_argument("--num_train_epochs", type=int, default=2)
    parser.add_argument("--learning_rate", type=float, default=3e-5)
    parser.add_argument("--max_grad_norm", type=float, default=1.0)
    parser.add_argument("--save_steps", type=int, default=1000)
    parser.add_argument("--output_dir", default="squad-out")
    args = parser.parse_args()
    args.device = torch.device("cuda")
    model = AutoModelForQuestionAnswering.from_pretrained("bert-base-uncased").to(args.device)
    train_dataset = torch.load("squad_train_features.pt")
    train(args, model, train_dataset)


if __name__ == "__main__":
    main()
