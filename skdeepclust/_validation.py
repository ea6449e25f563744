"""Parameter constraints and input checks shared by the estimators.

scikit-learn's ``Interval(Integral, ...)`` accepts ``True`` and ``False`` (``bool`` is an ``int``), and its
``"array-like"`` accepts any sequence; the constraints here close those gaps for the structural
parameters (cluster counts, layer widths, shapes). :func:`one_line` turns an error into the one-line message
that the data readers and the command line show.
"""

from __future__ import annotations

import urllib.error
from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, Options

__all__ = ["IntInterval", "PositiveInts", "all_rows_identical", "check_float32_range", "one_line"]

_FLOAT32_MAX = float(np.finfo(np.float32).max)


class _IntNotBoolInterval(Interval):
    """``Interval(Integral, ...)`` that does not take ``True``/``False`` for a number."""

    def is_satisfied_by(self, val) -> bool:  # noqa: D102
        return not isinstance(val, bool | np.bool_) and super().is_satisfied_by(val)


def IntInterval(left: int | None, right: int | None, *, closed: str) -> Interval:  # noqa: N802
    """An integer interval constraint that rejects booleans.

    Parameters
    ----------
    left, right : int or None
        Bounds (``None``: unbounded).
    closed : {"left", "right", "both", "neither"}
        Which bounds are included.

    Returns
    -------
    Interval
        A scikit-learn parameter constraint.
    """
    return _IntNotBoolInterval(Integral, left, right, closed=closed)


class PositiveInts(Options):
    """A non-empty tuple, list or 1-D array of positive integers (layer widths, an image shape).

    Parameters
    ----------
    length : int, optional
        Required number of entries.
    meaning : str, optional
        What the entries are, for the error message (e.g. ``"(C, H, W)"``).
    """

    def __init__(self, length: int | None = None, meaning: str | None = None):
        # an ``Options`` subclass only because scikit-learn's validation takes no other custom constraint
        super().__init__(object, set())
        self.length, self.meaning = length, meaning

    def is_satisfied_by(self, val) -> bool:  # noqa: D102
        if not isinstance(val, tuple | list | np.ndarray) or np.ndim(val) != 1 or len(val) == 0:
            return False
        if self.length is not None and len(val) != self.length:
            return False
        return all(isinstance(v, Integral) and not isinstance(v, bool | np.bool_) and v > 0 for v in val)

    def __str__(self) -> str:
        text = "a non-empty sequence of positive integers"
        if self.length is not None:
            text = f"a sequence of {self.length} positive integers"
        return text if self.meaning is None else f"{text} {self.meaning}"


def check_float32_range(X: np.ndarray) -> None:
    """Refuse values that do not fit in float32, the precision the networks train in.

    Parameters
    ----------
    X : ndarray
        Validated, finite input.

    Raises
    ------
    ValueError
        If ``|X|`` exceeds the largest float32 number.
    """
    if X.size and X.dtype == np.float64:
        peak = max(float(np.nanmax(X)), -float(np.nanmin(X)))  # max |X| without a copy of X (NaN: missing views)
        if peak > _FLOAT32_MAX:
            raise ValueError(
                f"X has values up to {peak:.3g} in absolute value, beyond the float32 range (about 3.4e38) that "
                "the networks train in; rescale X (e.g. with StandardScaler) before fitting."
            )


def all_rows_identical(X: np.ndarray) -> bool:
    """Whether every row of a finite 2-D array equals the first (every column is constant).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Finite values.

    Returns
    -------
    bool
    """
    return bool(np.array_equal(X.min(axis=0), X.max(axis=0)))


def one_line(message: object) -> str:
    r"""The text of ``message`` on one line: every run of whitespace, newlines included, becomes one space.

    A failed URL request gives its reason (``HTTP <code> <reason>`` for an HTTP error); an exception with no
    text gives its class name.

    Parameters
    ----------
    message : object
        An exception, a warning, a string, or any object (its ``str``).

    Returns
    -------
    str

    Examples
    --------
    >>> one_line(ValueError("bad value:\n  3"))
    'bad value: 3'
    >>> one_line(KeyboardInterrupt())
    'KeyboardInterrupt'
    """
    if isinstance(message, urllib.error.HTTPError):
        text = f"HTTP {message.code} {message.reason}"
    elif isinstance(message, urllib.error.URLError):
        text = str(message.reason)
    else:
        text = str(message)
    text = " ".join(text.split())
    if not text and isinstance(message, BaseException):
        return type(message).__name__
    return text
