import functools

import pytest
import torch
from torch import nn

import skdeepclust.training._trainer
from skdeepclust._utils import make_fit_context
from skdeepclust.training import (
    STEP_SCHEDULE_MAX_EPOCHS,
    Callback,
    EMAUpdate,
    KeepBest,
    LoopState,
    LRSchedule,
    NonFiniteLossError,
    StopWhenStable,
    Trainer,
    embed_batches,
    epochs_for_steps,
    warmup_cosine,
)


class _CtrlC(Callback):
    """Ctrl-C at the end of epoch 1 (the second)."""

    def on_epoch_end(self, state, record):
        if state.epoch == 1:
            raise KeyboardInterrupt


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

    def step(idx, state):
        pred = model(X[idx])[:, 0]
        return {"mse": ((pred - y[idx]) ** 2).mean(), "zero": torch.zeros(())}

    Trainer(ctx, hist).run("fit", step, n_samples=40, n_epochs=20, batch_size=8, optimizer=opt, modules=[model])
    assert len(hist) == 20
    assert set(hist[0]) == {"stage", "epoch", "mse", "zero", "loss", "steps", "seconds"}
    assert hist[0]["steps"] == 5 and hist[-1]["mse"] < 0.01 * hist[0]["mse"]


def test_drop_last_and_small_data():
    ctx, model, X, y, opt = _setup()
    seen = []

    def step(idx, state):
        seen.append(len(idx))
        return {"l": model(X[idx]).sum() * 0}

    trainer = Trainer(ctx, [])
    trainer.run("s", step, n_samples=10, n_epochs=1, batch_size=4, optimizer=opt, modules=[model])
    assert seen == [4, 4]
    seen.clear()
    trainer.run("s", step, n_samples=10, n_epochs=1, batch_size=64, optimizer=opt, modules=[model])
    assert seen == [10]
    seen.clear()
    trainer.run("s", step, n_samples=9, n_epochs=1, batch_size=4, optimizer=opt, modules=[model], drop_last=False)
    assert seen == [4, 5]  # a one-row remainder joins the last batch


def test_epochs_for_steps_bounds():
    assert epochs_for_steps(40, n_samples=100, batch_size=32, drop_last=True) == 14  # 3 full batches
    assert epochs_for_steps(40, n_samples=100, batch_size=32) == 10  # 4 batches, the last partial
    assert epochs_for_steps(40, n_samples=100, batch_size=32, min_epochs=20) == 20
    # one batch per epoch: the step count would ask for 5000 epochs; the cap stops it
    assert epochs_for_steps(5000, n_samples=50, batch_size=256, drop_last=True) == STEP_SCHEDULE_MAX_EPOCHS < 5000
    assert epochs_for_steps(5000, n_samples=50, batch_size=256, max_epochs=None) == 5000
    assert epochs_for_steps(5000, n_samples=50, batch_size=256, max_epochs=10, min_epochs=12) == 12


def test_non_finite_loss_restores_weights():
    ctx, model, X, y, opt = _setup()
    calls = {"n": 0}

    def step(idx, state):
        calls["n"] += 1
        loss = ((model(X[idx])[:, 0] - y[idx]) ** 2).mean()
        return {"mse": loss if calls["n"] < 7 else loss * float("nan")}

    trainer = Trainer(ctx, [])
    trainer.run("a", step, n_samples=40, n_epochs=1, batch_size=8, optimizer=opt, modules=[model])
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(NonFiniteLossError, match="stage 'b', epoch 1, batch 2"):
        trainer.run("b", step, n_samples=40, n_epochs=3, batch_size=8, optimizer=opt, modules=[model])
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])


def test_keyboard_interrupt_stops_training_and_later_stages():
    ctx, model, X, y, opt = _setup()
    hist = []

    def step(idx, state):
        return {"mse": ((model(X[idx])[:, 0] - y[idx]) ** 2).mean()}

    trainer = Trainer(ctx, hist)
    trainer.run("s", step, n_samples=40, n_epochs=5, batch_size=8, optimizer=opt, modules=[model], callbacks=[_CtrlC()])
    assert trainer.stopped and trainer.stopped_in == "s" and len(hist) == 1
    weights = model.weight.detach().clone()
    trainer.run("t", step, n_samples=40, n_epochs=5, batch_size=8, optimizer=opt, modules=[model])
    assert len(hist) == 1 and torch.equal(model.weight, weights)  # later stages do nothing


def test_loop_state_seen_by_step_and_callbacks():
    ctx, model, X, y, opt = _setup()
    seen, ends = [], []

    class Record(Callback):
        def on_batch_end(self, state):
            ends.append((state.stage, state.epoch, state.batch, state.step, state.global_step, state.progress))

    def step(idx, state):
        seen.append((state.stage, state.epoch, state.batch, state.n_batches, state.n_steps))
        return {"mse": ((model(X[idx])[:, 0] - y[idx]) ** 2).mean()}

    trainer = Trainer(ctx, [])
    trainer.run("a", step, n_samples=40, n_epochs=2, batch_size=16, optimizer=opt, modules=[model],
                callbacks=[Record()])
    trainer.run("b", step, n_samples=40, n_epochs=1, batch_size=20, optimizer=opt, modules=[model],
                callbacks=[Record()])
    assert seen == [("a", 0, 0, 2, 4), ("a", 0, 1, 2, 4), ("a", 1, 0, 2, 4), ("a", 1, 1, 2, 4),
                    ("b", 0, 0, 2, 2), ("b", 0, 1, 2, 2)]
    assert [e[3] for e in ends] == [1, 2, 3, 4, 1, 2]  # steps within the stage
    assert [e[4] for e in ends] == [1, 2, 3, 4, 5, 6] and trainer.global_step == 6  # over the fit
    assert [e[5] for e in ends] == [0.25, 0.5, 0.75, 1.0, 0.5, 1.0]


def test_lr_schedule_uses_the_fractional_epoch_of_the_next_step():
    ctx, model, X, y, opt = _setup()
    seen = []

    def step(idx, state):
        seen.append(opt.param_groups[0]["lr"])
        return {"mse": ((model(X[idx])[:, 0] - y[idx]) ** 2).mean()}

    Trainer(ctx, []).run("s", step, n_samples=40, n_epochs=2, batch_size=10, optimizer=opt, modules=[model],
                         callbacks=[LRSchedule(opt, lambda e: e)])
    assert seen == pytest.approx([0.1 * e for e in (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0)])


def test_embed_batches_matches_one_pass():
    lin = nn.Linear(3, 2)
    X = torch.randn(10, 3, generator=torch.Generator().manual_seed(0))
    out = embed_batches(lin, X, batch_size=4)
    assert out.shape == (10, 2) and not out.requires_grad
    assert torch.allclose(out, lin(X).detach())


def test_keep_best_restores_the_best_scored_epoch():
    ctx, model, X, y, opt = _setup()
    hist, weights = [], {}

    def step(idx, state):
        return {"mse": ((model(X[idx])[:, 0] - y[idx]) ** 2).mean()}

    def score(state):  # scored at epochs 2, 4 and 8; epoch 4 scores best
        epoch = state.epoch + 1
        weights[epoch] = model.weight.detach().clone()
        return {2: 0.1, 4: 0.5, 8: 0.3}[epoch]

    keep = KeepBest([model], score, at_epochs=[2, 4, 8], optimizer=opt)
    Trainer(ctx, hist).run("fit", step, n_samples=40, n_epochs=8, batch_size=8, optimizer=opt, modules=[model],
                           callbacks=[keep])
    assert not torch.equal(model.weight, weights[4])  # training went on past the best checkpoint
    assert keep.restore() == 4 and keep.scores == {2: 0.1, 4: 0.5, 8: 0.3}
    assert torch.equal(model.weight, weights[4])
    assert [r.get("checkpoint_score") for r in hist] == [None, 0.1, None, 0.5, None, None, None, 0.3]
    assert keep.restore() == 4 and torch.equal(model.weight, weights[4])  # a second restore changes nothing


@pytest.mark.parametrize(("scores", "kept"), [({2: 0.5, 4: 0.505, 8: 0.52}, 8),   # 8 beats 2 by more than 0.01
                                               ({2: 0.5, 4: 0.505, 8: 0.509}, 2),  # nothing does: the first stays
                                               ({2: 0.5, 4: 0.52, 8: 0.521}, 8)])  # past the first, any gain counts
def test_keep_best_margin_over_the_first_checkpoint(scores, kept):
    ctx, model, X, y, opt = _setup()

    def step(idx, state):
        return {"mse": ((model(X[idx])[:, 0] - y[idx]) ** 2).mean()}

    keep = KeepBest([model], lambda state: scores[state.epoch + 1], at_epochs=scores, optimizer=opt, margin=0.01)
    Trainer(ctx, []).run("fit", step, n_samples=40, n_epochs=8, batch_size=8, optimizer=opt, modules=[model],
                         callbacks=[keep])
    assert keep.restore() == kept


def test_ema_update():
    teacher, student = nn.Linear(2, 2), nn.Linear(2, 2)
    with torch.no_grad():
        for p in teacher.parameters():
            p.fill_(0.0)
        for p in student.parameters():
            p.fill_(1.0)
    cb = EMAUpdate(teacher, student, lambda state: 0.75)
    cb.on_batch_end(LoopState("s", step=1, n_steps=1))
    assert torch.allclose(teacher.weight, torch.full((2, 2), 0.25))


def test_verbose_progress(capsys):
    ctx, model, X, y, opt = _setup()

    def step(idx, state):
        return {"mse": ((model(X[idx])[:, 0] - y[idx]) ** 2).mean()}

    hist = []
    Trainer(ctx, hist, verbose=1).run("demo", step, n_samples=40, n_epochs=2, batch_size=8, optimizer=opt,
                                      modules=[model])
    captured = capsys.readouterr()
    err = captured.err
    assert "demo" in err and "2/2" in err and f"mse={hist[-1]['mse']:.4g}" in err and err.endswith("\n")
    assert "seconds" not in err and "steps=" not in err and captured.out == ""


def test_verbose_0_writes_nothing(capfd):
    ctx, model, X, y, opt = _setup()

    def step(idx, state):
        return {"mse": ((model(X[idx])[:, 0] - y[idx]) ** 2).mean()}

    Trainer(ctx, [], verbose=0).run("quiet", step, n_samples=40, n_epochs=3, batch_size=8, optimizer=opt,
                                    modules=[model])
    assert capfd.readouterr() == ("", "")


def _bars(monkeypatch):
    """Record every progress bar the Trainer opens."""
    opened = []

    def record(*args, **kwargs):
        opened.append(make(*args, **kwargs))
        return opened[-1]

    make = skdeepclust.training._trainer._progress_bar
    monkeypatch.setattr(skdeepclust.training._trainer, "_progress_bar", record)
    return opened


def test_progress_bar_closed_on_interrupt_and_on_errors(monkeypatch, capsys):
    ctx, model, X, y, opt = _setup()
    opened = _bars(monkeypatch)

    def step(idx, state):
        return {"mse": ((model(X[idx])[:, 0] - y[idx]) ** 2).mean()}

    trainer = Trainer(ctx, [], verbose=1)
    trainer.run("s", step, n_samples=40, n_epochs=5, batch_size=8, optimizer=opt, modules=[model], callbacks=[_CtrlC()])
    assert trainer.stopped_in == "s"
    err = capsys.readouterr().err
    assert "1/5" in err and err.endswith("\n")  # the bar stays where training stopped, its line ended

    def bad_step(idx, state):
        return {"mse": model(X[idx]).sum() * float("nan")}

    with pytest.raises(NonFiniteLossError):
        Trainer(ctx, [], verbose=1).run("b", bad_step, n_samples=40, n_epochs=3, batch_size=8, optimizer=opt,
                                        modules=[model])
    assert capsys.readouterr().err.endswith("\n")
    assert len(opened) == 2 and all(bar not in type(bar)._instances for bar in opened)  # both closed


def test_keep_best_patience_stops_the_stage_and_ties_go_later():
    ctx, model, X, y, opt = _setup()
    hist = []
    scores = {1: 0.2, 2: 0.4, 3: 0.4, 4: 0.3, 5: 0.9, 6: 0.1}

    def step(idx, state):
        return {"mse": ((model(X[idx])[:, 0] - y[idx]) ** 2).mean()}

    keep = KeepBest([model], lambda state: scores[state.epoch + 1], at_epochs=scores, prefer_later=True, patience=2)
    Trainer(ctx, hist).run("fit", step, n_samples=40, n_epochs=6, batch_size=8, optimizer=opt, modules=[model],
                           callbacks=[keep])
    # epochs 3 (a tie) and 4 (lower) raise nothing: the stage ends after epoch 4, keeping the later tie
    assert [r["epoch"] for r in hist] == [1, 2, 3, 4]
    assert "stop" in hist[-1] and all("stop" not in r for r in hist[:-1])
    assert keep.restore() == 3


def test_lr_schedule_one_factor_per_group():
    ctx, model, X, y, opt = _setup()
    extra = nn.Parameter(torch.zeros(1))
    opt.add_param_group({"params": [extra], "lr": 0.5})
    seen = []

    def step(idx, state):
        seen.append([g["lr"] for g in opt.param_groups])
        return {"mse": ((model(X[idx])[:, 0] - y[idx]) ** 2).mean() + 0 * extra.sum()}

    Trainer(ctx, []).run("s", step, n_samples=40, n_epochs=1, batch_size=20, optimizer=opt, modules=[model],
                         callbacks=[LRSchedule(opt, [lambda e: e, None])])
    assert seen == [[pytest.approx(0.05), 0.5], [pytest.approx(0.1), 0.5]]
    with pytest.raises(ValueError, match="2 parameter groups"):
        LRSchedule(opt, [None])


def test_warmup_cosine():
    f = functools.partial(warmup_cosine, n_warmup=2, n_epochs=6, start=1)
    assert f(0.5) == 0.0 and f(1.0) == 0.0
    assert f(2.0) == 0.5 and f(3.0) == 1.0
    assert f(4.5) == pytest.approx(0.5) and f(6.0) == pytest.approx(0.0) and f(7.0) == pytest.approx(0.0)
    assert warmup_cosine(1.25, n_warmup=2, n_epochs=6, start=1, min_warmup=0.5) == 0.25


def test_embed_batches_switches_modes_and_restores_them():
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.5))
    net.train()
    net[2].eval()  # a mixed state comes back as it was
    X = torch.randn(9, 3, generator=torch.Generator().manual_seed(0))
    out = embed_batches(net, X, [net], batch_size=4)
    net.eval()
    assert torch.allclose(out, net(X).detach())
    net.train()
    net[2].eval()
    embed_batches(net, X, [net])
    assert net.training and net[1].training and not net[2].training


def test_stop_when_stable_ends_the_stage_and_ignores_renumbering():
    ctx, model, X, y, opt = _setup()
    hist = []
    # the partition changes (one row in four), then only its ids are permuted, then nothing changes
    labellings = iter([[0, 0, 1, 1], [0, 1, 1, 1], [1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]])

    def step(idx, state):
        return {"mse": ((model(X[idx])[:, 0] - y[idx]) ** 2).mean()}

    stop = StopWhenStable(lambda: next(labellings), tol=0.1, patience=2)
    Trainer(ctx, hist).run("fit", step, n_samples=40, n_epochs=6, batch_size=8, optimizer=opt, modules=[model],
                           callbacks=[stop])
    assert [r.get("changed") for r in hist] == [None, 0.25, 0.0, 0.0]
    assert "stop" in hist[-1] and len(hist) == 4


def test_stop_when_stable_waits_for_min_epochs():
    ctx, model, X, y, opt = _setup()
    hist = []

    def step(idx, state):
        return {"mse": ((model(X[idx])[:, 0] - y[idx]) ** 2).mean()}

    stop = StopWhenStable(lambda: [0, 1], tol=0.1, patience=1, min_epochs=4)
    Trainer(ctx, hist).run("fit", step, n_samples=40, n_epochs=6, batch_size=8, optimizer=opt, modules=[model],
                           callbacks=[stop])
    assert len(hist) == 4 and "stop" in hist[-1]
