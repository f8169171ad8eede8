"""wmlib: the training code behind the World Models textbook.

V (vae), M (mdnrnn), C (controller, evolution), the real worlds (envs, rollout)
and the dream (dream), sized by one profile (config).
"""
from .config import PROFILES, WORLDS, get_config

__version__ = "0.1.0"
__all__ = ["get_config", "WORLDS", "PROFILES", "__version__"]
