"""Tables, glue and verdicts of the Section 5 chapters (sgdlab.viz.nn_tables): made-up results
of every experiment, with outcomes both ways, so no sentence can state what the data has not."""


import numpy as np
import pytest
from numpy.testing import assert_allclose

from sgdlab.book import nn_landscape, nn_trajectory, results, tables
from sgdlab.theory import hoeffding_confidence


def _config(experiment, arch="resnet", dataset="digits", **extra):
    return dict(experiment=experiment, arch=arch, dataset=dataset, epochs=4, batch_size=64,
                lr=0.1, schedule="step", limit=None, trials=2, k=3, rho=0.5, probe_every=1,
                shared_epochs=1, members=3, starts=3, small_lr=0.01, continue_epochs=2,
                **extra)


def _trajectory(inner, grad_max=1.0, grow=True):
    inner = np.asarray(inner, dtype=float)
    trials, epochs = inner.shape
    lr = np.tile([0.1, 0.1, 0.01, 0.001][:epochs], (trials, 1))
    mean = np.where(lr == 0.1, 1.0, 2.0 if grow else 0.5)
    return {"config": _config("trajectory"), "summary": {"parameters": 11_302},
            "arrays": {"inner": inner, "lr": lr, "val_accuracy": np.full((trials, epochs), 0.9),
                       "grad_norm_max": np.full((trials, epochs), grad_max),
                       "grad_norm_mean": mean, "grad_norm_min": mean / 2,
                       "step_length_max": lr * grad_max}}


def test_words():
    assert tables.joined(["a"]) == "a"
    assert tables.joined(["a", "b", "c"]) == "a, b and c"
    assert tables.run_name("ResNet-14, digits") == "ResNet-14 on digits"
    with pytest.raises(ValueError, match="items must be a non-empty list"):
        tables.joined([])


def test_commands_fit_the_page_and_name_every_folder():
    text = results.commands(("trajectory",), ("resnet34", "densenet100")).data
    assert text.startswith("```bash\n") and text.count("python -m sgdlab run") == 4
    assert "--out results/paper/trajectory-cifar100-densenet100" in text
    assert max(len(line) for line in text.splitlines()) <= 88


def test_trajectory_table_all_positive(glued):
    results = {"ResNet-14, digits": _trajectory([[3.0, 2.0, 1.0, 0.5], [4.0, 2.0, 1.0, 0.1]])}
    table = nn_trajectory.trajectory_table(results, "t").data
    assert "| ResNet-14, digits | 2 x 4 | 100% | 0.1 | 3 | 90% |" in table
    assert glued["t-outcome"] == ("for ResNet-14 on digits, every one of the 8 values is "
                                  "positive")
    assert glued["t-from"] == "from the first epoch for ResNet-14 on digits"
    assert glued["t-range"] == "from 3 at the first epoch to 0.1 at the last (ResNet-14 on digits)"


def test_trajectory_table_with_negative_values(glued):
    results = {"A, digits": _trajectory([[-1.0, 2.0, 1.0, 0.5], [4.0, 2.0, 1.0, 0.1]]),
               "B, CIFAR-10": _trajectory([[1.0, 2.0, 1.0, -0.5], [4.0, 2.0, 1.0, 0.1]])}
    nn_trajectory.trajectory_table(results, "t")
    assert glued["t-outcome"] == ("for A on digits, 7 of the 8 values are positive; for B on "
                                  "CIFAR-10, 7 of the 8 values are positive")
    assert glued["t-from"] == ("from epoch 1 on for A on digits and from no epoch on (the last "
                               "one is not positive) for B on CIFAR-10")
    results["C, digits"] = results["A, digits"]
    nn_trajectory.trajectory_table(results, "t")
    assert glued["t-from"] == ("from epoch 1 on for A on digits and C on digits and from no "
                               "epoch on (the last one is not positive) for B on CIFAR-10")


def test_steps_table_words_follow_the_numbers(glued):
    nn_trajectory.steps_table({"A, digits": _trajectory(np.ones((1, 4)), grad_max=2.0)}, "s")
    assert glued["s-bounds"] == "within the paper's bounds for A on digits"
    assert glued["s-steps"] == "at most the radius 0.5 of the paper's balls for A on digits"
    assert glued["s-grows"] == "grows for A on digits"
    nn_trajectory.steps_table({"A, digits": _trajectory(np.ones((1, 4)), grad_max=6.0,
                                                     grow=False),
                           "B, digits": _trajectory(np.ones((1, 4)), grad_max=2.0)}, "s")
    assert glued["s-bounds"] == ("within the paper's bounds for B on digits; above the "
                                 "paper's bounds for A on digits")
    assert glued["s-steps"] == ("at most the radius 0.5 of the paper's balls for B on digits; "
                                "longer than the radius 0.5 of the paper's balls for A on "
                                "digits")
    assert glued["s-grows"] == "grows for B on digits; does not grow for A on digits"
    assert glued["s-longest"] == "0.6 (A on digits) and 0.2 (B on digits)"


def _neighbourhood(values):
    values = np.asarray(values, dtype=float)
    return {"config": _config("neighbourhood"), "summary": {"parameters": 8_570},
            "arrays": {"values": values, "epochs": np.arange(len(values)),
                       "mean": values.mean(1), "std": values.std(1, ddof=1),
                       "min": values.min(1), "max": values.max(1),
                       "distance": np.linspace(2, 0.1, len(values)),
                       "confidence": np.array([hoeffding_confidence(v) for v in values])}}


def test_neighbourhood_table_and_hoeffding(glued):
    values = [[1.0, 1.1, 1.2, 0.9], [0.5, 0.6, 0.4, 0.5]]
    table = nn_trajectory.neighbourhood_table({"A, digits": _neighbourhood(values)}, "n").data
    n, m, width = 4, 1.05, 0.3
    assert tables.number(-2 * n * (m / width) ** 2 / np.log(10)) in table
    assert glued["n-outcome"] == "for A on digits, every one of the 8 sampled values is positive"
    assert glued["n-points"] == "4" and glued["n-floor"] == tables.number(np.exp(-2))
    # the symmetric range: [-1.2, 1.2] for the first ball, [-0.6, 0.6] for the second
    worst = min(1 - np.exp(-2 * n * (1.05 / 2.4) ** 2), 1 - np.exp(-2 * n * (0.5 / 1.2) ** 2))
    assert glued["n-symmetric"] == f"{tables.number(worst, 4)} (A on digits)"
    rows = nn_trajectory.trajectory_ledger({}, {"A, digits": _neighbourhood(values)})
    assert [r["agrees"] for r in rows] == [True, True, True, False]


def test_ledger_table_summarises_the_verdicts(glued):
    rows = nn_trajectory.trajectory_ledger(
        {"A, digits": _trajectory([[1.0, 2.0, 1.0, 0.5]], grad_max=6.0)}, {})
    table = results.ledger_table(rows, "l").data
    assert table.count("\n") == len(rows) + 1
    assert glued["l-agree"] == "3 of the 5 checks agree"
    assert glued["l-fail"] == ("5.2: gradient norms below 5 at step size 0.1 (A on digits); "
                               "5.2: step length at most 0.5 (A on digits)")
    assert glued["l-hold"].startswith("5.1: all trials positive after a starting period")
    with pytest.raises(ValueError, match="rows must be a non-empty list of verdicts"):
        results.ledger_table([], "l")


def test_normalised_pairs_against_a_loop():
    rng = np.random.default_rng(0)
    values = rng.normal(1.0, 1.0, size=(3, 4, 3))
    pairs = nn_landscape.normalised_pairs(values, shared_epochs=2)
    expected, per_epoch = [], []
    for t in range(3):
        column = []
        for m in range(3):
            others = [values[m, t, n] for n in range(3) if n != m]
            row = np.mean(np.abs(others))
            column += [v / row for v in others]
        expected.append(column)
        per_epoch.append(np.mean(np.array(column) <= 0))
    assert_allclose(np.sort(pairs["normalised"]), np.sort(np.ravel(expected)))
    assert_allclose(pairs["per_epoch"], per_epoch)
    assert_allclose(pairs["lowest"], np.min(expected, axis=1))
    assert list(pairs["epochs"]) == [2, 3, 4]
    with pytest.raises(ValueError, match=r"values must be an array of shape \(M, T \+ 1, M\)"):
        nn_landscape.normalised_pairs(values[:, :, :2])


def _allpairs(count, total, distance, arch="resnet"):
    values = np.ones((3, 3, 3))
    return {"config": _config("allpairs", arch=arch),
            "summary": {"parameters": 11_302, "count_not_positive": count, "total": total,
                        "share_not_positive": count / total, "min_final_distance": distance,
                        "count_not_positive_with_self": count, "total_with_self": total + 90,
                        "mean_final_distance": distance * 1.5, "distance_from_start": 2.0},
            "arrays": {"values": values}}


def test_allpairs_table_and_its_sentences(glued):
    nn_landscape.allpairs_table({"A, digits": _allpairs(0, 180, 0.9),
                              "B, digits": _allpairs(3, 180, 50.0, arch="densenet")}, "p")
    assert glued["p-outcome"] == ("for A on digits, every one of the 180 values is positive; "
                                  "for B on digits, 177 of the 180 values are positive")
    assert glued["p-resolve"] == "above the paper's share for each run shown"
    assert glued["p-far"] == ("as far apart as the paper's for B on digits; closer than the "
                              "paper's for A on digits")
    assert glued["p-self"] == "0 of 270 (A on digits) and 3 of 270 (B on digits)"
    assert glued["p-closer"] == ("closer to one another than to the shared start for A on "
                                 "digits; not closer to one another than to the shared start "
                                 "for B on digits")
    assert glued["p-radius"].startswith("1.8 (A on digits)")
    rows = nn_landscape.landscape_ledger({"A, digits": _allpairs(0, 180, 0.9)}, {})
    assert [r["agrees"] for r in rows] == [True, False]


def test_spectrum_sentences_follow_the_trend(glued):
    arrays = {"starts": np.array([0, 2, 4]), "start_train_loss": np.array([2.0, 1.0, 0.5]),
              "train_loss": np.array([1.0, 0.5, 0.2]), "val_loss": np.array([1.0, 1.2, 0.9]),
              "val_accuracy": np.array([0.5, 0.6, 0.7]),
              "distance_init": np.array([1.0, 2.0, 3.0]),
              "min_inner": np.array([0.1, -0.2, 0.3])}
    result = {"config": _config("spectrum"), "summary": {"base_final_train_loss": 0.3},
              "arrays": arrays}
    table = nn_landscape.spectrum_table({"A, digits": result}, "s").data
    assert table.count("| A, digits |") == 3
    assert glued["s-train"] == "falls with every later switch for A on digits (from 1 to 0.2)"
    assert glued["s-val"] == ("does not fall with every later switch for A on digits "
                              "(1, 1.2, 0.9)")
    assert glued["s-distance"] == "grows with every later switch for A on digits (from 1 to 3)"
    assert glued["s-convex"] == ("for A on digits, 2 of the 3 paths are one point convex "
                                 "towards their ends")
    rows = nn_landscape.landscape_ledger({}, {"A, digits": result})
    assert [r["agrees"] for r in rows] == [True, False, True, False]


def test_bias_table_glues_the_extremes(glued):
    bias = {"A": [{"epoch": 0, "batches": 5, "relative": 0.1, "cosine": 0.99},
                  {"epoch": 3, "batches": 5, "relative": 0.3, "cosine": 0.95}]}
    table = nn_trajectory.bias_table(bias, "b").data
    assert "| A | 3 | 5 | 30% | 0.95 |" in table
    assert glued["b-largest"] == "30% (A)" and glued["b-cosine"] == "0.95 (A)"


def test_choices_table_lists_every_choice_with_safe_cells():
    from sgdlab.nn import protocol

    table = results.choices_table().data
    rows = table.splitlines()[2:]
    assert len(rows) == len(protocol.choices())
    assert all(row.count(" | ") == 3 for row in rows)  # no stray pipe splits a cell
    assert "batch size" in table and "momentum" in table


def _chunking(sizes, loss_rel, cosine, n=1000, grad_rel=None):
    return {"batch_sizes": sizes, "n": n, "loss": 2.0, "grad_norm": 1.0,
            "chunked_loss": [2.0] * len(sizes), "chunked_grad_norm": [1.0] * len(sizes),
            "loss_rel_diff": loss_rel, "grad_norm_rel_diff": [0.0] * len(sizes),
            "grad_rel_diff": grad_rel or [0.1] * len(sizes), "cosine": cosine}


def test_chunking_table_verdict_follows_the_numbers(glued):
    from sgdlab.nn.probe import ChunkingError

    errors = {"initialisation": ChunkingError(**_chunking([512, 64], [0.001, 0.002],
                                                          [0.99, 0.98])),
              "end of training": _chunking([64, 256, 512], [0.3, 0.04, 0.02],
                                           [0.7, 0.96, 0.97], grad_rel=[0.5, 0.2, 0.1])}
    table = nn_trajectory.chunking_table(errors, "c").data
    assert "| end of training | 64 | 16 (40) | 30% | 50% | 0.7 | no |" in table
    assert "| initialisation | 512 | 2 (488) | 0.1% | 10% | 0.99 | yes |" in table
    assert table.index("| initialisation | 64 |") < table.index("| initialisation | 512 |")
    assert glued["c-images"] == "1,000"
    assert glued["c-loss"] == "0.2% (initialisation) and 30% (end of training)"
    assert glued["c-gradient"] == "10% (initialisation) and 50% (end of training)"
    assert glued["c-cosine"] == "0.98 (initialisation) and 0.7 (end of training)"
    assert glued["c-test"] == ("f within 5% of the one-pass f and a cosine of at least 0.95 "
                               "between their gradients")
    assert glued["c-verdict"] == (
        "At the initialisation, chunking does not matter: every chunk size tried passes; at "
        "the end of training, chunking matters for chunks of fewer than 256 images (larger "
        "chunks pass)")


@pytest.mark.parametrize("loss_rel, cosine, phrase", [
    ([0.01, 0.2, 0.01], [0.99, 0.99, 0.99], "matters for some chunk sizes: only 64 and 512 "
                                            "images pass"),
    ([0.01, 0.01, 0.2], [0.99, 0.99, 0.99], "matters for some chunk sizes: only 64 and 256 "
                                            "images pass"),
    ([0.01, 0.01, 0.01], [0.9, 0.9, 0.9], "matters: no chunk size tried (up to 512) passes"),
    ([0.2, 0.01, 0.01], [0.99, 0.99, 0.99], "matters for chunks of fewer than 256 images")])
def test_chunking_table_each_outcome(glued, loss_rel, cosine, phrase):
    nn_trajectory.chunking_table({"x": _chunking([64, 256, 512], loss_rel, cosine)}, "c")
    assert glued["c-verdict"].startswith("At the x, chunking " + phrase)


def test_chunking_table_thresholds_and_bad_arguments(glued):
    errors = {"x": _chunking([64], [0.2], [0.9])}
    nn_trajectory.chunking_table(errors, "c", tolerance=0.25, cosine=0.8)
    assert glued["c-verdict"] == ("At the x, chunking does not matter: every chunk size "
                                  "tried passes")
    assert glued["c-test"].startswith("f within 25% ") and "at least 0.8 " in glued["c-test"]
    with pytest.raises(TypeError, match="errors must be a non-empty dict of ChunkingError"):
        nn_trajectory.chunking_table({}, "c")
    with pytest.raises(ValueError, match="tolerance must be a finite number > 0, got 0.0"):
        nn_trajectory.chunking_table(errors, "c", tolerance=0)
    with pytest.raises(ValueError, match="cosine must be"):
        nn_trajectory.chunking_table(errors, "c", cosine=1.5)
