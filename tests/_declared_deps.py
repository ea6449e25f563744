"""Fit every estimator with its defaults while only the declared runtime dependencies can be imported.

Run from the repository root as ``python -m tests._declared_deps [--drop DIST] [--only NAME]``
(``tests/test_install.py`` does, in a fresh interpreter). An import hook in place of Python's path finder
refuses every top-level module found in site-packages (where pip installs) unless a distribution in the
dependency closure of ``[project] dependencies`` in ``pyproject.toml`` (the declared
distributions and, recursively, what they require outside their own extras) ships it. The optional extras' packages
(test, docs) are therefore refused even where they are installed. Prints one JSON object: the declared
distributions, the result of each fit, the modules refused, and whether probe imports of extras were refused.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.abc
import importlib.metadata
import json
import re
import site
import sys
import sysconfig
from importlib.machinery import PathFinder
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
#: packages of the optional extras only; each must be refused
EXTRA_PROBES = ("hypothesis", "matplotlib", "sphinx", "numpydoc", "pytest")
#: top-level modules of this repository, and the finder that an editable install of it puts in site-packages
OWN = {"skdeepclust", "tests"}
OWN_PREFIX = "__editable___skdeepclust_"


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(req: str) -> str:
    return _normalize(re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req).group(1))


def declared_dependencies(pyproject: Path = PYPROJECT) -> list[str]:
    """The distribution names in ``[project] dependencies``."""
    text = pyproject.read_text(encoding="utf-8")
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the one list this needs, read by pattern
        block = re.search(r"^dependencies\s*=\s*\[(.*?)\]", text, re.S | re.M).group(1)
        reqs = re.findall(r"\"([^\"]+)\"", block)
    else:
        reqs = tomllib.loads(text)["project"]["dependencies"]
    return [_requirement_name(r) for r in reqs]


def dependency_closure(names) -> set[str]:
    """The distributions ``names`` need once installed: themselves and their requirements, recursively.

    Requirements that only an extra of a dependency pulls in (``; extra == "..."``) are left out; other
    markers are ignored (the closure may hold more than this platform installs, never less).
    """
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            reqs = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue  # declared but not installed: its import fails below, as it would for a user
        todo += [_requirement_name(r) for r in reqs if not re.search(r"\bextra\s*==", r)]
    return seen


class DeclaredOnly(importlib.abc.MetaPathFinder):
    """Python's path finder, blind to top-level modules in site-packages that no distribution in ``allowed`` ships.

    A refused module is *not found*, exactly as if it were not installed: ``import`` raises
    ``ModuleNotFoundError`` and ``importlib.util.find_spec`` returns ``None`` (libraries probe optional
    modules that way).
    """

    def __init__(self, allowed: set[str]):
        self.allowed = allowed
        self.owners = {mod: {_normalize(d) for d in dists}
                       for mod, dists in importlib.metadata.packages_distributions().items()}
        dirs = {*site.getsitepackages(), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
        if site.ENABLE_USER_SITE:
            dirs.add(site.getusersitepackages())
        self.site_dirs = [Path(d).resolve() for d in dirs]
        self.refused: set[str] = set()

    def _permitted(self, top: str, spec) -> bool:
        if top in OWN or top.startswith(OWN_PREFIX):
            return True
        places = [spec.origin] if spec.has_location and spec.origin else list(spec.submodule_search_locations or [])
        installed = any(Path(p).resolve().is_relative_to(d) for p in places for d in self.site_dirs)
        return not installed or bool(self.owners.get(top, set()) & self.allowed)

    def permits(self, top: str) -> bool:
        """Whether the top-level module ``top`` may be imported."""
        spec = PathFinder.find_spec(top)
        return spec is None or self._permitted(top, spec)

    def find_spec(self, fullname, path=None, target=None):  # noqa: D102
        spec = PathFinder.find_spec(fullname, path, target)
        if spec is None or "." in fullname or self._permitted(fullname, spec):
            return spec
        self.refused.add(fullname)
        return None

    def invalidate_caches(self) -> None:  # noqa: D102
        PathFinder.invalidate_caches()

    def find_distributions(self, *args, **kwargs):
        """Installed metadata stays readable (``importlib.metadata.version``): it imports no code."""
        return PathFinder.find_distributions(*args, **kwargs)

    def install(self) -> None:
        """Take the place of Python's path finder on ``sys.meta_path``."""
        if PathFinder not in sys.meta_path:
            raise RuntimeError("importlib.machinery.PathFinder is not on sys.meta_path")
        sys.meta_path[sys.meta_path.index(PathFinder)] = self


def main(argv=None) -> None:
    """Install the hook, fit the estimators, print the report."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--drop", action="append", default=[], help="act as if this distribution were not declared")
    ap.add_argument("--only", action="append", default=[], help="fit only this estimator")
    args = ap.parse_args(argv)
    declared = [d for d in declared_dependencies() if d not in {_normalize(x) for x in args.drop}]
    hook = DeclaredOnly(dependency_closure(declared))
    hook.install()

    from tests._defaults import NAMES, default_estimator, tiny_data

    X = tiny_data()
    fits = {}
    for name in args.only or NAMES:
        try:
            est = default_estimator(name).fit(X)
            fits[name] = "ok" if est.labels_.shape == (X.shape[0],) else f"labels_ of shape {est.labels_.shape}"
        except Exception as exc:  # reported, not raised: the caller checks every estimator
            fits[name] = f"{type(exc).__name__}: {exc}"
    probes = {}
    for probe in EXTRA_PROBES:
        try:
            importlib.import_module(probe)
            probes[probe] = "imported"
        except ImportError:
            probes[probe] = "refused" if probe in hook.refused else "not installed"
    loaded = sorted(m for m in {m.split(".")[0] for m in sys.modules} if not hook.permits(m))
    print(json.dumps({"declared": declared, "fits": fits, "refused": sorted(hook.refused), "probes": probes,
                      "loaded_not_permitted": loaded}))


if __name__ == "__main__":
    main()
