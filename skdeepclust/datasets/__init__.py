"""Data sets: fetchers for the benchmark data, research ``.mat`` multi-view files, digits as views, synthetic views.

The ``fetch_*`` functions download a benchmark data set once from its public source into a cache folder
(:func:`get_data_home`), check its SHA-256 every time it is read, and return it ready to cluster.
:func:`load_mat_views` reads the MATLAB layouts that multi-view clustering research passes around (views as
cell arrays or numbered keys, views stored transposed, labels under ``Y``/``gt``/``truth``/...). The other
helpers work offline.
"""

# the names marked F401 are not in __all__ but are imported from here by the command line and its data reader,
# the tests and the benchmarks
from ._base import (
    _REGISTRY,  # noqa: F401
    DATA_HOME_ENV,  # noqa: F401
    DATA_MIRROR_ENV,  # noqa: F401
    ChecksumMismatchError,
    DownloadError,
    get_data_home,
)
from ._fetchers import (
    _parse_idx,  # noqa: F401
    _to_idx,  # noqa: F401
    fetch_bdgp,
    fetch_coil20,
    fetch_hdigit,
    fetch_hw,
    fetch_mnist_test,
    fetch_mnist_usps,
    fetch_synthetic3d,
    fetch_usps,
)
from ._generators import load_digits_views, make_multiview_blobs
from ._mat import (
    _CELL_KEYS,  # noqa: F401
    _LABEL_KEYS,  # noqa: F401
    load_mat_views,
)

__all__ = [
    "ChecksumMismatchError",
    "DownloadError",
    "fetch_bdgp",
    "fetch_coil20",
    "fetch_hdigit",
    "fetch_hw",
    "fetch_mnist_test",
    "fetch_mnist_usps",
    "fetch_synthetic3d",
    "fetch_usps",
    "get_data_home",
    "load_digits_views",
    "load_mat_views",
    "make_multiview_blobs",
]
