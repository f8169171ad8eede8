"""The agent acting: its loops written plainly (loop), real-game episodes (episode) on a pool of
workers (pool), M's dream (dream), CMA-ES (evolution), and M's surprise along a game (curiosity)."""
from .dream import DreamEnv
from .episode import EpisodeRunner
from .evolution import evolve
from .pool import RolloutPool

__all__ = ["EpisodeRunner", "RolloutPool", "DreamEnv", "evolve"]
