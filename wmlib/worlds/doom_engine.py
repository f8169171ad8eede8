"""ViZDoom's engine as a child process that dies with its owner.

``DoomGame.init()`` starts the engine (the ``vizdoom`` executable) as a
separate process. ``close()`` ends it, but an owner that dies without closing
(killed with SIGKILL, out of memory, a segfault, a Jupyter kernel shut down
at once) leaves the engine running with parent 1, and it ignores SIGTERM.

On Linux we therefore start the engine through a three-line launcher that asks
the kernel to SIGKILL it when its parent goes (``PR_SET_PDEATHSIG``) and then
execs the real engine with the same arguments: the same binary, the same
game, the same frames. Elsewhere ViZDoom starts its engine itself.
"""
from __future__ import annotations

import hashlib
import os
import sys
import tempfile

__all__ = ["scratch_dir", "engine_path"]

_LAUNCHER = """#!{python} -S
import ctypes, os, sys
ctypes.CDLL(None).prctl(1, 9)  # PR_SET_PDEATHSIG = SIGKILL: die with the process that started us
if os.getppid() == 1:  # the owner died before the line above ran
    sys.exit(1)
os.execv({engine!r}, [{engine!r}] + sys.argv[1:])
"""


def scratch_dir() -> str:
    """A per-user temp folder for the engine's .ini and the launcher (not the working directory)."""
    path = os.path.join(tempfile.gettempdir(), f"wmlib-vizdoom-{os.getuid()}")
    os.makedirs(path, exist_ok=True)
    return path


def engine_path() -> str:
    """The executable ``DoomGame.set_vizdoom_path`` should start; "" keeps ViZDoom's own."""
    if not sys.platform.startswith("linux"):
        return ""
    import vizdoom

    engine = os.path.join(os.path.dirname(vizdoom.__file__), "vizdoom")
    text = _LAUNCHER.format(python=sys.executable, engine=engine)
    path = os.path.join(scratch_dir(), f"vizdoom-{hashlib.sha256(text.encode()).hexdigest()[:12]}")
    if not os.path.exists(path):  # written once per Python and engine; atomic, as workers race here
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path))
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.chmod(tmp, 0o755)
        os.replace(tmp, path)
    return path
