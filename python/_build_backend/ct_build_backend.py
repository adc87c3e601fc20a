"""PEP 517 backend: setuptools' own, asking for cmake from PyPI only when the
machine has none (the package's build runs CMake on the repository's C sources)."""

import shutil

from setuptools import build_meta as _orig
from setuptools.build_meta import *  # noqa: F401,F403

__all__ = list(getattr(_orig, "__all__", [])) or [n for n in dir(_orig) if not n.startswith("_")]


def _cmake():
    return [] if shutil.which("cmake") else ["cmake>=3.16"]


def get_requires_for_build_wheel(config_settings=None):
    return _orig.get_requires_for_build_wheel(config_settings) + _cmake()


def get_requires_for_build_editable(config_settings=None):
    return _orig.get_requires_for_build_editable(config_settings) + _cmake()
