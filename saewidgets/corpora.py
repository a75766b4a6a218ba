"""Load a corpus by name: the bundled storyteller generator offline, Hugging Face datasets online.

Every corpus is a ``Corpus``: a sequence of documents with ``.text`` and ``.labels`` (the
storyteller's planted concepts; an empty dict for online datasets, which have no ground truth).
"""

from __future__ import annotations

from .zoo.corpus import Corpus, Document, generate_storyteller

# Online datasets the docs use, by short name -> (hub id, text column). Any other "owner/name" id works.
HUB_DATASETS = {
    "tinystories": ("roneneldan/TinyStories", "text"),
    "openwebtext": ("Skylion007/openwebtext", "text"),
}


def load_corpus(name: str = "storyteller", n_docs: int = 1000, seed: int = 0, **options) -> Corpus:
    """``n_docs`` documents of corpus ``name``.

    ``"storyteller"`` takes the generator's options: ``plant={"dragon": 0.3}`` sets a concept's rate
    (a variant corpus that differs from the default only there) and ``co_plant`` ties rare concepts
    together. Other names stream the first ``n_docs`` texts of a Hugging Face dataset (online only).
    """
    if name == "storyteller":
        return generate_storyteller(n_docs, seed=seed, **options)
    if name in HUB_DATASETS or "/" in name:
        return _load_hub(name, n_docs, seed, **options)
    raise ValueError(
        f"Unknown corpus {name!r}. Available: 'storyteller' (bundled, offline), "
        f"{', '.join(map(repr, HUB_DATASETS))} or any Hugging Face dataset id 'owner/name' (online)."
    )


def _load_hub(
    name: str, n_docs: int, seed: int, split: str = "train", text_column: str | None = None
) -> Corpus:
    from ._hub import OfflineError, hub_reachable

    repo, column = HUB_DATASETS.get(name, (name, "text"))
    column = text_column or column
    if not hub_reachable():
        raise OfflineError(
            f"Corpus {name!r} streams from the Hugging Face Hub ({repo}), which is not reachable "
            "from here. Use load_corpus('storyteller'), the corpus generated offline."
        )
    try:
        from datasets import load_dataset
    except ImportError as e:  # pragma: no cover - datasets comes with transformer-lens
        raise ImportError("Streaming hub datasets needs the 'datasets' package: pip install datasets") from e
    stream = load_dataset(repo, split=split, streaming=True).shuffle(seed=seed, buffer_size=10_000)
    docs = []
    for row in stream:
        if column not in row:
            raise ValueError(
                f"Dataset {repo} has no column {column!r}; its columns are {list(row)}. Pass text_column=..."
            )
        if row[column]:
            docs.append(Document(text=row[column], labels={}, spans={}))
        if len(docs) == n_docs:
            break
    return Corpus(docs, name=repo, seed=seed, plant={}, co_plant=())
