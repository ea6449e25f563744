"""DistilMVC on incomplete multi-view data: missing views as all-NaN view rows."""

import copy
import warnings

import numpy as np
import pytest
import torch
from sklearn.cluster import KMeans
from sklearn.preprocessing import minmax_scale

from skdeepclust import HaDis, stack_views
from skdeepclust.datasets import make_multiview_blobs
from skdeepclust.metrics import clustering_accuracy
from skdeepclust.multiview import observed_views, split_views

from ._instances import small_distilmvc


def ring_views(per_cluster: int = 40, seed: int = 0):
    """Two clusters in two views, and the rows (a third of each cluster) that lose the first view.

    View 0 holds two Gaussian blobs, one per cluster: it separates the clusters on its own. View 1 holds
    two concentric rings, one per cluster: no linear cut or k-means of it separates them (k-means of view 1
    alone: ACC about 0.55), but every point's nearest neighbours in it lie on its own ring.
    """
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], per_cluster)
    blobs = rng.normal(size=(y.size, 4)) * 0.5 + 3.0 * np.eye(2, 4)[y]
    angle = rng.uniform(0, 2 * np.pi, y.size)
    rings = (1.0 + 2.0 * y)[:, None] * np.c_[np.cos(angle), np.sin(angle)] + rng.normal(size=(y.size, 2)) * 0.15
    missing = np.zeros(y.size, dtype=bool)
    for c in range(2):
        missing[rng.choice(np.flatnonzero(y == c), per_cluster // 3, replace=False)] = True
    return blobs, rings, y, missing


def ring_model(**kw):
    return small_distilmvc(n_clusters=2, batch_size=16, n_epochs_pretrain=20, **kw)


@pytest.fixture(scope="module")
def rings():
    return ring_views()


@pytest.fixture(scope="module")
def fitted_rings(rings):
    blobs, ring, _, missing = rings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ring_model().fit([np.where(missing[:, None], np.nan, blobs), ring])


def test_rows_without_the_informative_view_are_clustered(rings, fitted_rings):
    """The rows that lack the separating view are clustered through the view they have.

    What can be asked of them: their only view (the rings) cannot be split by a linear cut, but their
    neighbours in it, on the same ring, have the separating view. The fit links the two through those
    neighbours (the missing view filled from them for the neighbour graphs, and the rings' student trained
    on the resulting pseudo-labels), so these rows must be clustered as well as the others (ACC >= 0.9).
    Mean imputation puts all of them at one point of the separating view, where they carry no cluster
    information: k-means of the mean-imputed views fails the same assertion.
    """
    blobs, ring, y, missing = rings
    assert fitted_rings.n_missing_.tolist() == [int(missing.sum()), 0]
    assert clustering_accuracy(y[missing], fitted_rings.labels_[missing]) >= 0.9
    assert clustering_accuracy(y, fitted_rings.labels_) >= 0.9

    imputed = np.where(missing[:, None], blobs[~missing].mean(0), blobs)
    baseline = KMeans(2, n_init=10, random_state=0).fit_predict(minmax_scale(np.hstack([imputed, ring])))
    assert clustering_accuracy(y[missing], baseline[missing]) < 0.9


def test_mean_imputation_fails_where_missing_views_are_learned(rings):
    """DistilMVC trained on the mean-imputed views fails the assertion that the incomplete fit passes."""
    blobs, ring, y, missing = rings
    imputed = np.where(missing[:, None], blobs[~missing].mean(0), blobs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        labels = ring_model().fit([imputed, ring]).labels_
    assert clustering_accuracy(y[missing], labels[missing]) < 0.9


def test_predict_averages_the_observed_views(fitted_rings, rings):
    blobs, ring, _, missing = rings
    nan_blobs = np.where(missing[:, None], np.nan, blobs)
    labels = fitted_rings.predict([nan_blobs, ring])
    np.testing.assert_array_equal(labels, fitted_rings.labels_)
    proba = fitted_rings.transform([nan_blobs, ring])
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-9)
    # a row without view 0 gets view 1's soft assignment alone; rows with both views are not affected
    net = copy.deepcopy(fitted_rings.network_).double()
    X = torch.as_tensor(stack_views([blobs, ring])[0])
    x = (X - fitted_rings.input_offset_.double()) / fitted_rings.input_scale_.double()
    with torch.no_grad():
        probs = [torch.softmax(net.view_logits(v, xv), 1).numpy() for v, xv in enumerate(split_views(x, (4, 2)))]
    np.testing.assert_allclose(proba[missing], probs[1][missing], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(proba[~missing], (probs[0][~missing] + probs[1][~missing]) / 2, rtol=1e-9,
                               atol=1e-12)
    # the stacked array with view_sizes, and one row at a time, give the same
    stacked = stack_views([nan_blobs, ring])[0]
    np.testing.assert_array_equal(fitted_rings.predict(stacked), labels)
    row = int(np.flatnonzero(missing)[0])
    np.testing.assert_allclose(fitted_rings.transform(stacked[row : row + 1])[0], proba[row], rtol=1e-12)
    assert np.isfinite(fitted_rings.score([nan_blobs, ring]))


def test_view_row_missing_on_a_stacked_array():
    data = make_multiview_blobs(60, n_clusters=3, view_sizes=(3, 2, 2), random_state=0)
    X, sizes = stack_views(data.views)
    X[[1, 7], :3] = np.nan
    X[[7, 9], 5:] = np.nan
    est = small_distilmvc(n_clusters=3, view_sizes=sizes, n_epochs_pretrain=2, n_epochs_contrastive=2,
                          n_epochs_distill=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X)
    assert est.n_missing_.tolist() == [2, 0, 2]
    assert est.labels_.shape == (60,) and np.isfinite(est.transform(X)).all()
    assert np.isfinite(est.input_offset_.numpy()).all() and np.isfinite(est.input_scale_.numpy()).all()


def test_missing_view_errors():
    data = make_multiview_blobs(30, n_clusters=2, view_sizes=(3, 2), random_state=0)
    v1, v2 = data.views
    est = small_distilmvc(n_clusters=2)
    partial = v1.copy()
    partial[[4, 6], 1] = np.nan
    with pytest.raises(ValueError, match=r"NaN in part of a view's row \(view 0, rows \[4, 6\]\)"):
        est.fit([partial, v2])
    none = [v1.copy(), v2.copy()]
    none[0][[2, 5], :] = np.nan
    none[1][[5], :] = np.nan
    with pytest.raises(ValueError, match=r"Rows \[5\] of X have no observed view"):
        est.fit(none)
    many = [np.full_like(v1, np.nan), v2.copy()]
    many[1][:8] = np.nan
    with pytest.raises(ValueError, match=r"Rows \[0, 1, 2, 3, 4\] and 3 more"):
        est.fit(many)
    with pytest.raises(ValueError, match=r"View\(s\) \[0\] of X are missing \(all NaN\) for every sample"):
        est.fit([np.full_like(v1, np.nan), v2])
    single = v1.copy()
    single[3] = np.nan  # one view: a missing row has no view at all
    with pytest.raises(ValueError, match="no observed view"):
        est.fit(single)
    inf = v1.copy()
    inf[0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        est.fit([inf, v2])
    assert not hasattr(est, "labels_")  # failed fits leave the estimator unfitted
    # the single-view estimators keep rejecting NaN
    with pytest.raises(ValueError, match="NaN"):
        HaDis(n_clusters=2).fit(np.where(np.arange(30)[:, None] == 2, np.nan, v1))


def test_failed_fit_and_predict_leave_a_fitted_model_as_it_was(fitted_rings, rings):
    blobs, ring, _, _ = rings
    est = copy.deepcopy(fitted_rings)
    before = est.labels_.copy()
    partial = blobs.copy()
    partial[0, 0] = np.nan
    with pytest.raises(ValueError, match="view 0, rows \\[0\\]"):
        est.fit([partial, ring])
    with pytest.raises(ValueError, match="view 0, rows \\[0\\]"):
        est.predict([partial, ring])
    np.testing.assert_array_equal(est.labels_, before)
    np.testing.assert_array_equal(est.n_missing_, fitted_rings.n_missing_)


def test_complete_data_has_no_missing_views():
    data = make_multiview_blobs(40, n_clusters=2, view_sizes=(3, 2), random_state=0)
    est = small_distilmvc(n_clusters=2, n_epochs_pretrain=1, n_epochs_contrastive=1, n_epochs_distill=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(data.views)
    assert est.n_missing_.tolist() == [0, 0]
    assert observed_views(stack_views(data.views)[0], (3, 2)).all()


def test_auto_n_clusters_with_missing_views():
    """``n_clusters="auto"`` estimates on the views with the missing rows filled, never on NaN."""
    data = make_multiview_blobs(n_samples=150, n_clusters=3, view_sizes=(4, 6), random_state=0)
    views = [np.array(v, dtype=np.float64) for v in data.views]
    views[0][::4] = np.nan
    est = small_distilmvc(n_clusters="auto", n_epochs_pretrain=2, n_epochs_contrastive=2, n_epochs_distill=2).fit(views)
    assert 2 <= est.n_clusters_ <= 15
    assert set(np.unique(est.labels_)) <= set(range(est.n_clusters_))
