"""Evaluation you can check: SAEBench-style metrics in miniature, each validated against planted truth.

Every metric is a function of an SAE and labelled activation rows, in a module of its own that cites the
definition it follows and says where it adapts it:

- ``sparse_probing`` (``sparse_probing.py``): a concept read off the top-k latents, beside a full linear probe
  and a difference-in-means direction on the raw activations;
- ``absorption`` (``absorption.py``): a parent concept's latent silent where a child latent carries it, by
  SAEBench's probe-based rules and by the planted labels;
- ``label_oracle_autointerp`` (``autointerp.py``): each latent explained by the planted label (or tokens)
  that fits its examples, scored by detection on held-out text;
- ``seed_stability`` (``stability.py``): latents shared by two seeds' dictionaries, against chance;
- ``reliability_table`` (``reliability.py``): each metric's seed spread and rank correlation with the
  planted truth across a sweep.

``probes.py`` holds what they share: the split by document, logistic probes, balanced scores.
"""

from .absorption import absorption
from .autointerp import label_oracle_autointerp
from .probes import split_by_document
from .reliability import reliability_table
from .sparse_probing import sparse_probing
from .stability import seed_stability

__all__ = [
    "absorption",
    "label_oracle_autointerp",
    "reliability_table",
    "seed_stability",
    "sparse_probing",
    "split_by_document",
]
