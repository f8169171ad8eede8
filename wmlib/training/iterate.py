"""The paper's iterative training procedure: let C's own real games correct M's dream.

A C evolved in M's dream finds whatever M gets wrong: at laptop scale it holds
"left", which random play never did for long, so M never saw where it ends (the
wall, and a fireball there). The paper's remedy (section "Iterative Training
Procedure"), round by round:

1. play the current C in the real game, with some exploration (per episode a
   chance each step of a random 1-10 step hold), and keep those episodes
   (``iterate.explore_policy``: or random play, or a curious search for M's
   surprise: ``training.explore``);
2. encode them with V and fine-tune M on the random data plus every round's
   episodes (M resumes its weights and optimiser);
3. evolve C again in the corrected dream (CMA-ES, warm-started from the last C);
4. score it: real games (the number the book reports) and dreams.

Round 0 is the ordinary pipeline (``train_in_dream``). Everything lives under
``<world>/<profile>/iterate/``: ``data/`` (the rounds' real episodes as shards),
``series/`` (their codes), ``round-K/`` (``mdnrnn.pt``, the evolution
checkpoint, ``round.json``) and ``rounds.json`` (the table). Every step is
get-or-build, so a killed run resumes at the step it was in.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from .. import paths
from ..artifacts import file_sha256, load_checkpoint, read_json, save_checkpoint, write_json
from ..config import Config
from ..models.mdnrnn import action_shares  # noqa: F401  (notebook 06 reads it here)
from .dream import real_spec
from . import stages
from .explore import (ROUND_EPISODE_BASE, Previous, check_explore, curious_summary, explore_fields, play_round,
                      round_games)
from .stages import Stage, cached, data_stage, note

DATA_SEED = 77_000               # real-game seeds of the rounds' data (the test uses TEST_SEED)
ENSEMBLES = ("none", "min")      # iterate.ensemble: round k's M alone, or the worst of rounds 0..k's Ms
VALIDATION_SEED = 31_000         # real games that choose among a round's Cs (never the test's or the data's)
FINALISTS = 3                    # with iterate.validation_screen: candidates that play every validation game
RESTART_SEED = 100               # CMA-ES seed of a round's run r: the round's seed + r * RESTART_SEED
SEED_STRIDE = 10_000             # iterate.seed s shifts a round's own seeds by s * SEED_STRIDE


def data_seed(cfg: Config, k: int) -> int:
    """The base seed of round k's new real games (and of a curious search's CMA-ES)."""
    return DATA_SEED + k + SEED_STRIDE * cfg.iterate.seed


def run_seed(cfg: Config, k: int, r: int = 0) -> int:
    """The CMA-ES seed of run r of round k (run 0 of seed 0: the round's own seed, as before restarts)."""
    return cfg.evolution.seed + k + RESTART_SEED * r + SEED_STRIDE * cfg.iterate.seed


def check_iterate(cfg: Config) -> None:
    from .dream import check_dream_world

    check_dream_world(cfg)
    it = cfg.iterate
    for name in ("episodes", "mdnrnn_epochs", "generations"):
        if getattr(it, name) < 1:
            raise ValueError(f"iterate.{name} must be at least 1 (got {getattr(it, name)}): fix the profile")
    if it.ensemble not in ENSEMBLES:
        raise ValueError(f"iterate.ensemble={it.ensemble!r} is not one of {', '.join(ENSEMBLES)}: fix the profile")
    if not 0 <= it.validation_screen <= it.validation_games:
        raise ValueError(f"iterate.validation_screen must be 0 (no screening) or a number of real games up to "
                         f"iterate.validation_games={it.validation_games} (got {it.validation_screen}): fix the profile")
    if it.validation_games < 0:
        raise ValueError(f"iterate.validation_games must be 0 (deploy the run's best-evaluated mean) or a "
                         f"number of real games (got {it.validation_games}): fix the profile")
    if it.restarts < 1:
        raise ValueError(f"iterate.restarts must be at least 1 CMA-ES run per round (got {it.restarts}): fix the profile")
    if it.keep_incumbent and it.validation_games < 1:
        raise ValueError("iterate.keep_incumbent needs real games to choose between the last round's C and the new "
                         "ones: set iterate.validation_games, or keep_incumbent=False")
    if it.restarts > 1 and it.validation_games < 1:
        raise ValueError(f"iterate.restarts={it.restarts} needs real games to choose among the runs (their dreams "
                         "rate them alike): set iterate.validation_games, or restarts=1")
    if not it.explore or any(not 0 <= e <= 1 for e in it.explore):
        raise ValueError(f"iterate.explore must be exploration rates in [0, 1] (got {it.explore})")
    if it.seed < 0:
        raise ValueError(f"iterate.seed must be 0 or more (got {it.seed}): fix the profile or --set")
    check_explore(cfg)


# ----------------------------------------------------------------------------- the rounds as stages

def round_m_stage(cfg: Config, k: int) -> Stage:
    """M of round k: round k-1's M fine-tuned on the random play and rounds 1..k's games (round 0: the pipeline's M)."""
    from .mdnrnn import mdnrnn_stage

    if k == 0:
        return mdnrnn_stage(cfg)
    path = paths.round_mdnrnn(cfg, k)
    fields = {"iterate.mdnrnn_epochs": cfg.iterate.mdnrnn_epochs}
    if cfg.iterate.seed:  # its batches' order and z noise
        fields["iterate.seed"] = cfg.iterate.seed
    return Stage(f"M of round {k}", path.parent, fields,
                 done=path.exists, reads=(round_m_stage(cfg, k - 1), round_data_stage(cfg, k)), file="stage-m.json")


def round_data_stage(cfg: Config, k: int) -> Stage:
    """Round k's games: ``iterate.episodes`` real games played by ``iterate.explore_policy`` (the paper's:
    C and M of round k-1, with exploration); the policy is part of the key (``explore.explore_fields``)."""
    root = paths.iterate_data_dir(cfg)
    fields = {"iterate.episodes": cfg.iterate.episodes, "iterate.explore": list(cfg.iterate.explore),
              **explore_fields(cfg)}
    return Stage(f"games of round {k}", root, fields,
                 done=lambda: round_games(root, k) >= cfg.iterate.episodes,
                 reads=(round_c_stage(cfg, k - 1), round_m_stage(cfg, k - 1)), file=f"stage-round-{k}.json")


def round_run_stage(cfg: Config, k: int, r: int = 0) -> Stage:
    """CMA-ES run r of round k, in round k's dream (and with the ensemble, every earlier round's)."""
    from ..agent.evolution import CHECKPOINT, load_result
    from .dream import dream_fields

    it = cfg.iterate
    out = paths.round_run_dir(cfg, k, r)
    done = lambda: (out / CHECKPOINT).exists() and load_result(out).generations >= it.generations

    fields = {**dream_fields(round_dream_cfg(cfg), cfg.dream.tau), "evolution.seed": run_seed(cfg, k, r),
              "iterate.ensemble": it.ensemble, "iterate.warm_start": it.warm_start}
    return Stage(f"C of round {k}" + (f" (run {r})" if r else ""), out, fields, done=done,
                 reads=(round_m_stage(cfg, k),), legacy=lambda: check_run_ensemble(cfg, k, out))


def check_run_ensemble(cfg: Config, k: int, out: Path) -> None:
    """A started run (resumed, or finished before keys) keeps its fitness: ``evolve.json`` names its ensemble
    (absent: a run from before the ensemble existed)."""
    was = read_json(out / "evolve.json").get("ensemble", "none") if (out / "evolve.json").exists() else "none"
    if was != cfg.iterate.ensemble:
        raise ValueError(f"round {k}'s C in {out} was evolved with iterate.ensemble={was!r}, not "
                         f"{cfg.iterate.ensemble!r}: set it back, or move {paths.iterate_dir(cfg)} away to run the "
                         "rounds afresh")


def round_c_stage(cfg: Config, k: int) -> Stage:
    """Round k's C: chosen among its runs' candidates by real validation games (round 0: the dream-trained C)."""
    from .dream import dream_evolution_config, dream_run

    if k == 0:
        return dream_run(cfg, cfg.dream.tau).stage(dream_evolution_config(cfg).evolution.generations)
    it = cfg.iterate
    fields = {f"iterate.{f}": getattr(it, f) for f in ("validation_games", "validation_screen", "restarts",
                                                       "keep_incumbent")}
    return Stage(f"chosen C of round {k}", paths.round_dir(cfg, k), fields,
                 done=(paths.round_dir(cfg, k) / "choice.json").exists,
                 reads=tuple(round_run_stage(cfg, k, r) for r in range(it.restarts)), file="stage-choice.json")


def round_row_stage(cfg: Config, k: int) -> Stage:
    """Round k's row of the rounds table: its C, scored over ``dream.real_episodes`` games and dreams."""
    d = cfg.dream
    fields = {"dream.real_episodes": d.real_episodes, "dream.dream_episodes": d.dream_episodes, "dream.real_z": d.real_z}
    return Stage(f"round {k}", paths.round_dir(cfg, k), fields, done=paths.round_score(cfg, k).exists,
                 reads=(round_c_stage(cfg, k),), file="stage-row.json")


def rounds_series_stage(cfg: Config) -> Stage:
    """V's codes of every round's games: built afresh when a round adds games (or V changed)."""
    from .vae import vae_stage

    folder = paths.iterate_series_dir(cfg)

    def legacy() -> bool:  # a series from before keys: the V file and the number of frames it was made from
        from ..worlds.data import RolloutDataset

        meta = read_json(folder / "meta.json")
        return (meta.get("vae_sha256") == file_sha256(paths.vae_file(cfg))
                and meta.get("n_frames") == RolloutDataset(paths.iterate_data_dir(cfg)).n_frames)

    games = data_stage(paths.iterate_data_dir(cfg), prefix="rounds", name="every round's games")
    return Stage("series of the rounds' games", folder, {}, done=(folder / "meta.json").exists,
                 reads=(games, vae_stage(cfg)), legacy=legacy, rebuild=True)


# ----------------------------------------------------------------------------- the round's pieces

def round_params(cfg: Config, k: int) -> np.ndarray:
    """C of round k (round 0: the ordinary pipeline's dream-trained C), deployed parameters.

    With ``iterate.validation_games`` the round's C is the candidate its real validation
    games chose (``choose_round``, saved; read by ``round_choice``, which never plays), else its
    run's deployed (best-evaluated) mean."""
    from .dream import dream_params

    if k == 0:
        return dream_params(cfg, cfg.dream.tau)
    cands = round_candidates(cfg, k)
    return cands[round_choice(cfg, k, cands)["chosen"]] if cfg.iterate.validation_games else cands["deployed"]


def _choice_key(cfg: Config, k: int, cands: dict) -> dict:
    from .c_run import params_sha256

    key = dict(games=cfg.iterate.validation_games, mdnrnn=file_sha256(paths.round_mdnrnn(cfg, k)),
               candidates={w: params_sha256(p) for w, p in cands.items()})
    if cfg.iterate.validation_screen:
        key["screen"] = cfg.iterate.validation_screen
    return key


def round_choice(cfg: Config, k: int, cands: dict | None = None) -> dict:
    """The saved choice of round k's C (``round-K/choice.json``): read only, it never plays a game.

    Missing, or made for other candidates (``cands``: round k's, read when not given), M or numbers of
    games: a clear error naming the command that chooses (``choose_round`` plays the validation games)."""
    path = paths.round_dir(cfg, k) / "choice.json"
    fix = (f"run `python -m wmlib iterate {cfg.world} --rounds {k} --profile {cfg.profile}` (its real validation "
           "games choose the round's C)")
    if not path.exists():
        raise FileNotFoundError(f"round {k} has no chosen C yet ({path} is missing): {fix}")
    saved = read_json(path)
    if saved.get("key") != _choice_key(cfg, k, round_candidates(cfg, k) if cands is None else cands):
        raise ValueError(f"{path} chose among other candidates, another M or another number of games than "
                         f"round {k} now holds: {fix}")
    return saved


INCUMBENT = "previous"  # round_candidates' name for the last round's C


def round_candidates(cfg: Config, k: int) -> dict:
    """The Cs round k's CMA-ES runs offer: each run's deployed mean, final mean and best single
    candidate, and with ``iterate.validation_screen`` every generation's best candidate (``gen-G``);
    run r > 0 (``iterate.restarts``) names its own ``rR/deployed``, ``rR/gen-G``, ...; with
    ``iterate.keep_incumbent`` round k-1's C (``previous``) too; a later one is dropped when it equals
    an earlier one."""
    from ..agent.evolution import load_result

    offered = {}
    for r in range(cfg.iterate.restarts):
        run = run_candidates(load_result(paths.round_run_dir(cfg, k, r)), bool(cfg.iterate.validation_screen))
        offered.update({which if r == 0 else f"r{r}/{which}": p for which, p in run.items()})
    if cfg.iterate.keep_incumbent:  # offered last: a tie keeps the round's own C
        offered[INCUMBENT] = np.asarray(round_params(cfg, k - 1), np.float64)
    return _unique(offered)


def run_candidates(res, generations: bool = False) -> dict:
    """The Cs a finished CMA-ES run offers ({name: params}): deployed, mean, best and, with
    ``generations``, each generation's best (``gen-G``); one equal to an earlier one is dropped."""
    from .c_run import result_params

    offered = result_params(res)
    if generations:
        offered.update({f"gen-{g}": p for g, p in sorted(res.generation_bests.items())})
    return _unique({which: np.asarray(p, np.float64) for which, p in offered.items()})


def _unique(offered: dict) -> dict:
    """``offered`` ({name: params}) without a C equal to an earlier one (the first name is kept)."""
    out = {}
    for which, p in offered.items():
        if not any(np.array_equal(p, q) for q in out.values()):
            out[which] = p
    return out


def choose_round(cfg: Config, k: int) -> dict:
    """Which of round k's candidates is its C: the best mean over ``iterate.validation_games`` real games.

    The dream rates candidates alike that the game does not (at laptop scale, Cs that live
    ~1,600 dream steps live 170-760 real ones), so a few real games choose. They use seeds of
    their own (``VALIDATION_SEED``), so the test games stay unseen; every candidate plays the
    same games. C's weights still come from the dream alone. With ``iterate.validation_screen``
    every candidate (then also each generation's best) plays that many games first, and only
    the ``FINALISTS`` best play on to ``validation_games``. Saved as ``round-K/choice.json``
    (reused while the candidates, M and the numbers of games are the same).
    """
    from ..agent.pool import RolloutPool

    it = cfg.iterate
    games, screen = it.validation_games, it.validation_screen
    if games < 1:
        raise ValueError(f"iterate.validation_games must be at least 1 to choose a C (got {games})")
    cands = round_candidates(cfg, k)

    def play():
        with RolloutPool(real_spec(cfg, load_round_mdnrnn(cfg, k)), "processes", cfg.evolution.workers) as pool:
            return dict(round=k, **validate(pool, cands, games, screen))

    return cached(paths.round_dir(cfg, k) / "choice.json", _choice_key(cfg, k, cands), play,
                  name=f"choice of round {k}")


def validate(pool, cands: dict, games: int, screen: int = 0) -> dict:
    """Real validation games for candidate Cs {name: params} -> dict(validation={name: dict(mean, std,
    episodes)}, chosen=the name with the best mean over all ``games``).

    Every candidate plays the same games (seeds from ``VALIDATION_SEED``); with ``screen`` all
    play that many first and only the ``FINALISTS`` best play all ``games`` (the screen's again:
    an episode's seed follows its index, so a finalist scores what it would unscreened). The
    candidates' games run as one population (``same_games``), not one candidate after another."""
    def play(names, n):
        out = pool.run(np.stack([cands[w] for w in names]), n, VALIDATION_SEED, same_games=True)["returns"]
        return dict(zip(names, out))

    returns = play(list(cands), screen or games)
    if screen and games > screen:
        returns.update(play(sorted(cands, key=lambda w: -returns[w].mean())[:FINALISTS], games))
    scores = {w: dict(mean=float(r.mean()), std=float(r.std()), episodes=int(r.size)) for w, r in returns.items()}
    final = finalists(scores, games)
    return dict(validation=scores, chosen=max(final, key=lambda w: final[w]["mean"]))  # ties: the first offered


def finalists(validation: dict, games: int) -> dict:
    """The candidates of a choice's ``validation`` that played all ``games`` (all of them when unscreened)."""
    return {w: v for w, v in validation.items() if v["episodes"] == games}


def last_round(cfg: Config) -> int:
    """The last round of iterative training scored on disk, up to ``iterate.rounds`` (0: none, the
    pipeline's own dream-trained C): the round whose M and C ``reproduce doom`` ends with."""
    table = paths.rounds_table(cfg)
    rows = read_json(table) if table.exists() else []
    done = [r["round"] for r in rows if r["round"] <= cfg.iterate.rounds and paths.round_score(cfg, r["round"]).exists()]
    return max(done, default=0)


def finished_round(cfg: Config):
    """(k, M, C's parameters) of the last round past round 0 that is scored on disk (``last_round``), as the
    round scored them; (0, None, None) without one. Read only: it never chooses or plays."""
    k = last_round(cfg)
    if k == 0:
        return 0, None, None
    params = scored_params(cfg, k)
    if params is None:
        raise FileNotFoundError(f"round {k} was scored before its C was recorded ({paths.round_controller(cfg, k)} "
                                f"is missing): run `python -m wmlib iterate {cfg.world} --rounds {k} --profile "
                                f"{cfg.profile}` (it records the scored C and plays no game)")
    return k, load_round_mdnrnn(cfg, k), params


def scored_params(cfg: Config, k: int) -> np.ndarray | None:
    """C of round k (>= 1) as ``score_round`` recorded it, or None where the round has no record."""
    path = paths.round_controller(cfg, k)
    return load_checkpoint(path)["params"].numpy() if path.exists() else None


def load_round_mdnrnn(cfg: Config, k: int, device="cpu"):
    from ..models.mdnrnn import MDNRNN

    return MDNRNN.from_checkpoint(load_checkpoint(paths.round_mdnrnn(cfg, k)), device)


def collect_round(cfg: Config, k: int, progress: bool = True):
    """Round k's data: ``iterate.episodes`` real games played by ``iterate.explore_policy`` (the paper's: C of
    round k-1 with exploration; ``training.explore``)."""
    from ..worlds.data import RolloutDataset

    from ..worlds.envs import FRAME_SHAPE

    root = paths.ready(paths.iterate_data_dir(cfg))
    if not (root / "dataset.json").exists():
        write_json(root / "dataset.json", dict(world=cfg.world, frame_shape=list(FRAME_SHAPE),
                                               action_size=cfg.action_size, policy="iterative training rounds"))
    previous = Previous(params=lambda: round_params(cfg, k - 1), mdnrnn=lambda: load_round_mdnrnn(cfg, k - 1),
                        seed=data_seed(cfg, k))
    stages.get(round_data_stage(cfg, k), lambda: play_round(cfg, k, root, previous, progress), lambda: None)
    return RolloutDataset(root)


def encode_rounds(cfg: Config, dataset, progress: bool = True):
    """V's codes of every round's episodes (re-encoded when new episodes arrive)."""
    from .series import EncodedSeries
    from .vae import load_vae, write_series

    path = paths.iterate_series_dir(cfg)
    build = lambda: write_series(load_vae(cfg), dataset, path, cfg.vae.encode_batch, progress,
                                 vae_sha256=file_sha256(paths.vae_file(cfg)), world=cfg.world, profile=cfg.profile)
    return stages.get(rounds_series_stage(cfg), build, lambda: EncodedSeries(path, dataset))


def new_episodes(dataset, k: int) -> np.ndarray:
    """Indices (in ``dataset``) of the episodes that round k played."""
    return np.nonzero(dataset.episode_ids // ROUND_EPISODE_BASE == k)[0]


def judge_m(cfg: Config, m, data, episodes) -> dict:
    """How well an M knows some episodes it never trained on: NLL per dim, deaths flagged at p > 0.5
    (None without a done head: the car), and with a reward head its squared error on the steps' rewards."""
    from .mdnrnn import precision_recall, teacher_forced

    tf = teacher_forced(m, data, episodes)
    clean = lambda x: None if np.isnan(x) else float(x)  # undefined without deaths / flags (JSON has no NaN)
    out = dict(nll=float(tf["nll"].mean()), done_recall=None, done_precision=None, deaths=None)
    if tf["done_prob"] is not None:
        pr = precision_recall(tf["done_prob"], tf["done"])
        out.update(done_recall=clean(pr["recall"]), done_precision=clean(pr["precision"]), deaths=int(tf["done"].sum()))
    if tf["reward_pred"] is not None:
        out["reward_mse"] = float(np.mean((tf["reward_pred"] - tf["reward"]) ** 2))
    return out


def judge_next_games(cfg: Config, k: int, games: int | None = None) -> dict:
    """How well M of round k knows the games its own C plays next, as ``judge_m`` judges recorded games.

    C of round k plays ``games`` (default ``dream.real_episodes``) real games with no exploration, on the
    test's seeds (the games ``score_round`` scores), M driving as always; M's surprise along them
    (``agent.curiosity``) gives its NLL of each next code (nats per dim, on the codes the game fed it) and
    its done head's recall and precision at p > 0.5. No frame is kept. Saved as ``judge-next.json`` beside
    the round's score (reused while C, M and the number of games are the same).
    """
    from ..agent.pool import RolloutPool
    from .c_run import params_sha256
    from .controller import TEST_SEED
    from .mdnrnn import precision_recall

    games = cfg.dream.real_episodes if games is None else int(games)
    if games < 1:
        raise ValueError(f"judging M needs at least one real game (got {games})")
    params = round_params(cfg, k)
    key = dict(params=params_sha256(params), mdnrnn=file_sha256(paths.round_mdnrnn(cfg, k)), games=games,
               real_z=cfg.dream.real_z, pos_weight=cfg.mdnrnn.done_pos_weight)

    def play():
        with RolloutPool(real_spec(cfg, load_round_mdnrnn(cfg, k)), "processes", cfg.evolution.workers) as pool:
            out = pool.run(params[None], games, TEST_SEED, trace=True, surprise=True,
                           pos_weight=cfg.mdnrnn.done_pos_weight)
        traces = out["traces"]
        nll = np.concatenate([t["z_surprise"][:-1] for t in traces])  # the last step has no next code
        done = np.concatenate([np.arange(len(t["actions"])) == len(t["actions"]) - 1 if t["terminated"]
                               else np.zeros(len(t["actions"]), bool) for t in traces])
        pr = precision_recall(np.concatenate([t["done_prob"] for t in traces]), done)
        clean = lambda x: None if np.isnan(x) else float(x)
        return dict(round=k, games=games, nll=float(nll.mean()), done_recall=clean(pr["recall"]),
                    done_precision=clean(pr["precision"]), deaths=int(done.sum()),
                    surprise=float(out["surprise"].mean()), real=float(out["returns"].mean()))

    return cached(paths.round_score(cfg, k).parent / "judge-next.json", key, play, name=f"M of round {k} on its C's games")


def finetune_m(cfg: Config, k: int, data, progress: bool = True) -> Path:
    """M of round k: M of round k-1 trained ``iterate.mdnrnn_epochs`` more epochs on ``data``."""
    out = paths.round_mdnrnn(cfg, k)
    return stages.get(round_m_stage(cfg, k), lambda: _finetune_m(cfg, k, data, progress), lambda: out)


def _finetune_m(cfg: Config, k: int, data, progress: bool) -> Path:
    import torch

    from ..device import cpu_threads, grad_scaler, resolve_device
    from ..models.mdnrnn import MDNRNN
    from .mdnrnn import fit, m_settings

    out = paths.ready(paths.round_mdnrnn(cfg, k).parent) / paths.round_mdnrnn(cfg, k).name
    prev = load_checkpoint(paths.round_mdnrnn(cfg, k - 1))
    device = resolve_device(None)
    model = MDNRNN.from_checkpoint(prev, device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.mdnrnn.lr)
    if prev.get("optimizer"):
        opt.load_state_dict(prev["optimizer"])
    scaler = grad_scaler(device)
    epochs = cfg.iterate.mdnrnn_epochs
    mcfg = cfg.with_overrides(mdnrnn=dict(epochs=epochs, seed=cfg.mdnrnn.seed + 1000 * k
                                          + SEED_STRIDE * cfg.iterate.seed))
    log = dict(step=[], loss=[])
    with cpu_threads(cfg.mdnrnn.threads):
        _, step = fit(mcfg, model, opt, scaler, data, np.arange(len(data.lengths)), device, log, progress=progress)
    save_checkpoint(out, dict(model=model.state_dict(), optimizer=opt.state_dict(), arch=model.arch(),
                              config=m_settings(mcfg.mdnrnn), epoch=epochs, step=step,
                              log=log, series=data.series_id, round=k))
    return out


def dream_series(cfg: Config) -> list:
    """The series a round's dream starts from: random play, then every round's real games (when any)."""
    from .series import EncodedSeries, load_series
    from ..worlds.data import RolloutDataset

    out = [load_series(cfg)]
    path, data = paths.iterate_series_dir(cfg), paths.iterate_data_dir(cfg)
    if (path / "meta.json").exists() and (data / "dataset.json").exists():
        out.append(EncodedSeries(path, RolloutDataset(data)))
    return out


def worst_dream_fitness(dreamers, rollouts: int):
    """CMA-ES fitness from several Ms' dreams: each M dreams ``rollouts // len(dreamers)`` of a
    candidate's rollouts (its own seeds), and the candidate scores its worst M's mean -> [P, 1]."""
    share = max(1, rollouts // len(dreamers))

    def fitness(solutions, generation, seed):
        means = [d(solutions, share, seed + 7919 * j).mean(axis=1) for j, d in enumerate(dreamers)]
        return np.min(np.stack(means), axis=0)[:, None]

    return fitness


def evolve_round(cfg: Config, k: int, progress: bool = True) -> list:
    """C of round k, evolved in round k's dream (warm-started from C of round k-1): one CMA-ES run
    per ``iterate.restarts``, each with its own seed -> their results (run 0 first)."""
    from ..agent.evolution import CHECKPOINT, load_result

    evolve_run = None  # the dreams are built once, and only when a run has generations to go
    for r in range(cfg.iterate.restarts):
        out = paths.ready(paths.round_run_dir(cfg, k, r))

        def build(r=r, out=out):
            nonlocal evolve_run
            if (out / CHECKPOINT).exists():
                check_run_ensemble(cfg, k, out)  # a killed run resumes with the fitness it began with
            else:
                write_json(out / "evolve.json", dict(ensemble=cfg.iterate.ensemble))
            evolve_run = evolve_run or _round_evolution(cfg, k)
            return evolve_run(r, out, progress)

        stages.get(round_run_stage(cfg, k, r), build, lambda: None)
    return [load_result(paths.round_run_dir(cfg, k, r)) for r in range(cfg.iterate.restarts)]


def round_dream_cfg(cfg: Config) -> Config:
    """The dream a round's C is evolved and scored in: with ``iterate.death_share`` its starts are weighted to
    where the last round's C died (``dream.death_share`` for the rounds alone; round 0's dream unchanged)."""
    share = cfg.iterate.death_share
    if not 0 <= share < 1:
        raise ValueError(f"iterate.death_share must be in [0, 1) (got {share}): a share of the rounds' dream "
                         "starts, 0 for none; fix the recipe")
    return cfg.with_overrides(dream=dict(death_share=share)) if share else cfg


def _round_evolution(cfg: Config, k: int):
    """A function that evolves CMA-ES run r of round k in a folder (its dreams are built once)."""
    from ..agent.evolution import evolve
    from .dream import Dreamer, check_dream_start, dream_evolution_config

    check_dream_start(cfg)
    it, dcfg = cfg.iterate, round_dream_cfg(cfg)
    series = dream_series(cfg)
    dreamer = Dreamer(dcfg, cfg.dream.tau, mdnrnn=load_round_mdnrnn(cfg, k), series=series)
    x0 = round_params(cfg, k - 1) if it.warm_start else None
    rollouts = dream_evolution_config(cfg).evolution.rollouts
    fitness = lambda sol, g, seed: dreamer(sol, rollouts, seed)
    if it.ensemble == "min":  # every round's M dreams each candidate (its own starts); the worst M judges
        fitness = worst_dream_fitness([Dreamer(dcfg, cfg.dream.tau, mdnrnn=load_round_mdnrnn(cfg, j), series=series)
                                       for j in range(k)] + [dreamer], rollouts)

    def evolve_run(r: int, out: Path, progress: bool):
        ecfg = dream_evolution_config(cfg).with_overrides(evolution=dict(generations=it.generations,
                                                                         seed=run_seed(cfg, k, r)))
        # the periodic evaluations (and every reported dream score) dream in round k's M alone
        return evolve(ecfg.evolution, dreamer.n_params, fitness, out, progress=progress, x0=x0,
                      evaluate_mean_fn=lambda p, n, seed: dreamer(p[None], n, seed)[0], scale=dreamer.param_scale)

    return evolve_run


def score_round(cfg: Config, k: int) -> dict:
    """C of round k over ``dream.real_episodes`` real games and ``dream.dream_episodes`` dreams."""
    from ..agent.pool import RolloutPool
    from .c_run import params_sha256
    from .controller import TEST_SEED
    from .dream import DREAM_TEST_SEED, Dreamer, _summary

    path = paths.round_score(cfg, k)
    params = round_params(cfg, k)
    if k:  # the C this score belongs to, for readers that must not choose again (``finished_round``)
        save_checkpoint(paths.round_controller(cfg, k), dict(params=torch.as_tensor(params, dtype=torch.float64),
                                                              sha256=params_sha256(params)))
    key = dict(params=params_sha256(params),
               mdnrnn=file_sha256(paths.round_mdnrnn(cfg, k)),
               real_episodes=cfg.dream.real_episodes, real_z=cfg.dream.real_z)

    def play():
        played = _deployed_score(cfg, key) if k == 0 else None
        if played is not None:  # the pipeline already played round 0's C on these games: not twice
            return played
        m = load_round_mdnrnn(cfg, k)
        dream = Dreamer(round_dream_cfg(cfg) if k else cfg, cfg.dream.tau, mdnrnn=m, series=dream_series(cfg))(
            params[None], cfg.dream.dream_episodes, DREAM_TEST_SEED)[0]
        with RolloutPool(real_spec(cfg, m), "processes", cfg.evolution.workers) as pool:
            real = pool.run(params[None], cfg.dream.real_episodes, TEST_SEED)
        return dict(round=k, dream=_summary(dream), real=_summary(real["returns"][0]))

    return cached(path, key, play, name=f"score of round {k}")


def _deployed_score(cfg: Config, key: dict) -> dict | None:
    """Round 0's score as ``score_round`` records it, read from ``evaluate_in_reality``'s score of the
    pipeline's deployed dream C where that played the very games ``score_round`` would (same C, M, test
    seeds and numbers of games); else None."""
    from .controller import TEST_SEED
    from .dream import DREAM_TEST_SEED

    path = paths.dream_score(cfg, cfg.dream.tau, "deployed")
    if not path.exists():
        return None
    score = read_json(path)
    k = score.get("key", {})
    same = dict(params_sha256=key["params"], real_episodes=key["real_episodes"], real_z=key["real_z"],
                dream_episodes=cfg.dream.dream_episodes, real_seed=TEST_SEED, dream_seed=DREAM_TEST_SEED)
    if any(k.get(f) != v for f, v in same.items()) or k.get("models", {}).get("mdnrnn") != key["mdnrnn"]:
        return None
    return dict(round=0, dream=score["dream"], real=score["real"], reused=path.name)


def record_round(cfg: Config, k: int, seed: int) -> dict:
    """C of round k plays one real game: dict(steps, frames) with the raw frames it saw (uint8 [T, H, W, 3])."""
    from ..agent.episode import EpisodeRunner

    with EpisodeRunner(real_spec(cfg, load_round_mdnrnn(cfg, k))) as runner:
        out = runner.run(round_params(cfg, k)[None], [int(seed)], record=True)
    return dict(steps=int(out["lengths"][0]), frames=np.stack(out["frames"]))


# ----------------------------------------------------------------------------- the loop

def iterate(cfg: Config, rounds: int | None = None, progress: bool = True) -> list[dict]:
    """Run (or resume) rounds 1..``rounds`` (default ``cfg.iterate.rounds``) on top of round 0.

    Returns the rounds table (also ``iterate/rounds.json``): per round the data size,
    the previous M's held-out NLL and death recall on the round's new episodes, the
    dream and real scores (mean +- std) and the wall time of each step.
    """
    from .series import load_series
    from .mdnrnn import Transitions

    check_iterate(cfg)
    rounds = cfg.iterate.rounds if rounds is None else int(rounds)
    table_path = paths.rounds_table(cfg)
    table = read_json(table_path) if table_path.exists() else []
    done = {row["round"]: row for row in table}
    base = Transitions(load_series(cfg))
    if 0 not in done:
        s = score_round(cfg, 0)
        done[0] = dict(round=0, episodes=int(len(base.lengths)), transitions=int(len(base.actions)),
                       dream=_ms(s["dream"]), real=_ms(s["real"]), seconds={})
    for k in range(1, rounds + 1):
        old = done.get(k)
        row_key = round_row_stage(cfg, k).key
        if old is not None and old.get("key") == row_key and paths.round_score(cfg, k).exists():
            if not paths.round_controller(cfg, k).exists():  # scored before its C was recorded: read, never play
                score_round(cfg, k)
            note(f"round {k}", "reused")
            continue
        # a new round, or one whose C is now chosen another way (or among more runs): every step below
        # is get-or-build, so only what changed is redone (the other steps keep their first times)
        it = cfg.iterate
        row, t = dict(round=k, key=row_key, ensemble=it.ensemble, screen=it.validation_screen, restarts=it.restarts,
                      incumbent=it.keep_incumbent, explore_policy=it.explore_policy, iterate_seed=it.seed), {}
        clock = time.perf_counter()
        dataset = collect_round(cfg, k, progress)
        t["play"] = time.perf_counter() - clock
        if it.explore_policy == "curious":
            row["curious"] = curious_summary(cfg, k)
        clock = time.perf_counter()
        rounds_data = Transitions(encode_rounds(cfg, dataset, progress))
        t["encode"] = time.perf_counter() - clock
        row["new_m_heldout"] = judge_m(cfg, load_round_mdnrnn(cfg, k - 1), rounds_data, new_episodes(dataset, k))
        data = Transitions.concat([base, rounds_data])
        row.update(episodes=int(len(data.lengths)), transitions=int(len(data.actions)))
        clock = time.perf_counter()
        finetune_m(cfg, k, data, progress)
        t["train M"] = time.perf_counter() - clock
        clock = time.perf_counter()
        evolve_round(cfg, k, progress)
        t["evolve C"] = time.perf_counter() - clock
        if cfg.iterate.validation_games:
            clock = time.perf_counter()
            choice = choose_round(cfg, k)
            row["chosen"] = dict(which=choice["chosen"], validation=choice["validation"])
            t["validate"] = time.perf_counter() - clock
            if progress:
                final = finalists(choice["validation"], cfg.iterate.validation_games)
                screened = f" (of {len(choice['validation'])} screened)" if len(final) < len(choice["validation"]) else ""
                print(f"round {k}: {len(final)} candidates{screened} over {cfg.iterate.validation_games} "
                      "real validation games: " + ", ".join(f"{w} {v['mean']:.1f}" for w, v in final.items())
                      + f" -> {choice['chosen']}")
        clock = time.perf_counter()
        s = score_round(cfg, k)
        t["score"] = time.perf_counter() - clock
        if old is not None:
            # a step done before adds its first time (a new restart's evolution adds to the runs before it)
            t.update({step: sec + t.get(step, 0.0) for step, sec in old["seconds"].items()
                      if step not in ("validate", "score")})
        row.update(dream=_ms(s["dream"]), real=_ms(s["real"]), seconds=t)
        done[k] = row
        write_json(paths.ready(table_path.parent) / table_path.name, [done[i] for i in sorted(done)])
        if progress:
            print(format_rounds([done[i] for i in sorted(done)]))
    write_json(paths.ready(table_path.parent) / table_path.name, [done[i] for i in sorted(done)])
    return [done[i] for i in sorted(done) if i <= rounds]


def _ms(summary: dict) -> dict:
    return dict(mean=summary["mean"], std=summary["std"], episodes=summary["episodes"])


def format_rounds(rows) -> str:
    lines = [f"{'round':>5} | {'episodes':>8} | {'M NLL / recall on new':>21} | {'dream':>15} | "
             f"{'real':>15} | minutes"]
    lines.append("-" * len(lines[0]))
    for r in rows:
        j = r.get("new_m_heldout")
        recall = "-" if not j or j["done_recall"] is None else f"{j['done_recall']:.2f}"
        judged = f"{j['nll']:.3f} / {recall}" if j else "-"
        mins = sum(r.get("seconds", {}).values()) / 60
        lines.append(f"{r['round']:5d} | {r['episodes']:8d} | {judged:>21} | "
                     f"{r['dream']['mean']:6.1f} +- {r['dream']['std']:5.1f} | "
                     f"{r['real']['mean']:6.1f} +- {r['real']['std']:5.1f} | {mins:.1f}")
    return "\n".join(lines)


__all__ = ["iterate", "format_rounds", "check_iterate", "finished_round", "scored_params", "round_params", "round_candidates", "run_candidates",
           "choose_round", "round_choice", "validate", "RESTART_SEED", "SEED_STRIDE", "data_seed", "run_seed",
           "judge_next_games", "INCUMBENT", "finalists", "load_round_mdnrnn", "collect_round", "encode_rounds", "new_episodes", "judge_m", "finetune_m",
           "worst_dream_fitness", "evolve_round", "score_round", "record_round", "action_shares"]
