"""Multi-view input helpers: stacking views into one array, and a per-view scaler.

scikit-learn tooling treats a Python list as a list of samples, so the canonical multi-view input is
one 2-D array whose columns are the views side by side, plus the column count of each view
(``view_sizes``). :func:`stack_views` builds it from a list of views; :class:`ViewScaler` scales each
view inside a ``Pipeline``.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import torch
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

__all__ = [
    "SCALINGS",
    "ViewScaler",
    "check_view_sizes",
    "is_view_list",
    "observed_views",
    "scale_params",
    "split_views",
    "stack_views",
]


def is_view_list(X) -> bool:
    """Whether ``X`` is a list/tuple of 2-D arrays (views), rather than one 2-D array or a list of rows.

    Parameters
    ----------
    X : object
        Candidate input.

    Returns
    -------
    bool
    """
    return isinstance(X, list | tuple) and len(X) > 0 and all(np.ndim(v) == 2 for v in X)


def stack_views(views) -> tuple[np.ndarray, tuple[int, ...]]:
    """Stack a list of views column-wise into one array.

    Parameters
    ----------
    views : list of array-like of shape (n_samples, n_features_v)
        Views of the same samples, in the same row order.

    Returns
    -------
    X : ndarray of shape (n_samples, sum of n_features_v)
        The views side by side (float64, or float32 if every view is float32). NaN are kept: a view
        row that is entirely NaN marks that view as missing for the sample (see :func:`observed_views`).
    view_sizes : tuple of int
        Column count of each view, to pass as ``view_sizes``.

    Raises
    ------
    ValueError
        If the list is empty, a view is not 2-D, a view has an infinite value, or the views have
        different row counts.

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepclust.multiview import stack_views
    >>> X, sizes = stack_views([np.zeros((5, 3)), np.ones((5, 2))])
    >>> X.shape, sizes
    ((5, 5), (3, 2))
    """
    if not isinstance(views, list | tuple):
        raise TypeError(f"views must be a list of 2-D arrays, got {type(views).__name__}.")
    if len(views) == 0:
        raise ValueError("views is an empty list: pass at least one 2-D array.")
    arrays = []
    for i, v in enumerate(views):
        if np.ndim(v) != 2:
            raise ValueError(f"View {i} must be a 2-D array (n_samples, n_features), got {np.ndim(v)} dimension(s).")
        arrays.append(
            check_array(v, dtype=[np.float64, np.float32], ensure_min_samples=1, ensure_all_finite="allow-nan",
                        input_name=f"view {i}")
        )
    rows = [a.shape[0] for a in arrays]
    if len(set(rows)) != 1:
        raise ValueError(f"All views must have the same number of rows (samples); got row counts {rows}.")
    dtype = np.float32 if all(a.dtype == np.float32 for a in arrays) else np.float64
    return np.hstack([a.astype(dtype, copy=False) for a in arrays]), tuple(a.shape[1] for a in arrays)


def observed_views(X, view_sizes, *, max_listed: int = 5) -> np.ndarray:
    """Which view of each sample is observed, where a view row that is entirely NaN is a missing view.

    Parameters
    ----------
    X : ndarray of shape (n_samples, sum(view_sizes))
        Stacked views; NaN only in whole view rows.
    view_sizes : sequence of int
        Column count per view.
    max_listed : int, default=5
        Rows named in an error message.

    Returns
    -------
    mask : ndarray of bool of shape (n_samples, n_views)
        ``True`` where the sample has the view.

    Raises
    ------
    ValueError
        If a view row is partly NaN, or a sample has no observed view.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 1.0, 2.0], [np.nan, np.nan, 3.0], [4.0, 5.0, np.nan]])
    >>> observed_views(X, (2, 1)).tolist()
    [[True, True], [False, True], [True, False]]
    """
    nan = np.isnan(X)
    if not nan.any():
        return np.ones((X.shape[0], len(view_sizes)), dtype=bool)

    def rows(bad: np.ndarray) -> str:
        where = np.flatnonzero(bad)
        more = f" and {where.size - max_listed} more" if where.size > max_listed else ""
        return f"{where[:max_listed].tolist()}{more}"

    missing, partial = [], []
    for v, block in enumerate(split_views(nan, view_sizes)):
        all_nan, any_nan = block.all(1), block.any(1)
        missing.append(all_nan)
        if (any_nan & ~all_nan).any():
            partial.append(f"view {v}, rows {rows(any_nan & ~all_nan)}")
    if partial:
        raise ValueError(
            "X contains NaN in part of a view's row (" + "; ".join(partial) + "). A view row must have no NaN, "
            "or be entirely NaN to mark that view as missing for the sample; impute the partly missing values."
        )
    mask = ~np.stack(missing, axis=1)
    if not mask.any(1).all():
        raise ValueError(
            f"Rows {rows(~mask.any(1))} of X have no observed view (every view's row is NaN): each sample needs at "
            "least one view; drop these rows."
        )
    return mask


def check_view_sizes(view_sizes, n_features: int) -> tuple[int, ...]:
    """Validate ``view_sizes`` against a column count; ``None`` means one view of all columns.

    Parameters
    ----------
    view_sizes : sequence of int or None
        Column count per view.
    n_features : int
        Columns of the stacked array.

    Returns
    -------
    tuple of int

    Raises
    ------
    ValueError
        If a size is not a positive integer or the sizes do not add up to ``n_features``.
    """
    if view_sizes is None:
        return (int(n_features),)
    sizes = tuple(view_sizes)
    if len(sizes) == 0 or not all(isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in sizes):
        raise ValueError(f"view_sizes must be a non-empty sequence of positive integers, got {view_sizes!r}.")
    if sum(sizes) != n_features:
        raise ValueError(
            f"view_sizes {list(sizes)} add up to {sum(sizes)} columns but X has {n_features} features."
        )
    return tuple(int(s) for s in sizes)


def split_views(X, view_sizes) -> list:
    """Split a stacked array (NumPy or torch) back into its views (column slices, no copy).

    Parameters
    ----------
    X : ndarray or torch.Tensor of shape (n_samples, sum(view_sizes))
        Stacked views.
    view_sizes : sequence of int
        Column count per view.

    Returns
    -------
    list
        One column block per view.
    """
    bounds = np.cumsum([0, *view_sizes])
    return [X[:, int(a) : int(b)] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


#: the input scalings of :func:`scale_params`
SCALINGS = ("standard", "minmax", "view-minmax", "view-variance", "none")


def scale_params(X, view_sizes=None, method: str = "standard"):
    """Per-column ``(offset, scale)`` of an input scaling, so that ``(X - offset) / scale`` is the scaled data.

    The one place where input scalings are learned: the estimators' internal scaling, :class:`ViewScaler`
    and :func:`~skdeepclust.metrics.reference_space` all call it. Applied view by view:

    - ``"standard"``: every feature to zero mean and unit (unbiased) standard deviation;
    - ``"minmax"``: every feature to ``[0, 1]``;
    - ``"view-minmax"``: the whole view by its global minimum and maximum, keeping the relative scale of the
      features inside a view;
    - ``"view-variance"``: the whole view divided by the square root of its features' summed (unbiased)
      variances, not centred, so that every view has unit total variance and counts alike in distances;
    - ``"none"``: the identity.

    Constant features (and views) are left unscaled: their scale is 1.

    Parameters
    ----------
    X : ndarray or torch.Tensor of shape (n_samples, n_features)
        Training data (the views side by side when ``view_sizes`` is given).
    view_sizes : sequence of int, default=None
        Column count per view; ``None`` treats all columns as one view.
    method : {"standard", "minmax", "view-minmax", "view-variance", "none"}, default="standard"
        Scaling scheme.

    Returns
    -------
    offset, scale : ndarray or torch.Tensor of shape (n_features,)
        Of ``X``'s kind, dtype and device.

    Examples
    --------
    >>> import numpy as np
    >>> offset, scale = scale_params(np.array([[0.0, 10.0, 1.0], [2.0, 30.0, 3.0]]), (2, 1), "view-minmax")
    >>> offset.tolist(), scale.tolist()
    ([0.0, 0.0, 1.0], [30.0, 30.0, 2.0])
    """
    if method not in SCALINGS:
        raise ValueError(f"Unknown scaling {method!r}; use one of {', '.join(map(repr, SCALINGS))}.")
    is_numpy = not isinstance(X, torch.Tensor)
    T = torch.from_numpy(np.ascontiguousarray(X)) if is_numpy else X
    offsets, scales = [], []
    for v in split_views(T, [T.shape[1]] if view_sizes is None else view_sizes):
        d, ones = v.shape[1], torch.ones(v.shape[1], dtype=v.dtype, device=v.device)
        if method == "standard":
            lo = v.mean(0)
            span = v.std(0) if v.shape[0] > 1 else ones
        elif method == "minmax":
            lo = v.min(0).values
            span = v.max(0).values - lo
        elif method == "view-minmax":
            lo, span = v.min().expand(d), (v.max() - v.min()).expand(d)
        elif method == "view-variance":
            lo, span = torch.zeros_like(ones), v.var(0).sum().clamp_min(1e-12).sqrt().expand(d)
        else:
            lo, span = torch.zeros_like(ones), ones
        offsets.append(lo)
        scales.append(torch.where(span > 0, span, ones))
    offset, scale = torch.cat(offsets), torch.cat(scales)
    return (offset.numpy(), scale.numpy()) if is_numpy else (offset, scale)


class ViewScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Scale each view of a stacked multi-view array.

    Three schemes of :func:`scale_params`, applied view by view:

    - ``"minmax"``: every feature to ``[0, 1]`` (what the DistilMVC/MFLVC loaders do for most views);
    - ``"view-minmax"``: the whole view block by its global min and max, keeping the relative scale of
      the features inside a view (the Caltech101 loaders); scikit-learn has no such block scaler;
    - ``"standard"``: every feature to zero mean, unit (unbiased) variance.

    Constant features are left centred but not divided.

    Parameters
    ----------
    view_sizes : sequence of int, default=None
        Column count per view; ``None`` treats all columns as one view.
    method : {"minmax", "view-minmax", "standard"}, default="minmax"
        Scaling scheme.

    Attributes
    ----------
    offset_ : ndarray of shape (n_features,)
        Subtracted from each column.
    scale_ : ndarray of shape (n_features,)
        Each column is divided by this after the offset.
    n_features_in_ : int
        Number of columns seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepclust.multiview import ViewScaler
    >>> X = np.array([[0.0, 10.0, 1.0], [2.0, 30.0, 3.0]])
    >>> ViewScaler(view_sizes=(2, 1), method="view-minmax").fit_transform(X).round(3)
    array([[0.   , 0.333, 0.   ],
           [0.067, 1.   , 1.   ]])
    """

    _parameter_constraints: dict = {
        "view_sizes": [None, "array-like"],
        "method": [StrOptions({"minmax", "view-minmax", "standard"})],
    }

    def __init__(self, view_sizes=None, method: str = "minmax"):
        self.view_sizes = view_sizes
        self.method = method

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the per-column offsets and scales.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Stacked views.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        sizes = check_view_sizes(self.view_sizes, X.shape[1])
        self.offset_, self.scale_ = scale_params(X, sizes, self.method)
        return self

    def transform(self, X):
        """Scale ``X`` with the fitted parameters.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Stacked views.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32], copy=True)
        return ((X - self.offset_) / self.scale_).astype(X.dtype, copy=False)
