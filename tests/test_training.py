import pytest
import torch
from torch import nn

from skdeepclust._utils import make_fit_context
from skdeepclust.training import (
    STEP_SCHEDULE_MAX_EPOCHS,
    Callback,
    EMAUpdate,
    NonFiniteLossError,
    TrainingInterrupted,
    epochs_for_steps,
    train_stage,
)


def _setup(seed=0):
    ctx = make_fit_context(seed, torch.device("cpu"))
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    X = torch.randn(40, 3, generator=torch.Generator().manual_seed(1))
    y = X @ torch.tensor([1.0, -2.0, 0.5])
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    return ctx, model, X, y, opt


def test_history_records_terms_and_loss_decreases():
    ctx, model, X, y, opt = _setup()
    hist = []

    def step(idx):
        pred = model(X[idx])[:, 0]
        return {"mse": ((pred - y[idx]) ** 2).mean(), "zero": torch.zeros(())}

    train_stage(step, n_samples=40, n_epochs=20, batch_size=8, optimizer=opt, ctx=ctx, history=hist,
                stage="fit", modules=[model])
    assert len(hist) == 20
    assert set(hist[0]) == {"stage", "epoch", "mse", "zero", "loss", "steps", "seconds"}
    assert hist[0]["steps"] == 5 and hist[-1]["mse"] < 0.01 * hist[0]["mse"]


def test_drop_last_and_small_data():
    ctx, model, X, y, opt = _setup()
    seen = []

    def step(idx):
        seen.append(len(idx))
        return {"l": model(X[idx]).sum() * 0}

    train_stage(step, n_samples=10, n_epochs=1, batch_size=4, optimizer=opt, ctx=ctx, history=[],
                stage="s", modules=[model])
    assert seen == [4, 4]
    seen.clear()
    train_stage(step, n_samples=10, n_epochs=1, batch_size=64, optimizer=opt, ctx=ctx, history=[],
                stage="s", modules=[model])
    assert seen == [10]


def test_epochs_for_steps_bounds():
    assert epochs_for_steps(40, n_samples=100, batch_size=32, drop_last=True) == 14  # 3 full batches
    assert epochs_for_steps(40, n_samples=100, batch_size=32) == 10  # 4 batches, the last partial
    assert epochs_for_steps(40, n_samples=100, batch_size=32, min_epochs=20) == 20
    # one batch per epoch: the step count would ask for 5000 epochs; the cap stops at 1000
    assert STEP_SCHEDULE_MAX_EPOCHS == 1000
    assert epochs_for_steps(5000, n_samples=50, batch_size=256, drop_last=True) == 1000
    assert epochs_for_steps(5000, n_samples=50, batch_size=256, max_epochs=None) == 5000
    assert epochs_for_steps(5000, n_samples=50, batch_size=256, max_epochs=10, min_epochs=12) == 12


def test_non_finite_loss_restores_weights():
    ctx, model, X, y, opt = _setup()
    calls = {"n": 0}

    def step(idx):
        calls["n"] += 1
        loss = ((model(X[idx])[:, 0] - y[idx]) ** 2).mean()
        return {"mse": loss if calls["n"] < 7 else loss * float("nan")}

    train_stage(step, n_samples=40, n_epochs=1, batch_size=8, optimizer=opt, ctx=ctx, history=[],
                stage="a", modules=[model])
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(NonFiniteLossError, match="epoch 1, batch 2"):
        train_stage(step, n_samples=40, n_epochs=3, batch_size=8, optimizer=opt, ctx=ctx, history=[],
                    stage="b", modules=[model])
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])


def test_keyboard_interrupt_becomes_training_interrupted():
    ctx, model, X, y, opt = _setup()
    hist = []

    class Stop(Callback):
        def on_epoch_end(self, epoch, record):
            if epoch == 1:
                raise KeyboardInterrupt

    def step(idx):
        return {"mse": ((model(X[idx])[:, 0] - y[idx]) ** 2).mean()}

    with pytest.raises(TrainingInterrupted):
        train_stage(step, n_samples=40, n_epochs=5, batch_size=8, optimizer=opt, ctx=ctx, history=hist,
                    stage="s", modules=[model], callbacks=[Stop()])
    assert len(hist) == 1


def test_ema_update():
    teacher, student = nn.Linear(2, 2), nn.Linear(2, 2)
    with torch.no_grad():
        for p in teacher.parameters():
            p.fill_(0.0)
        for p in student.parameters():
            p.fill_(1.0)
    cb = EMAUpdate(teacher, student, lambda epoch, batch, step, n: 0.75)
    cb.on_epoch_begin(0)
    cb.on_batch_end(0, 1, 1)
    assert torch.allclose(teacher.weight, torch.full((2, 2), 0.25))


def test_verbose_progress(capsys):
    ctx, model, X, y, opt = _setup()

    def step(idx):
        return {"mse": ((model(X[idx])[:, 0] - y[idx]) ** 2).mean()}

    train_stage(step, n_samples=40, n_epochs=2, batch_size=8, optimizer=opt, ctx=ctx, history=[],
                stage="demo", modules=[model], verbose=1)
    err = capsys.readouterr().err
    assert "demo" in err and "2/2" in err and "mse=" in err
