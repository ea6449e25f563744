"""skdeepclust: deep clustering methods as scikit-learn estimators, trained with PyTorch."""

from .distilmvc import DistilMVC
from .hadis import HaDis
from .multiview import ViewScaler, stack_views

__version__ = "0.1.0.dev0"

__all__ = ["DistilMVC", "HaDis", "ViewScaler", "__version__", "stack_views"]
