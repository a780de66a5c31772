"""The time-course explorer: route, dose and weight in; modelled plasma ketamine over 0-6 h out. It shows the
two-compartment model of `core/pk.py` with the parameters of `content/data/m1_pk_parameters.yaml`.

`scenario()` is the pure part (numbers, windows, caption, alt text; no plotting). `Explorer` holds
the widgets and one figure that is redrawn in place on every change. `show()` is what the notebook calls.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import lru_cache

from ketamine_course.content import dataset
from ketamine_course.content.citations import short_form
from ketamine_course.core import pk
from ketamine_course.widgets.figures import png_html
from ketamine_course.widgets.theme import PALETTE

HOURS = 6.0
STEP_H = 2.0 / 60.0
ROUTE_ORDER = ["iv", "im", "intranasal_esketamine", "intranasal_racemic", "oral", "sublingual"]
WINDOW_LABELS = {
    "dissociation": "Dissociation",
    "blood_pressure": "Blood-pressure rise",
    "observation": "Observation (at least)",
}


@dataclass(frozen=True)
class Parameters:
    cl: float
    vss: float
    t_half_alpha_h: float
    t_half_beta_h: float
    dissociation_low: float
    dissociation_high: float
    validation_peak: float
    routes: dict
    windows: list
    sources: dict
    bioavailability_ranges: dict = field(default_factory=dict)  # route -> (low, high, [source keys])
    weight_scaling_note: str = ""
    esketamine_doses: tuple = ()  # mg: the label's fixed doses, the only ones the explorer offers
    caption_details: dict = field(default_factory=dict)  # route -> what the caption says of its numbers


@lru_cache(maxsize=None)
def parameters() -> Parameters:
    """The model's parameters and windows, read from the module's data files."""
    rows = dataset("m1_pk_parameters").rows
    by_name = {r.parameter: r for r in rows if getattr(r, "parameter", None)}
    routes = {}
    for r in rows:
        key = getattr(r, "route", None)
        if key:
            f = r.bioavailability
            tmax_min = getattr(r, "tmax_min", None)
            tmax = tmax_min / 60.0 if tmax_min is not None else None
            routes[key] = pk.Route(
                key=key, label=r.label, bioavailability=f if f is not None else 0.0, tmax_h=tmax, infusion=(key == "iv")
            )
    sources = {k: r.source for k, r in by_name.items()}
    sources.update({f"route_{r.route}": r.source for r in rows if getattr(r, "route", None)})
    ranges = {
        r.route: (r.bioavailability_low, r.bioavailability_high, [r.source, *getattr(r, "also", [])])
        for r in rows
        if getattr(r, "route", None) and getattr(r, "bioavailability_low", None) is not None
    }
    scaling = by_name.get("weight_scaling")
    details = {r.route: r.caption for r in rows if getattr(r, "route", None) and getattr(r, "caption", None)}
    return Parameters(
        cl=by_name["clearance"].value,
        vss=by_name["vss"].value,
        t_half_alpha_h=by_name["t_half_alpha"].value / 60.0,
        t_half_beta_h=by_name["t_half_beta"].value,
        dissociation_low=by_name["dissociation_range"].low,
        dissociation_high=by_name["dissociation_range"].high,
        validation_peak=by_name["validation_peak_iv"].value,
        routes=routes,
        windows=[r.model_dump() for r in dataset("m1_time_windows").rows],
        sources=sources,
        bioavailability_ranges=ranges,
        weight_scaling_note=scaling.note if scaling else "",
        esketamine_doses=tuple(by_name["esketamine_fixed_doses"].values),
        caption_details=details,
    )


def route_has_curve(route_key: str) -> bool:
    """False where the course has no confirmed absorption numbers (intramuscular) or only a wide range
    (intranasal racemic ketamine)."""
    route = parameters().routes[route_key]
    return route.infusion or (route.bioavailability > 0 and route.tmax_h is not None)


def dose_in_mg(route_key: str, dose: float, weight_kg: float) -> float:
    """Esketamine is dosed in mg; the racemic routes here in mg/kg."""
    return dose if route_key == "intranasal_esketamine" else dose * weight_kg


@dataclass
class Scenario:
    route: pk.Route
    dose_mg: float
    weight_kg: float
    infusion_min: float
    times: list
    conc: list
    windows: list = field(default_factory=list)  # (kind, start_h, end_h, peak_h or None, source key)
    peak: float = 0.0
    peak_time_h: float = 0.0
    caption: str = ""
    alt: str = ""


@lru_cache(maxsize=256)
def _disposition(weight_kg: float) -> pk.Disposition:
    p = parameters()
    return pk.disposition_from_literature(p.cl, p.vss, p.t_half_alpha_h, p.t_half_beta_h, weight_kg)


@lru_cache(maxsize=256)
def _ka(route_key: str, weight_kg: float) -> float:
    return pk.ka_for_tmax(parameters().routes[route_key].tmax_h, _disposition(weight_kg))


def scenario(route_key: str, dose: float, weight_kg: float, infusion_min: float = 40.0) -> Scenario:
    """Everything the plot shows, computed without plotting."""
    p = parameters()
    route = p.routes[route_key]
    dose_mg = dose_in_mg(route_key, dose, weight_kg)
    times = [i * STEP_H for i in range(int(round(HOURS / STEP_H)) + 1)]
    if route_has_curve(route_key):
        ka = None if route.infusion else _ka(route_key, weight_kg)
        times, conc = pk.time_course(
            route,
            dose_mg,
            _disposition(weight_kg),
            duration_h=infusion_min / 60.0,
            ka_per_h=ka,
            end_h=HOURS,
            step_h=STEP_H,
        )
    else:
        conc = [0.0] * len(times)
    s = Scenario(route, dose_mg, weight_kg, infusion_min, times, conc)
    s.peak = max(conc)
    s.peak_time_h = times[conc.index(s.peak)]
    s.windows = _windows(route_key, s)
    s.caption, s.alt = _caption(route_key, dose, s), _alt(route_key, s)
    return s


def _windows(route_key: str, s: Scenario):
    end_of_dosing = s.infusion_min / 60.0 if s.route.infusion else 0.0
    found = []
    for w in parameters().windows:
        if route_key not in w["applies_to"]:
            continue
        kind, source = w["window"], w["source"]
        if kind == "observation":
            found.append((kind, end_of_dosing, end_of_dosing + w["duration_h"], None, source))
        elif "threshold_ng_per_ml" in w:
            if route_has_curve(route_key):
                for start, end in pk.intervals_above(s.times, s.conc, w["threshold_ng_per_ml"]):
                    found.append((kind, start, end, None, source))
        elif w.get("end") == "end_of_infusion":
            found.append((kind, w["start_h"], end_of_dosing, min(w["peak_h"], end_of_dosing), source))
        else:
            found.append((kind, w["start_h"], w["end_h"], w.get("peak_h"), source))
    return found


LABEL_NAMES = {
    "spravato_uspi": "US esketamine label",
    "spravato_smpc": "EU esketamine label",
    "ketalar_uspi": "Ketalar label",
}


def cite(key: str) -> str:
    """A short citation for captions: labels by name, papers as 'Author et al. year'."""
    return LABEL_NAMES.get(key) or short_form(key)


def _observation_reference() -> str:
    """The observation the captions of routes without a curve give as a reference (the data's observation window)."""
    window = next(w for w in parameters().windows if w["window"] == "observation")
    return f"Observation: at least {window['duration_h']:g} hours as a reference ({cite(window['source'])})."


def _minutes(hours: float) -> str:
    return f"{hours * 60:.0f} min"


def _caption(route_key: str, dose: float, s: Scenario) -> str:
    p = parameters()
    unit = "mg" if route_key == "intranasal_esketamine" else "mg/kg"
    head = f"{s.route.label}: {dose:g} {unit}"
    if unit == "mg/kg":
        head += f" ({s.dose_mg:.0f} mg for {s.weight_kg:.0f} kg)"
    if s.route.infusion:
        head += f", infused over {s.infusion_min:.0f} min"
    if route_key in p.bioavailability_ranges:
        low, high, keys = p.bioavailability_ranges[route_key]
        from ketamine_course.content import reference

        keys = [k for k in keys if reference(k).type != "regulatory"]  # the PK studies give the range
        return (
            f"{head}. No curve is drawn: published intranasal bioavailability of racemic ketamine ranges "
            f"from about {low:.0%} to {high:.0%} ({p.caption_details[route_key]}; "
            f"{'; '.join(cite(k) for k in keys)}), so about "
            f"{pk.bioavailable_dose(s.dose_mg, low):.0f} to {pk.bioavailable_dose(s.dose_mg, high):.0f} mg of "
            f"this dose might reach the blood as ketamine, and the course does not pick one value. Ketamine is not "
            f"FDA-approved for any psychiatric disorder ({cite('fda_compounded_ketamine_2023')}). "
            f"{_observation_reference()} Course advice: follow the local protocol."
        )
    if not route_has_curve(route_key):
        return (
            f"{head}. No curve is drawn: the course could not confirm an intramuscular bioavailability or "
            f"time to peak in a primary source ({p.caption_details[route_key]}). "
            f"{_observation_reference()} Course advice: follow the local protocol."
        )
    parts = [f"{head}. Modelled peak about {s.peak:.0f} ng/mL at {_minutes(s.peak_time_h)}"]
    if not s.route.infusion:
        parts.append(
            f"bioavailable dose about {pk.bioavailable_dose(s.dose_mg, s.route.bioavailability):.0f} mg "
            f"(F = {s.route.bioavailability:.0%}; {cite(p.sources['route_' + route_key])})"
        )
    text = "; ".join(parts) + "."
    kinds = {w[0] for w in s.windows}
    for kind, start, end, peak, source in s.windows:
        extra = f", peak about {_minutes(peak)}" if peak is not None else ""
        if kind == "observation" and route_key != "intranasal_esketamine":
            extra += ", the esketamine minimum shown as a reference: no label sets one for off-label racemic ketamine"
        text += f" {WINDOW_LABELS[kind]}: {_minutes(start)} to {_minutes(end)}{extra} ({cite(source)})."
    for w in p.windows:
        if route_key in w["applies_to"] and w.get("caveat") and w["window"] in kinds:
            keys = list(dict.fromkeys([w["source"], *(w.get("also") or [])]))
            text += f" {' '.join(w['caveat'].split()).rstrip('.')} ({'; '.join(cite(k) for k in keys)})."
    if "dissociation" not in kinds and route_key != "intranasal_esketamine":
        text += (
            f" The modelled ketamine level stays below {p.dissociation_low:.0f} ng/mL, the low end of the range "
            f"linked to dissociation after IV dosing ({cite('zanos2018_pr')}). That does not make the dose safe "
            f"or free of dissociation: the model leaves out norketamine and the spread between patients, and the "
            f"US FDA warned in October 2023 about compounded oral ketamine taken at home, citing a patient with "
            f"respiratory depression ({cite('fda_compounded_ketamine_2023')})."
        )
    if "blood_pressure" not in kinds:
        text += (
            " No cited source gives a blood-pressure window for this route, so none is drawn. "
            "Course advice: check blood pressure as for any dose."
        )
    if route_key in ("oral", "sublingual"):
        text += " Most of an oral dose reaches the blood as norketamine, which this model does not include."
    if route_key == "oral":
        text += (
            " No oral time to peak was confirmed in the cited sources, so the curve borrows the sublingual "
            "wafer's (a model assumption)."
        )
    if route_key == "intranasal_esketamine":
        text += (
            " The model uses racemic-ketamine disposition; the label describes a terminal half-life of "
            "7-12 h that the first 6 h barely show. Esketamine is given as a fixed dose whatever the weight "
            f"({cite('spravato_uspi')}); any change in the curve with body weight comes from the model's "
            "assumption that clearance and volume grow in proportion to weight, not from a study."
        )
    elif s.weight_kg != 70:
        text += (
            " Clearance and volume are scaled in proportion to body weight: a model assumption, not a measured result."
        )
    text += (
        f" Model: two compartments, clearance and volume from {cite('kamp2020')}, half-lives from the "
        f"Ketalar label; a teaching sketch of an average adult, not a prediction for a patient."
    )
    return text


def _alt(route_key: str, s: Scenario) -> str:
    if route_key in parameters().bioavailability_ranges:
        return (
            f"Empty chart for {s.route.label}: no concentration curve is drawn because published "
            f"bioavailability varies too widely to choose one value; only the observation window is shown."
        )
    if not route_has_curve(route_key):
        return (
            f"Empty chart for {s.route.label}: no concentration curve is drawn because the absorption "
            f"numbers could not be confirmed; only the observation window is shown."
        )
    text = (
        f"Line chart of modelled plasma ketamine concentration from 0 to 6 hours after {s.route.label}. "
        f"It rises to a peak of about {s.peak:.0f} ng/mL at {_minutes(s.peak_time_h)} and then falls to "
        f"about {s.conc[-1]:.0f} ng/mL at 6 hours."
    )
    for kind, start, end, _, _ in s.windows:
        text += f" {WINDOW_LABELS[kind]} window from {_minutes(start)} to {_minutes(end)}."
    return text


# --- drawing ---------------------------------------------------------------------------------


class Plot:
    """One matplotlib figure kept between redraws: a concentration panel and a windows strip."""

    ROWS = ["observation", "blood_pressure", "dissociation"]

    def __init__(self):
        from matplotlib.figure import Figure

        self.fig = Figure(figsize=(7.5, 4.6), dpi=80)
        grid = self.fig.add_gridspec(2, 1, height_ratios=[3.2, 1.2], hspace=0.12)
        self.ax = self.fig.add_subplot(grid[0])
        self.strip = self.fig.add_subplot(grid[1], sharex=self.ax)
        for ax in (self.ax, self.strip):
            ax.spines[["top", "right"]].set_visible(False)
        p = parameters()  # the band is the dissociation range of the data file, not a constant
        self.band_range = (p.dissociation_low, p.dissociation_high)
        self.band = self.ax.axhspan(
            *self.band_range,
            color=PALETTE["sky"],
            alpha=0.18,
            lw=0,
            label="Range linked to dissociation after IV dosing",
        )
        (self.line,) = self.ax.plot([], [], color=PALETTE["blue"], lw=2.2, label="Modelled plasma ketamine")
        self.ax.set_ylabel("Plasma ketamine (ng/mL)")
        self.ax.set_xlim(0, HOURS)
        self.ax.tick_params(labelbottom=False)
        self.legend = self.ax.legend(loc="upper right", fontsize=8, frameon=False)
        self.strip.set_yticks(range(len(self.ROWS)), [WINDOW_LABELS[k] for k in self.ROWS], fontsize=8)
        self.strip.set_ylim(-0.6, len(self.ROWS) - 0.4)
        self.strip.set_xlabel("Time from the start of dosing (hours)")
        self.strip.set_xticks(range(0, int(HOURS) + 1))
        self.fig.subplots_adjust(left=0.22, right=0.97, top=0.92, bottom=0.11)
        self.strip.text(
            1.0,
            1.02,
            "▼ = peak of the blood-pressure rise",
            transform=self.strip.transAxes,
            ha="right",
            va="bottom",
            fontsize=7,
        )
        self.bars = []
        self.colours = {
            "dissociation": PALETTE["purple"],
            "blood_pressure": PALETTE["vermillion"],
            "observation": PALETTE["green"],
        }

    def draw(self, s: Scenario, has_curve: bool, dissociation_band: tuple):
        self.line.set_data(s.times, s.conc if has_curve else [float("nan")] * len(s.times))
        low, high = dissociation_band
        if (low, high) != self.band_range:  # keep the drawn band equal to the data file's range
            self.band.remove()
            self.band = self.ax.axhspan(low, high, color=PALETTE["sky"], alpha=0.18, lw=0)
            self.band_range = (low, high)
        self.band.set_visible(s.route.key != "intranasal_esketamine")
        top = max(s.peak * 1.15, high * 1.1 if s.route.key != "intranasal_esketamine" else 0, 50.0)
        self.ax.set_ylim(0, next(v for v in (50, 100, 150, 200, 300, 400, 600, 800, 1200, 1e9) if v >= top))
        for bar in self.bars:
            bar.remove()
        self.bars = []
        for kind, start, end, peak, _ in s.windows:
            row = self.ROWS.index(kind)
            self.bars.append(
                self.strip.broken_barh([(start, end - start)], (row - 0.3, 0.6), color=self.colours[kind], alpha=0.85)
            )
            if peak is not None:
                (marker,) = self.strip.plot([peak], [row], marker="v", color="black", ms=6, ls="none")
                self.bars.append(marker)
        band_shown = self.band.get_visible()
        self.legend.legend_handles[0].set_visible(band_shown)
        self.legend.texts[0].set_visible(band_shown)
        self.ax.set_title(f"Modelled plasma ketamine after {s.route.label.lower()}", fontsize=11)

    def png(self) -> bytes:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        buffer = io.BytesIO()
        # Fast, light compression: the PNG is re-sent on every change of a setting.
        FigureCanvasAgg(self.fig).print_png(buffer, pil_kwargs={"compress_level": 1})
        return buffer.getvalue()


class Explorer:
    """The widgets and the figure; `redraw()` recomputes and redraws in place."""

    def __init__(self):
        import ipywidgets as w

        self.w = w
        self.route = w.Dropdown(
            options=[(parameters().routes[k].label, k) for k in ROUTE_ORDER],
            value="iv",
            description="Route",
            style={"description_width": "initial"},
            layout=w.Layout(width="420px"),
        )
        # Number fields and a list, not sliders: an ipywidgets slider's handle has no accessible name, and a
        # number is typed, or stepped with the arrow keys, just as well.

        def field():  # each control its own layout: the redraw shows and hides them one by one
            return {"style": {"description_width": "initial"}, "layout": w.Layout(width="240px")}

        self.dose_kg = w.BoundedFloatText(
            value=0.5, min=0.1, max=2.0, step=0.05, description="Dose (mg/kg)", continuous_update=False, **field()
        )
        doses = parameters().esketamine_doses
        self.dose_mg = w.Dropdown(options=list(doses), value=doses[len(doses) // 2], description="Dose (mg)", **field())
        self.weight = w.BoundedIntText(
            value=70, min=40, max=150, step=1, description="Body weight (kg)", continuous_update=False, **field()
        )
        self.infusion = w.BoundedIntText(
            value=40, min=10, max=100, step=5, description="Infusion time (min)", continuous_update=False, **field()
        )
        self.output = w.HTML()
        self.output.add_class("kc-figure")
        self.plot = Plot()
        for control in (self.route, self.dose_kg, self.dose_mg, self.weight, self.infusion):
            control.observe(lambda change: self.redraw(), names="value")
        self.redraw()

    def settings(self):
        route = self.route.value
        dose = self.dose_mg.value if route == "intranasal_esketamine" else self.dose_kg.value
        return route, dose, float(self.weight.value), float(self.infusion.value)

    def redraw(self):
        route, dose, weight, minutes = self.settings()
        esk = route == "intranasal_esketamine"
        self.dose_mg.layout.display = None if esk else "none"
        self.dose_kg.layout.display = "none" if esk else None
        self.infusion.layout.display = None if route == "iv" else "none"
        s = scenario(route, dose, weight, minutes)
        p = parameters()
        self.plot.draw(s, route_has_curve(route), (p.dissociation_low, p.dissociation_high))
        self.output.value = png_html(self.plot.png(), s.caption, s.alt)
        return s

    def widget(self):
        w = self.w
        return w.VBox(
            [w.HBox([self.route]), w.HBox([self.dose_kg, self.dose_mg, self.weight]), self.infusion, self.output]
        )


def show():
    """The explorer, ready to use in a notebook cell."""
    return Explorer().widget()
