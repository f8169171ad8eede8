"""V's explorers work without a browser: move a slider or paint on the frame, the picture changes."""
import numpy as np
import pytest
import torch

from wmlib.models.vae import ConvVAE, decode_codes, encode_frames
from wmlib.book.widgets import (CAR_COLOURS, BendTheTrack, LatentDirections, LatentExplorer, bend_rows, bend_weight,
                                most_active_dims, principal_directions, road_share, to_png)

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


def test_latent_directions_move_the_code_along_a_direction(vae, frames):
    bend = LatentDirections(vae, frames, strip=5)
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


def test_latent_directions_show_the_code_as_bars(vae, frames):
    bend = LatentDirections(vae, frames, strip=3)
    bars = bend.bars_image.value
    assert bars[:4] == b"\x89PNG" and bend.code.shape == (16,)
    np.testing.assert_allclose(bend.code, bend.mu[0])
    bend.amount.value = -2.0
    assert bend.bars_image.value != bars  # the bars follow the moved code
    np.testing.assert_allclose(bend.code, bend.code_at(-2.0))
    frames_ = bend.book_frames()
    assert len(frames_) == 2 * 3 - 2 and frames_[0].shape == (64, 64, 3) and frames_[0].dtype == np.uint8


# ----------------------------------------------------------------------------- bend the track: edit the frame

def car_like_frames(n=3):
    """Grass with a vertical grey road through the middle, as a 64x64 CarRacing frame is drawn."""
    frames = np.empty((n, 64, 64, 3), np.uint8)
    frames[:] = CAR_COLOURS["grass"]
    for i in range(n):
        frames[i, :, 24 + 2 * i:40 + 2 * i] = CAR_COLOURS["road"]
    return frames


def test_paint_changes_the_frame_its_code_and_the_decoding(vae):
    frames = car_like_frames()
    bend = BendTheTrack(vae, frames, start=1)
    assert bend.index.value == 1 and np.array_equal(bend.canvas, frames[1])
    np.testing.assert_allclose(bend.code, bend.original_code, atol=1e-5)
    before = dict(canvas=bend.canvas_image.value, bars=bend.bars_image.value, decoded=bend.decoded_image.value)
    code, decoded = bend.code, bend.decoded
    bend.paint(8, 10, "road", radius=4)                       # road on the grass, top left
    assert tuple(bend.canvas[10, 8]) == CAR_COLOURS["road"] and tuple(bend.canvas[10, 14]) == CAR_COLOURS["grass"]
    assert tuple(bend.canvas[10, 12]) == CAR_COLOURS["road"] and tuple(bend.canvas[10, 13]) == CAR_COLOURS["grass"]
    yy, xx = np.mgrid[0:64, 0:64]
    assert np.array_equal(np.any(bend.canvas != frames[1], -1), (yy - 10) ** 2 + (xx - 8) ** 2 <= 16)  # a disc
    assert not np.allclose(bend.code, code) and not np.array_equal(bend.decoded, decoded)
    assert bend.canvas_image.value != before["canvas"] and bend.decoded_image.value != before["decoded"]
    bend.paint(32, 32, "road", radius=30)                     # a big edit moves the code visibly: new bars
    assert bend.bars_image.value != before["bars"]
    bend.reset()
    bend.paint(32, 30, "grass", radius=2)                     # grass on the road
    assert tuple(bend.canvas[30, 32]) == CAR_COLOURS["grass"]
    bend.paint(50, 50, (255, 0, 0), radius=1)                 # any colour
    assert tuple(bend.canvas[50, 50]) == (255, 0, 0)
    bend.reset()
    assert np.array_equal(bend.canvas, frames[1]) and bend.canvas_image.value == before["canvas"]
    bend.index.value = 2                                      # another frame: its edits start afresh
    assert np.array_equal(bend.canvas, frames[2])


def test_the_mouse_paints_strokes_with_the_chosen_colour(vae):
    frames = car_like_frames()
    bend = BendTheTrack(vae, frames, scale=5)
    bend.tool.value, bend.radius.value = "road", 1
    s = bend.scale
    bend.on_mouse(dict(type="mousedown", dataX=4 * s, dataY=5 * s, buttons=1))
    bend.on_mouse(dict(type="mousemove", dataX=16 * s, dataY=5 * s, buttons=1))   # a drag: the line between
    assert all(tuple(bend.canvas[5, x]) == CAR_COLOURS["road"] for x in range(4, 17))
    bend.on_mouse(dict(type="mouseup", dataX=16 * s, dataY=5 * s, buttons=0))
    after_up = bend.canvas.copy()
    bend.on_mouse(dict(type="mousemove", dataX=4 * s, dataY=50 * s, buttons=0))    # moving without a button
    assert np.array_equal(bend.canvas, after_up)
    bend.tool.value = "grass"
    bend.on_mouse(dict(type="mousedown", offsetX=32 * s, offsetY=40 * s, buttons=1))  # offsetX works too
    assert tuple(bend.canvas[40, 32]) == CAR_COLOURS["grass"]


def test_bending_slides_the_rows_ahead_of_the_car(vae):
    frames = car_like_frames()
    assert bend_weight(0) == 1.0 and bend_weight(50) == 0.0 and bend_weight(63) == 0.0
    bent = bend_rows(frames[0], 10)
    assert np.array_equal(bent[50:], frames[0][50:])                       # the car's rows stay
    assert np.array_equal(bent[0, 10:], frames[0][0, :-10])                 # the top row moves the full amount
    assert np.array_equal(bent[0, :10], np.tile(CAR_COLOURS["grass"], (10, 1)))
    road = lambda img, y: np.flatnonzero((img[y] == CAR_COLOURS["road"]).all(-1))
    assert road(bent, 0)[0] == road(frames[0], 0)[0] + 10
    assert 0 < road(bent, 30)[0] - road(frames[0], 30)[0] < 10               # in between: a curve
    bend = BendTheTrack(vae, frames)
    code = bend.code
    bend.bend_amount.value = 10                                              # the slider
    assert np.array_equal(bend.canvas, bent) and not np.allclose(bend.code, code)
    bend.bend(-10)
    assert np.array_equal(bend.canvas, bend_rows(frames[0], -10)) and bend.bend_amount.value == -10
    bend.paint(2, 2, "road", radius=1)                                       # paint lands on the bent frame
    assert bend.bend_amount.value == 0 and tuple(bend.canvas[2, 2]) == CAR_COLOURS["road"]
    assert np.array_equal(bend.canvas[10], bend_rows(frames[0], -10)[10])


def test_dragging_with_the_bend_tool_pulls_the_road(vae):
    frames = car_like_frames()
    bend = BendTheTrack(vae, frames, scale=4)
    bend.tool.value = "bend"
    s = bend.scale
    bend.on_mouse(dict(type="mousedown", dataX=32 * s, dataY=0, buttons=1))      # grab the road at the top
    bend.on_mouse(dict(type="mousemove", dataX=40 * s, dataY=0, buttons=1))      # pull it 8 pixels right
    assert bend.bend_amount.value == 8 and np.array_equal(bend.canvas, bend_rows(frames[0], 8))
    bend.on_mouse(dict(type="mouseup", dataX=40 * s, dataY=0, buttons=0))
    bend.on_mouse(dict(type="mousedown", dataX=40 * s, dataY=0, buttons=1))      # a second drag adds to it
    bend.on_mouse(dict(type="mousemove", dataX=36 * s, dataY=0, buttons=1))
    assert bend.bend_amount.value == 4


def test_bend_the_track_opens_on_the_frame_with_most_road(vae):
    frames = car_like_frames()
    frames[2, :, 10:50] = CAR_COLOURS["road"]
    assert np.argmax(road_share(frames)) == 2 and road_share(frames)[0] == 0.25
    assert BendTheTrack(vae, frames).index.value == 2


def test_bend_the_track_animates_for_the_static_site(vae):
    bend = BendTheTrack(vae, car_like_frames())
    frames = bend.book_frames()
    assert len(frames) > 10 and all(f.shape == (64, 130, 3) and f.dtype == np.uint8 for f in frames)
    assert not np.array_equal(frames[0], frames[4])  # the bend shows
    assert bend.book_caption


def test_latent_explorer_animates_its_first_slider(vae, frames):
    mu, logvar = encode_frames(vae, frames)
    ex = LatentExplorer(vae, mu, logvar, n_sliders=3, start=1, frames=frames)
    code = ex.code
    anim = ex.book_frames(steps=5)
    assert len(anim) == 8 and anim[0].shape == (64, 130, 3)
    assert np.array_equal(anim[0][:, :64], frames[1])                # the real frame beside
    assert not np.array_equal(anim[0], anim[4])
    np.testing.assert_allclose(ex.code, code)                        # the widget itself untouched
