"""The library's structs as Python values: the results, epochs, devices and
status that :class:`carbontracker.tracker.CarbonTracker` returns (and
carbontracker.tracker exports under these names)."""

from dataclasses import dataclass, field
from typing import Dict

from . import _capi
from ._capi import COMPONENT_NAMES, INTENSITY_KINDS

__all__ = ["ComponentEnergy", "Result", "EpochResult", "Device", "Status"]


def _s(b):
    return b.decode("utf-8", "replace") if b else ""


@dataclass(frozen=True)
class ComponentEnergy:
    """Energy of one component (cpu or gpu) in J, without PUE."""

    energy_j: float
    estimated: bool


@dataclass(frozen=True)
class Result:
    """The actual (measured) or predicted consumption.

    ``energy_kwh`` and ``co2eq_g`` include the PUE; ``components`` maps "cpu"
    and/or "gpu" to their energy in J without PUE.
    """

    kind: str  # "actual" or "predicted"
    epochs: int
    duration_s: float
    energy_kwh: float
    co2eq_g: float
    intensity_g_per_kwh: float
    intensity_kind: str  # "default", "static", "fixed", "live", "forecast"
    intensity_source: str
    components: Dict[str, ComponentEnergy] = field(default_factory=dict)
    # The 90 % interval of a prediction (equal to the value for actual results).
    energy_kwh_low: float = float("nan")
    energy_kwh_high: float = float("nan")
    duration_s_low: float = float("nan")
    duration_s_high: float = float("nan")
    co2eq_g_low: float = float("nan")
    co2eq_g_high: float = float("nan")

    @property
    def estimated(self) -> bool:
        """True when any component's energy is an estimate (TDP) rather than measured."""
        return any(c.estimated for c in self.components.values())

    @property
    def equivalents(self) -> Dict[str, float]:
        """As the original's parser returns them: {"km travelled by car": km}."""
        return {"km travelled by car": _capi.lib().ct_car_km(self.co2eq_g)}

    def as_dict(self):
        """The original parser's keys plus this package's."""
        return {
            "epochs": self.epochs,
            "duration (s)": self.duration_s,
            "energy (kWh)": self.energy_kwh,
            "co2eq (g)": self.co2eq_g,
            "equivalents": self.equivalents,
            "intensity (gCO2eq/kWh)": self.intensity_g_per_kwh,
            "intensity_kind": self.intensity_kind,
            "intensity_source": self.intensity_source,
            "components (J)": {k: v.energy_j for k, v in self.components.items()},
        }


@dataclass(frozen=True)
class EpochResult:
    """One finished epoch: Unix times in s, energy per component in J without PUE."""

    epoch: int
    start_unix_s: float
    end_unix_s: float
    duration_s: float
    energy_j: Dict[str, float]
    co2eq_g: float

    @property
    def total_energy_j(self) -> float:
        return sum(self.energy_j.values())


@dataclass(frozen=True)
class Device:
    component: str
    name: str
    uuid: str
    method: str  # "counter", "power-polling", "estimate", "simulated"
    source: str  # "rapl", "nvml", "amdgpu", "tdp", "sim"
    estimated: bool
    lost: bool


@dataclass(frozen=True)
class Status:
    elapsed_s: float
    epoch: int
    epochs: int
    in_epoch: bool
    power_w: Dict[str, float]
    energy_j: Dict[str, float]
    energy_kwh: float
    co2eq_g: float
    has_prediction: bool
    predicted_energy_kwh: float
    predicted_co2eq_g: float
    predicted_remaining_s: float
    energy_budget_exceeded: bool = False
    co2_budget_exceeded: bool = False


def _result(kind, r):
    comps = {}
    for i, name in enumerate(COMPONENT_NAMES):
        if r.has_component[i]:
            comps[name] = ComponentEnergy(r.energy_j[i], bool(r.estimated[i]))
    ik = r.intensity_kind
    return Result(
        kind=kind,
        epochs=r.epochs,
        duration_s=r.duration_s,
        energy_kwh=r.energy_kwh,
        co2eq_g=r.co2eq_g,
        intensity_g_per_kwh=r.intensity_g_per_kwh,
        intensity_kind=INTENSITY_KINDS[ik] if 0 <= ik < len(INTENSITY_KINDS) else str(ik),
        intensity_source=_s(r.intensity_source),
        components=comps,
        energy_kwh_low=r.energy_kwh_low,
        energy_kwh_high=r.energy_kwh_high,
        duration_s_low=r.duration_s_low,
        duration_s_high=r.duration_s_high,
        co2eq_g_low=r.co2eq_g_low,
        co2eq_g_high=r.co2eq_g_high,
    )


def _epoch_result(info, comps):
    """A ct_epoch_info as an EpochResult (energy of the components comps)."""
    return EpochResult(
        epoch=info.epoch,
        start_unix_s=info.start_unix_s,
        end_unix_s=info.end_unix_s,
        duration_s=info.duration_s,
        energy_j={COMPONENT_NAMES[c]: info.energy_j[c] for c in comps},
        co2eq_g=info.co2eq_g,
    )


def _device(d):
    """A ct_device_desc as a Device."""
    c = d.component
    return Device(
        component=COMPONENT_NAMES[c] if 0 <= c < len(COMPONENT_NAMES) else str(c),
        name=_s(d.name),
        uuid=_s(d.uuid),
        method=_s(d.method),
        source=_s(d.source),
        estimated=bool(d.estimated),
        lost=bool(d.lost),
    )


def _status(st):
    """A ct_status as a Status."""
    return Status(
        elapsed_s=st.elapsed_s,
        epoch=st.epoch,
        epochs=st.epochs,
        in_epoch=bool(st.in_epoch),
        power_w={n: st.power_w[i] for i, n in enumerate(COMPONENT_NAMES)},
        energy_j={n: st.energy_j[i] for i, n in enumerate(COMPONENT_NAMES)},
        energy_kwh=st.energy_kwh,
        co2eq_g=st.co2eq_g,
        has_prediction=bool(st.has_prediction),
        predicted_energy_kwh=st.predicted_energy_kwh,
        predicted_co2eq_g=st.predicted_co2eq_g,
        predicted_remaining_s=st.predicted_remaining_s,
        energy_budget_exceeded=bool(st.budget_exceeded & _capi.CT_BUDGET_ENERGY),
        co2_budget_exceeded=bool(st.budget_exceeded & _capi.CT_BUDGET_CO2),
    )
