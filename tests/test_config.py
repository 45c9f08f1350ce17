"""Tests of sgdlab.nn.config: ExperimentConfig's protocol fields and the presets (no torch)."""

import dataclasses

import pytest

from sgdlab.nn import names
from sgdlab.nn.config import OPTIONS, ExperimentConfig, config_for

PROTOCOL = dict(momentum=0.0, weight_decay=0.0, augment=False, bn_eval="batch",
                val_split="test")
"""The defaults: plain SGD on the plain loss, as the paper's theory has it."""


def test_every_option_has_a_help_text_and_the_new_fields_are_options():
    fields = {f.name: f for f in dataclasses.fields(ExperimentConfig)}
    for name in OPTIONS:
        assert len(fields[name].metadata["help"]) > 20, name
    for name in list(PROTOCOL) + ["probe_batch", "memory_gb"]:
        assert name in OPTIONS
    assert fields["bn_eval"].metadata["choices"] == names.BN_EVALS == ("batch", "running")
    assert fields["val_split"].metadata["choices"] == names.VAL_SPLITS == ("test", "holdout")
    for name in ("momentum", "weight_decay", "augment", "bn_eval", "val_split"):
        assert "paper" in fields[name].metadata["help"], name  # says what the paper states


@pytest.mark.parametrize("experiment", names.EXPERIMENTS)
@pytest.mark.parametrize("scale", names.SCALES)
def test_presets_use_the_plain_protocol_and_one_pass_probes(experiment, scale):
    cfg = config_for(experiment, scale)
    assert {name: getattr(cfg, name) for name in PROTOCOL} == PROTOCOL
    # the book's digits are probed in one pass; CIFAR at the paper's scale in chunks of 500
    # gd's GD steps take one pass over its 5,000 images, and its probes the same f
    chunked = scale == "paper" and experiment != "gd"
    assert cfg.probe_batch == (500 if chunked else None) and cfg.memory_gb is None


def test_paper_preset_keeps_the_papers_numbers():
    cfg = {e: config_for(e, "paper") for e in names.EXPERIMENTS}
    assert (cfg["trajectory"].epochs, cfg["trajectory"].trials, cfg["trajectory"].lr) == (
        300, 5, 0.1)
    assert (cfg["neighbourhood"].k, cfg["neighbourhood"].rho) == (100, 0.5)
    assert (cfg["allpairs"].members, cfg["allpairs"].shared_epochs,
            cfg["allpairs"].epochs) == (50, 10, 140)
    assert (cfg["spectrum"].epochs, cfg["spectrum"].small_lr,
            cfg["spectrum"].continue_epochs) == (300, 0.01, 150)
    assert cfg["trajectory"].arch == "resnet34" and cfg["trajectory"].dataset == "cifar10"


def test_overrides_reach_the_protocol_fields():
    cfg = config_for("trajectory", "tiny", dataset="cifar100", momentum=0.9, weight_decay=5e-4,
                     augment=True, bn_eval="running", val_split="holdout", probe_batch=32,
                     memory_gb=2, data_dir="/nowhere")
    assert (cfg.momentum, cfg.weight_decay, cfg.augment, cfg.bn_eval, cfg.val_split) == (
        0.9, 5e-4, True, "running", "holdout")
    assert cfg.probe_batch == 32 and cfg.memory_gb == 2.0 and isinstance(cfg.memory_gb, float)
    assert cfg.to_dict()["val_split"] == "holdout"
    assert config_for("trajectory", "tiny", momentum=None).momentum == 0.0  # None: preset


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(momentum=1.0), ValueError, "momentum must be a finite number >= 0 and < 1, got 1.0"),
    (dict(momentum="0.9"), TypeError, "momentum must be"),
    (dict(weight_decay=-1e-4), ValueError, "weight_decay must be a finite number >= 0"),
    (dict(augment="yes"), TypeError, "augment must be True or False, got 'yes'"),
    (dict(augment=True), ValueError, "augment must be False for dataset 'digits'"),
    (dict(bn_eval="eval"), ValueError, r"bn_eval must be one of \('batch', 'running'\)"),
    (dict(val_split="val"), ValueError, r"val_split must be one of \('test', 'holdout'\)"),
    (dict(probe_batch=0), ValueError, "probe_batch must be an integer >= 1 or None, got 0"),
    (dict(probe_batch=2.5), TypeError, "probe_batch must be an integer"),
    (dict(memory_gb=0), ValueError, "memory_gb must be a finite number > 0 or None, got 0"),
    (dict(memory_gb="8"), TypeError, "memory_gb must be"),
])
def test_bad_protocol_values(kwargs, error, message):
    with pytest.raises(error, match=message):
        ExperimentConfig("trajectory", **kwargs)


def test_allpairs_needs_two_members():
    with pytest.raises(ValueError, match="members must be an integer >= 2, got 1"):
        config_for("allpairs", "tiny", members=1)
    assert config_for("allpairs", "tiny", members=2).members == 2
    assert config_for("trajectory", "tiny", members=1).members == 1  # only allpairs pairs them


def test_help_texts_say_the_presets_probe_chunk_and_gib():
    fields = {f.name: f.metadata.get("help", "") for f in dataclasses.fields(ExperimentConfig)}
    assert "paper 500 images" in fields["probe_batch"] and "GiB" in fields["memory_gb"]


@pytest.mark.parametrize("epochs, starts, expected", [
    (3, 2, [0, 3]), (24, 4, [0, 8, 16, 24]), (300, 6, [0, 60, 120, 180, 240, 300]),
    (5, 3, [0, 2, 5]), (7, 1, [0]), (4, 5, [0, 1, 2, 3, 4]), (10, 8, [0, 1, 3, 4, 6, 7, 9, 10])])
def test_restart_epochs_is_the_one_formula_of_runs_plans_and_the_protocol(epochs, starts,
                                                                          expected):
    from sgdlab.nn import config, experiments, plan, protocol

    cfg = config_for("spectrum", "tiny", epochs=epochs, starts=starts)
    restarts = config.restart_epochs(cfg)
    assert restarts.tolist() == expected
    # the units run, the protocol's row and the plan's disk all follow it
    assert dict(experiments.units_of("spectrum", "tiny", epochs=epochs, starts=starts))[
        "restarts"] == [f"from{s}" for s in expected]
    (row,) = [r for r in protocol.choices(cfg) if r["choice"].startswith("restart epochs")]
    assert row["ours"].startswith(f"{len(expected)} restart epochs, evenly spaced: "
                                  f"{', '.join(map(str, expected))};")
    timings = plan.Timings(step_seconds=1.0, forward_seconds_per_image=1e-3,
                           grad_seconds_per_image=1e-3, train_bytes=1, grad_bytes=1,
                           data_bytes=1, parameters=10, train_images=100, val_images=10,
                           sample_images=10, measured_memory=False)
    estimate = plan.estimate("spectrum", scale="tiny", ranks=1, timings=timings,
                             epochs=epochs, starts=starts)
    row_bytes, checkpoint = 40, 80
    assert estimate.disk_bytes == ((epochs + 1) * row_bytes + checkpoint + len(expected)
                                   * ((cfg.continue_epochs + 1) * row_bytes + checkpoint))


def test_restart_epochs_takes_an_experiment_config():
    from sgdlab.nn import config

    with pytest.raises(TypeError, match="^config must be an ExperimentConfig, got dict$"):
        config.restart_epochs({"epochs": 3, "starts": 2})
