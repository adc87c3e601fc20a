"""carbontracker: track and predict the energy and carbon footprint of training
deep learning models (Anthony, Kanding, Selvan 2020), over the C library.

The original's module paths work unchanged::

    from carbontracker.tracker import CarbonTracker
    from carbontracker import parser

The ``carbontracker`` command (``pip install ./python`` installs it) is the
C tool shipped in the package: see :mod:`carbontracker.cli`.

Standard library only at run time (ctypes over include/carbontracker.h).
"""

# Versions: 2.3 is the original carbontracker's API level this package
# implements (so that `carbontracker>=2` requirements are met); the local part
# after "+c." is the version of the C library it is built from
# (library_version()). Keep in step with pyproject.toml and CMakeLists.txt.
__version__ = "2.3.0+c.0.3.0"

__all__ = ["__version__", "library_version", "library_features", "library_path"]


def library_version():
    """Version string of the loaded C library (e.g. "0.3.0")."""
    from . import _capi

    return _capi.lib().ct_version().decode()


def library_features():
    """Optional features compiled into the C library, e.g. ["curl", "jansson"]."""
    from . import _capi

    return _capi.lib().ct_features().decode().split()


def library_path():
    """Path of the loaded C library."""
    from . import _capi

    return _capi.library_path()
