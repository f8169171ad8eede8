"""Rollout workers that misbehave, for the pool's tests (the library ships no such hooks).

The pool builds each worker's runner from the spec; a spec with ``crash=dict(seed, marker)`` handed
to ``RolloutPool(..., runner=CrashOnce)`` kills its worker process the first time the episode on
env seed ``seed`` comes up (the marker file remembers it was done, so the re-run task succeeds).
``Stall`` hangs in its task, for a parent killed while its workers play.
"""
import os
import time
from pathlib import Path

from wmlib.agent.episode import EpisodeRunner


class CrashOnce(EpisodeRunner):
    def run(self, params, seeds, **options):
        crash = self.spec["crash"]
        marker = Path(crash["marker"])
        if crash["seed"] in [int(s) for s in seeds] and not marker.exists():
            marker.touch()
            os._exit(13)  # no exception, no goodbye: what a segfault or an OOM kill looks like
        return super().run(params, seeds, **options)


class Stall(EpisodeRunner):
    """A worker stuck in a long task: writes its process id to ``spec["stall"]`` and sleeps."""

    def run(self, params, seeds, **options):
        Path(self.spec["stall"]).write_text(str(os.getpid()))
        time.sleep(300)
        return super().run(params, seeds, **options)
