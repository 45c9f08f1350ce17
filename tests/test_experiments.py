"""The Section 5 experiments and the command line, at the tiny scale."""

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sgdlab import __main__ as cli
from sgdlab.nn import experiments

pytestmark = pytest.mark.usefixtures("torch_one_thread")




def test_presets_and_overrides():
    book = experiments.config_for("neighbourhood")
    assert book.scale == "book" and book.dataset == "digits" and book.k >= 1
    paper = experiments.config_for("trajectory", "paper")
    assert (paper.dataset, paper.arch, paper.epochs, paper.trials, paper.lr) == (
        "cifar10", "resnet34", 300, 5, 0.1)
    assert experiments.config_for("allpairs", "paper").members == 50
    custom = experiments.config_for("trajectory", "tiny", epochs=5, arch="densenet", k=None)
    assert (custom.epochs, custom.arch) == (5, "densenet")


@pytest.mark.parametrize("kwargs, message", [
    (dict(experiment="fit"), "experiment must be one of"),
    (dict(scale="huge"), "scale must be one of"),
    (dict(arch="vgg"), "arch must be one of"),
    (dict(dataset="mnist"), "dataset must be one of"),
    (dict(epochs=0), "epochs must be an integer >= 1"),
    (dict(rho=0.0), "rho must be a finite number > 0"),
    (dict(k=0), "k must be an integer >= 1"),
    (dict(device="tpu"), "device must be"),
    (dict(seed=-1), "seed must be an integer >= 0"),
    (dict(schedule="cosine"), "schedule must be one of"),
    (dict(shared_epochs=-1), "shared_epochs must be an integer >= 0"),
    (dict(experiment="spectrum", starts=5), r"starts must be <= epochs \+ 1 = 4"),
    (dict(colour="red"), "unknown experiment option"),
])
def test_bad_config(kwargs, message):
    kwargs = dict(dict(experiment="trajectory", scale="tiny"), **kwargs)
    with pytest.raises(ValueError, match=message):
        experiments.config_for(**kwargs)


@pytest.mark.slow
@pytest.mark.parametrize("name", experiments.EXPERIMENTS)
def test_each_experiment_runs_and_saves(name, tmp_path):
    out = tmp_path / name
    result = experiments.run(name, scale="tiny", out=out, progress=False)
    assert (out / "result.json").is_file() and (out / "result.npz").is_file()
    saved = experiments.load(out)
    assert saved["summary"] == result["summary"]
    assert saved["config"]["experiment"] == name and saved["config"]["scale"] == "tiny"
    for key, value in result["arrays"].items():
        np.testing.assert_array_equal(saved["arrays"][key], value)
    # a second call with the same config loads the folder instead of recomputing
    assert experiments.run(name, scale="tiny", out=out, progress=False)["summary"] == \
        result["summary"]
    with pytest.raises(FileExistsError, match="another config"):
        experiments.run(name, scale="tiny", out=out, progress=False, seed=5)


@pytest.mark.slow
def test_trajectory_result_is_consistent(tmp_path):
    res = experiments.run("trajectory", scale="tiny", out=tmp_path, progress=False)
    arrays, summary = res["arrays"], res["summary"]
    assert arrays["inner"].shape == (2, 3)
    np.testing.assert_allclose(arrays["min_inner"], arrays["inner"].min(axis=0))
    np.testing.assert_allclose(arrays["step_length_max"], arrays["lr"] * arrays["grad_norm_max"],
                               rtol=1e-6)
    assert summary["share_positive"] == float(np.mean(arrays["inner"] > 0))


@pytest.mark.slow
def test_resume_after_interruption_gives_the_same_result(tmp_path):
    out = tmp_path / "trajectory"
    first = experiments.run("trajectory", scale="tiny", out=out, progress=False)
    (out / "result.json").unlink()  # as if killed after training, before saving
    for trial in ("trial0", "trial1"):  # the trials' runs are in runs/ next to out
        key = first["runs"]["keys"][trial]
        assert (tmp_path / "runs" / key / "checkpoint.pt").is_file()
    with pytest.raises(FileExistsError, match="unfinished run of this experiment and config; "
                       "add --resume"):
        experiments.run("trajectory", scale="tiny", out=out, progress=False)
    again = experiments.run("trajectory", scale="tiny", out=out, progress=False, resume=True)
    assert again["summary"] == first["summary"]


def test_load_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="holds no experiment result"):
        experiments.load(tmp_path)


@pytest.mark.slow
def test_cli_runs_and_prints_json(tmp_path, capsys):
    status = cli.main(["run", "allpairs", "--scale", "tiny", "--members", "2", "--out",
                       str(tmp_path / "pairs"), "--quiet"])
    assert status == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["config"]["members"] == 2
    assert printed["summary"]["total"] == 2 * 1 * 2  # M (M - 1) T with T = 2 epochs


def test_cli_help_explains_every_option(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["run", "--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    for option in ("--dataset", "--data-dir", "--arch", "--epochs", "--trials", "--device",
                   "--out", "--scale", "--resume", "trajectory", "neighbourhood", "allpairs",
                   "spectrum"):
        assert option in text


def test_cli_rejects_bad_arguments(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["run", "trajectory", "--arch", "vgg", "--out", str(tmp_path)])
    assert stop.value.code == 2
    assert "invalid choice: 'vgg'" in capsys.readouterr().err
    status = cli.main(["run", "trajectory", "--scale", "tiny", "--dataset", "cifar10",
                       "--data-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o"),
                       "--quiet"])
    assert status == 2
    err = capsys.readouterr().err
    assert "error:" in err and "cifar-10-batches-py" in err
    status = cli.main(["run", "neighbourhood", "--scale", "tiny", "--rho", "-1", "--out",
                       str(tmp_path / "p"), "--quiet"])
    assert status == 2 and "rho must be" in capsys.readouterr().err


def test_cli_options_are_the_config_fields(capsys, monkeypatch):
    fields = dataclasses.fields(experiments.ExperimentConfig)
    assert [f.name for f in fields[:2]] == ["experiment", "scale"]
    assert list(experiments.OPTIONS) == [f.name for f in fields[2:]]
    parser = cli.build_parser()
    args = parser.parse_args(["run", "trajectory", "--out", "o"])
    assert all(getattr(args, name) is None for name in experiments.OPTIONS)  # the presets'
    for field in fields[2:]:
        value = (field.metadata["choices"][-1] if field.metadata["choices"]
                 else "true" if field.type == "bool" else "7")
        option = "--" + field.name.replace("_", "-")
        parsed = getattr(parser.parse_args(["run", "trajectory", "--out", "o", option, value]),
                         field.name)
        assert parsed == type(parsed)(value) and (field.default is None
                                                  or type(parsed) is type(field.default))
    monkeypatch.setenv("COLUMNS", "1000")  # no line breaks inside a help text
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    text = capsys.readouterr().out
    for field in fields[2:]:
        assert field.metadata["help"] in text, field.name


def test_cli_help_does_not_import_torch():
    code = ("import sys; from sgdlab import __main__ as cli\n"
            "try:\n    cli.main(['run', '--help'])\nexcept SystemExit:\n    pass\n"
            "print('torch' in sys.modules, file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    assert "--continue-epochs" in out.stdout and out.stderr.strip() == "False"


@pytest.fixture(scope="module")
def fake_cifar100(tmp_path_factory):
    from sgdlab.nn import data

    return data.write_fake_cifar(tmp_path_factory.mktemp("c100"), "cifar100", n_per_batch=100)


@pytest.mark.slow
@pytest.mark.parametrize("name", experiments.EXPERIMENTS)
def test_each_experiment_on_cifar100(name, tmp_path, fake_cifar100):
    """CIFAR-100 end to end (generated files: 100 training images of 32x32x3, fine labels),
    with augmentation, a probe chunk and a holdout split; the protocol table it saves."""
    from sgdlab.nn import data, nets, protocol

    augment = name != "allpairs"  # its ensembles refuse augmentation (test below)
    options = dict(dataset="cifar100", data_dir=str(fake_cifar100), batch_size=25,
                   augment=augment, probe_batch=40, val_split="holdout")
    result = experiments.run(name, scale="tiny", out=tmp_path, progress=False, **options)
    dataset = data.load("cifar100", fake_cifar100)
    assert dataset.classes == 100 and dataset.shape == (3, 32, 32)
    assert dataset.x_train.shape[0] == 100
    model = nets.build("resnet", dataset.shape, dataset.classes)
    assert result["summary"]["parameters"] == nets.count_parameters(model)
    assert result["config"]["dataset"] == "cifar100" and result["config"]["augment"] is augment
    assert result["config"]["val_split"] == "holdout"
    cfg = experiments.config_for(name, "tiny", **options)
    saved = json.loads((tmp_path / "result.json").read_text())
    assert saved["protocol"] == result["protocol"] == protocol.choices(cfg)
    assert protocol.network_size(cfg.arch, "cifar100")["parameters"] == (
        result["summary"]["parameters"])  # a 100-class output layer
    for value in result["arrays"].values():
        assert np.all(np.isfinite(value))
    assert experiments.load(tmp_path)["summary"] == result["summary"]


@pytest.mark.parametrize("option", [dict(momentum=0.9), dict(weight_decay=5e-4),
                                    dict(augment=True)])
def test_allpairs_refuses_what_its_ensembles_would_ignore(option):
    with pytest.raises(ValueError, match=f"{next(iter(option))} must be .* for allpairs"):
        experiments.config_for("allpairs", "tiny", dataset="cifar10", **option)
    experiments.config_for("trajectory", "tiny", dataset="cifar10", **option)  # fine there


def test_train_ensemble_refuses_momentum():
    from sgdlab.nn.train import TrainConfig, train_ensemble

    config = TrainConfig(dataset="digits", limit=64, epochs=1, momentum=0.9)
    with pytest.raises(ValueError, match=r"config\.momentum must be 0\.0"):
        train_ensemble(config, [1, 2], progress=False)


def test_allpairs_members_are_runs_of_their_own_settings(tmp_path):
    """An ensemble is one run of the runs folder, keyed by its settings: other seeds (another
    config) train another run, never reuse the first one's weights; the same settings reuse
    it."""
    from sgdlab.nn import data, runs
    from sgdlab.nn.train import TrainConfig

    dataset = data.load("digits", limit=128)
    config = TrainConfig(dataset="digits", limit=128, epochs=1, schedule="constant")
    first = runs.trained_ensemble(config, [1, 2], tmp_path, dataset=dataset, progress=False)
    other = runs.trained_ensemble(config, [3, 4], tmp_path, dataset=dataset, progress=False)
    again = runs.trained_ensemble(config, [1, 2], tmp_path, dataset=dataset, progress=False)
    assert (first.source, other.source, again.source) == ("trained", "trained", "reused")
    assert first.key != other.key and again.key == first.key
    assert not np.array_equal(first.weights, other.weights)
    assert first.weights.shape == (2, 2, other.weights.shape[2])
    fresh = runs.trained_ensemble(config, [3, 4], tmp_path / "new", dataset=dataset,
                                  progress=False)
    np.testing.assert_array_equal(fresh.weights, other.weights)


def test_allpairs_pairs_units_vmap_where_the_device_prefers_it(tmp_path, monkeypatch):
    """The ``pairs{m}`` units take the probes' path for the device (vmap on CUDA, here
    pretended on the CPU), not one gradient at a time; the values agree with the loop's."""
    from sgdlab.nn import probe

    loop = experiments.run("allpairs", scale="tiny", members=2, out=tmp_path / "loop",
                           progress=False)
    mapped = []
    monkeypatch.setattr(probe, "prefers_vmap", lambda device: True)
    monkeypatch.setattr(probe, "vmap", lambda func: mapped.append(func) or torch_vmap(func))
    vmapped = experiments.run("allpairs", scale="tiny", members=2, out=tmp_path / "vmap",
                              progress=False)  # the same training runs (tmp_path / "runs")
    assert len(mapped) == 2  # one call per pairs{m} unit
    np.testing.assert_allclose(vmapped["arrays"]["values"], loop["arrays"]["values"], rtol=1e-5,
                               atol=1e-6)


def torch_vmap(func):
    from torch.func import vmap

    return vmap(func)


def test_spectrum_reports_what_bn_eval_asks_for(tmp_path):
    """With ``bn_eval="running"`` the minima's losses and accuracies are the continuation
    runs' evaluations with running averages (the loss at s: the base run's at epoch s), not
    the batch statistics of the probes; with "batch" they are the probes' f."""
    import torch

    from sgdlab.nn import data, nets, probe
    from sgdlab.nn.train import load_result

    result = experiments.run("spectrum", scale="tiny", bn_eval="running", out=tmp_path / "a",
                             progress=False)
    arrays, keys = result["arrays"], result["runs"]["keys"]
    base = load_result(tmp_path / "runs" / keys["base"])
    cfg = experiments.config_for("spectrum", "tiny", bn_eval="running")
    dataset = data.load(cfg.dataset, limit=cfg.limit)
    model = nets.build(cfg.arch, dataset.shape, dataset.classes)
    for i, s in enumerate(arrays["starts"]):
        cont = load_result(tmp_path / "runs" / keys[f"from{s}"])
        assert arrays["train_loss"][i] == cont.train_loss[-1]
        assert arrays["val_loss"][i] == cont.val_loss[-1]
        assert arrays["val_accuracy"][i] == cont.val_accuracy[-1]
        batch = probe.loss_at(model, torch.tensor(np.array(cont.weights[-1])), dataset.x_train,
                              dataset.y_train, batch_size=cfg.probe_batch)
        assert abs(arrays["train_loss"][i] - batch) > 1e-6  # not the batch statistics
        if s > 0:
            assert arrays["start_train_loss"][i] == base.train_loss[s - 1]
    batch = experiments.run("spectrum", scale="tiny", out=tmp_path / "b", progress=False)
    cont = load_result(tmp_path / "runs" / batch["runs"]["keys"][f"from{batch['arrays']['starts'][-1]}"])
    assert batch["arrays"]["train_loss"][-1] == probe.loss_at(
        model, torch.tensor(np.array(cont.weights[-1])), dataset.x_train, dataset.y_train,
        batch_size=cfg.probe_batch)


def test_torchrun_needs_a_shared_out(monkeypatch):
    for name, value in (("RANK", "0"), ("WORLD_SIZE", "2"), ("LOCAL_RANK", "0")):
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match="out must be a folder all ranks share under torchrun, "
                       "got None"):
        experiments.run("trajectory", scale="tiny", progress=False)


def test_cli_ranks_without_plan_is_an_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["run", "trajectory", "--scale", "tiny", "--out", str(tmp_path), "--ranks",
                  "4"])
    assert stop.value.code == 2 and "--ranks is only for --plan" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # nothing ran


# -- trajectory and neighbourhood on one training run ---------------------------------------
def _same_result(a, b):
    assert a["config"] == b["config"] and a["summary"] == b["summary"]
    assert sorted(a["arrays"]) == sorted(b["arrays"])
    for key, value in a["arrays"].items():
        np.testing.assert_array_equal(b["arrays"][key], value)


def test_trajectory_and_neighbourhood_share_one_run(tmp_path, monkeypatch):
    from sgdlab.nn import train

    trained = []
    real = train.train
    monkeypatch.setattr(train, "train", lambda config, out_dir, **kw: trained.append(
        config.seed) or real(config, out_dir, **kw))
    pair = experiments.run_trajectory_and_neighbourhood(
        "tiny", out=tmp_path, progress=False, keep_weights=True, trajectory=dict(trials=1))
    traj, nbhd, weights = pair["trajectory"], pair["neighbourhood"], pair["weights"]
    epochs = traj["config"]["epochs"]
    assert traj["config"]["experiment"] == "trajectory"
    assert nbhd["config"]["experiment"] == "neighbourhood"
    assert weights.shape == (epochs + 1, traj["summary"]["parameters"])
    # the neighbourhood's run is the trajectory's trial 0, trained once, in out/runs
    key = traj["runs"]["keys"]["trial0"]
    assert nbhd["runs"]["keys"] == {"train": key} and len(trained) == 1
    assert [p.name for p in (tmp_path / "runs").iterdir()] == [key]
    # the balls are centred on the kept run's epochs, with its final point as the target
    expected = [np.linalg.norm(weights[-1].astype(np.float64) - weights[t]) for t in
                nbhd["arrays"]["epochs"]]
    np.testing.assert_allclose(nbhd["arrays"]["distance"], expected, rtol=1e-5)
    # ... and the results are those of each experiment run alone
    _same_result(experiments.run("trajectory", scale="tiny", trials=1, progress=False), traj)
    _same_result(experiments.run("neighbourhood", scale="tiny", progress=False), nbhd)
    # a second call loads both folders; without out a temporary folder gives the same
    again = experiments.run_trajectory_and_neighbourhood(
        "tiny", out=tmp_path, progress=False, trajectory=dict(trials=1))
    assert sorted(again) == ["neighbourhood", "trajectory"]
    _same_result(again["neighbourhood"], nbhd)
    trained.clear()
    fresh = experiments.run_trajectory_and_neighbourhood("tiny", progress=False,
                                                         trajectory=dict(trials=1))
    _same_result(fresh["trajectory"], traj)
    assert len(trained) == 1


def test_trajectory_and_neighbourhood_with_other_settings(tmp_path):
    pair = experiments.run_trajectory_and_neighbourhood(
        "tiny", out=tmp_path, progress=False, trajectory=dict(trials=1, epochs=2),
        neighbourhood=dict(epochs=3), seed=4)
    traj, nbhd = pair["trajectory"], pair["neighbourhood"]
    assert traj["config"]["epochs"] == 2 and nbhd["config"]["epochs"] == 3
    assert traj["config"]["seed"] == nbhd["config"]["seed"] == 4  # shared overrides
    assert nbhd["arrays"]["values"].shape[0] == 3
    assert nbhd["runs"]["keys"]["train"] != traj["runs"]["keys"]["trial0"]  # its own run
    assert len(list((tmp_path / "runs").iterdir())) == 2


def test_trajectory_and_neighbourhood_refuse_another_result(tmp_path):
    experiments.run("neighbourhood", scale="tiny", out=tmp_path / "neighbourhood", seed=1,
                    epochs=1, progress=False)
    with pytest.raises(FileExistsError, match="another config"):
        experiments.run_trajectory_and_neighbourhood("tiny", out=tmp_path, progress=False,
                                                     trajectory=dict(trials=1), epochs=1)
    assert not (tmp_path / "trajectory").exists()  # refused before training
    # and a trajectory of another config, before the neighbourhood runs
    experiments.run("trajectory", scale="tiny", out=tmp_path / "other" / "trajectory",
                    epochs=1, trials=1, seed=1, progress=False)
    with pytest.raises(FileExistsError, match="another config"):
        experiments.run_trajectory_and_neighbourhood(
            "tiny", out=tmp_path / "other", progress=False, trajectory=dict(trials=1),
            neighbourhood=dict(epochs=2))
    assert not (tmp_path / "other" / "neighbourhood").exists()


def test_each_run_seed_is_derived_from_the_seed_and_its_purpose(tmp_path):
    from sgdlab.nn.seeds import Purpose, derive

    result = experiments.run("trajectory", scale="tiny", out=tmp_path / "t", progress=False,
                             seed=3, epochs=1)
    for trial in (0, 1):
        key = result["runs"]["keys"][f"trial{trial}"]
        saved = json.loads((tmp_path / "runs" / key / "config.json").read_text())
        assert saved["config"]["seed"] == derive(3, Purpose.TRIAL, trial)


# -- one config policy: a folder, a unit file or a run of another config is refused --------
def _files(folder):
    """{path: modification time} of every file under ``folder``."""
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def test_a_folder_of_another_config_is_refused_before_any_work(tmp_path):
    from sgdlab.nn.runs import ConfigMismatchError

    out = tmp_path / "nbhd"
    experiments.run("neighbourhood", scale="tiny", out=out, epochs=1, progress=False)
    before = _files(tmp_path)
    for resume in (False, True):
        with pytest.raises(ConfigMismatchError, match=(
                r"nbhd holds neighbourhood results of another config: epochs: saved 1, asked "
                r"2; k: saved 4, asked 3\. Choose another --out \(out=\) for these settings, "
                r"or ask for the saved settings \(--epochs 1 --k 4\)")) as err:
            experiments.run("neighbourhood", scale="tiny", out=out, epochs=2, k=3,
                            resume=resume, progress=False)
        assert isinstance(err.value, FileExistsError) and isinstance(err.value, ValueError)
    # unfinished (only config.json and units/): the same, whatever resume says
    (out / "result.json").unlink()
    (out / "result.npz").unlink()
    before = _files(tmp_path)
    for resume in (False, True):
        with pytest.raises(ConfigMismatchError, match="another config: epochs: saved 1"):
            experiments.run("neighbourhood", scale="tiny", out=out, epochs=2, resume=resume,
                            progress=False)
    assert _files(tmp_path) == before  # nothing trained, probed or written
    with pytest.raises(ConfigMismatchError, match="add --resume"):  # the same config
        experiments.run("neighbourhood", scale="tiny", out=out, epochs=1, progress=False)
    experiments.run("neighbourhood", scale="tiny", out=out, epochs=1, resume=True,
                    progress=False)
    # a legacy folder (result.json, no config.json) is judged by its result's config
    (out / "config.json").unlink()
    with pytest.raises(ConfigMismatchError, match=r"--scale tiny"):
        experiments.run("neighbourhood", scale="book", out=out, epochs=1, progress=False)


def test_a_unit_file_of_another_config_is_refused_before_any_work(tmp_path):
    import shutil

    from sgdlab.nn.runs import ConfigMismatchError

    experiments.run("neighbourhood", scale="tiny", out=tmp_path / "a", epochs=1, k=2,
                    progress=False)
    experiments.run("neighbourhood", scale="tiny", out=tmp_path / "b", epochs=1,
                    progress=False)
    for name in ("result.json", "result.npz"):  # b is unfinished ...
        (tmp_path / "b" / name).unlink()
    shutil.copy(tmp_path / "a" / "units" / "ball0.npz", tmp_path / "b" / "units")  # ... and mixed
    before = _files(tmp_path)
    with pytest.raises(ConfigMismatchError, match=(
            r"ball0\.npz was computed with another config: k: saved 2, asked 4\. Choose "
            r"another --out \(out=\) for these settings, or ask for the saved settings "
            r"\(--k 2\)")):
        experiments.run("neighbourhood", scale="tiny", out=tmp_path / "b", epochs=1,
                        resume=True, progress=False)
    assert _files(tmp_path) == before


def test_runs_are_shared_through_a_named_runs_folder(tmp_path, capsys, monkeypatch):
    from sgdlab.nn import train

    assert cli.main(["run", "trajectory", "--scale", "tiny", "--trials", "1", "--out",
                     str(tmp_path / "a" / "traj"), "--runs", str(tmp_path / "shared")]) == 0
    capsys.readouterr()
    key = experiments.load(tmp_path / "a" / "traj")["runs"]["keys"]["trial0"]
    assert [p.name for p in (tmp_path / "shared").iterdir()] == [key]
    assert not (tmp_path / "a" / "runs").exists()
    monkeypatch.setattr(train, "train", lambda *a, **k: pytest.fail("trained again"))
    assert cli.main(["run", "neighbourhood", "--scale", "tiny", "--out",
                     str(tmp_path / "b" / "nbhd"), "--runs", str(tmp_path / "shared")]) == 0
    err = capsys.readouterr().err
    assert (f"train: reusing training run {tmp_path / 'shared' / key} (trained for trajectory "
            f"trial0 in {tmp_path / 'a' / 'traj'})") in err
    result = experiments.load(tmp_path / "b" / "nbhd")
    assert result["runs"] == {"folder": str(tmp_path / "shared"), "keys": {"train": key}}


@pytest.mark.slow
def test_cli_neighbourhood_after_trajectory_trains_nothing(tmp_path):
    """Two commands with their default runs folder (runs/ next to --out)."""
    def sgdlab(*args):
        proc = subprocess.run([sys.executable, "-m", "sgdlab", "run", *args, "--scale", "tiny"],
                              capture_output=True, text=True, timeout=600,
                              cwd=Path(__file__).resolve().parents[1],
                              env=dict(os.environ, OMP_NUM_THREADS="1",
                                       PYTHONPATH=str(Path(__file__).resolve().parents[1])))
        assert proc.returncode == 0, proc.stderr[-3000:]
        return proc.stderr

    first = sgdlab("trajectory", "--out", str(tmp_path / "trajectory"))
    assert "trial0: training run" in first
    second = sgdlab("neighbourhood", "--out", str(tmp_path / "neighbourhood"))
    key = experiments.load(tmp_path / "trajectory")["runs"]["keys"]["trial0"]
    assert (f"train: reusing training run {tmp_path / 'runs' / key} (trained for trajectory "
            f"trial0 in {tmp_path / 'trajectory'})") in second
    assert "training run" not in second.replace("reusing training run", "")


# -- ours: noise and gd ----------------------------------------------------------------------
def test_units_of_noise_and_gd():
    assert experiments.units_of("noise", "book") == [
        ("training", ["train"]), ("points", ["point0", "point6", "point12", "point18"])]
    runs, curves = experiments.units_of("gd", "book", trials=2, sgd_batches="64,32,64",
                                        gd_lrs="0.5,0.2")
    assert runs == ("runs", [f"{n}-t{i}" for i in (0, 1) for n in
                             ("sgd64", "sgd32", "gd-step", "gd0.5", "gd0.2")])
    assert curves == ("curvature", [f"{n}-curvature" for n in runs[1]])
    # with a constant schedule the GD run on SGD's schedule is GD at lr: listed once
    constant = experiments.units_of("gd", "book", schedule="constant", lr=0.2,
                                    gd_lrs="0.5,0.2")[0][1]
    assert constant == ["sgd32-t0", "sgd64-t0", "sgd128-t0", "gd0.5-t0", "gd0.2-t0"]
    assert experiments.units_of("gd", "book", schedule="constant", lr=0.3,
                                gd_lrs="0.5")[0][1][-2:] == ["gd0.3-t0", "gd0.5-t0"]


@pytest.mark.parametrize("kwargs, message", [
    (dict(sgd_batches="64,zero"), "sgd_batches must be comma-separated integers > 0"),
    (dict(sgd_batches="0"), "sgd_batches must be comma-separated integers > 0"),
    (dict(gd_lrs="0.1,-1"), "gd_lrs must be comma-separated numbers > 0"),
    (dict(noise_batches=1), "noise_batches must be an integer >= 2"),
    (dict(smoothing_samples=80), "smoothing_samples must be <= noise_batches = 64"),
    (dict(curvature_points=1), "curvature_points must be an integer >= 2"),
])
def test_bad_config_of_noise_and_gd(kwargs, message):
    with pytest.raises(ValueError, match=message):
        experiments.config_for("gd", "book", **kwargs)


@pytest.mark.slow
def test_noise_result_is_consistent(tmp_path):
    res = experiments.run("noise", scale="tiny", out=tmp_path, progress=False)
    a, s, cfg = res["arrays"], res["summary"], res["config"]
    points = len(a["epochs"])
    assert a["norms"].shape == (points, cfg["noise_batches"])
    assert a["g_real"].shape == a["g_model"].shape == (points, cfg["smoothing_samples"])
    assert a["eigenvalues"].shape == a["alignment"].shape == (points, cfg["top_k"])
    np.testing.assert_allclose(a["mean_square"], (a["norms"] ** 2).mean(axis=1), rtol=1e-6)
    # the radii: lr times the 99% quantile of the norm, and lr sqrt(3 E|w|^2) (the cube)
    np.testing.assert_allclose(a["effective_radius"], a["point_lr"]
                               * np.quantile(a["norms"], 0.99, axis=1), rtol=1e-6)
    np.testing.assert_allclose(a["model_radius"], a["point_lr"]
                               * np.sqrt(3 * a["mean_square"]), rtol=1e-6)
    np.testing.assert_array_equal(a["point_lr"], a["lr"][a["epochs"]])
    assert s["f_positive"] == int(np.sum(a["f_inner"] > 0))
    assert s["g_real_positive"] == int(np.sum(a["g_real"].mean(axis=1) > 0))


@pytest.mark.slow
def test_gd_runs_start_together_and_gd_is_full_batch(tmp_path):
    res = experiments.run("gd", scale="tiny", out=tmp_path, progress=False)
    rows, a = res["summary"]["runs"], res["arrays"]
    names = [r["name"] for r in rows]
    assert names == experiments.units_of("gd", "tiny")[0][1]
    n = res["summary"]["train_images"]
    for r in rows:  # GD: one step of all images per "epoch"
        assert (r["batch_size"] == n) == (r["kind"] == "gd")
        assert r["steps"] == r["epochs"] * (n // r["batch_size"])
    # every run starts at the same initialisation: the same sharpness there (to Lanczos' tol)
    first = [a[f"{name}/sharpness"][0] for name in names]
    np.testing.assert_allclose(first, first[0], rtol=1e-3)
    best = min((r for r in rows if r["kind"] == "gd"), key=lambda r: r["train_loss"])
    assert res["summary"]["best_gd"] == best["name"]
