"""The numbers the chapters' figures and explorers show, each from :mod:`sgdlab.theory` and a
run of :func:`sgdlab.run_sgd`: Theorem 1's constants beside SGD (chapter :ref:`main-theorem`)
and Theorem 3's step sizes at one point (chapter :ref:`step-size`).

No plotting here (matplotlib is not imported): :mod:`sgdlab.viz.figures` draws these.
"""

import math

import numpy as np

from .. import landscapes, theory
from ..sgd import run_sgd
from .. import _validate as validate

__all__ = ["theorem1_start_rows", "theorem1_measurements", "step_point", "step_size_measurements", "one_step_ratios"]


# -- Theorem 1: the constants against a measured SGD run (chapter main-theorem) --------------
def theorem1_start_rows(n_points, trials, seed):
    """The rows of the domain that :func:`theorem1_measurements` starts its trials from by
    default (numpy's generator of ``seed``; the page's Theorem 1 explorer receives them).

    Returns
    -------
    numpy.ndarray
        ``trials`` row indices in [0, n_points).
    """
    return np.random.default_rng(seed).integers(n_points, size=trials)


def _theorem1_starts(theorem, land, x0, trials, *, lr, noise, seed):
    """The starting points (rows of the domain drawn at random by default), checked by
    :func:`sgdlab.run_sgd` (a run of 0 steps), and the largest :math:`\\|y_0-x^*\\|^2`."""
    if x0 is None:
        points = theorem.assumption.x
        x0 = points[theorem1_start_rows(points.shape[0], trials, seed)]
    x = run_sgd(land, x0, lr=lr, noise=noise, steps=0, seed=seed).x
    return x, float(theory.y_distance_sq(land, x, lr=lr).max())


def _quantile(dist_sq, quantile):
    """The quantile of distances that may be inf (diverged trials): inf, not nan, when it
    falls between two of those."""
    with np.errstate(invalid="ignore"):
        value = float(np.quantile(dist_sq, quantile))
    return math.inf if math.isnan(value) else value


def theorem1_measurements(landscape, domain, *, lr, noise, trials=1000, x0=None, steps=None,
                          max_steps=2000, quantile=0.9, seed=0):
    """Theorem 1's constants measured on ``domain`` for one (lr, noise), next to SGD itself.

    L, c and the rest come from :func:`sgdlab.theory.measure` (exact smoothing for separable
    landscapes). Then ``trials`` SGD runs start from ``x0`` (default: rows of ``domain`` drawn
    at random) and run ``steps`` steps; by default Theorem 1's
    :math:`T_1 = \\log(\\lambda\\max\\|y_0-x^*\\|^2/b)/\\lambda`, rounded up, or ``max_steps``
    when :math:`T_1` is undefined (:math:`\\lambda \\le 0`) or larger. The distances
    :math:`\\|y_t-x^*\\|^2` come from :func:`sgdlab.theory.y_distance_sq`. Chapter
    :ref:`main-theorem`.

    Returns
    -------
    theorem : sgdlab.theory.Theorem1
    dist_sq : numpy.ndarray
        The final :math:`\\|y_T-x^*\\|^2` per trial (inf when diverged).
    info : dict
        Plain Python numbers: ``L``, ``c``, ``violations``, ``r``, ``lam``, ``b``,
        ``radius_sq`` (:math:`20b/\\lambda`, inf when :math:`\\lambda \\le 0`), ``T1`` (nan
        when undefined), ``dist0_sq`` (the largest :math:`\\|y_0-x^*\\|^2`), ``steps``,
        ``step_size_ok``, ``failing`` (the step-size bounds that fail, comma-separated),
        ``quantile``, ``measured`` (that quantile of :math:`\\|y_T-x^*\\|^2`, inf when it
        falls among diverged trials),
        ``share_within`` (share of trials with :math:`\\|y_T-x^*\\|^2 \\le 20b/\\lambda`) and
        ``diverged``.
    """
    theorem = theory.measure(landscape, domain, lr=lr, noise=noise)
    land = landscapes.as_landscape(landscape)
    trials = validate.integer("trials", trials, low=1)
    max_steps = validate.integer("max_steps", max_steps, low=0)
    quantile = validate.real("quantile", quantile, above=0, below=1)
    x, dist0_sq = _theorem1_starts(theorem, land, x0, trials, lr=lr, noise=noise, seed=seed)
    T1 = theory.theorem1(lr=lr, L=theorem.L, c=theorem.c, r=theorem.r, dist0_sq=dist0_sq).T1
    if steps is None:
        steps = max_steps if not math.isfinite(T1) else min(max(math.ceil(T1), 1), max_steps)
    run = run_sgd(land, x, lr=lr, noise=noise, steps=steps, seed=seed)
    dist_sq = np.where(run.diverged, np.inf, theory.y_distance_sq(land, run.x, lr=lr))
    radius_sq = theorem.radius_sq if theorem.lam > 0 else math.inf
    info = {"L": float(theorem.L), "c": float(theorem.c),
            "violations": int(theorem.assumption.violations), "r": float(theorem.r),
            "lam": float(theorem.lam), "b": float(theorem.b), "radius_sq": float(radius_sq),
            "T1": float(T1), "dist0_sq": dist0_sq, "steps": int(run.steps),
            "step_size_ok": bool(theorem.step_size_ok),
            "failing": ", ".join(theorem.failing) if theorem.c > 0 else "c <= 0",
            "quantile": quantile, "measured": _quantile(dist_sq, quantile),
            "share_within": (float(np.mean(dist_sq <= radius_sq)) if math.isfinite(radius_sq)
                             else math.nan),
            "diverged": int(run.diverged.sum())}
    return theorem, dist_sq, info


# -- Theorem 3: one step at a point of a 2-D landscape (chapter step-size) -------------------
def step_point(landscape, x_t):
    """The landscape and the point of a Figure-4 picture, checked: a 2-D landscape with an
    x*, and a point x_t that differs from it.

    Returns
    -------
    land : sgdlab.Landscape
    x : numpy.ndarray
        ``x_t`` as 2 floats, shape (2,).
    """
    land = landscapes.as_landscape(landscape, need_target=True)
    if land.dim != 2:
        raise ValueError(f"landscape must be 2-dimensional for this picture, got dim={land.dim}")
    try:
        x = np.array(x_t, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise TypeError(f"x_t must be a point (2 numbers), got {x_t!r}") from None
    if x.shape != (2,) or not np.all(np.isfinite(x)):
        raise ValueError(f"x_t must be 2 finite numbers, got {x_t!r}")
    if np.array_equal(x, land.x_star):
        raise ValueError(f"x_t must differ from x* = {land.x_star.tolist()}: the ball through "
                         "x_t has radius 0 there")
    return land, x


def _noisy_runs(land, point, *, lr, noise, steps, trials, seed):
    """One SGD step and ``steps`` steps from ``point``, ``trials`` times each; without noise,
    one GD run stands for both."""
    gd_run = run_sgd(land, point, lr=lr, noise=0.0, steps=steps)
    gd_t = float(gd_run.distance()[0] ** 2)
    if noise == 0:
        return None, None, gd_t, gd_t, int(gd_run.diverged.sum())
    starts = np.repeat(point, trials, axis=0)
    one = run_sgd(land, starts, lr=lr, noise=noise, steps=1, seed=seed)
    run = run_sgd(land, starts, lr=lr, noise=noise, steps=steps, seed=seed + 1)
    return (one.x, one.distance() ** 2, gd_t, float(np.mean(run.distance() ** 2)),
            int(run.diverged.sum()))


def step_size_measurements(landscape, x_t, *, lr, noise=0.0, steps=20, trials=200,
                           c_prime=None, seed=0):
    """Theorem 3 at one point x_t of a 2-D landscape: one GD step and ``trials`` SGD steps.

    For GD the squared distance to x* changes by the exact identity

    .. math:: \\|x_{t+1}-x^*\\|^2 - \\|x_t-x^*\\|^2 = \\eta(\\eta\\|\\nabla f\\|^2
              - 2\\langle\\nabla f, x_t-x^*\\rangle)

    (:func:`sgdlab.theory.gd_distance_change`); SGD's mean adds
    :math:`\\eta^2 E\\|w\\|^2 = \\eta^2 d W^2/3`. The step sizes where one step stops getting
    closer: exact (:func:`sgdlab.theory.overshoot_lr`), Theorem 3's
    (:func:`sgdlab.theory.theorem3_threshold`, when ``c_prime`` is given) and the noisy
    break-even :math:`2\\langle\\nabla f, x_t-x^*\\rangle/(\\|\\nabla f\\|^2 + dW^2/3)`.

    Returns
    -------
    info : dict
        Plain floats: ``dist_sq`` (before), ``gd_one_step``, ``sgd_one_step_mean`` and
        ``sgd_one_step_stderr`` (measured over ``trials`` draws), ``sgd_one_step_predicted``,
        ``overshoot_lr``, ``theorem3_lr`` (nan without ``c_prime``), ``noisy_lr``,
        ``gd_after_steps``, ``sgd_after_steps_mean`` (squared distances after ``steps``
        steps; inf when diverged) and ``sgd_diverged`` (count).
    cloud : numpy.ndarray or None
        The ``trials`` points one SGD step from x_t, shape (trials, 2); None without noise.
    """
    land, x = step_point(landscape, x_t)
    point = x[None, :]
    gd_change = float(theory.gd_distance_change(land, point, lr=lr)[0])  # checks lr
    lr, noise = float(lr), validate.real("noise", noise, low=0)
    steps = validate.integer("steps", steps, low=1)
    trials = validate.integer("trials", trials, low=2)
    e = x - land.x_star
    dist_sq = float(e @ e)
    eta3 = (float(theory.theorem3_threshold(land, point, c_prime=c_prime)[0])
            if c_prime is not None else float("nan"))
    cloud, d1, gd_t, sgd_t, diverged = _noisy_runs(land, point, lr=lr, noise=noise,
                                                   steps=steps, trials=trials, seed=seed)
    gd_one = dist_sq + gd_change
    sgd_one, sgd_err = ((float(d1.mean()), float(d1.std(ddof=1) / np.sqrt(trials)))
                        if d1 is not None else (gd_one, 0.0))
    info = {"dist_sq": dist_sq, "gd_one_step": gd_one, "sgd_one_step_mean": sgd_one,
            "sgd_one_step_stderr": sgd_err,
            "sgd_one_step_predicted": float(gd_one + lr**2 * theory.noise_second_moment(
                noise, land.dim)),
            "overshoot_lr": float(theory.overshoot_lr(land, point)[0]), "theorem3_lr": eta3,
            "noisy_lr": float(theory.overshoot_lr(land, point, noise=noise)[0]),
            "gd_after_steps": gd_t, "sgd_after_steps_mean": sgd_t, "sgd_diverged": diverged}
    return info, cloud


def one_step_ratios(landscape, x_t, lrs, *, noise=0.0):
    """The squared distance to x* after one step over before, at each step size of ``lrs``:
    for GD exactly, :math:`1 + \\eta(\\eta\\|\\nabla f\\|^2 - 2\\langle\\nabla f,
    x_t-x^*\\rangle)/\\|x_t-x^*\\|^2`, and for SGD in mean, which adds
    :math:`\\eta^2 dW^2/3` to the numerator.

    Returns
    -------
    gd, sgd_mean : numpy.ndarray
        One ratio per step size.
    """
    land, x = step_point(landscape, x_t)
    lrs = np.asarray(lrs, dtype=np.float64).ravel()
    rows = np.repeat(x[None, :], lrs.size, axis=0)
    return (theory.one_step_ratio(land, rows, lr=lrs),
            theory.one_step_ratio(land, rows, lr=lrs, noise=noise))
