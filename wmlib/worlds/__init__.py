"""The real worlds: environments, random policies, recorded data, the random baseline."""
from .baseline import random_baseline
from .data import collect, load_dataset, summarize
from .envs import make_env

__all__ = ["make_env", "collect", "load_dataset", "summarize", "random_baseline"]
