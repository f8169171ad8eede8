"""Interactive explorers for the notebooks (ipywidgets).

Each explorer is a small class that owns its widgets and exposes its state as
plain values (``.code``, ``.frame``, ...), so the logic is tested without a
browser: set a slider's ``.value`` (or ``.click()`` a button) and read the
frame back. In a notebook, put the object last in a cell (or call
``display(obj)``) to show it. Every explorer works on the models that ship with
the book (``wmlib.book.pretrained``) as well as on the reader's own.

The explainer's interactive figures and the authors' article, and what gives them:

* bend the track (a frame, its code as bars, the decoding): ``BendTheTrack``
* V's z sliders, randomise z, pick a frame (both worlds): ``LatentExplorer``
* the temperature slider over one coordinate's mixture, tied to decoded
  next frames and a fireball count: ``TemperatureExplorer(..., vae=...)``
* the loop diagram, animated (reality or the dream): ``AgentLoop``
* the dream, played by hand or by the trained C with a tau slider and Play,
  Doom and CarRacing: ``DreamPlayer``
"""
from .base import figure_png, grid, to_png
from .vision import *  # noqa: F401,F403
from .memory import *  # noqa: F401,F403
from .dream import *  # noqa: F401,F403
from .loop import *  # noqa: F401,F403
from .temperature import *  # noqa: F401,F403
from .rounds import *  # noqa: F401,F403
