"""Chapter 05's combiners by name, as chapter 06 reuses them."""

import numpy as np
import pytest

from mlstc.book import members


def test_every_combiner_name_runs_and_keeps_shapes():
    rng = np.random.default_rng(0)
    y_val = (rng.random((60, 3)) < 0.3).astype(int)
    pool = {name: {"validation": np.clip(y_val * 0.6 + rng.random((60, 3)) * 0.4, 0, 1),
                   "test": rng.random((20, 3))} for name in ("a", "b")}
    for name in members.COMBINERS:
        out = members.combine(name, pool, y_val, y_val, selection_rounds=3)
        assert out["validation"].shape == (60, 3) and out["test"].shape == (20, 3), name
    with pytest.raises(ValueError, match="unknown combiner"):
        members.combine("median", pool, y_val, y_val)
