"""Measured inference on a tiny network: the CSV has its columns and positive numbers, the masked
and structured networks have the same density, the CSR copy computes what the masked one does,
and bad input exits 2 with one line."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

from experiments import inference

EXPERIMENTS = """\
experiments:
  tiny:
    dataset: {name: mnist1d, validation: 10}
    model: MODEL
    training: {optimizer: adam, lr: 0.01, batch_size: 8, iterations: 4, eval_every: 2,
               eval_batch_size: 16}
    pruning: {rounds: 1, channel_ratios: [0.5]}
    methods: [dense, l1_finetune]
    seeds: [0]
"""
CONVNET = "{name: convnet, stage_widths: [4], fc_hidden: [6], batch_norm: true}"


def experiments_file(tmp_path: Path, model: str = CONVNET) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(EXPERIMENTS.replace("MODEL", model))
    return path


def test_csv_has_the_columns_and_positive_numbers(tmp_path):
    out = tmp_path / "results" / "inference.csv"
    code = inference.main(["--experiments-file", str(experiments_file(tmp_path)),
                           "--experiment", "tiny", "--out", str(out), "--device", "cpu",
                           "--threads", "1", "--repeats", "2"])
    assert code == 0
    with out.open() as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert tuple(reader.fieldnames) == inference.FIELDS
    kinds = [(row["model_kind"], row["batch"]) for row in rows]
    assert kinds == [(kind, batch) for kind in ("dense", "structured", "masked", "masked_csr")
                     for batch in ("1", "16")]
    for row in rows:
        for key in ("density", "params", "flops", "latency_ms_median", "throughput_per_s"):
            assert float(row[key]) > 0, key
        assert float(row["latency_ms_iqr"]) >= 0
        assert (row["device"], row["threads"], row["repeats"]) == ("cpu", "1", "2")
    by_kind = {row["model_kind"]: row for row in rows}
    assert by_kind["structured"]["density"] == by_kind["masked"]["density"]
    assert float(by_kind["masked"]["density"]) < 1.0
    assert int(by_kind["structured"]["flops"]) < int(by_kind["dense"]["flops"])


def test_csr_copy_computes_what_the_masked_network_computes(tmp_path):
    cfg = inference.experiment_config(experiments_file(tmp_path), "tiny")
    nets = {net.kind: net for net in inference.networks(cfg, torch.device("cpu"))}
    x = torch.randn(3, 40)
    with torch.no_grad():
        torch.testing.assert_close(nets["masked_csr"].model(x), nets["masked"].model(x))


@pytest.mark.parametrize("model, args, message", [
    ("{name: mlp, hidden: [8]}", [], "prunes channels, which model mlp cannot lose"),
    (CONVNET, ["--repeats", "1"], "--repeats must be >= 2"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, model, args, message):
    path = experiments_file(tmp_path, model)
    code = inference.main(["--experiments-file", str(path), "--experiment", "tiny",
                           "--out", str(tmp_path / "x.csv"), "--device", "cpu", *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1
    assert not (tmp_path / "x.csv").exists()
