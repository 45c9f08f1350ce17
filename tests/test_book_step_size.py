"""sgdlab.book.step_size (chapter step-size): each experiment against a direct computation or a
closed form, the outcome words in both directions, and the tables and ledger."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
from numpy.testing import assert_allclose

import sgdlab
from sgdlab import theory
from sgdlab.landscapes import quadratic, ripple
from sgdlab.book import step_size
from sgdlab.book.tables import Text, number


@pytest.fixture(scope="module")
def bumpy():
    # non-convex (depth > 1) but one-point convex (depth < 4.6); kernels from the disk cache
    return ripple(dim=2, depth=3.0, period=1.0)


def _table_rows(markdown):
    return [line for line in markdown.data.splitlines() if line.startswith("|")][2:]


def test_point_at_distance():
    x = step_size.point_at_distance(7, 2.5, seed=3)
    assert x.shape == (7,)
    assert_allclose(np.linalg.norm(x), 2.5)
    with pytest.raises(ValueError, match="^distance must be a finite number > 0, got 0"):
        step_size.point_at_distance(3, 0, seed=1)


def test_one_point_shape_against_brute_force(bumpy):
    domain = theory.grid(-2.0, 2.0, 41, dim=2)
    shape = step_size.one_point_shape(bumpy, domain, low=-2.0, high=2.0, pairs=3000, seed=5)
    e = domain - bumpy.x_star
    d_sq = np.einsum("ij,ij->i", e, e)
    ok = d_sq > 0
    ratios = np.einsum("ij,ij->i", bumpy.grad(domain), e)[ok] / d_sq[ok]
    assert_allclose([shape.c_prime, shape.lowest], [ratios.max(), ratios.min()])
    assert shape.n_points == ok.sum() and shape.not_positive == 0
    a, b = (-2.0 + 4.0 * (sgdlab.random_starts(3000, span=1.0, dim=2, seed=5, stage=k) + 1.0)
            / 2.0 for k in (0, 1))  # [-1, 1) mapped onto [-2, 2)
    excess = bumpy.f((a + b) / 2) - (bumpy.f(a) + bumpy.f(b)) / 2
    assert shape.non_convex_pairs == np.count_nonzero(excess > 1e-12) > 0
    assert shape.summary()["one-point"] == "every ratio is positive"
    assert shape.summary()["one-point-verdict"] == "is"


def test_one_point_shape_words_when_not_one_point_convex():
    deep = ripple(dim=1, depth=6.0, period=0.5)  # spurious minima: some ratios are negative
    shape = step_size.one_point_shape(deep, theory.grid(-1.0, 1.0, 201), low=-1.0, high=1.0,
                                      pairs=100)
    words = shape.summary()
    assert shape.not_positive > 0 and words["one-point-verdict"] == "is not"
    assert str(words["one-point"]).endswith(f"of the {shape.n_points} ratios are not positive")


def test_figure4_steps_against_direct_steps(bumpy):
    x_t = np.array([0.8, 0.5])
    picture = step_size.figure4_steps(bumpy, x_t, c_prime=4.0)
    g, e = bumpy.grad(x_t), x_t - bumpy.x_star
    assert_allclose(picture.eta0, 2 * g @ e / (g @ g))
    assert_allclose(picture.eta3, 2 * 4.0 * (e @ e) / (g @ g))
    for name, lr in picture.lrs.items():
        after = np.linalg.norm(x_t - lr * g - bumpy.x_star) / np.linalg.norm(e)
        assert_allclose(picture.ratios[name], after, rtol=1e-10)
    assert_allclose(np.cos(np.radians(picture.angle)), g @ e / np.linalg.norm(g)
                    / np.linalg.norm(e))
    assert picture.summary()["closer"] == "only the first gets closer"


def test_figure4_words_follow_the_ratios(bumpy):
    picture = step_size.figure4_steps(bumpy, [0.8, 0.5], c_prime=4.0)
    picture.ratios = {"small": 0.5, "between": 0.9, "large": 1.1}
    assert picture.summary()["closer"] == "first and second get closer"
    picture.ratios = {"small": 1.5, "between": 1.9, "large": 1.1}
    assert picture.summary()["closer"] == "none of them gets closer"


def test_theorem3_check_against_direct_distances(bumpy):
    pts = theory.ball(2.0, 40, 2, seed=4)
    check = step_size.theorem3_check(bumpy, pts, c_prime=4.0, n_lrs=7, shown=5)
    eta0 = theory.overshoot_lr(bumpy, pts)
    eta3 = theory.theorem3_threshold(bumpy, pts, c_prime=4.0)
    before = np.sum((pts - bumpy.x_star) ** 2, axis=1)
    counts = {"below": [0, 0], "between": [0, 0], "above": [0, 0]}
    for lr in check.lrs:
        after = np.sum((pts - lr * bumpy.grad(pts) - bumpy.x_star) ** 2, axis=1)
        for i in range(len(pts)):
            name = ("below" if lr < eta0[i] else "above" if lr > eta3[i] else "between")
            wrong = {"below": after[i] >= before[i], "between": after[i] <= before[i],
                     "above": after[i] < before[i]}[name]
            counts[name][0] += 1
            counts[name][1] += int(wrong)
    assert check.counts == {k: tuple(v) for k, v in counts.items()}
    assert check.against == 0 and check.identity_residual < 1e-12
    assert check.relative_change.shape == check.lr_over_eta0.shape == (7, 5)
    assert_allclose(check.gap, eta3 / eta0)
    words = check.summary()
    assert words["outcome"] == "No pair goes against its claim"
    assert words["between-words"] == "all move away"
    assert len(_table_rows(step_size.theorem3_table(check))) == 4


def test_theorem3_words_when_a_claim_fails(bumpy):
    # c' below the true one: Theorem 3's hypothesis fails and so can its conclusion
    check = step_size.theorem3_check(bumpy, theory.ball(2.0, 40, 2, seed=4), c_prime=0.2,
                                     n_lrs=9)
    assert check.counts["above"][1] > 0
    words = check.summary()
    assert str(words["outcome"]).endswith("pairs go against their claim")


def test_theorem3_gap_of_a_quadratic_is_one():
    check = step_size.theorem3_check(quadratic(dim=2), theory.ball(1.0, 30, 2, seed=2),
                                     c_prime=1.0, n_lrs=5)
    assert_allclose(check.gap, 1.0, rtol=1e-12)


def test_orthogonal_shares():
    shares = step_size.orthogonal_shares((1, 3), depth=3.0, period=0.5, distance=3.0,
                                         noise=1.0, draws=4000, seed=4)
    assert shares[1] == pytest.approx((0.0, 0.0), abs=1e-12)  # in 1-D all noise is along u
    assert shares[3][1] == pytest.approx(2 / 3, abs=0.03)
    assert len(_table_rows(step_size.orthogonal_table(shares))) == 2


def test_one_step_means_against_the_formula(bumpy):
    x_t, noise = np.array([0.8, 0.5]), 0.7
    lrs = np.array([0.05, 0.3, 1.0])
    one = step_size.one_step_means(bumpy, x_t, lrs, noise=noise, draws=3000, seed=1)
    g, e = bumpy.grad(x_t), x_t - bumpy.x_star
    direct = [np.sum((x_t - lr * g) ** 2) + lr**2 * 2 * noise**2 / 3 for lr in lrs]
    assert_allclose(one.predicted, direct, rtol=1e-12)
    assert_allclose(one.eta_w, 2 * g @ e / (g @ g + 2 * noise**2 / 3))
    assert np.all(np.abs(one.z) < 5)
    words = one.summary()
    assert words["agree"] == "agree" and words["sooner"].text.startswith("already")


def test_one_step_means_seeds_do_not_collide_across_calls(bumpy):
    """Seed 0's second step size and seed 1's first draw different noise (not seed + k)."""
    x_t = [0.8, 0.5]
    two = step_size.one_step_means(bumpy, x_t, [0.1, 0.3], noise=0.7, draws=50, seed=0)
    one = step_size.one_step_means(bumpy, x_t, [0.3], noise=0.7, draws=50, seed=1)
    assert two.measured[1] != one.measured[0]
    with pytest.raises(ValueError, match="^lrs must be at most 500 step sizes, got 501$"):
        step_size.many_steps(np.ones(2), np.geomspace(0.01, 1, 501), noise=1.0, steps=1,
                             trials=2, seed=1)


def test_farther_width_on_a_known_curve():
    """Probability linear in log(ratio) from 0 at a to 1 at b: it climbs from 20% to 80% over
    the factor (b/a)**0.6."""
    ratios = np.geomspace(0.1, 10.0, 401)
    a, b = 0.5, 4.0
    p = np.clip(np.log(ratios / a) / np.log(b / a), 0, 1)
    far = step_size.FartherProbability(ratios=ratios, probability={2: p, 50: p**8})
    assert_allclose(far.width[2], (b / a) ** 0.6, rtol=1e-3)
    assert far.at(2, math.sqrt(a * b)) == pytest.approx(0.5, abs=1e-3)
    assert far.summary()["sharper"] == "a sharper switch"
    far.probability = {2: p**8, 50: p}
    assert far.summary()["sharper"] == "no sharper a switch"


def test_farther_width_is_nan_when_the_grid_misses_the_climb():
    """The climb must start below 20% and end above 80% on the grid; else no width."""
    ratios = np.geomspace(0.1, 10.0, 401)
    p = np.clip(np.log(ratios / 0.5) / np.log(8.0), 0, 1)
    high_start = step_size.FartherProbability(ratios=ratios[200:], probability={2: p[200:]})
    assert p[200] >= 0.2 and math.isnan(high_start.width[2])
    low_end = step_size.FartherProbability(ratios=ratios[:250], probability={2: p[:250]})
    assert p[:250].max() <= 0.8 and math.isnan(low_end.width[2])
    both = step_size.FartherProbability(ratios=ratios, probability={2: p, 50: p[::-1]})
    assert math.isnan(both.width[50]) and not math.isnan(both.width[2])
    assert str(both.summary()["sharper"]).startswith("a switch we cannot size here")


def test_farther_probabilities_run():
    far = step_size.farther_probabilities((2, 20), [0.3, 1.0, 4.0], depth=3.0, period=0.5,
                                          distance=3.0, draws=200, seed=3)
    for p in far.probability.values():
        assert p.shape == (3,) and np.all((0 <= p) & (p <= 1))
        assert p[0] <= p[-1]


def test_many_steps_matches_the_closed_form():
    x0 = step_size.point_at_distance(5, 3.0, seed=6)
    many = step_size.many_steps(x0, [0.01, 0.3, 1.9], noise=1.0, steps=10, trials=2000,
                                seed=7)
    assert np.all(np.abs(many.z) < 5)
    assert_allclose(many.gd + many.noise_only, many.sgd, rtol=0.1)
    assert many.best == 1 and many.summary()["agree"] == "matches"


def test_step_window_on_the_ripple():
    deep = ripple(dim=1, depth=6.0, period=0.5)
    domain = theory.grid(-3.0, 3.0, 301)
    lrs = np.geomspace(1e-3, 0.3, 12)
    window = step_size.step_window(deep, domain, c=0.1, noise=1.0, lrs=lrs,
                                   marks={"small": 0.01})
    bound = theory.lr_lower_bound(deep, domain, c=0.1, noise=1.0, lrs=lrs)
    assert window.bound.lr_min == bound.lr_min
    L = 7.0  # ripple: L = curvature (1 + depth) exactly
    assert_allclose(window.theorem1_max, min(1 / (2 * L), 0.1 / L**2, 1 / (2 * 0.1)),
                    rtol=1e-4)
    x = domain[:, 0]
    slope = deep.grad(domain)[:, 0]
    ok = slope != 0
    c_prime = np.max(slope[x != 0] / x[x != 0])
    assert_allclose(window.eta3_min, np.min(2 * c_prime * x[ok] ** 2 / slope[ok] ** 2))
    words = window.summary()
    assert words["small-holds"] == "fails" and words["small-c"] < 0
    assert str(words["theorem1-words"]).startswith("lies below")


def _window(measured_c, theorem1_max):
    lrs = np.geomspace(1e-3, 1.0, len(measured_c))
    bound = theory.LrLowerBound(c=0.1, lrs=lrs, measured_c=np.array(measured_c), noise=1.0)
    return step_size.StepWindow(bound=bound, theorem1_max=theorem1_max, eta3_min=0.5,
                                marks={})


@pytest.mark.parametrize("measured_c, theorem1_max, start", [
    ([0.0, 0.0, 0.0, 0.0], 1.0, "has no Remark's bound"),  # no lr reaches c: lr_min is nan
    ([0.0, 0.0, 0.2, 0.2], 0.01, "lies below the Remark's bound"),
    ([0.0, 0.2, 0.2, 0.0], 0.2, "leaves a window"),  # fails again above Theorem 1's bound
    ([0.0, 0.2, 0.0, 0.2], 1.0, "lies above the Remark's bound, but Assumption 1 fails"),
])
def test_step_window_theorem1_words(measured_c, theorem1_max, start):
    assert str(_window(measured_c, theorem1_max).summary()["theorem1-words"]).startswith(start)


def test_schedule_runs_first_spurious_minimum_against_a_fine_grid():
    deep = ripple(dim=1, depth=6.0, period=0.5)
    s = np.linspace(0.0, 1.0, 20001)
    f = deep.f(s)
    inner = np.arange(1, s.size - 1)
    minima = s[inner[(f[1:-1] < f[:-2]) & (f[1:-1] < f[2:])]]
    maxima = s[inner[(f[1:-1] > f[:-2]) & (f[1:-1] > f[2:])]]
    runs = step_size.schedule_runs(ripple(dim=2, depth=6.0, period=0.5), deep,
                                   np.full((2, 2), 0.3), {name: [0.01, 0.01] for name in
                                                          step_size.SCHEDULE_NAMES},
                                   noise=0.0, chunk=2, seed=0, gd_lr=0.01)
    assert runs.spurious_min == pytest.approx(minima[0], abs=1e-4)
    assert runs.basin_edge == pytest.approx(maxima[0], abs=1e-4)
    convex = step_size.schedule_runs(ripple(dim=2, depth=1.0), ripple(dim=1, depth=1.0),
                                     np.full((2, 2), 0.3), {name: [0.01, 0.01] for name in
                                                            step_size.SCHEDULE_NAMES},
                                     noise=0.0, chunk=2, seed=0, gd_lr=0.01)
    assert math.isnan(convex.spurious_min) and convex.basin_edge == 1.0  # one basin


def test_schedule_runs_table_and_words():
    deep, profile = ripple(dim=3, depth=6.0, period=0.5), ripple(dim=1, depth=6.0, period=0.5)
    x0 = np.random.default_rng(7).uniform(-3, 3, (8, 3))
    schedules = {"constant small": [0.01] * 4, "constant large": [0.0625] * 4,
                 "large, then small": [0.0625] * 2 + [0.01] * 2,
                 "too large, then small": [0.25] * 2 + [0.01] * 2}
    runs = step_size.schedule_runs(deep, profile, x0, schedules, noise=1.0, chunk=20, seed=8,
                                   gd_lr=0.01)
    assert runs.switch == 2 and all(len(c) == 5 for c in runs.curves.values())
    assert_allclose(runs.curves["constant small"][0], np.linalg.norm(x0, axis=1).mean())
    assert_allclose(runs.curves["large, then small"][:3], runs.curves["constant large"][:3])
    words = runs.summary()
    assert {"constant-small-final", "too-large-then-small-switch", "best-words"} <= set(words)
    assert len(_table_rows(step_size.schedule_table(runs))) == 5


@pytest.mark.parametrize("schedules, message", [
    ({"constant small": [0.01] * 2}, "^schedules must be a dict with the keys"),
    ({name: [0.01] for name in step_size.SCHEDULE_NAMES}, "^schedules must be at least 2 stages"
     ".*, got 1 stage"),
])
def test_schedule_runs_bad_schedules(schedules, message):
    deep = ripple(dim=1, depth=6.0, period=0.5)
    with pytest.raises(ValueError, match=message):
        step_size.schedule_runs(deep, deep, np.ones((2, 1)), schedules, noise=1.0, chunk=2,
                                seed=1, gd_lr=0.01)


def test_ledger_has_a_verdict_per_claim(bumpy):
    pts = theory.ball(2.0, 30, 2, seed=4)
    check = step_size.theorem3_check(bumpy, pts, c_prime=4.0, n_lrs=5)
    picture = step_size.figure4_steps(bumpy, [0.8, 0.5], c_prime=4.0)
    deep = ripple(dim=1, depth=6.0, period=0.5)
    window = step_size.step_window(deep, theory.grid(-3.0, 3.0, 101), c=0.1, noise=1.0,
                                   lrs=np.geomspace(1e-3, 0.3, 8))
    one = step_size.one_step_means(bumpy, [0.8, 0.5], [0.1, 1.0], noise=0.5, draws=50, seed=1)
    many = step_size.many_steps(np.ones(2), [0.01, 0.5, 1.9], noise=1.0, steps=3, trials=20,
                                seed=1)
    rows = step_size.ledger(**_sgd_ledger_inputs(check=check, picture=picture, window=window,
                                                 one=one, many=many))
    assert len(rows) == 15 and {r["source"] for r in rows} == {"paper", "ours"}
    assert all(r["verdict"].value in ("yes", "no", "can't tell") for r in rows)
    assert isinstance(step_size.OnePointShape(1, 1, 1, 0, 1, 0).summary()["one-point"], Text)


def _sgd_ledger_inputs(**change):
    """Ledger inputs on which every claim holds (stand-ins with the fields it reads)."""
    ratios = np.geomspace(0.1, 10.0, 9)
    finals = {"constant small": 2.0, "constant large": 3.0, "large, then small": 1.0,
              "too large, then small": 1.5}
    base = dict(
        check=SimpleNamespace(counts={"above": (10, 0), "below": (10, 0), "between": (10, 0)},
                              gap=np.array([1.0, 1.5]), identity_residual=1e-15,
                              boundary_relative=1e-15),
        picture=SimpleNamespace(ratios={"small": 0.5, "large": 1.5}),
        window=SimpleNamespace(bound=SimpleNamespace(lr_min=0.01,
                                                     holds=np.array([False, True]))),
        shares={3: (0.66, 0.66)},
        one=SimpleNamespace(z=np.array([0.5, -1.0]), eta_w=0.5, eta0=1.0),
        far=step_size.FartherProbability(ratios=ratios, probability={2: ratios / 10,
                                                                     9: ratios / 10}),
        many=SimpleNamespace(z=np.array([0.5]), sgd=np.array([10.0, 0.5, 20.0]), best=1,
                             u_shaped=True, steps=50),
        runs=SimpleNamespace(final=finals.get), dim=3)
    base.update(change)
    return base


def _far(width):
    return SimpleNamespace(width=width)


SGD_FALSE_DATA = {   # claim (start) -> a change of the inputs on which it is false
    "Theorem 3": dict(check=SimpleNamespace(counts={"above": (10, 2), "below": (10, 0),
                                                    "between": (10, 0)},
                                            gap=np.array([1.0]), identity_residual=0.0,
                                            boundary_relative=0.0)),
    "identity:": dict(check=SimpleNamespace(counts={"above": (10, 0), "below": (10, 1),
                                                    "between": (10, 0)},
                                            gap=np.array([1.0]), identity_residual=0.0,
                                            boundary_relative=0.0)),
    "the identity holds": dict(check=SimpleNamespace(
        counts={"above": (1, 0), "below": (1, 0), "between": (1, 0)}, gap=np.array([1.0]),
        identity_residual=1e-6, boundary_relative=0.0)),
    "at $\\eta = \\eta_0$": dict(check=SimpleNamespace(
        counts={"above": (1, 0), "below": (1, 0), "between": (1, 0)}, gap=np.array([1.0]),
        identity_residual=0.0, boundary_relative=1e-6)),
    "Theorem 3's threshold": dict(check=SimpleNamespace(
        counts={"above": (1, 0), "below": (1, 0), "between": (1, 0)}, gap=np.array([0.9]),
        identity_residual=0.0, boundary_relative=0.0)),
    "Figure 4": dict(picture=SimpleNamespace(ratios={"small": 1.2, "large": 1.5})),
    "Remark": dict(window=SimpleNamespace(bound=SimpleNamespace(
        lr_min=0.001, holds=np.array([True, True])))),
    "most noise": dict(shares={3: (0.5, 0.5)}),
    "one-step mean": dict(one=SimpleNamespace(z=np.array([5.0]), eta_w=0.5, eta0=1.0)),
    "with noise": dict(one=SimpleNamespace(z=np.array([0.0]), eta_w=1.2, eta0=1.0)),
    "a sharp switch": dict(far=_far({2: 1.0, 9: 2.0})),
    "many steps": dict(many=SimpleNamespace(z=np.array([6.0]), sgd=np.array([10.0, 0.5, 20.0]),
                                            best=1, u_shaped=True, steps=50)),
    "in a budget": dict(many=SimpleNamespace(z=np.array([0.0]), sgd=np.array([1.0, 0.5, 20.0]),
                                             best=1, u_shaped=False, steps=50)),
    "large then small": dict(runs=SimpleNamespace(final={
        "constant small": 0.5, "constant large": 3.0, "large, then small": 1.0,
        "too large, then small": 1.5}.get)),
    "too large then small": dict(runs=SimpleNamespace(final={
        "constant small": 2.0, "constant large": 1.2, "large, then small": 1.0,
        "too large, then small": 1.5}.get)),
}


def test_each_ledger_row_says_no_where_its_claim_is_false(glued):
    far = _far({2: 2.0, 9: 1.0})
    rows = step_size.ledger(**_sgd_ledger_inputs(far=far))
    undecided = {r["claim"].split(" (")[0] for r in rows if r["verdict"].value == "can't tell"}
    assert {r["verdict"].value for r in rows} == {"yes", "can't tell"}
    assert undecided == {"most noise is orthogonal to $x_t - x^*$", "with noise, SGD moves away "
                         "sooner"}     # they follow from the noise model and a formula
    step_size.glue_ledger(rows)
    assert glued["ledger-paper"] == "4 yes, 0 no and 2 can't tell"
    assert glued["ledger-ours"] == "9 yes, 0 no and 0 can't tell"
    for start, change in SGD_FALSE_DATA.items():
        rows = step_size.ledger(**_sgd_ledger_inputs(**{"far": far, **change}))
        said = [r["verdict"].value for r in rows if r["claim"].startswith(start)]
        assert said[0] == ("can't tell" if start in ("most noise", "with noise") else "no"), start
    paper, ours = (step_size.ledger_table(rows, s).data for s in ("paper", "ours"))
    assert "Figure 4" in paper and "Figure 4" not in ours and "in a budget of 50" in ours


def test_assumption_words_follow_the_runs():
    window = SimpleNamespace(bound=SimpleNamespace(c=0.1), marks={"large": (0.0625, 0.05)})
    runs = SimpleNamespace(stuck={"constant large": 0.0})
    assert step_size.assumption_words(window, runs).endswith("not necessary for SGD to do well")
    runs = SimpleNamespace(stuck={"constant large": 0.25})
    assert step_size.assumption_words(window, runs).endswith("leaves 25% of the coordinates in "
                                                             "spurious basins")
    window = SimpleNamespace(bound=SimpleNamespace(c=0.1), marks={"large": (0.0625, 0.2)})
    assert "cannot tell whether SGD needs" in step_size.assumption_words(window, runs)


def test_many_steps_says_which_part_keeps_the_small_step_far():
    x0 = step_size.point_at_distance(5, 3.0, seed=6)
    many = step_size.many_steps(x0, [0.001, 0.3], noise=1.0, steps=10, trials=200, seed=7)
    assert str(many.summary()["small-why"]).startswith("its GD part dominates")
    many = step_size.many_steps(np.zeros(5) + 1e-3, [0.5, 0.6], noise=1.0, steps=10, trials=200,
                                seed=7)
    assert str(many.summary()["small-why"]).startswith("its noise part dominates")


# -- the live Figure 4 explorer (book/_static/live/figure4.js) ---------------------------------
@pytest.fixture(scope="module")
def bowl():
    from js.fixture_figure4 import A, BETA, BOWL, OMEGA, X_T
    return dict(landscape=BOWL, A=A, beta=BETA, omega=OMEGA, x_t=X_T)


def test_live_figure4_config_and_picture(bowl):
    live = step_size.live_figure4(bowl["landscape"], A=bowl["A"], beta=bowl["beta"],
                                  omega=bowl["omega"], x_t=bowl["x_t"], c_prime=7.0, lr=0.3,
                                  lr_range=(0.01, 10.0), levels=5)
    assert live.kind == "figure4" and live.png.startswith(b"\x89PNG")
    assert live.config == {"A": bowl["A"].tolist(), "beta": 0.375, "omega": 2.0,
                           "x_star": [0.0, 0.0], "x_t": [0.5, 1.5], "c_prime": 7.0,
                           "lr": 0.3, "lr_range": [0.01, 10.0], "half_width": 2.0,
                           "levels": 5}
    assert 'data-explorer="figure4"' in live.html and "sgdlab-live-static" in live.html
    assert "x_t = (0.5, 1.5)" in live.alt


@pytest.mark.parametrize("change, error, message", [
    ({"A": [[1.0, 0.5], [0.0, 1.0]]}, ValueError, "^A must be a symmetric positive definite"),
    ({"A": [[1.0, 0.0], [0.0, -1.0]]}, ValueError, "^A must be a symmetric positive definite"),
    ({"A": "bowl"}, TypeError, "^A must be a 2 x 2 array of numbers, got str"),
    ({"beta": 0.5}, ValueError, "^landscape must be the rippled bowl of A, beta and omega"),
    ({"omega": float("nan")}, ValueError, "^omega must be a finite number, got nan"),
    ({"c_prime": 0}, ValueError, "^c_prime must be a finite number > 0, got 0"),
    ({"lr": 20.0}, ValueError, "^lr must be a finite number >= 0.01 and <= 10, got 20"),
    ({"lr_range": (1.0, 0.1)}, ValueError, r"^lr_range must be \(low, high\) with 0 < low"),
    ({"lr_range": 3.0}, TypeError, r"^lr_range must be \(low, high\), got 3.0"),
    ({"x_t": [0.0, 0.0]}, ValueError, "^x_t must differ from x"),
    ({"half_width": -1}, ValueError, "^half_width must be a finite number > 0, got -1"),
    ({"levels": 0}, ValueError, "^levels must be an integer >= 1, got 0"),
])
def test_live_figure4_bad_arguments(bowl, change, error, message):
    args = dict(bowl, c_prime=7.0, lr=0.3) | change
    with pytest.raises(error, match=message):
        step_size.live_figure4(args.pop("landscape"), **args)


def test_live_figure4_needs_the_bowl(bumpy):
    from js.fixture_figure4 import A
    with pytest.raises(ValueError, match="^landscape must be the rippled bowl"):
        step_size.live_figure4(bumpy, A=A, beta=0.375, omega=2.0, x_t=[0.5, 1.5],
                               c_prime=7.0, lr=0.3)


def test_many_steps_says_a_blown_up_end_in_words():
    x0 = step_size.point_at_distance(5, 3.0, seed=6)
    many = step_size.many_steps(x0, [0.3, 2.2], noise=1.0, steps=50, trials=50, seed=7)
    words = str(many.summary()["large-words"])
    assert "it has blown up" in words and "(1 - η)² = 1.44 per step" in words
    many = step_size.many_steps(x0, [0.3, 1.5], noise=1.0, steps=50, trials=50, seed=7)
    assert str(many.summary()["large-words"]) == number(float(many.sgd[-1]))
