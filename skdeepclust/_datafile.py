"""Read a user's data file for ``python -m skdeepclust fit``: ``.npy``, ``.npz``, ``.csv`` or ``.mat``.

Every problem with a file is a :class:`DataFileError` with a one-line message that names the file and,
where it helps, the line, column or key, so the command line can print it as it is.

Where the labels are (used only to report ACC/NMI/ARI, never to fit):

- ``.csv``: in the column named by ``label_column`` (a header name, or a 0-based index; ``-1`` is the
  last column); without it, every column is a feature.
- ``.npz``: under ``label_key``, by default ``y`` or ``labels`` when the file has one.
- ``.mat``: under ``label_key``, by default the first of the names
  :func:`skdeepclust.datasets.load_mat_views` knows (``Y``, ``y``, ``gt``, ``truth``, ``gnd``, ...).
- ``.npy``: none.
"""

from __future__ import annotations

import csv
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._validation import one_line

__all__ = ["EXTENSIONS", "NPZ_LABEL_KEYS", "DataFile", "DataFileError", "read_data_file"]

#: the file types ``read_data_file`` reads
EXTENSIONS = (".npy", ".npz", ".csv", ".mat")
#: keys of the labels in a ``.npz`` file, in order of preference
NPZ_LABEL_KEYS = ("y", "labels")
#: MATLAB classes that hold no numeric matrix
_NOT_NUMERIC_MAT = ("cell", "struct", "char", "object", "function_handle", "opaque")


class DataFileError(ValueError):
    """A data file that cannot be used: missing, of an unknown type, unreadable or not numeric."""


@dataclass
class DataFile:
    """The content of a data file, ready for an estimator.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
        The features (float64); several views side by side when ``view_sizes`` is set.
    y : ndarray of shape (n_samples,) or None
        The labels found in the file, as stored (numbers or strings), or ``None``.
    view_sizes : tuple of int or None
        Widths of the views of a multi-view ``.mat`` file (two or more views), else ``None``.
    labels_from : str or None
        Where the labels were found, for messages (e.g. ``"column 'species'"``).
    notes : list of str
        What the reader decided (header row, delimiter, keys), for the summary line.
    """

    X: np.ndarray
    y: np.ndarray | None = None
    view_sizes: tuple[int, ...] | None = None
    labels_from: str | None = None
    notes: list[str] = field(default_factory=list)


def read_data_file(
    path: str | Path, *, label_column: str | None = None, label_key: str | None = None, header: str = "auto"
) -> DataFile:
    """Read features (and labels, when the file has them) from a ``.npy``, ``.npz``, ``.csv`` or ``.mat`` file.

    Parameters
    ----------
    path : str or Path
        The data file; its extension (case-insensitive) chooses the reader.
    label_column : str, optional
        ``.csv`` only: the label column, by header name or 0-based index (negative counts from the end).
    label_key : str, optional
        ``.npz`` and ``.mat`` only: the key of the label vector (default: see the module docstring).
    header : {"auto", "yes", "no"}, default="auto"
        ``.csv`` only: whether the first row names the columns. ``"auto"``: it does when one of its
        fields is not a number while the field below it is.

    Returns
    -------
    DataFile

    Raises
    ------
    DataFileError
        With a one-line message, for any file that cannot be used.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if not path.exists():
        raise DataFileError(f"{path}: no such file")
    if not path.is_file():
        raise DataFileError(f"{path}: not a file")
    if ext not in EXTENSIONS:
        kind = f"type {ext!r}" if ext else "type (no extension)"
        raise DataFileError(f"{path}: unknown file {kind}; use one of {', '.join(EXTENSIONS)}")
    if label_column is not None and ext != ".csv":
        raise DataFileError(f"--label-column is for .csv files; for {ext} files use --label-key")
    if label_key is not None and ext not in (".npz", ".mat"):
        raise DataFileError("--label-key is for .npz and .mat files; "
                            + ("for .csv files use --label-column" if ext == ".csv" else
                               ".npy files hold no labels (store 'X' and 'y' in a .npz file)"))
    if ext == ".csv":
        data = _read_csv(path, label_column, header)
    elif ext == ".npy":
        data = DataFile(_features(_load_npy(path), path, "the array"))
    elif ext == ".npz":
        data = _read_npz(path, label_key)
    else:
        data = _read_mat(path, label_key)
    _check_finite(data.X, path)
    if data.X.shape[0] < 2:
        raise DataFileError(f"{path}: {data.X.shape[0]} row(s); clustering needs at least 2")
    if data.y is not None and data.y.shape[0] != data.X.shape[0]:
        raise DataFileError(f"{path}: {data.y.shape[0]} labels ({data.labels_from}) for {data.X.shape[0]} rows")
    return data


# ---------------------------------------------------------------------------------------------- helpers
def _features(a: np.ndarray, path: Path, what: str) -> np.ndarray:
    """Check that ``a`` is a 2-D numeric array and return it as float64."""
    a = np.asarray(a)
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise DataFileError(f"{path}: {what} is not numeric (dtype {a.dtype})")
    if np.iscomplexobj(a):
        raise DataFileError(f"{path}: {what} holds complex numbers")
    if a.ndim != 2:
        raise DataFileError(
            f"{path}: {what} has shape {a.shape}; expected one row per sample (2-D). "
            "Flatten images to rows and pass --image-shape C H W"
        )
    return a.astype(np.float64)


def _labels(a: np.ndarray, path: Path, what: str) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim == 2 and 1 in a.shape:
        a = a.ravel()
    if a.ndim != 1:
        raise DataFileError(f"{path}: the labels ({what}) have shape {a.shape}; expected one label per row")
    return a


def _check_finite(X: np.ndarray, path: Path) -> None:
    bad = ~np.isfinite(X)
    if bad.any():
        row = int(np.flatnonzero(bad.any(axis=1))[0])
        raise DataFileError(
            f"{path}: {int(bad.sum())} missing (NaN) or infinite value(s), the first in data row {row + 1}; "
            "fill or drop them first"
        )


def _load_npy(path: Path) -> np.ndarray:
    with open(path, "rb") as f:
        if f.read(6) != b"\x93NUMPY":
            raise DataFileError(f"{path}: not a NumPy .npy file (save one with numpy.save)")
    try:
        return np.load(path, allow_pickle=False)
    except Exception as exc:  # any failure to parse the file is the same problem for the user
        raise DataFileError(f"{path}: cannot read it as a NumPy .npy file of numbers ({one_line(exc)})") from exc


# ---------------------------------------------------------------------------------------------- .npz
def _read_npz(path: Path, label_key: str | None) -> DataFile:
    if not zipfile.is_zipfile(path):
        raise DataFileError(f"{path}: not a NumPy .npz file (save one with numpy.savez)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except Exception as exc:
        raise DataFileError(f"{path}: cannot read it as a NumPy .npz file of numbers ({one_line(exc)})") from exc
    keys = list(arrays)
    if label_key is not None and label_key not in arrays:
        raise DataFileError(f"{path}: no array {label_key!r} for --label-key; the file holds {keys}")
    label_key = label_key or next((k for k in NPZ_LABEL_KEYS if k in arrays), None)
    if "X" in arrays:
        x_key = "X"
    else:
        rest = [k for k in keys if k != label_key]
        if len(rest) != 1:
            raise DataFileError(
                f"{path}: holds {keys}; store the features under 'X' (and the labels under 'y')"
                if rest else f"{path}: holds no feature array (only {keys})"
            )
        x_key = rest[0]
    data = DataFile(_features(arrays[x_key], path, f"array {x_key!r}"), notes=[f"features {x_key!r}"])
    if label_key is not None:
        data.y = _labels(arrays[label_key], path, f"array {label_key!r}")
        data.labels_from = f"array {label_key!r}"
    return data


# ---------------------------------------------------------------------------------------------- .mat
def _read_mat(path: Path, label_key: str | None) -> DataFile:
    import scipy.io

    from .datasets import _CELL_KEYS, _LABEL_KEYS, load_mat_views

    try:
        info = {name: cls for name, _, cls in scipy.io.whosmat(path)}
    except Exception as exc:
        raise DataFileError(f"{path}: cannot read it as a MATLAB .mat file ({one_line(exc)})") from exc
    keys = list(info)
    if label_key is not None and label_key not in info:
        raise DataFileError(f"{path}: no variable {label_key!r} for --label-key; the file holds {keys}")
    if label_key is None and not any(k in info for k in _LABEL_KEYS):
        raise DataFileError(
            f"{path}: no label vector under the usual names ({', '.join(_LABEL_KEYS)}); the file holds {keys}. "
            "The .mat reader needs the labels to tell samples from features: name them with --label-key"
        )
    view_keys = None
    has_cells = any(info.get(k) == "cell" for k in _CELL_KEYS)
    has_numbered = any(re.fullmatch(r"[xX]_?\d+", k) for k in info)
    if not has_cells and not has_numbered:  # one plain matrix under X, data, fea, ...: a single view
        plain = [k for k in _CELL_KEYS if k in info and info[k] not in _NOT_NUMERIC_MAT]
        view_keys = plain[:1] or None
    try:
        bunch = load_mat_views(path, view_keys=view_keys, label_key=label_key)
    except ValueError as exc:
        raise DataFileError(one_line(exc)) from exc
    except Exception as exc:
        raise DataFileError(f"{path}: cannot read the views ({one_line(exc)})") from exc
    label_key = label_key or next(k for k in _LABEL_KEYS if k in info)
    views = bunch.views
    data = DataFile(
        views[0] if len(views) == 1 else np.hstack(views),
        y=np.asarray(bunch.y),
        view_sizes=tuple(bunch.view_sizes) if len(views) > 1 else None,
        labels_from=f"variable {label_key!r}",
        notes=[f"view{'s' if len(views) > 1 else ''} {', '.join(bunch.view_names)}"],
    )
    return data


# ---------------------------------------------------------------------------------------------- .csv
def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def _delimiter(first_line: str) -> str:
    """Tab if the first line has one, else semicolon if it has one, else comma."""
    for d in ("\t", ";"):
        if d in first_line:
            return d
    return ","


def _read_csv(path: Path, label_column: str | None, header: str) -> DataFile:
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError(f"{path}: cannot read it as a text .csv file ({one_line(exc)})") from exc
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip()), None)
    if first is None:
        raise DataFileError(f"{path}: the file is empty")
    delim = _delimiter(first)
    rows: list[list[str]] = []
    line_no: list[int] = []
    try:
        reader = csv.reader(lines, delimiter=delim)
        for row in reader:
            row = [v.strip() for v in row]
            if any(row):
                rows.append(row)
                line_no.append(reader.line_num)
    except csv.Error as exc:
        raise DataFileError(f"{path}: not a valid .csv file ({one_line(exc)})") from exc
    width = len(rows[0])
    for row, ln in zip(rows, line_no, strict=True):
        if len(row) != width:
            raise DataFileError(f"{path}, line {ln}: {len(row)} fields where the first line has {width}")

    if header == "auto":
        has_header = len(rows) > 1 and any(not _is_number(a) and _is_number(b) for a, b in zip(rows[0], rows[1],
                                                                                               strict=True))
    else:
        has_header = header == "yes"
    names = rows[0] if has_header else None
    body, body_lines = (rows[1:], line_no[1:]) if has_header else (rows, line_no)
    if not body:
        raise DataFileError(f"{path}: no data rows" + (" below the header" if has_header else ""))

    label_idx = None if label_column is None else _column_index(label_column, names, width, path)
    feature_idx = [j for j in range(width) if j != label_idx]
    if not feature_idx:
        raise DataFileError(f"{path}: no feature columns besides the label column")
    cells = np.array(body, dtype=str)
    try:
        X = cells[:, feature_idx].astype(np.float64)
    except ValueError:
        for row, ln in zip(body, body_lines, strict=True):
            for j in feature_idx:
                if not _is_number(row[j]):
                    col = f"column {j}" + (f" ({names[j]!r})" if names else "")
                    what = "is empty" if not row[j] else f"{row[j]!r} is not a number"
                    raise DataFileError(
                        f"{path}, line {ln}, {col}: {what}; feature columns must be numeric"
                        + ("" if label_column is not None else " (name a label column with --label-column)")
                    ) from None
        raise  # pragma: no cover - every cell parsed one by one
    notes = ["header row" if has_header else "no header row"]
    if delim != ",":
        notes.append("tab-separated" if delim == "\t" else "semicolon-separated")
    data = DataFile(X, notes=notes)
    if label_idx is not None:
        data.y = cells[:, label_idx]
        data.labels_from = f"column {names[label_idx]!r}" if names else f"column {label_idx}"
    return data


def _column_index(spec: str, names: list[str] | None, width: int, path: Path) -> int:
    """The 0-based index of the column named ``spec`` in the header, or of index ``spec``."""
    if names is not None and spec in names:
        if names.count(spec) > 1:
            raise DataFileError(f"{path}: the header names column {spec!r} more than once")
        return names.index(spec)
    try:
        idx = int(spec)
    except ValueError:
        where = f"the header has {names}" if names is not None else "the file has no header row"
        raise DataFileError(f"{path}: no column {spec!r} for --label-column; {where}") from None
    if not -width <= idx < width:
        raise DataFileError(f"{path}: --label-column {idx} is out of range for {width} columns (0 to {width - 1})")
    return idx % width
