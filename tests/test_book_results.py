"""The loading and plotting helpers of the Section 5 chapters (sgdlab.viz.nn_results)."""

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from numpy.testing import assert_allclose  # noqa: E402

from sgdlab.book import results, style  # noqa: E402


def test_scale_from_env(monkeypatch):
    monkeypatch.delenv("SGDLAB_SCALE", raising=False)
    assert results.scale_from_env() == "book"
    assert results.scale_from_env(default="tiny") == "tiny"
    monkeypatch.setenv("SGDLAB_SCALE", "tiny")
    assert results.scale_from_env() == "tiny"
    monkeypatch.setenv("SGDLAB_SCALE", "huge")
    with pytest.raises(ValueError, match=r"SGDLAB_SCALE must be one of .* got 'huge'"):
        results.scale_from_env()


def test_results_root_and_paper_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("SGDLAB_RESULTS", raising=False)
    default = results.results_root()
    assert default.name == "results" and (default.parent / "sgdlab").is_dir()
    monkeypatch.setenv("SGDLAB_RESULTS", str(tmp_path))
    assert results.results_root() == tmp_path
    folder = results.paper_folder("trajectory", "cifar10", "resnet34")
    assert folder == tmp_path / "paper" / "trajectory-cifar10-resnet34"
    assert results.paper_folder("spectrum", "cifar100", "resnet", root="x") == (
        Path("x") / "paper" / "spectrum-cifar100-resnet")
    with pytest.raises(ValueError, match="arch must be a non-empty string, got ''"):
        results.paper_folder("trajectory", "cifar10", "")


def test_paper_command_writes_the_folder_the_chapters_read():
    command = results.paper_command("neighbourhood", "cifar10", "densenet100")
    assert command.startswith("python -m sgdlab run neighbourhood --scale paper ")
    assert "--arch densenet100" in command and "--dataset cifar10" in command
    assert command.endswith("--out results/paper/neighbourhood-cifar10-densenet100")


def _write_result(folder, experiment):
    folder.mkdir(parents=True)
    (folder / "result.json").write_text(json.dumps(
        {"config": {"experiment": experiment, "arch": "resnet"}, "summary": {"total": 3}}))
    np.savez(folder / "result.npz", values=np.arange(3.0))


def test_saved_result_loads_a_folder_or_returns_none(tmp_path):
    assert results.saved_result("allpairs", "cifar10", "resnet", root=tmp_path) is None
    _write_result(tmp_path / "paper" / "allpairs-cifar10-resnet", "allpairs")
    result = results.saved_result("allpairs", "cifar10", "resnet", root=tmp_path)
    assert result["summary"] == {"total": 3}
    assert_allclose(result["arrays"]["values"], [0.0, 1.0, 2.0])
    _write_result(tmp_path / "paper" / "spectrum-cifar10-resnet", "allpairs")
    with pytest.raises(ValueError, match="holds a 'allpairs' result, expected 'spectrum'"):
        results.saved_result("spectrum", "cifar10", "resnet", root=tmp_path)


def test_lr_drops():
    lr = [0.1] * 6 + [0.01] * 3 + [0.001] * 3
    assert results.lr_drops(lr) == [6, 9]
    assert results.lr_drops([0.1, 0.1]) == []


def test_plot_band_draws_a_line_and_a_band():
    fig, ax = plt.subplots()
    x = np.arange(4)
    style.plot_band(ax, x, x * 1.0, x - 1.0, x + 1.0, color="C0", label="m")
    assert len(ax.lines) == 1 and len(ax.collections) == 1
    assert ax.lines[0].get_label() == "m"
    with pytest.raises(ValueError, match="must be 1-D arrays of one length"):
        style.plot_band(ax, x, x[:3], x, x, color="C0")
    plt.close(fig)


def test_run_label():
    assert results.run_label({"arch": "resnet34", "dataset": "cifar100"}) == (
        "ResNet-34, CIFAR-100")
    assert results.run_label({"arch": "densenet", "dataset": "digits"}) == (
        "DenseNet-BC-22, digits")
    with pytest.raises(TypeError, match="config must be a result's config dict"):
        results.run_label({"arch": "resnet"})


def _saved(root, experiment, dataset, arch):
    folder = root / "paper" / f"{experiment}-{dataset}-{arch}"
    folder.mkdir(parents=True)
    (folder / "result.json").write_text(json.dumps(
        {"config": {"experiment": experiment, "arch": arch, "dataset": dataset},
         "summary": {"parameters": 1}}))
    np.savez(folder / "result.npz", values=np.zeros(2))


def test_show_results_prefers_saved_folders_and_adds_cifar100(tmp_path):
    calls = []

    def compute(arch):
        calls.append(arch)
        return {e: {"config": {"experiment": e, "arch": arch, "dataset": "digits"}}
                for e in ("trajectory", "neighbourhood")} | {"weights": np.ones((2, 3))}

    archs = {"resnet": "resnet34", "densenet": "densenet100"}
    _saved(tmp_path, "trajectory", "cifar10", "resnet34")
    _saved(tmp_path, "trajectory", "cifar100", "densenet100")
    runs = results.show_results(("trajectory", "neighbourhood"), archs, compute,
                                   scale="tiny", root=tmp_path)
    assert calls == ["resnet", "densenet"]  # once per architecture with a missing folder
    shown = [(s.experiment, s.label, s.source) for s in runs.shown]
    assert shown == [
        ("trajectory", "ResNet-34, CIFAR-10", "saved: results/paper/trajectory-cifar10-resnet34"),
        ("neighbourhood", "ResNet-14, digits", "computed now, scale tiny"),
        ("trajectory", "DenseNet-BC-22, digits", "computed now, scale tiny"),
        ("neighbourhood", "DenseNet-BC-22, digits", "computed now, scale tiny"),
        ("trajectory", "DenseNet-BC-100, CIFAR-100",
         "saved: results/paper/trajectory-cifar100-densenet100")]
    assert list(runs.results("trajectory")) == ["ResNet-34, CIFAR-10", "DenseNet-BC-22, digits",
                                                "DenseNet-BC-100, CIFAR-100"]
    assert set(runs.weights) == {"resnet", "densenet"} and runs.computed()
    for experiment in ("neighbourhood",):
        for dataset, arch in (("cifar10", "resnet34"), ("cifar10", "densenet100")):
            _saved(tmp_path, experiment, dataset, arch)
    _saved(tmp_path, "trajectory", "cifar10", "densenet100")
    calls.clear()
    runs = results.show_results(("trajectory", "neighbourhood"), archs, compute,
                                   scale="tiny", root=tmp_path)
    assert calls == [] and not runs.computed() and runs.weights == {}
    with pytest.raises(TypeError, match="compute must be a callable"):
        results.show_results(("trajectory",), archs, None, scale="tiny", root=tmp_path)


def test_run_colors_and_log_or_symlog():
    from sgdlab.book.style import PALETTE

    colors = style.run_colors(["a", "b"])
    assert colors == {"a": PALETTE["function"], "b": PALETTE["alert"]}
    with pytest.raises(ValueError, match="labels must be at most 6 runs"):
        style.run_colors(list("abcdefg"))
    fig, ax = plt.subplots()
    assert style.log_or_symlog(ax, [1.0, 1e-3]) == "log" and ax.get_yscale() == "log"
    assert style.log_or_symlog(ax, [1.0, -2.0]) == "symlog"
    assert ax.get_yscale() == "symlog" and len(ax.lines) == 1  # the zero line
    with pytest.raises(ValueError, match="values must be a non-empty array of finite values"):
        style.log_or_symlog(ax, [np.nan])
    plt.close(fig)


def test_describe_and_paper_differences():
    from sgdlab.nn.config import config_for

    tiny = config_for("trajectory", "tiny").to_dict()
    assert results.describe(tiny) == "scale tiny: digits, 3 epochs, the first 256 images"
    assert results.paper_differences(tiny) == [
        "digits (paper: CIFAR-10 or CIFAR-100)", "ResNet-14 (paper: ResNet-34 or "
        "DenseNet-BC-100)", "epochs 3 (paper: 300)", "trials 2 (paper: 5)",
        "the first 256 images (paper: all)"]
    paper = config_for("trajectory", "paper", dataset="cifar100", arch="densenet100").to_dict()
    assert results.paper_differences(paper) == []
    assert results.describe(paper) == "scale paper: CIFAR-100, 300 epochs, all images"
    assert results.paper_differences(config_for("spectrum", "paper").to_dict()) == []
    with pytest.raises(TypeError, match="config must be a result's config dict"):
        results.describe({"epochs": 3})
    assert results.settings_text({"A, CIFAR-100": {"config": paper},
                                  "B, digits": {"config": tiny}}) == (
        "A on CIFAR-100 is at the paper's settings; B on digits is not at the paper's "
        "settings (a network of our own, digits (paper: CIFAR-10 or CIFAR-100), epochs 3 "
        "(paper: 300), trials 2 (paper: 5) and the first 256 images (paper: all))")


def _saved_config(root, experiment, dataset, arch, config):
    folder = root / "paper" / f"{experiment}-{dataset}-{arch}"
    folder.mkdir(parents=True)
    (folder / "result.json").write_text(json.dumps(
        {"config": config, "summary": {"parameters": 1}}))
    np.savez(folder / "result.npz", values=np.zeros(2))


def test_shown_note_warns_about_a_folder_not_at_the_papers_settings(tmp_path):
    from sgdlab.nn.config import config_for

    tiny = config_for("trajectory", "tiny", dataset="cifar10", arch="resnet34",
                      epochs=8).to_dict()
    paper = config_for("trajectory", "paper", arch="densenet100").to_dict()
    _saved_config(tmp_path, "trajectory", "cifar10", "resnet34", tiny)
    _saved_config(tmp_path, "trajectory", "cifar10", "densenet100", paper)
    runs = results.show_results(("trajectory",), {"resnet": "resnet34",
                                                  "densenet": "densenet100"},
                                lambda arch: None, scale="book", root=tmp_path)
    assert [s.saved for s in runs.shown] == [True, True] and not runs.computed()
    assert [s.at_paper_settings for s in runs.shown] == [False, True]
    assert list(runs.short("trajectory")) == ["ResNet-34, CIFAR-10"]
    note = results.shown_note(runs).data
    assert ("* trajectory, ResNet-34, CIFAR-10: saved results (scale tiny: CIFAR-10, 8 epochs, "
            "the first 256 images) from `results/paper/trajectory-cifar10-resnet34`") in note
    assert ("**Warning.** `results/paper/trajectory-cifar10-resnet34` is not at the paper's "
            "settings: epochs 8 (paper: 300), trials 2 (paper: 5) and the first 256 images "
            "(paper: all).") in note
    assert "densenet100` is not" not in note and "computed now" not in note
    assert "scale book" not in note  # the scale asked for is not the scale shown
    table = results.sources_table(runs).data
    assert "| scale tiny: CIFAR-10, 8 epochs, the first 256 images |" in table
    assert "| scale paper: CIFAR-10, 300 epochs, all images |" in table
