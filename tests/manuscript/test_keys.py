"""python -m manuscript.keys: the result keys a chapter may quote, as it writes them."""
from manuscript.keys import main


def test_prints_every_key_with_its_value(project, capsys):
    assert main(["toy"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "toy.dense.test_acc.mean = 0.7312" in lines
    assert "toy.methods.imp.rounds.1.density = 0.8" in lines
    assert not any(".provenance." in line for line in lines)


def test_only_keys_under_a_path(project, capsys):
    assert main(["toy", "dense"]) == 0
    assert capsys.readouterr().out.splitlines() == ["toy.dense.test_acc.mean = 0.7312",
                                                     "toy.dense.test_acc.std = 0.0123"]


def test_unknown_experiment_is_one_line(project, capsys):
    assert main(["nope"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: results/nope/summary.json: no summary.json")
