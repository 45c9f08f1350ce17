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

import numpy as np

from . import _kernels, _rng, _validate
from ._validate import COUNT_LIMIT, count, fail, flag, integer, points, real
from .landscapes import as_landscape

__all__ = ["SGDResult", "ScheduleResult", "run_sgd", "run_schedule", "random_starts",
           "random_rows"]

_MAX_PATH_BYTES = 2 * 1024**3


@dataclass
class SGDResult:
    """Outcome of :func:`run_sgd`: final iterates of every trial and their y view."""

    x: np.ndarray
    """Final iterates :math:`x_T`, shape (trials, dim)."""
    y: np.ndarray
    """:math:`y_T = x_T - \\eta\\nabla f(x_T)`, shape (trials, dim)."""
    diverged: np.ndarray
    """Whether each trial diverged (the iterate left the floating-point range, so x is not
    finite), shape (trials,)."""
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


def _run(land, x, lr, noise, steps, key, record, first_trial=0, first_step=0):
    """Run SGD in place on ``x`` (validated rows); returns the recorded path or None."""
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
    land.run_steps(x, lr=lr, noise=noise, steps=steps, key=key, first_trial=first_trial,
                   first_step=first_step, path=path)
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
        Number of steps T, 0 <= T < 2**62 (the kernels count in 64-bit integers).
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
    land = as_landscape(landscape)
    lr = real("lr", lr, above=0)
    noise = real("noise", noise, low=0)
    steps = count("steps", steps)
    seed = _validate.seed("seed", seed)
    record = flag("record", record)
    first_trial = integer("first_trial", first_trial, low=0, below=COUNT_LIMIT)
    first_step = integer("first_step", first_step, low=0, below=COUNT_LIMIT)
    x = points("x0", x0, land.dim)
    path = _run(land, x, lr, noise, steps, _rng.make_key(seed, _rng.Stream.SGD), record,
                first_trial, first_step)
    return _result(land, x, lr, noise, steps, seed, path)


def random_starts(trials, *, span, dim=1, seed=0, stage=0):
    """Starting points uniform in the box :math:`[-s, s)^d`, from sgdlab's counter-based stream.

    Coordinate ``j`` of trial ``i`` is ``span * u`` with ``u`` at position ``stage * dim + j``
    of trial i's stream ``Stream.STARTS`` of ``seed``: a pure function of
    (seed, stage, i, j), so the first k trials do not depend on how many are drawn, each stage
    of a schedule gets its own points, and the book's live explorer (JavaScript) draws the
    same numbers.

    Parameters
    ----------
    trials : int
        Number of points (>= 1).
    span : float
        Half-width s > 0 of the box.
    dim : int
        Dimension d >= 1.
    seed : int
    stage : int
        Which set of points (0, 1, ...; e.g. one per restart of Figure 3's row 3).

    Returns
    -------
    ndarray, shape (trials, dim)
    """
    trials = integer("trials", trials, low=1)
    span = real("span", span, above=0)
    dim = integer("dim", dim, low=1)
    seed = _validate.seed("seed", seed)
    stage = integer("stage", stage, low=0, below=2**62 // dim)
    out = np.empty((trials, dim))
    _kernels.uniform_box(_rng.make_key(seed, _rng.Stream.STARTS), span, stage * dim, out)
    return out


def random_rows(trials, *, n_points, seed=0):
    """Row indices uniform in {0, ..., n_points - 1}, from sgdlab's counter-based stream.

    Index ``i`` is :math:`\\lfloor n z_i / 2^{64}\\rfloor`, with :math:`z_i` the 64 bits at
    position 0 of trial i's stream ``Stream.ROWS`` of ``seed``, computed exactly in integers:
    a pure function of (seed, n_points, i), so the first k rows do not depend on how many are
    drawn, and the book's live Theorem 1 explorer (JavaScript, 32-bit halves) draws the same
    rows. Each index has probability :math:`1/n` up to :math:`n/2^{64}`.

    Parameters
    ----------
    trials : int
        Number of indices (>= 1).
    n_points : int
        The number of rows n, 1 <= n < 2**32.
    seed : int

    Returns
    -------
    ndarray of int64, shape (trials,)
    """
    trials = integer("trials", trials, low=1)
    n_points = integer("n_points", n_points, low=1, below=2**32)
    seed = _validate.seed("seed", seed)
    out = np.empty(trials, dtype=np.int64)
    _kernels.uniform_rows(_rng.make_key(seed, _rng.Stream.ROWS), n_points, out)
    return out


def _check_stages(stages):
    if isinstance(stages, (str, bytes)) or not hasattr(stages, "__iter__"):
        fail("stages", "a sequence of (lr, noise, steps)", stages, TypeError)
    stages = list(stages)
    if not stages:
        fail("stages", "a sequence of at least one (lr, noise, steps) stage", shown="none")
    if len(stages) > _rng.STAGES:
        fail("stages", f"at most {_rng.STAGES} stages", shown=f"{len(stages)}")
    checked = []
    for k, stage in enumerate(stages):
        if isinstance(stage, dict):
            if not {"lr", "noise", "steps"} <= stage.keys():
                fail(f"stages[{k}]", "a dict with the keys 'lr', 'noise' and 'steps'", stage)
            stage = (stage["lr"], stage["noise"], stage["steps"])
        try:
            lr, noise, steps = stage
        except (TypeError, ValueError):
            fail(f"stages[{k}]", "(lr, noise, steps)", stage)
        checked.append((real(f"stages[{k}] lr", lr, above=0),
                        real(f"stages[{k}] noise", noise, low=0),
                        count(f"stages[{k}] steps", steps)))
    return checked


def _stage_starts(land, x0, restarts, n_stages):
    """One array of starts per stage: x0, then the ``restarts`` (None: continue)."""
    x0 = points("x0", x0, land.dim)
    if restarts is None:
        return [x0] + [None] * (n_stages - 1)
    if isinstance(restarts, (str, bytes, np.ndarray)) or not hasattr(restarts, "__len__"):
        fail("restarts", "None or a list of arrays of starts, one per stage after the first",
             restarts, TypeError)
    if len(restarts) != n_stages - 1:
        fail("restarts", f"a list of {n_stages - 1} array(s) of starts, one per stage after "
             "the first", shown=f"{len(restarts)}")
    starts = [x0] + [points(f"restarts[{k}]", x, land.dim) for k, x in enumerate(restarts)]
    if any(x.shape != x0.shape for x in starts):
        fail("restarts", f"arrays of the shape of x0, {x0.shape} (the same trials)",
             shown=", ".join(str(x.shape) for x in starts[1:]))
    return starts


def run_schedule(landscape, x0, stages, *, seed=0, record=False, progress=False,
                 restarts=None):
    """Run SGD in stages, each from the previous stage's final iterates or from new points.

    ``stages`` is a sequence of ``(lr, noise, steps)`` (or dicts with those keys), e.g.
    shrinking noise as in Figure 3, row 3, or shrinking step sizes (Corollary 2). Stage ``k``
    draws its noise from the stream ``Stream.SGD + k`` of ``seed`` (so stage 0 is
    :func:`run_sgd` with the same seed; at most ``2**32`` stages).

    ``x0`` is the first stage's starts (shape (trials, dim)). With ``restarts=None`` each
    later stage continues from the previous one's final iterates, and a trial that diverges
    stays diverged. ``restarts``, one array of the shape of ``x0`` per later stage, makes
    each stage start from its own points instead (Figure 3's row 3: new points in a shrinking
    region, :func:`random_starts`).
    """
    land = as_landscape(landscape)
    checked = _check_stages(stages)
    seed = _validate.seed("seed", seed)
    record = flag("record", record)
    starts = _stage_starts(land, x0, restarts, len(checked))
    x = starts[0]
    iterator = enumerate(checked)
    if flag("progress", progress):
        from tqdm.auto import tqdm
        iterator = tqdm(iterator, total=len(checked), desc="stages")
    results = []
    for k, (lr, noise, steps) in iterator:
        x = x.copy() if starts[k] is None else starts[k]
        path = _run(land, x, lr, noise, steps, _rng.make_key(seed, _rng.stage_stream(k)), record)
        results.append(_result(land, x, lr, noise, steps, seed, path))
    return ScheduleResult(stages=results)
