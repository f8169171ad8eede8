"""``python -m wmlib <command> ...``: the same functions the notebooks call.

Every command lives here, in pipeline order: each parses its arguments, calls
one library function and prints what it got. No other module parses
arguments, so the library stays importable without any of this.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import paths
from .config import PROFILES, WORLDS, Config, apply_recipe, apply_settings, get_config, world_info

__all__ = ["main", "build_parser"]

WHICH_HELP = "deployed: best-evaluated mean (default); mean: final mean; best: best candidate"
RESTARTS_HELP = ("Doom: CMA-ES runs per iterative round, each its own seed; the real validation games choose "
                 "among all their candidates (default: profile)")


def _config(args, world: str | None = None) -> Config:
    """The config a command works with: its world, --profile and --artifacts (the output root)."""
    root = os.path.abspath(args.artifacts) if args.artifacts else None
    cfg = get_config(world or args.world, args.profile, root)
    if getattr(args, "recipe", None):  # the recipe first: --set changes it further
        cfg = apply_recipe(cfg, args.recipe)
    return apply_settings(cfg, getattr(args, "set", None))


# ----------------------------------------------------------------------------- data and baselines

def cmd_collect(args):
    from .worlds.data import collect, summarize

    cfg = _config(args)
    ds = collect(cfg, episodes=args.episodes, workers=args.workers)
    print(summarize(ds))
    print(f"data in {ds.root}")


def cmd_baseline(args):
    from .artifacts import write_json
    from .worlds.baseline import random_baseline

    cfg = _config(args)
    res = random_baseline(cfg.world, episodes=args.episodes, workers=args.workers, skill=args.skill)
    r = res["returns"]
    print(f"{cfg.world} random policy over {len(r)} episodes: "
          f"return {r.mean():.1f} +- {r.std():.1f} (steps {res['lengths'].mean():.1f})")
    # Kept for the README's results table (`python -m wmlib results`).
    path = paths.baseline_file(cfg, len(r), args.skill)
    write_json(path, dict(world=cfg.world, episodes=len(r), skill=args.skill, mean=float(r.mean()),
                          std=float(r.std()), command=f"python -m wmlib baseline {cfg.world} --episodes {len(r)}"
                          + (f" --skill {args.skill}" if world_info(cfg.world).skill is not None else "")))
    print(f"saved {path}")


# ----------------------------------------------------------------------------- V

def cmd_train_vae(args):
    from .artifacts import load_checkpoint
    from .training.vae import train_vae

    cfg = _config(args)
    path = train_vae(cfg, device=args.device)
    val = load_checkpoint(path)["val"]
    print(f"V for {cfg.world} ({cfg.profile}) at {path}\n"
          f"held-out loss {val['loss']:.1f} (recon {val['recon']:.1f}, kl {val['kl_raw']:.1f}), "
          f"mse per pixel {val['mse_per_pixel']:.5f}")


def cmd_encode(args):
    from .training.vae import encode_dataset

    cfg = _config(args)
    series = encode_dataset(cfg, batch_size=args.batch_size, device=args.device)
    print(f"encoded {series.meta['n_frames']} frames of {series.n_episodes} episodes "
          f"(z = {series.z_size}) into {series.path}")


def cmd_vae_report(args):
    from .training.vae import heldout_frames, heldout_report, load_vae

    worlds = list(dict.fromkeys(args.worlds or WORLDS))
    cfgs = [_config(args, w) for w in worlds]
    for cfg in cfgs:
        r = heldout_report(cfg, args.device)
        print(f"{cfg.world} ({cfg.profile}): held-out {r['frames']} frames, "
              f"mse per pixel {r['mse_per_pixel']:.5f}, recon {r['recon']:.1f} per image, "
              f"kl {r['kl_raw']:.1f} nats")
    if args.figure:
        from .book.plots import reconstructions_figure
        from .models.vae import reconstruct

        rows = []
        for cfg in cfgs:
            real = heldout_frames(cfg, 8)
            rows.append((cfg.world, real, reconstruct(load_vae(cfg), real)))
        path = reconstructions_figure(rows, path=args.figure, title=f"V on held-out frames ({cfgs[0].profile} profile)")
        print(f"figure saved to {path}")


# ----------------------------------------------------------------------------- M

def cmd_train_mdnrnn(args):
    from .training.mdnrnn import train_mdnrnn

    cfg = _config(args)
    print(f"M in {train_mdnrnn(cfg, device=args.device)}")


def cmd_eval_mdnrnn(args):
    from .training.mdnrnn import evaluate_mdnrnn, format_evaluation

    cfg = _config(args)
    print(format_evaluation(evaluate_mdnrnn(cfg, device=args.device)))


# ----------------------------------------------------------------------------- C in the real world

def cmd_train_controller(args):
    from .training.controller import train_controller

    cfg = _config(args)
    if args.rollouts is not None:
        if args.rollouts < 1:
            raise ValueError(f"--rollouts must be at least 1 (got {args.rollouts})")
        cfg = cfg.with_overrides(evolution=dict(rollouts=args.rollouts))
    res = train_controller(cfg, args.mode, args.backend, args.workers, generations=args.generations)
    last = res.history[-1] if res.history else {}
    print(f"{cfg.world} C ({args.mode}) after {res.generations} generations: population mean "
          f"{last.get('mean', float('nan')):.1f}, best candidate {last.get('max', float('nan')):.1f}; "
          f"best evaluation of the mean {'n/a' if res.best_eval is None else f'{res.best_eval:.1f}'}\n"
          f"run in {res.ckpt_dir}")


def cmd_evaluate(args):
    from .training.controller import evaluate_controller, paper_score

    cfg = _config(args)
    res = evaluate_controller(cfg, args.mode, args.episodes, args.which, args.backend, args.workers, args.video)
    line = f"{cfg.world} C ({args.mode}, {args.which}) over {res['episodes']} episodes: " \
           f"{res['mean']:.1f} +- {res['std']:.1f}"
    reported = paper_score(cfg.world, args.mode)
    if reported:
        line += f"   (paper: {reported[0]} +- {reported[1]})"
    print(line)
    if "video" in res:
        print(f"video of one episode (return {res['video_return']:.1f}): {res['video']}")


# ----------------------------------------------------------------------------- C in the dream

def cmd_train_in_dream(args):
    from .training.dream import evaluate_in_reality, paper_row, train_in_dream

    cfg = _config(args)
    tau = cfg.dream.tau if args.tau is None else args.tau
    res = train_in_dream(cfg, tau, generations=args.generations, device=args.device)
    score = evaluate_in_reality(cfg, tau, args.which, backend=args.backend, workers=args.workers,
                                device=args.device)
    dr, re = score["dream"], score["real"]
    print(f"{cfg.world} C ({args.which}) trained in the dream at tau {tau:g} for {res.generations} generations:\n"
          f"  dream: {dr['mean']:.1f} +- {dr['std']:.1f} over {dr['episodes']} dreams\n"
          f"  real:  {re['mean']:.1f} +- {re['std']:.1f} over {re['episodes']} episodes")
    paper = paper_row(tau, cfg.world)
    if paper:
        print(f"  paper at tau {tau:g}: dream {paper[0][0]} +- {paper[0][1]}, real {paper[1][0]} +- {paper[1][1]}")
    print(f"run in {res.ckpt_dir}")


def cmd_temperature_sweep(args):
    from .training.dream import format_table, temperature_sweep

    cfg = _config(args)
    table = temperature_sweep(cfg, args.taus, args.which, device=args.device, backend=args.backend,
                              workers=args.workers)
    print(format_table(table["rows"], cfg.world))
    from .book.plots import plot_temperature  # the library writes numbers; the command line draws them
    import matplotlib.pyplot as plt

    png = Path(table["json"]).with_name("temperature.png")
    plt.close(plot_temperature(table["rows"], png, title=f"{cfg.world}, profile {cfg.profile}",
                               cap=cfg.dream.max_steps))
    print(f"table: {table['json']}\nplot:  {png}")


def cmd_diagnose_dream(args):
    from .book.diagnose import dream_behaviour, format_rows, real_behaviour

    cfg = _config(args)
    tau = cfg.dream.tau if args.tau is None else args.tau
    if args.episodes < 1:
        raise ValueError(f"episodes must be at least 1 (got {args.episodes})")
    print(format_rows(f"in M's dream (tau {tau:g}):", dream_behaviour(cfg, tau, args.episodes)))
    print(format_rows("in the real game (M's belief, fed the real codes):", real_behaviour(cfg, tau, args.episodes)))


# ----------------------------------------------------------------------------- the whole pipeline, the book

def cmd_reproduce(args):
    from .training.pipeline import format_record, reproduce

    world = args.world_opt or args.world or "doom"
    if args.world_opt and args.world and args.world_opt != args.world:
        raise ValueError(f"two worlds given ({args.world}, {args.world_opt}): pass one")
    if world not in WORLDS:
        raise ValueError(f"unknown world {world!r}: choose one of {', '.join(WORLDS)}")
    cfg = _config(args, world)
    if args.rounds is not None or args.restarts is not None:
        if not world_info(world).dream_trained:
            raise ValueError(f"--rounds and --restarts are iterative training in the dream: Doom only "
                             f"({world}'s C is trained in the real world)")
        cfg = _iterate_options(cfg, args)
        if args.rounds is not None:  # the rounds asked for, not the profile's shorter main job
            cfg = cfg.with_overrides(iterate=dict(reproduce_rounds=args.rounds))
    record = reproduce(cfg, args.tau)
    print()
    print(format_record(record, args.tau if args.tau is not None else cfg.dream.tau))


def _iterate_options(cfg, args):
    """--rounds, --restarts (and iterate's --generations) over the profile's iterate settings."""
    if args.rounds is not None and args.rounds < 0:
        raise ValueError(f"--rounds must be 0 or more (got {args.rounds})")
    if args.restarts is not None and args.restarts < 1:
        raise ValueError(f"--restarts must be 1 or more CMA-ES runs per round (got {args.restarts})")
    given = dict(rounds=args.rounds, restarts=args.restarts, generations=getattr(args, "generations", None))
    if given["generations"] is not None and given["generations"] < 1:
        raise ValueError(f"--generations must be at least 1 (got {given['generations']})")
    return cfg.with_overrides(iterate={k: v for k, v in given.items() if v is not None})


def cmd_iterate(args):
    from .training.iterate import format_rounds, iterate

    cfg = _iterate_options(_config(args), args)
    print(format_rounds(iterate(cfg)))
    print(f"rounds table: {paths.rounds_table(cfg)}")


def cmd_export_pretrained(args):
    from .book.export import export_pretrained

    out = export_pretrained(args.world, args.profile or "laptop", artifacts=args.artifacts)
    size = sum(f.stat().st_size for f in out.glob("*.pt")) / 2**20
    print(f"shipped models for {args.world} in {out} ({size:.1f} MiB); now score them: "
          f"python -m wmlib evaluate-shipped {args.world} --episodes 100")


def cmd_evaluate_shipped(args):
    from .book.model_card import evaluate_shipped

    res = evaluate_shipped(args.world, args.episodes, args.workers)
    print(f"shipped {args.world} agent over {res['episodes']} episodes: {res['mean']:.1f} +- {res['std']:.1f}")


def cmd_results(args):
    from .book.results import PROFILE, table, write_readme

    profile = args.profile or PROFILE
    if args.write_readme:
        write_readme(Path(args.readme), profile, args.artifacts, keep=args.keep)
        print(f"table written to {args.readme}")
    else:
        print(table(profile, args.artifacts))


# ----------------------------------------------------------------------------- the published book

def cmd_book_build(args):
    from .book.site import BookBuildError, build

    try:
        report = build(profile=args.profile, out=args.out, artifacts=args.artifacts, timeout=args.timeout,
                       keep_going=args.keep_going, repository=args.repository)
    except BookBuildError as err:
        print(f"error: the site was not built: {err}", file=sys.stderr)
        return 1
    for name, seconds in report.seconds.items():
        print(f"  {name}: executed in {seconds:.1f} s")
    for failure in report.failures:
        print(f"  FAILED (shown as far as it ran): {failure.notebook}, cell {failure.cell}")
    print(f"site built in {report.total_seconds / 60:.1f} min at the {report.profile} profile; "
          f"open {report.index}")
    return 1 if report.failures else 0


def _book_parser(sub) -> None:
    """``python -m wmlib book build``: execute the chapters on the shipped models, build the static site."""
    p = sub.add_parser("book", help="the published book: `book build` makes the static website")
    actions = p.add_subparsers(dest="book_command", required=True, metavar="action")
    b = actions.add_parser("build", help="execute every chapter (TRAIN off, shipped models) "
                           "and build the site with Jupyter Book 1, offline")
    b.set_defaults(func=cmd_book_build)
    b.add_argument("--profile", choices=PROFILES, default="laptop",
                   help="the profile the chapters run at (default laptop, whatever $WM_PROFILE says: the "
                        "published site is the laptop book; ci for a quick check)")
    b.add_argument("--artifacts", default=None, help="where the chapters read and write models and data "
                   "(default: $WM_ARTIFACTS, else <out>/artifacts: empty, so the site shows the shipped models)")
    b.add_argument("--out", default="build/book", help="build folder (default build/book); the site is "
                   "<out>/_build/html/index.html, the executed notebooks <out>/src/notebooks")
    b.add_argument("--timeout", type=float, default=None,
                   help="seconds each notebook may take to execute (default: 600 at ci, 900 at laptop)")
    b.add_argument("--keep-going", action="store_true",
                   help="build the site even when a notebook fails (it shows as far as it ran; exit code 1)")
    b.add_argument("--repository", default=None,
                   help="the repository's web address for the site's link (default: $GITHUB_REPOSITORY or git's "
                        "origin; none: no link)")


# ----------------------------------------------------------------------------- coursework (nbgrader)

def cmd_course_generate(args):
    from .book.course import generate

    course = generate(args.out, only=args.chapters)
    for assignment in course.assignments:
        print(f"  {assignment}: student version {course.student_version(assignment)}")
    print(f"course folder {course.root} (nbgrader_config.py, source/ = instructor versions, release/ = student "
          f"versions: no answers, no hidden tests)")


def cmd_course_autograde(args):
    from .book.course import autograde, report

    results = autograde(args.out, args.submitted, student=args.student)
    print(report(results))


def _course_parser(sub) -> None:
    """``python -m wmlib course generate|autograde``: the chapters as an nbgrader course."""
    p = sub.add_parser("course", help="coursework: student versions of the chapters (nbgrader), and autograding")
    actions = p.add_subparsers(dest="course_command", required=True, metavar="action")
    g = actions.add_parser("generate", help="lay out an nbgrader course from notebooks/ and generate the student "
                           "versions (no answers) into <out>/release/")
    g.add_argument("--out", default="build/course", help="the course folder (default build/course)")
    g.add_argument("--chapters", nargs="+", default=None, metavar="NN",
                   help="chapters by number or name (default: all)")
    g.set_defaults(func=cmd_course_generate)
    a = actions.add_parser("autograde", help="autograde one student's filled notebooks with nbgrader (they run "
                           "at $WM_PROFILE, reading $WM_ARTIFACTS)")
    a.add_argument("submitted", help="a folder holding the student's NN_name.ipynb files")
    a.add_argument("--out", default="build/course", help="the course folder made by `course generate`")
    a.add_argument("--student", default="student", help="the student's id in the gradebook (default student)")
    a.set_defaults(func=cmd_course_autograde)


# ----------------------------------------------------------------------------- the parser

def _common() -> argparse.ArgumentParser:
    """Options every command takes: the profile and the artifacts folder."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--profile", choices=PROFILES, default=None,
                   help="ci | laptop | paper (default: $WM_PROFILE or laptop)")
    p.add_argument("--artifacts", default=None,
                   help="folder for datasets and checkpoints (default: $WM_ARTIFACTS or ./artifacts)")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                   help="change one config field, e.g. --set mdnrnn.epochs=160 (repeatable; checked against "
                        "wmlib/config.py)")
    p.add_argument("--recipe", default=None, metavar="PATH",
                   help="a TOML file of config changes ([section] then field = value), applied before --set, "
                        "e.g. experiments/recipes/doom-dropout.toml; use its own --artifacts folder")
    return p


def _rollout_options(p, help_backend: str | None = None) -> None:
    from .agent.pool import BACKENDS

    p.add_argument("--backend", choices=BACKENDS, default="processes", help=help_backend)
    p.add_argument("--workers", type=int, default=None, help="rollout workers (default: profile)")


def build_parser() -> argparse.ArgumentParser:
    from .training.controller import WHICH

    parser = argparse.ArgumentParser(prog="python -m wmlib", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    common = _common()

    def command(name, func, help, world=WORLDS):
        """A subcommand; ``world``: its choices, ``"any"`` (checked by get_config) or None (no world)."""
        p = sub.add_parser(name, parents=[common], help=help)
        if world == "any":
            p.add_argument("world", help=f"one of {', '.join(WORLDS)}")
        elif world:
            p.add_argument("world", choices=world)
        p.set_defaults(func=func)
        return p

    p = command("collect", cmd_collect, "record random-play episodes as shards", world="any")
    p.add_argument("--episodes", type=int, default=None, help="episodes in total (default: profile)")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: profile)")

    p = command("baseline", cmd_baseline, "random-policy score over N episodes", world="any")
    p.add_argument("--episodes", type=int, default=100)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--skill", type=int, default=4, choices=range(1, 6), help="Doom difficulty (default 4)")

    p = command("train-vae", cmd_train_vae, "train V (resumes after a kill)")
    p.add_argument("--device", default=None, help="cpu | cuda | cuda:N (default: cuda if present)")

    p = command("encode", cmd_encode, "encode every frame with V for M")
    p.add_argument("--device", default=None)
    p.add_argument("--batch-size", type=int, default=None)

    p = command("vae-report", cmd_vae_report, "held-out reconstruction error per pixel, and the reconstructions "
                "figure", world=None)
    p.add_argument("worlds", nargs="*", metavar="world",
                   help=f"worlds to report: {', '.join(WORLDS)} (default: both)")
    p.add_argument("--figure", default=None, help="PNG path for the real-vs-reconstructed figure")
    p.add_argument("--device", default=None)

    p = command("train-mdnrnn", cmd_train_mdnrnn, "train M (the MDN-RNN) on V's encoded series", world="any")
    p.add_argument("--device", default=None, help="cpu | cuda (default: cuda when present)")

    p = command("eval-mdnrnn", cmd_eval_mdnrnn,
                "M's held-out NLL per latent dim vs a no-change baseline (+ Doom done precision/recall)",
                world="any")
    p.add_argument("--device", default="cpu")

    p = command("train-controller", cmd_train_controller, "evolve C with CMA-ES in the real world")
    p.add_argument("--mode", choices=("z", "zh"), default="zh", help="z: V only; zh: V and M (default)")
    p.add_argument("--generations", type=int, default=None, help="total generations (default: profile)")
    p.add_argument("--rollouts", type=int, default=None,
                   help="episodes per candidate, its fitness their mean (default: profile; the car's V+M C "
                        "reached 800 over 100 tracks with 4 at laptop, README \"Two CMA-ES seeds and four tracks\")")
    _rollout_options(p)

    p = command("evaluate", cmd_evaluate, "score a trained C: mean +- std over N episodes")
    p.add_argument("--mode", choices=("z", "zh"), default="zh")
    p.add_argument("--episodes", type=int, default=None, help="episodes (default: profile, 100 at laptop)")
    p.add_argument("--which", choices=WHICH, default="deployed", help=WHICH_HELP)
    p.add_argument("--video", default=None, help="write one episode as mp4 (needs imageio-ffmpeg) or gif")
    _rollout_options(p)

    p = command("reproduce", cmd_reproduce, "the whole pipeline for one world (resumable), ending with a results "
                "table", world=None)
    p.add_argument("world", nargs="?", default=None, help="doom (default) or carracing")
    p.add_argument("--world", dest="world_opt", default=None, help="same as the positional world")
    p.add_argument("--tau", type=float, default=None, help="Doom dream temperature (default: profile, 1.15)")
    p.add_argument("--rounds", type=int, default=None,
                   help="Doom: rounds of iterative training after the first dream-trained C (default: the profile's "
                        "iterate.reproduce_rounds; laptop: 0, --rounds 1 is the best measured)")
    p.add_argument("--restarts", type=int, default=None, help=RESTARTS_HELP)

    p = command("iterate", cmd_iterate, "iterative training: C's real games go back into M's data, M and C are "
                "retrained, round by round (resumable); the car with a reward head (experiments/recipes/carracing-dream.toml)")
    p.add_argument("--rounds", type=int, default=None, help="rounds in total (default: profile)")
    p.add_argument("--restarts", type=int, default=None, help=RESTARTS_HELP)
    p.add_argument("--generations", type=int, default=None,
                   help="CMA-ES generations of each run in a round's dream (default: profile)")

    p = command("export-pretrained", cmd_export_pretrained,
                "write the trained V, M, C (default: laptop profile) as the shipped fp16 models")

    p = command("evaluate-shipped", cmd_evaluate_shipped,
                "score the shipped models in the real game and record it in their card")
    p.add_argument("--episodes", type=int, default=100)
    p.add_argument("--workers", type=int, default=2)

    p = command("results", cmd_results, "the results table: paper vs laptop vs shipped models", world=None)
    p.add_argument("--write-readme", action="store_true", help="rewrite the table in README.md")
    p.add_argument("--readme", default=str(Path(__file__).resolve().parents[1] / "README.md"))
    p.add_argument("--keep", action="store_true", help="with --write-readme: rows not run under --artifacts keep "
                   "the README's earlier measurement, marked (earlier run)")

    def dream_options(p):
        p.add_argument("--which", choices=WHICH, default="deployed", help=WHICH_HELP)
        p.add_argument("--device", default=None, help="where M dreams: cpu | cuda (default: cuda when present)")
        _rollout_options(p, "real-game rollouts")

    p = command("train-in-dream", cmd_train_in_dream,
                "evolve C inside M's dream (Doom; the car with M's reward head: --recipe "
                "experiments/recipes/carracing-dream.toml), then score it in the dream and in the real game")
    p.add_argument("--tau", type=float, default=None, help="dream temperature (default: profile: Doom 1.15, car 1.0)")
    p.add_argument("--generations", type=int, default=None, help="total generations (default: profile)")
    dream_options(p)

    p = command("temperature-sweep", cmd_temperature_sweep,
                "train in the dream at every tau of the profile; table beside the paper's")
    p.add_argument("--taus", type=float, nargs="+", default=None, help="temperatures (default: profile's)")
    dream_options(p)

    p = command("diagnose-dream", cmd_diagnose_dream, "what the dream-trained C does, in the dream and in the "
                "real game", world=("doom",))
    p.add_argument("--tau", type=float, default=None, help="the dream run to inspect (default: profile, 1.15)")
    p.add_argument("--episodes", type=int, default=5)

    _book_parser(sub)
    _course_parser(sub)
    return parser


def main(argv=None) -> int:
    """Run one command; bad input becomes a one-line error (exit 2), Ctrl-C a hint (exit 130)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, PermissionError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: completed work is saved; run the same command again to resume", file=sys.stderr)
        return 130
