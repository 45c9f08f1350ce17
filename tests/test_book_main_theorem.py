"""The main-theorem chapter's measurements, tables and glue (sgdlab.book.main_theorem): each
measurement against a closed form or an independent computation, and every outcome sentence
checked both ways, so that no sentence can state what the data has not."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
from numpy.testing import assert_allclose

import sgdlab
from sgdlab import theory
from sgdlab.landscapes import quadratic, ripple, shifted_ripple, spiky
from sgdlab.book import main_theorem


def ripple_slope(s, a=1.0, depth=6.0, period=0.1, shift=0.0):
    """Closed-form f1' of ripple / shifted_ripple (NumPy, independent of sgdlab's kernels)."""
    amplitude, k = a * depth * period**2 / (2 * np.pi**2), 2 * np.pi / period
    return a * s + 0.5 * amplitude * k * np.sin(k * (s - shift * period))


def test_start_distance_is_the_largest_y0_distance():
    land, x0 = quadratic(curvature=2.0), np.array([[1.0], [-3.0], [0.5]])
    # y0 = x0 - lr * 2 x0 = 0.8 x0 at lr = 0.1
    assert_allclose(main_theorem.start_distance(land, x0, lr=0.1), (0.8 * 3.0) ** 2, rtol=1e-6)


def test_one_step_check_against_the_quadratic_closed_form():
    # f = a/2 y^2: y_{t+1} = (1 - lr a)(y - lr w), so E y_{t+1}^2 = (1 - lr a)^2 (y^2 + lr^2 W^2/3)
    land, lr, noise, a = quadratic(curvature=1.0), 0.1, 2.0, 1.0
    y = np.linspace(-2, 2, 9)[:, None]
    thm = theory.measure(land, theory.grid(-2, 2, 101), lr=lr, noise=noise)
    est, numbers = main_theorem.one_step_check(land, thm, y, lr=lr, noise=noise, samples=20_000, seed=3)
    exact = (1 - lr * a) ** 2 * (y[:, 0] ** 2 + lr**2 * noise**2 / 3)
    assert np.all(np.abs(est.mean - exact) < 5 * est.stderr)
    bound = thm.one_step_bound(est.dist_sq)
    assert_allclose(numbers["z_min"], ((bound - est.mean) / est.stderr).min())
    assert numbers["holds"] == numbers["points"] == 9
    # a bound that is too low everywhere is counted as failing everywhere
    _, low = main_theorem.one_step_check(land, thm, y, lr=lr, noise=noise, samples=2000, seed=3,
                               bound=lambda d: 0.5 * d)
    assert low["holds"] < low["points"]


def test_supermartingale_on_a_quadratic():
    land, lr, noise = quadratic(), 0.1, 1.0
    thm = theory.measure(land, theory.grid(-3, 3, 101), lr=lr, noise=noise)
    sup = main_theorem.supermartingale(land, thm, trials=500, start=3.0, lr=lr, noise=noise, seed=1)
    d0 = (3.0 * (1 - lr)) ** 2
    assert_allclose(sup["d0"], d0, rtol=1e-6)
    assert_allclose(sup["T1"], theory.theorem1(lr=lr, L=thm.L, c=thm.c, r=thm.r,
                                                dist0_sq=d0).T1)
    assert sup["mean"].shape == (math.ceil(sup["T1"]) + 1,)
    below = np.flatnonzero(sup["mean"] <= 2 * sup["theorem"].stationary)
    assert sup["reach"] == (below[0] if below.size else -1)
    assert sup["G_up"] == np.count_nonzero(np.diff(sup["G"].mean(axis=1)) > 0)
    assert sup["inc_z_max"] < 3      # the quadratic's contraction is (1 - lr)^2 = 1 - lambda


def test_supermartingale_needs_two_trials():
    land = quadratic()
    thm = theory.measure(land, theory.grid(-3, 3, 101), lr=0.1, noise=1.0)
    with pytest.raises(ValueError, match="trials must be an integer >= 2, got 1"):
        main_theorem.supermartingale(land, thm, trials=1, start=3.0, lr=0.1, noise=1.0, seed=1)


def _trace(final, steps=1):
    dist = np.vstack([np.full_like(final, 9.0)] * steps + [final]).astype(np.float32)
    return theory.YTrace(dist_sq=dist, x=np.zeros((final.size, 1)), lr=0.1, noise=1.0, seed=0)


def test_within_radius_shares_and_bounds():
    thm = theory.theorem1(lr=0.01, L=1.0, c=1.0, r=1.0)
    radius = thm.radius_sq
    final = np.array([0.1, 0.2, 0.5, 2.0]) * radius
    out = main_theorem.within_radius(_trace(final), thm)
    assert out["share"] == 0.75
    assert_allclose(out["lower95"], 0.75 - 1.96 * math.sqrt(0.75 * 0.25 / 4))
    assert_allclose(out["max_ratio"], 2.0, rtol=1e-6)
    assert_allclose(out["q90"], np.quantile(final.astype(np.float32).astype(float), 0.9))
    every = main_theorem.within_radius(_trace(final[:3]), thm)
    assert every["share"] == 1 and every["lower95"] == 1 - 3 / 3   # the rule of three


def test_staying_continues_the_same_run():
    land, lr, noise, T1, T2 = ripple(), 0.02, 2.5, 30, 40
    thm = theory.measure(land, theory.grid(-3, 3, 201), lr=lr, noise=noise)
    x0 = np.linspace(-3, 3, 50)[:, None]
    first = theory.track_y(land, x0, lr=lr, noise=noise, steps=T1, seed=5)
    domain = theory.grid(-3, 3, 201)
    lemma, stay, in_units = main_theorem.staying(land, thm, first, T2=T2, lr=lr, noise=noise,
                                                 seed=5, domain=domain)
    whole = theory.track_y(land, x0, lr=lr, noise=noise, steps=T1 + T2, seed=5)
    window = whole.dist_sq[T1:].max(axis=0).astype(float)
    assert_allclose(in_units, window / thm.stationary, rtol=1e-6)
    assert_allclose(stay["share_stay"], np.mean(window <= lemma.delta**2))
    assert_allclose(stay["mu"], theory.lemma5(thm, T2=T2).mu)
    assert stay["domain_sq"] == 9.0 and stay["delta_sq"] == lemma.delta**2


def test_lemma5_map_matches_direct_evaluation():
    thm = theory.theorem1(lr=0.02, L=7.0, c=1.0, r=2.5)
    T2_grid, mu_grid = np.array([10.0, 2000.0]), np.array([1.0, 50.0, 500.0])
    out = main_theorem.lemma5_map(thm, T2=2000, T2_grid=T2_grid, mu_grid=mu_grid,
                        fractions=np.array([0.5]), L_over_c={"L = c": 1.0})
    assert_allclose(out["slack_map"][1, 0], theory.lemma5(thm, T2=10.0, mu=50.0).slack)
    assert_allclose(out["slack"], theory.lemma5(thm, T2=2000).slack)
    assert out["holds_mu8"] == theory.lemma5(thm, T2=2000, mu=8.0).holds
    assert out["r_check"] < 1e-9                       # r cancels from the slack
    lr_half = 0.5 * min(1 / 2, 1.0)
    assert_allclose(out["slack_lr"]["L = c"][0], theory.lemma5(
        theory.theorem1(lr=lr_half, L=1.0, c=1.0, r=1.0), T2=1000).slack)
    # at T2 = 2000 the slack is about 0.02 at mu = 1 and 1.9 at mu = 50: 50 is the first
    first_ok = [mu for mu in mu_grid if theory.lemma5(thm, T2=2000.0, mu=mu).slack >= 1]
    assert out["mu_needed_T2"] == first_ok[0] == 50.0
    none = main_theorem.lemma5_map(thm, T2=2000, T2_grid=T2_grid, mu_grid=np.array([1.0, 2.0]),
                         fractions=np.array([0.5]), L_over_c={"L = c": 1.0})
    assert np.all(none["slack_map"] < 1)                # no mu of this grid is enough
    assert np.all(np.isnan(none["mu_needed"])) and math.isnan(none["mu_needed_T2"])


def test_lemma_sentence_both_ways(glued):
    main_theorem.glue_lemma({"slack": 2.0, "holds_mu8": True, "mu_needed_T2": 50.0})
    assert glued["lemma-needed"] == "the lemma already holds from μ ≈ 50 (on the grid)"
    assert "lemma-mu_needed_T2" not in glued and glued["lemma-mu8"] == "holds"
    main_theorem.glue_lemma({"slack": 0.5, "holds_mu8": False, "mu_needed_T2": math.nan})
    assert glued["lemma-needed"] == "no μ of the grid makes the lemma hold"


def test_corollary_run_matches_theory():
    land = ripple()
    x0 = np.random.default_rng(0).uniform(-3, 3, size=(200, 1))
    d0 = main_theorem.start_distance(land, x0, lr=0.02)
    cor, numbers = main_theorem.corollary_run(land, x0, lr=0.02, lr2=0.01, noise=5.0, span=4.0,
                                    dist0_sq=d0, seed=1)
    assert_allclose(numbers["region"], math.sqrt(cor.first.radius_sq))
    assert_allclose(numbers["T2"], theory.corollary2(cor.first, cor.second, dist0_sq=d0).T2)
    assert 0 <= numbers["share2"] <= 1 and numbers["rad2"] < numbers["rad1"]
    table = main_theorem.corollary_table(cor, numbers, noise=5.0).data
    assert "stage 2" in table and "condition" in table


def test_looseness_factors_by_hand():
    thm = theory.theorem1(lr=0.02, L=7.0, c=1.0, r=2.5)
    prob = {d: {"q90_ratio": 0.1, "mean_over_2b": 0.5, "q90": 2.0} for d in (1, 10)}
    sup = {d: {"reach_ratio": 0.5} for d in (1, 10)}
    one = {d: {"ratio_min": 1.25, "ratio_max": 4.0} for d in (1, 10)}
    stay = {"q99": 4.0, "mu_sq": 400.0}
    rows, f = main_theorem.looseness(theorem=thm, prob=prob, sup=sup, one=one, stay=stay,
                           lemma={"slack": 2.0}, cor={"q90_2": 0.3}, lr=0.02, noise=2.5,
                           curvature_g=1.0)
    mean_T1 = 0.5 * 2 * thm.stationary
    assert_allclose([f["radius"], f["delta"], f["quantile"], f["noise"], f["onestep"]],
                    [10.0, 100.0, 2.0 / mean_T1, 3.0, 0.25])
    assert_allclose(f["product"], f["noise"] * f["rate"] * f["smooth"])
    assert math.isnan(rows["Lemma 5: lhs / rhs"][1]) and rows["Lemma 5: lhs / rhs"][0] == 0.5
    assert "| 0.8 |" in main_theorem.looseness_table(rows).data


def test_spiky_constants_and_its_sentences(glued):
    land = spiky(beta=0.3, period=0.1, growth=2)
    x0 = np.random.default_rng(5).uniform(-3, 3, size=(50, 1))
    nested, numbers = main_theorem.spiky_constants(land, (3.0, 0.1), x0, lr=5e-4, noise=100.0,
                                         steps=200, seed=6)
    assert_allclose(numbers["lam"], nested[3.0].lam)
    assert numbers["ok_spans"] == sum(t.step_size_ok for t in nested.values())
    main_theorem.glue_spiky(numbers, land, lr=5e-4, noise=100.0)
    assert glued["spiky-beta"] == "0.3" and glued["spiky-period"] == "0.1"
    assert glued["spiky-growth"] == "2"
    assert glued["spiky-cond"] == ("holds" if numbers["ok"] else "fails")
    assert "[-0.1, 0.1]" in main_theorem.spiky_table(nested, lr=5e-4).data
    fine = dict(numbers, ok=True, share=0.95, fits=1)
    main_theorem.glue_spiky(fine, land, lr=5e-4, noise=100.0)
    assert glued["spiky-cond"] == "holds" and "conditions hold" in glued["spiky-lesson"]
    assert glued["spiky-fits"] == "on 1 of the 2 intervals the hypotheses hold and the radius " \
                                  "fits inside the interval"
    main_theorem.glue_spiky(dict(numbers, ok=False, share=0.5), land, lr=5e-4, noise=100.0)
    assert "does not bring" in glued["spiky-lesson"]
    works = dict(numbers, ok=False, share=0.95, c=0.5, violations=0)
    main_theorem.glue_spiky(dict(works, over_cL2=50.0), land, lr=5e-4, noise=100.0)
    assert "one-point convex" in glued["spiky-lesson"]
    assert "far from necessary" in glued["spiky-lesson"] and "50 times" in glued["spiky-lesson"]
    main_theorem.glue_spiky(dict(works, over_cL2=2.0), land, lr=5e-4, noise=100.0)
    assert "stricter than needed" in glued["spiky-lesson"]
    for bad in (dict(works, c=-0.1), dict(works, violations=3)):
        main_theorem.glue_spiky(dict(bad, over_cL2=50.0), land, lr=5e-4, noise=100.0)
        assert glued["spiky-lesson"].startswith("Here SGD ends near x* although")
        assert "far from necessary" not in glued["spiky-lesson"]


def test_shifted_check_against_the_closed_form(glued):
    land, lr, noise = shifted_ripple(), 0.02, 2.5
    thm = theory.measure(land, theory.grid(-3, 3, 2001), lr=lr, noise=noise)
    y = np.linspace(-1, 1, 11)[:, None]
    _, out = main_theorem.shifted_check(land, thm, y, lr=lr, noise=noise, samples=4000, seed=1)
    assert_allclose(out["grad_f"], 6.0 * 0.1 / (2 * np.pi))         # a depth p / 2 pi
    assert out["grad_g"] < 1e-12
    z = np.linspace(-lr * noise, lr * noise, 2001)
    slope = ripple_slope(z, shift=0.25)
    assert_allclose(out["pointwise_share"], np.mean(np.abs(slope) > thm.L * np.abs(z)))
    assert out["pointwise_share"] > 0                                # the proof's bound fails
    assert out["shifted_holds"] == out["points"] == 11               # the bound with G holds
    assert_allclose(out["mean_ratio"], np.mean(slope**2) / (thm.L**2 * np.mean(z**2)))
    main_theorem.glue_shifted(out)
    assert glued["shift-verdict"].startswith("holds at every one of the 11 tested points")
    main_theorem.glue_shifted(dict(out, holds=9, excess=0.031))
    assert glued["shift-verdict"].startswith("fails: it holds only at 9 of the 11 tested")
    assert "3.1%" in glued["shift-verdict"]


def test_shifted_check_refuses_two_dimensions():
    land = shifted_ripple(dim=2)
    with pytest.raises(ValueError, match="landscape must be 1-dimensional"):
        main_theorem.shifted_check(land, None, np.zeros((1, 2)), lr=0.02, noise=2.5, samples=10, seed=0)


PROB = {"mean_over_2b": 0.5, "q90_ratio": 0.2}


def _ledger_inputs(**change):
    thm = {d: SimpleNamespace(c=1.0, assumption=SimpleNamespace(violations=0), lr_max=0.02,
                              step_size_ok=True) for d in (1, 10)}
    base = dict(thm=thm, f_only=SimpleNamespace(c=-1.0),
                one={d: {"z_min": 5.0} for d in (1, 10)},
                sup={d: {"inc_z_max": -2.0, "gap_z_max": -1.0, "G_up": 0} for d in (1, 10)},
                prob={d: {"mean_over_2b": 0.5, "share": 1.0, "lower95": 0.99, "q90_ratio": 0.2}
                      for d in (1, 10)},
                stay={"share_stay": 1.0, "share_both": 1.0, "delta_sq": 4.0, "domain_sq": 9.0},
                lemma={"slack": 2.0, "slack_min_allowed": 1.5},
                cor=SimpleNamespace(shrinks=True, T2_as_printed=5.0),
                cor_numbers={"c_diff": 0.1, "share2": 0.9},
                spiky={"lam": 1.0, "ok": True, "share": 0.95, "span": 2.5},
                shifted={"z_min": 4.0})
    base.update(change)
    return base


def _verdicts(rows):
    return {row["claim"]: row["verdict"].value for row in rows}


# one change of the measurements per claim, on which that claim is false
FALSE_DATA = {
    "Assumption 1 for the smoothed ripple": dict(thm={d: SimpleNamespace(
        c=-0.1, assumption=SimpleNamespace(violations=3), lr_max=0.02, step_size_ok=True)
        for d in (1, 10)}),
    "$f$ itself is not one-point convex": dict(f_only=SimpleNamespace(c=0.5)),
    "the step-size condition": dict(thm={d: SimpleNamespace(
        c=1.0, assumption=SimpleNamespace(violations=0), lr_max=0.02, step_size_ok=False)
        for d in (1, 10)}),
    "Step 1 at every tested $y_t$": dict(one={d: {"z_min": -5.0} for d in (1, 10)}),
    "Step 2: mean of $G_t$ never rises": dict(
        sup={d: {"inc_z_max": 4.0, "gap_z_max": -1.0, "G_up": 2} for d in (1, 10)}),
    "Step 2: below the iterated bound": dict(
        sup={d: {"inc_z_max": -2.0, "gap_z_max": 5.0, "G_up": 0} for d in (1, 10)}),
    "Step 2: mean at $T_1$ below $2b/\\lambda$": dict(
        prob={d: {"mean_over_2b": 1.5, "share": 1.0, "lower95": 0.99, "q90_ratio": 0.2}
              for d in (1, 10)}),
    "Theorem 1: share within $20b/\\lambda$ at least 1/2": dict(
        prob={d: {"mean_over_2b": 0.5, "share": 0.4, "lower95": 0.3, "q90_ratio": 0.2}
              for d in (1, 10)}),
    "eq. (3): that share at least 0.9": dict(
        prob={d: {"mean_over_2b": 0.5, "share": 0.9, "lower95": 0.85, "q90_ratio": 0.2}
              for d in (1, 10)}),
    "Step 3: stays within $\\delta$ (5/9)": dict(
        stay={"share_stay": 0.5, "share_both": 0.5, "delta_sq": 4.0, "domain_sq": 9.0}),
    "Steps 2-3 jointly: within $20b/\\lambda$ at $T_1$ and stays, at least 1/2": dict(
        stay={"share_stay": 1.0, "share_both": 0.4, "delta_sq": 4.0, "domain_sq": 9.0}),
    "Step 4: Lemma 5 at the smallest allowed $\\mu$": dict(
        lemma={"slack": 2.0, "slack_min_allowed": 0.5}),
    "Corollary 2's hypothesis $c' > c$": dict(cor_numbers={"c_diff": 0.0, "share2": 0.9}),
    "Corollary 2: share at least 1/4, radius shrinks": dict(
        cor_numbers={"c_diff": 0.1, "share2": 0.2}),
    "Corollary 2's printed $T_2$ is positive": dict(
        cor=SimpleNamespace(shrinks=True, T2_as_printed=-5.0)),
    "$20b/\\lambda$ within 10 times the 90% radius": dict(
        prob={d: {"mean_over_2b": 0.5, "share": 1.0, "lower95": 0.99, "q90_ratio": 0.05}
              for d in (1, 10)}),
    "spiky $f$: the conditions on [-2.5, 2.5]": dict(
        spiky={"lam": 1.0, "ok": False, "share": 0.95, "span": 2.5}),
    "spiky $f$: over 90% of SGD within 1.5": dict(
        spiky={"lam": 1.0, "ok": True, "share": 0.5, "span": 2.5}),
    "$\\nabla f(x^*) \\ne 0$: Step 1 still holds": dict(shifted={"z_min": -4.0}),
}


def test_ledger_says_yes_and_each_row_says_no_where_its_claim_is_false(glued):
    rows = main_theorem.ledger(**_ledger_inputs())
    assert set(_verdicts(rows).values()) == {"yes"} and set(_verdicts(rows)) == set(FALSE_DATA)
    main_theorem.glue_ledger(rows)
    assert glued["ledger-paper"] == "14 yes, 0 no and 0 can't tell"
    assert glued["ledger-ours"] == "5 yes, 0 no and 0 can't tell"
    assert glued["ledger-not-yes"] == "Every claim of the paper checked here says yes."
    for claim, change in FALSE_DATA.items():
        verdicts = _verdicts(main_theorem.ledger(**_ledger_inputs(**change)))
        assert verdicts[claim] == "no", claim
    rows = main_theorem.ledger(**_ledger_inputs(**FALSE_DATA["Step 1 at every tested $y_t$"]))
    main_theorem.glue_ledger(rows)
    assert glued["ledger-not-yes"] == ("The claims of the paper that do not say yes: Step 1 at "
                                       "every tested $y_t$ (no).")
    paper, ours = (main_theorem.ledger_table(rows, s).data for s in ("paper", "ours"))
    assert "| claim | measured | verdict |" in paper and "Corollary 2's printed" in ours
    assert "Corollary 2's printed" not in paper


def test_step3_cannot_fail_where_delta_exceeds_the_domain(glued):
    stay = {"share_stay": 1.0, "share_both": 1.0, "delta_sq": 2363.0, "domain_sq": 9.0}
    rows = main_theorem.ledger(**_ledger_inputs(stay=stay))
    row = next(r for r in rows if r["claim"].startswith("Step 3"))
    assert row["verdict"].value == "can't tell"
    assert "cannot fail at these settings: δ² = 2,363 exceeds" in row["verdict"].reason
    main_theorem.glue_ledger(rows)
    assert glued["ledger-paper"] == "13 yes, 0 no and 1 can't tell"
    main_theorem.glue_probability({1: dict(PROB, share=1.0, lower95=0.95)}, stay)
    assert glued["stay-reach"].startswith("above every squared distance of the domain (9)")
    main_theorem.glue_probability({1: dict(PROB, share=1.0, lower95=0.95)},
                                  dict(stay, delta_sq=4.0))
    assert glued["stay-reach"] == "below the largest squared distance of the domain (9)"


def test_ledger_and_sentence_share_the_g_test(glued):
    for sup in ({1: {"inc_z_max": -2.0, "gap_z_max": -1.0, "G_up": 3}},    # rises, not sig.
                {1: {"inc_z_max": 4.0, "gap_z_max": -1.0, "G_up": 0}}):    # significant rise
        rows = main_theorem.ledger(**_ledger_inputs(sup=sup))
        row = next(r for r in rows if r["claim"] == "Step 2: mean of $G_t$ never rises")
        main_theorem.glue_supermartingale(sup)
        assert row["verdict"].value == "no" and glued["sup-verdict"] != "never goes up"


def test_outcome_sentences_both_ways(glued):
    one = {1: {"holds": 3, "points": 3, "z_min": 1.0, "ratio_min": 1.1, "ratio_max": 2.0}}
    main_theorem.glue_one_step(one, lr=0.02, curvature_g=1.0)
    assert glued["step1-verdict"].startswith("Every estimate") and glued["rate-g"] == "0.0396"
    main_theorem.glue_one_step({1: dict(one[1], holds=1)}, lr=0.02, curvature_g=1.0)
    assert "at 2 of the 3 points" in glued["step1-verdict"]
    sup = {1: {"G_up": 0, "inc_z_max": -1.0, "gap_z_max": -2.0, "G": None}}
    main_theorem.glue_supermartingale(sup)
    assert glued["sup-verdict"] == "never goes up" and "sup-d1-G" not in glued
    assert glued["sup-rises"] == "it rises at no step in any dimension"
    main_theorem.glue_supermartingale({1: dict(sup[1], G_up=4), 10: dict(sup[1], G_up=1)})
    assert glued["sup-verdict"].startswith("goes up at 5 steps")
    assert glued["sup-rises"] == ("it rises at 4 of the steps in one dimension and 1 of the "
                                  "steps in 10 dimensions")
    stay = {"share_stay": 1.0, "delta_sq": 4.0, "domain_sq": 9.0}
    main_theorem.glue_probability({1: dict(PROB, share=1.0, lower95=0.95)}, stay)
    assert glued["prob-verdict"].startswith("above both") and glued["stay-verdict"] == \
        "Every trial stays"
    main_theorem.glue_probability({1: dict(PROB, share=0.4, lower95=0.3)}, dict(stay, share_stay=0.5))
    assert glued["prob-verdict"] == "below the theorem's 1/2"
    assert glued["stay-verdict"] == "50% of the trials stay"
    main_theorem.glue_lemma({"slack": 2.0, "holds_mu8": False, "slack_map": None,
                   "mu_needed_T2": 5.0})
    assert glued["lemma-mu8"] == "fails" and glued["lemma-slack"] == "2"
    cor = SimpleNamespace(T2_as_printed=-3.0)
    main_theorem.glue_corollary(cor, {"c_diff": 1e-15, "T2": 10.0})
    assert glued["cor-hyp"] == "does not hold strictly" and glued["cor-printed"] == "negative"


def test_constants_table_and_glue(glued):
    land = ripple()
    thm = {1: theory.measure(land, theory.grid(-3, 3, 501), lr=0.02, noise=2.5, dist0_sq=9.0)}
    f_only = theory.one_point_convexity(land, theory.grid(-3, 3, 501), lr=0.02, noise=0.0)
    spurious = main_theorem.glue_constants(thm, f_only, land)
    assert glued["L-exact"] == "7" and glued["assume-verdict"] == "holds on the domain"
    assert glued["f-verdict"] == ("is" if f_only.c > 0 else "is not")
    assert glued["f-spurious"] == str(spurious.size)
    table = main_theorem.constants_table(thm).data
    assert table.count("\n") == 13 and "$d = 1$" in table
    main_theorem.glue_constants({1: thm[1], 10: thm[1]}, f_only, land)
    assert glued["assume-verdict"] == "holds on both domains"
    main_theorem.glue_constants({1: thm[1], 2: thm[1], 3: thm[1]}, f_only, land)
    assert glued["assume-verdict"] == "holds on all 3 domains"


# -- the live explorer of the web page (book/_static/live/theorem1.js) ----------------------
@pytest.fixture(scope="module")
def live_explorer():
    return main_theorem.live_theorem1(ripple(), theory.grid(-3.0, 3.0, 201), lr=0.01, noise=5.0,
                            trials=50, max_steps=300)


def test_live_theorem1_config_describes_the_ripple_grid_and_settings(live_explorer):
    config = live_explorer.config
    a, amplitude, k = ripple().params
    assert config["landscape"] == {"name": "ripple", "a": a, "amplitude": amplitude, "k": k,
                                   "x_star": 0.0}
    assert config["domain"] == {"low": -3.0, "high": 3.0, "n_points": 201}
    assert config["settings"] == {"lr": 0.01, "noise": 5.0, "trials": 50, "max_steps": 300,
                                  "quantile": 0.9, "seed": 0}
    assert_allclose(config["ranges"]["lr"], [0.01 * 10**-1.5, 0.01 * 10**0.7])
    assert config["ranges"]["noise"] == [0.0, 20.0]
    assert config["limits"] == {"lr": (1e-9, 10.0), "noise": (0.0, 1e4), "trials": 100_000,
                                "max_steps": 100_000}
    assert "starts" not in config  # the page draws the rows itself (sgdlab.random_rows)
    assert live_explorer.kind == "theorem1" and live_explorer.png.startswith(b"\x89PNG")
    assert 'data-explorer="theorem1"' in live_explorer.html and "step-size condition holds" in \
        live_explorer.alt


def test_theorem1_measurements_starts_from_random_rows_of_the_domain(live_explorer):
    """SGD from the rows sgdlab.random_rows draws for the config's (seed, n_points, trials),
    as the page does, gives theorem1_measurements' distances."""
    from sgdlab.book.main_theorem import theorem1_measurements

    domain = theory.grid(-3.0, 3.0, 201)
    _, dist_sq, info = theorem1_measurements(ripple(), domain, lr=0.01, noise=5.0, trials=50,
                                             max_steps=300)
    settings = live_explorer.config["settings"]
    x0 = domain[sgdlab.random_rows(settings["trials"], n_points=201, seed=settings["seed"])]
    run = sgdlab.run_sgd(ripple(), x0, lr=0.01, noise=5.0, steps=info["steps"], seed=0)
    assert np.array_equal(theory.y_distance_sq(ripple(), run.x, lr=0.01), dist_sq)


def test_live_theorem1_keeps_an_uneven_domain_as_points():
    domain = np.array([[-1.0], [0.3], [2.0]])
    config = main_theorem.live_theorem1(ripple(), domain, lr=0.01, noise=5.0, trials=3,
                              max_steps=5).config
    assert config["domain"] == {"points": [-1.0, 0.3, 2.0]}


@pytest.mark.parametrize("landscape, message", [
    (spiky(), "landscape must be the 1-dimensional built-in ripple"),
    (ripple(dim=2), "landscape must be the 1-dimensional built-in ripple"),
    (quadratic(), "landscape must be the 1-dimensional built-in ripple"),
])
def test_live_theorem1_refuses_what_the_page_cannot_compute(landscape, message):
    with pytest.raises(ValueError, match=message):
        main_theorem.live_theorem1(landscape, theory.grid(-1.0, 1.0, 11), lr=0.01, noise=5.0)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"lr": 0.0}, ValueError, "lr must be a finite number > 0, got 0.0"),
    ({"noise": -1.0}, ValueError, "noise must be a finite number >= 0"),
    ({"noise": 2e4}, ValueError, "noise must be a finite number >= 0 and <= 10000"),
    ({"trials": 100_001}, ValueError, "trials must be an integer >= 1 and <= 100000"),
    ({"trials": 0}, ValueError, "trials must be an integer >= 1"),
    ({"trials": 2.5}, TypeError, "trials must be an integer"),
    ({"max_steps": 0}, ValueError, "max_steps must be an integer >= 1"),
    ({"quantile": 1.0}, ValueError, "quantile must be a finite number > 0 and < 1"),
    ({"seed": -1}, ValueError, "seed must be an integer >= 0"),
    ({"lr_range": (0.1, 1.0)}, ValueError, "lr_range must be \\(low, high\\) with 1e-09 <= low"),
    ({"lr_range": (1e-3, 20.0)}, ValueError, "high <= 10 \\(the page's limits\\)"),
    ({"lr_range": "x"}, TypeError, "lr_range must be"),
    ({"seed": 2**53}, ValueError, "seed must be"),
    ({"noise_max": 1.0}, ValueError, "noise_max must be at least noise = 5"),
])
def test_live_theorem1_names_the_bad_argument(kwargs, error, message):
    args = {"lr": 0.01, "noise": 5.0, "trials": 5, "max_steps": 5, **kwargs}
    with pytest.raises(error, match=message):
        main_theorem.live_theorem1(ripple(), theory.grid(-1.0, 1.0, 11), **args)


def test_live_theorem1_refuses_a_domain_of_another_dimension():
    with pytest.raises(ValueError, match="domain must be of shape"):
        main_theorem.live_theorem1(ripple(), np.zeros((4, 2)), lr=0.01, noise=5.0)
