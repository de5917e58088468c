"""What each command line imports. Snakemake reads the catalogue and the configs at every start,
and a figure job only reads CSV and JSON: torch alone takes about a second to import, torchvision
another (it loads torch._dynamo), so these must not pull them in."""

from tests.checkout import ROOT, modules_imported_by


def test_the_catalogue_and_the_config_checks_import_neither_torch_nor_matplotlib():
    loaded = modules_imported_by(
        "import experiments.catalogue, experiments.config, experiments.settings")
    assert not {"torch", "matplotlib"} & loaded


def test_reading_a_config_does_not_import_torch():
    default = ROOT / "config" / "experiments" / "default.yaml"
    loaded = modules_imported_by("from experiments.config import load_experiment_set; "
                                 f"load_experiment_set({str(default)!r})")
    assert "torch" not in loaded


def test_figure_jobs_import_neither_torch_nor_torchvision():
    assert not {"torch", "torchvision"} & modules_imported_by("import experiments.figures")


def test_an_mnist1d_trial_imports_no_torchvision():
    assert "torchvision" not in modules_imported_by("import experiments.trial")
