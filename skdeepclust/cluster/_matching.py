"""Label matching.

The contingency counts of two labellings, and the one-to-one renaming of one labelling that agrees best with
another (the Hungarian algorithm), as a mapping (:func:`match_labels`) or as renamed labels (:func:`align_labels`).
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment


def contingency_matrix(labels_a, labels_b, n_a: int | None = None, n_b: int | None = None) -> np.ndarray:
    """Counts ``W[i, j] = #{samples with labels_a == i and labels_b == j}``.

    Parameters
    ----------
    labels_a, labels_b : array-like of int of shape (n,)
        Non-negative integer labels.
    n_a, n_b : int, optional
        Number of rows/columns (defaults: max label + 1).

    Returns
    -------
    numpy.ndarray of shape (n_a, n_b)
    """
    a = np.asarray(labels_a, dtype=np.int64).ravel()
    b = np.asarray(labels_b, dtype=np.int64).ravel()
    n_a = int(a.max()) + 1 if n_a is None else n_a
    n_b = int(b.max()) + 1 if n_b is None else n_b
    w = np.zeros((n_a, n_b), dtype=np.int64)
    np.add.at(w, (a, b), 1)
    return w


def match_labels(labels, reference, n_clusters: int | None = None) -> np.ndarray:
    """Hungarian matching of one labelling to another.

    Parameters
    ----------
    labels : array-like of int of shape (n,)
        Labels to rename.
    reference : array-like of int of shape (n,)
        Labels to agree with.
    n_clusters : int, optional
        Size of the (square) label space; defaults to the largest label + 1 of either input.

    Returns
    -------
    numpy.ndarray of shape (n_clusters,)
        ``mapping[j]`` is the reference id that label ``j`` is renamed to; the mapping is a
        permutation maximising the number of samples on which the two labellings agree.
    """
    a = np.asarray(labels, dtype=np.int64).ravel()
    r = np.asarray(reference, dtype=np.int64).ravel()
    if n_clusters is None:
        n_clusters = int(max(a.max(), r.max())) + 1
    w = contingency_matrix(r, a, n_clusters, n_clusters)
    ref_ids, lab_ids = linear_sum_assignment(w, maximize=True)
    mapping = np.empty(n_clusters, dtype=np.int64)
    mapping[lab_ids] = ref_ids
    return mapping


def align_labels(labels, reference, n_clusters: int | None = None):
    """Rename ``labels`` so that they agree as much as possible with ``reference`` (Hungarian).

    Parameters
    ----------
    labels : numpy.ndarray or torch.Tensor of int of shape (n,)
        Labels to rename.
    reference : numpy.ndarray or torch.Tensor of int of shape (n,)
        Labels to agree with.
    n_clusters : int, optional
        Size of the label space.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Renamed labels, of the same type (and device) as ``labels``.
    """
    if isinstance(labels, torch.Tensor):
        mapping = match_labels(labels.cpu().numpy(), torch.as_tensor(reference).cpu().numpy(), n_clusters)
        return torch.as_tensor(mapping, device=labels.device)[labels.long()]
    labels = np.asarray(labels, dtype=np.int64)
    return match_labels(labels, reference, n_clusters)[labels]
