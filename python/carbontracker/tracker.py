"""CarbonTracker: the original's class, over the C library.

    from carbontracker.tracker import CarbonTracker

    tracker = CarbonTracker(epochs=max_epochs)
    for epoch in range(max_epochs):
        tracker.epoch_start()
        train_one_epoch()
        tracker.epoch_end()
    tracker.stop()

The constructor takes the original's keyword arguments with the original's
defaults, plus this implementation's options (keyword only). Measurement,
prediction, printing and log files are done by the C library; this module
only converts arguments, results and errors.
"""

import builtins
import ctypes
import os
import sys
import warnings
import weakref
from typing import Dict, List, Optional

from . import _capi, _console
from ._epoch import EpochContext
from ._args import integer as _int
from ._args import number as _num
from ._args import whole as _whole
from ._capi import COMPONENT_NAMES
from ._values import (  # the value types are this module's names too (the original's paths)
    ComponentEnergy,
    Device,
    EpochResult,
    Result,
    Status,
    _device,
    _epoch_result,
    _result,
    _s,
    _status,
)
from .exceptions import (
    BudgetExceededError,
    BudgetExceededWarning,
    CarbonTrackerError,
    CarbonTrackerWarning,
    FetcherNameError,
    InvalidArgumentError,
    TrainingDeclined,
    error_class,
)

__all__ = [
    "CarbonTracker",
    "ComponentEnergy",
    "Result",
    "EpochResult",
    "Device",
    "Status",
]

_CODE_NAMES = {v: k for k, v in _capi.ERRORS.items()}
_EBUDGET = _capi.CT_EBUDGET
_ESTOPPED = _capi.CT_ESTOPPED
_EDECLINED = _capi.CT_EDECLINED
_ENODATA = _capi.CT_ENODATA
_ESTATE = _capi.CT_ESTATE

# API keys set with set_api_keys(): like the original (a class-level key of its
# fetcher), they apply to every tracker created afterwards.
_API_KEYS: Dict[str, str] = {}
_API_NAMES = ("electricitymaps",)


def _flush_c_stdout():
    """Flushes C stdio so the library's printed prediction precedes a Python prompt."""
    try:
        ctypes.CDLL(None).fflush(None)
    except Exception:  # pragma: no cover - not fatal
        pass


class CarbonTracker:
    """Tracks and predicts the energy and carbon footprint of a training run.

    Arguments as the original carbontracker 2.x (same names, order and
    defaults; None means the library's default):

    epochs, epochs_before_pred=1, monitor_epochs=-1, update_interval=1,
    interpretable=True, stop_and_confirm=False, ignore_errors=False,
    components="all", devices_by_pid=False, log_dir=None, log_file_prefix="",
    verbose=1, decimal_precision=12, api_keys=None, sim_cpu=None,
    sim_cpu_tdp=None, sim_cpu_util=None, sim_gpu=None, sim_gpu_watts=None,
    sim_gpu_util=None.

    Keyword-only additions: pue (default 1.58), country (ISO 3166-1 alpha-2/alpha-3 or English name),
    carbon_intensity (fixed gCO2eq/kWh), max_energy_kwh and max_co2_g
    (budgets), on_budget ("warn" or "raise"), offline, zone, postcode,
    latitude, longitude, cloud_provider, cloud_region,
    electricitymaps_key_file, intensity_refresh_s, rapl_zones ("auto" or
    "psys"), all_ranks, status_line (a live status line on stderr; off
    unless True: in-process it would write into the training's own output),
    strict (False: epoch_start() twice or epoch_end() without a start warns
    and is ignored, as the original carries on; True: raises StateError).

    The arguments are kept as attributes as given (``monitor_epochs=-1``
    stays -1, ``epochs=2.5`` stays 2.5; a fractional ``epochs`` measures and
    predicts ceil(epochs) epochs). Console text goes through ``sys.stdout``
    (so ``contextlib.redirect_stdout`` and notebooks capture it) in the
    original's words; the output log gets the same messages.

    Errors raise :class:`carbontracker.exceptions.CarbonTrackerError`
    subclasses, unless ``ignore_errors`` is true: then a warning is issued,
    monitoring stops and the training goes on. Invalid arguments always raise
    (``InvalidArgumentError``, a ``ValueError``).
    """

    def __init__(
        self,
        epochs,
        epochs_before_pred=1,
        monitor_epochs=-1,
        update_interval=1,
        interpretable=True,
        stop_and_confirm=False,
        ignore_errors=False,
        components="all",
        devices_by_pid=False,
        log_dir=None,
        log_file_prefix="",
        verbose=1,
        decimal_precision=12,
        api_keys=None,
        sim_cpu=None,
        sim_cpu_tdp=None,
        sim_cpu_util=None,
        sim_gpu=None,
        sim_gpu_watts=None,
        sim_gpu_util=None,
        *,
        pue=None,
        country=None,
        carbon_intensity=None,
        max_energy_kwh=None,
        max_co2_g=None,
        on_budget="warn",
        offline=None,
        zone=None,
        postcode=None,
        latitude=None,
        longitude=None,
        cloud_provider=None,
        cloud_region=None,
        electricitymaps_key_file=None,
        intensity_refresh_s=None,
        rapl_zones=None,
        all_ranks=None,
        status_line=None,
        strict=False,
    ):
        # State first, so that a failing constructor leaves a harmless object.
        self._h = None
        self._finalizer = None
        self._active = False
        self._stopped = True
        self._snapshot = None
        self.deleted = True
        self.epoch_counter = 0
        self.budget_exceeded = False
        self.budget_message = ""

        self.ignore_errors = bool(ignore_errors)
        if on_budget not in ("warn", "raise"):
            raise InvalidArgumentError(f'on_budget must be "warn" or "raise" (got {on_budget!r})', -1, "EINVAL")
        self.on_budget = on_budget
        # The original keeps its arguments as given (monitor_epochs=-1 stays
        # -1); the library gets whole numbers. epochs may be a float
        # (transformers' num_train_epochs is one): a fractional count of
        # epochs runs ceil(epochs) epoch loops, which is what is measured and
        # predicted.
        self.epochs = epochs
        self._c_epochs = _whole("epochs", epochs, fraction_up=True)
        c_before = _whole("epochs_before_pred", epochs_before_pred)
        c_monitor = _whole("monitor_epochs", monitor_epochs)
        self.epochs_before_pred = epochs_before_pred
        self.monitor_epochs = monitor_epochs
        # Resolved as the library does (-1 = all epochs).
        self._monitor = self._c_epochs if c_monitor < 0 else c_monitor
        self.stop_and_confirm = bool(stop_and_confirm)
        self.verbose = verbose
        self.decimal_precision = decimal_precision
        self.interpretable = interpretable
        self.update_interval = update_interval
        self.components = components
        self.devices_by_pid = devices_by_pid
        self.log_dir = log_dir
        self.log_file_prefix = log_file_prefix
        self.api_keys = api_keys
        self.sim_cpu = sim_cpu
        self.sim_cpu_tdp = sim_cpu_tdp
        self.sim_cpu_util = sim_cpu_util
        self.sim_gpu = sim_gpu
        self.sim_gpu_watts = sim_gpu_watts
        self.sim_gpu_util = sim_gpu_util
        self.strict = bool(strict)
        # The original's checks, with its messages (before the library's own).
        if sim_cpu is not None and sim_cpu_tdp is None:
            raise InvalidArgumentError("When using simulated CPU (sim_cpu), you must also specify the CPU TDP "
                                       "(sim_cpu_tdp)", -1, "EINVAL")
        if sim_gpu is not None and sim_gpu_watts is None:
            raise InvalidArgumentError("When using simulated GPU (sim_gpu), you must also specify the GPU power "
                                       "consumption (sim_gpu_watts)", -1, "EINVAL")
        console_verbose = _int("verbose", verbose)
        if console_verbose not in (0, 1, 2):
            raise InvalidArgumentError(f"verbose must be 0, 1 or 2 (got {verbose!r})", -1, "EINVAL")
        precision = _int("decimal_precision", decimal_precision)
        if precision < 0:
            raise InvalidArgumentError(f"decimal_precision must be >= 0 (got {decimal_precision!r})", -1, "EINVAL")

        keys = dict(_API_KEYS)
        if api_keys is not None:
            keys.update(self._check_api_keys(api_keys))

        try:
            lib = _capi.lib()
        except _capi.LibraryError as e:
            if self.ignore_errors:
                self._ignored("loading the C library", str(e))
                return
            raise

        cfg = _capi.ct_config()
        lib.ct_config_init(ctypes.byref(cfg))
        keep = []  # encoded strings must live until ct_tracker_new returns

        def text(v, path=False):
            b = os.fsencode(v) if path else str(v).encode("utf-8")
            keep.append(b)
            return b

        cfg.epochs = self._c_epochs
        cfg.epochs_before_pred = c_before
        cfg.monitor_epochs = c_monitor
        cfg.update_interval = _num("update_interval", update_interval)
        cfg.interpretable = 1 if interpretable else 0
        # The library asks through a Python callback (ct_set_confirm_fn), so
        # input() serves a terminal and Jupyter alike, and the library still
        # logs the answer and stops itself on "n".
        cfg.stop_and_confirm = 1 if self.stop_and_confirm else 0
        # Errors always come back to Python, which applies ignore_errors itself
        # (warn, stop monitoring, go on training), so that an ignored call is
        # never mistaken for a recorded epoch.
        cfg.ignore_errors = 0
        if components is not None:
            cfg.components = text(components)
        cfg.devices_by_pid = 1 if devices_by_pid else 0
        if log_dir is not None:
            # The library creates it (with parents), as the original does.
            cfg.log_dir = text(log_dir, path=True)
        if log_file_prefix is not None:
            cfg.log_file_prefix = text(log_file_prefix)
        # The library prints with C stdio, which redirect_stdout and notebooks
        # do not see: it hands its console text to a Python function instead,
        # which writes it to sys.stdout (_console). The function lives as long
        # as the C tracker (the finalizer holds it).
        cfg.verbose = console_verbose
        output = _console.Output()
        cfg.output_fn = ctypes.cast(output.fn, ctypes.c_void_p)
        cfg.decimal_precision = min(precision, 64)
        for name, value, is_text in (
            ("sim_cpu", sim_cpu, True),
            ("sim_cpu_tdp", sim_cpu_tdp, False),
            ("sim_cpu_util", sim_cpu_util, False),
            ("sim_gpu", sim_gpu, True),
            ("sim_gpu_watts", sim_gpu_watts, False),
            ("sim_gpu_util", sim_gpu_util, False),
            ("pue", pue, False),
            ("country", country, True),
            ("carbon_intensity", carbon_intensity, False),
            ("max_energy_kwh", max_energy_kwh, False),
            ("max_co2_g", max_co2_g, False),
            ("zone", zone, True),
            ("postcode", postcode, True),
            ("latitude", latitude, False),
            ("longitude", longitude, False),
            ("cloud_provider", cloud_provider, True),
            ("cloud_region", cloud_region, True),
            ("intensity_refresh_s", intensity_refresh_s, False),
            ("rapl_zones", rapl_zones, True),
        ):
            if value is None:
                continue
            setattr(cfg, name, text(value) if is_text else _num(name, value))
        if electricitymaps_key_file is not None:
            cfg.electricitymaps_key_file = text(electricitymaps_key_file, path=True)
        if offline is not None:
            cfg.offline = 1 if offline else 0
        if all_ranks is not None:
            cfg.all_ranks = 1 if all_ranks else 0
        # In-process the status line is off unless asked for: it would write
        # into the training's own output.
        cfg.status_line = 1 if status_line else 0
        if keys.get("electricitymaps"):
            cfg.electricitymaps_key = text(keys["electricitymaps"])
        self.pue = cfg.pue

        handle = ctypes.c_void_p()
        rc = lib.ct_tracker_new(ctypes.byref(cfg), ctypes.byref(handle))
        del keep
        if rc != 0 or not handle.value:
            msg = _s(lib.ct_last_error_message()) or _s(lib.ct_strerror(rc))
            name = _CODE_NAMES.get(rc, str(rc))
            if self.ignore_errors and name != "EINVAL":
                self._ignored("creating the tracker", msg)
                return
            raise error_class(name)(msg, rc, name)

        self._lib = lib
        self._h = handle
        # Frees the C tracker (which stops it; what was measured is reported)
        # when this object is collected or at interpreter exit.
        self._finalizer = weakref.finalize(self, _console.free_tracker, output, lib.ct_tracker_free, handle,
                                           os.getpid())
        self._pid = os.getpid()
        self._c_start = lib.ct_epoch_start
        self._c_end = lib.ct_epoch_end
        self._confirm_exc = None
        if self.stop_and_confirm:
            # Kept on self: the C library holds only the function pointer.
            self._confirm_cb = _capi.CONFIRM_FN(self._confirm_answer)
            lib.ct_set_confirm_fn(handle, ctypes.cast(self._confirm_cb, ctypes.c_void_p), None)
        self._active = True
        self._stopped = False
        self.deleted = False

    # ------------------------------------------------------------------
    # The original's methods

    def epoch_start(self):
        """Starts measuring an epoch. Call at the beginning of each epoch."""
        if self._active:
            rc = self._c_start(self._h)
            if rc:
                self._on_error(rc, "epoch_start")

    def epoch_end(self):
        """Ends the epoch: records it, prints the prediction after
        ``epochs_before_pred`` epochs and the actual consumption when
        ``monitor_epochs`` is reached."""
        if not self._active:
            return
        rc = self._c_end(self._h)
        if rc == 0 or rc == _EBUDGET:
            self.epoch_counter += 1
            if self.epoch_counter >= self._monitor:
                # The library has stopped monitoring (as the original's _delete()).
                self._active = False
                self._stopped = True
                self.deleted = True
            if rc:
                self._on_budget()
            return
        if rc == _EDECLINED:
            # The epoch was recorded; the library reported the actual consumption and stopped.
            self.epoch_counter += 1
            self._active = False
            self._stopped = True
            self.deleted = True
            exc, self._confirm_exc = self._confirm_exc, None
            if exc is not None:
                raise exc
            raise TrainingDeclined()
        self._on_error(rc, "epoch_end")

    def epoch(self):
        """Context manager for one epoch: ``with tracker.epoch(): train_one_epoch()``.

        Calls epoch_start() on entry and epoch_end() on a normal exit. When the
        body raises, the tracker is stopped (the epoch in progress is counted and
        the actual consumption reported) and the exception goes on."""
        return EpochContext(self)

    def stop(self):
        """Ends monitoring and reports the actual consumption of the epochs so
        far (an epoch in progress is closed first). Idempotent. Call it when
        training stops before all monitored epochs."""
        if self._h is None or self._stopped:
            return
        self._stopped = True
        self._active = False
        self.deleted = True
        rc = self._lib.ct_stop(self._h)
        if rc and rc != _ESTOPPED:
            self._on_error(rc, "stop")

    def set_api_keys(self, api_dict):
        """Sets API keys ({"electricitymaps": "KEY"}) for carbon intensity services.

        As in the original, the keys are kept for every tracker created
        afterwards. The library takes keys when a tracker is created: pass
        ``api_keys=`` to the constructor for this tracker to use them.
        """
        keys = self._check_api_keys(api_dict)
        _API_KEYS.update(keys)
        if self._h is not None and keys:
            warnings.warn(
                "CarbonTracker: API keys set after the tracker was created apply to trackers created "
                "afterwards; pass api_keys= to CarbonTracker() to use them for this one",
                CarbonTrackerWarning,
                stacklevel=2,
            )

    # ------------------------------------------------------------------
    # Context manager and lifetime

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.stop()
        else:
            try:
                self.stop()
            except CarbonTrackerError:
                pass  # do not hide the training's own exception
        return False

    def close(self):
        """Stops monitoring and frees the C tracker. The results stay readable."""
        if self._h is None:
            return
        try:
            self.stop()
        finally:
            self._snapshot = (self.actual, self.predicted, self.epoch_results, self.devices)
            self._finalizer()
            self._h = None

    # ------------------------------------------------------------------
    # Results

    @property
    def actual(self) -> Optional[Result]:
        """Actual consumption so far (or at the end); None before the first epoch ends."""
        return self._get_result("actual")

    @property
    def predicted(self) -> Optional[Result]:
        """Predicted consumption of all epochs; None before the prediction."""
        return self._get_result("predicted")

    def _get_result(self, kind):
        if self._h is None:
            if self._snapshot:
                return self._snapshot[0 if kind == "actual" else 1]
            return None
        r = _capi.ct_result()
        fn = self._lib.ct_get_actual if kind == "actual" else self._lib.ct_get_predicted
        rc = fn(self._h, ctypes.byref(r))
        if rc == _ENODATA:
            return None
        if rc:
            self._raise(rc)
        return _result(kind, r)

    @property
    def epoch_results(self) -> List[EpochResult]:
        """Every finished epoch, in order (energy in J per measured component)."""
        if self._h is None:
            return list(self._snapshot[2]) if self._snapshot else []
        lib, h = self._lib, self._h
        comps = self._measured_components()
        out = []
        info = _capi.ct_epoch_info()
        for i in range(lib.ct_epoch_count(h)):
            rc = lib.ct_get_epoch(h, i, ctypes.byref(info))
            if rc:
                self._raise(rc)
            out.append(_epoch_result(info, comps))
        return out

    @property
    def devices(self) -> List[Device]:
        """The devices being measured (name, method, source, estimated, lost)."""
        if self._h is None:
            return list(self._snapshot[3]) if self._snapshot else []
        lib, h = self._lib, self._h
        out = []
        d = _capi.ct_device_desc()
        for i in range(lib.ct_device_count(h)):
            rc = lib.ct_get_device(h, i, ctypes.byref(d))
            if rc:
                self._raise(rc)
            out.append(_device(d))
        return out

    def status(self) -> Optional[Status]:
        """A live view (power now, energy so far, prediction); None once freed."""
        if self._h is None:
            return None
        st = _capi.ct_status()
        rc = self._lib.ct_get_status(self._h, ctypes.byref(st))
        if rc:
            self._raise(rc)
        return _status(st)

    @property
    def log_path(self) -> Optional[str]:
        """The standard log file of this run, or None without log_dir."""
        if self._h is None:
            return None
        p = self._lib.ct_log_path(self._h)
        return os.fsdecode(p) if p else None

    @property
    def jsonl_path(self) -> Optional[str]:
        """The JSON Lines log of this run, or None without log_dir."""
        if self._h is None:
            return None
        p = self._lib.ct_jsonl_path(self._h)
        return os.fsdecode(p) if p else None

    @property
    def message(self) -> str:
        """The library's detail of the last failure or warning on this tracker."""
        if self._h is None:
            return ""
        return _s(self._lib.ct_tracker_message(self._h))

    # ------------------------------------------------------------------
    # Internals

    def _measured_components(self):
        comps = set()
        lib, h = self._lib, self._h
        d = _capi.ct_device_desc()
        for i in range(lib.ct_device_count(h)):
            if lib.ct_get_device(h, i, ctypes.byref(d)) == 0 and 0 <= d.component < len(COMPONENT_NAMES):
                comps.add(d.component)
        return sorted(comps)

    def _check_api_keys(self, api_dict):
        if not isinstance(api_dict, dict):
            raise InvalidArgumentError(f'api_keys must be a dict such as {{"electricitymaps": "KEY"}} '
                                       f"(got {type(api_dict).__name__})", -1, "EINVAL")
        out = {}
        for name, key in api_dict.items():
            lname = str(name).lower()
            if lname not in _API_NAMES:
                err = FetcherNameError(f"Invalid API name '{name}' given (known: {', '.join(_API_NAMES)}).",
                                       -1, "EINVAL")
                if self.ignore_errors:
                    warnings.warn(f"CarbonTracker: ignored error: {err}", CarbonTrackerWarning, stacklevel=3)
                    continue
                raise err
            out[lname] = str(key)
        return out

    def _message(self, rc):
        m = _s(self._lib.ct_tracker_message(self._h)) if self._h is not None else ""
        return m or _s(self._lib.ct_strerror(rc))

    def _raise(self, rc):
        name = _CODE_NAMES.get(rc, str(rc))
        raise error_class(name)(self._message(rc), rc, name)

    def _ignored(self, where, msg):
        warnings.warn(
            f"CarbonTracker: ignored error while {where}: {msg}. Continued training without monitoring.",
            CarbonTrackerWarning,
            stacklevel=4,
        )
        self._active = False
        self.deleted = True
        if self._h is not None and not self._stopped:
            self._stopped = True
            self._lib.ct_stop(self._h)

    def _on_error(self, rc, where):
        if rc == _ESTOPPED:
            # Monitoring already ended (monitor_epochs reached, or the library
            # stopped after an ignored error): like the original, do nothing.
            self._active = False
            return
        if rc == _EDECLINED:
            self._active = False
            raise TrainingDeclined()
        if rc == _ESTATE and not self.strict:
            # The original carries on when epoch_start() comes twice or
            # epoch_end() without a start; so does this package, with a
            # warning (the call is ignored: the epoch in progress goes on, or
            # no epoch is recorded). strict=True raises StateError instead.
            warnings.warn(f"CarbonTracker: {self._message(rc)}; the call was ignored", CarbonTrackerWarning,
                          stacklevel=3)
            return
        if self.ignore_errors:
            self._ignored(f"calling {where}", f"{self._message(rc)} ({_CODE_NAMES.get(rc, rc)})")
            return
        self._raise(rc)

    def _on_budget(self):
        msg = self._message(_EBUDGET)
        self.budget_exceeded = True
        self.budget_message = msg
        if self.on_budget == "raise":
            raise BudgetExceededError(msg, _EBUDGET, "EBUDGET")
        warnings.warn(BudgetExceededWarning(f"CarbonTracker: {msg}"), stacklevel=3)

    def _confirm_answer(self, _user):
        """The stop_and_confirm prompt, called by the library after the
        prediction: asks on stdin through input() (terminal or Jupyter).
        Returns 1 to continue, 0 to stop."""
        try:
            _flush_c_stdout()
            sys.stdout.flush()
        except Exception:  # pragma: no cover
            pass
        prompt = "CarbonTracker: Continue training (y/n)? "
        try:
            while True:
                try:
                    answer = builtins.input(prompt)
                except EOFError:
                    # As the library's own prompt: no answer is no reason to stop.
                    print("\nCarbonTracker: No answer (end of input): training continues.", flush=True)
                    return 1
                a = answer.strip()[:1].lower()
                if a == "y":
                    print("CarbonTracker: Continuing...", flush=True)
                    return 1
                if a == "n":
                    print("CarbonTracker: Quitting...", flush=True)
                    return 0
                prompt = "CarbonTracker: Please answer y or n: "
        except BaseException as e:  # e.g. KeyboardInterrupt: stop, then re-raise it from epoch_end
            self._confirm_exc = e
            return 0

    # ------------------------------------------------------------------
    # Progress within an epoch (issue 12)

    def epoch_progress(self, fraction):
        """Tells how much of the current epoch is done (0..1, e.g. batches done
        / batches per epoch). Cheap enough for every batch; the prediction is
        refined with it (a first one before epoch 1 ends, from 3 marks) and a
        warm-up at the start of epoch 1 is told from the steady rate. A fraction
        outside 0..1 or smaller than the previous one raises ValueError (nothing
        is recorded); called outside an epoch, it warns (StateError if strict)."""
        if not self._active:
            return
        f = float(fraction)
        rc = self._lib.ct_epoch_progress(self._h, f)
        if rc == 0:
            return
        if rc == _capi.CT_EINVAL and not self.ignore_errors:
            raise ValueError(f"CarbonTracker: {self._message(rc)}")
        self._on_error(rc, "epoch_progress")

    def step(self, n=1, batches_per_epoch=None):
        """Counts n batches of the current epoch; with the number of batches per
        epoch (given here once, or as the attribute ``batches_per_epoch``) it
        calls epoch_progress(batches done / batches per epoch). Returns the
        fraction told, or None when the number per epoch is unknown. The count
        starts again with each epoch."""
        if batches_per_epoch is not None:
            self.batches_per_epoch = batches_per_epoch
        bpe = getattr(self, "batches_per_epoch", None)
        epoch = self.epoch_counter
        if getattr(self, "_step_epoch", None) != epoch:
            self._step_epoch = epoch
            self._step_count = 0
        self._step_count += n
        if not bpe or bpe <= 0 or not self._active:
            return None
        f = min(1.0, self._step_count / float(bpe))
        self.epoch_progress(f)
        return f

    def __repr__(self):
        state = "active" if self._active else ("freed" if self._h is None else "stopped")
        return f"<CarbonTracker epochs={self.epochs} done={self.epoch_counter} {state}>"
