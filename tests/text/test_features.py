import numpy as np
import pytest
import spacy

from mlstc.text import features

SENTENCES = [
    "Apple bought Shazam for $400 million in London on Monday.",
    "Reliance Industries shares rose 3% after strong quarterly earnings.",
    "The Federal Reserve left interest rates unchanged.",
]


@pytest.fixture(scope="module")
def nlp():
    return features.load_spacy()


def test_entities_found_in_financial_sentences(nlp):
    run = features.annotate(SENTENCES, dataset="t", nlp=nlp, cache=False, progress=False)
    first = run.annotations[0]
    found = {(" ".join(first.tokens[s:e]), label) for s, e, label in first.entities}
    assert {("Apple", "ORG"), ("$ 400 million", "MONEY"), ("London", "GPE")} <= found
    assert any(label == "PERCENT" for _, _, label in run.annotations[1].entities)
    assert features.entity_text(first, "replace") == "ORG bought Shazam for MONEY in GPE on DATE ."
    assert features.entity_text(first, "tag").startswith("[ORG] Apple [/ORG] bought")
    assert features.entity_text(first, "types").endswith(". ENT_ORG ENT_MONEY ENT_GPE ENT_DATE")
    with pytest.raises(ValueError, match="Unknown entity mode"):
        features.entity_text(first, "mask")


def test_pos_view_is_stable_and_sensible(nlp):
    a = features.annotate(["Shares rose sharply."], dataset="t", nlp=nlp, cache=False, progress=False).annotations[0]
    b = features.annotate(["Shares rose sharply."], dataset="t", nlp=nlp, cache=False, progress=False).annotations[0]
    assert features.pos_text(a) == features.pos_text(b) == "NOUN VERB ADV PUNCT"
    assert features.lemma_pos_text(a) == "share_NOUN rise_VERB sharply_ADV"
    assert features.lemma_pos_text(a, keep=None, tag=False) == "share rise sharply ."


def test_cache_is_reused_and_invalidated_per_text(nlp):
    first = features.annotate(SENTENCES, dataset="cache-test", nlp=nlp, progress=False)
    assert first.annotated == 3 and features.cache_path("cache-test", nlp).is_file()
    again = features.annotate(SENTENCES, dataset="cache-test", nlp=nlp, progress=False)
    assert again.annotated == 0 and again.annotations == first.annotations
    changed = features.annotate(SENTENCES[:2] + ["Oil prices fell."], dataset="cache-test", nlp=nlp, progress=False)
    assert changed.annotated == 1 and changed.annotations[:2] == first.annotations[:2]


def test_another_model_version_gets_another_cache(nlp):
    other = spacy.blank("en")
    other.meta["name"], other.meta["version"] = "core_web_sm", "9.9.9"
    assert features.cache_path("d", other) != features.cache_path("d", nlp)
    features.annotate(SENTENCES, dataset="d", nlp=nlp, progress=False)
    run = features.annotate(SENTENCES, dataset="d", nlp=other, progress=False)
    assert run.annotated == 3 and run.annotations[0].entities == ()


@pytest.mark.parametrize("texts, error, message", [
    (["fine", "   "], ValueError, r"text 1 is empty"),
    ([b"Profit rose"], TypeError, r"text 0 is bytes, not str: decode it first"),
    (["ok", b"caf\xe9".decode("utf-8", "surrogateescape")], ValueError, r"text 1 holds characters that are not valid"),
    ([None], TypeError, r"text 0 is NoneType"),
])
def test_bad_input_gets_a_clear_error_before_spacy(nlp, texts, error, message):
    with pytest.raises(error, match=message):
        features.annotate(texts, dataset="bad", nlp=nlp, progress=False)


def test_tfidf_fits_on_train_only_and_combine_stacks():
    vectorizer, (train, test) = features.tfidf(["profit rose", "oil fell"], ["profit fell", "unseen words"])
    assert "unseen" not in vectorizer.vocabulary_
    assert test[1].nnz == 0
    both = features.combine(train, np.ones((2, 3)), weights=[1.0, 0.5])
    assert both.shape == (2, train.shape[1] + 3) and both[0, -1] == 0.5


def test_reduced_tfidf_fits_on_training_text_and_scales_to_unit_spread():
    from mlstc.text import features

    train = [f"oil price {i} rises" if i % 2 else f"bank rate {i} cut" for i in range(40)]
    reduced = features.reduced_tfidf(train, ["oil rises", "bank cut"], dim=5, seed=0)
    assert [m.shape for m in reduced] == [(40, 5), (2, 5)] and reduced[0].dtype == "float32"
    assert abs(float(reduced[0].std()) - 1) < 1e-5
    again = features.reduced_tfidf(train, ["oil rises", "bank cut"], dim=5, seed=0)
    assert all((a == b).all() for a, b in zip(reduced, again))
