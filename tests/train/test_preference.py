"""RosePO and S-DPO trainers (DPOTrainer subclasses) on the tiny model."""

from __future__ import annotations

import pytest

pytest.importorskip("trl")

import torch


def _rows(n: int = 4, more: int = 0, eps: float | None = None) -> list[dict]:
    out = []
    for i in range(n):
        row = {
            "prompt": [{"role": "user", "content": f"I liked Heat (1995). Pick one: {i}"}],
            "chosen": [{"role": "assistant", "content": "Fargo (1996)"}],
            "rejected": [{"role": "assistant", "content": "Arachnophobia (1990)"}],
        }
        if more:
            row["more_rejected"] = [[{"role": "assistant", "content": f"Old Yeller (195{j})"}] for j in range(more)]
        if eps is not None:
            row["epsilon"] = eps
        out.append(row)
    return out


def _trainer(cls, tmp_path, rows, **cfg):
    from datasets import Dataset

    from persafe.llm.tiny import tiny_model, tiny_tokenizer
    from persafe.train.config import RosePOConfig

    tok = tiny_tokenizer()
    model, ref = tiny_model(tok), tiny_model(tok)
    args = RosePOConfig(output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=2, report_to="none",
                        save_strategy="no", learning_rate=1e-3, logging_steps=1, **cfg)  # fmt: skip
    return cls(model=model, ref_model=ref, args=args, train_dataset=Dataset.from_list(rows), processing_class=tok)


@pytest.mark.parametrize("kind", ["rosepo", "sdpo"])
def test_each_trainer_runs_two_steps_and_changes_the_weights(tmp_path, kind):
    from persafe.train.preference import RosePOTrainer, SDPOTrainer

    cls, rows = (RosePOTrainer, _rows(eps=0.2)) if kind == "rosepo" else (SDPOTrainer, _rows(more=2))
    tr = _trainer(cls, tmp_path, rows)
    before = {n: p.detach().clone() for n, p in tr.model.named_parameters()}
    tr.train()
    assert tr.state.global_step == 2
    assert any(not torch.equal(before[n], p) for n, p in tr.model.named_parameters())
    logged = [h for h in tr.state.log_history if "loss" in h]
    assert logged and all(torch.isfinite(torch.tensor(h["loss"])) for h in logged)
    assert "rewards/margins" in logged[0]
    if kind == "rosepo":
        assert logged[0]["epsilon"] == pytest.approx(0.2)


def _loss_on_batch(cls, tmp_path, rows, beta):
    """The trainer's loss on one batch, and the log-ratios computed independently from the same models."""
    tr = _trainer(cls, tmp_path, rows, beta=beta)
    tr.model.eval()
    batch = tr.data_collator([tr.train_dataset[i] for i in range(len(rows))])
    with torch.no_grad():
        loss = tr.compute_loss(tr.model, batch)

        def seq_logps(model):
            ids, cmask = batch["input_ids"], batch["completion_mask"]
            logits = model(input_ids=ids, attention_mask=batch["attention_mask"]).logits[:, :-1]
            lp = torch.log_softmax(logits.float(), -1).gather(-1, ids[:, 1:, None])[..., 0]
            return (lp * cmask[:, 1:]).sum(-1)

        ratios = seq_logps(tr.model) - seq_logps(tr.ref_model)
    n = len(rows)
    return loss, ratios[:n], ratios[n:].view(-1, n).T


def test_rosepo_trainer_loss_is_the_formula(tmp_path):
    import torch.nn.functional as F

    from persafe.train.preference import RosePOTrainer

    beta, eps = 0.5, 0.25
    loss, chosen, rejected = _loss_on_batch(RosePOTrainer, tmp_path, _rows(n=3, eps=eps), beta)
    h = beta * (chosen - rejected[:, 0])
    expected = (-(1 - eps) * F.logsigmoid(h) - eps * F.logsigmoid(-h)).mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-4, abs=1e-5)
    dpo, c0, r0 = _loss_on_batch(RosePOTrainer, tmp_path, _rows(n=3, eps=0.0), beta)
    assert dpo.item() == pytest.approx((-F.logsigmoid(beta * (c0 - r0[:, 0]))).mean().item(), rel=1e-4, abs=1e-5)


def test_sdpo_trainer_loss_is_the_formula_and_dpo_for_one_negative(tmp_path):
    import torch.nn.functional as F

    from persafe.train.preference import RosePOTrainer, SDPOTrainer

    beta = 1.0
    loss, chosen, rejected = _loss_on_batch(SDPOTrainer, tmp_path, _rows(n=2, more=2), beta)
    assert rejected.shape == (2, 3)
    expected = -F.logsigmoid(-torch.logsumexp(beta * (rejected - chosen[:, None]), dim=1)).mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-4, abs=1e-5)
    one, _, _ = _loss_on_batch(SDPOTrainer, tmp_path, _rows(n=2), beta)
    dpo, _, _ = _loss_on_batch(RosePOTrainer, tmp_path, _rows(n=2, eps=0.0), beta)
    assert one.item() == pytest.approx(dpo.item(), rel=1e-5)


def test_precomputed_reference_is_refused(tmp_path):
    from persafe.train.preference import SDPOTrainer

    with pytest.raises(ValueError, match="precompute_ref_log_probs"):
        _trainer(SDPOTrainer, tmp_path, _rows(more=1), precompute_ref_log_probs=True)


@pytest.mark.parametrize("command", ["rosepo", "sdpo"])
def test_command_line_builds_pairs_and_trains(tmp_path, saferec_dir, command):
    import json

    from typer.testing import CliRunner

    from persafe.cli import app

    out = tmp_path / command
    args = ["train", command, "--data", str(saferec_dir), "--model", "tiny", "--output_dir", str(out),
            "--max_steps", "2", "--per_device_train_batch_size", "2", "--limit", "4", "--report_to", "none",
            "--save_strategy", "no", "--max_length", "1024",
            "--strategies", "popularity", "unsafe", "semantic"]  # fmt: skip
    if command == "sdpo":
        args += ["--n_negatives", "2"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert (out / "model.safetensors").exists()
    stats = json.loads((out / "pairs.json").read_text())
    assert stats["pairs"] == 4 and sum(stats["negatives"].values()) == 4 * (2 if command == "sdpo" else 1)
