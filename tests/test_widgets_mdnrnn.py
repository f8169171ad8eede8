"""The temperature explorer: moving tau changes what is drawn, and the rare mode fades."""
import numpy as np

from wmlib.book.widgets import TemperatureExplorer, rare_mode_score


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
