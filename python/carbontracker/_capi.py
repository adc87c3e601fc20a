"""ctypes mirror of the public C API (include/carbontracker.h).

Everything here follows the header exactly: the structs field by field, the
error codes, the function prototypes. The layouts are checked against the
loaded library with ``ct_sizeof()`` (and a few ``ct_config_init()`` defaults
are read back) before the library is used; a mismatch refuses to load with a
message that says which struct differs.

Which shared library is loaded, in order:
  1. the path in the environment variable ``CT_LIBRARY`` (tests, build trees);
  2. the copy built into this package at install time (``_lib/``);
  3. a system-wide ``libcarbontracker.so`` (``ctypes.util.find_library``).

Loading is lazy (first call of :func:`lib`), so ``carbontracker.parser`` and
the callback modules import without the library.
"""

import ctypes
import ctypes.util
import math
import os
import threading
from ctypes import (
    POINTER,
    Structure,
    c_char,
    c_char_p,
    c_double,
    c_int,
    c_size_t,
    c_void_p,
)

__all__ = [
    "COMPONENT_COUNT",
    "COMPONENT_NAMES",
    "INTENSITY_KINDS",
    "ERRORS",
    "ct_config",
    "ct_result",
    "ct_epoch_info",
    "ct_status",
    "ct_device_desc",
    "LibraryError",
    "lib",
    "library_path",
]

# ct_component
CT_COMPONENT_CPU = 0
CT_COMPONENT_GPU = 1
COMPONENT_COUNT = 2
COMPONENT_NAMES = ("cpu", "gpu")

# ct_intensity_kind, in enum order
INTENSITY_KINDS = ("default", "static", "fixed", "live", "forecast")

# CT_ERRNO_MAP: name -> value (append-only list in the header)
ERRORS = {
    "OK": 0,
    "EINVAL": -1,
    "ENOMEM": -2,
    "ENOSOURCE": -3,
    "ESTATE": -4,
    "EIO": -5,
    "ETHREAD": -6,
    "ESTOPPED": -7,
    "EBUDGET": -8,
    "EDECLINED": -9,
    "ENODATA": -10,
    "ENETWORK": -11,
    "EPARSE": -12,
    "ENOTSUP": -13,
}
CT_OK = 0
CT_EINVAL = -1
CT_ENOMEM = -2
CT_ENOSOURCE = -3
CT_ESTATE = -4
CT_EIO = -5
CT_ETHREAD = -6
CT_ESTOPPED = -7
CT_EBUDGET = -8
CT_EDECLINED = -9
CT_ENODATA = -10
CT_ENETWORK = -11
CT_EPARSE = -12
CT_ENOTSUP = -13
# ct_status.budget_exceeded bits (carbontracker.h)
CT_BUDGET_ENERGY = 1
CT_BUDGET_CO2 = 2

_N = COMPONENT_COUNT


class ct_config(Structure):
    """struct ct_config. Strings are borrowed by C until ct_tracker_new returns."""

    _fields_ = [
        ("epochs", c_int),
        ("epochs_before_pred", c_int),
        ("monitor_epochs", c_int),
        ("update_interval", c_double),
        ("interpretable", c_int),
        ("stop_and_confirm", c_int),
        ("ignore_errors", c_int),
        ("components", c_char_p),
        ("devices_by_pid", c_int),
        ("log_dir", c_char_p),
        ("log_file_prefix", c_char_p),
        ("verbose", c_int),
        ("decimal_precision", c_int),
        ("sim_cpu", c_char_p),
        ("sim_cpu_tdp", c_double),
        ("sim_cpu_util", c_double),
        ("sim_gpu", c_char_p),
        ("sim_gpu_watts", c_double),
        ("sim_gpu_util", c_double),
        ("pue", c_double),
        ("country", c_char_p),
        ("carbon_intensity", c_double),
        # budgets
        ("max_energy_kwh", c_double),
        ("max_co2_g", c_double),
        # live carbon intensity
        ("offline", c_int),
        ("zone", c_char_p),
        ("postcode", c_char_p),
        ("latitude", c_double),
        ("longitude", c_double),
        ("cloud_provider", c_char_p),
        ("cloud_region", c_char_p),
        ("electricitymaps_key", c_char_p),
        ("electricitymaps_key_file", c_char_p),
        ("intensity_refresh_s", c_double),
        # hardware shapes
        ("rapl_zones", c_char_p),
        ("all_ranks", c_int),
        # live status line on stderr: -1 auto (verbose >= 1 and a terminal), 0 never, 1 always
        ("status_line", c_int),
        # console text to a callback instead of stdout: OUTPUT_FN(user, level, text)
        ("output_fn", c_void_p),
        ("output_user", c_void_p),
        ("ct_reserved", c_double * 6),  # room to grow (carbontracker.h)
    ]


class ct_result(Structure):
    _fields_ = [
        ("epochs", c_int),
        ("duration_s", c_double),
        ("energy_kwh", c_double),
        ("energy_j", c_double * _N),
        ("has_component", c_int * _N),
        ("estimated", c_int * _N),
        ("co2eq_g", c_double),
        ("intensity_g_per_kwh", c_double),
        ("intensity_kind", c_int),
        ("intensity_source", c_char * 160),
        ("energy_kwh_low", c_double),
        ("energy_kwh_high", c_double),
        ("duration_s_low", c_double),
        ("duration_s_high", c_double),
        ("co2eq_g_low", c_double),
        ("co2eq_g_high", c_double),
        ("ct_reserved", c_double * 2),  # room to grow (carbontracker.h)
    ]


class ct_epoch_info(Structure):
    _fields_ = [
        ("epoch", c_int),
        ("start_unix_s", c_double),
        ("end_unix_s", c_double),
        ("duration_s", c_double),
        ("energy_j", c_double * _N),
        ("co2eq_g", c_double),
        ("ct_reserved", c_double * 8),  # room to grow (carbontracker.h)
    ]


class ct_status(Structure):
    _fields_ = [
        ("elapsed_s", c_double),
        ("epoch", c_int),
        ("epochs", c_int),
        ("in_epoch", c_int),
        ("power_w", c_double * _N),
        ("energy_j", c_double * _N),
        ("energy_kwh", c_double),
        ("co2eq_g", c_double),
        ("has_prediction", c_int),
        ("predicted_energy_kwh", c_double),
        ("predicted_co2eq_g", c_double),
        ("predicted_remaining_s", c_double),
        ("budget_exceeded", c_int),  # bit 0: energy budget, bit 1: CO2eq budget
        ("predicted_energy_kwh_low", c_double),  # the 90 % interval (issue 12)
        ("predicted_energy_kwh_high", c_double),
        ("ct_reserved", c_double * 6),  # room to grow (carbontracker.h)
    ]


class ct_device_desc(Structure):
    _fields_ = [
        ("component", c_int),
        ("name", c_char * 128),
        ("uuid", c_char * 96),
        ("method", c_char * 24),
        ("source", c_char * 24),
        ("estimated", c_int),
        ("lost", c_int),
        ("ct_reserved", c_double * 8),  # room to grow (carbontracker.h)
    ]


STRUCTS = {
    "ct_config": ct_config,
    "ct_result": ct_result,
    "ct_epoch_info": ct_epoch_info,
    "ct_status": ct_status,
    "ct_device_desc": ct_device_desc,
}

_T = c_void_p  # ct_tracker *

# name: (restype, argtypes)
_PROTOTYPES = {
    "ct_strerror": (c_char_p, [c_int]),
    "ct_version": (c_char_p, []),
    "ct_features": (c_char_p, []),
    "ct_component_name": (c_char_p, [c_int]),
    "ct_config_init": (None, [POINTER(ct_config)]),
    "ct_tracker_new": (c_int, [POINTER(ct_config), POINTER(c_void_p)]),
    "ct_epoch_start": (c_int, [_T]),
    "ct_epoch_end": (c_int, [_T]),
    "ct_stop": (c_int, [_T]),
    "ct_tracker_free": (None, [_T]),
    "ct_tracker_message": (c_char_p, [_T]),
    "ct_last_error_message": (c_char_p, []),
    "ct_get_actual": (c_int, [_T, POINTER(ct_result)]),
    "ct_get_predicted": (c_int, [_T, POINTER(ct_result)]),
    "ct_epoch_count": (c_int, [_T]),
    "ct_get_epoch": (c_int, [_T, c_int, POINTER(ct_epoch_info)]),
    "ct_get_status": (c_int, [_T, POINTER(ct_status)]),
    "ct_device_count": (c_int, [_T]),
    "ct_get_device": (c_int, [_T, c_int, POINTER(ct_device_desc)]),
    "ct_log_path": (c_char_p, [_T]),
    "ct_jsonl_path": (c_char_p, [_T]),
    "ct_sizeof": (c_size_t, [c_char_p]),
    "ct_format_duration": (None, [c_double, c_int, c_char_p, c_size_t]),
    "ct_set_confirm_fn": (c_int, [_T, c_void_p, c_void_p]),
    "ct_car_km": (c_double, [c_double]),
}

# int (*ct_confirm_fn)(void *user)
CONFIRM_FN = ctypes.CFUNCTYPE(c_int, c_void_p)
# ct_output_fn: void (*)(void *user, int level, const char *text)
OUTPUT_FN = ctypes.CFUNCTYPE(None, c_void_p, c_int, c_char_p)


class LibraryError(ImportError):
    """The C library could not be found, loaded, or does not match this package."""


_lock = threading.Lock()
_lib = None
_lib_path = None

_PKG_LIB_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_lib")


def _candidates():
    env = os.environ.get("CT_LIBRARY")
    if env:
        return [("CT_LIBRARY", env)], True
    out = []
    if os.path.isdir(_PKG_LIB_DIR):
        for name in sorted(os.listdir(_PKG_LIB_DIR)):
            # (libcarbontracker-report.so, the report's drawing code, is loaded by the library itself)
            if name.startswith("libcarbontracker") and ".so" in name and not name.startswith("libcarbontracker-"):
                out.append(("package", os.path.join(_PKG_LIB_DIR, name)))
    found = ctypes.util.find_library("carbontracker")
    if found:
        out.append(("system", found))
    return out, False


def _decode(b):
    return b.decode("utf-8", "replace") if b else ""


def check_layouts(handle, path="the library"):
    """Compares every mirrored struct's size with the C side; raises LibraryError."""
    problems = []
    for name, cls in STRUCTS.items():
        c_size = handle.ct_sizeof(name.encode())
        py_size = ctypes.sizeof(cls)
        if c_size != py_size:
            if c_size == 0:
                problems.append(f"{name} is unknown to ct_sizeof() in C (Python mirror: {py_size} bytes)")
            else:
                problems.append(f"sizeof({name}) is {c_size} bytes in C but {py_size} in Python")
    if not problems:
        # Same size could still hide a reordering: read back ct_config_init's
        # defaults that are the original's (they do not change), spread over the struct.
        cfg = ct_config()
        handle.ct_config_init(ctypes.byref(cfg))
        expect = {
            "epochs_before_pred": 1,
            "monitor_epochs": -1,
            "update_interval": 1.0,
            "interpretable": 1,
            "verbose": 1,
            "decimal_precision": 12,
            "sim_cpu_util": 0.5,
            "sim_gpu_util": 0.5,
        }
        for field, want in expect.items():
            got = getattr(cfg, field)
            if got != want:
                problems.append(f"ct_config.{field} reads {got!r} after ct_config_init(), expected {want!r}")
        if not (cfg.pue >= 1.0 and math.isfinite(cfg.pue)):
            problems.append(f"ct_config.pue reads {cfg.pue!r} after ct_config_init(), expected a PUE >= 1")
        if not (math.isnan(cfg.latitude) and math.isnan(cfg.longitude)):
            problems.append("ct_config.latitude/longitude are not NaN after ct_config_init()")
        if cfg.components != b"all" or cfg.log_file_prefix != b"":
            problems.append("ct_config string defaults (components, log_file_prefix) do not read back")
    if problems:
        raise LibraryError(
            f"carbontracker: the C library {path} does not match this Python package's mirror of "
            "include/carbontracker.h: " + "; ".join(problems) + ". Reinstall the package from the same "
            "source tree (pip install ./python) or point CT_LIBRARY at a library built from it."
        )


def _bind(handle):
    missing = []
    for name, (restype, argtypes) in _PROTOTYPES.items():
        try:
            fn = getattr(handle, name)
        except AttributeError:
            missing.append(name)
            continue
        fn.restype = restype
        fn.argtypes = argtypes
    return missing


def lib():
    """The loaded, checked library (ctypes.CDLL). Raises LibraryError."""
    global _lib, _lib_path
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is not None:
            return _lib
        cands, from_env = _candidates()
        if not cands:
            raise LibraryError(
                "carbontracker: the C library libcarbontracker.so was not found: it is built into the "
                "package by `pip install ./python` (needs cmake and a C compiler), or set CT_LIBRARY to "
                "the path of a built libcarbontracker.so (e.g. build/src/libcarbontracker.so)."
            )
        errors = []
        for origin, path in cands:
            try:
                handle = ctypes.CDLL(path)
            except OSError as e:
                errors.append(f"{path} ({origin}): {e}")
                if from_env:
                    break
                continue
            missing = _bind(handle)
            if missing:
                raise LibraryError(
                    f"carbontracker: {path} lacks the functions {', '.join(missing)}: it is not a "
                    "libcarbontracker matching this package (rebuild, or fix CT_LIBRARY)"
                )
            check_layouts(handle, path)
            _lib, _lib_path = handle, path
            return _lib
        raise LibraryError("carbontracker: could not load the C library: " + "; ".join(errors))


def library_path():
    """Path of the loaded library (loads it)."""
    lib()
    return _lib_path


def strerror(code):
    return _decode(lib().ct_strerror(code))


def optional(name, restype, argtypes):
    """A function the header may have gained later; None when the library lacks it."""
    fn = getattr(lib(), name, None)
    if fn is not None:
        fn.restype = restype
        fn.argtypes = argtypes
    return fn


# ----------------------------------------------------------------------
# Reports for carbontracker.report: (code, message) instead of an exception.

def report_render_code(path_in, path_out):
    """ct_report_render(path_in, path_out): returns (code, message)."""
    fn = optional("ct_report_render", c_int, [c_char_p, c_char_p])
    if fn is None:
        return CT_ENOTSUP, "this libcarbontracker has no ct_report_render"
    rc = fn(path_in, path_out)
    return rc, (_decode(lib().ct_last_error_message()) if rc else "")


# ---------------------------------------------------------------------------
# Results: parse and report (owned with src/results/; other parts of this
# file belong to the tracker bindings). Used by carbontracker.parser.
# ---------------------------------------------------------------------------
import json as _json  # noqa: E402
from ctypes import c_uint  # noqa: E402

CT_PARSE_RECURSIVE = 1
CT_RUNS_TEXT, CT_RUNS_JSON, CT_RUNS_CSV, CT_RUNS_LATEX = 0, 1, 2, 3

_RESULTS_PROTOTYPES = {
    "ct_parse_paths": (c_int, [POINTER(c_char_p), c_int, c_uint, POINTER(c_void_p)]),
    "ct_parse_dirs": (c_int, [POINTER(c_char_p), c_int, POINTER(c_void_p)]),
    "ct_runs_free": (None, [c_void_p]),
    "ct_runs_count": (c_int, [c_void_p]),
    "ct_runs_warning_count": (c_int, [c_void_p]),
    "ct_runs_warning": (c_char_p, [c_void_p, c_int]),
    "ct_runs_format": (c_int, [c_void_p, c_int, c_char_p, c_size_t]),
    "ct_text_log_json": (c_int, [c_char_p, c_char_p, c_char_p, c_size_t]),
    "ct_report_render": (c_int, [c_char_p, c_char_p]),
    "ct_report_render_panels": (c_int, [c_char_p, c_char_p]),
    "ct_report_render_job": (c_int, [c_char_p, c_char_p, c_char_p]),
}
_PROTOTYPES.update(_RESULTS_PROTOTYPES)


def _fsencode(p):
    return os.fsencode(p)


def _error(code, what):
    detail = _decode(lib().ct_last_error_message())
    return OSError(f"carbontracker: {what}: {detail or strerror(code)}")


def _snprintf_call(fn, *args):
    """Calls a C function with snprintf semantics (buf, len last): the whole text."""
    n = fn(*args, None, 0)
    if n < 0:
        raise _error(n, fn.__name__)
    buf = ctypes.create_string_buffer(n + 1)
    n2 = fn(*args, buf, n + 1)
    if n2 < 0:
        raise _error(n2, fn.__name__)
    return buf.raw[:n2].decode("utf-8", "replace")


def parse_runs(paths, recursive=False, fmt=CT_RUNS_JSON):
    """ct_parse_paths over paths: (document, warnings). document is the
    parsed JSON (fmt=CT_RUNS_JSON: {"total", "runs", "warnings"}) or the text
    of another format."""
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    L = lib()
    arr = (c_char_p * len(paths))(*[_fsencode(p) for p in paths])
    runs = c_void_p()
    rc = L.ct_parse_paths(arr, len(paths), CT_PARSE_RECURSIVE if recursive else 0, ctypes.byref(runs))
    if rc:
        raise _error(rc, "parse")
    try:
        warns = [_decode(L.ct_runs_warning(runs, i)) for i in range(L.ct_runs_warning_count(runs))]
        text = _snprintf_call(L.ct_runs_format, runs, fmt)
    finally:
        L.ct_runs_free(runs)
    return (_json.loads(text) if fmt == CT_RUNS_JSON else text), warns


def text_log(std_text=None, out_text=None):
    """ct_text_log_json: one standard log and its output log (bytes or str;
    either may be None) as the library reads them (a dict)."""

    def enc(t):
        if t is None:
            return None
        return t.encode("utf-8", "surrogateescape") if isinstance(t, str) else bytes(t)

    return _json.loads(_snprintf_call(lib().ct_text_log_json, enc(std_text), enc(out_text)))


def report_render(path_in, path_out, panels=False):
    """ct_report_render (or ct_report_render_panels); raises OSError."""
    L = lib()
    fn = L.ct_report_render_panels if panels else L.ct_report_render
    rc = fn(_fsencode(path_in), _fsencode(path_out))
    if rc:
        raise _error(rc, "report")


# ---------------------------------------------------------------------------
# Progress within an epoch (issue 12): int ct_epoch_progress(ct_tracker *, double fraction)

_PROTOTYPES["ct_epoch_progress"] = (c_int, [_T, c_double])
