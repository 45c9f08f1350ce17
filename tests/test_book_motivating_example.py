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
from sgdlab.smoothing import basins_1d, in_spurious_basin, minima_1d  # noqa: E402
from sgdlab.book import motivating_example, verdicts  # noqa: E402
from sgdlab.book.motivating_example import Setting  # noqa: E402

SMALL = Setting(width="fixed", period=0.1, beta=0.3, growth=0, lr=4e-3, right=0.05, large=0.2)
WIDE = Setting.of(sgdlab.landscapes.MOTIVATING)
CLAIMS = motivating_example.CLAIMS


def test_setting_radii_noise_steps_and_words():
    s = Setting(width="sqrt", period=0.08, beta=0.1, growth=2, lr=5e-4, right=0.05, large=0.4)
    assert s.radius("GD") == 0.0 and s.radius("small") == pytest.approx(0.025)
    assert s.noise("right") == pytest.approx(100.0) and s.noise("large") == pytest.approx(800)
    assert s.steps == 6000
    assert_array_equal(s.landscape().params, [0.1, 12.5, 2.0, 1.0])
    assert repr(s) == ("spiky(width='sqrt', beta=0.1, period=0.08, growth=2), η = 0.0005, "
                       "6,000 steps; W = 50 (small), 100 (right), 800 (large)")
    assert Setting.of(s.definition()) == s
    assert set(motivating_example.NAMES) == set(CLAIMS)


def test_spurious_basins_and_nearest_minimum_match_sgdlab_smoothing():
    x = np.r_[np.linspace(-3.6, 3.6, 733), np.nan]
    for setting in (SMALL, WIDE):
        land = setting.landscape()
        for level in ("GD", "small", "right"):
            r = setting.radius(level)
            assert_array_equal(motivating_example._spurious(setting.key(), x, r),
                               in_spurious_basin(land, x, radius=r, span=3.5, n_points=7001))
        spurious = minima_1d(land, radius=setting.radius("small"), span=3.5,
                             n_points=7001).spurious
        nearest = np.min(np.abs(spurious)) if spurious.size else math.inf
        assert motivating_example.nearest_spurious(setting) == nearest


def test_check_member_against_direct_runs():
    member = motivating_example.check_member(WIDE, trials=60, seeds=(7, 8))
    land, s = WIDE.landscape(), WIDE
    for seed, n in zip((7, 8), member.numbers):
        x0 = sgdlab.random_starts(60, span=3.0, seed=seed)
        gd = sgdlab.run_sgd(land, x0, lr=s.lr, noise=0.0, steps=s.steps, seed=seed)
        stuck = in_spurious_basin(land, gd.x, radius=0.0, span=3.5, n_points=7001)
        reached = basins_1d(land, gd.x[stuck], radius=0.0, span=3.5, n_points=7001)
        assert n["stuck_share"] == stuck.mean()
        assert n["stuck_minima"] == np.unique(reached).size
        small = sgdlab.run_sgd(land, x0, lr=s.lr, noise=s.noise("small"), steps=s.steps,
                               seed=seed)
        found = in_spurious_basin(land, small.x, radius=s.radius("small"), span=3.5,
                                  n_points=7001)
        assert n["small_share"] == found.mean()
        assert n["small_inside"] == np.sum(found & (np.abs(small.x[:, 0]) <= 1.5))
        right = sgdlab.run_sgd(land, x0, lr=s.lr, noise=s.noise("right"), steps=s.steps,
                               seed=seed)
        assert n["right_share"] == right.share_within(1.5)
        assert n["right_spread"] == np.std(right.x)
        # the restart: new starts in [-1.5, 1.5], stage stream 1 (as row 3's second panel)
        x1 = sgdlab.random_starts(60, span=1.5, seed=seed, stage=1)
        restart = reference.run_sgd_python(land, x1, lr=s.lr, noise=s.noise("small"),
                                           steps=s.steps, seed=seed, stream=1)
        assert n["restart_spread"] == pytest.approx(np.std(restart), rel=1e-12)
        large = sgdlab.run_sgd(land, x0, lr=s.lr, noise=s.noise("large"), steps=s.steps,
                               seed=seed)
        assert n["large_spread"] == np.std(large.x)
    assert set(member.holds) == set(CLAIMS) and member.seeds == [7, 8]


GOOD = {"stuck_share": 0.6, "stuck_minima": 15, "small_share": 0.1, "small_inside": 0,
        "right_share": 0.9, "right_spurious": 0, "right_spread": 0.3, "restart_spread": 0.15,
        "large_spread": 1.0, "large_escaped": 0}
FALSE = {"stuck": [{"stuck_share": 0.4}, {"stuck_minima": 9}],
         "small": [{"small_share": 0.01}, {"small_inside": 1}],
         "right": [{"right_share": 0.4}, {"right_spurious": 1}],
         "restart": [{"restart_spread": 0.3}, {"restart_spread": math.inf}],
         "large": [{"large_spread": 0.3}, {"large_escaped": 1}]}


def test_each_claim_says_no_on_data_where_it_is_false():
    holds, margins = motivating_example.judge_claims(GOOD, nearest=2.0)
    assert all(holds.values())
    assert margins["stuck"] == pytest.approx(0.2) and margins["restart"] == pytest.approx(1 / 3)
    for key, cases in FALSE.items():
        for change in cases:
            holds, _ = motivating_example.judge_claims({**GOOD, **change}, nearest=2.0)
            assert not holds[key] and sum(holds.values()) == 4, (key, change)
    holds, _ = motivating_example.judge_claims(GOOD, nearest=1.4)  # a bad minimum inside
    assert not holds["restart"]


def _member(numbers, nearest=2.0, seeds=5):
    holds, margins = motivating_example.judge_claims(numbers, nearest)
    return motivating_example.Member(WIDE, list(range(seeds)), [numbers] * seeds, nearest,
                                     holds, margins)


def test_verdicts_yes_no_and_cant_tell():
    judged = motivating_example.claim_verdicts(_member(GOOD))
    assert {str(v) for v in judged.values()} == {"yes"}
    for key, cases in FALSE.items():
        for change in cases:
            judged = motivating_example.claim_verdicts(_member({**GOOD, **change}))
            assert judged[key].value == "no", (key, change)
    judged = motivating_example.claim_verdicts(_member(GOOD, nearest=1.2))
    assert judged["restart"].value == "no"
    # 52% of 100 trials in one seed: the 95% bound straddles "at least 50%"
    judged = motivating_example.claim_verdicts(_member({**GOOD, "stuck_share": 0.52}, seeds=1))
    assert judged["stuck"].value == "can't tell" and "too few" in judged["stuck"].reason


def test_ledger_rows_follow_the_data(fig3_wide):
    search = motivating_example.SearchResult([], [], _member(GOOD), {}, 0.0)
    search.best = motivating_example.Member(**{**vars(search.best), "setting": WIDE})
    rows = motivating_example.ledger_rows(search, fig3_wide)
    paper, ours = verdicts.split(rows)
    assert len(paper) == 5 and len(ours) == 4
    assert verdicts.tally(paper) == {"yes": 5, "no": 0, "can't tell": 0}
    bad = {**GOOD, "stuck_share": 0.1, "small_inside": 2, "right_spurious": 3,
           "restart_spread": 0.5, "large_escaped": 1}
    search.best = _member(bad)
    rows = motivating_example.ledger_rows(search, fig3_wide)
    paper, ours = verdicts.split(rows)
    assert verdicts.tally(paper) == {"yes": 0, "no": 5, "can't tell": 0}
    assert str(ours[2]["verdict"]) == "no"  # not all five claims
    assert "10 of them inside" in paper[1]["measured"]  # 2 in each of 5 seeds
    assert str(ours[3]["verdict"]) == "yes"  # the pick is MOTIVATING
    assert str(motivating_example.ledger_rows(search, fig3_wide, definition={})[-1][
        "verdict"]) == "no"
    with pytest.raises(ValueError, match="fig3 must be runs of the search's best member"):
        motivating_example.ledger_rows(search, motivating_example.figure3_runs(
            SMALL, trials=5, stages=1))


TINY = {"widths": ("fixed", "sqrt"), "periods": {"fixed": (0.2,), "sqrt": (0.08,)},
        "betas": (0.1,), "growths": (0,), "lrs": (4e-3,), "rights": (0.04, 0.05),
        "larges": (4,)}


def test_search_ranks_by_score_not_by_the_order_of_the_grid():
    result = motivating_example.search_family(TINY, trials=30, seeds=(0, 1), finalists=3)
    assert len(result.members) == 4 and len(result.finalists) == 3
    scores = [m.score for m in result.finalists]
    assert scores == sorted(scores, reverse=True) and result.best is result.finalists[0]
    assert result.best.seeds == [0, 1] and result.seconds > 0
    flipped = motivating_example.search_family({**TINY, "widths": ("sqrt", "fixed"),
                                                "rights": (0.05, 0.04)},
                                               trials=30, seeds=(0, 1), finalists=3)
    assert flipped.best.setting == result.best.setting
    for (a, b), n in result.pairs.items():
        assert n == sum(m.holds[a] and m.holds[b] for m in result.members)
    assert result.all_hold == (result.best.count == 5)


def test_conflict_text_follows_the_outcome():
    every = motivating_example.SearchResult([], [], _member(GOOD), {}, 1.0)
    text = motivating_example.conflict_text(every)
    assert text.startswith("it satisfies all five claims in each of its 5 seeds")
    assert "thinnest margin is on “GD stuck”, 20% beyond" in text
    some = motivating_example.SearchResult([], [], _member({**GOOD, "small_inside": 1}),
                                           {("small", "restart"): 0, ("stuck", "large"): 2},
                                           1.0)
    text = motivating_example.conflict_text(some)
    assert text == ("it satisfies 4 of the five claims in every seed, not “bad minima "
                    "outside”; no screened member satisfies both of “bad minima outside” and "
                    "“restart closer”")
    with pytest.raises(TypeError, match="search must be a SearchResult"):
        motivating_example.conflict_text("search")


@pytest.mark.slow
def test_the_books_search_picks_the_motivating_definition():
    """The chapter's search, at its settings, picks sgdlab.landscapes.MOTIVATING, the f the
    main theorem's chapter and the introduction use."""
    result = motivating_example.search_family()
    assert result.best.setting == WIDE and result.all_hold


@pytest.fixture(scope="module")
def fig3_wide():
    return motivating_example.figure3_runs(WIDE, trials=20, stages=2, seed=0)


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
    assert config["landscape"] == {"width": "fixed", "beta": SMALL.beta,
                                   "period": SMALL.period, "growth": SMALL.growth}
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
        motivating_example.live_explorer(Setting("fixed", 0.2, 0.01, 0, 1e-4, 0.05, 0.2))
    with pytest.raises(ValueError, match="level must be one of"):
        motivating_example.live_explorer(SMALL, level="huge")
    with pytest.raises(ValueError, match="setting.lr must be a finite number >= 1e-12"):
        motivating_example.live_explorer(Setting("fixed", 0.2, 0.01, 0, 1e-13, 0.05, 0.2))


def test_panel_rows(fig3):
    rows = motivating_example.panel_rows(fig3)
    assert len(rows) == 4 + 2 * 3
    gd = rows[0]
    assert gd["within 1.5"] == fig3.row2["GD"].share_within(1.5)
    assert_allclose(gd["std"], np.std(fig3.row2["GD"].x))
    assert [r["key"] for r in rows[:5]] == ["GD", "small", "right", "large", "noise-1"]
    land = SMALL.landscape()
    for row in rows:
        spurious = minima_1d(land, radius=row["radius"], span=3.5, n_points=7001).spurious
        assert row["bad minima in region"] == np.sum(np.abs(spurious) <= row["region"])
    assert gd["bad minima in region"] > 0  # f's spikes: minima everywhere
    # the first restart of both readings is the small noise from [-1.5, 1.5] (the paper's F3,2)
    for key in ("noise-2", "lr-2"):
        row = next(r for r in rows if r["key"] == key)
        assert row["radius"] == pytest.approx(SMALL.radius("small")) and row["region"] == 1.5


def test_plots_draw_the_runs(fig3):
    """Figure 3 draws f and its exact convolutions (row 1) and every final iterate of every run
    (rows 2-4); the search figure counts the members by claims held."""
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
    result = motivating_example.search_family(TINY, trials=10, seeds=(0,), finalists=1)
    left, right = motivating_example.plot_search(result).axes
    heights = np.zeros(6)
    for bar in left.patches:
        heights[int(round(bar.get_x() + bar.get_width() / 2))] += bar.get_height()
    assert_array_equal(heights, np.bincount([m.count for m in result.members], minlength=6))
    assert [t.get_text() for t in right.get_yticklabels()] == list(
        motivating_example.NAMES.values())


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


def test_bad_minimum_and_the_basin_sentence():
    land = WIDE.landscape()
    x_min, width = motivating_example.bad_minimum(land, near=0.0)
    spurious = minima_1d(land, radius=0.0, span=3.5, n_points=70001).spurious
    assert abs(x_min) == pytest.approx(np.min(np.abs(spurious)), abs=1e-4) and abs(x_min) > 1
    assert abs(land.grad([x_min])[0]) < 1e-2 and 0 < width < 1
    step = motivating_example.one_step(land, [x_min + 0.01], lr=WIDE.lr,
                                       noise=WIDE.noise("right"), trials=50, seed=4)
    text = motivating_example.basin_sentence(step, width)
    reach = 2 * WIDE.radius("right")
    assert ("wider than" in text) == (width > reach) and "0.1" in text
    assert text.startswith({True: "most", False: "some"}[step.share_escaped > 0.5]) or (
        step.share_escaped == 0 and text.startswith("none"))
    narrow = motivating_example.basin_sentence(step, reach / 2)
    assert "narrower than" in narrow
    with pytest.raises(ValueError, match="landscape must be a landscape with a spurious"):
        motivating_example.bad_minimum(sgdlab.landscapes.quadratic(), near=1.0)
