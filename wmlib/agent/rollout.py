"""Real-world rollouts, by their old address: the episode loop and the worker pool.

``agent.episode`` plays episodes of the agent (several in lockstep) and
``agent.pool`` spreads a population's episodes over fault-tolerant workers;
this module hands both on, so ``from wmlib.agent.rollout import ...`` keeps working.
"""
from .episode import REAL_Z, EpisodeRunner, agent_spec, episode_rng, episode_seed, mean_encoder, spec_param_count
from .pool import BACKENDS, MAX_TASK_RETRIES, QUEUED, RolloutPool

__all__ = ["BACKENDS", "MAX_TASK_RETRIES", "QUEUED", "REAL_Z", "episode_seed", "episode_rng", "agent_spec",
           "spec_param_count", "mean_encoder", "EpisodeRunner", "RolloutPool"]
