import os

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


@pytest.fixture
def artifacts(tmp_path, monkeypatch):
    """A private artifacts folder for one test."""
    root = tmp_path / "artifacts"
    monkeypatch.setenv("WM_ARTIFACTS", str(root))
    return root
