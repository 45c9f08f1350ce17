"""Command line: ``python -m sgdlab run EXPERIMENT [options]`` (see ``--help``).

Runs one Section 5 experiment of :mod:`sgdlab.nn.experiments` and writes its results folder
(``result.npz`` + ``result.json``, and every training run's checkpoints) to ``--out``. The
book's chapters plot such a folder instead of their own book-scale run when it is present.
"""

import argparse
import json
import sys

from .nn import experiments

_EPILOG = """\
experiments:
  trajectory     Figure 5a/5c: <-grad f(x_t), x_T - x_t> at every epoch of every trial, and
                 the mini-batch gradient norms and step lengths seen in training (Section 5.1)
  neighbourhood  Figure 5b: the same at --k random points of the ball of radius --rho around
                 every --probe-every'th epoch, with Hoeffding's confidence (Section 5.2)
  allpairs       Section 5.3: --shared-epochs shared, then --members seeds trained as one
                 ensemble; every epoch of every member against every final solution
  spectrum       Figure 6: from --starts epochs of an lr-0.1 run, --continue-epochs more at
                 --small-lr; loss of each minimum, distance from init, one-point convexity

examples:
  python -m sgdlab run trajectory --out results/trajectory
  python -m sgdlab run trajectory --scale paper --dataset cifar10 --data-dir ~/data \\
      --arch resnet34 --device cuda --out results/paper/trajectory-cifar10-resnet34
  python -m sgdlab run spectrum --scale paper --dataset cifar100 --data-dir ~/data \\
      --device cuda --out results/paper/spectrum-cifar100-resnet --resume
"""


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m sgdlab",
        description="sgdlab: run the Section 5 experiments of Kleinberg, Li and Yuan (ICML "
                    "2018) and save their results.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run", help="run one experiment", epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run one Section 5 experiment and write result.npz + result.json to --out. "
                    "Every option left out takes the value of the --scale preset.")
    run.add_argument("experiment", choices=experiments.EXPERIMENTS, help="which experiment")
    run.add_argument("--scale", choices=experiments.SCALES, default="book",
                     help="preset of every knob: 'book' (digits, small nets, 2-core CPU "
                          "minutes), 'paper' (the paper's settings: CIFAR, 300 epochs, a GPU), "
                          "'tiny' (seconds, for tests); default: book")
    run.add_argument("--dataset", choices=("digits", "cifar10", "cifar100"),
                     help="digits: scikit-learn's bundled 8x8 digits (no download); cifar10 / "
                          "cifar100: read from --data-dir")
    run.add_argument("--data-dir", help="folder holding cifar-10-batches-py/ or "
                                        "cifar-100-python/ (never downloaded)")
    run.add_argument("--arch", choices=("resnet", "densenet", "resnet34", "densenet100"),
                     help="resnet / densenet: ~10K parameters (Sections 5.3-5.4); resnet34 "
                          "(~1.2M) and densenet100 (~0.8M): the paper's Sections 5.1-5.2")
    run.add_argument("--epochs", type=int, help="training epochs (at the large lr for "
                                                "allpairs and spectrum)")
    run.add_argument("--trials", type=int, help="independent training runs (trajectory)")
    run.add_argument("--batch-size", type=int, help="mini-batch size")
    run.add_argument("--lr", type=float, help="initial step size (0.1 in the paper)")
    run.add_argument("--schedule", choices=("step", "smooth", "constant"),
                     help="step: lr, lr/10 after half the epochs, lr/100 after three quarters; "
                          "smooth: x0.99 per epoch; constant")
    run.add_argument("--seed", type=int, help="seed of the first run (others add to it)")
    run.add_argument("--device", choices=("cpu", "cuda"), help="where to train and probe")
    run.add_argument("--limit", type=int, help="use only the first N images of each split")
    run.add_argument("--k", type=int, help="neighbourhood: points per ball (paper: 100)")
    run.add_argument("--rho", type=float, help="neighbourhood: ball radius (paper: 0.5)")
    run.add_argument("--probe-every", type=int, help="neighbourhood: probe every N epochs")
    run.add_argument("--shared-epochs", type=int, help="allpairs: shared first epochs "
                                                       "(paper: 10)")
    run.add_argument("--members", type=int, help="allpairs: trajectories (paper: 50)")
    run.add_argument("--small-lr", type=float, help="spectrum: lr of the continuations "
                                                    "(paper: 0.01)")
    run.add_argument("--continue-epochs", type=int, help="spectrum: epochs of each "
                                                         "continuation (paper: 150)")
    run.add_argument("--starts", type=int, help="spectrum: epochs to continue from")
    run.add_argument("--out", required=True, help="results folder (created; resumable)")
    run.add_argument("--resume", action="store_true",
                     help="continue an interrupted run in --out from its checkpoints")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def main(argv=None):
    """Entry point; returns the process exit status."""
    args = build_parser().parse_args(argv)
    options = {name: getattr(args, name) for name in (
        "dataset", "data_dir", "arch", "epochs", "trials", "batch_size", "lr", "schedule",
        "seed", "device", "limit", "k", "rho", "probe_every", "shared_epochs", "members",
        "small_lr", "continue_epochs", "starts")}
    try:
        result = experiments.run(args.experiment, scale=args.scale, out=args.out,
                                 resume=args.resume, progress=not args.quiet, **options)
    except (ValueError, FileNotFoundError, FileExistsError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(json.dumps({"out": args.out, "config": result["config"],
                      "summary": result["summary"]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
