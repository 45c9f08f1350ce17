"""sgdlab.book.motivating_example (Figure 3's claims, search, runs, ledger) and
sgdlab.book.motivating_example (Figures 1 and 2), against direct sgdlab calls."""

import math

import matplotlib
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

matplotlib.use("Agg")

import sgdlab  # noqa: E402
from sgdlab import reference  # noqa: E402
from sgdlab.smoothing import in_spurious_basin  # noqa: E402
from sgdlab.book import motivating_example  # noqa: E402
from sgdlab.book.motivating_example import Setting  # noqa: E402

SMALL = Setting(period=0.1, beta=0.3, growth=0, lr=4e-3)


def test_setting_radii_noise_and_steps():
    s = Setting(period=0.2, beta=0.01, growth=4, lr=5e-4, small=0.375)
    assert s.radius("GD") == 0.0 and s.radius("right") == pytest.approx(0.1)
    assert s.noise("small") == pytest.approx(0.075 / 5e-4)
    assert s.steps == 6000 and s.height == pytest.approx(0.81)
    assert_array_equal(s.landscape().params, [0.01, 5.0, 4.0])


def test_check_member_against_direct_runs():
    member = motivating_example.check_member(SMALL, trials=60, seeds=3, seed=7)
    land = SMALL.landscape()
    x0 = sgdlab.random_starts(60, span=3.0, seed=7)
    gd = sgdlab.run_sgd(land, x0, lr=SMALL.lr, noise=0.0, steps=SMALL.steps, seed=7)
    stuck = in_spurious_basin(land, gd.x, radius=0.0)
    assert member.numbers["stuck_share"] == pytest.approx(stuck.mean())
    assert member.holds["stuck"] == (stuck.mean() >= 0.5 and member.numbers["stuck_minima"]
                                     >= 10)
    shares = [sgdlab.run_sgd(land, sgdlab.random_starts(60, span=3.0, seed=8 + k),
                             lr=SMALL.lr, noise=SMALL.noise("right"), steps=SMALL.steps,
                             seed=8 + k).share_within(1.5) for k in range(3)]
    assert member.holds["all_near"] == (min(shares) == 1.0)
    assert set(member.holds) == set(motivating_example.CLAIMS) and 0 <= member.count <= 4


def test_convexity_claim_against_the_exact_second_derivative():
    """A member with fast-growing spikes is convex near 0; the plain one is not."""
    for setting, convex in ((Setting(period=0.4, beta=1.0 / 3**8, growth=8, lr=4e-3), True),
                            (SMALL, False)):
        member = motivating_example.check_member(setting, trials=10, seeds=1)
        land, r = setting.landscape(), setting.radius("restart")
        y = np.linspace(-1.5, 1.5, 301)
        h = 1e-4
        second = (land.smoothed(y + h, radius=r) - 2 * land.smoothed(y, radius=r)
                  + land.smoothed(y - h, radius=r)) / h**2
        assert member.holds["convex"] == convex == bool(np.min(second) >= -1e-3)


def test_convex_claim_checks_the_restart_noise_of_the_panels():
    """With a small radius (0.375 periods) unlike the restart's (0.25), the claim and the
    panel table's "convex g" of the first restart still check the same g."""
    setting = Setting(period=0.2, beta=0.1 / 3**4, growth=4, lr=4e-3, small=0.375)
    assert setting.radius("restart") == pytest.approx(0.05) != setting.radius("small")
    member = motivating_example.check_member(setting, trials=10, seeds=1)
    fig = motivating_example.figure3_runs(setting, trials=5, stages=2)
    rows = {r["key"]: r for r in motivating_example.panel_rows(fig)}
    for key in ("noise-2", "lr-2"):
        assert rows[key]["radius"] == pytest.approx(setting.radius("restart"))
        assert rows[key]["convex"] == member.holds["convex"]
    land, y = setting.landscape(), np.linspace(-1.5, 1.5, 3001)[:, None]
    slope = land.smoothed_grad(y, radius=setting.radius("restart"))[:, 0]
    assert member.numbers["min_curvature"] == pytest.approx(np.min(np.diff(slope)) / 1e-3)


def test_search_counts_pairs_and_picks_the_first_best():
    result = motivating_example.search_family(periods=(0.1,), heights=(0.3,), growths=(0, 8),
                                      lrs=(4e-3,), smalls=(0.25,), trials=20, seeds=2)
    assert len(result.members) == 2
    counts = [m.count for m in result.members]
    assert result.best is result.members[counts.index(max(counts))]
    for (a, b), n in result.pairs.items():
        assert n == sum(m.holds[a] and m.holds[b] for m in result.members)
    assert result.all_hold == (max(counts) == 4)
    # GD is stuck in neither member (20 trials, spikes of relative height 0.3 at |x| = 3),
    # so every pair with "stuck" is a conflict, and the sentence names each conflict
    assert not any(m.holds["stuck"] for m in result.members) and not result.all_hold
    assert ("stuck", "convex") in result.conflicts
    text = motivating_example.conflict_text(result)
    assert text.startswith("no member satisfies all four")
    for a, b in result.conflicts:
        assert motivating_example.LABELS[a] in text and motivating_example.LABELS[b] in text


def test_conflict_text_follows_the_outcome():
    member = motivating_example.Member(SMALL, dict.fromkeys(motivating_example.CLAIMS, True), {})
    every = motivating_example.SearchResult([member], member, {("stuck", "outside"): 1})
    assert motivating_example.conflict_text(every).endswith("satisfies all four claims")
    assert motivating_example.conflict_text(every, SMALL).endswith("the chapter uses the first")
    other = Setting(period=0.2, beta=0.3, growth=0, lr=4e-3)
    assert motivating_example.conflict_text(every, other).endswith("uses another member")
    member = motivating_example.Member(SMALL, {**dict.fromkeys(motivating_example.CLAIMS, True),
                                       "convex": False}, {})
    result = motivating_example.SearchResult([member], member, {("stuck", "convex"): 0,
                                                        ("stuck", "outside"): 1})
    text = motivating_example.conflict_text(result)
    assert result.conflicts == [("stuck", "convex")] and "no member satisfies both" in text
    with pytest.raises(TypeError, match="search must be a SearchResult"):
        motivating_example.conflict_text("search")


@pytest.fixture(scope="module")
def fig3():
    return motivating_example.figure3_runs(SMALL, trials=40, stages=3, seed=2)


def test_figure3_row3_restarts_from_new_points(fig3):
    land = SMALL.landscape()
    for reading in ("noise", "lr"):
        runs = fig3.row3[reading]
        assert [r.smoothing_radius for r in runs] == pytest.approx([0.05, 0.025, 0.0125])
        for k, run in enumerate(runs):
            x0 = sgdlab.random_starts(40, span=3 / 2**k, seed=2, stage=k)
            assert np.all(np.abs(x0) <= 3 / 2**k)
            # stage k: its own starts, the noise of stage stream k (the pure-Python reference)
            direct = reference.run_sgd_python(land, x0, lr=run.lr, noise=run.noise,
                                                     steps=math.ceil(3 / run.lr), seed=2,
                                                     stream=k)
            assert_array_equal(run.x, direct)
    assert_array_equal(fig3.row3["noise"][0].x, fig3.row2["right"].x)  # stage 0 is row 2's
    assert [r.lr for r in fig3.row3["lr"]] == pytest.approx([4e-3, 2e-3, 1e-3])
    assert {r.noise for r in fig3.row3["lr"]} == {SMALL.noise("right")}
    assert fig3.regions == [3.0, 1.5, 0.75]


def test_figure3_row3_is_the_live_explorers_run(fig3):
    """Row 3 ("noise") is what the page's explorer computes at 3 stages: stage k starts from
    random_starts(stage=k) and draws its noise from stage stream k (run_schedule)."""
    land = SMALL.landscape()
    live = motivating_example.explorer_runs(land, lr=SMALL.lr, noise=SMALL.noise("right"), trials=40,
                                    steps=SMALL.steps, stages=3, seed=2)
    for run, mine in zip(fig3.row3["noise"], live.stages):
        assert_array_equal(run.x, mine.x)
        assert (run.lr, run.noise, run.steps) == (mine.lr, mine.noise, mine.steps)
    restarts = [sgdlab.random_starts(40, span=3 / 2**k, seed=2, stage=k) for k in (1, 2)]
    stages = [(SMALL.lr, SMALL.noise("right") / 2**k, SMALL.steps) for k in range(3)]
    direct = sgdlab.run_schedule(land, sgdlab.random_starts(40, span=3.0, seed=2), stages,
                                 seed=2, restarts=restarts)
    assert_array_equal(direct.x, live.x)


def test_explorer_runs_continue_and_rows():
    land = SMALL.landscape()
    kw = dict(lr=SMALL.lr, noise=SMALL.noise("right"), trials=30, steps=200, stages=2, seed=5)
    live = motivating_example.explorer_runs(land, restart="continue", **kw)
    x0 = sgdlab.random_starts(30, span=3.0, seed=5)
    direct = sgdlab.run_schedule(land, x0, [(kw["lr"], kw["noise"] / 2**k, 200)
                                            for k in range(2)], seed=5)
    assert_array_equal(live.x, direct.x)
    rows = motivating_example.explorer_rows(land, live)
    for row, run in zip(rows, live.stages):
        spurious = in_spurious_basin(land, run.x, radius=run.smoothing_radius, span=3.5,
                                     n_points=7001)
        assert row["within"] == np.mean(np.abs(run.x[:, 0]) <= 1.5)
        assert row["spurious"] == spurious.mean() and row["diverged"] == 0
        assert row["spurious inside"] == np.mean(spurious & (np.abs(run.x[:, 0]) <= 1.5))
    with pytest.raises(ValueError, match="restart must be one of"):
        motivating_example.explorer_runs(land, restart="again", **kw)


def test_live_explorer_html_config_and_fallback():
    live = motivating_example.live_explorer(SMALL, trials=20, stages=2, seed=3)
    config = live.config
    assert config["landscape"] == {"beta": SMALL.beta, "period": SMALL.period,
                                   "growth": SMALL.growth}
    settings = config["settings"]
    assert (settings["lr"], settings["noise"], settings["steps"]) == (
        SMALL.lr, SMALL.noise("right"), SMALL.steps)
    assert settings["grid"] == {"span": 3.5, "nPoints": 7001}
    assert config["levels"]["large"] == SMALL.noise("large")
    assert config["limits"] == {**motivating_example.LIMITS, "lr": (1e-12, 1e3),
                                "noise": (0.0, 1e9)}  # the page types none of them
    assert live.png.startswith(b"\x89PNG")
    html = live._repr_html_()
    assert html.startswith('<div class="sgdlab-live" data-explorer="motivating"')
    assert 'class="sgdlab-live-static"' in html and "&quot;restart&quot;" in html
    assert motivating_example.live_explorer(SMALL, trials=np.int64(3)).config["settings"]["trials"] == 3
    with pytest.raises(ValueError, match="trials must be"):
        motivating_example.live_explorer(SMALL, trials=5000)
    with pytest.raises(ValueError, match=r"seed must be an integer >= 0 and < 2\*\*53"):
        motivating_example.live_explorer(SMALL, seed=2**60)
    with pytest.raises(ValueError, match="setting.steps must be an integer >= 1 and <= 20000"):
        motivating_example.live_explorer(Setting(period=0.2, beta=0.01, growth=0, lr=1e-4))
    with pytest.raises(ValueError, match="level must be one of"):
        motivating_example.live_explorer(SMALL, level="huge")
    with pytest.raises(ValueError, match="setting.lr must be a finite number >= 1e-12"):
        motivating_example.live_explorer(Setting(period=0.2, beta=0.01, growth=0, lr=1e-13))


def test_panel_rows_and_ledger(fig3):
    rows = motivating_example.panel_rows(fig3)
    assert len(rows) == 4 + 2 * 3
    gd = rows[0]
    assert gd["within 1.5"] == fig3.row2["GD"].share_within(1.5)
    assert_allclose(gd["std"], np.std(fig3.row2["GD"].x))
    land, y, h = SMALL.landscape(), np.linspace(-0.75, 0.75, 301), 1e-4
    r = fig3.row3["lr"][-1].smoothing_radius
    second = (land.smoothed(y + h, radius=r) - 2 * land.smoothed(y, radius=r)
              + land.smoothed(y - h, radius=r)) / h**2
    assert rows[-1]["convex"] == bool(np.min(second) >= -1e-3)
    # GD's g is f itself, whose spikes make it non-convex on [-1.5, 1.5]
    assert np.min(np.diff(land.grad(np.linspace(-1.5, 1.5, 3001)))) < 0
    assert gd["convex"] is False and [r["key"] for r in rows[:5]] == [
        "GD", "small", "right", "large", "noise-1"]
    search = motivating_example.SearchResult([motivating_example.check_member(SMALL, trials=20, seeds=1)],
                                     None, {})
    search.best = search.members[0]
    ledger = motivating_example.ledger_rows(search, fig3)
    assert len(ledger) == 8 and {r["agrees"] for r in ledger} <= {"yes", "no"}
    stds = [np.std(r.x) for r in fig3.row3["noise"]]
    assert ledger[5]["agrees"] == ("yes" if all(a > b for a, b in zip(stds, stds[1:]))
                                   else "no")
    other = motivating_example.figure3_runs(Setting(period=0.2, beta=0.3, growth=0, lr=4e-3),
                                    trials=5, stages=1)
    with pytest.raises(ValueError, match="fig3 must be runs of a member"):
        motivating_example.ledger_rows(search, other)


def test_plots_draw_the_runs(fig3):
    """Figure 3 draws f and its exact convolutions (row 1) and every final iterate of every run
    (rows 2-4); the search figure colours each cell by the member's count of claims."""
    fig = motivating_example.plot_figure3(fig3)
    axes = np.array(fig.axes).reshape(4, 4)
    s, land = fig3.setting, fig3.setting.landscape()
    xs = np.linspace(-motivating_example.SPAN, motivating_example.SPAN, 2001)
    assert_allclose(axes[0, 0].lines[0].get_ydata(), land.f(xs))
    for ax, level in zip(axes[0, 1:], motivating_example.LEVELS[1:]):
        assert_allclose(ax.lines[0].get_ydata(), land.smoothed(xs, radius=s.radius(level)))
    rows = (list(fig3.row2.values()), fig3.row3["noise"], fig3.row3["lr"])
    panels = [(ax, run) for row, runs in zip(axes[1:], rows) for ax, run in zip(row, runs)]
    assert len(panels) == 4 + 2 * len(fig3.row3["noise"])
    for ax, run in panels:
        dots = ax.lines[-1].get_xdata()  # the final iterates, drawn last (clipped to the panel)
        lo, hi = ax.get_xlim()
        assert_allclose(np.sort(dots), np.sort(np.clip(run.x[:, 0], lo, hi)))
        assert sum(p.get_height() for p in ax.patches) > 0
    search = motivating_example.SearchResult(
        [motivating_example.check_member(SMALL, trials=10, seeds=1)], None, {})
    search.best = search.members[0]
    (ax,) = motivating_example.plot_search(search).axes
    assert ax.images[0].get_array()[0, 0] == search.members[0].count


def test_bad_arguments():
    with pytest.raises(TypeError, match="setting must be a Setting"):
        motivating_example.check_member("spiky")
    with pytest.raises(ValueError, match="trials must be"):
        motivating_example.check_member(SMALL, trials=0)
    with pytest.raises(ValueError, match="stages must be"):
        motivating_example.figure3_runs(SMALL, stages=0)


def test_one_step_is_x_t_to_y_t_to_x_next():
    land = SMALL.landscape()
    step = motivating_example.one_step(land, [2.006], lr=SMALL.lr, noise=12.5, trials=50, seed=3)
    assert_allclose(step.y_t, 2.006 - SMALL.lr * land.grad([2.006]))
    direct = sgdlab.run_sgd(land, np.full((50, 1), 2.006), lr=SMALL.lr, noise=12.5, steps=1,
                            seed=3)
    assert_array_equal(step.x_next, direct.x)
    noise = (step.y_t - step.x_next) / SMALL.lr
    assert np.all(np.abs(noise) <= 12.5 + 1e-9)
    assert abs(land.grad(step.x_min)[0]) < 1e-6  # x_min is a minimum of f ...
    inward = -land.grad(step.x_next)[:, 0] * (step.x_min[0] - step.x_next[:, 0])
    assert_array_equal(step.escaped, inward <= 0)  # ... and escaping is the paper's test
    assert 0 < step.share_escaped < 1


def test_one_step_without_noise_stays_and_2d_draws():
    land = SMALL.landscape()
    step = motivating_example.one_step(land, [2.003], lr=1e-4, noise=0.0, trials=5)
    assert not step.escaped.any()
    plane = sgdlab.landscapes.spiky(dim=2, beta=0.3, period=0.1)
    step2 = motivating_example.one_step(plane, [2.006, 2.006], lr=SMALL.lr, noise=12.5, trials=30)
    assert step2.x_next.shape == (30, 2)
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2)
    motivating_example.plot_one_step(axes[0], land, step)
    motivating_example.plot_one_step(axes[1], plane, step2)
    with pytest.raises(TypeError, match="x_t must be"):
        motivating_example.one_step(land, "a", lr=0.1, noise=1.0)
    with pytest.raises(ValueError, match="x_t must be"):
        motivating_example.one_step(land, [1.0, 2.0], lr=0.1, noise=1.0)
    with pytest.raises(ValueError, match="lr must be large enough .* within 1,000,000"):
        motivating_example.one_step(land, [2.003], lr=1e-12, noise=0.0)  # GD would need ~1e13 steps
    with pytest.raises(TypeError, match="step must be a OneStep"):
        motivating_example.plot_one_step(axes[0], land, "step")
