"""What a CarbonTracker prints, written through Python's sys.stdout.

The C library prints with C stdio (file descriptor 1), which
``contextlib.redirect_stdout``, pytest's capsys and Jupyter do not see. So the
package creates its C tracker with ``verbose=0`` (the library still writes
every message to the output log) and prints the original's console text here,
from the library's results, at the original's verbosity levels:

* verbose >= 1: the components found, the predicted and the actual
  consumption blocks, "Finished monitoring.";
* verbose >= 2: also the average and the predicted carbon intensity.

Warnings the library prints by itself while it creates a tracker or from its
measurement thread (e.g. why a component has no energy source, which carbon
intensity is used) reach the console only in part (a missing component, a
lost device) until the library can hand its console text to a callback; they
are all in the err log when ``log_dir`` is set.

The text is the original's (``CarbonTracker: `` prefix, ``Time:`` rounded to
whole seconds as the original rounds, ``decimal_precision`` digits, "Actual
consumption:" when ``epochs_before_pred`` is 0).
"""

import ctypes
import sys

PREFIX = "CarbonTracker: "

_KIND_NAMES = ("default", "static", "fixed", "live", "forecast")


def timestring(seconds):
    """The original's console duration: h:mm:ss, seconds rounded half to even
    as Python's round() does (7.907 s -> 0:00:08; 0.5 s -> 0:00:00)."""
    negative = seconds < 0
    seconds = abs(seconds)
    m, s = divmod(seconds, 60)
    s = int(round(s))
    if s == 60:
        m += 1
        s = 0
    h, m = divmod(m, 60)
    text = f"{int(h):d}:{int(m):02d}:{s:02d}"
    return "-" + text if negative else text


def consumption_block(description, duration_s, energy_kwh, co2eq_g, precision, car_km=None):
    """The original's block: a newline, the description, Time, Energy, CO2eq
    and, when car_km is given (interpretable=True), the equivalent."""
    text = (
        f"\n{description}\n"
        f"\tTime:\t{timestring(duration_s)}\n"
        f"\tEnergy:\t{energy_kwh:.{precision}f} kWh\n"
        f"\tCO2eq:\t{co2eq_g:.{precision}f} g"
    )
    if car_km is not None:
        text += f"\n\tThis is equivalent to:\n\t{car_km:.{precision}f} km travelled by car"
    return text


def components_line(devices):
    """ "The following components were found: GPU with device(s) A. CPU with device(s) cpu:0, dram:0."
    from (component, name) pairs, GPU first as the original."""
    parts = ["The following components were found:"]
    for comp in ("gpu", "cpu"):
        names = [name for c, name in devices if c == comp]
        if names:
            parts.append(f"{comp.upper()} with device(s) {', '.join(names)}.")
    return " ".join(parts)


def emit(text):
    """One message, as the original's logger prints it, to the current sys.stdout."""
    out = sys.stdout
    if out is None:  # pythonw, a closed stream
        return
    try:
        out.write(PREFIX + text + "\n")
        out.flush()
    except (OSError, ValueError):  # a closed pipe or file: never fail the training over output
        pass


class Reporter:
    """Prints one tracker's messages, each once. Holds the C library and the
    tracker handle, never the CarbonTracker (it is used by the finalizer)."""

    def __init__(self, lib, handle, verbose, precision, interpretable, no_prediction_wording):
        self.lib = lib
        self.handle = handle
        self.verbose = verbose
        self.precision = precision
        self.interpretable = interpretable
        self.no_prediction_wording = no_prediction_wording
        self.prediction_done = False
        self.final_done = False
        self.lost_seen = set()

    def _result(self, fn):
        from . import _capi

        r = _capi.ct_result()
        if fn(self.handle, ctypes.byref(r)) != 0:
            return None
        return r

    def _block(self, description, r, what):
        km = self.lib.ct_car_km(r.co2eq_g) if self.interpretable else None
        emit(consumption_block(description, r.duration_s, r.energy_kwh, r.co2eq_g, self.precision, km))
        est = [name for i, name in enumerate(("CPU", "GPU")) if r.has_component[i] and r.estimated[i]]
        if est:
            emit(f"The {what} consumption above is partly estimated ({' and '.join(est)} energy), not measured.")
        if self.verbose >= 2:
            kind = _KIND_NAMES[r.intensity_kind] if 0 <= r.intensity_kind < len(_KIND_NAMES) else str(r.intensity_kind)
            source = r.intensity_source.decode("utf-8", "replace")
            label = "Predicted average" if what == "predicted" else "Average"
            emit(f"{label} carbon intensity: {r.intensity_g_per_kwh:.2f} gCO2eq/kWh ({kind}: {source}).")

    def components(self, devices, requested):
        """After creation: the components line; a requested component without
        a device (the library's own warning, with its reason, is in the err
        log: see the module's note) as the original's warning."""
        if self.verbose >= 1:
            emit(components_line(devices))
        found = {c for c, _ in devices}
        for comp, level in (("cpu", 1), ("gpu", 2)):
            if comp in requested and comp not in found and self.verbose >= level:
                emit(f"WARNING - No {comp.upper()} energy source available; {comp.upper()} energy is not included.")

    def lost(self, devices):
        """Devices the library lost since the last call (a source failed
        mid-run): one warning each, at verbose >= 1."""
        for component, name, source, lost in devices:
            key = (component, name)
            if lost and key not in self.lost_seen:
                self.lost_seen.add(key)
                if self.verbose >= 1:
                    emit(f"WARNING - the {source} energy source of {component.upper()} device {name} failed; "
                         "the energy measured before is kept.")

    def prediction(self):
        """Prints the prediction once, as soon as the library has made it
        (after epochs_before_pred epochs: the status says so; ct_get_predicted
        answers earlier, with the prediction refined at every epoch)."""
        if self.prediction_done or self.handle is None:
            return
        from . import _capi

        st = _capi.ct_status()
        if self.lib.ct_get_status(self.handle, ctypes.byref(st)) != 0 or not st.has_prediction:
            return
        r = self._result(self.lib.ct_get_predicted)
        if r is None:
            return
        self.prediction_done = True
        if self.verbose >= 1:
            self._block(f"Predicted consumption for {r.epochs} epoch(s):", r, "predicted")

    def final(self):
        """After the library finished monitoring: the actual consumption (when
        an epoch was recorded) and "Finished monitoring.", once."""
        if self.final_done or self.handle is None:
            return
        self.final_done = True
        if self.verbose < 1:
            return
        r = self._result(self.lib.ct_get_actual)
        if r is not None:
            if self.no_prediction_wording:
                description = "Actual consumption:"
            else:
                description = f"Actual consumption for {r.epochs} epoch(s):"
            self._block(description, r, "actual")
        emit("Finished monitoring.")


def free_tracker(reporter, free, handle, pid):
    """Finalizer of a CarbonTracker: prints the actual consumption if nobody
    did (the library reports it when a tracker is freed unstopped) and frees
    the C tracker; only in the process that created it (a forked child has a
    copy of the pointer but not the measurement thread)."""
    import os

    if os.getpid() != pid:
        return
    try:
        reporter.final()
    finally:
        reporter.handle = None
        free(handle)
