"""A learned constraint inferer: SetFit on the packaged all-MiniLM-L6-v2, fitted on training requests.

The classifier reads **sentences**: a request is a few ordinary sentences (what the user watched, what
they are in the mood for) around the one or two that reveal a sensitivity, and a whole-request embedding
drowns that sentence. Sentence labels are weak labels read off the training requests themselves (no
phrase bank needed, so any SafeRec-shaped training file works): a sentence that occurs in a control
request is neutral; any other sentence takes the traits present in at least half of the requests it
occurs in. A request's probability of a trait is the highest of its sentences'.

A few training phrasings cannot teach a small encoder polarity: "Not afraid of needles at all" sits
right next to "needles make me faint". So a sentence the lexicon's polarity cues read as liking or
indifference ("the more cramped the better", "none of it bothers me") reveals nothing (``polarity``).

Multi-label over the traits (one-vs-rest logistic-regression head on the sentence embedding, after a
short SetFit contrastive fine-tune of the encoder), with a per-trait threshold calibrated on the
validation requests: the lowest threshold whose validation precision reaches ``target_precision`` (the
F1-best one when none does). Requests are read with the titles the user named removed.

Training on a 2-core CPU takes about five minutes, so the fitted model is cached in the user cache
(``~/.cache/persafe/inference/learned-<fingerprint>``), keyed by a fingerprint of the training and
calibration texts, their labels and the settings: the demo and the tests train once.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from persafe.recsys.inference import POLARITY, request_texts

_MEMO: dict[str, dict[str, np.ndarray]] = {}
"""Sentence probabilities per fitted model (its cache fingerprint), kept for the process."""
_MEMO_LIMIT = 200_000
_MODELS: dict[str, Any] = {}
"""Fitted models loaded from the cache, by folder."""

_SENTENCE = re.compile(r"(?<=[.!?\u2026])\s+|\n+")


def sentences(text: str) -> list[str]:
    """The sentences of a request (pieces of at least two words; the whole text when none is)."""
    out = [s.strip() for s in _SENTENCE.split(text) if len(s.split()) >= 2]
    return out or ([text.strip()] if text.strip() else [])


def _key(sentence: str) -> str:
    return re.sub(r"[^a-z0-9']+", " ", sentence.lower()).strip()


def sentence_examples(samples: Sequence[Any], traits: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Distinct training sentences and their weak multi-hot labels (see the module docstring)."""
    neutral: set[str] = set()
    seen: Counter[str] = Counter()
    with_trait: dict[str, Counter[str]] = defaultdict(Counter)
    surface: dict[str, str] = {}
    for s, text in zip(samples, request_texts(samples), strict=True):
        for sent in sentences(text):
            k = _key(sent)
            surface.setdefault(k, sent)
            if not s.traits:
                neutral.add(k)
                continue
            seen[k] += 1
            with_trait[k].update(s.traits)
    col = {t: j for j, t in enumerate(traits)}
    texts, labels = [], np.zeros((len(surface), len(traits)), dtype=np.int64)
    for i, (k, sent) in enumerate(surface.items()):
        texts.append(sent)
        if k in neutral:
            continue
        for t, c in with_trait[k].items():
            if t in col and c >= 0.5 * seen[k]:
                labels[i, col[t]] = 1
    return texts, labels


class LearnedInference:
    """Infer traits with a SetFit classifier trained on the benchmark's training requests.

    Args:
        traits: the trait ids to predict (columns), in order.
        calibration: validation samples whose requests set the per-trait thresholds (default: a held-out
            fifth of the training samples, by user, when ``fit`` is called).
        target_precision: the precision each trait's threshold aims for on the calibration samples.
        body_steps: contrastive fine-tuning steps of the encoder (0: a frozen encoder, head only).
        body_learning_rate: the encoder's learning rate during those steps.
        polarity: ignore sentences the lexicon's polarity cues read as liking or indifference.
        seed: sampling and training seed.
        cache: keep and reuse fitted models in the user cache.
        model_path: a sentence-transformers folder (default: the packaged all-MiniLM-L6-v2).

    Attributes:
        thresholds: per-trait decision thresholds (after ``fit``).
        report: what ``fit`` did (sizes, seconds, calibration scores, cache hit).
    """

    name = "learned"

    def __init__(
        self,
        traits: Sequence[str],
        calibration: Sequence[Any] | None = None,
        target_precision: float = 0.9,
        body_steps: int = 300,
        body_learning_rate: float = 6e-5,
        polarity: bool = True,
        seed: int = 0,
        cache: bool = True,
        model_path: str | Path | None = None,
    ) -> None:
        self.traits, self.calibration = list(traits), list(calibration) if calibration is not None else None
        self.target_precision, self.body_steps = target_precision, body_steps
        self.body_learning_rate, self.polarity = body_learning_rate, polarity
        self.seed, self.cache, self.model_path = seed, cache, model_path
        self.model: Any = None
        self._memo_key: str | None = None
        self.thresholds = np.full(len(self.traits), 0.5)
        self.report: dict[str, Any] = {}

    # --- fitting --------------------------------------------------------------------------------

    def _labels(self, samples: Sequence[Any]) -> np.ndarray:
        col = {t: j for j, t in enumerate(self.traits)}
        y = np.zeros((len(samples), len(self.traits)), dtype=np.int64)
        for i, s in enumerate(samples):
            for t in s.traits:
                if t in col:
                    y[i, col[t]] = 1
        return y

    def _folder(self, texts: list[str], labels: np.ndarray, calib: Sequence[Any]) -> Path:
        from persafe.fingerprint import digest
        from persafe.llm.smollm2 import cache_root

        key = digest(
            {
                "train": [texts, labels.tolist()],
                "calib": [[t, list(s.traits)] for t, s in zip(request_texts(calib), calib, strict=True)],
                "traits": self.traits,
                "polarity_cues": POLARITY if self.polarity else None,  # the gate the thresholds were set with
                "settings": [
                    self.target_precision,
                    self.body_steps,
                    self.body_learning_rate,
                    self.polarity,
                    self.seed,
                    str(self.model_path or ""),
                ],
                "version": 2,
            }
        )
        return cache_root() / "inference" / f"learned-{key}"

    def fit(
        self,
        samples: Sequence[Any],
        catalog: Any = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> dict[str, Any]:
        """Train on the sentences of ``samples``' requests and calibrate thresholds, or load the cached model.

        Args:
            samples: training samples (SafeRec-shaped: ``request``, ``seen_titles``, ``traits``).
            catalog: unused (the common ``fit`` signature).
            progress: called with ``(done, total)`` training steps.
        """
        import time

        samples = list(samples)
        if self.calibration is not None:
            calib = self.calibration
        else:  # hold out a fifth of the users
            users = sorted({s.user_id or s.sample_id for s in samples})
            held = set(users[::5])
            calib = [s for s in samples if (s.user_id or s.sample_id) in held]
            samples = [s for s in samples if (s.user_id or s.sample_id) not in held]
        texts, labels = sentence_examples(samples, self.traits)
        folder = self._folder(texts, labels, calib)
        self._memo_key = folder.name if self.cache else None
        if self.cache and (folder / "thresholds.json").exists():
            self._load(folder)
            self.report = {**json.loads((folder / "report.json").read_text(encoding="utf-8")), "cached": True}
            return self.report
        t0 = time.perf_counter()
        if self.body_steps > 0:
            import sys

            where = f" into {folder}" if self.cache else ""
            print(
                f"persafe: training the learned constraint inferer once ({self.body_steps} SetFit steps, about 5 "
                f"minutes on 2 CPU cores){where}",
                file=sys.stderr,
            )
        self.model = self._train(texts, labels, progress)
        seconds = time.perf_counter() - t0
        probs = self.probabilities(request_texts(calib))
        self.thresholds, per_trait = self._calibrate(probs, self._labels(calib))
        self.report = {
            "train_samples": len(samples),
            "train_sentences": len(texts),
            "neutral_sentences": int((labels.sum(axis=1) == 0).sum()),
            "calibration_samples": len(calib),
            "body_steps": self.body_steps,
            "seconds": round(seconds, 1),
            "target_precision": self.target_precision,
            "calibration": per_trait,
            "cached": False,
        }
        if self.cache:
            self._save(folder)
        return self.report

    def _train(self, texts: list[str], labels: np.ndarray, progress: Callable[[int, int], None] | None) -> Any:
        import tempfile
        import warnings

        from datasets import Dataset, disable_progress_bars
        from setfit import SetFitModel, Trainer, TrainingArguments
        from setfit import logging as setfit_logging
        from transformers import TrainerCallback
        from transformers.trainer_callback import ProgressCallback
        from transformers.utils import logging as hf_logging

        from persafe.recsys.embedding import minilm_dir

        hf_logging.disable_progress_bar()
        disable_progress_bars()
        setfit_logging.set_verbosity_error()
        model = SetFitModel.from_pretrained(
            str(self.model_path or minilm_dir()),
            multi_target_strategy="one-vs-rest",
            local_files_only=True,
            head_params={"max_iter": 2000},
        )
        if self.body_steps > 0:

            class _Progress(TrainerCallback):
                def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
                    if progress:
                        progress(state.global_step, state.max_steps)

            data = Dataset.from_dict({"text": texts, "label": labels.tolist()})
            with tempfile.TemporaryDirectory(prefix="persafe-setfit-") as scratch:  # nothing is kept there
                args = TrainingArguments(
                    output_dir=scratch,
                    batch_size=32,
                    max_steps=self.body_steps,
                    num_epochs=1,
                    body_learning_rate=self.body_learning_rate,
                    seed=self.seed,
                    show_progress_bar=False,
                    logging_strategy="no",
                    save_strategy="no",
                    report_to="none",
                )
                trainer = Trainer(model=model, args=args, train_dataset=data, callbacks=[_Progress()])
                trainer.remove_callback(ProgressCallback)  # persafe shows its own bar (``progress``)
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", message=".*pin_memory.*")
                    trainer.train()
        else:  # a frozen encoder: fit the head only
            model.model_head.fit(model.encode(texts, show_progress_bar=False), labels)
        return model

    def _calibrate(self, probs: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        thresholds = np.full(len(self.traits), 0.5)
        report = {}
        grid = np.arange(5, 100) / 100  # exact hundredths: a probability equal to a threshold passes it
        for j, t in enumerate(self.traits):
            pos = y[:, j] == 1
            best, best_f1, chosen = 0.5, -1.0, None
            for th in grid:
                pred = probs[:, j] >= th
                tp, fp = int((pred & pos).sum()), int((pred & ~pos).sum())
                prec = tp / (tp + fp) if tp + fp else 0.0
                rec = tp / pos.sum() if pos.sum() else 0.0
                f1 = 2 * prec * rec / (prec + rec) if tp else 0.0
                if f1 > best_f1:
                    best, best_f1 = float(th), f1
                if chosen is None and prec >= self.target_precision and tp > 0:
                    chosen = float(th)  # the lowest threshold reaching the precision: the most recall
            thresholds[j] = chosen if chosen is not None else best
            report[t] = {"threshold": round(float(thresholds[j]), 2), "positives": int(pos.sum())}
        return thresholds, report

    # --- inference ------------------------------------------------------------------------------

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, n_traits)`` probability of each trait: the highest of the text's sentences' (0 for a
        sentence said with liking, with ``polarity``)."""
        if self.model is None:
            raise RuntimeError("LearnedInference: call fit() before infer()")
        out = np.zeros((len(texts), len(self.traits)))
        owner, sents = [], []
        for i, text in enumerate(texts):
            for sent in sentences(text):
                owner.append(i)
                sents.append(sent)
        if not sents:
            return out
        # fitted models are shared by their fingerprint: the demo's guards read the same requests once
        memo = _MEMO.setdefault(self._memo_key, {}) if self._memo_key else {}
        todo = list(dict.fromkeys(x for x in sents if x not in memo))
        if todo:
            got = self.model.predict_proba(todo, batch_size=64, show_progress_bar=False)
            got = (got.numpy() if hasattr(got, "numpy") else np.asarray(got)).reshape(len(todo), len(self.traits))
            if len(memo) > _MEMO_LIMIT:
                memo.clear()
            memo.update(zip(todo, got, strict=True))
        probs = np.stack([memo[x] for x in sents])
        if self.polarity:
            from persafe.recsys.inference import LexiconInference

            reader = LexiconInference(lexicon={})
            probs = probs * np.array([reader.is_avoidance(x) for x in sents], dtype=float)[:, None]
        np.maximum.at(out, np.array(owner), probs)
        return out

    def infer(self, texts: Sequence[str]) -> list[list[str]]:
        probs = self.probabilities(texts)
        return [[self.traits[j] for j in np.flatnonzero(row >= self.thresholds)] for row in probs]

    # --- cache ----------------------------------------------------------------------------------

    def _save(self, folder: Path) -> None:
        from persafe.io import atomic_write_json

        folder.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(str(folder / "model"))
        atomic_write_json(folder / "report.json", self.report)
        atomic_write_json(folder / "thresholds.json", dict(zip(self.traits, self.thresholds.tolist(), strict=True)))

    def _load(self, folder: Path) -> None:
        from setfit import SetFitModel
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        key = str(folder)
        if key not in _MODELS:
            _MODELS[key] = SetFitModel.from_pretrained(str(folder / "model"), local_files_only=True)
        self.model = _MODELS[key]
        stored = json.loads((folder / "thresholds.json").read_text(encoding="utf-8"))
        self.thresholds = np.array([stored[t] for t in self.traits])
