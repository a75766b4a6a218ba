"""Load a corpus by name: the bundled storyteller generator offline, Hugging Face datasets online (or offline
from the local hub cache, read in the hub's own layout; see ``saewidgets._hub``).

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
    together. Other names stream the first ``n_docs`` texts of a Hugging Face dataset, shuffled by ``seed`` in
    a 10,000-row buffer: from its files in the local hub cache when they are there (parquet, json, csv or text;
    ``split`` picks the files that name it), else from the hub. Offline with nothing cached, an ``OfflineError``
    at once says where it looked and how to fetch it.
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
    from ._hub import OfflineError, cached_snapshot, how_to_fetch, hub_reachable

    repo, column = HUB_DATASETS.get(name, (name, "text"))
    column = text_column or column
    local = cached_snapshot(repo, "dataset")
    files = _data_files(local, split) if local is not None else None
    if files is None and not hub_reachable():
        raise OfflineError(
            f"Corpus {name!r} streams from the Hugging Face Hub ({repo}), which is not reachable from here, "
            "and its data files are not in the local cache. Use load_corpus('storyteller'), the corpus "
            f"generated offline. {how_to_fetch(repo, 'dataset')}"
        )
    if files is not None and files[0] == "parquet":
        stream = _shuffled(_parquet_rows(files[1]), seed)  # read here: see _parquet_rows
    else:
        try:
            from datasets import load_dataset
        except ImportError as e:  # pragma: no cover - datasets comes with transformer-lens
            raise ImportError(
                "Streaming hub datasets needs the 'datasets' package: pip install datasets"
            ) from e
        if files is not None:  # the cached files, read by datasets' own file builders: no hub call at all
            stream = load_dataset(files[0], data_files=files[1], split="train", streaming=True)
        else:
            stream = load_dataset(repo, split=split, streaming=True)
        stream = stream.shuffle(seed=seed, buffer_size=10_000)
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


# A cached dataset's data files -> the datasets builder that reads them (the hub's own auto-detection, reduced
# to the formats text datasets use: https://huggingface.co/docs/hub/datasets-data-files-configuration), in order
# of preference when a repo has several: parquet is the hub's own format (roneneldan/TinyStories also ships .txt
# files whose lines are not documents).
_BUILDERS = {".parquet": "parquet", ".jsonl": "json", ".json": "json", ".csv": "csv", ".txt": "text"}
_PREFERENCE = ("parquet", "json", "csv", "text")


def _data_files(snapshot, split: str) -> tuple[str, list[str]] | None:
    """The builder and files of ``split`` in a cached dataset snapshot, or None when it holds none.

    Files whose path names the split (``data/train-00000-of-00001.parquet``, ``train/...``, ``train.jsonl``)
    when any do; else, for ``split="train"``, every data file (a repo of unsplit files is all train).
    """
    import re

    found: dict[str, list[str]] = {}
    for path in sorted(snapshot.rglob("*")):
        compressed = path.suffix in (".gz", ".zst", ".bz2", ".xz") and len(path.suffixes) > 1
        suffix = path.suffixes[-2] if compressed else path.suffix  # train.jsonl.gz is read as json
        if path.is_file() and suffix in _BUILDERS and not path.name.startswith("."):
            found.setdefault(_BUILDERS[suffix], []).append(path)
    if not found:
        return None
    builder = next(b for b in _PREFERENCE if b in found)
    paths = found[builder]
    named = re.compile(rf"(^|[/_.-]){re.escape(split)}([/_.-]|$)")
    chosen = [p for p in paths if named.search(p.relative_to(snapshot).as_posix())]
    if not chosen and split == "train":
        chosen = paths
    return (builder, [str(p) for p in chosen]) if chosen else None


def _parquet_rows(paths: list[str]):
    """The rows of cached parquet files, streamed in batches, files in order. Read with pyarrow rather than
    datasets' streaming parquet reader, which sleeps 5 s whenever a stream is left before its end (a guard
    against apache/arrow#45214) -- and taking the first n_docs is exactly that."""
    import pyarrow.parquet as pq

    for path in paths:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
            yield from batch.to_pylist()


def _shuffled(rows, seed: int, buffer_size: int = 10_000):
    """``rows`` in a seeded random order, holding ``buffer_size`` of them at a time (as a streamed dataset's
    ``shuffle(seed, buffer_size)``: the first rows out come from the first ``buffer_size`` in)."""
    import random

    rng = random.Random(seed)
    buffer = []
    for row in rows:
        if len(buffer) < buffer_size:
            buffer.append(row)
            continue
        i = rng.randrange(buffer_size)
        yield buffer[i]
        buffer[i] = row
    rng.shuffle(buffer)
    yield from buffer
