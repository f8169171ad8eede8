"""wmlib: the training code behind the World Models textbook.

V (vae), M (mdnrnn), C (controller, evolution), the real worlds (envs, rollout)
and the dream (dream), sized by one profile (config).
"""
import os

# OpenMP threads that spin while waiting make torch 5-10x slower whenever another
# process shares the cores (rollout workers, a second notebook, a laptop's browser).
# Sleeping waiters cost little when the cores are free. Effective only when wmlib is
# imported before torch (as the command line does); set it in your shell otherwise.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .config import PROFILES, WORLDS, get_config  # noqa: E402
from .registry import register as _register  # noqa: E402

_register()  # gymnasium.make("wmlib/DoomTakeCover-v0"), "wmlib/CarRacing64-v0", "wmlib/Dream-v0"

__version__ = "0.1.0"
__all__ = ["get_config", "WORLDS", "PROFILES", "__version__"]
