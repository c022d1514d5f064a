"""The matching engine: pure functions, no HTTP and no database session.

Its public face, one module per job (in the spirit of Splink's linker components):

* `linkage.blocking`: blocking keys and the candidate pairs they give;
* `linkage.training`: estimating the Fellegi-Sunter model (EM, m from known matches, u from
  random pairs, term frequencies of names);
* `linkage.inference`: comparing and scoring pairs, deciding link / review / new, with the
  stewards' explanations;
* `linkage.clustering`: connected components, best-candidate selection, and re-clustering a
  whole registry from its scored links;
* `linkage.assignment`: where each record of an incoming batch goes (a person, a new person,
  a review item).

The machinery behind them is in `linkage.internals` (normalise, compare, model, columnar,
pairing). The names below are the surface the registry uses; each is imported on first
use, so that `from linkage import PAIR_BLOCK` (the settings) does not load pandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from linkage.assignment import Assignment, ReviewItem, assign, assign_one
    from linkage.blocking import (
        KEY_KINDS,
        PAIR_BLOCK,
        SINGLE_BLOCK,
        blocking_keys,
        candidate_pairs,
        distinct,
        keys_frame,
        pairs_sharing_most_keys,
    )
    from linkage.clustering import (
        Placement,
        Reclustering,
        ScoredLinks,
        components,
        connected_components,
        mutual_best,
        recluster,
        refused_links,
    )
    from linkage.inference import (
        explanations,
        record_explanations,
        score_batch_pairs,
        score_candidates,
        score_pairs,
        score_record_candidates,
        score_record_pairs,
    )
    from linkage.internals.columnar import CodedRecords, CodedScorer, code_records
    from linkage.internals.model import FSModel, default_model
    from linkage.internals.normalise import FIELD_NORMALISERS, normalise_frame
    from linkage.training import Estimate, estimate

_HOMES: dict[str, str] = {
    "assign": "linkage.assignment",
    "assign_one": "linkage.assignment",
    "Assignment": "linkage.assignment",
    "blocking_keys": "linkage.blocking",
    "candidate_pairs": "linkage.blocking",
    "code_records": "linkage.internals.columnar",
    "CodedRecords": "linkage.internals.columnar",
    "CodedScorer": "linkage.internals.columnar",
    "components": "linkage.clustering",
    "connected_components": "linkage.clustering",
    "default_model": "linkage.internals.model",
    "distinct": "linkage.internals.pairing",
    "Estimate": "linkage.training",
    "estimate": "linkage.training",
    "explanations": "linkage.inference",
    "FIELD_NORMALISERS": "linkage.internals.normalise",
    "FSModel": "linkage.internals.model",
    "KEY_KINDS": "linkage.blocking",
    "keys_frame": "linkage.blocking",
    "mutual_best": "linkage.clustering",
    "Placement": "linkage.clustering",
    "recluster": "linkage.clustering",
    "record_explanations": "linkage.inference",
    "Reclustering": "linkage.clustering",
    "refused_links": "linkage.clustering",
    "ScoredLinks": "linkage.clustering",
    "normalise_frame": "linkage.internals.normalise",
    "PAIR_BLOCK": "linkage.internals.pairing",
    "pairs_sharing_most_keys": "linkage.internals.pairing",
    "ReviewItem": "linkage.assignment",
    "score_batch_pairs": "linkage.inference",
    "score_candidates": "linkage.inference",
    "score_pairs": "linkage.inference",
    "score_record_candidates": "linkage.inference",
    "score_record_pairs": "linkage.inference",
    "SINGLE_BLOCK": "linkage.internals.pairing",
}

__all__ = [
    "FIELD_NORMALISERS",
    "KEY_KINDS",
    "PAIR_BLOCK",
    "SINGLE_BLOCK",
    "Assignment",
    "CodedRecords",
    "CodedScorer",
    "Estimate",
    "FSModel",
    "Placement",
    "Reclustering",
    "ReviewItem",
    "ScoredLinks",
    "assign",
    "assign_one",
    "blocking_keys",
    "candidate_pairs",
    "code_records",
    "components",
    "connected_components",
    "default_model",
    "distinct",
    "estimate",
    "explanations",
    "keys_frame",
    "mutual_best",
    "normalise_frame",
    "pairs_sharing_most_keys",
    "recluster",
    "record_explanations",
    "refused_links",
    "score_batch_pairs",
    "score_candidates",
    "score_pairs",
    "score_record_candidates",
    "score_record_pairs",
]


def __getattr__(name: str) -> object:
    """A public name, imported from its module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'linkage' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
