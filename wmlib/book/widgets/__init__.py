"""Interactive explorers for the notebooks (ipywidgets).

Each explorer is a small class that owns its widgets and exposes its state as
plain values (``.code``, ``.frame``, ...), so the logic is tested without a
browser: set a slider's ``.value`` (or ``.click()`` a button) and read the
frame back. In a notebook, put the object last in a cell (or call
``display(obj)``) to show it. Every explorer works on the models that ship with
the book (``wmlib.book.pretrained``) as well as on the reader's own.

The explainer's interactive figures and the authors' article, and what gives them
(one module per chapter; in the published book each is followed by an animation, ``book_frames``):

* bend the track: paint road or grass onto a real frame, or drag a bend; the frame is
  encoded and decoded live (01, ``vision.BendTheTrack``); moving the code itself along its
  principal directions: ``vision.LatentDirections``
* V's z sliders, randomise z, pick a frame (both worlds): ``vision.LatentExplorer`` (01)
* the temperature slider over one coordinate's mixture, tied to decoded next frames and a
  fireball count: ``memory.TemperatureExplorer(..., vae=...)`` (02)
* the loop diagram, animated step by step (reality or the dream): ``loop.AgentLoop`` (03)
* V-only and V+M drivers on the same track, side by side: ``loop.SideBySide`` (03)
* the dream, played with the keyboard (arrows or a/d, space for the autopilot) or by the
  trained C, with a tau slider and Play, Doom and CarRacing: ``dream.DreamPlayer`` (02, 04)
* the temperature table, one tau at a time, each tau's C playing: ``temperature.TauStepper`` (05)
* iterative training: round 0's and round 1's agents on the same real game: ``rounds.RoundsPlayer`` (06)
* M's surprise along a real game, a slider over its steps: ``curiosity.SurpriseTrace`` (08)
"""
from .base import figure_png, grid, to_png
from .vision import *  # noqa: F401,F403
from .memory import *  # noqa: F401,F403
from .dream import *  # noqa: F401,F403
from .loop import *  # noqa: F401,F403
from .temperature import *  # noqa: F401,F403
from .rounds import *  # noqa: F401,F403
from .curiosity import *  # noqa: F401,F403
