"""Keras callback: ``model.fit(..., callbacks=[CarbonTrackerCallback()])``.

Keras (``keras`` 3, or ``tensorflow.keras``) is imported when the callback
class is first used, not when this module is imported. The class subclasses
``keras.callbacks.Callback`` and is built on first access.

Hooks: on_train_begin creates the tracker (epochs from ``fit(epochs=...)``
unless given), on_epoch_begin / on_epoch_end measure each epoch, and
on_train_batch_end tells the epoch's progress (batch + 1 of ``params["steps"]``),
on_train_end (also reached after EarlyStopping or ``model.stop_training``)
stops it and reports the actual consumption. Keras has no hook for an
exception inside ``fit``: the tracker is then stopped when it is collected or
at interpreter exit, or by the next ``fit`` with the same callback.

Arguments: ``tracker`` (drive an existing CarbonTracker instead),
``epochs``, ``stop_on_budget`` (set ``model.stop_training`` when a budget is
exceeded), and any CarbonTracker keyword argument.
"""

from ._callbacks import TrackerDriver

__all__ = ["CarbonTrackerCallback"]

_class = None


def _callback_base():
    try:
        import keras

        return keras.callbacks.Callback
    except ImportError:
        pass
    try:
        from tensorflow import keras as tf_keras

        return tf_keras.callbacks.Callback
    except ImportError:
        raise ImportError(
            "carbontracker.keras needs Keras: pip install keras (or tensorflow)"
        ) from None


def _build():
    Base = _callback_base()

    class CarbonTrackerCallback(Base):
        """Tracks every epoch of ``model.fit`` with a CarbonTracker."""

        def __init__(self, tracker=None, epochs=None, stop_on_budget=False, **tracker_kwargs):
            super().__init__()
            self.driver = TrackerDriver(tracker, epochs, stop_on_budget, **tracker_kwargs)

        @property
        def tracker(self):
            return self.driver.tracker

        def on_train_begin(self, logs=None):
            params = getattr(self, "params", None) or {}
            self.driver.begin(params.get("epochs"))

        def on_epoch_begin(self, epoch, logs=None):
            self.driver.epoch_start()

        def on_train_batch_end(self, batch, logs=None):
            # batch: the index within the epoch; params["steps"]: batches per epoch (issue 12)
            params = getattr(self, "params", None) or {}
            self.driver.batch_end(batch + 1, params.get("steps"))

        def on_epoch_end(self, epoch, logs=None):
            if self.driver.epoch_end():
                self.model.stop_training = True

        def on_train_end(self, logs=None):
            self.driver.end()

    return CarbonTrackerCallback


def __getattr__(name):
    global _class
    if name == "CarbonTrackerCallback":
        if _class is None:
            _class = _build()
        return _class
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
