"""V, M and C: pure ``nn.Module``s with no I/O (vae, mdnrnn, controller)."""
from .controller import Controller
from .mdnrnn import MDNRNN
from .vae import ConvVAE

__all__ = ["ConvVAE", "MDNRNN", "Controller"]
