# Probe 12: a model wrapper class whose train() method steps a transformers warmup schedule once per epoch.
#
# Source: rpryzant/causal-bert-pytorch issue #9 ("scheduler.step() should be called after each epoch instead
#   of after each batch iteration", proposing to move `scheduler.step()` out of the batch loop); the
#   maintainer declined: "get_linear_schedule_with_warmup should be applied at every step ... docs which
#   are defined in terms of num steps". This probe is the proposed (wrong) version of
#   CausalBert.py `CausalBertWrapper.train`. transformers docs: get_linear_schedule_with_warmup
#   "decreases linearly from the initial lr set in the optimizer to 0" over num_training_steps.
# Bug: num_training_steps = len(dataloader) * epochs and warmup = 10% of it, but step() runs `epochs`
#   times: the LR stays inside the first warm-up steps (close to 0) for the whole run.
# Why it is a bug: a per-iteration schedule stepped per epoch.
# Expected: LR103 at scheduler.step().
# Also acceptable (marked also-ok): LR109 at the constructor (the run covers 1/len(dataloader) of it).
import numpy as np
import torch
from torch.utils.data import DataLoader, RandomSampler, TensorDataset
from tqdm import tqdm
from transformers import AdamW, DistilBertForSequenceClassification, DistilBertTokenizer, get_linear_schedule_with_warmup

CUDA = torch.cuda.is_available()


class CausalBertWrapper:
    """Model wrapper in charge of training and inference."""

    def __init__(self, g_weight=0.0, q_weight=0.1, mlm_weight=1.0, batch_size=32):
        self.model = DistilBertForSequenceClassification.from_pretrained("distilbert-base-uncased", num_labels=2)
        if CUDA:
            self.model = self.model.cuda()
        self.tokenizer = DistilBertTokenizer.from_pretrained("distilbert-base-uncased", do_lower_case=True)
        self.loss_weights = {"g": g_weight, "q": q_weight, "mlm": mlm_weight}
        self.batch_size = batch_size

    def build_dataloader(self, texts, confounds, treatments=None, outcomes=None, sampler="random"):
        enc = self.tokenizer(list(texts), padding="max_length", truncation=True, max_length=128, return_tensors="pt")
        treatments = np.zeros(len(texts)) if treatments is None else treatments
        outcomes = np.zeros(len(texts)) if outcomes is None else outcomes
        data = TensorDataset(
            enc["input_ids"],
            enc["attention_mask"],
            torch.tensor(confounds),
            torch.tensor(treatments),
            torch.tensor(outcomes, dtype=torch.long),
        )
        return DataLoader(data, sampler=RandomSampler(data), batch_size=self.batch_size)

    def train(self, texts, confounds, treatments, outcomes, learning_rate=2e-5, epochs=3):
        dataloader = self.build_dataloader(texts, confounds, treatments, outcomes)
        self.model.train()
        optimizer = AdamW(self.model.parameters(), lr=learning_rate, eps=1e-8)
        total_steps = len(dataloader) * epochs
        warmup_steps = total_steps * 0.1
        scheduler = get_linear_schedule_with_warmup(  # also-ok: LR109
            optimizer, num_warmup_steps=warmup_steps, num_training_steps=total_steps
        )

        for epoch in range(epochs):
            losses = []
            self.model.train()
            for step, batch in tqdm(enumerate(dataloader), total=len(dataloader)):
                if CUDA:
                    batch = (x.cuda() for x in batch)
                input_ids, attention_mask, confounds_b, treatment_b, outcome_b = batch
                self.model.zero_grad()
                out = self.model(input_ids=input_ids, attention_mask=attention_mask, labels=outcome_b)
                loss = self.loss_weights["q"] * out.loss
                loss.backward()
                optimizer.step()
                losses.append(loss.detach().cpu().item())
            scheduler.step()  # expect: LR103
            print(f"epoch {epoch}: loss={np.mean(losses):.4f}")

        return self.model
