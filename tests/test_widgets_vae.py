"""V's explorers work without a browser: move a slider, the picture changes."""
import numpy as np
import pytest
import torch

from wmlib.models.vae import ConvVAE, decode_codes, encode_frames
from wmlib.book.widgets import BendTheTrack, LatentExplorer, most_active_dims, principal_directions, to_png

torch.set_num_threads(2)


@pytest.fixture(scope="module")
def vae():
    torch.manual_seed(0)
    return ConvVAE(16).eval()


@pytest.fixture(scope="module")
def frames():
    rng = np.random.default_rng(0)
    frames = np.zeros((6, 64, 64, 3), np.uint8)
    for i in range(6):  # coloured blocks at different places
        r, c = rng.integers(0, 48, 2)
        frames[i, r:r + 16, c:c + 16] = rng.integers(60, 255, 3)
    return frames


def test_most_active_dims_ranks_by_kl():
    mu = np.zeros((10, 5), np.float32)
    mu[:, 3] = 2.0  # far from the prior: large KL
    mu[:, 1] = 1.0
    assert list(most_active_dims(mu, np.zeros_like(mu), 2)) == [3, 1]


def test_principal_directions_are_scaled_to_one_std():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(500, 4)) * np.array([5.0, 1.0, 0.1, 0.1])
    d = principal_directions(codes, 2)
    first = d["principal direction 1"]
    assert abs(first[0]) == pytest.approx(5.0, rel=0.1) and np.abs(first[1:]).max() < 0.5


def test_latent_explorer_slider_changes_the_frame(vae, frames):
    mu, logvar = encode_frames(vae, frames)
    ex = LatentExplorer(vae, mu, logvar, n_sliders=4, start=2)
    assert len(ex.sliders) == 4 and ex.widget is not None
    np.testing.assert_allclose(ex.code, mu[2])
    before_frame, before_png = ex.frame, ex.image.value
    np.testing.assert_array_equal(before_frame, decode_codes(vae, mu[2:3])[0])
    ex.sliders[0].value = ex.sliders[0].max
    assert ex.code[ex.dims[0]] == pytest.approx(ex.sliders[0].max)
    assert not np.array_equal(ex.frame, before_frame)
    assert ex.image.value != before_png  # the displayed picture was redrawn
    ex.reset()
    np.testing.assert_array_equal(ex.frame, before_frame)
    assert ex.image.value == before_png


def test_bend_the_track_moves_the_code_along_a_direction(vae, frames):
    bend = BendTheTrack(vae, frames, strip=5)
    assert len(bend.directions) == 3 and bend.strip.shape == (5, 64, 64, 3)
    real_png, moved = bend.real_image.value, bend.frame
    bend.amount.value = 2.5
    assert not np.array_equal(bend.frame, moved)
    np.testing.assert_allclose(bend.code_at(2.5) - bend.code_at(0.0),
                               2.5 * bend.directions[bend.direction.value], rtol=1e-5, atol=1e-6)
    bend.index.value = 4
    assert bend.real_image.value != real_png
    assert bend.real_image.value == to_png(frames[4], bend.scale)


def test_latent_explorer_picks_frames_and_randomises_the_code(vae, frames):
    mu, logvar = encode_frames(vae, frames)
    ex = LatentExplorer(vae, mu, logvar, n_sliders=4, start=0, frames=frames)
    assert ex.real_image.value == to_png(frames[0], ex.scale)
    ex.picker.value = 3                      # the frame picker: another real frame's code
    np.testing.assert_allclose(ex.code, mu[3])
    assert ex.real_image.value == to_png(frames[3], ex.scale) and "frame 3" in ex.source.value
    picked = ex.image.value
    ex.random_button.click()                 # a code from the prior, in every dimension
    assert not np.allclose(ex.code, mu[3]) and ex.image.value != picked and "N(0, I)" in ex.source.value
    other = [d for d in range(mu.shape[1]) if d not in ex.dims]
    assert not np.allclose(ex.code[other], mu[3][other])  # not only the slider dimensions
    random_code = ex.code
    ex.random_button.click()
    assert not np.allclose(ex.code, random_code)
    ex.sliders[1].value = ex.sliders[1].min
    ex.reset()                               # back to the random code drawn last
    ex.picker.value = 1
    np.testing.assert_allclose(ex.code, mu[1])
    ex.sliders[0].value = ex.sliders[0].max
    ex.reset()
    np.testing.assert_allclose(ex.code, mu[1])


def test_bend_the_track_shows_the_code_as_bars(vae, frames):
    bend = BendTheTrack(vae, frames, strip=3)
    bars = bend.bars_image.value
    assert bars[:4] == b"\x89PNG" and bend.code.shape == (16,)
    np.testing.assert_allclose(bend.code, bend.mu[0])
    bend.amount.value = -2.0
    assert bend.bars_image.value != bars  # the bars follow the moved code
    np.testing.assert_allclose(bend.code, bend.code_at(-2.0))
