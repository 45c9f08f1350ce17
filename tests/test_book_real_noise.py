"""Tables and verdicts of chapter real-noise (sgdlab.book.real_noise) on made-up results with
outcomes both ways: each verdict says "yes" on data where its claim holds and "no" (or "can't
tell", with its reason) on data where it does not."""

import numpy as np
import pytest

from sgdlab.book import real_noise, verdicts

P, K, S = 1000, 2, 16


def _noise(norms=None, g_real=None, f=None, top=0.1, iso=0.1, align=0.002, lr=0.1,
           radius=0.2):
    """A ``noise`` result of 3 probed points."""
    points = 3
    rng = np.random.default_rng(0)
    norms = np.full((points, 64), 1.0) + 0.01 * rng.random((points, 64)) if norms is None \
        else np.asarray(norms, dtype=float)
    f = np.array([1.0, 0.5, 0.1]) if f is None else np.asarray(f, dtype=float)
    noise_sd = 0.01
    g_real = (f[:, None] + noise_sd * rng.standard_normal((points, S)) if g_real is None
              else np.asarray(g_real, dtype=float))
    arrays = {"epochs": np.array([0, 4, 8]), "point_lr": np.full(points, lr),
              "norms": norms, "top_share": np.full((points, K), top),
              "isotropic_share": np.full((points, K), iso),
              "alignment": np.full((points, K), align),
              "eigenvalues": np.full((points, K), 3.0),
              "effective_radius": np.full(points, radius),
              "model_radius": np.full(points, radius * 1.5),
              "g_real": g_real, "g_model": g_real.copy(), "f_inner": f,
              "distance": np.full(points, 2.0), "lr": np.array([0.1] * 6 + [0.01] * 3)}
    config = {"experiment": "noise", "arch": "resnet", "dataset": "digits", "epochs": 9,
              "top_k": K}
    return {"config": config, "summary": {"parameters": P}, "arrays": arrays}


def _verdicts(result):
    return {r["property"]: r["verdict"].value for r in real_noise.model_rows(result)}


def test_model_rows_say_yes_to_the_model_and_no_to_other_noise():
    held = _verdicts(_noise())
    assert set(held.values()) == {verdicts.YES}
    heavy = np.exp(np.random.default_rng(1).standard_normal((3, 64)) * 1.5)  # a long tail
    grown = np.ones((3, 64)) * np.array([[1.0], [2.0], [4.0]])  # changes along training
    assert _verdicts(_noise(norms=heavy))["bounded: ‖w‖ ≤ r, with ‖w‖ near r"] == verdicts.NO
    assert _verdicts(_noise(norms=grown))["the same at every point"] == verdicts.NO
    assert _verdicts(_noise(top=0.5, iso=0.1))["isotropic"] == verdicts.NO
    assert _verdicts(_noise(align=0.5))["unrelated to the curvature"] == verdicts.NO
    assert _verdicts(_noise(radius=0.8))[
        "one step stays within radius 0.5 (Section 5.2)"] == verdicts.NO


def _ledger(noise):
    return real_noise.real_noise_ledger({"ResNet-14, digits": noise}, {}, {})


def test_assumption_1_verdict_three_ways():
    claim = "Assumption 1 holds along SGD with the real noise"

    def value(result):
        return next(r["verdict"] for r in _ledger(result) if r["claim"] == claim)

    assert value(_noise()).value == verdicts.YES
    negative = _noise(f=[1.0, 0.5, -0.3])  # g follows f, below 0 at the last point
    assert value(negative).value == verdicts.NO
    unclear = _noise(f=[1.0, 0.5, 0.0])  # within the standard error of 0
    assert value(unclear).value == verdicts.CANT_TELL and value(unclear).reason


def test_smoothing_verdict_and_g_rows():
    f = np.array([1.0, 0.5, 0.1])
    more = _noise(f=f, g_real=f[:, None] + 0.2 + 0.01 * np.arange(S) / S)
    same = _noise(f=f)
    claim = "smoothing by the real noise makes eq. (2) more positive"
    pick = {r["claim"]: r["verdict"].value for r in _ledger(more)}
    assert pick[claim] == verdicts.YES
    assert {r["claim"]: r["verdict"].value for r in _ledger(same)}[claim] == verdicts.NO
    rows = real_noise.g_rows(more)
    assert all(r["differs from f"] and not r["sign differs"] for r in rows)
    flipped = real_noise.g_rows(_noise(f=f, g_real=-np.ones((3, S)) + 0.01 *
                                       np.arange(S) / S))
    assert all(r["sign differs"] for r in flipped)
    assert rows[0]["± se"] == pytest.approx(np.std(more["arrays"]["g_real"][0], ddof=1)
                                           / np.sqrt(S))


def _run(name, kind, lr, schedule, sharp_times, final):
    return {"name": f"{name}-t0", "kind": kind, "batch_size": 64, "lr": lr,
            "schedule": schedule, "steps": 10, "epochs": 10, "train_loss": 0.1,
            "train_accuracy": 1.0, "val_loss": 0.2, "val_accuracy": 0.9, "distance": 1.0,
            "path_length": 2.0, "share_positive": 1.0, "max_sharpness": final,
            "final_sharpness": final, "edge": sharp_times,
            "final_trace": 10.0, "final_trace_se": 1.0}


def test_edge_of_stability_verdict():
    assert real_noise.edge_verdict(_run("gd0.5", "gd", 0.5, "constant", 1.0, 4)).value \
        == verdicts.YES
    assert real_noise.edge_verdict(_run("gd0.5", "gd", 0.5, "constant", 2.0, 8)).value \
        == verdicts.NO
    rising = _run("gd0.5", "gd", 0.5, "constant", 0.3, 1.2)  # still at its peak at the end
    below = real_noise.edge_verdict(rising)
    assert below.value == verdicts.CANT_TELL and "still at its peak" in below.reason
    fallen = dict(rising, max_sharpness=2.0)  # peaked below the edge, then fell
    assert real_noise.edge_verdict(fallen).value == verdicts.NO


def test_gd_ledger_and_flatter_sgd_both_ways():
    def gd(sgd_final, gd_final):
        runs = [_run("sgd64", "sgd", 0.1, "step", 0.2, sgd_final),
                _run("gd0.5", "gd", 0.5, "constant", 1.0, gd_final)]
        return {"config": {"experiment": "gd"}, "summary": {"runs": runs,
                                                            "best_gd": "gd0.5-t0"}}

    def flatter(result):
        rows = real_noise.real_noise_ledger({}, {"ResNet-14, digits": result}, {})
        return next(r["verdict"].value for r in rows
                    if r["claim"] == "SGD ends flatter than every GD run")

    assert flatter(gd(2.0, 4.0)) == verdicts.YES
    assert flatter(gd(5.0, 4.0)) == verdicts.NO
    rows = real_noise.gd_rows(gd(2.0, 4.0))
    assert [r["run"] for r in rows] == ["sgd64", "gd0.5"]


def test_checks_enter_the_ledger_as_ours():
    rows = real_noise.real_noise_ledger({}, {}, {"dense": ("error 1e-12", True),
                                                 "closed form": ("z 9", False)})
    assert [(r["source"], r["verdict"].value) for r in rows] == [
        ("ours", verdicts.YES), ("ours", verdicts.NO)]


def test_kernel_checks_say_no_to_wrong_kernels():
    good = real_noise.kernel_checks({"max_relative_eigen_error": 1e-14, "trace_z": 0.3},
                                    {"mean_square_z": 0.5, "with_replacement_z": 18.0})
    assert all(ok for _, ok in good.values())
    bad = real_noise.kernel_checks({"max_relative_eigen_error": 1e-3, "trace_z": 0.3},
                                   {"mean_square_z": 0.5, "with_replacement_z": 1.0})
    assert not any(ok for _, ok in bad.values())  # a wrong eigenvalue; a check without power


def test_g_table_glues_the_largest_gap_with_its_standard_error(monkeypatch):
    glued = {}
    monkeypatch.setattr(real_noise, "glue_texts",
                        lambda prefix, texts: glued.update({f"{prefix}-{k}": v
                                                            for k, v in texts.items()}))
    f = np.array([1.0, 0.5, 0.1])
    values = f[:, None] + np.array([[0.0], [0.3], [0.0]]) + 0.01 * (np.arange(S) - S / 2) / S
    real_noise.g_table({"ResNet-14, digits": _noise(f=f, g_real=values)}, "x")
    assert glued["x-example"].startswith("at epoch 4, g − f = 0.3")  # the second point
    assert "standard errors; f = 0.5" in glued["x-example"]
    assert glued["x-sign"] == "0 of 3 for ResNet-14 on digits"
