import os

import pytest
import torch

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


@pytest.fixture
def artifacts(tmp_path, monkeypatch):
    """A private artifacts folder for one test."""
    root = tmp_path / "artifacts"
    monkeypatch.setenv("WM_ARTIFACTS", str(root))
    return root


@pytest.fixture
def one_torch_thread():
    """Reference loops run in the test process: keep them from fighting worker processes for cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
