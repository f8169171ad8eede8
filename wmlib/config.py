"""One config per world, three profiles (ci / laptop / paper).

Every size in the pipeline comes from here, so one knob (``WM_PROFILE`` or
``--profile``) scales the whole book: ``ci`` proves the code path in seconds,
``laptop`` (the default) gives real results on 2 CPU cores in minutes, and
``paper`` uses the paper's sizes for a GPU and many cores.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, from PyPI
    import tomli as tomllib

WORLDS = ("doom", "carracing")
PROFILES = ("ci", "laptop", "paper", "gpu")
DEFAULT_PROFILE = "laptop"


@dataclass(frozen=True)
class World:
    """What a world is, whatever the profile: every module reads these facts from here."""

    name: str
    action_size: int     # numbers C outputs and M reads per step
    c_reads_cell: bool   # C reads M's LSTM cell state c as well: [z, c, h] (Doom) instead of [z, h]
    c_bias: bool         # C's linear map has a bias
    episode_cap: int     # the paper's episode length limit, in steps
    fps: int             # the game's own frame rate (videos play at it)
    done_head: bool      # M predicts when the episode ends (and dreams can end)
    action_low: tuple    # the env's action range, per action
    action_high: tuple
    c_squash: tuple      # per action, how C's tanh output becomes the env's: "tanh" (as it is, -1..1),
                         # "half" ((a + 1) / 2, 0..1) or "clip" (clip(a, 0, 1))
    plays_levels: bool   # the game plays C's one continuous action as left / stay / right (thresholds +-1/3)
    random_play: str     # the random policy that collects V's and M's data: "hold" (a uniform action
                         # held 1..collect.hold_max steps) or "walk" (a smooth random walk of steering and gas)
    skill: int | None    # the game's default difficulty level; None: the world has no levels
    renderer: str | None  # the one renderer the world draws with; None: collect / evolution.renderer choose
    dream_trained: bool  # the paper trained C in M's dream (then iterative rounds), not in the real world
    buttons: tuple       # the dream player's controls: (name, action) pairs
    idle: str            # the button that steers nowhere (what a dream held still plays)
    place: str           # what an episode is played on, in captions
    score: str           # what a score counts, in captions


WORLD = {
    "doom": World("doom", action_size=1, c_reads_cell=True, c_bias=False, episode_cap=2100, fps=35, done_head=True,
                  action_low=(-1.0,), action_high=(1.0,), c_squash=("tanh",), plays_levels=True,
                  random_play="hold", skill=4, renderer="engine", dream_trained=True,
                  buttons=(("left", (-1.0,)), ("stay", (0.0,)), ("right", (1.0,))), idle="stay", place="game",
                  score="steps survived"),
    "carracing": World("carracing", action_size=3, c_reads_cell=False, c_bias=True, episode_cap=1000, fps=50,
                       done_head=False, action_low=(-1.0, 0.0, 0.0), action_high=(1.0, 1.0, 1.0),
                       c_squash=("tanh", "half", "clip"), plays_levels=False, random_play="walk", skill=None,
                       renderer=None, dream_trained=False,
                       buttons=(("left", (-1.0, 0.3, 0.0)), ("straight", (0.0, 0.5, 0.0)),
                                ("right", (1.0, 0.3, 0.0)), ("brake", (0.0, 0.0, 0.8))),
                       idle="straight", place="track", score="the track's return: tiles minus time"),
}


def world_info(name: str) -> World:
    """The description of world ``name`` (``doom`` or ``carracing``)."""
    return WORLD[check_world(name)]


@dataclass(frozen=True)
class CollectConfig:
    episodes: int = 200          # random-play episodes to record
    max_steps: int = 2100        # episode cap while collecting
    workers: int = 2             # collector processes
    shard_episodes: int = 10     # episodes per on-disk shard (the unit of resume)
    seed: int = 0
    baseline_episodes: int = 100  # random-policy baseline episodes (notebook 00)
    hold_max: int = 10           # Doom's random policy holds each action 1..hold_max steps (paper: 10)
    renderer: str = "fast"       # CarRacing's frames for V and M's data: "fast" (same pixels within
                                 # 0.1 / 255, ~5x the steps/s) or "gymnasium"; Doom has one renderer


@dataclass(frozen=True)
class VAEConfig:
    z_size: int = 64
    epochs: int = 10
    batch_size: int = 100
    lr: float = 1e-4
    kl_tolerance: float = 0.5    # KL floor = kl_tolerance * z_size on the total KL
    val_episodes: int = 10       # held-out episodes (the last ones) for validation
    max_frames_per_epoch: int = 0  # 0 = every frame each epoch
    encode_batch: int = 1000
    checkpoint_every: int = 1000  # steps between mid-epoch checkpoints (also one per epoch)
    log_every: int = 10          # steps averaged into one point of the loss curve
    seed: int = 0                # shuffling order and the sampling noise


@dataclass(frozen=True)
class MDNRNNConfig:
    hidden: int = 512
    n_mixtures: int = 5
    done_head: bool = True       # Doom predicts the restart/death flag
    done_pos_weight: float = 10.0
    seq_len: int = 500           # truncated-BPTT chunk (Doom) / max sequence (car)
    batch_size: int = 100
    epochs: int = 400
    lr: float = 1e-3
    lr_schedule: str = "constant"  # "constant" (the original's) or "cosine": lr decays to lr_min over the
    lr_min: float = 1e-5           # epochs asked for (a fine-tune's too); a lever for short CPU budgets
    grad_clip: float = 1.0
    val_episodes: int = 10
    batching: str = "stream"     # "stream": truncated BPTT through concatenated episodes (Doom);
                                 # "aligned": the same, each episode padded to whole chunks (faster on a CPU);
                                 # "windows": random-phase windows of seq_len cut from each episode (car);
                                 # "buckets": those windows batched by length, each batch cut to its longest
    seed: int = 0                # model init, episode order and the z re-sampling noise
    threads: int = 0             # CPU threads M trains on (0: torch's default, one per core); how fast, not
                                 # what: left out of M's stage key
    discrete_actions: bool = False  # Doom: M reads the action as the game plays it (-1 / 0 / +1),
                                 # not C's continuous output (which lets C find "-0.4 is safe" exploits)
    dropout: float = 0.0         # chance an LSTM output unit is zeroed before the heads, training only
                                 # (0: off; "Dropout's Dream Land" used 0.1 for Doom)
    reward_head: bool = False    # M also predicts each step's reward, so C can be trained in the car's dream
                                 # (experiments/recipes/carracing-dream.toml); off: the paper's M
    reward_pessimism: float = 1.0  # the reward head's squared error counts over-prediction this many times
                                 # (>= 1; 1: plain squared error, M predicts the mean reward)


@dataclass(frozen=True)
class EvolutionConfig:
    population: int = 64
    rollouts: int = 16           # episodes per candidate; fitness = mean return
    generations: int = 300
    sigma0: float = 0.1
    weight_decay: float = 0.01   # L2 penalty subtracted from fitness (penalises large weights;
                                 # 0.01 as in the original code, whose sign was flipped)
    max_steps: int = 2100        # episode cap during evolution
    workers: int = 2
    eval_every: int = 25         # generations between evaluations of the mean
    eval_episodes: int = 100
    seed: int = 0
    lockstep: int = 8            # episodes one rollout worker steps together (batched V/M/C)
    test_episodes: int = 100     # the final score: mean +- std over this many episodes (paper: 100)
    renderer: str = "fast"       # CarRacing frames while evolving: "fast" or "gymnasium"; every
                                 # reported score (evaluate, results, cards) uses "gymnasium"
    diagonal: bool = False       # separable CMA-ES (pycma's CMA_diagonal): a per-weight step size only,
                                 # learnt ~n/3 times faster than a full covariance in n dimensions
    same_episodes: bool = False  # every candidate of a generation plays the same episodes (common random
                                 # numbers): the same tracks or games in the real world, the same starts and
                                 # noise in M's dream, so candidates are ranked on their play, not their luck
    start: str = "zeros"         # where a new run of C in the real world starts: "zeros" (the paper), "v_only"
                                 # (V+M from this folder's V-only C, h's weights zero: it begins as the V-only
                                 # driver) or a controller file (.pt, as shipped or exported): a C reading z starts
                                 # V+M the same way, or a V-only run as it is; a C reading z and h starts V+M


@dataclass(frozen=True)
class DreamConfig:
    tau: float = 1.15
    max_steps: int = 2100
    done_threshold: float = 0.5  # done when sigmoid(done logit) > threshold
    taus: tuple = (0.10, 0.50, 1.00, 1.15, 1.30)
    real_episodes: int = 100     # real-game evaluation after dream training
    dream_episodes: int = 100
    done_rule: str = "threshold"  # how a dream ends: "threshold" | "sample" | "never" (wmlib.agent.dream)
    start_from: str = "first"    # dreams begin at a recorded "first" frame (the paper), or "anywhere" along the
    start_stride: int = 10       # recorded episodes (every stride-th step, M's state from the real steps before it)
    real_z: str = "mean"         # the real game feeds C V's "mean" code, or a "sample" mu + sigma * eps
                                 # (what the original code did, and what M and C saw in training)
    dropout: float = 0.0         # each dream its own M: this share of M's outputs zeroed before its heads, one
                                 # mask per dream episode ("Dropout's Dream Land"; with mdnrnn.dropout); 0: off
    input_scale: str = "none"    # "rms": CMA-ES searches C as if each input (z, M's c and h) were divided by its
                                 # RMS along the recorded games, so M's large cell state does not drown z and h;
                                 # "block": one RMS per block (z, c, h); "none": the paper's raw inputs. On five Ms
                                 # "rms" lifted one by ~300 real steps and sank two (history input_scale): off
    death_share: float = 0.0     # with start_from "anywhere": about this share of dreams begin within death_window
    death_window: int = 40       # recorded steps before a death of the last player recorded (round 0: random
                                 # play; round k: the rounds' Cs), so C is chosen on the moments that killed;
                                 # 0: every start equally likely. On three Ms it lost 42-212 real steps in
                                 # round 0 and tied after a round (history death_starts): off
    # CMA-ES inside the dream (train_in_dream); 0 = the same as cfg.evolution. Dreams are
    # cheap next to the real game, so a profile can afford a larger, less noisy population.
    population: int = 0
    rollouts: int = 0
    generations: int = 0


@dataclass(frozen=True)
class IterateConfig:
    """The paper's iterative training (``wmlib.iterate``): C's real games go back into M's data."""
    rounds: int = 0              # rounds after the first dream-trained C (0: the paper's single pass)
    episodes: int = 100          # real games the current C plays each round (M's new data)
    explore: tuple = (0.0, 0.03, 0.06, 0.1)  # per episode (cycled): chance per step of a random hold
    mdnrnn_epochs: int = 10      # M's fine-tuning epochs per round (random data + every round's games)
    generations: int = 20        # CMA-ES generations in each round's dream
    warm_start: bool = True      # each round's CMA-ES starts from the last round's C
    ensemble: str = "none"       # "min": a candidate's dream fitness is its worst over the Ms of rounds 0..k
                                 # (the rollouts split evenly): a cheat one M allows, another M punishes
    validation_games: int = 0    # real games (seeds of their own) that choose the round's C among its run's
                                 # deployed mean, final mean and best candidate; 0: the deployed mean
    validation_screen: int = 0   # > 0: every generation's best candidate joins them; all play this many
                                 # games first and the best few (FINALISTS) play on to validation_games
    restarts: int = 1            # CMA-ES runs per round, each with its own seed (the same start and dream);
                                 # the validation games choose among all their candidates
    keep_incumbent: bool = False  # the last round's C joins the candidates (``previous``, played with this
                                 # round's M): a round whose dream offers nothing better keeps what it had
    reproduce_rounds: int = -1   # rounds ``reproduce doom`` runs unless --rounds is given (-1: ``rounds``):
                                 # a profile whose rounds outlast its time budget stops the main job sooner
    explore_policy: str = "current"  # who plays a round's new games (``training.explore``): "current" (the last
                                 # round's C with ``explore``'s holds), "random" (collection's random play) or
                                 # "curious" (a search in the real game for M's surprise; its games are the data)
    curious_population: int = 10  # the curious search's candidates per generation, one game each: ``episodes``
                                 # / this = its generations
    seed: int = 0                # a round's own randomness (its games, M's fine-tuning order, its CMA-ES runs);
                                 # the validation and test games stay the same (0: as before the knob)
    death_share: float = 0.0     # > 0: the rounds' dreams (not round 0's) begin this share of the time just before
                                 # a death of the last round's C (dream.death_window steps; dream.death_share for
                                 # the rounds alone); 0: the rounds dream as round 0 does


@dataclass(frozen=True)
class Config:
    world: str
    profile: str
    action_size: int
    collect: CollectConfig = field(default_factory=CollectConfig)
    vae: VAEConfig = field(default_factory=VAEConfig)
    mdnrnn: MDNRNNConfig = field(default_factory=MDNRNNConfig)
    evolution: EvolutionConfig = field(default_factory=EvolutionConfig)
    dream: DreamConfig = field(default_factory=DreamConfig)
    iterate: IterateConfig = field(default_factory=IterateConfig)
    artifacts: str | None = None  # the output root; None: $WM_ARTIFACTS or ./artifacts (wmlib.paths)

    def __post_init__(self):  # checked once, here: whoever holds a Config holds a known world and profile
        check_world(self.world)
        check_profile(self.profile)

    def with_overrides(self, **sections) -> "Config":
        """``cfg.with_overrides(collect={"episodes": 3})`` -> a new Config."""
        changes = {}
        for name, values in sections.items():
            section = getattr(self, name)
            changes[name] = replace(section, **values) if isinstance(values, dict) else values
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# The paper's sizes per world; profiles below shrink them.
_PAPER = {
    "doom": dict(
        collect=dict(episodes=10_000, max_steps=2100, workers=16, shard_episodes=50),
        vae=dict(z_size=64, epochs=10, val_episodes=100),
        mdnrnn=dict(hidden=512, done_head=True, seq_len=500, batch_size=100, epochs=400, val_episodes=100),
        evolution=dict(population=64, rollouts=16, generations=300, max_steps=2100, workers=16),
        dream=dict(tau=1.15, max_steps=2100),
    ),
    "carracing": dict(
        collect=dict(episodes=10_000, max_steps=1000, workers=16, shard_episodes=4),
        vae=dict(z_size=32, epochs=1, val_episodes=100),
        mdnrnn=dict(hidden=256, done_head=False, seq_len=999, batch_size=100, epochs=20, val_episodes=100,
                    batching="windows"),
        evolution=dict(population=64, rollouts=16, generations=1800, max_steps=1000, workers=16),
        dream=dict(tau=1.0, max_steps=1000),
    ),
}

# What makes a dream-trained Doom C transfer at laptop scale (measured: README, "The dream transfers"):
# random holds long enough to reach the walls, M reading the action the game plays, deaths drawn
# from M's un-weighted probability, the real game feeding C a sampled code as the original did,
# and dreams that begin anywhere along the recorded games (with iterative training, C's own games).
_DOOM_TRANSFER = dict(collect=dict(hold_max=40), mdnrnn=dict(discrete_actions=True),
                      dream=dict(done_rule="sample", real_z="sample", start_from="anywhere"))

# How a round's C is made and chosen (README, "Which C?"): the worst M's dream, then real games.
_DOOM_ROUND = dict(ensemble="min", validation_games=20, validation_screen=5)

_LAPTOP = {
    "doom": dict(
        collect=dict(episodes=200, workers=2, shard_episodes=10, **_DOOM_TRANSFER["collect"]),
        vae=dict(epochs=3, val_episodes=10),
        # 8 random-phase windows of 100 steps per batch: per epoch ~7x the gradient steps of 32
        # streams at about the same transitions/s on 2 CPU cores (benchmarks/mdnrnn.py); the learning
        # rate decays (cosine, to 1e-5): 178.6 real steps at a constant rate (README "A decaying rate").
        # Epochs paid in the real game at every doubling (history m_epochs_gpu), and M's training run is a
        # draw (four 512-unit Ms of 160 epochs: round 0's C 497.6 to 788.5 over three CMA-ES seeds; history
        # round0_seeds). So M has 256 units (the paper's car M) on one thread: at this batch one thread
        # trains it 1.85x faster than two (idle Intel box; benchmarks/mdnrnn_threads.py): 270 epochs took 17.3 min on the Intel
        # box against 31.9 for the 512-unit M's 160, and on the same data and V its round-0 Cs lived 790.8
        # against 497.6 (three CMA-ES seeds; history round0_seeds; recipe doom-m512 is the M before)
        mdnrnn=dict(hidden=256, seq_len=100, batch_size=8, epochs=270, threads=1, batching="windows",
                    val_episodes=10, lr_schedule="cosine", **_DOOM_TRANSFER["mdnrnn"]),
        evolution=dict(population=16, rollouts=4, generations=20, workers=2, eval_every=10, eval_episodes=20),
        # 10 generations: round 0's C only has to find the dream's cheat for round 1's games to
        # expose (the fresh-clone run deployed its generation-9 mean out of 20: README "Under 45 minutes")
        dream=dict(population=32, rollouts=8, generations=10, **_DOOM_TRANSFER["dream"]),
        # one round of iterative training: C's own real games expose its cheat; the round's C is
        # judged by the worse of both Ms' dreams; each generation's best candidate plays 5 real
        # validation games, the best 3 play 20 and the best of those is the round's C (README "Which C?")
        # ``reproduce doom`` stops at round 0 to end within 45 minutes on 2 cores; ``--rounds 1`` adds one round
        # (80-epoch M: 669.9 -> 768.2 real, 36.5 -> 52.4 min from a fresh clone; history stages_w80)
        iterate=dict(rounds=1, episodes=100, mdnrnn_epochs=10, generations=20, reproduce_rounds=0, **_DOOM_ROUND),
    ),
    "carracing": dict(
        collect=dict(episodes=60, workers=2, shard_episodes=2),
        vae=dict(epochs=1, val_episodes=4),     # the paper's car V also saw its data once
        mdnrnn=dict(seq_len=200, batch_size=16, epochs=20, val_episodes=4),
        # Evolution draws the car with the fast renderer (~5.6x gymnasium's): a generation of 16
        # one-episode candidates takes ~45-70 s on one core, so 40 generations per mode fit the
        # 90-minute budget for both modes on 2 cores (the carracing-* recipes in experiments/recipes/).
        evolution=dict(population=16, rollouts=1, generations=40, workers=2, eval_every=5, eval_episodes=8),
        # The car in its own dream (only with M's reward head: experiments/recipes/carracing-dream.toml):
        # dreams are cheap next to real tracks, so 32 candidates x 8 dreams of 1,000 steps per generation
        dream=dict(population=32, rollouts=8, generations=40),
        # Iterative rounds of the car's dream (its recipe): C's own tracks show M where tiles pay
        iterate=dict(rounds=1, episodes=60, mdnrnn_epochs=10, generations=20),
    ),
}

_CI = {
    "doom": dict(
        collect=dict(episodes=4, max_steps=300, workers=2, shard_episodes=2, baseline_episodes=20,
                     **_DOOM_TRANSFER["collect"]),
        vae=dict(epochs=1, batch_size=32, val_episodes=1, max_frames_per_epoch=256, log_every=2),
        mdnrnn=dict(hidden=64, seq_len=32, batch_size=4, epochs=1, val_episodes=1, **_DOOM_TRANSFER["mdnrnn"]),
        evolution=dict(population=4, rollouts=1, generations=2, max_steps=100, workers=2,
                       eval_every=1, eval_episodes=2, test_episodes=2),
        dream=dict(max_steps=100, real_episodes=2, dream_episodes=4, **_DOOM_TRANSFER["dream"]),
        iterate=dict(rounds=1, episodes=3, mdnrnn_epochs=1, generations=2, ensemble="min", validation_games=2, validation_screen=1,
                     curious_population=3),
    ),
    "carracing": dict(
        collect=dict(episodes=2, max_steps=60, workers=2, shard_episodes=1, baseline_episodes=2),
        vae=dict(epochs=1, batch_size=32, val_episodes=1, max_frames_per_epoch=256, log_every=2),
        mdnrnn=dict(hidden=64, seq_len=32, batch_size=2, epochs=1, val_episodes=1),
        evolution=dict(population=4, rollouts=1, generations=2, max_steps=50, workers=2,
                       eval_every=1, eval_episodes=2, test_episodes=2),
        dream=dict(max_steps=50, real_episodes=2, dream_episodes=4),
        iterate=dict(rounds=1, episodes=2, mdnrnn_epochs=1, generations=2),
    ),
}

# One GPU machine and its CPU cores (issue: "one GPU, minutes"): the paper's data (10,000 random games) and
# M's size, the laptop's measured transfer levers, M trained on windows batched by length on the GPU, C
# evolved as one population of 64 x 16 dreams on the GPU, the real games on 16 worker processes. Its sizes
# are the paper's where a GPU makes them cheap and a guess of 15 minutes elsewhere (M's epochs, the dream's
# generations): not yet run on a GPU (benchmarks/gpu_reproduce.sh is the script that times it there).
_GPU = {
    "doom": dict(
        collect=dict(episodes=10_000, workers=16, shard_episodes=50, **_DOOM_TRANSFER["collect"]),
        vae=dict(epochs=1, batch_size=256, val_episodes=100, encode_batch=4096),
        mdnrnn=dict(seq_len=100, batch_size=128, epochs=20, batching="buckets", val_episodes=100,
                    lr_schedule="cosine", **_DOOM_TRANSFER["mdnrnn"]),
        evolution=dict(population=64, rollouts=16, generations=20, workers=16, eval_every=10, eval_episodes=64),
        dream=dict(population=64, rollouts=16, generations=30, **_DOOM_TRANSFER["dream"]),
        iterate=dict(rounds=1, episodes=1000, mdnrnn_epochs=3, generations=30, reproduce_rounds=1, **_DOOM_ROUND),
    ),
    "carracing": dict(
        collect=dict(episodes=10_000, workers=16, shard_episodes=4),
        vae=dict(epochs=1, batch_size=256, val_episodes=100, encode_batch=4096),
        mdnrnn=dict(seq_len=200, batch_size=128, epochs=20, batching="buckets", val_episodes=100),
        evolution=dict(population=64, rollouts=16, generations=100, workers=16, eval_every=10, eval_episodes=64),
        dream=dict(population=64, rollouts=16, generations=40),
    ),
}

_PROFILE_OVERRIDES = {"paper": {}, "laptop": _LAPTOP, "ci": _CI, "gpu": _GPU}


def check_world(world: str) -> str:
    if world not in WORLDS:
        raise ValueError(f"unknown world {world!r}: choose one of {', '.join(WORLDS)}")
    return world


def _parse_setting(raw: str, current, where: str):
    """A ``--set`` value as the type the field holds now."""
    if isinstance(current, bool):
        low = raw.strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"--set {where}={raw}: {where} is true or false")
    if isinstance(current, (tuple, list)):
        items = [x for x in raw.split(",") if x.strip()]
        kind = type(current[0]) if current else str
        return tuple(_parse_setting(x, kind(), where) if kind is not str else x.strip() for x in items)
    for kind in (int, float):
        if isinstance(current, kind):
            try:
                return kind(raw)
            except ValueError:
                raise ValueError(f"--set {where}={raw}: {where} is a number ({kind.__name__}), "
                                 f"like {current!r}") from None
    if current is None or isinstance(current, str):
        return raw
    raise ValueError(f"--set {where}: a {type(current).__name__} field cannot be set from the command line")


def apply_settings(cfg: "Config", settings) -> "Config":
    """``cfg`` with ``section.field=value`` settings applied (``--set`` on every command), each checked
    against the config's dataclasses: an unknown section or field, or a value of the wrong type, is a
    clear error naming what exists."""
    changes: dict[str, dict] = {}
    for item in settings or ():
        key, eq, raw = str(item).partition("=")
        section, dot, name = key.strip().partition(".")
        if not eq or not dot or not name:
            raise ValueError(f"--set {item!r}: write section.field=value, e.g. --set mdnrnn.epochs=160")
        sections = [f.name for f in dataclasses.fields(cfg) if dataclasses.is_dataclass(getattr(cfg, f.name))]
        if section not in sections:
            raise ValueError(f"--set {item!r}: no config section {section!r}; sections: {', '.join(sections)}")
        part = getattr(cfg, section)
        names = [f.name for f in dataclasses.fields(part)]
        if name not in names:
            raise ValueError(f"--set {item!r}: {section} has no field {name!r}; its fields: {', '.join(names)}")
        changes.setdefault(section, {})[name] = _parse_setting(raw, getattr(part, name), key.strip())
    return cfg.with_overrides(**changes) if changes else cfg


def recipe_settings(path) -> list[str]:
    """A recipe file as ``section.field=value`` settings for ``apply_settings`` (``--recipe`` on every command).

    The file is TOML, one table per config section, e.g. ``[mdnrnn]`` then ``dropout = 0.1``
    (``experiments/recipes/``). Fields are checked by ``apply_settings``, like ``--set``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no recipe file at {path}: pass the path of a .toml file "
                                "(e.g. experiments/recipes/doom-dropout.toml)")
    try:
        tables = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"recipe {path} is not valid TOML ({err}): write [section] then field = value") from None
    out = []
    for section, fields in tables.items():
        if not isinstance(fields, dict):
            raise ValueError(f"recipe {path}: {section!r} must be a [section] table holding fields, "
                             f"e.g. [mdnrnn] then dropout = 0.1")
        for name, value in fields.items():
            if isinstance(value, dict):
                raise ValueError(f"recipe {path}: [{section}.{name}] nests too deep; a recipe sets "
                                 "fields of a section: [section] then field = value")
            if isinstance(value, bool):
                value = str(value).lower()
            elif isinstance(value, list):
                value = ",".join(map(str, value))
            out.append(f"{section}.{name}={value}")
    return out


def apply_recipe(cfg: "Config", path) -> "Config":
    """``cfg`` with the recipe file at ``path`` applied; an unknown section or field names the file."""
    settings = recipe_settings(path)
    try:
        return apply_settings(cfg, settings)
    except ValueError as err:
        raise ValueError(f"recipe {path}: {str(err).replace('--set ', '')}") from None


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise ValueError(
            f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)} "
            "(set WM_PROFILE or pass --profile)")
    return profile


def current_profile(profile: str | None = None) -> str:
    """The profile asked for, else ``WM_PROFILE``, else ``laptop``."""
    return check_profile(profile or os.environ.get("WM_PROFILE") or DEFAULT_PROFILE)


def get_config(world: str, profile: str | None = None, artifacts: str | None = None) -> Config:
    """The config of ``world`` at ``profile``; ``artifacts``: its output root (see ``wmlib.paths``)."""
    world = check_world(world)
    profile = current_profile(profile)
    paper = _PAPER[world]
    cfg = Config(world=world, profile=profile, action_size=WORLD[world].action_size,
                 artifacts=None if artifacts is None else str(artifacts))
    cfg = cfg.with_overrides(**paper)
    return cfg.with_overrides(**_PROFILE_OVERRIDES[profile].get(world, {}))


__all__ = ["WORLDS", "PROFILES", "DEFAULT_PROFILE", "World", "WORLD", "world_info", "CollectConfig",
           "VAEConfig", "MDNRNNConfig", "EvolutionConfig", "DreamConfig", "Config", "check_world",
           "check_profile", "current_profile", "get_config", "apply_settings", "recipe_settings", "apply_recipe"]
