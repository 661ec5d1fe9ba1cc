"""A saved ensemble (chapter 05): ``ensemble.json`` (members, label names,
thresholds), ``combiner.joblib`` (the fitted combiner of :mod:`mlstc.ensembles` and
each member's Platt scaling) and every member's own saved directory under
``members/``. It predicts new text as the ensemble predicted the test split.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from mlstc.saved import base, pipelines

COMBINER_FILE = "combiner.joblib"
MEMBERS_DIR = "members"


def save(model_dir, members: dict, fitted, label_names, thresholds, *, calibration: dict | None = None,
         **info) -> Path:
    """Write an ensemble to ``model_dir``: ``members`` maps each member the combiner
    uses to a saved model directory (copied in) or a
    :class:`mlstc.saved.pipelines.TextPipeline` (saved in); ``fitted`` is the
    combiner (:class:`mlstc.ensembles.Combiner` or ``Fitted``), ``calibration``
    the Platt scaling of members whose scores were calibrated before mixing."""
    import joblib

    combiner = getattr(fitted, "combiner", fitted)
    missing = [n for n in combiner.members if n not in members]
    if missing:
        raise KeyError(f"the combiner uses {', '.join(missing)}, which were not given as members")
    model_dir = base.fresh(model_dir)
    for name in combiner.members:
        target = model_dir / MEMBERS_DIR / name
        source = members[name]
        if isinstance(source, (str, Path)):
            base.meta(Path(source))  # not a saved model: fails here, not at prediction time
            shutil.copytree(source, target)
        else:
            pipelines.save(target, source, label_names, 0.5)
    joblib.dump({"combiner": combiner, "calibration": dict(calibration or {})}, model_dir / COMBINER_FILE)
    (model_dir / base.ENSEMBLE_FILE).write_text(json.dumps(
        {"members": combiner.members, "combiner": type(combiner).__name__, "label_names": list(label_names),
         "thresholds": base.thresholds_for(thresholds, label_names), "info": info}, indent=1, default=str) + "\n")
    return model_dir


def load_member(model_dir: Path):
    """A member's saved directory: a pipeline, or a network (TensorFlow loaded then)."""
    if (model_dir / pipelines.PIPELINE_FILE).is_file():
        return pipelines.PipelinePredictor(model_dir)
    from mlstc.saved import networks

    return networks.Predictor(model_dir)


class EnsemblePredictor(base.Saved):
    """An ensemble saved by :func:`save`: every member's probabilities (Platt-scaled
    where the ensemble calibrated them), combined."""

    def __init__(self, model_dir):
        import joblib

        model_dir = Path(model_dir)
        found = self._read(model_dir, base.ENSEMBLE_FILE)
        fitted = joblib.load(model_dir / COMBINER_FILE)
        self.combiner, self.calibration = fitted["combiner"], fitted["calibration"]
        self.members = {name: load_member(model_dir / MEMBERS_DIR / name) for name in found["members"]}
        self.columns = {name: base.columns(member.label_names, self.label_names,
                                           f"{model_dir}: member {name}'s outputs")
                        for name, member in self.members.items()}

    def member_probabilities(self, texts, batch_size: int = 64) -> dict[str, np.ndarray]:
        texts = base.texts_of(texts)
        out = {}
        for name, member in self.members.items():
            probs = member.probabilities(texts, batch_size)
            probs = probs[:, self.columns[name]]
            out[name] = self.calibration[name].apply(probs) if name in self.calibration else probs
        return out

    def probabilities(self, texts, batch_size: int = 64) -> np.ndarray:
        return self.combiner.apply(self.member_probabilities(texts, batch_size))
