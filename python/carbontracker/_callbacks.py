"""What the framework callbacks share: one tracker driven by training events.

The framework modules (keras.py, lightning.py, transformers.py) only map
their hooks onto a :class:`TrackerDriver`; the framework itself is imported
when the callback class is first used, never at import of this package.
"""

import warnings

from .exceptions import CarbonTrackerWarning, TrainingDeclined


class TrackerDriver:
    """Creates (or borrows) a CarbonTracker and feeds it epoch events.

    tracker: an existing CarbonTracker to drive (its owner stops it), or None
        to create one when training begins with ``tracker_kwargs``.
    epochs: total epochs; None = what the trainer says when training begins.
    stop_on_budget: when a budget is exceeded, ask the trainer to stop after
        this epoch (instead of only warning, or raising with on_budget="raise").
    """

    def __init__(self, tracker=None, epochs=None, stop_on_budget=False, **tracker_kwargs):
        if stop_on_budget and tracker_kwargs.get("on_budget", "warn") == "raise":
            raise ValueError("stop_on_budget=True needs on_budget='warn' (the callback stops the trainer itself)")
        self.tracker = tracker
        self._owned = tracker is None
        self.epochs = epochs
        self.stop_on_budget = bool(stop_on_budget)
        self.tracker_kwargs = tracker_kwargs
        self.stop_reason = None
        self._in_epoch = False

    def begin(self, trainer_epochs=None):
        """Training begins: creates the tracker (a previous one of ours is stopped first)."""
        self.stop_reason = None
        self._in_epoch = False
        if not self._owned:
            return
        if self.tracker is not None:
            self.tracker.stop()  # an earlier fit() that ended without its end hook
        epochs = self.epochs if self.epochs is not None else trainer_epochs
        if epochs is None or epochs < 1:
            raise ValueError(
                "carbontracker callback: the number of epochs is unknown (the trainer has no finite "
                "epoch limit): pass epochs=N to the callback"
            )
        from .tracker import CarbonTracker

        self.tracker = CarbonTracker(epochs=int(epochs), **self.tracker_kwargs)

    def epoch_start(self):
        if self.tracker is None:
            self.begin()
        self.tracker.epoch_start()
        self._in_epoch = True
        self._progress = 0.0

    def batch_end(self, done, per_epoch):
        """A batch ended: done batches of this epoch out of per_epoch (the
        framework's own count) go to the tracker as the epoch's progress
        (issue 12). Unknown or infinite counts, or a count that went back, are
        left out: progress never stops the training."""
        if self.tracker is None or not self._in_epoch:
            return
        try:
            done, per_epoch = float(done), float(per_epoch)
        except (TypeError, ValueError):
            return
        if not (per_epoch > 0) or per_epoch == float("inf") or not (done > 0):
            return
        f = min(1.0, done / per_epoch)
        if f < getattr(self, "_progress", 0.0):
            return
        self._progress = f
        try:
            self.tracker.epoch_progress(f)
        except ValueError:
            pass

    def epoch_end(self):
        """Ends the epoch; returns True when the trainer should stop."""
        if self.tracker is None or not self._in_epoch:
            return False
        self._in_epoch = False
        try:
            self.tracker.epoch_end()
        except TrainingDeclined:
            # The user answered "n": end the training through the trainer, gracefully.
            self.stop_reason = "declined"
            return True
        if self.stop_on_budget and self.tracker.budget_exceeded:
            if self.stop_reason is None:
                warnings.warn(
                    f"CarbonTracker: stopping the training: {self.tracker.budget_message}",
                    CarbonTrackerWarning,
                    stacklevel=3,
                )
            self.stop_reason = "budget"
            return True
        return False

    def end(self):
        """Training ended (finished, stopped early, or failed): reports the actual."""
        self._in_epoch = False
        if self.tracker is not None and self._owned:
            self.tracker.stop()
