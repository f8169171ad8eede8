"""The README's picture: the agent's loop around one real Doom frame, its code z and M's memory h.

    python experiments/readme_figure.py            # -> figures/agent_loop.png

Plays the shipped Doom agent (V, M, C) for 60 steps of one real game and draws the loop at the last
step with ``wmlib.book.plots.agent_loop_figure``.
"""
from __future__ import annotations

from pathlib import Path

from wmlib import paper
from wmlib.book.plots import agent_loop_figure
from wmlib.book.pretrained import load_shipped_controller_params, load_shipped_mdnrnn, load_shipped_vae
from wmlib.book.widgets import record_loop
from wmlib.worlds.envs import make_env

OUT = Path(__file__).resolve().parents[1] / "figures" / "agent_loop.png"


def main(steps: int = 60) -> Path:
    vae, m = load_shipped_vae("doom"), load_shipped_mdnrnn("doom")
    with make_env("doom") as env:
        trace = record_loop(vae, m, load_shipped_controller_params("doom"), steps, env=env, seed=3)
    t = len(trace["z"]) - 1
    counts = paper.PARAMS["doom"]
    agent_loop_figure(frame=trace["frames"][t], z=trace["z"][t], h=trace["h"][t], action=trace["actions"][t],
                      world="doom", step=t, params=dict(V=counts["vae"], M=counts["mdnrnn"], C=counts["controller"]),
                      path=OUT)
    print(OUT)
    return OUT


if __name__ == "__main__":
    main()
