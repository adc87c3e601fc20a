"""Exceptions and warnings of the carbontracker package.

Every error the C library reports becomes a :class:`CarbonTrackerError` (or a
subclass chosen by its code), unless the tracker was created with
``ignore_errors=True``: then a :class:`CarbonTrackerWarning` is issued,
monitoring stops and training goes on (the original's behaviour, without its
``sys.exit(70)``).
"""

from ._capi import LibraryError  # noqa: F401  (re-exported)


class CarbonTrackerError(Exception):
    """An error reported by the C library.

    Attributes: ``code`` (the negative CT_E* value), ``name`` (e.g. "EINVAL"),
    ``message`` (the library's detail, e.g. which file or option).
    """

    def __init__(self, message="", code=None, name=None):
        # message optional: the original's classes are raised without arguments.
        if message:
            super().__init__(message)
        else:
            super().__init__()
        self.message = message
        self.code = code
        self.name = name


class InvalidArgumentError(CarbonTrackerError, ValueError):
    """CT_EINVAL: an invalid option (also a ValueError, as in the original)."""


class NoComponentsAvailableError(CarbonTrackerError):
    """CT_ENOSOURCE: no energy source for a requested component (the original's name).

    Constructible as the original's: with no argument it carries the
    original's default message."""

    def __init__(self, message=("No components were available. CarbonTracker supports Intel "
                                "CPUs with the RAPL interface and NVIDIA GPUs."), code=None, name=None):
        super().__init__(message, code, name)


class StateError(CarbonTrackerError):
    """CT_ESTATE: calls out of order, e.g. epoch_end() without epoch_start()."""


class MeasurementError(CarbonTrackerError):
    """CT_EIO / CT_ETHREAD / CT_ENOMEM: the measurement itself failed."""


class NetworkError(CarbonTrackerError):
    """CT_ENETWORK: a carbon intensity service failed."""


class NotSupportedError(CarbonTrackerError):
    """CT_ENOTSUP: a feature not compiled into the library."""


class BudgetExceededError(CarbonTrackerError):
    """CT_EBUDGET with ``on_budget="raise"``: the predicted (or actual so far)
    energy or CO2eq exceeds ``max_energy_kwh`` / ``max_co2_g``. The epoch was
    recorded; catch it to go on, or let it end the training (the tracker's
    context manager or ``stop()`` then reports the actual consumption)."""


class FetcherNameError(InvalidArgumentError):
    """An unknown API name in ``api_keys`` (the original's name)."""


class TrainingDeclined(SystemExit):
    """The user answered "n" to "Continue training (y/n)?" (``stop_and_confirm``).

    The original calls ``sys.exit(0)``; this is a ``SystemExit`` with code 0 too,
    so an uncaught one ends a script quietly (and a Jupyter cell without killing
    the kernel), but it can be caught by its own class. Monitoring is stopped
    (the actual consumption so far is reported) before it is raised.
    """

    def __init__(self, message="Training stopped by the user after the prediction."):
        super().__init__(0)
        self.message = message

    def __str__(self):
        return self.message


class MismatchedLogFilesError(Exception):
    """Log files that cannot be paired (the original's name)."""


class MismatchedEpochsError(Exception):
    """A standard log with a different number of epoch durations and power lines."""


# The original's other exception names, so that code catching them still imports.
# This package reports those failures as the classes above (the library's codes);
# these are never raised here.
class ComponentNameError(InvalidArgumentError):
    pass


class CPUError(MeasurementError):
    pass


class GPUError(MeasurementError):
    pass


class GPUPowerUsageRetrievalError(MeasurementError):
    pass


class IntelRaplPermissionError(MeasurementError):
    """No permission to read the RAPL energy files (the original's signature:
    ``IntelRaplPermissionError(file_names)``)."""

    def __init__(self, file_names=None, message=""):
        self.file_names = list(file_names) if file_names is not None else []
        if not message and self.file_names:
            message = "no permission to read " + ", ".join(map(str, self.file_names))
        super().__init__(message)


class UnitError(CarbonTrackerError):
    """An unexpected unit (the original's signature:
    ``UnitError(expected_unit, received_unit, message)``)."""

    def __init__(self, expected_unit=None, received_unit=None, message=""):
        self.expected_unit = expected_unit
        self.received_unit = received_unit
        super().__init__(message)


class CarbonIntensityFetcherError(NetworkError):
    pass


class IPLocationError(NetworkError):
    pass


class CarbonTrackerWarning(UserWarning):
    """Ignored errors (``ignore_errors=True``) and other notices from the package."""


class BudgetExceededWarning(CarbonTrackerWarning):
    """CT_EBUDGET with ``on_budget="warn"`` (the default)."""


_BY_NAME = {
    "EINVAL": InvalidArgumentError,
    "ENOSOURCE": NoComponentsAvailableError,
    "ESTATE": StateError,
    "EIO": MeasurementError,
    "ETHREAD": MeasurementError,
    "ENOMEM": MeasurementError,
    "ENETWORK": NetworkError,
    "ENOTSUP": NotSupportedError,
    "EBUDGET": BudgetExceededError,
}


def error_class(name):
    return _BY_NAME.get(name, CarbonTrackerError)
