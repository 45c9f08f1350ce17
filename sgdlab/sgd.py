"""Public SGD runners: many independent trials at once, schedules, and the paper's y_t view.

Conventions (used everywhere in sgdlab and the book):

* one step is :math:`x_{t+1} = x_t - \\eta(\\nabla f(x_t) + w_t)` with ``lr`` :math:`=\\eta` and
  :math:`w_t` uniform in the box :math:`[-W, W]^d`, ``noise`` :math:`= W` (``noise=0`` is GD);
* the paper's auxiliary sequence is :math:`y_t = x_t - \\eta\\nabla f(x_t)` (Section 1, eq. 1),
  and :math:`x_{t+1} = y_t - \\eta w_t`;
* so SGD approximately runs gradient descent on :math:`f` convolved with the box of radius
  ``lr * noise`` (:math:`\\eta W`), see :func:`sgdlab.convolve`.
"""

from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np

from . import _kernels, _rng
from .landscapes import Landscape, get

__all__ = ["SGDResult", "ScheduleResult", "run_sgd", "run_schedule"]

_MAX_PATH_BYTES = 2 * 1024**3


@dataclass
class SGDResult:
    """Outcome of :func:`run_sgd`: final iterates of every trial and their y view."""

    x: np.ndarray
    """Final iterates :math:`x_T`, shape (trials, dim)."""
    y: np.ndarray
    """:math:`y_T = x_T - \\eta\\nabla f(x_T)`, shape (trials, dim)."""
    diverged: np.ndarray
    """Per-trial flag: the iterate left the floating-point range (x is not finite)."""
    lr: float
    noise: float
    steps: int
    seed: int
    x_star: np.ndarray
    path: np.ndarray | None = field(default=None, repr=False)
    """All iterates, shape (steps + 1, trials, dim), when run with ``record=True``."""

    @property
    def trials(self):
        return self.x.shape[0]

    @property
    def smoothing_radius(self):
        """Radius :math:`\\eta W` of the box the loss is effectively convolved with."""
        return self.lr * self.noise

    def distance(self):
        """:math:`\\|x_T - x^*\\|` per trial (inf for diverged trials)."""
        if self.x_star is None:
            raise ValueError("this landscape has no x_star; distances to x* are undefined")
        d = np.linalg.norm(self.x - self.x_star, axis=1)
        return np.where(self.diverged, np.inf, d)

    def share_within(self, radius):
        """Share of trials with :math:`\\|x_T - x^*\\| \\le` ``radius`` (diverged count as out)."""
        return float(np.mean((self.distance() <= radius) & ~self.diverged))


@dataclass
class ScheduleResult:
    """Outcome of :func:`run_schedule`: one :class:`SGDResult` per stage."""

    stages: list

    @property
    def x(self):
        """Final iterates after the last stage."""
        return self.stages[-1].x

    @property
    def diverged(self):
        return self.stages[-1].diverged


def _check_real(value, name, *, positive=False):
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value) or (value <= 0 if positive else value < 0):
        expected = "finite and > 0" if positive else "finite and >= 0"
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return value


def _check_int(value, name, *, upper=None):
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if value < 0 or (upper is not None and value >= upper):
        bound = f" and < {upper}" if upper is not None else ""
        raise ValueError(f"{name} must be >= 0{bound}, got {value!r}")
    return value


def _as_landscape(landscape):
    if isinstance(landscape, str):
        return get(landscape)
    if not isinstance(landscape, Landscape):
        raise TypeError(
            f"landscape must be a sgdlab.Landscape or a landscape name, got "
            f"{type(landscape).__name__}"
        )
    return landscape


def _as_start(x0, dim):
    """Validated copy of the starting points as a C-contiguous (trials, dim) float64 array."""
    try:
        x = np.array(x0, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"x0 must be an array of numbers, got {type(x0).__name__}") from None
    if dim == 1 and x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != dim:
        raise ValueError(
            f"x0 must have shape (trials, {dim}) for this {dim}-dimensional landscape, "
            f"got shape {x.shape}"
        )
    if x.shape[0] == 0:
        raise ValueError("x0 must hold at least one trial, got an empty array")
    if not np.all(np.isfinite(x)):
        bad = int(np.count_nonzero(~np.isfinite(x)))
        raise ValueError(f"x0 must be finite, got {bad} non-finite value(s)")
    return np.ascontiguousarray(x)


def _run(land, x, lr, noise, steps, key, first_trial, record, first_step=0):
    """Run the kernel in place on ``x`` (already validated); returns the recorded path."""
    trials, dim = x.shape
    if record:
        nbytes = (steps + 1) * trials * dim * 8
        if nbytes > _MAX_PATH_BYTES:
            raise ValueError(
                f"record=True would store {(steps + 1) * trials * dim} numbers "
                f"({nbytes / 1024**3:.1f} GiB); use fewer steps or trials (limit 2 GiB)"
            )
        path = np.empty((steps + 1, trials, dim))
    else:
        path = np.empty((0, 0, 0))
    if land.is_separable:
        _kernels.sgd_separable(land._grad1, land.params, x, lr, noise, steps, key,
                               first_trial, first_step, path)
    else:
        _kernels.sgd_general(land._grad, x, lr, noise, steps, key, first_trial, first_step, path)
    return path if record else None


def _result(land, x, lr, noise, steps, seed, path):
    diverged = ~np.all(np.isfinite(x), axis=1)
    with np.errstate(invalid="ignore", over="ignore"):
        y = x - lr * land.grad(x)
    return SGDResult(x=x, y=y, diverged=diverged, lr=lr, noise=noise, steps=steps, seed=seed,
                     x_star=land.x_star, path=path)


def run_sgd(landscape, x0, *, lr, noise, steps, seed=0, record=False, first_trial=0,
            first_step=0):
    """Run many independent trials of SGD (GD when ``noise=0``).

    .. math:: x_{t+1} = x_t - \\eta\\,(\\nabla f(x_t) + w_t), \\qquad
              w_t \\sim U[-W, W]^d

    Parameters
    ----------
    landscape : Landscape or str
        The function, or the name of a built-in one (``"spiky"``, ``"quadratic"``).
    x0 : array_like, shape (trials, dim)
        One starting point per trial (shape (trials,) is accepted when dim is 1).
    lr : float
        Step size :math:`\\eta > 0`.
    noise : float
        Bound :math:`W \\ge 0` of the uniform gradient noise.
    steps : int
        Number of steps T >= 0.
    seed : int
        The noise of trial ``i`` at step ``t`` is a function of (seed, i, t) only: results are
        identical for any thread count and any batching of the trials.
    record : bool
        Keep every iterate in ``result.path`` (shape (steps + 1, trials, dim)).
    first_trial : int
        Index of the first trial of ``x0`` in a larger batch: running ``x0[:k]`` and then
        ``x0[k:]`` with ``first_trial=k`` gives exactly the same numbers as one run.
    first_step : int
        Index of the first step in a longer run: running ``k`` steps and then continuing from
        their result with ``first_step=k`` gives exactly the same numbers as one run (so a long
        run can be split into pieces, or resumed).

    Returns
    -------
    SGDResult
        Final iterates ``x``, the paper's ``y`` (eq. 1), per-trial ``diverged`` flags.
    """
    land = _as_landscape(landscape)
    lr = _check_real(lr, "lr", positive=True)
    noise = _check_real(noise, "noise")
    steps = _check_int(steps, "steps")
    seed = _check_int(seed, "seed", upper=2**63)
    first_trial = _check_int(first_trial, "first_trial", upper=2**62)
    first_step = _check_int(first_step, "first_step", upper=2**62)
    x = _as_start(x0, land.dim)
    path = _run(land, x, lr, noise, steps, np.uint64(_rng.seed_key(seed, 0)), first_trial,
                bool(record), first_step)
    return _result(land, x, lr, noise, steps, seed, path)


def _check_stages(stages):
    if isinstance(stages, (str, bytes)) or not hasattr(stages, "__iter__"):
        raise TypeError(f"stages must be a sequence of (lr, noise, steps), got {stages!r}")
    stages = list(stages)
    if not stages:
        raise ValueError("stages must hold at least one (lr, noise, steps) stage, got none")
    checked = []
    for k, stage in enumerate(stages):
        if isinstance(stage, dict):
            try:
                stage = (stage["lr"], stage["noise"], stage["steps"])
            except KeyError as err:
                raise ValueError(f"stages[{k}] lacks the key {err.args[0]!r}") from None
        try:
            lr, noise, steps = stage
        except (TypeError, ValueError):
            raise ValueError(f"stages[{k}] must be (lr, noise, steps), got {stage!r}") from None
        checked.append((_check_real(lr, f"stages[{k}] lr", positive=True),
                        _check_real(noise, f"stages[{k}] noise"),
                        _check_int(steps, f"stages[{k}] steps")))
    return checked


def run_schedule(landscape, x0, stages, seed=0, *, record=False, progress=False):
    """Run SGD in stages, each restarting from the previous stage's final iterates.

    ``stages`` is a sequence of ``(lr, noise, steps)`` (or dicts with those keys), e.g.
    shrinking noise as in Figure 3, row 3, or shrinking step sizes (Corollary 2). Stage ``k``
    draws its noise from the stream (seed, k). A trial that diverges stays diverged.
    """
    land = _as_landscape(landscape)
    checked = _check_stages(stages)
    seed = _check_int(seed, "seed", upper=2**63)
    x = _as_start(x0, land.dim)
    iterator = enumerate(checked)
    if progress:
        from tqdm.auto import tqdm
        iterator = tqdm(iterator, total=len(checked), desc="stages")
    results = []
    for k, (lr, noise, steps) in iterator:
        x = x.copy()
        path = _run(land, x, lr, noise, steps, np.uint64(_rng.seed_key(seed, k)), 0, bool(record))
        results.append(_result(land, x, lr, noise, steps, seed, path))
    return ScheduleResult(stages=results)
