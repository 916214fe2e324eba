"""Safe-SFT data and training on TRL's SFTTrainer with the tiny model (2 steps)."""

from __future__ import annotations

import pytest

pytest.importorskip("trl")

from persafe.catalog import builtin_traits
from persafe.recsys import classify_output
from persafe.saferec.schema import ChatMessage, SafeRecSample
from persafe.train.data import reasoning_text, sft_rows


def _sample(traits: list[str], mode: str = "explicit") -> SafeRecSample:
    return SafeRecSample(
        sample_id="s1", prompt=[ChatMessage(role="user", content="I loved Heat (1995). No spiders, please.")],
        traits=traits, constraint_mode=mode, groundtruth_item_ids=["f", "h"], removed_groundtruth_item_ids=["a"],
        seen_item_ids=["h"],
    )  # fmt: skip


def test_safe_and_plain_targets(tiny_oracle):
    tax = builtin_traits()
    safe = sft_rows([_sample(["arachnophobia"])], tiny_oracle.catalog, tax, target="safe")[0]
    plain = sft_rows([_sample(["arachnophobia"])], tiny_oracle.catalog, tax, target="plain")[0]
    assert safe["completion"][0]["content"] == "Fargo (1996)\nHeat (1995)"
    assert plain["completion"][0]["content"] == "Fargo (1996)\nHeat (1995)\nArachnophobia (1990)"
    assert safe["prompt"] == [{"role": "user", "content": "I loved Heat (1995). No spiders, please."}]
    assert safe["traits"] == ["arachnophobia"] and safe["groundtruth_item_ids"] == ["f", "h"]
    with pytest.raises(ValueError, match="target"):
        sft_rows([_sample([])], tiny_oracle.catalog, tax, target="unsafe")


def test_reasoning_format_parses_back_to_the_same_titles(tiny_oracle):
    tax = builtin_traits()
    row = sft_rows([_sample(["arachnophobia"], "implicit")], tiny_oracle.catalog, tax, reasoning=True)[0]
    text = row["completion"][0]["content"]
    assert text.startswith("<reasoning>The user implies a sensitivity.")
    outcome = classify_output(text)
    assert outcome.used_solution_block
    assert [(p.title, p.year) for p in outcome.titles] == [("Fargo", 1996), ("Heat", 1995)]
    assert "no sensitivity" in reasoning_text(_sample([], "none"), tax)


def _cfg(tmp_path, data, **kw):
    from persafe.train.config import SafeSFTConfig

    return SafeSFTConfig(
        output_dir=str(tmp_path / "out"), data=str(data), max_steps=2, per_device_train_batch_size=2,
        learning_rate=1e-2, report_to="none", save_strategy="no", use_cpu=True, limit=8, max_length=1536, **kw,
    )  # fmt: skip


def test_train_sft_two_steps_changes_weights(tmp_path, saferec_dir, monkeypatch):
    import torch

    import persafe.train.sft as sft
    from persafe.llm.tiny import tiny_model, tiny_tokenizer

    tok = tiny_tokenizer()
    model = tiny_model(tok)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    monkeypatch.setattr(sft, "load_trainable", lambda spec: (model, tok, ""))
    out = sft.train_sft(_cfg(tmp_path, saferec_dir, model="tiny"))
    assert any(not torch.equal(before[n], p) for n, p in model.named_parameters())
    assert (out / "config.json").exists() and (out / "tokenizer_config.json").exists()


def test_lora_sft_saves_an_adapter_usable_as_a_model_spec(tmp_path, saferec_dir):
    from persafe.llm import GenerationParams, Message, load_model
    from persafe.llm.tiny import tiny_model, tiny_tokenizer
    from persafe.train.sft import train_sft

    tok = tiny_tokenizer()
    base = tmp_path / "base"
    tiny_model(tok).save_pretrained(base)
    tok.save_pretrained(base)
    out = train_sft(_cfg(tmp_path, saferec_dir, model=f"hf:{base}", use_lora=True, lora_r=4, lora_alpha=8))
    assert (out / "adapter_config.json").exists()
    model = load_model(f"hf:{out}")
    g = model.generate([[Message(role="user", content="Heat")]], GenerationParams(max_new_tokens=4))
    assert g[0].error is None


def test_train_sft_command_line(tmp_path, saferec_dir):
    from typer.testing import CliRunner

    from persafe.cli import app

    out = tmp_path / "cli-out"
    args = ["train", "sft", "--data", str(saferec_dir), "--model", "tiny", "--output_dir", str(out), "--max_steps", "1",
            "--per_device_train_batch_size", "2", "--limit", "4", "--report_to", "none", "--max_length", "1536",
            "--save_strategy", "no"]  # fmt: skip
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert (out / "model.safetensors").exists()
    bad = CliRunner().invoke(app, ["train", "sft", "--target", "unsafe", "--output_dir", str(out)])
    assert bad.exit_code != 0 and "target must be 'safe' or 'plain'" in bad.output


def test_gdpo_command_line_and_defaults(tmp_path, saferec_dir):
    from typer.testing import CliRunner

    from persafe.cli import app
    from persafe.train.config import SafeGDPOConfig

    assert SafeGDPOConfig(output_dir=str(tmp_path)).multi_objective_aggregation == "normalize_then_sum"
    out = tmp_path / "gdpo"
    args = ["train", "gdpo", "--data", str(saferec_dir), "--model", "tiny", "--output_dir", str(out),
            "--max_steps", "2",
            "--per_device_train_batch_size", "4", "--num_generations", "4", "--max_completion_length", "8",
            "--limit", "4", "--report_to", "none", "--save_strategy", "no", "--target_count", "3"]  # fmt: skip
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert (out / "model.safetensors").exists()


def test_example_configs_parse(tmp_path):
    from pathlib import Path

    from trl import TrlParser

    from persafe.train.config import RosePOConfig, SafeGDPOConfig, SafeSFTConfig, SDPOConfig

    root = Path(__file__).resolve().parents[2] / "configs"
    parsed = {}
    for name, cls in (("safe_sft_cpu.yaml", SafeSFTConfig), ("safe_gdpo_cpu.yaml", SafeGDPOConfig),
                      ("rosepo_cpu.yaml", RosePOConfig), ("sdpo_cpu.yaml", SDPOConfig)):  # fmt: skip
        (cfg,) = TrlParser((cls,)).parse_args_and_config(["--config", str(root / name), "--output_dir", str(tmp_path)])
        assert cfg.data == "runs/demo/saferec-ml100k"
        parsed[name] = cfg
    gdpo = parsed["safe_gdpo_cpu.yaml"]
    assert gdpo.reward_weights == [1.0, 1.0, 0.5] and gdpo.num_generations == 8
    assert parsed["rosepo_cpu.yaml"].strategies == ["popularity", "unsafe", "semantic"]
    assert parsed["sdpo_cpu.yaml"].n_negatives == 3 and parsed["sdpo_cpu.yaml"].beta == 1.0


@pytest.mark.slow
def test_gdpo_command_line_with_constrained_decoding(tmp_path, saferec_dir):
    """``--constrained_decoding true`` wires the catalog constraint into TRL's generation end to end."""
    from typer.testing import CliRunner

    from persafe.cli import app

    out = tmp_path / "gdpo"
    args = ["train", "gdpo", "--data", str(saferec_dir), "--model", "tiny", "--output_dir", str(out),
            "--max_steps", "1", "--per_device_train_batch_size", "4", "--num_generations", "4",
            "--max_completion_length", "160", "--limit", "4", "--report_to", "none", "--save_strategy", "no",
            "--target_count", "2", "--constrained_decoding", "true", "--logging_steps", "1"]  # fmt: skip
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert (out / "model.safetensors").exists()
