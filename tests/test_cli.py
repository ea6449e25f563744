"""``python -m skdeepclust``: the digits demo, ``fit`` on the user's files, and errors for people, not tracebacks."""

import subprocess
import sys

import joblib
import numpy as np
import pytest
import scipy.io
import torch
from sklearn.datasets import make_blobs

from skdeepclust.__main__ import main


def params(**values):
    """``--param NAME=VALUE`` options."""
    return [arg for name, value in values.items() for arg in ("--param", f"{name}={value!r}")]


#: one-epoch fits with small networks: a fit of a few dozen rows takes well under a second
TINY_MTDC = ["--method", "MTDC", "--device", "cpu", *params(n_epochs=1, hidden_dims=(16,), feature_dim=8)]
TINY_DISTILMVC = ["--device", "cpu", *params(n_epochs_pretrain=1, n_epochs_contrastive=1, n_epochs_distill=1,
                                             hidden_dims=(16,), latent_dim=8, projection_hidden_dim=8,
                                             feature_dim=8)]


def run(capsys, *argv):
    """Run the command line; its exit status, stdout and stderr."""
    try:
        main([str(a) for a in argv])
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def read_labels(path):
    lines = path.read_text().splitlines()
    assert lines[0] == "label"
    return np.array([int(v) for v in lines[1:]])


@pytest.fixture
def blobs():
    X, y = make_blobs(60, n_features=5, centers=3, random_state=0)
    return X, y


# ---------------------------------------------------------------------------------------------- demo
def test_help_is_plain_text(capsys):
    for argv in (["--help"], ["fit", "--help"], ["demo", "--help"]):
        code, out, _ = run(capsys, *argv)
        assert code == 0 and "``" not in out and ":class:" not in out
    assert "digits" in run(capsys, "--help")[1]
    assert "--label-column" in run(capsys, "fit", "--help")[1]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_cuda_without_a_gpu_is_a_one_line_error(capsys, tmp_path, blobs):
    code, _, err = run(capsys, "--device", "cuda")  # no command: the demo's options, as before
    assert code == 2 and "CUDA is not available" in err and "Traceback" not in err
    np.save(tmp_path / "x.npy", blobs[0])
    code, _, err = run(capsys, "fit", tmp_path / "x.npy", "--method", "MTDC", "--n-clusters", 3, "--device", "cuda",
                       "--out", tmp_path / "labels.csv")
    assert code == 2 and "CUDA is not available" in err and err.count("\n") == 1


def test_unknown_method(capsys):
    code, _, err = run(capsys, "--methods", "KMeansPlus")
    assert code == 2 and "unknown method" in err
    code, _, err = run(capsys, "demo", "--methods", "KMeansPlus")
    assert code == 2 and "unknown method" in err


def test_no_command_runs_the_demo(capsys, monkeypatch):
    import skdeepclust.__main__ as cli

    calls = []
    monkeypatch.setattr(cli, "_run_demo", lambda args, ap: calls.append((args.methods, args.seed)))
    for argv in ([], ["--methods", "all", "--seed", "3"], ["demo", "--methods", "MTDC"]):
        assert run(capsys, *argv)[0] == 0
    assert calls == [(["SeCu"], 0), (["all"], 3), (["MTDC"], 0)]


# ---------------------------------------------------------------------------------------------- fit
def test_fit_csv_with_header_and_label_column(capsys, tmp_path, blobs):
    X, y = blobs
    names = np.array(["ant", "bee", "cat"])
    rows = [",".join(f"{v:.6g}" for v in row) + f",{names[t]}" for row, t in zip(X, y, strict=True)]
    lines = ["f0,f1,f2,f3,f4,kind", *rows]
    (tmp_path / "data.csv").write_text("\n".join(lines) + "\n")
    out_path = tmp_path / "labels.csv"
    code, out, err = run(capsys, "fit", tmp_path / "data.csv", "--label-column", "kind", "--n-clusters", 3,
                         "--out", out_path, *TINY_MTDC)
    assert code == 0, err
    labels = read_labels(out_path)
    assert labels.shape == (60,) and set(labels) <= {0, 1, 2}
    assert "60 rows x 5 features" in out and "header row" in out
    assert "ACC" in out and "NMI" in out and "ARI" in out and "used only for this report" in out
    assert "column 'kind'" in out
    # the same column by index, counted from the end
    code, out, _ = run(capsys, "fit", tmp_path / "data.csv", "--label-column", -1, "--n-clusters", 3,
                       "--out", out_path, *TINY_MTDC)
    assert code == 0 and "ACC" in out
    np.testing.assert_array_equal(read_labels(out_path), labels)  # same seed, same data: same labels


def test_fit_csv_without_header_or_labels_and_save_model(capsys, tmp_path, blobs):
    X, _ = blobs
    np.savetxt(tmp_path / "data.csv", X, delimiter=";")
    code, out, err = run(capsys, "fit", tmp_path / "data.csv", "--n-clusters", 3, "--out", tmp_path / "labels.csv",
                         "--save-model", tmp_path / "model.joblib", *TINY_MTDC)
    assert code == 0, err
    assert "no header row" in out and "semicolon-separated" in out and "ACC" not in out
    labels = read_labels(tmp_path / "labels.csv")
    model = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(model.labels_, labels)
    np.testing.assert_array_equal(model.predict(X), labels)


def test_fit_npy(capsys, tmp_path, blobs):
    np.save(tmp_path / "x.npy", blobs[0].astype(np.float32))
    code, out, err = run(capsys, "fit", tmp_path / "x.npy", "--n-clusters", 3, "--out", tmp_path / "l.csv", *TINY_MTDC)
    assert code == 0, err
    assert read_labels(tmp_path / "l.csv").shape == (60,) and "ACC" not in out


def test_fit_npz_with_labels_and_images(capsys, tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 20)
    images = np.clip(rng.random((40, 1, 4, 4)) * 0.3 + y[:, None, None, None] * 0.6, 0, 1).reshape(40, -1)
    np.savez(tmp_path / "d.npz", X=images, y=y)
    code, out, err = run(capsys, "fit", tmp_path / "d.npz", "--n-clusters", 2, "--image-shape", 1, 4, 4,
                         "--out", tmp_path / "l.csv", *TINY_MTDC)
    assert code == 0, err
    assert read_labels(tmp_path / "l.csv").shape == (40,)
    assert "image_shape=(1, 4, 4)" in out and "array 'y'" in out and "ACC" in out


def test_fit_mat_views_uses_distilmvc(capsys, tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat([1, 2, 3], 15)
    v1 = rng.normal(size=(45, 6)) + y[:, None]
    v2 = rng.normal(size=(45, 4)) - y[:, None]
    cells = np.empty((1, 2), dtype=object)
    cells[0, 0], cells[0, 1] = v1.T, v2  # the first view stored features x samples, as research files often do
    scipy.io.savemat(tmp_path / "views.mat", {"X": cells, "Y": y[:, None]})
    code, out, err = run(capsys, "fit", tmp_path / "views.mat", "--n-clusters", 3, "--out", tmp_path / "l.csv",
                         *TINY_DISTILMVC)
    assert code == 0, err
    assert read_labels(tmp_path / "l.csv").shape == (45,)
    assert "DistilMVC(" in out and "2 views [6, 4]" in out and "variable 'Y'" in out and "ACC" in out
    # one plain matrix is a single view, for any method; labels under another name with --label-key
    scipy.io.savemat(tmp_path / "one.mat", {"data": v1, "classes": y})
    code, out, err = run(capsys, "fit", tmp_path / "one.mat", "--label-key", "classes", "--n-clusters", 3,
                         "--out", tmp_path / "l.csv", *TINY_MTDC)
    assert code == 0 and "45 rows x 6 features" in out and "variable 'classes'" in out, err
    # another method for several views is a usage error
    code, _, err = run(capsys, "fit", tmp_path / "views.mat", "--n-clusters", 3, "--method", "SeCu",
                       "--out", tmp_path / "l.csv")
    assert code == 2 and "DistilMVC" in err and err.count("\n") == 1


def test_fit_views_side_by_side_and_distilmvc_on_one_table(capsys, tmp_path, blobs):
    np.save(tmp_path / "x.npy", blobs[0])
    code, out, err = run(capsys, "fit", tmp_path / "x.npy", "--view-sizes", 3, 2, "--n-clusters", 3,
                         "--out", tmp_path / "l.csv", *TINY_DISTILMVC)
    assert code == 0 and "view_sizes=(3, 2)" in out, err
    code, out, err = run(capsys, "fit", tmp_path / "x.npy", "--method", "distilmvc", "--n-clusters", 3,
                         "--out", tmp_path / "l.csv", *TINY_DISTILMVC)
    assert code == 0 and "DistilMVC(" in out and "view_sizes" not in out, err


def test_progress_bars_by_default_and_quiet_fit_shows_none(capsys, tmp_path, blobs):
    np.save(tmp_path / "x.npy", blobs[0])
    args = ["fit", tmp_path / "x.npy", "--n-clusters", 3, "--out", tmp_path / "l.csv", *TINY_MTDC]
    code, _, err = run(capsys, *args, "--quiet")
    # the only stderr a quiet fit may write is a warning line (a one-epoch fit can use fewer than 3 clusters)
    assert code == 0 and all(": warning: " in line for line in err.splitlines()), err
    assert "epoch" not in err
    code, _, err = run(capsys, *args)
    assert code == 0 and "1/1" in err and "epoch" in err


def _write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    return path


ERRORS = {  # files and options -> (exit status, words of the message)
    "missing file": (lambda p: [p / "nothing.csv"], 2, "no such file"),
    "unknown extension": (lambda p: [_write(p, "d.txt", "1,2\n3,4\n")], 2, "unknown file type '.txt'"),
    "unreadable npy": (lambda p: [_write(p, "d.npy", b"not numpy")], 2, "not a NumPy .npy file"),
    "unreadable npz": (lambda p: [_write(p, "d.npz", b"not numpy")], 2, "not a NumPy .npz file"),
    "unreadable mat": (lambda p: [_write(p, "d.mat", b"not matlab")], 2, "cannot read it as a MATLAB .mat file"),
    "binary csv": (lambda p: [_write(p, "d.csv", b"\xff\xfe\x00\x81")], 2, "cannot read it as a text .csv file"),
    "non-numeric csv": (lambda p: [_write(p, "d.csv", "a,b\n1,2\n3,x\n4,5\n")], 2, "line 3, column 1 ('b'): 'x'"),
    "ragged csv": (lambda p: [_write(p, "d.csv", "1,2\n3\n4,5\n")], 2, "line 2: 1 fields"),
    "missing value": (lambda p: [_write(p, "d.csv", "1,2\n3,nan\n4,5\n")], 2, "missing (NaN)"),
    "unknown label column": (lambda p: [_write(p, "d.csv", "a,b\n1,2\n3,4\n"), "--label-column", "c"], 2,
                             "no column 'c'"),
    "label column on npy": (lambda p: [_npy(p), "--label-column", "0"], 2, "--label-column is for .csv files"),
    "zero clusters": (lambda p: [_npy(p), "--n-clusters", "0"], 2, "--n-clusters: 0 must be a positive integer"),
    "more clusters than rows": (lambda p: [_npy(p), "--n-clusters", "100"], 2, "more than the 60 rows"),
    "view sizes": (lambda p: [_npy(p), "--view-sizes", "2", "2"], 2, "sum to 4, but"),
    "image shape": (lambda p: [_npy(p), "--image-shape", "1", "2", "2"], 2, "has 4 values per image"),
    "unknown method": (lambda p: [_npy(p), "--method", "KMeans"], 2, "unknown method 'KMeans'"),
    "unknown parameter": (lambda p: [_npy(p), "--param", "colour=1"], 2, "MTDC has no parameter 'colour'"),
    "parameter with its own option": (lambda p: [_npy(p), "--param", "random_state=1"], 2, "with --seed"),
    "not NAME=VALUE": (lambda p: [_npy(p), "--param", "lr"], 2, "is not NAME=VALUE"),
    "output directory missing": (lambda p: [_npy(p), "--out", p / "no" / "l.csv"], 2, "does not exist"),
    "estimator ValueError": (lambda p: [_npy(p), "--param", "lr=-1"], 1, "The 'lr' parameter of MTDC"),
    "estimator TypeError": (lambda p: [_npy(p), "--param", "hidden_dims=('a',)"], 1, "the fit failed"),
    "pixels outside [0, 1]": (lambda p: [_npy(p), "--image-shape", "1", "1", "5"], 1, "must lie in [0, 1]"),
}


def _npy(tmp_path):
    X, _ = make_blobs(60, n_features=5, centers=3, random_state=0)
    np.save(tmp_path / "x.npy", X)
    return tmp_path / "x.npy"


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_are_one_line_without_traceback(case, capsys, tmp_path):
    make, status, words = ERRORS[case]
    args = make(tmp_path)
    argv = ["fit", args[0], "--n-clusters", "3", "--out", tmp_path / "labels.csv", *TINY_MTDC, *args[1:]]
    code, _, err = run(capsys, *argv)  # later options win: the case's own --method, --n-clusters or --out
    assert code == status, err
    assert err.count("\n") == 1 and err.startswith("python -m skdeepclust fit: error: ") and "Traceback" not in err
    assert words in err, err
    if status == 2:
        assert not (tmp_path / "labels.csv").exists()


def test_a_real_process_prints_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "skdeepclust", "fit", str(tmp_path / "nothing.csv"), "--method",
                           "SeCu", "--n-clusters", "3", "--out", str(tmp_path / "l.csv")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    expected = f"python -m skdeepclust fit: error: {tmp_path / 'nothing.csv'}: no such file"
    assert proc.stderr.strip().splitlines() == [expected]


def test_ctrl_c_is_one_line_with_status_130(capsys, monkeypatch, tmp_path):
    import skdeepclust.__main__ as cli

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "read_data_file", interrupted)
    code, _, err = run(capsys, "fit", _npy(tmp_path), "--n-clusters", 3, "--out", tmp_path / "l.csv", *TINY_MTDC)
    assert code == 130 and err == "python -m skdeepclust fit: error: interrupted\n"
