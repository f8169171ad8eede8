"""Training V, M and C (in the real world or in the dream), and the whole pipeline."""
from .controller import evaluate_controller, train_controller
from .dream import evaluate_in_reality, train_in_dream
from .mdnrnn import load_mdnrnn, train_mdnrnn
from .pipeline import reproduce
from .vae import encode_dataset, load_vae, train_vae

__all__ = ["train_vae", "load_vae", "encode_dataset", "train_mdnrnn", "load_mdnrnn",
           "train_controller", "evaluate_controller", "train_in_dream", "evaluate_in_reality",
           "reproduce"]
