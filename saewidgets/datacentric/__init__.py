"""Data-centric analysis with SAE features (Jiang, Sun, Dunlap, Smith, Nanda 2025, arXiv:2512.10092).

SAE latents as a sparse, labelled embedding of documents, used four ways: diff corpora (``diff``),
find co-occurring properties (``npmi``), group documents (``cluster``), and retrieve documents that
have a property (``retrieve``). ``baselines`` holds the non-SAE methods to compare with.
"""

from .cluster import Clusters, cluster, describe, jaccard, latents_for_label  # noqa: F401
from .diff import DiffResult, check_compatible, diff  # noqa: F401
from .embed import POOLINGS, DocEmbeddings, embed_documents, sae_fingerprint  # noqa: F401
from .npmi import NPMIResult, decoder_similarity, label_matrix, npmi  # noqa: F401
from .retrieve import (  # noqa: F401
    Retrieval,
    average_precision,
    example_latents,
    percentile_scale,
    precision_at_k,
    rank_weights,
    retrieve,
)
