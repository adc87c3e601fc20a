"""The context manager of one epoch: `with tracker.epoch(): ...`."""

from .exceptions import CarbonTrackerError


class EpochContext:
    """`with tracker.epoch():` marks one epoch (ours, not in the original).
    On an exception in the block the tracker is stopped and the exception
    goes on unchanged."""

    __slots__ = ("_t",)

    def __init__(self, tracker):
        self._t = tracker

    def __enter__(self):
        self._t.epoch_start()
        return self._t

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self._t.epoch_end()
        else:
            try:
                self._t.stop()
            except CarbonTrackerError:
                pass  # do not hide the training's own exception
        return False
