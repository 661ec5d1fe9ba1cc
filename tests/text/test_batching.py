import numpy as np
import pytest

from mlstc.text import batching


def test_batches_cover_every_index_once_and_group_similar_lengths():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 500, size=1037)
    for shuffle in (False, True):
        groups = batching.batches(lengths, 32, shuffle=shuffle, seed=1, chunk_batches=4)
        flat = np.concatenate(groups)
        assert sorted(flat.tolist()) == list(range(len(lengths)))
        assert max(len(g) for g in groups) == 32
    sorted_groups = batching.batches(lengths, 32)
    assert batching.padded_fraction(lengths, sorted_groups) < 0.05
    assert batching.padded_fraction(lengths, sorted_groups, cap=512) > 0.4
    a = batching.batches(lengths, 32, shuffle=True, seed=1)
    b = batching.batches(lengths, 32, shuffle=True, seed=2)
    assert not all(np.array_equal(x, y) for x, y in zip(a, b))


def test_pad_loses_no_token_below_the_cap():
    seqs = [[5, 6, 7], [8], [9, 10, 11, 12, 13]]
    ids, mask = batching.pad(seqs)
    assert [row[m].tolist() for row, m in zip(ids, mask)] == seqs
    ids, mask = batching.pad(seqs, max_length=4)
    assert ids.shape == (3, 4) and ids[2].tolist() == [9, 10, 11, 12]
    ids, mask = batching.pad(seqs, width=8)
    assert ids.shape == (3, 8) and mask.sum() == 9


def test_predictions_come_back_in_input_order():
    lengths = [7, 1, 5, 3, 9, 2]
    out = batching.predict_in_order(lambda idx: np.stack([idx * 10, idx]).T, lengths, batch_size=4)
    assert out[:, 1].tolist() == list(range(6)) and out[:, 0].tolist() == [i * 10 for i in range(6)]


def test_batch_size_must_be_positive():
    with pytest.raises(ValueError):
        batching.batches([1, 2], 0)


def test_token_budget_batches_keep_every_index_and_stay_under_the_budget():
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 128, size=500)
    groups = batching.batches(lengths, 32, shuffle=True, seed=0, max_tokens=1024)
    assert sorted(np.concatenate(groups).tolist()) == list(range(500))
    assert all(len(g) == 1 or lengths[g].max() * len(g) <= 1024 for g in groups)
    assert max(len(g) for g in groups) > 32  # short documents come in bigger batches
    widths = {batching.bucket_width(lengths[g].max(), (32, 64, 96, 128)) for g in groups}
    assert widths <= {32, 64, 96, 128}  # at most four distinct shapes
    assert batching.bucket_width(200, (32, 64)) == 64
