"""BERT's masking rule: special tokens never masked, 80/10/10, seeds reproduce."""

import numpy as np

from mlstc.text import masking

CLS, SEP, PAD, MASK, VOCAB = 101, 102, 0, 103, 1000


def batch(n=400, width=64, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(1000, 30000, size=(n, width)) % VOCAB + 200  # ordinary pieces: 200..1199 -> mod keeps < 1200
    lengths = rng.integers(5, width + 1, size=n)
    padding = np.arange(width)[None, :] < lengths[:, None]
    ids[:, 0] = CLS
    ids[np.arange(n), lengths - 1] = SEP
    ids[~padding] = PAD
    return ids, padding


def run(seed, **options):
    ids, padding = batch()
    return ids, padding, masking.mask(ids, padding, mask_id=MASK, vocab_size=VOCAB, special_ids=(CLS, SEP, PAD),
                                      rng=np.random.default_rng(seed), **options)


def test_special_tokens_and_padding_are_never_chosen():
    ids, padding, m = run(0)
    chosen = m.positions[m.weights > 0]
    rows = np.nonzero(m.weights > 0)[0]
    assert np.all(padding[rows, chosen])
    assert not np.isin(ids[rows, chosen], [CLS, SEP, PAD]).any()
    assert np.array_equal(m.labels[m.weights > 0], ids[rows, chosen])
    untouched = np.ones_like(ids, dtype=bool)
    untouched[rows, chosen] = False
    assert np.array_equal(m.token_ids[untouched], ids[untouched])  # only chosen positions change


def test_the_80_10_10_rule_and_the_rate():
    ids, padding, m = run(1, max_predictions=64)
    rows, chosen = np.nonzero(m.weights > 0)[0], m.positions[m.weights > 0]
    after = m.token_ids[rows, chosen]
    share_mask = np.mean(after == MASK)
    share_same = np.mean(after == ids[rows, chosen])
    assert abs(share_mask - 0.8) < 0.03
    assert 0.08 < share_same < 0.13  # 10% kept, plus the rare random draw of the same piece
    maskable = (padding & ~np.isin(ids, [CLS, SEP, PAD])).sum()
    assert abs(m.weights.sum() / maskable - 0.15) < 0.02


def test_a_seed_reproduces_the_mask_and_a_new_seed_changes_it():
    _, _, a = run(7)
    _, _, b = run(7)
    _, _, c = run(8)
    assert np.array_equal(a.token_ids, b.token_ids) and np.array_equal(a.positions, b.positions)
    assert not np.array_equal(a.positions, c.positions)
