"""The base class every skdeepclust estimator inherits.

It holds the scikit-learn contract once: parameter validation, ``validate_data``, the all-or-nothing
fit skeleton (device resolution, per-fit random generators, the fit's :class:`~skdeepclust.training.Trainer`,
interruption, label renumbering), the number of clusters (``n_clusters="auto"``), batched inference for
``predict``/``transform``/``score``, the thread policy of :mod:`skdeepclust._threads` around both, and pickling
across devices. A method subclass implements three hooks:

``_fit_torch(X, trainer)``
    Build the networks from the training tensor ``X`` (already on the device) and train them with
    ``trainer.run(stage, step, ...)``, stage by stage; return the raw cluster id of every training row,
    or ``None`` to take them from ``_infer``.
``_inference_modules()``
    The names of the fitted attributes that hold torch modules or tensors needed at inference (by default
    ``network_`` and the input scaling learned by ``_fit_scaling``).
``_infer(mods, X)``
    Given those objects (copied to the inference device and dtype) and a batch ``X``, return
    ``(embedding, raw_cluster_ids)``.
"""

from __future__ import annotations

import copy
import warnings
from numbers import Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from . import distributed
from ._threads import thread_limit
from ._utils import make_fit_context, random_seeds, resolve_device
from ._validation import IntInterval, all_rows_identical, check_float32_range
from .metrics import knn_modularity, reference_space
from .multiview import scale_params
from .training import EMBED_BATCH, Trainer

__all__ = ["BaseDeepClusterer"]

class BaseDeepClusterer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator):
    """Base class of the deep clustering estimators (not used directly).

    Subclasses get ``fit``, ``predict``, ``fit_predict``, ``transform``, ``fit_transform``, ``score``
    and ``get_feature_names_out``. Training runs on ``device``; inference runs in float64 on the CPU
    when the model was trained on the CPU (so results do not depend on how rows are batched), and in
    float32 on the GPU otherwise, unless ``inference_dtype`` asks for float32 or float64.
    """

    _parameter_constraints: dict = {
        "n_clusters": [IntInterval(1, None, closed="left"), StrOptions({"auto"})],
        "n_clusters_range": [None, tuple, list],
        "batch_size": [IntInterval(2, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "device": [str, torch.device],
        "inference_dtype": [StrOptions({"auto", "float32", "float64"})],
        "random_state": ["random_state"],
        "n_init": [IntInterval(1, None, closed="left")],
        "verbose": ["verbose"],
    }

    #: whether ``_fit_torch`` trains data-parallel in a process group (its steps forward ``state.local`` rows and
    #: compute their losses on ``state.gather``-ed outputs; see :mod:`skdeepclust.distributed`)
    _data_parallel = False

    # ------------------------------------------------------------------ hooks for subclasses
    def _fit_torch(self, X: torch.Tensor, trainer: Trainer) -> np.ndarray | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _inference_modules(self) -> tuple[str, ...]:
        return ("network_", "input_offset_", "input_scale_")  # the networks and the input scaling (_fit_scaling)

    def _infer(self, mods: dict, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # pragma: no cover
        raise NotImplementedError

    def _fit_scaling(self, X: torch.Tensor, method: str, view_sizes=None) -> torch.Tensor:
        """Learn the input scaling on the training tensor (``input_offset_``, ``input_scale_``); return ``X`` scaled.

        ``method`` and ``view_sizes`` as in :func:`~skdeepclust.multiview.scale_params`.
        """
        offset, scale = scale_params(X, view_sizes, method)
        self.input_offset_, self.input_scale_ = offset.cpu(), scale.cpu()
        return (X - offset) / scale

    @staticmethod
    def _scaled(mods: dict, X: torch.Tensor) -> torch.Tensor:
        """A batch scaled by the fitted input scaling (``mods`` from :meth:`_run_inference`)."""
        return (X - mods["input_offset_"]) / mods["input_scale_"]

    def _validate_input(self, X, reset: bool) -> np.ndarray:
        """Validate ``X`` into a 2-D float array (subclasses may accept other layouts first)."""
        return validate_data(
            self, X, reset=reset, dtype=[np.float64, np.float32], ensure_min_samples=2 if reset else 1
        )

    def _check_n_samples(self, n_samples: int) -> None:
        """Subclasses may require more samples (e.g. one batch per cluster); ``n_clusters_`` is set."""
        if self.n_clusters_ > n_samples:
            raise ValueError(
                f"n_clusters={self.n_clusters_} must be <= n_samples={n_samples}: cannot form more clusters "
                "than there are samples."
            )

    def _resolve_n_clusters(self, X: np.ndarray, random_state) -> int:
        """The number of clusters of this fit: ``n_clusters``, or its estimate on ``X`` for ``"auto"``.

        The estimate (:func:`~skdeepclust.estimate_n_clusters`) runs on :meth:`_n_clusters_input` of ``X``.
        """
        if self.n_clusters != "auto":
            return int(self.n_clusters)
        from .n_clusters import estimate_n_clusters

        return estimate_n_clusters(self._n_clusters_input(X), n_clusters_range=self.n_clusters_range,
                                   random_state=random_state)

    def _n_clusters_input(self, X: np.ndarray) -> np.ndarray:
        """The validated training input scaled as the networks see it, for the estimate of ``n_clusters="auto"``.

        By default :func:`~skdeepclust.metrics.reference_space` (each view to unit total variance); the
        subclasses apply their own input scaling.
        """
        return reference_space(X, self._view_sizes())

    # ------------------------------------------------------------------ scikit-learn API
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the network on ``X`` and cluster it.

        Fitting is all-or-nothing: the model is built on a copy of the estimator and its fitted
        attributes replace the old ones only when the fit succeeds. If ``fit`` raises, the estimator is
        exactly as it was before the call. ``KeyboardInterrupt`` (Ctrl-C) ends the fit with a usable
        model (``interrupted_ = True``, a ``RuntimeWarning``) once the networks exist; before that, the
        estimator is left as it was and the interrupt is raised again (:ref:`failure_safety`). When the
        training samples end up in fewer than ``n_clusters_`` clusters, a
        :class:`~sklearn.exceptions.ConvergenceWarning` gives the count. With ``n_clusters="auto"`` the
        number of clusters is first estimated from ``X`` (:func:`~skdeepclust.estimate_n_clusters`, once for
        all ``n_init`` fits, within ``n_clusters_range``); ``n_clusters_`` holds the number used.

        The fit (and ``predict``, ``transform``, ``score``) runs on as many torch and BLAS/OpenMP threads as
        there are idle cores when it starts, at most the caller's ``torch.get_num_threads()``, or on the count
        that the environment variable ``SKDEEPCLUST_NUM_THREADS`` fixes, and restores the caller's settings
        afterwards (:ref:`threads`).

        Inside an initialised ``torch.distributed`` process group of more than one process (e.g. a
        script started by ``torchrun``), every process calls ``fit`` with the same ``X`` and estimators
        that support it train data-parallel: each process forwards its share of every global batch, and
        every process ends with the same fitted model (see :mod:`skdeepclust.distributed` and the User
        Guide). The others raise a ``RuntimeError`` there.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        n_init = self.n_init
        best, best_score, scores, stopped = None, -np.inf, [], None
        n_clusters = None  # n_clusters="auto": estimated in the first fit, kept for the others
        with thread_limit() as n_threads:  # one count for every initialisation and its score
            for i, seed in enumerate(_init_seeds(self.random_state, n_init)):
                work = copy.copy(self)  # same parameters, no fitted state
                for key in [k for k in work.__dict__ if _is_fitted_state(k)]:
                    del work.__dict__[key]
                work.__dict__.pop("_estimated_n_clusters", None)
                if n_clusters is not None:
                    work._estimated_n_clusters = n_clusters
                try:
                    work.n_threads_ = n_threads
                    where = work._fit_all(X, seed)
                    n_clusters = work.n_clusters_
                except KeyboardInterrupt:
                    if best is None:
                        raise
                    stopped = (f"fit interrupted during initialisation {i + 1} of {n_init}; the estimator keeps the "
                               f"best of the {i} finished")
                    break
                if n_init > 1:
                    score = work._selection_score(work._validate_input(X, reset=False))
                    scores.append(score)
                    if best is None or score > best_score:
                        best, best_score = work, score
                else:
                    best = work
                if where is not None:  # Ctrl-C inside a run: no further initialisations
                    stopped = (f"{where}; the estimator keeps the networks reached so far" if n_init == 1 else
                               f"{where} in initialisation {i + 1} of {n_init}; the estimator keeps the best-scoring "
                               f"of the {i + 1} fits")
                    break
        if n_init > 1:
            best.init_scores_ = np.asarray(scores, dtype=np.float64)
        for key in [k for k in self.__dict__ if _is_fitted_state(k)]:
            del self.__dict__[key]
        self.__dict__.update({k: v for k, v in best.__dict__.items() if _is_fitted_state(k)})
        if stopped is not None:
            warnings.warn(f"{stopped} (interrupted_=True).", RuntimeWarning, stacklevel=2)
            self.interrupted_ = True
        n_used = int(np.unique(self.labels_).size)
        if n_used < self.n_clusters_:
            warnings.warn(
                f"Number of distinct clusters ({n_used}) found smaller than n_clusters ({self.n_clusters_}): the "
                "training data were put in fewer clusters than asked for (see the User Guide on collapsed fits).",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def _fit_all(self, X, random_state) -> str | None:
        """The whole fit, on an estimator without fitted attributes, seeded by ``random_state``.

        Returns where an interrupt stopped it, or ``None``.
        """
        parallel = distributed.is_distributed()
        if parallel and not self._data_parallel:
            supported = ", ".join(c.__name__ for c in _data_parallel_estimators())
            raise RuntimeError(
                f"{type(self).__name__} cannot train data-parallel: fit was called in a torch.distributed process "
                f"group of {torch.distributed.get_world_size()} processes. Estimators that can: {supported}. To fit "
                "this one independently in each process, call fit before init_process_group or after "
                "destroy_process_group."
            )
        X = self._validate_input(X, reset=True)
        check_float32_range(X)
        if parallel:
            distributed.check_same_data(X)
        if self.n_clusters != 1 and X.shape[0] > 1 and all_rows_identical(X):
            raise ValueError(
                f"All {X.shape[0]} rows of X are identical: there is nothing to split into "
                f"n_clusters={self.n_clusters} clusters."
            )
        known = self.__dict__.pop("_estimated_n_clusters", None)
        if known is not None:
            self.n_clusters_ = known
        else:
            seed = distributed.shared_random_state(self.random_state) if parallel else self.random_state
            self.n_clusters_ = self._resolve_n_clusters(X, seed)
        self._check_n_samples(X.shape[0])
        self.device_ = resolve_device(self.device)
        self.history_ = []
        random_state = distributed.shared_random_state(random_state) if parallel else random_state
        verbose = int(self.verbose) if not parallel or torch.distributed.get_rank() == 0 else 0
        trainer = Trainer(make_fit_context(random_state, self.device_), self.history_, verbose, data_parallel=parallel)
        Xt = torch.tensor(X, dtype=torch.float32, device=self.device_)
        where = None
        try:
            raw = self._fit_torch(Xt, trainer)
        except KeyboardInterrupt:
            if not self._networks_exist():
                raise  # nothing usable yet: the caller's estimator stays as it was
            raw, where = None, self._interrupt_location()
        if trainer.stopped:
            where = f"training interrupted during stage {trainer.stopped_in!r}"
        self.interrupted_ = where is not None
        self.n_iter_ = sum(1 for r in self.history_ if "epoch" in r)
        for name in self._inference_modules():
            obj = getattr(self, name)
            if isinstance(obj, torch.nn.Module):
                obj.eval()
        if raw is None:
            raw = self._run_inference(X, embedding=False)[1]
        used = np.unique(raw)
        label_map = np.full(int(self.n_clusters_), -1, dtype=np.int64)
        label_map[used] = np.arange(used.size)
        unused = np.setdiff1d(np.arange(label_map.size), used)
        label_map[unused] = np.arange(used.size, label_map.size)
        self._label_map_ = label_map
        self.labels_ = label_map[raw]
        return where

    def _networks_exist(self) -> bool:
        """Whether an interrupted fit has got far enough to give a usable model."""
        return hasattr(self, "n_features_out_") and all(hasattr(self, n) for n in self._inference_modules())

    def _interrupt_location(self) -> str:
        done = [r["stage"] for r in self.history_ if "stage" in r]
        return "fit interrupted" + (f" after stage {done[-1]!r}" if done else "")

    def predict(self, X):
        """Assign each sample to a cluster.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New data, same features as in ``fit``.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Cluster ids in ``0 .. n_clusters_ - 1``, numbered consistently with ``labels_``.
        """
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)
        return self._label_map_[self._run_inference(X, embedding=False)[1]]

    def transform(self, X):
        """Embed ``X`` in the space the method clusters in.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to embed.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            The embedding, in the input's float dtype.
        """
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)
        return self._run_inference(X)[0]

    def score(self, X, y=None):
        """Label-free quality score: modularity of ``predict(X)`` on the k-nearest-neighbour graph of ``X``.

        The graph joins each row of ``X`` to its 10 nearest rows (each view scaled to unit total variance,
        :func:`~skdeepclust.metrics.reference_space`); the score is the share of its edges inside clusters
        minus the share expected by chance (:func:`~skdeepclust.metrics.knn_modularity`). Higher is better, at
        most 1. It does not depend on the fitted model's own embedding, so scores of different
        hyperparameters are comparable, and ``GridSearchCV`` can rank candidates with it without labels.
        ``n_init`` keeps the fit that scores highest. Rows beyond 4000 are subsampled (a fixed subsample).
        See :ref:`model_selection_guide` for its measured regret.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.
        y : None
            Ignored.

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        with thread_limit():
            return self._selection_score(self._validate_input(X, reset=False))

    def _selection_score(self, X: np.ndarray) -> float:
        """:meth:`score` on validated ``X``: modularity of the predicted labels on the input's k-NN graph."""
        labels = self._label_map_[self._run_inference(X, embedding=False)[1]]
        return knn_modularity(reference_space(X, self._view_sizes()), labels)

    def _view_sizes(self) -> tuple[int, ...] | None:
        """Columns of each view of the input (``None``: one view)."""
        return None

    @property
    def _n_features_out(self) -> int:
        return int(self.n_features_out_)

    # ------------------------------------------------------------------ inference
    def _inference_device_dtype(self) -> tuple[torch.device, torch.dtype]:
        cuda = self.device_.type == "cuda" and torch.cuda.is_available()
        choice = getattr(self, "inference_dtype", "auto")  # models pickled before the parameter existed: "auto"
        if choice == "auto":
            dtype = torch.float32 if cuda else torch.float64
        else:
            dtype = torch.float32 if choice == "float32" else torch.float64
        return (self.device_ if cuda else torch.device("cpu")), dtype

    def _run_inference(self, X: np.ndarray, embedding: bool = True) -> tuple[np.ndarray | None, np.ndarray]:
        """``(embedding, raw labels)`` of ``X``, computed in batches.

        ``embedding=False`` keeps only the labels (``None`` in place of the embedding), so that labelling many
        rows does not hold an ``n x d`` array.
        """
        device, dtype = self._inference_device_dtype()
        mods = {}
        for name in self._inference_modules():
            obj = getattr(self, name)
            if isinstance(obj, torch.nn.Module):
                obj = copy.deepcopy(obj).to(device=device, dtype=dtype).eval()
            elif isinstance(obj, torch.Tensor):
                obj = obj.to(device=device, dtype=dtype if obj.is_floating_point() else obj.dtype)
            mods[name] = obj
        # outputs are written into arrays allocated once: no list of per-batch pieces to concatenate (a second copy),
        # and no small arrays kept alive between the batches' large temporaries (which fragment the heap)
        n = X.shape[0]
        out_dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
        emb_out, labels = None, np.empty(n, dtype=np.int64)
        with thread_limit(), torch.no_grad():
            for start in range(0, n, EMBED_BATCH):
                stop = min(start + EMBED_BATCH, n)
                xb = torch.tensor(X[start:stop], dtype=dtype, device=device)
                emb, raw = self._infer(mods, xb)
                labels[start:stop] = raw.cpu().numpy()
                if embedding:
                    if emb_out is None:
                        emb_out = np.empty((n, *emb.shape[1:]), dtype=out_dtype)
                    emb_out[start:stop] = emb.cpu().numpy()
        return emb_out, labels

    # ------------------------------------------------------------------ pickling across devices
    def __getstate__(self):
        state = super().__getstate__()
        state = dict(state)
        for key, value in state.items():
            if isinstance(value, torch.nn.Module | torch.Tensor):
                state[key] = copy.deepcopy(value).cpu() if _on_gpu(value) else value
        return state

    def __setstate__(self, state):
        state.setdefault("n_clusters_range", None)  # models pickled before n_clusters="auto" existed
        if "_label_map_" in state and "n_clusters_" not in state:
            state["n_clusters_"] = int(state["n_clusters"])
        device = state.get("device_")
        if isinstance(device, torch.device) and device.type == "cuda":
            if torch.cuda.is_available():
                for key, value in state.items():
                    if isinstance(value, torch.nn.Module | torch.Tensor):
                        state[key] = value.to(device)
            else:
                warnings.warn(
                    "This estimator was fitted on CUDA but CUDA is not available; it was loaded on the CPU.",
                    UserWarning,
                    stacklevel=2,
                )
                state["device_"] = torch.device("cpu")
        super().__setstate__(state)


def _init_seeds(random_state, n_init: int) -> list:
    """The ``random_state`` of each of ``n_init`` fits: ``random_state`` itself for one fit, else drawn from it."""
    return [random_state] if n_init == 1 else random_seeds(random_state, n_init)


def _data_parallel_estimators() -> list[type]:
    """The estimator classes that train data-parallel, by name."""
    found, todo = [], list(BaseDeepClusterer.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls._data_parallel and not cls.__name__.startswith("_"):
            found.append(cls)
    return sorted(set(found), key=lambda c: c.__name__)


def _is_fitted_state(key: str) -> bool:
    """Fitted attributes end with an underscore (``labels_``, ``_label_map_``), scikit-learn's convention."""
    return key.endswith("_") and not key.startswith("__")


def _on_gpu(obj) -> bool:
    if isinstance(obj, torch.Tensor):
        return obj.device.type != "cpu"
    return any(p.device.type != "cpu" for p in obj.parameters()) or any(
        b.device.type != "cpu" for b in obj.buffers()
    )
