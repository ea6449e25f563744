"""SPC ablations: private subclasses of :class:`skdeepclust.SPC` for experiments, not part of its API.

- :class:`_SPCRawCodes`: each voter's Gaussian mixture clusters the raw latent codes, without the 2-D
  embedding (the reference code's UMAP-off ablation; the ``embedding`` parameter is ignored). Faster,
  and clearly worse (``results/studies/spc_default_embedding.md``). It replaces ``SPC(embedding="none")``.

Use them like the estimator, e.g. ``_SPCRawCodes(n_clusters=10, random_state=0).fit(X)``.
"""

from skdeepclust import SPC


class _SPCRawCodes(SPC):
    """SPC whose voters cluster the members' raw codes (no UMAP or t-SNE embedding)."""

    _embed_codes = False
