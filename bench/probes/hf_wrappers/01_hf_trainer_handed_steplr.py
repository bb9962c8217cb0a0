# Probe 01: an epoch-based StepLR handed to the Hugging Face Trainer through `optimizers=`.
#
# Source: huggingface/transformers src/transformers/trainer.py, Trainer._inner_training_loop:
#   inside `if do_sync_step:` it runs `self.optimizer.step()` and then, unless
#   `self.accelerator.optimizer_step_was_skipped`, `self.lr_scheduler.step()` (every class except
#   ReduceLROnPlateau). `create_scheduler()` only builds a scheduler `if self.lr_scheduler is None`, so a
#   scheduler handed in with `optimizers=(optimizer, scheduler)` is kept as is and stepped once per
#   optimizer step. Users hand torch schedulers to the Trainer this way (transformers PR #23010 thread);
#   the per-epoch expectation for StepLR is the torch convention (pytorch/pytorch#3814:
#   "Scheduler should step after the end of each epoch").
# Bug: StepLR(step_size=2, gamma=0.5) is meant as "halve the LR every 2 epochs", but the Trainer steps
#   it after every optimizer step: the LR halves every 2 optimizer steps and is ~0 after a few dozen.
# Why it is a bug: the Trainer has no epoch interval for schedulers (unlike Lightning's "interval").
# Expected: LR102. RULES.md reports LR102 at `scheduler.step()`, which here lives inside the Trainer;
#   the marker is on the line that hands the scheduler to the Trainer (the analogue of Lightning's
#   "interval" value). Reporting at the StepLR constructor instead would be equally useful.
from dataclasses import dataclass, field

from datasets import load_dataset
from torch.optim import AdamW
from torch.optim.lr_scheduler import StepLR
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    HfArgumentParser,
    Trainer,
    TrainingArguments,
)


@dataclass
class ScriptArguments:
    model_name_or_path: str = field(default="distilbert-base-uncased")
    dataset_name: str = field(default="imdb")
    max_length: int = field(default=256)
    weight_decay: float = field(default=0.01)


def build_datasets(script_args, tokenizer):
    raw = load_dataset(script_args.dataset_name)

    def tokenize(batch):
        return tokenizer(batch["text"], truncation=True, max_length=script_args.max_length)

    return raw.map(tokenize, batched=True, remove_columns=["text"])


def main():
    parser = HfArgumentParser((ScriptArguments, TrainingArguments))
    script_args, training_args = parser.parse_args_into_dataclasses()

    tokenizer = AutoTokenizer.from_pretrained(script_args.model_name_or_path)
    model = AutoModelForSequenceClassification.from_pretrained(script_args.model_name_or_path, num_labels=2)
    tokenized = build_datasets(script_args, tokenizer)

    optimizer = AdamW(model.parameters(), lr=training_args.learning_rate, weight_decay=script_args.weight_decay)
    # halve the learning rate every 2 epochs, as in the original recipe
    scheduler = StepLR(optimizer, step_size=2, gamma=0.5)

    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=tokenized["train"],
        eval_dataset=tokenized["test"],
        data_collator=DataCollatorWithPadding(tokenizer),
        optimizers=(optimizer, scheduler),  # expect: LR102
    )
    trainer.train()
    trainer.save_model()


if __name__ == "__main__":
    main()
