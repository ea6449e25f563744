"""skdeepclust: deep clustering methods as scikit-learn estimators, trained with PyTorch."""

from .distilmvc import DistilMVC
from .hadis import HaDis
from .mtdc import MTDC
from .multiview import ViewScaler, stack_views
from .secu import SeCu
from .spc import SPC

__version__ = "0.1.0.dev0"

__all__ = ["MTDC", "DistilMVC", "HaDis", "SPC", "SeCu", "ViewScaler", "__version__", "stack_views"]
