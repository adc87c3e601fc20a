"""PyTorch Lightning callback: ``Trainer(callbacks=[CarbonTrackerCallback()])``.

``lightning.pytorch`` (or the older ``pytorch_lightning``) is imported when
the callback class is first used, not when this module is imported.

Hooks: on_train_start creates the tracker (epochs = ``trainer.max_epochs``
unless given), on_train_epoch_start / on_train_epoch_end measure each epoch
(validation inside the epoch included), on_train_batch_end tells the epoch's
progress (batch_idx + 1 of ``trainer.num_training_batches``), on_train_end (also reached after
EarlyStopping or ``trainer.should_stop``) and on_exception stop it and report
the actual consumption.

Arguments: ``tracker`` (drive an existing CarbonTracker instead), ``epochs``,
``stop_on_budget`` (set ``trainer.should_stop`` when a budget is exceeded),
and any CarbonTracker keyword argument.
"""

from ._callbacks import TrackerDriver

__all__ = ["CarbonTrackerCallback"]

_class = None


def _callback_base():
    try:
        from lightning.pytorch.callbacks import Callback

        return Callback
    except ImportError:
        pass
    try:
        from pytorch_lightning.callbacks import Callback

        return Callback
    except ImportError:
        raise ImportError(
            "carbontracker.lightning needs PyTorch Lightning: pip install lightning"
        ) from None


def _build():
    Base = _callback_base()

    class CarbonTrackerCallback(Base):
        """Tracks every training epoch of a Lightning Trainer with a CarbonTracker."""

        def __init__(self, tracker=None, epochs=None, stop_on_budget=False, **tracker_kwargs):
            super().__init__()
            self.driver = TrackerDriver(tracker, epochs, stop_on_budget, **tracker_kwargs)

        @property
        def tracker(self):
            return self.driver.tracker

        def on_train_start(self, trainer, pl_module):
            max_epochs = getattr(trainer, "max_epochs", None)
            self.driver.begin(max_epochs if max_epochs is not None and max_epochs > 0 else None)

        def on_train_epoch_start(self, trainer, pl_module):
            self.driver.epoch_start()

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, *args):
            # batch_idx within the epoch of trainer.num_training_batches (issue 12)
            self.driver.batch_end(batch_idx + 1, getattr(trainer, "num_training_batches", None))

        def on_train_epoch_end(self, trainer, pl_module):
            if self.driver.epoch_end():
                trainer.should_stop = True

        def on_train_end(self, trainer, pl_module):
            self.driver.end()

        def on_exception(self, trainer, pl_module, exception):
            self.driver.end()

    return CarbonTrackerCallback


def __getattr__(name):
    global _class
    if name == "CarbonTrackerCallback":
        if _class is None:
            _class = _build()
        return _class
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
