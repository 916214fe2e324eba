"""A constraint inferer ready to read requests: made by name and, when it learns, fitted.

``persafe infer``, the benchmark and the demo share this: a learning inferer (``learned``,
``embedding`` and their unions with the lexicon) is fitted on the training split of a built SafeRec
folder, its thresholds set on that folder's validation split; without a folder the built-in
SafeRec-ML100k is built in memory (a few seconds, deterministic). The learned model is cached by a
fingerprint of what it was fitted on, so only the first call trains.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from persafe.recsys.registry import LEARNING_INFERENCES, make_inference


def training_splits(data: str | Path | None = None) -> tuple[list[Any], list[Any] | None]:
    """``(train, val)`` samples of a built SafeRec folder (``val`` ``None`` when the folder has none), or
    of the built-in SafeRec-ML100k built in memory when ``data`` is ``None``."""
    from persafe.saferec import load_saferec

    if data is None:
        from persafe.catalog import builtin_oracle
        from persafe.saferec import SafeRecConfig, build_saferec

        ml, _, oracle = builtin_oracle()
        built = build_saferec(ml, oracle, SafeRecConfig())
        return built.samples["train"], built.samples["val"]
    folder = Path(data)
    val = load_saferec(folder, "val") if (folder / "val.jsonl").is_file() else None
    return load_saferec(folder, "train"), val


def fitted_inference(
    name: str,
    data: str | Path | None = None,
    *,
    model_spec: str | None = None,
    cache: bool = True,
    fit_cache: bool = True,
    traits: Sequence[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Any:
    """The inferer ``name``, fitted when it learns.

    Args:
        name: an inference name (``lexicon``, ``learned``, ``lexicon+learned``, ``embedding``, ...).
        data: a built SafeRec folder whose ``train`` (and ``val``) splits fit a learning inferer (default:
            the built-in SafeRec-ML100k).
        model_spec: the chat model of ``llm``.
        cache: reuse cached model answers (``llm``).
        fit_cache: reuse a fitted learned model from the user cache (off: retrain).
        traits: trait ids a learned inferer predicts (default: the built-in taxonomy).
        progress: called with ``(done, total)`` training steps.
    """
    if name not in LEARNING_INFERENCES:
        return make_inference(name, model_spec, cache=cache)
    train, val = training_splits(data)
    inference = make_inference(name, model_spec, cache=cache, traits=traits, calibration=val, fit_cache=fit_cache)
    parts = getattr(inference, "parts", [inference])
    for part in parts:
        if not hasattr(part, "fit"):
            continue
        if part.name == "learned":
            part.fit(train, progress=progress)
        else:
            part.fit(train)
    return inference
