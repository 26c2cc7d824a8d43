"""Command line: ``python -m ismarl train STEP ...``, ``python -m ismarl reproduce ...`` (a chain of
steps into one directory), ``python -m ismarl evaluate RUN_DIR ...`` and ``python -m ismarl
warmup-pairs WARMUP_DIR ...`` (Step-4 starting pairs of criterion-meeting warm-up agents)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import jax

from ismarl.engines.experiment import apply_overrides
from ismarl.experiments import reproduce as chain
from ismarl.experiments.presets import ORDER, PAPER, PPI, get_config
from ismarl.experiments.warmup import criterion_pairs, warmup_best_responders
from ismarl.protocol import STEP1
from ismarl.runs import evaluate as ev
from ismarl.runs.budget import STOPPED, Budget, check_time_budget
from ismarl.runs.checkpoint import CheckpointError
from ismarl.runs.train import check_seeds, train_piece
from ismarl.scale import preset_name

EVALUATE_EPILOG = "JSON layout (--json):\n" + ev.JSON_LAYOUT


def _deprecated(new: str):
    """An argparse action for a deprecated name of ``new``: stores the value and warns on stderr."""
    class Deprecated(argparse.Action):
        def __call__(self, parser, namespace, values, option_string=None):
            print(f"warning: {option_string} is deprecated, use {new}", file=sys.stderr)
            setattr(namespace, self.dest, values)
    return Deprecated


def _parse_seed_values(text: str) -> list[int]:
    """``2000,2007`` -> seeds 2000 and 2007; ``3`` -> seed 3 (not a count: a run's seeds by value)."""
    items = [s.strip() for s in text.split(",")]
    if not all(items):
        raise argparse.ArgumentTypeError(f"{text!r} has an empty entry; give a comma list of the run's seeds (0,4)")
    try:
        return check_seeds([int(s) for s in items])
    except ValueError as exc:  # not an integer, a negative or repeated seed
        msg = str(exc) if "seed" in str(exc) else f"{text!r} is not a comma list of the run's seeds (0,4)"
        raise argparse.ArgumentTypeError(msg) from None


def _parse_seeds(text: str) -> list[int]:
    """``3`` -> seeds 0, 1, 2; ``4,7`` -> seeds 4 and 7 (distinct non-negative integers)."""
    try:
        if "," in text:
            items = [s.strip() for s in text.split(",")]
            if not all(items):
                raise argparse.ArgumentTypeError(f"{text!r} has an empty entry; give a count (3) or a comma list of seeds (0,4)")
            seeds = [int(s) for s in items]
        else:
            n = int(text)
            if n < 1:
                raise argparse.ArgumentTypeError(f"{text!r}: needs at least one seed; give a count >= 1 (3) or a comma list (0,4)")
            if n > 100_000:
                raise argparse.ArgumentTypeError(f"{text!r} seeds is more than this tool trains at once (100000)")
            seeds = list(range(n))
        return check_seeds(seeds)
    except ValueError as exc:  # not an integer, a negative or repeated seed
        msg = str(exc) if "seed" in str(exc) else f"{text!r} is not a count (3) or a comma list of seeds (0,4)"
        raise argparse.ArgumentTypeError(msg) from None


def _parse_time_budget(text: str) -> float:
    """``540`` -> 540.0 seconds: a finite number > 0."""
    try:
        return check_time_budget(float(text))
    except ValueError:  # not a number, or not a finite one > 0
        raise argparse.ArgumentTypeError(f"{text!r}: give a finite number of seconds > 0 "
                                         "(e.g. 540 for a 10-minute command)") from None


TIME_BUDGET_HELP = (f"stop cleanly (checkpoint written) at the first chunk boundary after which the next chunk would "
                    f"likely not fit in SECONDS of wall time (counted once Python and JAX are loaded), with exit "
                    f"status {STOPPED}; the same command continues")


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line on stderr (exit status 2), pointing at ``--help``."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m ismarl", description="Train and evaluate ismarl's sequence-model agents.")
    p.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = p.add_subparsers(dest="command", required=True)
    debug = _Parser(add_help=False)
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show the full traceback of an error")

    t = sub.add_parser("train", parents=[debug], help="train an experiment (all seeds in one compiled program)")
    t.add_argument("step", help="experiment name, e.g. step1")
    t.add_argument("--scale", default=None, help="preset: fast, cpu or paper/gpu (default: ISMARL_SCALE or cpu)")
    t.add_argument("--seeds", type=_parse_seeds, default=[0], help="number of seeds (0..n-1) or a comma list (default 1)")
    t.add_argument("--out", required=True, help="run directory")
    t.add_argument("--resume", action="store_true", help="continue the checkpoint in --out")
    t.add_argument("--iterations", type=int, default=None, help="override the preset's number of iterations")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field, e.g. --set a2c.entropy_coef=0.05 --set network.hidden=32")
    t.add_argument("--stop-at", type=int, default=None, help="stop (and checkpoint) after this iteration")
    t.add_argument("--no-progress", action="store_true")
    t.add_argument("--manifest", action="store_true", help="write manifest.json (provenance) into --out when done "
                   "(a run trained in several commands lists each as one of its pieces)")
    t.add_argument("--time-budget", type=_parse_time_budget, default=None, metavar="SECONDS",
                   help=TIME_BUDGET_HELP.replace("the same command", "the same command with --resume"))

    r = sub.add_parser("reproduce", parents=[debug], help="train a chain of experiments into OUT/<experiment>, each built on the "
                       "chain's own earlier runs (skips finished runs, resumes partial ones)")
    r.add_argument("--scale", default=None, help="preset: fast, cpu or paper/gpu (default: ISMARL_SCALE or cpu)")
    r.add_argument("--seeds", type=_parse_seeds, default=[0], help="number of seeds (0..n-1) or a comma list (default 1)")
    r.add_argument("--out", required=True, help="chain directory; experiment X goes to OUT/X")
    r.add_argument("--steps", default="paper",
                   help="comma list of experiments, 'paper' (A2C Steps 1-4 and both ablations, the default), 'ppi' "
                        "(the PPI experiments) or 'all'; "
                        "the runs they build on are added")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a field in every experiment")
    r.add_argument("--dry-run", action="store_true", help="print the plan (experiment, iterations, what it builds on) and stop; "
                   "with --time-budget, also how many commands it will likely take, when the time per iteration is known")
    r.add_argument("--time-budget", type=_parse_time_budget, default=None, metavar="SECONDS",
                   help=TIME_BUDGET_HELP + f" (OUT/{chain.PROGRESS} says where each run stands)")
    r.add_argument("--no-progress", action="store_true")

    w = sub.add_parser("warmup-pairs", parents=[debug], help="starting pairs for a two-learner run (Step 4) made only of a warm-up run's "
                       f"agents that meet the Step-1 criterion ({STEP1.describe()}); prints them and the --set to use")
    w.add_argument("warmup", help="warm-up run directory with an evaluate.json against tft and allc (python -m ismarl evaluate)")
    w.add_argument("--seeds", type=_parse_seeds, default=[0], help="the seeds of the run to start (a count or a comma list)")

    e = sub.add_parser("evaluate", parents=[debug], help="in-episode behaviour of a trained run against co-players",
                       epilog=EVALUATE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    e.add_argument("run", help="run directory (holding checkpoint.msgpack/.json)")
    e.add_argument("--coplayers", default="tft,allc,alld,random",
                   help="the learner's co-players, a comma list: named strategies, 'random' (fresh U(0,1)^5 tabular "
                        "agents) or p0:pCC:pCD:pDC:pDD")
    e.add_argument("--coplayer-run", default=None, help="play learner against learner: the co-player is a learner of "
                                                         "this run directory")
    e.add_argument("--learner", type=int, default=0, help="which learner of RUN plays (default 0)")
    e.add_argument("--coplayer-learner", type=int, default=0, help="which learner of --coplayer-run plays (default 0)")
    for old, new, kind in (("--opponents", "--coplayers", str), ("--opponent-run", "--coplayer-run", str),
                           ("--opponent-learner", "--coplayer-learner", int)):  # deprecated names, for old commands
        e.add_argument(old, dest=new[2:].replace("-", "_"), type=kind, default=argparse.SUPPRESS, help=argparse.SUPPRESS,
                       action=_deprecated(new))
    e.add_argument("--episodes", type=int, default=1000)
    e.add_argument("--seeds", type=_parse_seed_values, default=None,
                   help="evaluate only these seeds of RUN, a comma list of its seeds (e.g. 2000,2007); each gives "
                        "the same numbers as in the whole run's evaluation (default: every seed)")
    e.add_argument("--json", action="store_true", help="print the full JSON result instead of a table")
    e.add_argument("--out", default=None, help="also write the JSON result to this file")
    return p


#: The exit status of an interrupted command (Ctrl-C).
INTERRUPTED = 130


def exit_with(status: int) -> None:
    """End the process with ``status``. An interrupted command (:data:`INTERRUPTED`) ends at once:
    what it keeps (checkpoint, manifest) is on disk already, and a normal exit would first wait for
    the computations JAX has dispatched but not finished, as long as a whole PPI phase."""
    if status == INTERRUPTED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)


def main(argv=None) -> int:
    """Run the command line; returns the exit status: 0 done, 1 an error (one line on stderr
    naming the value and the fix; ``--debug`` shows the traceback), 2 a usage error, 3 stopped at
    ``--time-budget`` (:data:`ismarl.runs.budget.STOPPED`; the same command continues), 130 interrupted."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return _run(args)
    except KeyboardInterrupt:
        if getattr(args, "debug", False):
            raise
        note = " (the last checkpoint is kept: the same command with --resume continues it)" if args.command == "train" else ""
        if args.command == "reproduce":
            note = " (finished runs are kept: the same command continues the chain)"
        print(f"interrupted{note}", file=sys.stderr)
        return INTERRUPTED
    except (CheckpointError, ValueError, TypeError, OSError) as exc:
        if getattr(args, "debug", False):
            raise
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except jax.errors.JaxRuntimeError as exc:
        if getattr(args, "debug", False) or "RESOURCE_EXHAUSTED" not in str(exc):
            raise
        print("error: out of memory: this run needs more memory than the device has; choose a smaller batch_size, "
              "horizon, network or number of seeds (evaluate: fewer --episodes)", file=sys.stderr)
        return 1


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, OSError) and not isinstance(exc, CheckpointError) and exc.filename is not None and str(exc.filename) not in text:
        text = f"{text}: {exc.filename}"
    return text


def _check_overrides(assignments) -> None:
    for a in assignments:
        if "=" not in a:
            raise ValueError(f"--set {a!r} is not of the form KEY=VALUE (e.g. --set a2c.learning_rate=1e-3)")


def _run(args) -> int:
    if args.command == "train":
        _check_overrides(args.set)
        cfg = get_config(args.step, preset_name(args.scale))
        if args.set:
            cfg = apply_overrides(cfg, args.set)
        if args.iterations is not None:
            if args.iterations < 1:
                raise ValueError(f"--iterations {args.iterations}: give a number of iterations >= 1")
            cfg = cfg.replace(iterations=args.iterations)
        if args.stop_at is not None and args.stop_at < 1:
            raise ValueError(f"--stop-at {args.stop_at}: give an iteration >= 1 to stop (and checkpoint) after")
        budget = Budget(args.time_budget)
        reached = train_piece(cfg, args.seeds, args.out, resume=args.resume, stop_at=args.stop_at, budget=budget,
                              progress=not args.no_progress,
                              manifest={"experiment": cfg.name, "seeds": args.seeds} if args.manifest else None)
        if budget.stopped:
            print(f"stopped at the time budget at iteration {reached} of {cfg.iterations}; the same command with --resume "
                  f"continues it (exit status {STOPPED})")
            return STOPPED
        return 0
    if args.command == "reproduce":
        budget = Budget(args.time_budget)  # the command's clock starts before the plan is made
        _check_overrides(args.set)
        preset = preset_name(args.scale)
        names = {"paper": list(PAPER), "ppi": list(PPI), "all": list(ORDER)}.get(args.steps.strip())
        if names is None:
            names = [s.strip() for s in args.steps.split(",") if s.strip()]
            if not names:
                raise ValueError(f"--steps {args.steps!r} names no experiment; give a comma list, 'paper', 'ppi' or 'all'")
        steps = chain.resolve(names, preset)
        rows = chain.plan(steps, preset, args.out, args.set)  # checks every config before anything is written
        if args.dry_run:
            for (step, cfg, _), st in zip(rows, chain.run_states(rows, len(args.seeds), args.out)):
                deps = ", ".join(dict.fromkeys(list(cfg.frozen) + [p for p in cfg.init_from if p])) or "-"
                state = f"partial: {st['iteration']} done" if st["state"] == "partial" else st["state"]
                print(f"{step:>20}  {cfg.iterations:>7} iterations  batch {cfg.batch_size:>5}  builds on: {deps}  ({state})")
            if args.time_budget is not None:
                print(chain.describe_pieces(rows, len(args.seeds), args.out, args.time_budget))
            return 0
        done = chain.run_chain(steps, preset, args.seeds, args.out, overrides=args.set, progress=not args.no_progress,
                               budget=budget)
        if budget.stopped:
            print(f"stopped at the time budget after {budget.elapsed():.0f} s ({', '.join(f'{s}: {w}' for s, w in done)}); "
                  f"the same command continues the chain (exit status {STOPPED}; {Path(args.out) / chain.PROGRESS})")
            return STOPPED
        return 0
    if args.command == "warmup-pairs":
        ok = warmup_best_responders(args.warmup)
        print(f"Step-1 criterion ({STEP1.describe()}) per warm-up seed: "
              + ", ".join(f"{s} {'meets' if m else 'misses'}" for s, m in ok.items()))
        first, second = criterion_pairs(args.warmup, len(args.seeds))
        for seed, a, b in zip(args.seeds, first, second):
            print(f"seed {seed}: learners from warm-up agents {a} + {b}")
        print(f"--set 'init_from=[\"{args.warmup}\",\"{args.warmup}\"]' --set 'init_seed_offset=[]' --set 'init_seeds={json.dumps([list(first), list(second)])}'")
        return 0
    if args.command == "evaluate":
        specs = [s.strip() for s in args.coplayers.split(",") if s.strip()]
        if args.coplayer_run is None and not specs:
            raise ValueError(f"--coplayers {args.coplayers!r} names no co-player; e.g. --coplayers tft,allc,random")
        if args.episodes < 1:
            raise ValueError(f"--episodes {args.episodes}: give a number of episodes >= 1")
        for flag, value in (("--learner", args.learner), ("--coplayer-learner", args.coplayer_learner)):
            if value < 0:
                raise ValueError(f"{flag} {value}: learners are numbered from 0")
        if args.out and not Path(args.out).resolve().parent.is_dir():
            raise FileNotFoundError(f"--out {args.out!r}: the folder {str(Path(args.out).parent)!r} does not exist")
        result = ev.evaluate_run(args.run, specs, episodes=args.episodes, learner=args.learner, coplayer_run=args.coplayer_run,
                                 coplayer_learner=args.coplayer_learner, seeds=args.seeds)
        if args.out:
            ev.write_json(result, args.out)
        print(json.dumps(result) if args.json else ev.summary_table(result))
        return 0
    return 2


if __name__ == "__main__":
    exit_with(main())
