# Probe 11: a warmup/decay schedule handed to the HF Trainer is sized in micro-batches, but the Trainer
# steps it once per optimizer update (every gradient_accumulation_steps micro-batches).
#
# Source: huggingface/transformers src/transformers/trainer.py: `set_initial_training_values` computes
#   `num_update_steps_per_epoch = len_dataloader // args.gradient_accumulation_steps (+1 if remainder)` and
#   `max_steps = math.ceil(args.num_train_epochs * num_update_steps_per_epoch)`; the built-in
#   `create_scheduler(num_training_steps=max_steps)` is sized in updates, and `self.lr_scheduler.step()`
#   runs only `if do_sync_step`. Reported for wrappers that size the schedule themselves:
#   axolotl-ai-cloud/axolotl#1170 ("Computation of total_num_steps must include accumulation step ...
#   the scheduler does get affected by this max step"), huggingface/accelerate#225.
# Bug: num_training_steps = batches_per_epoch * epochs = 8x the number of updates the Trainer performs;
#   the run ends at 1/8 of the schedule, so the linear decay never gets below ~88% of the peak LR.
# Why it is a bug: a handed-in scheduler is stepped by the Trainer per optimizer update.
# Expected: LR109 at the get_linear_schedule_with_warmup constructor.
import math

import torch
from datasets import load_dataset
from peft import LoraConfig, get_peft_model
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    DataCollatorForLanguageModeling,
    Trainer,
    TrainingArguments,
    get_linear_schedule_with_warmup,
)

MODEL_ID = "meta-llama/Llama-2-7b-hf"
NUM_EPOCHS = 3
MICRO_BATCH_SIZE = 4
GRADIENT_ACCUMULATION_STEPS = 8
LEARNING_RATE = 2e-4


def load_data(tokenizer):
    data = load_dataset("yahma/alpaca-cleaned", split="train")

    def tokenize(example):
        prompt = f"### Instruction:\n{example['instruction']}\n\n### Response:\n{example['output']}"
        return tokenizer(prompt, truncation=True, max_length=512)

    return data.map(tokenize, remove_columns=data.column_names)


def main():
    tokenizer = AutoTokenizer.from_pretrained(MODEL_ID)
    tokenizer.pad_token_id = 0
    model = AutoModelForCausalLM.from_pretrained(MODEL_ID, torch_dtype=torch.bfloat16, device_map="auto")
    model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))
    train_data = load_data(tokenizer)

    training_args = TrainingArguments(
        output_dir="lora-alpaca",
        per_device_train_batch_size=MICRO_BATCH_SIZE,
        gradient_accumulation_steps=GRADIENT_ACCUMULATION_STEPS,
        num_train_epochs=NUM_EPOCHS,
        learning_rate=LEARNING_RATE,
        bf16=True,
        logging_steps=10,
        save_strategy="steps",
        save_steps=200,
    )

    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=LEARNING_RATE)
    steps_per_epoch = math.ceil(len(train_data) / MICRO_BATCH_SIZE)
    total_steps = steps_per_epoch * NUM_EPOCHS
    scheduler = get_linear_schedule_with_warmup(  # expect: LR109
        optimizer, num_warmup_steps=100, num_training_steps=total_steps
    )

    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=train_data,
        data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False),
        optimizers=(optimizer, scheduler),
    )
    model.config.use_cache = False
    trainer.train()
    model.save_pretrained("lora-alpaca")


if __name__ == "__main__":
    main()
