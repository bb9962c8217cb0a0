# Probe 03: a Trainer subclass that steps `self.lr_scheduler` inside its own training_step override.
#
# Source: huggingface/transformers src/transformers/trainer.py. `_inner_training_loop` calls
#   `self.training_step(model, inputs, num_items_in_batch)` for every micro-batch, then (when
#   `do_sync_step`) `self.optimizer.step()` followed by `self.lr_scheduler.step()`. `self.lr_scheduler` is
#   built by `create_scheduler()` with `num_training_steps=max_steps` (optimizer steps). Distillation /
#   custom-loss Trainer subclasses override training_step and compute_loss
#   (e.g. the DistillationTrainer pattern in the transformers docs / course).
# Bug: the override calls `self.lr_scheduler.step()` "to make sure the schedule advances", so the
#   Trainer's scheduler is stepped twice per optimizer step, and the extra step runs before
#   `optimizer.step()` of the same iteration (torch then warns "Detected call of lr_scheduler.step()
#   before optimizer.step()" and skips the first LR value).
# Why it is a bug: the Trainer already steps self.lr_scheduler after each optimizer step.
# Expected: LR105 (second stepping site of the same scheduler) and LR101 (that step precedes the
#   optimizer step of its iteration), both at the step() in training_step.
import torch
import torch.nn.functional as F
from datasets import load_dataset
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    Trainer,
    TrainingArguments,
)


class DistillationTrainer(Trainer):
    def __init__(self, *args, teacher_model=None, alpha=0.5, temperature=2.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.teacher = teacher_model
        self.alpha = alpha
        self.temperature = temperature
        if self.teacher is not None:
            self.teacher.eval()

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(**inputs)
        student_loss = outputs.loss
        with torch.no_grad():
            teacher_logits = self.teacher(**inputs).logits
        t = self.temperature
        kd_loss = F.kl_div(
            F.log_softmax(outputs.logits / t, dim=-1),
            F.softmax(teacher_logits / t, dim=-1),
            reduction="batchmean",
        ) * (t * t)
        loss = self.alpha * student_loss + (1.0 - self.alpha) * kd_loss
        return (loss, outputs) if return_outputs else loss

    def training_step(self, model, inputs, num_items_in_batch=None):
        loss = super().training_step(model, inputs, num_items_in_batch)
        # make sure the LR schedule advances together with the student
        self.lr_scheduler.step()  # expect: LR105, LR101
        return loss


def main():
    tokenizer = AutoTokenizer.from_pretrained("bert-base-uncased")
    teacher = AutoModelForSequenceClassification.from_pretrained("textattack/bert-base-uncased-SST-2")
    student = AutoModelForSequenceClassification.from_pretrained("google/bert_uncased_L-4_H-256_A-4", num_labels=2)

    sst2 = load_dataset("glue", "sst2")
    sst2 = sst2.map(lambda b: tokenizer(b["sentence"], truncation=True), batched=True)

    args = TrainingArguments(
        output_dir="distilled-sst2",
        per_device_train_batch_size=32,
        gradient_accumulation_steps=1,
        learning_rate=1e-4,
        num_train_epochs=4,
        lr_scheduler_type="linear",
        warmup_ratio=0.1,
        eval_strategy="epoch",
        save_strategy="epoch",
    )
    trainer = DistillationTrainer(
        model=student,
        args=args,
        teacher_model=teacher,
        train_dataset=sst2["train"],
        eval_dataset=sst2["validation"],
        data_collator=DataCollatorWithPadding(tokenizer),
    )
    trainer.train()


if __name__ == "__main__":
    main()
