"""Sphinx configuration of the skdeepclust documentation.

Build (offline, warnings are errors)::

    python -m sphinx -W --keep-going -b html doc doc/_build/html

Add ``-D plot_gallery=0`` to skip running the example gallery (the pages are still generated,
without their outputs and figures).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parent
sys.path.insert(0, str(DOC.parent))  # the package, also when it is not installed
sys.path.insert(0, str(DOC / "sphinxext"))

os.environ.setdefault("MPLBACKEND", "agg")  # the gallery runs headless

import skdeepclust  # noqa: E402

# -- project -------------------------------------------------------------------------------------
project = "skdeepclust"
author = "skdeepclust developers"
copyright = "skdeepclust developers"
release = skdeepclust.__version__
version = re.sub(r"(\d+\.\d+)\..*", r"\1", release)

# -- extensions ----------------------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
# No intersphinx: the build must not reach the network.

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "auto_examples/*.ipynb", "auto_examples/*.py"]
root_doc = "index"
default_role = "literal"  # `x` in prose is code, as in the package's docstrings
pygments_style = "sphinx"
add_function_parentheses = False

# autodoc / autosummary
autosummary_generate = True
autodoc_typehints = "none"  # the numpydoc docstrings already give the types
autodoc_member_order = "bysource"
autodoc_inherit_docstrings = False  # torch.nn.Module docstrings are not numpydoc; do not inherit them

# numpydoc
numpydoc_show_class_members = False  # the autosummary templates list the members
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- HTML ----------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skdeepclust {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "show_prev_next": False,
    "secondary_sidebar_items": ["page-toc"],
    "navigation_with_keys": False,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": [], "getting_started": [], "benchmarks": []}

# -- example gallery -----------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    "within_subsection_order": "gallery_order.ExampleOrder",
    "doc_module": ("skdeepclust",),
    "reference_url": {"skdeepclust": None},
    "backreferences_dir": "gen_modules/backreferences",
    "image_scrapers": ("matplotlib",),
    "abort_on_example_error": True,
    "min_reported_time": 0,
    "remove_config_comments": True,
    "show_memory": False,
    "download_all_examples": True,
}


# -- keep the API page complete --------------------------------------------------------------------
#: modules whose ``__all__`` must be listed on api.rst (the package root is checked separately)
API_MODULES = [
    "skdeepclust.metrics",
    "skdeepclust.cluster",
    "skdeepclust.datasets",
    "skdeepclust.multiview",
    "skdeepclust.augment",
    "skdeepclust.losses",
    "skdeepclust.nn",
    "skdeepclust.training",
    "skdeepclust.distributed",
    "skdeepclust.secu",
    "skdeepclust.spc",
]


def _check_api_page(app):
    """Warn (so ``-W`` fails) when a public name of the package is missing from api.rst."""
    import importlib

    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    text = (DOC / "api.rst").read_text(encoding="utf-8")
    sections = re.split(r"^\.\. (?:current)?module:: ", text, flags=re.M)
    listed: dict[str, set[str]] = {}
    for section in sections[1:]:
        module, _, body = section.partition("\n")
        names = set(re.findall(r"^\s{3,}([A-Za-z_][\w.]*)\s*$", body, flags=re.M))
        listed.setdefault(module.strip(), set()).update(names)
    for module in ["skdeepclust", *API_MODULES]:
        public = set(importlib.import_module(module).__all__) - {"__version__"}
        if module != "skdeepclust":
            public -= set(skdeepclust.__all__)  # re-exported names are documented under the package root
        missing = sorted(public - listed.get(module, set()))
        if missing:
            logger.warning("api.rst does not list %s from %s.__all__", ", ".join(missing), module)


def _resolve_reexports(app, env, node, contnode):
    """Link ``skdeepclust.multiview.stack_views`` etc. to the page of the re-exported name.

    The package's docstrings refer to some objects by their defining module; the API page documents
    them once, where users import them from (``skdeepclust.stack_views``).
    """
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not target.startswith("skdeepclust."):
        return None
    name = target.rsplit(".", 1)[-1]
    if name not in skdeepclust.__all__ or target == f"skdeepclust.{name}":
        return None
    node["reftarget"] = f"skdeepclust.{name}"
    domain = env.get_domain("py")
    return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], node["reftarget"], node, contnode)


def setup(app):
    """Connect the API-page check and the re-export resolver."""
    app.connect("builder-inited", _check_api_page)
    app.connect("missing-reference", _resolve_reexports)
