"""TRL's GRPO loss on given tensors, for r1kit's parity test (tests/rl/policy_loss_trl_test.cpp).

Usage: trl_grpo_loss.py IN.json OUT.json

IN.json: {"logp", "old_logp", "ref_logp", "mask": [N][T] numbers, "advantages": [N],
          "cases": [{"loss_type", "beta", "epsilon_low", "epsilon_high", "max_completion_length",
                     "use_bias_correction_kl"}]}
OUT.json: {"results": [{"loss": float, "grad": [N][T]}]}, one per case: the loss TRL's
GRPOTrainer._compute_loss returns and its gradient with respect to the per-token log-probs, in float64.

The trainer method itself runs: the object is made without __init__ (no model, no datasets) and is
given only the attributes _compute_loss reads, and _get_per_token_logps_and_entropies (the model
forward) is replaced by one returning the given log-probs as a leaf tensor. One optimizer step on one
process with no gradient accumulation, so TRL's normalizers are those of a single batch.
"""

import collections
import json
import sys
import types

import torch
from trl.trainer.grpo_trainer import GRPOTrainer


def make_trainer(case, logp):
    trainer = GRPOTrainer.__new__(GRPOTrainer)
    trainer.loss_type = case["loss_type"]
    trainer.beta = case["beta"]
    trainer.epsilon_low = case["epsilon_low"]
    trainer.epsilon_high = case["epsilon_high"]
    trainer.max_completion_length = case["max_completion_length"]
    trainer.importance_sampling_level = "token"
    trainer.top_entropy_quantile = 1.0
    trainer.off_policy_mask_threshold = None
    trainer.use_vllm = False
    trainer.vllm_importance_sampling_correction = False
    trainer._entropy_bonus_enabled = False
    trainer.aux_loss_enabled = False
    trainer.current_gradient_accumulation_steps = 1
    trainer._metrics = {"train": collections.defaultdict(list), "eval": collections.defaultdict(list)}
    trainer.args = types.SimpleNamespace(
        delta=None, use_bias_correction_kl=case["use_bias_correction_kl"], steps_per_generation=1
    )
    trainer.model = types.SimpleNamespace(training=True)
    trainer.accelerator = types.SimpleNamespace(
        num_processes=1,
        gather=lambda x: x,
        gather_for_metrics=lambda x: x,
        reduce=lambda x, reduction="sum": x,
    )
    # The model forward: per-token log-probs, entropies (unused by the loss), no aux loss.
    trainer._get_per_token_logps_and_entropies = lambda *args, **kwargs: (logp, torch.zeros_like(logp), None)
    return trainer


def run_case(data, case):
    f64 = torch.float64
    logp = torch.tensor(data["logp"], dtype=f64, requires_grad=True)
    mask = torch.tensor(data["mask"], dtype=torch.long)
    n, t = mask.shape
    inputs = {
        "prompt_ids": torch.zeros((n, 1), dtype=torch.long),
        "prompt_mask": torch.ones((n, 1), dtype=torch.long),
        "completion_ids": torch.zeros((n, t), dtype=torch.long),
        "completion_mask": mask,
        "advantages": torch.tensor(data["advantages"], dtype=f64),
        "old_per_token_logps": torch.tensor(data["old_logp"], dtype=f64),
        "ref_per_token_logps": torch.tensor(data["ref_logp"], dtype=f64),
        "num_items_in_batch": mask.sum().to(f64),
    }
    trainer = make_trainer(case, logp)
    loss = trainer._compute_loss(None, inputs)
    loss.backward()
    return {"loss": loss.item(), "grad": logp.grad.tolist()}


def main():
    with open(sys.argv[1]) as f:
        data = json.load(f)
    results = [run_case(data, case) for case in data["cases"]]
    with open(sys.argv[2], "w") as f:
        json.dump({"results": results}, f)


if __name__ == "__main__":
    main()
