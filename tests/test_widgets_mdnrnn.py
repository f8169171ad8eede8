"""The temperature explorer: moving tau changes what is drawn, and the rare mode fades."""
import numpy as np

from wmlib.book.widgets import TemperatureExplorer, fireball_pixels, rare_mode_score, shows_fireball


def two_mode_prediction():
    """Dim 1 has a rare, far-away mode (weight 0.2); dims 0 and 2 are single bumps."""
    K = 3
    logpi = np.log(np.full((3, K), 1e-4))
    logpi[:, 0] = 0.0
    logpi[1] = np.log([0.8, 0.2, 1e-4])
    mu = np.zeros((3, K), np.float32)
    mu[1] = [-1.0, 2.0, 0.0]
    logsigma = np.full((3, K), np.log(0.3), np.float32)
    return logpi - np.log(np.exp(logpi).sum(-1, keepdims=True)), mu, logsigma


def test_rare_mode_score_finds_the_two_mode_dimension():
    score = rare_mode_score(*two_mode_prediction())
    assert np.argmax(score) == 1 and abs(score[1] - 0.2) < 1e-3 and score[0] < 1e-3


def test_sliding_tau_redraws_and_the_rare_mode_fades():
    ex = TemperatureExplorer(*two_mode_prediction())
    assert ex.dim.value == 1  # picked the dimension with a rare mode
    x = ex.x
    rare = np.argmin(np.abs(x - 2.0))
    before_img, before_density, before_w = ex.image.value, ex.density.copy(), ex.weights.copy()
    assert abs(before_w.max() - 0.8) < 1e-3
    ex.tau.value = 0.2
    assert bytes(ex.image.value) != bytes(before_img) and not np.allclose(ex.density, before_density)
    assert ex.weights[1] < 0.01 < before_w[1]  # 0.2 ** 5 / (0.8 ** 5 + 0.2 ** 5)
    assert ex.density[rare] < 0.05 * before_density[rare]
    area = ex.density.sum() * (x[1] - x[0])
    assert abs(area - 1) < 0.01  # still a density
    ex.tau.value = 2.0
    assert ex.weights[1] > before_w[1] and "tau = 2.00" in ex.caption.value
    img = ex.image.value
    ex.dim.value = 0
    assert bytes(ex.image.value) != bytes(img) and ex.weights.max() > 0.97  # tau = 2 still


def test_fireball_detector_ignores_the_torch_band_and_finds_a_blob():
    frames = np.full((3, 64, 64, 3), 90, np.uint8)
    frames[1, 30:34, 10:40] = (230, 200, 100)      # the wall's torches: same colour, their own rows
    frames[2, 40:46, 20:26] = (240, 210, 110)      # a fireball on its way
    assert list(fireball_pixels(frames)) == [0, 0, 36]
    assert list(shows_fireball(frames)) == [False, False, True]


def test_temperature_ties_to_decoded_frames_and_counts():
    import torch

    from wmlib.models.vae import ConvVAE

    torch.manual_seed(0)
    vae = ConvVAE(3).eval()
    detector = lambda frames: np.asarray(frames).mean((1, 2, 3)) > -1  # everything counts: checks plumbing
    ex = TemperatureExplorer(*two_mode_prediction(), vae=vae, samples=8, detector=detector, what="anything")
    assert ex.samples.shape == (8, 64, 64, 3) and ex.detected == 8
    assert "8 of 8" in ex.frames_caption.value and ex.frames_image.value[:4] == b"\x89PNG"
    codes_1 = ex.sample_codes(1.0)
    np.testing.assert_allclose(ex.sample_codes(1.0), codes_1)  # the same random numbers each time
    before = ex.frames_image.value
    ex.tau.value = 0.1
    assert ex.frames_image.value != before and "tau = 0.10" in ex.frames_caption.value
    low = ex.sample_codes(0.1)
    assert low[:, 1].std() < codes_1[:, 1].std()  # the cold dream: samples huddle together
    assert np.mean(np.abs(low[:, 1] - 2.0) < 0.6) <= np.mean(np.abs(codes_1[:, 1] - 2.0) < 0.6)


def test_the_rare_mode_dies_on_frames_with_the_shipped_models():
    """Shipped V and M: sampled next codes at tau, decoded; the far mode's share falls with tau."""
    import torch

    from wmlib.book.pretrained import load_shipped_vae

    vae = load_shipped_vae("doom")
    logpi, mu, logsigma = two_mode_prediction()
    z = 64
    lp = np.tile(logpi[1], (z, 1)).astype(np.float32)
    m = np.tile(mu[1], (z, 1)).astype(np.float32)
    ls = np.tile(logsigma[1], (z, 1)).astype(np.float32)
    far = lambda frames: np.ones(len(frames), bool)
    ex = TemperatureExplorer(lp, m, ls, vae=vae, samples=32, detector=far)
    share = {tau: np.mean(ex.sample_codes(tau) > 0.5) for tau in (2.0, 1.0, 0.3)}  # dims sampled from the rare mode
    assert share[2.0] > share[1.0] > share[0.3]
    assert ex.frames_at(1.0).shape == (32, 64, 64, 3)


def test_temperature_explorer_animates_the_dial_for_the_static_site():
    import torch

    from wmlib.models.vae import ConvVAE

    ex = TemperatureExplorer(*two_mode_prediction())
    frames = ex.book_frames(taus=(2.0, 1.0, 0.1))
    assert len(frames) == 4 and all(f.dtype == np.uint8 and f.shape == frames[0].shape for f in frames)
    assert not np.array_equal(frames[0], frames[2]) and ex.tau.value == 1.0  # the widget itself untouched
    torch.manual_seed(0)
    with_frames = TemperatureExplorer(*two_mode_prediction(), vae=ConvVAE(3).eval(), samples=8,
                                      detector=lambda f: np.zeros(len(f), bool)).book_frames(taus=(1.0, 0.5))
    assert with_frames[0].shape[0] > frames[0].shape[0] + 64  # the sampled frames under the plot
    assert with_frames[0].shape[2] == 3 and ex.book_caption
