"""Reading multi-view clustering data sets stored as MATLAB ``.mat`` files.

:func:`load_mat_views` reads the layouts that multi-view clustering research passes around: views in a cell
array or under numbered keys, views stored transposed or sparse, labels under one of the usual names
(``_LABEL_KEYS``, which the command line's data reader also uses).
"""

from __future__ import annotations

import re
from os import PathLike

import numpy as np
import scipy.io
import scipy.sparse
from sklearn.utils import Bunch

_LABEL_KEYS = ("Y", "y", "gt", "GT", "truth", "gnd", "label", "labels", "Label", "Labels")
_CELL_KEYS = ("X", "data", "Data", "fea", "views")


def _as_dense_2d(a, name: str) -> np.ndarray:
    if scipy.sparse.issparse(a):
        a = a.toarray()
    a = np.asarray(a)
    if a.ndim != 2:
        raise ValueError(f"{name} is not a 2-D matrix (shape {a.shape}).")
    return a.astype(np.float64)


def _orient(view: np.ndarray, n_samples: int, name: str) -> np.ndarray:
    if view.shape[0] == n_samples:
        return view
    if view.shape[1] == n_samples:
        return view.T  # stored features x samples
    raise ValueError(f"{name} has shape {view.shape}; neither dimension matches the {n_samples} labels.")


def load_mat_views(path: str | PathLike, *, view_keys=None, label_key: str | None = None) -> Bunch:
    """Read a multi-view clustering dataset stored as a MATLAB ``.mat`` file.

    Handles the common layouts: views in a cell array (``X``, ``data``, ... of shape ``(1, V)`` or
    ``(V, 1)``) or under numbered keys (``X1``, ``X2``, ...); views stored transposed (features x
    samples, detected from the label count); sparse views; labels under ``Y``, ``gt``, ``truth``,
    ``gnd``, ``label(s)`` as a row or column vector.

    Parameters
    ----------
    path : str or path-like
        The ``.mat`` file (MATLAB v5/v7 format, as read by :func:`scipy.io.loadmat`).
    view_keys : sequence of str, optional
        Keys of the view matrices, in order; by default found as described above.
    label_key : str, optional
        Key of the label vector; by default the first of the usual names present.

    Returns
    -------
    Bunch
        ``views`` (list of float64 arrays of shape ``(n_samples, n_features_v)``), ``y`` (labels
        renumbered to ``0 .. K-1`` in sorted order), ``view_sizes`` (tuple), ``n_clusters`` and
        ``view_names``.

    Raises
    ------
    ValueError
        If no labels or no views are found, or a view's shape does not match the labels.
    """
    mat = scipy.io.loadmat(path)
    keys = [k for k in mat if not k.startswith("__")]
    label_key = label_key or next((k for k in _LABEL_KEYS if k in mat), None)
    if label_key is None:
        raise ValueError(f"No label vector found in {path}; keys are {keys}. Pass label_key=...")
    y_raw = np.asarray(mat[label_key]).ravel()
    n = y_raw.shape[0]
    if view_keys is not None:
        names = list(view_keys)
        raw = [mat[k] for k in names]
    else:
        cell_key = next((k for k in _CELL_KEYS if k in mat and np.asarray(mat[k]).dtype == object), None)
        if cell_key is not None:
            cells = np.asarray(mat[cell_key]).ravel()
            raw = list(cells)
            names = [f"{cell_key}[{i}]" for i in range(len(raw))]
        else:
            numbered = sorted(
                (k for k in keys if re.fullmatch(r"[xX]_?\d+", k)), key=lambda k: int(re.sub(r"\D", "", k))
            )
            names, raw = numbered, [mat[k] for k in numbered]
    if not raw:
        raise ValueError(f"No views found in {path}; keys are {keys}. Pass view_keys=[...]")
    views = [_orient(_as_dense_2d(v, name), n, name) for v, name in zip(raw, names, strict=True)]
    classes, y = np.unique(y_raw, return_inverse=True)
    return Bunch(
        views=views,
        y=y.astype(np.int64),
        view_sizes=tuple(v.shape[1] for v in views),
        n_clusters=int(classes.size),
        view_names=names,
    )
