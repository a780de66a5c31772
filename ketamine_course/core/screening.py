"""Candidacy screening: a rules engine that reads its rules from a data table.

The rules live in `content/screening_rules.yaml`: each reads patient fields through flat
conditions `{field, op, value}` and carries a level (contraindication / caution / note), a reason,
its references and its basis (US label, EU label, consensus or local protocol), from which its
jurisdiction follows (US, EU, both, or not a label rule). `evaluate` applies every rule to a `Patient`
under a chosen jurisdiction ("us", "eu" or "both") and returns a `Verdict` with each reason spelt out. A
label rule of one jurisdiction applies in the other only if it names an `outside_level` (what it becomes
there, for example a US warning in place of an EU contraindication). Pure Python: no
widgets, no plotting, no files (`content.screening_rules()` reads the rule table). It teaches; it decides for no real patient.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import Field, model_validator

from ketamine_course.core.schema import Strict, require_unique

Diagnosis = Literal[
    "major_depression",
    "mdd_acute_suicidal_ideation",
    "postpartum_depression",
    "bipolar_depression",
    "generalised_anxiety",
    "social_anxiety",
    "ptsd",
    "ocd",
    "chronic_pain",
]

DIAGNOSIS_LABELS = {
    "major_depression": "Major depressive disorder (unipolar)",
    "mdd_acute_suicidal_ideation": "Major depression with acute suicidal ideation or behaviour",
    "postpartum_depression": "Postpartum depression",
    "bipolar_depression": "Bipolar depression",
    "generalised_anxiety": "Generalised anxiety disorder",
    "social_anxiety": "Social anxiety disorder",
    "ptsd": "Post-traumatic stress disorder",
    "ocd": "Obsessive-compulsive disorder",
    "chronic_pain": "Chronic pain (neuropathic pain, CRPS)",
}

Level = Literal["contraindication", "caution", "note"]
Basis = Literal["us_label", "eu_label", "consensus", "local_protocol"]
BASIS_LABELS = {
    "us_label": "US label",
    "eu_label": "EU label",
    "consensus": "published evidence / consensus",
    "local_protocol": "local protocol (not a label rule)",
}
Jurisdiction = Literal["us", "eu", "both"]
JURISDICTION_LABELS = {"both": "US and EU labels", "us": "US label", "eu": "EU label"}
_LABEL_OF = {"us": "us_label", "eu": "eu_label"}


class Patient(Strict):
    """What the checklist asks about one patient. Defaults describe 'none of these'."""

    diagnosis: Diagnosis = "major_depression"
    adequate_antidepressant_trials: int = Field(0, ge=0, le=30)  # in the current episode
    systolic_bp: int = Field(120, ge=50, le=300)  # mmHg, before dosing
    diastolic_bp: int = Field(80, ge=20, le=200)  # mmHg
    aneurysmal_vascular_disease: bool = False
    arteriovenous_malformation: bool = False
    intracerebral_haemorrhage: bool = False
    raised_intracranial_pressure: bool = False  # or any condition in which a rise in ICP poses a serious risk
    hypertensive_encephalopathy_history: bool = False
    significant_respiratory_disease: bool = False  # e.g. COPD with pulmonary insufficiency, sleep apnoea with BMI >= 35
    weeks_since_cardiovascular_event: Optional[float] = Field(None, ge=0)  # None: no such event
    cardiovascular_disease: bool = False
    cerebrovascular_disease: bool = False
    uncontrolled_hyperthyroidism: bool = False  # hyperthyroidism not adequately treated (an EU special warning)
    hypersensitivity: bool = False
    pregnant: bool = False
    breastfeeding: bool = False
    active_substance_use_disorder: bool = False
    psychosis_history: bool = False
    mania_history: bool = False
    age: int = Field(40, ge=0, le=120)
    child_pugh: Literal["none", "A", "B", "C"] = "none"
    renal_function: Literal["normal", "mild", "moderate", "severe", "dialysis"] = "normal"
    takes_cns_depressants: bool = False
    takes_psychostimulants: bool = False
    takes_maoi: bool = False


PATIENT_FIELDS = frozenset(Patient.model_fields)

Op = Literal["eq", "ne", "lt", "le", "gt", "ge", "in"]


class Condition(Strict):
    field: str
    op: Op
    value: Any

    @model_validator(mode="after")
    def _known_field(self):
        if self.field not in PATIENT_FIELDS:
            raise ValueError(f"condition reads an unknown patient field {self.field!r}")
        if self.op == "in" and not isinstance(self.value, list):
            raise ValueError("the 'in' operator needs a list of values")
        return self

    def holds(self, patient: Patient) -> bool:
        """True when the patient's field satisfies the condition; a missing value never does."""
        actual = getattr(patient, self.field)
        if actual is None:
            return False
        return _OPS[self.op](actual, self.value)


_OPS = {
    "eq": lambda a, v: a == v,
    "ne": lambda a, v: a != v,
    "lt": lambda a, v: a < v,
    "le": lambda a, v: a <= v,
    "gt": lambda a, v: a > v,
    "ge": lambda a, v: a >= v,
    "in": lambda a, v: a in v,
}


class Rule(Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    when: list[Condition] = Field(min_length=1)
    match: Literal["all", "any"] = "all"
    level: Level
    action: Optional[str] = None  # required for a caution: what to do about it
    reason: str
    basis: list[Basis] = Field(min_length=1)
    refs: list[str] = Field(min_length=1)
    # A label rule of one jurisdiction only: the level it takes under the other label (None: it does not apply).
    outside_level: Optional[Level] = None
    outside_reason: Optional[str] = None  # what the other label says instead
    label_level: Optional[Level] = None  # set by `evaluate` when a rule is applied at its outside level

    @model_validator(mode="after")
    def _caution_has_action(self):
        if self.level == "caution" and not self.action:
            raise ValueError(f"rule {self.id}: a caution must name its specific action")
        if self.outside_level == "caution" and not self.action:
            raise ValueError(f"rule {self.id}: a caution outside its jurisdiction must name its specific action")
        if self.outside_level is not None and not self.outside_reason:
            raise ValueError(f"rule {self.id}: say what the other label says (outside_reason)")
        return self

    @property
    def jurisdiction(self) -> str:
        """Whose rule this is: 'US and EU', 'US', 'EU', or 'not a label rule'."""
        labels = [b for b in ("us_label", "eu_label") if b in self.basis]
        if len(labels) == 2:
            return "US and EU"
        if labels:
            return "US" if labels == ["us_label"] else "EU"
        return "not a label rule"

    def in_jurisdiction(self, jurisdiction: str) -> Optional["Rule"]:
        """The rule as it applies under one jurisdiction's label (None: not at all)."""
        if jurisdiction == "both":
            return self
        labels = {b for b in self.basis if b.endswith("_label")}
        if not labels or _LABEL_OF[jurisdiction] in labels:
            return self
        if self.outside_level is None:
            return None
        return self.model_copy(update={"level": self.outside_level, "label_level": self.level})

    @property
    def fields(self) -> list[str]:
        """The patient fields this rule reads."""
        return list(dict.fromkeys(c.field for c in self.when))

    def applies(self, patient: Patient) -> bool:
        results = (c.holds(patient) for c in self.when)
        return all(results) if self.match == "all" else any(results)


class RuleTable(Strict):
    rules: list[Rule] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self):
        require_unique([r.id for r in self.rules], "screening rules")
        return self


VerdictLevel = Literal["contraindication", "caution", "candidate"]

HEADLINES = {
    "contraindication": "Labelled contraindication: esketamine should not be given while this applies.",
    "caution": "Caution: each point below needs the specific action named before any decision to treat.",
    "candidate": (
        "No labelled contraindication or caution among the answers given: a possible candidate, "
        "pending a full psychiatric and medical assessment."
    ),
}


class Verdict(Strict):
    level: VerdictLevel
    headline: str
    jurisdiction: Jurisdiction = "both"
    findings: list[Rule]  # every rule that applied, contraindications first, then cautions, then notes

    def of_level(self, level: Level) -> list[Rule]:
        return [r for r in self.findings if r.level == level]

    @property
    def rule_ids(self) -> list[str]:
        return [r.id for r in self.findings]


_ORDER = {"contraindication": 0, "caution": 1, "note": 2}


def evaluate(patient: Patient, rules: RuleTable, jurisdiction: Jurisdiction = "both") -> Verdict:
    """Apply every rule under the chosen jurisdiction ("both": the stricter of the two labels wherever they
    differ); the verdict is the most serious level found (notes never change it)."""
    if jurisdiction not in JURISDICTION_LABELS:
        raise ValueError(f"unknown jurisdiction {jurisdiction!r}")
    applied = (r.in_jurisdiction(jurisdiction) for r in rules.rules if r.applies(patient))
    found = sorted((r for r in applied if r is not None), key=lambda r: _ORDER[r.level])
    levels = {r.level for r in found}
    level = "contraindication" if "contraindication" in levels else "caution" if "caution" in levels else "candidate"
    return Verdict(level=level, headline=HEADLINES[level], findings=found, jurisdiction=jurisdiction)
