"""The benchmark driver's bookkeeping (settings, summary table, README block), without running any fit."""

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def run_all():
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("run_all", BENCH / "run_all.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(BENCH))


def _run(method, dataset, seed, acc):
    return {"method": method, "dataset": dataset, "seed": seed, "acc": acc, "nmi": acc, "ari": acc, "sec": 1.0,
            "peak_mib": 100.0}


def test_settings_merge_method_dataset_and_variant(run_all):
    assert run_all.settings_for("SeCu", "COIL-20") == {"batch_size": 64}
    assert run_all.settings_for("SeCu", "USPS") == {}
    # a variant row inherits its class's per-data-set settings and adds its own
    assert run_all.settings_for("CC (MTDC, mutual=False)", "COIL-20") == {"batch_size": 128, "mutual": False}
    assert run_all.estimator_class("HaDis, no HSD") == "HaDis"
    assert run_all.settings_for("KMeans", "USPS") == {}


def test_summary_has_one_row_per_method_and_one_block_per_kind(run_all):
    runs = [_run("SeCu", "USPS", 0, 0.8), _run("SeCu", "USPS", 1, 0.9), _run("KMeans", "USPS", 0, 0.5),
            _run("DistilMVC", "BDGP", 0, 0.7)]
    text = run_all.summary(runs)
    blocks = text.strip().split("\n\n")
    assert len(blocks) == 2
    assert blocks[0].splitlines()[0] == "| method | BDGP |"
    assert "| DistilMVC | 0.700 ± 0.000 |" in blocks[0]
    assert blocks[1].splitlines()[0] == "| method | USPS |"
    assert "| SeCu | 0.850 ± 0.050 |" in blocks[1] and "| KMeans | 0.500 ± 0.000 |" in blocks[1]
    assert "HaDis" not in text  # no runs, no row


def test_update_readme_replaces_only_the_marked_block(run_all, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{run_all.README_START}\nold table\n{run_all.README_END}\noutro\n")
    run_all.update_readme(readme, "| new |\n")
    assert readme.read_text() == f"intro\n{run_all.README_START}\n| new |\n{run_all.README_END}\noutro\n"
    readme.write_text("no markers\n")
    with pytest.raises(SystemExit, match="no <!-- full-table:start -->"):
        run_all.update_readme(readme, "x")
