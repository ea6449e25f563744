"""The environment variables skdeepclust reads, each read in one place.

``SKDEEPCLUST_NUM_THREADS``
    Threads of torch and the BLAS/OpenMP libraries during ``fit``, ``predict``, ``transform`` and
    ``score`` (unset, empty or ``auto``: the idle cores, at most torch's own count; see ``_threads``).
``SKDEEPCLUST_AUTOCAST``
    ``0`` turns off the bfloat16 autocast of training on CUDA; ``1`` (or unset) keeps it on.
``SKDEEPCLUST_DATA_HOME``
    Cache folder of the downloaded data sets (:func:`skdeepclust.datasets.get_data_home`).
``SKDEEPCLUST_DATA_MIRROR``
    A base URL that replaces every public source of the data sets: ``<base>/<file name>``.
"""

from __future__ import annotations

import os

__all__ = ["AUTOCAST_ENV", "DATA_HOME_ENV", "DATA_MIRROR_ENV", "NUM_THREADS_ENV", "autocast", "data_home",
           "data_mirror", "num_threads"]

NUM_THREADS_ENV = "SKDEEPCLUST_NUM_THREADS"
AUTOCAST_ENV = "SKDEEPCLUST_AUTOCAST"
DATA_HOME_ENV = "SKDEEPCLUST_DATA_HOME"
DATA_MIRROR_ENV = "SKDEEPCLUST_DATA_MIRROR"


def _read(name: str) -> str:
    return os.environ.get(name, "").strip()


def num_threads() -> int | None:
    """The thread count that ``SKDEEPCLUST_NUM_THREADS`` fixes, or ``None`` when it is unset, empty or ``auto``.

    Returns
    -------
    int or None

    Raises
    ------
    ValueError
        If the variable holds anything but a positive integer or ``auto``.
    """
    value = _read(NUM_THREADS_ENV)
    if not value or value.lower() == "auto":
        return None
    n = int(value) if value.isdigit() else 0
    if n < 1:
        raise ValueError(
            f"{NUM_THREADS_ENV}={value!r} is not a positive integer; set it to the number of threads to use, "
            "or to 'auto' (or unset it) to use the cores that are idle when a call starts."
        )
    return n


def autocast() -> bool:
    """Whether ``SKDEEPCLUST_AUTOCAST`` allows bfloat16 autocast on CUDA (unset or empty: yes).

    Returns
    -------
    bool
        ``False`` for ``0``, ``True`` for ``1``, unset or empty.

    Raises
    ------
    ValueError
        If the variable holds anything else.
    """
    value = _read(AUTOCAST_ENV)
    if value in ("", "1"):
        return True
    if value == "0":
        return False
    raise ValueError(f"{AUTOCAST_ENV}={value!r} must be 0 (no autocast) or 1 (bfloat16 autocast on CUDA).")


def data_home() -> str | None:
    """The cache folder that ``SKDEEPCLUST_DATA_HOME`` names, or ``None`` when it is unset or empty."""
    return os.environ.get(DATA_HOME_ENV) or None


def data_mirror() -> str | None:
    """The mirror base URL that ``SKDEEPCLUST_DATA_MIRROR`` names, or ``None`` when it is unset or empty."""
    return os.environ.get(DATA_MIRROR_ENV) or None
