"""ugc_lib: a replication of Unsupervised Gradient Clustering (UGC)."""

from .version import __version__  # noqa: E402
from .config import PAPER_CODE, PAPER_TEXT, PRESETS, RunConfig, get_preset  # noqa: E402
from .runner import run, sweep, to_frame  # noqa: E402
from .estimators import GradientGroups, UGCClassifier  # noqa: E402
from .group_report import group_report  # noqa: E402

__all__ = ["PAPER_CODE", "PAPER_TEXT", "PRESETS", "RunConfig", "get_preset", "run", "sweep",
           "to_frame", "GradientGroups", "UGCClassifier", "group_report", "__version__"]
