"""No ViZDoom engine outlives the Python that started it.

A child Python plays the way the notebooks do (an episode in a ``with make_env``
block, a population through a ``RolloutPool`` of worker processes), then opens
one more game and is killed with SIGKILL, as a Jupyter kernel shut down at once
is. The child runs with its own TMPDIR, which every engine it starts names on
its command line (the engine's .ini lives there), so we count only its engines.
"""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

CHILD = textwrap.dedent("""
    import numpy as np
    import torch
    from wmlib.agent.rollout import RolloutPool, agent_spec
    from wmlib.models import MDNRNN, ConvVAE
    from wmlib.models.controller import param_count
    from wmlib.worlds.envs import make_env

    with make_env("doom", max_steps=20) as game:          # notebook 04's way of playing an episode
        game.reset(seed=1)
        while not any(game.step(np.zeros(1, np.float32))[2:4]):
            pass
    torch.manual_seed(0)
    vae, m = ConvVAE(8), MDNRNN(8, 1, 16, done_head=True)
    spec = agent_spec("doom", "zh", vae, m, max_steps=10, lockstep=2)
    with RolloutPool(spec, "processes", workers=2) as pool:   # the trainers' way
        pool.run(np.zeros((2, param_count("doom", 8, 16))), 2, seed=0)
    print("closed", flush=True)
    left_open = make_env("doom", max_steps=20)              # a game nobody closes ...
    left_open.reset(seed=2)
    print("open", flush=True)
    input()                                                  # ... when the kernel is killed
""")


def engines(marker: str) -> list[int]:
    """PIDs of live processes whose command line names ``marker``."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmd and "vizdoom" in cmd and state != "Z":
            pids.append(int(proc.name))
    return pids


def wait_until_none(marker: str, seconds: float = 10.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := engines(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


@pytest.mark.slow
def test_no_engine_outlives_its_owner(tmp_path):
    marker = str(tmp_path / "scratch")
    os.makedirs(marker)
    env = dict(os.environ, TMPDIR=marker, SDL_VIDEODRIVER="dummy")
    child = subprocess.Popen([sys.executable, "-c", CHILD], env=env, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "closed"
        assert wait_until_none(marker) == [], "an engine outlived the with-block or the pool that opened it"
        assert child.stdout.readline().strip() == "open"
        assert len(engines(marker)) == 1
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        assert wait_until_none(marker) == [], "an engine outlived the process that started it"
    finally:
        if child.poll() is None:
            child.kill()
        for pid in engines(marker):  # never leave one behind, even when the test fails
            os.kill(pid, signal.SIGKILL)
