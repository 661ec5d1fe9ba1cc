"""Static word vectors trained with gensim's word2vec (introduced in chapter 05).

The article contrasts contextual embeddings with "word2vec and GloVe". Pretrained
word2vec files are not available offline, so the book trains its own on the training
splits of its corpora (never on validation or test text): skip-gram (Mikolov et al.
2013) over the words exactly as the models' ``TextVectorization`` layer sees them
(lower-cased, punctuation stripped), cached by the hash of the texts and settings.
:func:`embedding_matrix` lays the vectors out in a vectorizer's vocabulary order, so
that they initialise a model's embedding layer.
"""

from __future__ import annotations

import logging

import numpy as np

from mlstc.core import cache as caches
from mlstc.core import storage, system

log = logging.getLogger(__name__)  # a cache hit is logged, not shown in a chapter's output
STORE = caches.Store("word2vec")  # <cache>/word2vec/<key>/vectors.kv
VECTORS = "vectors.kv"


def tokenize(texts) -> list[list[str]]:
    """Words as a default ``keras.layers.TextVectorization`` standardises and splits them."""
    system.import_tensorflow()
    import keras

    layer = keras.layers.TextVectorization(output_mode="int", output_sequence_length=None)
    texts = [str(t) for t in texts]
    layer.adapt(texts, batch_size=512)
    vocabulary = np.array(layer.get_vocabulary())
    out = []
    for start in range(0, len(texts), 512):
        ids = np.asarray(layer(texts[start:start + 512]))
        out += [vocabulary[row[row > 0]].tolist() for row in ids]
    return out


def train(texts, *, dim: int = 128, epochs: int = 10, window: int = 5, min_count: int = 2, seed: int = 0,
          cache: bool = True):
    """Skip-gram word2vec on ``texts`` (gensim ``KeyedVectors``), cached on disk."""
    from gensim.models import KeyedVectors, Word2Vec

    texts = [str(t) for t in texts]
    key = storage.content_key(dim, epochs, window, min_count, seed, texts=texts)
    if cache and (entry := STORE.get(key)) and (entry / VECTORS).is_file():  # MLSTC_CACHE=0: trained every time
        log.info("word2vec vectors of %d texts read from the cache (%s)", len(texts), key)
        return KeyedVectors.load(str(entry / VECTORS))
    model = Word2Vec(tokenize(texts), vector_size=dim, window=window, min_count=min_count, sg=1, epochs=epochs,
                     seed=seed, workers=1)  # one worker: reproducible
    if cache:  # a folder entry: gensim may write large arrays beside the file it is given
        STORE.put_folder(key, lambda folder: model.wv.save(str(folder / VECTORS)))
    return model.wv


def embedding_matrix(vocabulary: list[str], vectors, seed: int = 0) -> tuple[np.ndarray, float]:
    """``(vocabulary x dim matrix, share of the vocabulary found)``: word ``i``'s vector
    in row ``i``; padding (row 0) zeros, unknown words small random vectors."""
    rng = np.random.default_rng(seed)
    matrix = rng.normal(0, 0.05, size=(len(vocabulary), vectors.vector_size)).astype("float32")
    found = 0
    for i, word in enumerate(vocabulary):
        if word in vectors.key_to_index:
            matrix[i] = vectors[word]
            found += 1
    matrix[0] = 0.0
    return matrix, found / max(len(vocabulary), 1)
