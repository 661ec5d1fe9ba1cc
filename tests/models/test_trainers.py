"""The trainers chapters 02, 04 and 05 call: a recurrent classifier on a data set,
and a flat or hierarchical model on a shared encoder."""

import numpy as np
import pytest

from mlstc import data
from mlstc.data import Hierarchy


@pytest.fixture(scope="module")
def news(tmp_path_factory):
    path = tmp_path_factory.mktemp("news") / "news.csv"
    words = {"positive/earnings": "profit beats estimates", "positive/rates": "rates cut cheers",
             "negative/market": "shares slump sell-off"}
    rows = [f"story {i} {words[label]},{label}" for i, label in
            zip(range(90), list(words) * 30)]
    path.write_text("text,labels\n" + "\n".join(rows))
    return data.load(str(path))


@pytest.mark.slow
def test_recurrent_train_scores_validation_and_test_and_reruns_from_the_fit_cache(news):
    from mlstc.models import recurrent

    options = {"seed": 0, "max_length": 8, "epochs": 2, "batch_size": 16, "units": 8, "embedding_dim": 8}
    first = recurrent.train(news, **options)
    assert first.probs["test"].shape == (len(news.split("test").texts), news.num_labels)
    assert np.all((first.probs["validation"] >= 0) & (first.probs["validation"] <= 1))
    assert len(first.history["loss"]) <= 2 and first.word2vec_coverage is None
    again = recurrent.train(news, **options)  # the same run: restored, the same probabilities
    assert np.allclose(again.probs["test"], first.probs["test"])
    assert again.train_seconds == pytest.approx(first.train_seconds)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["flat", "hierarchical"])
def test_hierarchy_training_on_either_encoder_gives_logits_over_the_nodes(news, kind):
    from mlstc.models import hierarchy_training

    tree = Hierarchy.from_mapping(news.hierarchy, news.label_names)
    vectors = np.random.default_rng(0).normal(size=(len(news.texts), 6)).astype("float32")
    assert hierarchy_training.ENCODERS
    for encoder in hierarchy_training.ENCODERS:
        out = hierarchy_training.train(news, tree, encoder, kind, vectors=vectors, epochs=1, batch_size=16,
                                       max_length=8)
        assert out.logits["test"].shape == (len(news.split("test").texts), len(tree.nodes))
        assert out.train_seconds >= 0
    with pytest.raises(ValueError, match="frozen vectors"):
        hierarchy_training.train(news, tree, "minilm-frozen", kind)
    with pytest.raises(ValueError, match="encoder must be one of"):
        hierarchy_training.train(news, tree, "gpt", kind)
