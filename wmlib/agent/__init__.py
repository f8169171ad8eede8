"""The agent acting: in the real worlds (rollout), in M's dream (dream), and evolved (evolution)."""
from .dream import DreamEnv
from .evolution import evolve
from .rollout import EpisodeRunner, RolloutPool

__all__ = ["EpisodeRunner", "RolloutPool", "DreamEnv", "evolve"]
