"""The benchmark driver's bookkeeping (settings, cached runs, report tables), without running any fit."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _load_script(name: str):
    """Import ``benchmarks/<name>.py`` with the benchmarks folder on the path (its own imports need it)."""
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture(scope="module")
def run_all():
    yield from _load_script("run_all")


def _run(method, dataset, seed, acc):
    return {"method": method, "dataset": dataset, "seed": seed, "acc": acc, "nmi": acc, "ari": acc, "sec": 1.0,
            "peak_mib": 100.0}


def test_settings_merge_method_dataset_and_variant(run_all, monkeypatch):
    # the main rows run the defaults; settings chosen with labels are rows of their own that say so
    assert run_all.settings_for("SeCu", "COIL-20") == {}
    assert run_all.settings_for("SeCu, batch 64 (chosen with labels)", "COIL-20") == {"batch_size": 64}
    assert all("labels" in name for name, (_, p) in run_all.VARIANTS.items() if "batch_size" in p)
    monkeypatch.setattr(run_all, "SETTINGS", {"SeCu": {"COIL-20": {"batch_size": 64}},
                                              "MTDC": {"COIL-20": {"batch_size": 128}}})
    assert run_all.settings_for("SeCu", "COIL-20") == {"batch_size": 64}
    assert run_all.settings_for("SeCu", "USPS") == {}
    # a variant row inherits its class's per-data-set settings and adds its own
    assert run_all.settings_for("CC (MTDC without mutual terms)", "COIL-20") == {
        "batch_size": 128, "hcr_weight": 0.0, "supcon_weight": 0.0}
    assert run_all.estimator_class("HaDis, no HSD") == "HaDisNoHSD"  # an ablation class of benchmarks/ablations.py
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
    assert "| SeCu | 0.850 ± 0.071 |" in blocks[1]  # the sample std of 0.8 and 0.9
    assert "| KMeans | 0.500 ± 0.000 |" in blocks[1]
    assert "HaDis" not in text  # no runs, no row


def test_cached_runs_are_filed_by_estimator_and_effective_settings(run_all):
    # explicit default values do not matter: a run of MTDC with its defaults spelled out is the MTDC row
    legacy = {**_run("MTDC, defaults (T 0.5, batch 256)", "USPS", 0, 0.8),
              "settings": {"temperature_instance": 0.5, "batch_size": 256}}
    assert run_all.row_of(legacy) == "MTDC"
    tuned = {**_run("MTDC", "USPS", 0, 0.9), "settings": {"temperature_instance": 1.0, "batch_size": 128}}
    assert run_all.row_of(tuned) == "MTDC, T 1.0, batch 128 (chosen with labels)"
    # a row exists only on its data sets: the same settings are no row's on another data set
    coil = {**_run("MTDC", "COIL-20", 0, 0.9), "settings": {"batch_size": 128}, "estimator": "MTDC"}
    assert run_all.row_of(coil) == "MTDC, batch 128 (chosen with labels)"
    assert run_all.row_of({**coil, "dataset": "digits"}) is None
    ablation = {**_run("x", "COIL-20", 0, 0.8), "estimator": "MTDC",
                "settings": {"n_epochs_warmup": 0, "hcr_weight": 0.0}}
    assert run_all.row_of(ablation) == "MTDC, no warm-up, no HCR"
    # runs recorded before a rename or a removed switch are read in today's names
    assert run_all.row_of({**ablation, "settings": {"mutual_warmup_epochs": 0, "hcr_weight": 0.0}}) == \
        "MTDC, no warm-up, no HCR"
    assert run_all.row_of({**ablation, "settings": {"mutual": False}}) == "CC (MTDC without mutual terms)"
    assert run_all.row_of({**ablation, "estimator": "HaDis", "dataset": "USPS", "settings": {"hsd_weight": 0.0}}) \
        == "HaDis, no HSD"
    # a run recorded with the parameter values that were once the defaults keeps those values as its settings
    ref = {**_run("x", "BDGP", 0, 0.9), "estimator": "DistilMVC",
           "settings": {"n_epochs_pretrain": 50, "n_epochs_contrastive": 50, "n_epochs_distill": 50,
                        "distill_batch_size": 10000, "n_neighbors": 0, "pseudo_labels": "kmeans"}}
    assert run_all.row_of(ref) == "DistilMVC, reference pipeline"  # recorded before the switch became a class
    now = {**ref, "estimator": "DistilMVCKMeansPseudoLabels",
           "settings": run_all.VARIANTS["DistilMVC, reference pipeline"][1]}
    assert run_all.row_of(now) == "DistilMVC, reference pipeline"
    assert run_all.row_of({**_run("KMeans", "HW", 0, 0.7), "settings": {}}) == "KMeans"
    assert run_all.row_of({**_run("SeCu", "USPS", 0, 0.7), "settings": {"lr": 1.0}}) is None
    # other packages' rows, on the data sets they apply to (mvlearn's k-means takes two views, HW has six)
    assert run_all.row_of({**_run("ClustPy DEC", "digits", 0, 0.8), "settings": {}}) == "ClustPy DEC"
    mvkm = {**_run("mvlearn MultiviewKMeans", "BDGP", 0, 0.8), "settings": {}}
    assert run_all.row_of(mvkm) == "mvlearn MultiviewKMeans"
    assert run_all.row_of({**mvkm, "dataset": "HW"}) is None


def test_cache_keeps_the_latest_run_of_each_row(run_all, tmp_path):
    cache = tmp_path / "runs.jsonl"
    runs = [{**_run("SeCu", "USPS", 0, 0.5), "settings": {}}, {**_run("SeCu", "USPS", 0, 0.6), "settings": {}},
            {**_run("SeCu", "USPS", 1, 0.7), "settings": {"lr": 1.0}}]
    cache.write_text("".join(json.dumps(r) + "\n" for r in runs))
    kept = run_all._cache(cache)
    assert [(r["method"], r["seed"], r["acc"]) for r in kept] == [("SeCu", 0, 0.6)]


def test_report_lists_every_metric_per_row(run_all):
    runs = [_run("SeCu", "USPS", 0, 0.8), _run("SeCu", "USPS", 1, 0.9)]
    runs[0].update(commit="a" * 40, dirty=False, _line=7)
    runs[1].update(commit="b" * 40, dirty=True, _line=9)
    text = run_all.table(runs)
    assert text.startswith("ACC, mean ± sample standard deviation")
    # the sample std of 0.8 and 0.9; the two runs' code versions (the second with uncommitted changes) and cache lines
    assert ("| USPS | SeCu | 0.8500 ± 0.0707 | 0.8500 ± 0.0707 | 0.8500 ± 0.0707 | 1.0 | 100 | 0,1 | "
            "mixed: aaaaaaaa, bbbbbbbb* | 7,9 |") in text
    assert "SPC rounds" not in text


@pytest.fixture(scope="module")
def model_selection():
    yield from _load_script("model_selection")


def test_model_selection_regret(model_selection):
    """Regret = best mean ACC - mean ACC of the setting a criterion picks; stability needs both seeds."""
    import numpy as np

    ms = model_selection
    rng = np.random.default_rng(0)
    truth = np.repeat(np.arange(3), 20)
    cell = []
    for i, acc in enumerate([0.9, 0.7, 0.5]):
        for seed in (0, 1):
            noisy = np.where(rng.random(60) < (1 - acc), rng.integers(0, 3, 60), truth)
            cell.append({"method": "SeCu", "dataset": "d", "setting": {"lr": [0.1, 0.2, 0.4][i]}, "seed": seed,
                         "default": i == 1, "acc": acc + 0.01 * seed, "labels": ms._pack(noisy),
                         "score": acc, "silhouette_input": -acc, "modularity_input": acc, "loss": acc})
    res = ms.cell_table(cell, {})
    assert res["best"] == pytest.approx(0.905)
    assert res["default_regret"] == pytest.approx(0.2)
    assert res["regret"]["modularity_input"] == pytest.approx(0.0)  # follows ACC
    assert res["regret"]["silhouette_input"] == pytest.approx(0.4)  # anti-correlated: picks the worst
    assert res["regret"]["loss"] == pytest.approx(0.4)  # lower is better, so it picks the worst here
    assert res["spearman"]["modularity_input"] == pytest.approx(1.0)
    assert res["per_fit_regret"]["silhouette_input"] == pytest.approx(0.4)
    assert "stability" in res["regret"] and "stability" not in res["per_fit_regret"]
    np.testing.assert_array_equal(ms.unpack(ms._pack(truth)), truth)


@pytest.fixture(scope="module")
def embedding_structure():
    yield from _load_script("embedding_structure")


@pytest.fixture(scope="module")
def label_free_check():
    yield from _load_script("label_free_check")


def test_neighbour_purity(embedding_structure):
    """Share of each row's nearest neighbours in its class: 1 for separated classes, lower when they mix."""
    import numpy as np

    y = np.repeat([0, 1], 20)
    apart = np.r_[np.zeros((20, 2)), np.full((20, 2), 10.0)] + np.random.default_rng(0).normal(0, 0.1, (40, 2))
    assert embedding_structure.neighbour_purity(apart, y, k=5) == 1.0
    mixed = np.random.default_rng(1).normal(size=(40, 2))
    assert embedding_structure.neighbour_purity(mixed, y, k=5) < 0.8


def test_label_free_check_counts_flags_by_margin(label_free_check):
    """A fit is flagged when its modularity is more than GAP below the most modular baseline's."""
    base = {"KMeans": {"modularity": 0.50, "acc": 0.80}, "Spectral": {"modularity": 0.60, "acc": 0.90},
            "GMM": {"modularity": 0.40, "acc": 0.70}}
    rows = [{"file": "SeCu_digits_0.npz", "method": "SeCu", "dataset": "digits", "seed": 0, "modularity": 0.30,
             "acc": 0.40, "baselines": base, "commit": "abc1234"},   # far below, flagged
            {"file": "MTDC_digits_0.npz", "method": "MTDC", "dataset": "digits", "seed": 0, "modularity": 0.59,
             "acc": 0.85, "baselines": base, "commit": None}]       # 0.05 below, not flagged
    text = label_free_check.report(rows)
    assert "| below 0.10 | 1 | 0 |" in text
    assert "| 0.03 to 0.10 below | 0 | 1 |" in text
    assert "| digits | dev | SeCu | 0 | 0.300 | Spectral | 0.600 | -0.300 | yes | 0.400 | 0.900 | -0.500 |" in text


def test_saved_fits_records_each_fit_once_and_keeps_the_latest(tmp_path):
    """A fit file is recorded once per commit; a refit at a later commit replaces it in the returned rows."""
    import numpy as np

    module = next(_load_script("_saved_fits"))
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    np.savez(first / "SeCu_digits_0.npz", labels=np.zeros(3), commit=np.array("c1"))
    runs = tmp_path / "runs.jsonl"
    calls = []

    def record(path):
        calls.append(path)
        return {"file": path.name, "commit": module.fit_commit(path), "folder": path.parent.name}

    assert module.record_new_fits([str(first)], runs, record) == [{"file": "SeCu_digits_0.npz", "commit": "c1",
                                                                   "folder": "a"}]
    module.record_new_fits([str(first)], runs, record)
    assert len(calls) == 1  # already recorded
    np.savez(second / "SeCu_digits_0.npz", labels=np.zeros(3), commit=np.array("c2"))
    rows = module.record_new_fits([str(first), str(second)], runs, record)
    assert rows == [{"file": "SeCu_digits_0.npz", "commit": "c2", "folder": "b"}] and len(calls) == 2
