"""Builds the package's copy of libcarbontracker.so with CMake.

Where the C sources are, in order:
  1. the environment variable CT_SOURCE_DIR (a checkout of the repository);
  2. the parent of this directory: ``pip install ./python`` from a clone
     (pip >= 21.3 builds in place, so ``..`` is the repository);
  3. ``_csrc/`` next to this file: the copy an sdist carries (``sdist`` below
     puts the C sources there), for builds from an sdist or a temporary copy.

The library is configured with the repository's defaults: optional features
(libcurl, jansson, cairo) are used when found and left out otherwise; tests
and benchmarks are off; warnings are not errors (CT_WERROR=OFF). Extra CMake arguments: env CT_CMAKE_ARGS.
The result is copied to carbontracker/_lib/libcarbontracker.so, which the
package loads with ctypes (it is not a Python extension module, so the wheel
is tagged py3-none-<platform>), and the command-line tool (CMake target
carbontracker_cli, linked with the static library) to
carbontracker/_bin/carbontracker, which the `carbontracker` console script
(carbontracker.cli:main) runs.
"""

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext as _build_ext
from setuptools.command.sdist import sdist as _sdist

HERE = Path(__file__).resolve().parent
LIB_EXT = "carbontracker._lib.libcarbontracker"
CLI_TARGET = "carbontracker_cli"  # cli/CMakeLists.txt; its file is cli/carbontracker
C_DIRS = ("cmake", "include", "src", "data", "cli", "examples")
C_FILES = ("CMakeLists.txt", "carbontracker.pc.in", "LICENSE", "COPYING")


def _is_c_root(p):
    return (p / "CMakeLists.txt").is_file() and (p / "include" / "carbontracker.h").is_file() and (p / "src").is_dir()


def find_c_sources():
    env = os.environ.get("CT_SOURCE_DIR")
    if env:
        p = Path(env).resolve()
        if not _is_c_root(p):
            sys.exit(f"carbontracker: CT_SOURCE_DIR={env} is not the carbontracker repository "
                     "(no CMakeLists.txt, include/carbontracker.h and src/ there)")
        return p
    for p in (HERE.parent, HERE / "_csrc"):
        if _is_c_root(p):
            return p
    sys.exit(
        "carbontracker: the C sources were not found next to the Python package (looked in "
        f"{HERE.parent} and {HERE / '_csrc'}). Install from a clone of the repository with "
        "`pip install ./python` (pip >= 21.3 builds in place), or set CT_SOURCE_DIR to the clone."
    )


class CMakeLibrary(Extension):
    """The C library, built by CMake (not a Python extension module)."""

    def __init__(self, name):
        super().__init__(name, sources=[])


class build_ext(_build_ext):
    def get_ext_filename(self, fullname):
        # Called with the full dotted name or, by get_ext_fullpath, with its last part.
        if fullname == LIB_EXT:
            return os.path.join(*LIB_EXT.split(".")) + ".so"
        if fullname == LIB_EXT.rsplit(".", 1)[1]:
            return fullname + ".so"
        return super().get_ext_filename(fullname)

    def copy_extensions_to_source(self):
        # Editable installs put the library next to the sources: carbontracker/_lib/,
        # and the tool in carbontracker/_bin/.
        (HERE / "carbontracker" / "_lib").mkdir(exist_ok=True)
        super().copy_extensions_to_source()
        built = Path(self.build_lib) / "carbontracker" / "_bin" / "carbontracker"  # inplace is set here
        if built.is_file():
            _install_tool(built, HERE / "carbontracker" / "_bin" / "carbontracker")

    def build_extension(self, ext):
        if not isinstance(ext, CMakeLibrary):
            return super().build_extension(ext)
        src = find_c_sources()
        cmake = shutil.which("cmake")
        if not cmake:
            sys.exit("carbontracker: cmake (>= 3.16) is needed to build the C library: install it "
                     "(e.g. apt-get install cmake, or pip install cmake)")
        build_dir = Path(self.build_temp).resolve() / "cmake"
        cache = build_dir / "CMakeCache.txt"
        if cache.is_file():
            text = cache.read_text(errors="replace")
            if f"CMAKE_HOME_DIRECTORY:INTERNAL={src}\n" not in text:
                shutil.rmtree(build_dir)  # configured for another source tree
        build_dir.mkdir(parents=True, exist_ok=True)
        configure = [
            cmake, "-S", str(src), "-B", str(build_dir),
            "-DCT_BUILD_TESTS=OFF", "-DCT_BUILD_BENCH=OFF",
            # A user's newer compiler may warn where ours does not: do not fail
            # their install on a warning (used once the project has this option).
            "-DCT_WERROR=OFF",
            "-DCT_WITH_CURL=AUTO", "-DCT_WITH_JANSSON=AUTO", "-DCT_WITH_CAIRO=AUTO",
        ] + shlex.split(os.environ.get("CT_CMAKE_ARGS", ""))
        print("carbontracker: " + " ".join(shlex.quote(a) for a in configure), flush=True)
        subprocess.check_call(configure)
        jobs = str(max(1, os.cpu_count() or 1))
        targets = ["--target", "carbontracker", "--target", CLI_TARGET]
        # The report's drawing code (cairo) is its own library, loaded by the
        # library on first use from the folder it lies in: built when cairo was found.
        with_report = "CT_WITH_CAIRO_PKG_FOUND:INTERNAL=1" in cache.read_text(errors="replace")
        if with_report:
            targets += ["--target", "carbontracker_report"]
        subprocess.check_call([cmake, "--build", str(build_dir)] + targets + ["-j", jobs])
        built = build_dir / "src" / "libcarbontracker.so"
        if not built.exists():
            sys.exit(f"carbontracker: CMake finished but {built} is missing")
        try:  # fail here, not at the first import, when the library cannot load
            import ctypes

            ctypes.CDLL(str(built))
        except OSError as e:
            sys.exit(f"carbontracker: the library built from {src} does not load: {e}")
        dest = Path(self.get_ext_fullpath(ext.name))
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(os.path.realpath(built), dest)
        print(f"carbontracker: {os.path.realpath(built)} -> {dest}", flush=True)
        tool = build_dir / "cli" / "carbontracker"
        if not tool.is_file():
            sys.exit(f"carbontracker: CMake finished but the command-line tool {tool} is missing")
        _install_tool(tool, dest.parent.parent / "_bin" / "carbontracker")
        if with_report:
            report = build_dir / "src" / "libcarbontracker-report.so"
            if not report.exists():
                sys.exit(f"carbontracker: CMake finished but {report} is missing")
            # Beside the library (Python's reports) and beside the tool (its `report`).
            for folder in (dest.parent, dest.parent.parent / "_bin"):
                shutil.copyfile(os.path.realpath(report), folder / "libcarbontracker-report.so")
                print(f"carbontracker: {os.path.realpath(report)} -> {folder}", flush=True)


def _install_tool(src, dest):
    """Copies the command-line tool, executable (the wheel keeps the mode)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(os.path.realpath(src), dest)
    os.chmod(dest, 0o755)
    print(f"carbontracker: {os.path.realpath(src)} -> {dest}", flush=True)


class sdist(_sdist):
    """Carries the C sources in the sdist (as _csrc/), so it builds on its own."""

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        src = find_c_sources()
        dest = Path(base_dir) / "_csrc"
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir()
        ignore = shutil.ignore_patterns("build", "build-*", "__pycache__", "*.o", "*.so*")
        for name in C_FILES:
            if (src / name).is_file():
                shutil.copy2(src / name, dest / name)
        for name in C_DIRS:
            if (src / name).is_dir():
                shutil.copytree(src / name, dest / name, ignore=ignore)


cmdclass = {"build_ext": build_ext, "sdist": sdist}

try:
    from setuptools.command.bdist_wheel import bdist_wheel as _bdist_wheel
except ImportError:
    try:
        from wheel.bdist_wheel import bdist_wheel as _bdist_wheel
    except ImportError:
        _bdist_wheel = None

if _bdist_wheel is not None:

    class bdist_wheel(_bdist_wheel):
        """ctypes, no CPython ABI: any Python 3 on this platform."""

        def get_tag(self):
            _, _, plat = super().get_tag()
            return "py3", "none", plat

    cmdclass["bdist_wheel"] = bdist_wheel

setup(ext_modules=[CMakeLibrary(LIB_EXT)], cmdclass=cmdclass)
