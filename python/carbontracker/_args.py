"""The constructor's numbers as the C library takes them: whole epoch counts,
integers and finite numbers, with the errors (InvalidArgumentError) the
original's arguments get."""

import math
import operator

from .exceptions import InvalidArgumentError


def whole(name, value, fraction_up=False):
    """A count of epochs as the library takes it: an int, or a float with a
    whole value; with fraction_up a fractional float is rounded up."""
    if isinstance(value, bool):
        return int(value)
    try:
        return operator.index(value)
    except TypeError:
        pass
    try:
        if isinstance(value, (str, bytes)):
            raise TypeError(value)
        v = float(value)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"{name} must be a number of epochs (got {value!r})", -1, "EINVAL") from None
    if not math.isfinite(v):
        raise InvalidArgumentError(f"{name} must be finite (got {value!r})", -1, "EINVAL")
    if v.is_integer():
        return int(v)
    if fraction_up:
        return int(math.ceil(v))
    raise InvalidArgumentError(f"{name} must be a whole number of epochs (got {value!r})", -1, "EINVAL")


def integer(name, value):
    try:
        return operator.index(value)
    except TypeError:
        raise InvalidArgumentError(f"{name} must be an integer (got {value!r})", -1, "EINVAL") from None


def number(name, value):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"{name} must be a number (got {value!r})", -1, "EINVAL") from None
    if math.isinf(v):
        raise InvalidArgumentError(f"{name} must be finite (got {value!r})", -1, "EINVAL")
    return v
