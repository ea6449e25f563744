"""``tools/gpu_check.py`` runs end to end on the CPU (``--quick --device cpu``), so that the script stays
runnable for the machines that have a GPU; and it refuses, clearly, to run on CUDA where there is none."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "tools" / "gpu_check.py"
#: one thread in the child and in its CPU-only grandchild, as in this process (see conftest.py)
CHILD_ENV = {**os.environ, "SKDEEPCLUST_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
             "OPENBLAS_NUM_THREADS": "1"}


def _run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=REPO, env=CHILD_ENV, capture_output=True,
                          text=True, timeout=600)


def test_quick_run_on_the_cpu(tmp_path):
    out = tmp_path / "gpu_check.json"
    proc = _run("--quick", "--device", "cpu", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["ok"] and report["failures"] == [] and report["quick"]
    runs = report["runs"]
    assert [r["estimator"] for r in runs] == ["DistilMVC", "HaDis", "SeCu", "MTDC", "SPC"]
    for r in runs:
        assert r["device_"] == "cpu" and r["autocast"] is False
        assert r["train_samples_per_s"] > 0 and r["predict_samples_per_s"] > 0 and 0 <= r["acc"] <= 1
        # pickled, loaded in a process that sees no GPU, and the same labels predicted there
        assert r["cpu_load_ok"] and r["cpu_load_rows_differing"] == 0 and r["cpu_load_device_"] == "cpu"
    table = proc.stdout.splitlines()
    assert table[0].startswith("| estimator | data | rows | device | autocast | fit s | train samples/s |")
    assert sum(line.startswith("|") for line in table) == 2 + len(runs)  # header, separator, one row per fit


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_no_cuda_is_a_clear_exit():
    proc = _run("--quick")
    assert proc.returncode == 2
    assert "CUDA is not available" in proc.stderr and "--device cpu" in proc.stderr
    assert proc.stdout == ""
