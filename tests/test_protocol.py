"""Tests of sgdlab.nn.protocol: the table of unstated choices, and CIFAR-100's shapes (its runs
end to end: tests/test_experiments.py::test_each_experiment_on_cifar100)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from sgdlab.nn import data, names, protocol
from sgdlab.nn.config import OPTIONS, config_for

KEYS = ["choice", "paper", "ours", "option"]
CHOICES = ["data set", "network", "batch size", "momentum", "weight decay", "augmentation",
           "BatchNorm statistics at evaluation", "validation set",
           "probed f (full-batch gradients)", "learning-rate schedule", "restart epochs (5.4)",
           "initialisation"]


def _resnet_parameters(widths, blocks, channels, classes):
    """Parameters of a CIFAR ResNet with basic blocks, counted by hand: 3x3 convolutions
    without bias, BatchNorm scale and shift, 1x1 projection shortcuts, a linear layer."""
    total = 9 * channels * widths[0] + 2 * widths[0]
    current = widths[0]
    for i, (w, n) in enumerate(zip(widths, blocks)):
        for j in range(n):
            total += 9 * current * w + 2 * w + 9 * w * w + 2 * w
            if (i > 0 and j == 0) or current != w:
                total += current * w + 2 * w
            current = w
    return total + current * classes + classes


def test_import_is_torch_free():
    code = ("import sys, sgdlab.nn.protocol as p; p.SECTIONS; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"


def test_paper_table_covers_every_unstated_choice():
    rows = protocol.choices()
    assert [list(r) for r in rows] == [KEYS] * len(rows)
    assert [r["choice"] for r in rows] == CHOICES
    assert all(isinstance(v, str) and v for r in rows for v in r.values())
    json.dumps(rows)  # plain JSON, as result.json stores it
    table = {r["choice"]: r for r in rows}
    assert table["momentum"]["ours"].startswith("0 (plain SGD")
    assert table["batch size"]["ours"].startswith("128 ")
    assert table["augmentation"]["ours"].startswith("none")
    assert table["validation set"]["ours"].startswith("test")
    assert table["data set"]["ours"] == "cifar10"
    assert "0, 60, 120, 180, 240, 300" in table["restart epochs (5.4)"]["ours"]
    assert "(5.1, 5.2)" in table["learning-rate schedule"]["ours"]
    for row in rows:  # every option named is an option of `python -m sgdlab run`
        for token in row["option"].replace(",", " ").split():
            if token.startswith("--"):
                assert token[2:].replace("-", "_") in OPTIONS, token


def test_network_sizes_are_counted_not_typed():
    size = protocol.network_size("resnet34", "cifar10")
    assert size["blocks"] == (3, 4, 6, 3) and size["widths"] == (15, 30, 60, 120)
    assert size["parameters"] == _resnet_parameters((15, 30, 60, 120), (3, 4, 6, 3), 3, 10)
    assert size["full_parameters"] == _resnet_parameters((64, 128, 256, 512), (3, 4, 6, 3), 3,
                                                         10)
    assert abs(size["parameters"] / 1.2e6 - 1) < 0.05  # the paper's "about 1.2M"
    np.testing.assert_allclose(size["width_factor"], 64 / 15)
    ours = {r["choice"]: r["ours"] for r in protocol.choices()}["network"]
    assert f"{size['parameters']:,} parameters" in ours and f"{64 / 15:.2f}" in ours
    small = protocol.network_size("resnet", "cifar100")["parameters"]
    assert small == _resnet_parameters((4, 8, 16), (2, 2, 2), 3, 100)
    assert f"resnet: {protocol.network_size('resnet', 'cifar10')['parameters']:,}" in ours
    with pytest.raises(ValueError, match="arch must be one of"):
        protocol.network_size("vgg")


def test_a_config_shows_its_own_values():
    cfg = config_for("trajectory", "tiny", momentum=0.9, weight_decay=5e-4, bn_eval="running",
                     val_split="holdout", probe_batch=50)
    table = {r["choice"]: r["ours"] for r in protocol.choices(cfg)}
    assert "restart epochs (5.4)" not in table  # only the spectrum experiment restarts
    assert table["momentum"] == "0.9"
    assert table["momentum"] == "0.9" and table["weight decay"] == "0.0005"
    assert table["BatchNorm statistics at evaluation"] == (
        "running: averages kept during training, for the reported losses and accuracies")
    assert table["momentum"] == "0.9" and "(" not in table["weight decay"]  # no default reason
    default = {r["choice"]: r["ours"] for r in protocol.choices(config_for("trajectory", "tiny"))}
    assert default["BatchNorm statistics at evaluation"].endswith(
        "(the probes always use batch statistics, so that f is a function of the weights alone)")
    assert default["momentum"].startswith("0 (plain SGD")
    assert table["validation set"].startswith("holdout")
    assert "chunks of 50 training images" in table["probed f (full-batch gradients)"]
    assert table["data set"] == "digits" and table["batch size"] == "64"
    spectrum = {r["choice"]: r["ours"] for r in protocol.choices(config_for("spectrum", "tiny"))}
    assert spectrum["restart epochs (5.4)"].startswith("2 restart epochs")
    with pytest.raises(TypeError, match="config must be an ExperimentConfig or None, got dict"):
        protocol.choices({"experiment": "trajectory"})


@pytest.fixture(scope="module")
def cifar100(tmp_path_factory):
    return data.write_fake_cifar(tmp_path_factory.mktemp("c100"), "cifar100", n_per_batch=80,
                                 seed=1)


def test_cifar100_loads_with_fine_labels(cifar100):
    ds = data.load("cifar100", cifar100)
    assert ds.classes == 100 and ds.shape == (3, 32, 32) and ds.x_train.shape[0] == 80
    assert protocol.DATASET_SHAPES["cifar100"] == (ds.shape, ds.classes)
    for name in names.DATASETS[:-1]:
        assert name in protocol.DATASET_SHAPES
