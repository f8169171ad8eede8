"""How large is each of C's inputs along the recorded games? Why ``dream.input_scale`` exists.

Doom's C reads [z, c, h]: V's code, M's cell state and M's hidden state. Steps M over every
recorded game of an artifacts root (the state C reads at each step, as ``dream.input_scale``
measures it) and prints, per block, the mean norm of the block and the spread of its units' RMS,
then the per-parameter scale ``rms`` and ``block`` would give CMA-ES.

    python experiments/doom_input_norms.py --artifacts artifacts
    python experiments/doom_input_norms.py --artifacts artifacts-dropout --set mdnrnn.dropout=0.1

``--artifacts``: a finished Doom root (data, series and M); it only reads it. On the default's fresh clone
(M b) the mean norms were z 3.8, c 158.1, h 5.0 over 73,928 steps (history: input_scale).
"""
from __future__ import annotations

import argparse

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--artifacts", required=True, help="a Doom artifacts root with data, series and M")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                    help="the settings the root was built with, when not the laptop profile's (as on its commands)")
    args = ap.parse_args()

    from wmlib.config import apply_settings, get_config
    from wmlib.models.controller import block_rms, input_rms
    from wmlib.training.dream import recorded_starts, steps_input_rms
    from wmlib.training.mdnrnn import Transitions, load_mdnrnn
    from wmlib.training.series import load_series

    cfg = apply_settings(get_config("doom", "laptop", args.artifacts), args.set)
    m, data = load_mdnrnn(cfg), Transitions(load_series(cfg))
    mu, logvar, (h, c, _) = recorded_starts(m, data, 1)  # M stepped over the records once
    print(f"{args.artifacts}: {len(mu)} recorded steps")
    for name, x in (("z (V's mean)", mu), ("c (M's cell)", c), ("h (M's hidden)", h)):
        unit = input_rms(np.mean(np.square(x.astype(np.float64)), axis=0), floor=0.0)
        print(f"  {name:15s} mean norm {np.linalg.norm(x, axis=1).mean():7.1f}; units' RMS from {unit.min():.2f} "
              f"to {unit.max():.2f} (median {np.median(unit):.2f})")
    rms = steps_input_rms("doom", mu, logvar, h, c)
    blocks = block_rms(rms, "doom", m.z_size, m.hidden)
    print(f"  'rms' divides each input by {rms.min():.2f} to {rms.max():.1f}; 'block' divides z, c, h by "
          f"{blocks[0]:.2f}, {blocks[m.z_size]:.2f}, {blocks[-1]:.2f}")


if __name__ == "__main__":
    main()
