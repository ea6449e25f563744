"""The README's code, run as written.

Every ```python block of ``README.md`` is executed, in order. The blocks of one ``##`` section share one namespace
(a later block may use the names an earlier one defined, as a reader following the section would), and each
section starts from an empty one. Printed ``evaluate_clustering`` dicts are checked to be the scores of the labels
the code computed (ACC recomputed by hand, NMI and ARI by scikit-learn).

What runs by default and what is ``slow``
-----------------------------------------
Each section runs *as written*: the README's arguments, the estimators' defaults. A section with a block that
takes more than about 60 s as written runs so only under the ``slow`` marker
(``python -m pytest -m slow tests/test_readme.py``). By default it runs in a *short* variant instead: the same
code, untouched (same names, calls, arguments and data), with every fit's training schedule cut to a few epochs
and its k-means restarts to two (``SHORT_CAPS``). The cut is made inside ``fit``, on the working copy that
``BaseDeepClusterer.fit`` trains, so the README's estimators keep the README's parameters (``get_params``,
clones in ``GridSearchCV``), which the test checks; only the epochs, rounds, ensemble members and restarts
trained change. The step-based default schedules (``n_epochs="auto"``) keep their code path, with fewer steps
(``DEFAULT_STEPS``).

Seconds per block, one torch thread, on a 2-core machine shared with other jobs (``SLOW_SECTIONS``):

=============  ============================================  ==========  ======
README block   what it fits                                  as written  short
=============  ============================================  ==========  ======
first section  SeCu on digits                                139         2
second         DistilMVC on the digits' two views            145         2
second         GridSearchCV: 7 short DistilMVC fits          170         8
third          DistilMVC on MNIST-USPS, SPC on USPS          1020        30
=============  ============================================  ==========  ======

The times vary with the load: a second, quieter run of the second section took 82 s and 114 s as written. So by
default all three sections run short, and all three are ``slow`` as written.

Sections that call a ``skdeepclust.datasets.fetch_*`` function download through ``SKDEEPCLUST_DATA_MIRROR`` from a
local HTTP server that serves the benchmark files of ``../shared/data`` (``SKDEEPCLUST_SHARED_DATA``), into a
temporary ``SKDEEPCLUST_DATA_HOME``; without the benchmark data they are skipped, with the reason. The offline
sections (scikit-learn's digits, ``load_digits_views``) always run. Nothing is downloaded from the internet.

``test_shell_commands_match_ci`` checks that the README's install and test commands are the ones ``.ci/run``
runs.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
import shlex
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from skdeepclust import MTDC, SPC, DistilMVC, HaDis, SeCu, datasets
from skdeepclust.base import BaseDeepClusterer

from .conftest import SHARED_DATA
from .test_fetch import _serve, _write_mnist_idx

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CI_RUN = ROOT / ".ci" / "run"


@dataclass(frozen=True)
class Block:
    """One fenced code block of the README."""

    section: str  # the ``##`` heading above it ("" before the first one)
    language: str
    line: int  # line number (1-based) of its first line of code
    code: str


def readme_blocks(text: str) -> list[Block]:
    """The fenced code blocks of a Markdown text, in order, with their section."""
    blocks, section, fence = [], "", None
    for number, line in enumerate(text.splitlines(), start=1):
        if fence is None:
            if line.startswith("## "):
                section = line[3:].strip()
            elif line.startswith("```"):
                fence, language, start, body = line, line[3:].strip(), number + 1, []
        elif line.startswith("```"):
            blocks.append(Block(section, language, start, "\n".join(body) + "\n"))
            fence = None
        else:
            body.append(line)
    assert fence is None, f"README.md: the code block opened at line {start - 1} is not closed"
    return blocks


def slug(section: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", section.lower())) or "top"


def python_sections() -> dict[str, list[Block]]:
    """The ```python blocks of README.md grouped by section slug, in README order."""
    sections: dict[str, list[Block]] = {}
    for block in readme_blocks(README.read_text(encoding="utf-8")):
        if block.language == "python":
            sections.setdefault(slug(block.section), []).append(block)
    return sections


def fetches_data(blocks: list[Block]) -> bool:
    return any(re.search(r"\bfetch_\w+\s*\(", b.code) for b in blocks)


#: sections with a block that takes more than ~60 s as written (seconds per block, see the module docstring); they
#: run as written only with ``-m slow``, and by default with SHORT_CAPS
SLOW_SECTIONS = {
    "one-table-of-rows-or-images": "SeCu defaults on digits: 139 s",
    "several-views-of-the-same-samples": "DistilMVC defaults on two views of digits: 145 s; GridSearchCV: 170 s",
    "the-research-data-sets-one-call-away": "DistilMVC on MNIST-USPS and SPC on USPS: 1020 s",
}

#: the short variant's caps, per class, on the training schedule and the k-means restarts (values above a cap are
#: lowered to it; ``None`` is kept)
SHORT_CAPS = {
    DistilMVC: {"n_epochs_pretrain": 1, "n_epochs_contrastive": 1, "n_epochs_distill": 1},
    HaDis: {"n_epochs": 3, "n_epochs_warmup": 1, "kmeans_n_init": 2},
    SeCu: {"n_epochs": 3, "n_epochs_warmup": 1},
    MTDC: {"n_epochs": 3, "n_epochs_warmup": 1},
    # one member: one voter (each voter costs a 2-D UMAP of every row per vote, ~12 s on USPS), two votes
    SPC: {"n_members": 1, "n_epochs_pretrain": 1, "n_epochs_round": 1, "max_rounds": 1},
}
#: ... and the optimizer steps of the step-based default schedules (``n_epochs="auto"``)
SHORT_DEFAULT_STEPS = 30


@pytest.fixture
def short_schedules(monkeypatch):
    """Cut every fit's schedule (see the module docstring); returns the fits, as (class, values before, after)."""
    import skdeepclust.hadis
    import skdeepclust.mtdc
    import skdeepclust.secu

    for module in (skdeepclust.hadis, skdeepclust.mtdc, skdeepclust.secu):
        monkeypatch.setattr(module, "DEFAULT_STEPS", SHORT_DEFAULT_STEPS)
    fits = []
    original = BaseDeepClusterer._fit_all

    def fit_all(self, X, random_state):  # ``self``: the working copy made by ``fit``; the caller's parameters stay
        caps = SHORT_CAPS[type(self)]  # an estimator without caps here fails the test: add its caps
        before = {name: getattr(self, name) for name in caps}
        for name, cap in caps.items():
            if before[name] == "auto" or (before[name] is not None and before[name] > cap):  # "auto": a rule
                setattr(self, name, cap)
        fits.append((type(self), before, {name: getattr(self, name) for name in caps}))
        return original(self, X, random_state)

    monkeypatch.setattr(BaseDeepClusterer, "_fit_all", fit_all)
    return fits


@pytest.fixture
def readme_env(tmp_path, monkeypatch):
    """A data home of the test's own and no mirror: an offline section that tried to download would fail."""
    monkeypatch.setenv(datasets.DATA_HOME_ENV, str(tmp_path / "data_home"))
    monkeypatch.setenv(datasets.DATA_MIRROR_ENV, "http://127.0.0.1:9/no-downloads-here")
    return tmp_path / "data_home"


@contextlib.contextmanager
def benchmark_mirror(section: str, blocks: list[Block], folder: Path, monkeypatch):
    """Serve the benchmark files (and MNIST's idx files made from them) as SKDEEPCLUST_DATA_MIRROR; or skip."""
    where = f"README section {section!r} (from line {blocks[0].line}) downloads data"
    if SHARED_DATA is None:
        pytest.skip(f"{where}; the benchmark data is hidden (SKDEEPCLUST_SHARED_DATA is empty)")
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{where}; the benchmark data is not at {SHARED_DATA} (only beside a developer/CI clone)")
    folder.mkdir()
    for path in SHARED_DATA.glob("*.mat"):
        (folder / path.name).symlink_to(path)
    if any("fetch_mnist_test" in b.code for b in blocks):
        _write_mnist_idx(SHARED_DATA, folder)
    with _serve(folder) as server:
        monkeypatch.setenv(datasets.DATA_MIRROR_ENV, server.url + "/")
        yield server


def run_blocks(blocks: list[Block]) -> tuple[dict, list[tuple[Block, float, str]]]:
    """Execute the blocks in one fresh namespace; return it and, per block, its seconds and printed output.

    The code is compiled under README.md's path with its line numbers, so a traceback points into the README.
    """
    namespace: dict = {"__name__": "__readme__"}
    runs = []
    for block in blocks:
        code = compile("\n" * (block.line - 1) + block.code, str(README), "exec")
        out = io.StringIO()
        start = time.perf_counter()
        try:
            with contextlib.redirect_stdout(out):
                exec(code, namespace)
        finally:
            print(out.getvalue(), end="")  # shown by pytest when the test fails
        runs.append((block, time.perf_counter() - start, out.getvalue()))
    return namespace, runs


def printed_scores(output: str) -> list[dict]:
    """The ``evaluate_clustering`` dicts a block printed."""
    return [ast.literal_eval(line) for line in output.splitlines() if line.startswith("{'acc'")]


def _cases():
    for name in python_sections():
        if name in SLOW_SECTIONS:
            yield pytest.param(name, False, id=f"{name}-as-written", marks=pytest.mark.slow)
            yield pytest.param(name, True, id=f"{name}-short")
        else:
            yield pytest.param(name, False, id=f"{name}-as-written")


@pytest.fixture
def evaluations(monkeypatch):
    """Every ``evaluate_clustering`` call of the README's code, as (y_true, y_pred, the dict it returned)."""
    import skdeepclust.metrics

    calls = []
    original = skdeepclust.metrics.evaluate_clustering

    def recorded(y_true, y_pred):
        calls.append((np.asarray(y_true), np.asarray(y_pred), original(y_true, y_pred)))
        return calls[-1][2]

    monkeypatch.setattr(skdeepclust.metrics, "evaluate_clustering", recorded)
    return calls


def _accuracy_by_hand(y_true, y_pred) -> float:
    """Share of rows whose cluster is mapped to their class, with the best one-to-one map (Hungarian)."""
    classes, t = np.unique(y_true, return_inverse=True)
    clusters, p = np.unique(y_pred, return_inverse=True)
    counts = np.zeros((clusters.size, classes.size))
    np.add.at(counts, (p, t), 1)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return counts[rows, cols].sum() / y_true.size


@pytest.mark.parametrize("name,short", list(_cases()))
def test_readme_section(name, short, request, readme_env, evaluations, tmp_path, monkeypatch):
    blocks = python_sections()[name]
    section = blocks[0].section
    fits = request.getfixturevalue("short_schedules") if short else None
    with contextlib.ExitStack() as stack:
        mirror = None
        if fetches_data(blocks):
            mirror = stack.enter_context(benchmark_mirror(section, blocks, tmp_path / "mirror", monkeypatch))
        namespace, runs = run_blocks(blocks)
    for block, seconds, _ in runs:
        print(f"README.md:{block.line} ran in {seconds:.1f} s ({'short schedules' if short else 'as written'})")

    scores = [s for _, _, output in runs for s in printed_scores(output)]
    n_printed = sum(b.code.count("print(evaluate_clustering(") for b in blocks)
    assert len(scores) == n_printed, f"{n_printed} evaluate_clustering calls printed, {len(scores)} dicts read"
    # what is printed is the evaluation of the labels the code computed, one per row of the data, and the numbers
    # are right: ACC recomputed by hand, NMI and ARI by scikit-learn
    assert [result for _, _, result in evaluations] == scores
    for y_true, y_pred, s in evaluations:
        assert y_pred.shape == y_true.shape and y_true.size > 100, (y_true.shape, y_pred.shape)
        assert s["acc"] == pytest.approx(_accuracy_by_hand(y_true, y_pred)), s
        assert s["nmi"] == pytest.approx(normalized_mutual_info_score(y_true, y_pred)), s
        assert s["ari"] == pytest.approx(adjusted_rand_score(y_true, y_pred)), s
    if not short:
        # as written, every printed clustering is well above chance (ACC 0.1 on the README's 10-class data sets);
        # a sanity check, not a quality floor (DistilMVC on the digits' two views: ACC 0.46 with seed 0)
        assert all(s["acc"] > 0.3 for s in scores), scores
    if mirror is not None:
        assert mirror.requests, "the section fetched nothing from the mirror"
        assert sorted(p.name for p in readme_env.iterdir()) == sorted({r.lstrip("/") for r in mirror.requests})
    if short:
        assert any(before != after for _, before, after in fits), f"the short schedules cut nothing: {fits}"
        for obj in namespace.values():  # the README's estimators keep the README's values: only the copy is cut
            if isinstance(obj, BaseDeepClusterer):
                params = {k: v for k, v in obj.get_params().items() if k in SHORT_CAPS[type(obj)]}
                assert any(cls is type(obj) and before == params for cls, before, _ in fits), (obj, fits)


def test_readme_has_python_sections():
    """The parsing above finds the README's examples, and every slow entry is still a README section."""
    sections = python_sections()
    assert len(sections) >= 3 and sum(len(b) for b in sections.values()) >= 4, list(sections)
    assert set(SLOW_SECTIONS) <= set(sections), set(SLOW_SECTIONS) - set(sections)
    assert any(not fetches_data(blocks) for blocks in sections.values())  # an offline section runs everywhere


# -- the README's shell commands and .ci/run ---------------------------------------------------------------------

_CI_MARK = "# --- the README's test command"


def _bash_commands() -> list[str]:
    return [b.code.strip() for b in readme_blocks(README.read_text(encoding="utf-8")) if b.language == "bash"]


def _ci_test_command() -> str:
    text = CI_RUN.read_text(encoding="utf-8")
    assert _CI_MARK in text, f"{CI_RUN} lost its marker line {_CI_MARK!r}"
    section = text.split(_CI_MARK, 1)[1].split("\n", 1)[1].split("# ---", 1)[0]
    lines = [line for line in section.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    return lines[0].strip()


def _steps(command: str) -> list[list[str]]:
    return [shlex.split(step) for step in command.split("&&")]


def test_shell_commands_match_ci():
    """The README's "Test it" command is .ci/run's, word for word; "Try it" installs the same way."""
    commands = _bash_commands()
    ci = _ci_test_command()
    tests = [c for c in commands if "pytest" in c]
    tries = [c for c in commands if "python -m skdeepclust" in c and "pip install" in c]
    assert tests == [ci], f"README test command(s) {tests} != .ci/run's {ci!r}"
    assert len(tries) == 1, commands
    # "Try it" = the same virtual environment and torch, the package without the test extra, then the demo
    try_steps, test_steps = _steps(tries[0]), _steps(ci)
    assert try_steps[:3] == test_steps[:3], (try_steps, test_steps)
    assert try_steps[3:] == [["pip", "install", "-e", "."], ["python", "-m", "skdeepclust"]], try_steps
    assert test_steps[3:] == [["pip", "install", "-e", ".[test]"], ["python", "-m", "pytest"]], test_steps


def test_docs_command_matches_ci():
    """The README's docs build (inline) is the one .ci/run makes, which adds only -W --keep-going."""
    readme = README.read_text(encoding="utf-8")
    match = re.search(r"`(pip install -e \"\.\[docs\]\" && python -m sphinx [^`]*)`", readme)
    assert match, "README lost its docs command"
    ci = next(line for line in CI_RUN.read_text(encoding="utf-8").splitlines() if "sphinx" in line)
    readme_steps, ci_steps = _steps(match.group(1)), _steps(ci)
    assert readme_steps[0] == ci_steps[0], (readme_steps, ci_steps)
    assert [w for w in ci_steps[1] if w not in ("-W", "--keep-going")] == readme_steps[1], (readme_steps, ci_steps)


def test_torch_pin_is_the_same_everywhere():
    """The quick-install torch pin of the README and .ci/run is one version, and no other page names another."""
    texts = {p: p.read_text(encoding="utf-8") for p in (README, CI_RUN, ROOT / "doc" / "getting_started.rst")}
    pins = {p.name: set(re.findall(r"torch==([\w.+-]+)", t)) for p, t in texts.items()}
    assert pins[README.name] and pins[CI_RUN.name], pins
    assert len(set().union(*pins.values())) == 1, pins
