"""Hugging Face ``transformers`` callback: ``Trainer(..., callbacks=[CarbonTrackerCallback()])``.

``transformers`` is imported when the callback class is first used, not
when this module is imported. The class subclasses ``TrainerCallback``.

Hooks: on_train_begin creates the tracker (epochs = ``state.num_train_epochs``,
else ``ceil(args.num_train_epochs)``, unless given), on_epoch_begin /
on_epoch_end measure each epoch, on_step_end tells the epoch's progress
(optimizer steps of this epoch of ``state.max_steps / state.num_train_epochs``),
on_train_end (also reached after
EarlyStoppingCallback or ``control.should_training_stop``) stops it and
reports the actual consumption. The Trainer has no hook for an exception:
the tracker is then stopped when it is collected or at interpreter exit, or
by the next ``train()`` with the same callback.

Arguments: ``tracker`` (drive an existing CarbonTracker instead), ``epochs``,
``stop_on_budget`` (set ``control.should_training_stop`` when a budget is
exceeded), and any CarbonTracker keyword argument.
"""

import math

from ._callbacks import TrackerDriver

__all__ = ["CarbonTrackerCallback"]

_class = None


def _callback_base():
    try:
        from transformers import TrainerCallback

        return TrainerCallback
    except ImportError:
        raise ImportError("carbontracker.transformers needs transformers: pip install transformers") from None


def _epochs(args, state):
    n = getattr(state, "num_train_epochs", None)
    if not n:
        n = getattr(args, "num_train_epochs", None)
    if not n or n <= 0:
        return None
    return int(math.ceil(n))


def _steps_per_epoch(args, state):
    """Optimizer steps per epoch: state.max_steps / state.num_train_epochs
    (the Trainer sets both when training begins); None when unknown."""
    steps = getattr(state, "max_steps", None)
    n = getattr(state, "num_train_epochs", None) or getattr(args, "num_train_epochs", None)
    if not steps or steps <= 0 or not n or n <= 0:
        return None
    return math.ceil(steps / n)


def _build():
    Base = _callback_base()

    class CarbonTrackerCallback(Base):
        """Tracks every epoch of a transformers Trainer with a CarbonTracker."""

        def __init__(self, tracker=None, epochs=None, stop_on_budget=False, **tracker_kwargs):
            super().__init__()
            self.driver = TrackerDriver(tracker, epochs, stop_on_budget, **tracker_kwargs)

        @property
        def tracker(self):
            return self.driver.tracker

        def on_train_begin(self, args, state, control, **kwargs):
            self.driver.begin(_epochs(args, state))

        def on_epoch_begin(self, args, state, control, **kwargs):
            self.driver.epoch_start()
            self._step0 = getattr(state, "global_step", 0) or 0

        def on_step_end(self, args, state, control, **kwargs):
            # optimizer steps of this epoch out of max_steps / num_train_epochs (issue 12)
            per_epoch = _steps_per_epoch(args, state)
            if per_epoch:
                done = (getattr(state, "global_step", 0) or 0) - getattr(self, "_step0", 0)
                self.driver.batch_end(done, per_epoch)

        def on_epoch_end(self, args, state, control, **kwargs):
            if self.driver.epoch_end():
                control.should_training_stop = True
            return control

        def on_train_end(self, args, state, control, **kwargs):
            self.driver.end()

    return CarbonTrackerCallback


def __getattr__(name):
    global _class
    if name == "CarbonTrackerCallback":
        if _class is None:
            _class = _build()
        return _class
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
