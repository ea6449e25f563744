"""skdeepclust: deep clustering methods as scikit-learn estimators, trained with PyTorch."""

from .distilmvc import DistilMVC
from .hadis import HaDis
from .mtdc import MTDC
from .multiview import ViewScaler, stack_views
from .n_clusters import estimate_n_clusters
from .secu import SeCu
from .spc import SPC

__version__ = "0.1.0.dev0"

__all__ = [
    "MTDC", "DistilMVC", "HaDis", "SPC", "SeCu", "ViewScaler", "__version__", "estimate_n_clusters", "stack_views",
]
