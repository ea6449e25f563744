"""Small, fast estimator instances for the check suite and behaviour tests (not the user defaults)."""

from skdeepclust import MTDC, SPC, DistilMVC, HaDis, SeCu


def small_distilmvc(**kw):
    params = dict(
        hidden_dims=(64,),
        latent_dim=32,
        projection_hidden_dim=32,
        feature_dim=16,
        n_epochs_pretrain=10,
        n_epochs_contrastive=50,
        n_epochs_distill=100,
        batch_size=32,
        lr=1e-3,
        device="cpu",
        random_state=0,
    )
    params.update(kw)
    return DistilMVC(**params)


def small_hadis(**kw):
    params = dict(
        hidden_dims=(32,),
        projection_hidden_dim=32,
        feature_dim=8,
        n_epochs=30,
        n_epochs_warmup=3,
        batch_size=32,
        kmeans_n_init=3,
        device="cpu",
        random_state=0,
    )
    params.update(kw)
    return HaDis(**params)


def small_mtdc(**kw):
    params = dict(
        hidden_dims=(32,),
        feature_dim=8,
        n_epochs=30,
        batch_size=32,
        lr=3e-3,
        device="cpu",
        random_state=0,
    )
    params.update(kw)
    return MTDC(**params)


def small_secu(**kw):
    params = dict(
        n_heads=2,
        hidden_dims=(32,),
        projection_hidden_dim=32,
        feature_dim=8,
        n_epochs=30,
        n_epochs_warmup=3,
        batch_size=32,
        temperature_instance=0.1,
        temperature_center=0.1,
        device="cpu",
        random_state=0,
    )
    params.update(kw)
    return SeCu(**params)


class SPCRawCodes(SPC):
    """SPC whose voters cluster the raw codes, without the 2-D embedding: fast enough for the check suite.

    The switch of ``benchmarks/ablations.py`` (there for experiments); UMAP and t-SNE are tested on
    their own.
    """

    _embed_codes = False


def small_spc(**kw):
    """A small SPC: with ``embedding`` given, the estimator itself; otherwise :class:`SPCRawCodes`."""
    params = dict(
        n_members=2,
        hidden_dims=(32,),
        latent_dim=4,
        head_hidden_dim=8,
        n_epochs_pretrain=5,
        n_epochs_round=2,
        max_rounds=1,
        batch_size=32,
        device="cpu",
        random_state=0,
    )
    params.update(kw)
    return (SPC if "embedding" in kw else SPCRawCodes)(**params)


SMALL_ESTIMATORS = [small_distilmvc(), small_hadis(), small_mtdc(), small_secu(), small_spc()]
