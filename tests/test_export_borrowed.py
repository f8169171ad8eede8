"""Exporting Cs evolved on the shipped V and M: the same V and M ship again, the new C and its record beside them."""
import shutil

import numpy as np
import pytest
import torch

from wmlib import paths
from wmlib.agent.evolution import evolve
from wmlib.artifacts import file_sha256, read_json, write_json
from wmlib.book import export, pretrained, recorded, shipped_files
from wmlib.config import get_config
from wmlib.models.controller import param_count
from wmlib.models.mdnrnn import MDNRNN
from wmlib.models.vae import ConvVAE
from wmlib.training.controller import controller_params

SHIPPED_DATA = dict(episodes=60, frames=58532, policy="random play: as the shipped run played it")


def ship(root, cfg):
    """Shipped car models at the ci sizes, with a mirror holding V's log and an old C's record."""
    torch.manual_seed(0)
    z, hidden = cfg.vae.z_size, cfg.mdnrnn.hidden
    vae, m = ConvVAE(z), MDNRNN(z, 3, hidden, cfg.mdnrnn.n_mixtures)
    params = np.zeros(param_count("carracing", z, hidden, "zh"))
    first_mu, first_logvar = np.full((3, z), 0.5, np.float32), np.full((3, z), -2.0, np.float32)
    card = dict(world="carracing", profile="laptop", exported="before", controller="old", tau=None, data=SHIPPED_DATA)
    export.write_shipped(pretrained.shipped_dir("carracing", root), vae, m, params, first_mu, first_logvar, card)
    mirror = recorded.shipped_run_dir("carracing", root) / recorded.SHIPPED_PROFILE
    write_json(mirror / "vae" / "log.json", {"epochs": 3})
    write_json(mirror / "controller-zh" / "old.json", {"old": True})
    return first_mu


def borrow(cfg, shipped_root):
    """Copy the shipped V and M into ``cfg``'s run, as experiments/car_from_v_only.py --shipped does."""
    for own, part in ((paths.vae_file(cfg), "vae"), (paths.mdnrnn_file(cfg), "mdnrnn")):
        paths.ready(own.parent)
        shutil.copyfile(pretrained.shipped_file(pretrained.shipped_dir("carracing", shipped_root), part), own)


def evolved(cfg, mode):
    """A two-generation C run in ``mode``'s folder (fitness: a fixed quadratic), warm-started like the car's."""
    n = param_count("carracing", cfg.vae.z_size, cfg.mdnrnn.hidden, mode)
    ev = cfg.evolution.__class__(population=4, rollouts=1, generations=2, sigma0=0.02, eval_every=100,
                                 start="wmlib/pretrained/carracing/controllers/z.pt")
    target = np.linspace(-1, 1, n)
    evolve(ev, n, lambda sol, g, seed: -((sol - target) ** 2).sum(1, keepdims=True), paths.controller_dir(cfg, mode),
           progress=False, evaluate_mean_fn=None)
    write_json(paths.controller_dir(cfg, mode) / paths.RUN, {"start": "file:09cbebea35a32dc4"})
    write_json(paths.controller_dir(cfg, mode) / "test-deployed-100.json", {"mean": 868.1})
    return controller_params(cfg, mode)


def test_cs_on_the_shipped_v_and_m_ship_beside_them_unchanged(tmp_path):
    shipped_root, cfg = tmp_path / "shipped", get_config("carracing", "ci", str(tmp_path / "artifacts"))
    first_mu = ship(shipped_root, cfg)
    out = pretrained.shipped_dir("carracing", shipped_root)
    before = {part: file_sha256(pretrained.shipped_file(out, part)) for part in ("vae", "mdnrnn", "controller")}
    borrow(cfg, shipped_root)
    zh, z = evolved(cfg, "zh"), evolved(cfg, "z")
    assert shipped_files.borrowed_starts(cfg, out) is not None

    export.export_pretrained("carracing", cfg=cfg, root=shipped_root)

    after = {part: file_sha256(pretrained.shipped_file(out, part)) for part in before}
    assert after["vae"] == before["vae"] and after["mdnrnn"] == before["mdnrnn"]  # V and M byte for byte
    assert after["controller"] != before["controller"]
    np.testing.assert_allclose(pretrained.load_shipped_controller_params("carracing", shipped_root), zh, atol=1e-2)
    np.testing.assert_allclose(recorded.load_controller("carracing", "z", shipped_root)["params"], z, atol=1e-2)
    _, mu, _ = recorded.load_mdnrnn("carracing", "mdnrnn", root=shipped_root)
    np.testing.assert_array_equal(mu, first_mu)  # dreams still start from the shipped first frames
    card = read_json(out / "card.json")
    assert card["data"] == SHIPPED_DATA and card["scores"] == {}  # the new C is scored by evaluate-shipped
    assert card["borrowed"] and "V and M: the ci pipeline" in (out / "MODEL_CARD.md").read_text()
    assert "started from a C from a file (parameters' sha256 09cbebea35a32dc4...) with sigma0 0.02" in card["controller"]
    mirror = recorded.shipped_run_dir("carracing", shipped_root) / recorded.SHIPPED_PROFILE
    assert read_json(mirror / "vae" / "log.json") == {"epochs": 3}  # V's record stays: V did not change
    assert not (mirror / "controller-zh" / "old.json").exists()  # C's record is this run's alone
    assert read_json(mirror / "controller-zh" / "test-deployed-100.json") == {"mean": 868.1}


def test_a_run_with_other_v_and_m_and_no_series_names_both_fixes(tmp_path):
    shipped_root, cfg = tmp_path / "shipped", get_config("carracing", "ci", str(tmp_path / "artifacts"))
    ship(shipped_root, cfg)
    borrow(cfg, shipped_root)
    evolved(cfg, "zh")
    m = MDNRNN(cfg.vae.z_size, 3, cfg.mdnrnn.hidden, cfg.mdnrnn.n_mixtures)  # another M: not borrowed any more
    torch.save({"model": m.state_dict()}, paths.mdnrnn_file(cfg))
    card = (pretrained.shipped_dir("carracing", shipped_root) / "card.json").read_bytes()
    with pytest.raises(FileNotFoundError, match=r"no encoded series.*wmlib encode carracing.*copied unchanged"):
        export.export_pretrained("carracing", cfg=cfg, root=shipped_root)
    assert (pretrained.shipped_dir("carracing", shipped_root) / "card.json").read_bytes() == card  # nothing lost
