"""M's surprise along a game (SurpriseTrace): the slider moves the frame, the marker and the readout."""
import numpy as np
import pytest

from wmlib.book.widgets import SurpriseTrace


def scored_game(steps=12, done_head=True):
    """A fake ``played_surprise`` result: frame t is shade 10 t, the surprise peaks at step 5."""
    frames = np.stack([np.full((64, 64, 3), 10 * t, np.uint8) for t in range(steps + 1)])
    z = np.linspace(1.0, 2.0, steps)
    z[-1] = np.nan
    done = np.zeros(steps)
    if done_head:
        done[-1] = 4.0
    surprise = np.nan_to_num(z) + done
    surprise[5] += 10.0
    return dict(frames=frames, surprise=surprise, z=z, done=done, steps=steps, died=done_head,
                actions=np.linspace(-1, 1, steps).reshape(-1, 1).astype(np.float32),
                done_prob=np.full(steps, 0.25) if done_head else None)


def test_the_slider_moves_the_frame_the_marker_and_the_readout():
    trace = SurpriseTrace(scored_game(), label="a test game")
    assert trace.t == 0 and trace.slider.max == trace.play.max == 11
    first_frame, first_curve = bytes(trace.image.value), bytes(trace.curve.value)
    assert first_frame[:4] == first_curve[:4] == b"\x89PNG"
    assert "step 0 of 12: left" in trace.status.value and "death belief 0.25" in trace.status.value
    trace.slider.value = 5
    assert trace.surprise == pytest.approx(11.0 + 1.0 / 11 * 5)  # the peak: 10 nats over the code's NLL
    assert bytes(trace.image.value) != first_frame and bytes(trace.curve.value) != first_curve
    assert (trace.frame() == 50).all()
    trace.slider.value = 11
    assert "no next code" in trace.status.value and "ended here (a death)" in trace.status.value
    assert "done head 4.00" in trace.status.value


def test_a_world_without_a_done_head_and_the_site_animation():
    trace = SurpriseTrace(scored_game(done_head=False))
    trace.slider.value = 11
    assert "death belief" not in trace.status.value and "(the cap)" in trace.status.value
    frames = trace.book_frames(n=4)
    assert len(frames) == 4 and frames[0].dtype == np.uint8 and frames[0].shape == frames[-1].shape
    assert frames[0].shape[1] > 128  # the frame (64 x 2) and the curve beside it


def test_an_unscored_game_is_refused_with_the_fix():
    game = scored_game()
    game["surprise"] = game["surprise"][:-2]
    with pytest.raises(ValueError, match="played_surprise"):
        SurpriseTrace(game)
