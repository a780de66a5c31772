"""The session-monitoring simulator's engine: scenarios as data, choices scored, feedback returned.

Pure Python (pydantic models, no widgets, plots or files). A scenario is one patient's dosing
session in steps (baseline, during dosing, about 40 minutes, end of observation); at each step the
learner picks one of six actions. The first choice at a step is the one scored: a best action earns
the step's point. Decision thresholds live in the protocol, each with its source; where a number is a
local protocol and not a label rule, the protocol says so.

What happens next can follow from the learner's choice: a step may name, for some actions, a branch
(`branch_on`), an alternative run of steps that replaces the rest of the main path when that action is
the learner's first choice at the step. A branch in which no dose is given (`dosed: false`, e.g. a
deferred session) is exempt from the post-dose observation minimum.
"""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, model_validator

from ketamine_course.core.schema import Key, OptionId, Strict, find_by_id, require_unique

ActionId = Literal["proceed", "recheck", "hold", "treat", "call_help", "discharge"]
ACTIONS: tuple = ("proceed", "recheck", "hold", "treat", "call_help", "discharge")
ACTION_LABELS = {
    "proceed": "Proceed as planned",
    "recheck": "Recheck and observe closely",
    "hold": "Hold or stop dosing",
    "treat": "Treat at the bedside",
    "call_help": "Call for help",
    "discharge": "Discharge home",
}
PHASES = ("baseline", "dosing", "forty", "end")  # the main path of every scenario, in this order
PHASE_LABELS = {
    "baseline": "Baseline, before dosing",
    "dosing": "During dosing",
    "forty": "About 40 minutes after dosing began",
    "end": "End of observation",
    "deferred": "Dose held: review before she or he leaves",
}
PhaseId = Literal["baseline", "dosing", "forty", "end", "deferred"]


# --- models ---------------------------------------------------------------------------------


class Threshold(Strict):
    """A blood-pressure line: a reading is at or over it when systolic OR diastolic reaches it."""

    systolic: int = Field(gt=0)
    diastolic: int = Field(gt=0)
    inclusive: bool  # True: a reading equal to the line counts as reaching it
    local_protocol: bool  # True: a clinic's own rule, not a label requirement
    meaning: str
    refs: list[Key] = Field(min_length=1)

    def reached(self, systolic: int, diastolic: int) -> bool:
        if self.inclusive:
            return systolic >= self.systolic or diastolic >= self.diastolic
        return systolic > self.systolic or diastolic > self.diastolic


class Protocol(Strict):
    pre_dose_caution: Threshold  # label: above this, weigh benefit and risk before dosing
    hold: Threshold  # local protocol: pause or stop dosing and recheck
    observation_min: int = Field(gt=0)  # label: at least this long after each dose
    bp_recheck_min: int = Field(gt=0)  # label: blood pressure again about this long after dosing
    refs: list[Key] = Field(min_length=1)
    notes: list[str] = Field(default_factory=list)


class Vitals(Strict):
    systolic: int = Field(gt=40, lt=300)
    diastolic: int = Field(gt=20, lt=200)
    heart_rate: int = Field(gt=20, lt=250)
    spo2: int = Field(ge=50, le=100)
    resp_rate: Optional[int] = Field(default=None, gt=0, lt=60)

    @property
    def bp(self) -> str:
        return f"{self.systolic}/{self.diastolic} mmHg"


class ActionFeedback(Strict):
    text: str
    refs: list[Key] = Field(min_length=1)


class ScenarioStep(Strict):
    phase: PhaseId
    minute: int = Field(ge=0)  # minutes since dosing began
    vitals: Vitals
    dissociation: str
    symptoms: str
    prompt: str = "What do you do now?"
    best: list[ActionId] = Field(min_length=1)
    feedback: dict[ActionId, ActionFeedback]
    # action -> id of a branch of the scenario: what follows when that action is the first choice here
    branch_on: dict[ActionId, OptionId] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _every_action_explained(self):
        missing = [a for a in ACTIONS if a not in self.feedback]
        if missing:
            raise ValueError(f"step {self.phase}: no feedback for {missing}")
        if len(set(self.best)) != len(self.best):
            raise ValueError(f"step {self.phase}: a best action is listed twice")
        return self


class Branch(Strict):
    """An alternative continuation of a scenario, entered from a step's `branch_on`."""

    id: OptionId
    description: str
    dosed: bool = True  # False: no dose is given on this path (a deferred session)
    steps: list[ScenarioStep] = Field(min_length=1)

    @model_validator(mode="after")
    def _ends_the_session(self):
        if self.steps[-1].phase != "end":
            raise ValueError(f"branch {self.id}: its last step must be 'end'")
        minutes = [s.minute for s in self.steps]
        if minutes != sorted(minutes) or len(set(minutes)) != len(minutes):
            raise ValueError(f"branch {self.id}: step minutes must increase")
        if any(s.branch_on for s in self.steps):
            raise ValueError(f"branch {self.id}: a branch may not branch again")
        return self


class Scenario(Strict):
    id: OptionId
    title: str
    product: str
    patient: str
    background: str
    steps: list[ScenarioStep] = Field(min_length=4)
    teaching_point: str
    refs: list[Key] = Field(min_length=1)
    in_simulator: bool = True  # False: kept for graded work, so its feedback is not shown beforehand
    branches: list[Branch] = Field(default_factory=list)

    @model_validator(mode="after")
    def _steps_in_order(self):
        phases = [s.phase for s in self.steps]
        if phases != list(PHASES):
            raise ValueError(f"{self.id}: steps must be {list(PHASES)}, got {phases}")
        minutes = [s.minute for s in self.steps]
        if minutes != sorted(minutes) or len(set(minutes)) != len(minutes):
            raise ValueError(f"{self.id}: step minutes must increase")
        require_unique([b.id for b in self.branches], f"branches of {self.id}")
        known = {b.id for b in self.branches}
        used = set()
        for step in self.steps:
            for action, branch_id in step.branch_on.items():
                if branch_id not in known:
                    raise ValueError(f"{self.id}/{step.phase}: {action} leads to unknown branch {branch_id!r}")
                used.add(branch_id)
                if self.branch(branch_id).steps[0].minute <= step.minute:
                    raise ValueError(f"{self.id}/{step.phase}: branch {branch_id!r} must start after this step")
        unused = known - used
        if unused:
            raise ValueError(f"{self.id}: branches never entered: {sorted(unused)}")
        return self

    def branch(self, branch_id: str) -> Branch:
        return find_by_id(self.branches, branch_id, f"{self.id} has no branch {branch_id!r}")

    def paths(self) -> list[tuple[list[ScenarioStep], bool]]:
        """Every path a learner can take through the scenario, with whether a dose is given on it."""
        result = [(list(self.steps), True)]
        for i, step in enumerate(self.steps):
            for branch_id in dict.fromkeys(step.branch_on.values()):
                b = self.branch(branch_id)
                result.append((list(self.steps[: i + 1]) + list(b.steps), b.dosed))
        return result

    def step(self, phase: str, branch: str | None = None) -> ScenarioStep:
        """A step of the main path, or of the named branch."""
        for s in self.branch(branch).steps if branch else self.steps:
            if s.phase == phase:
                return s
        raise KeyError(f"{self.id} has no step {phase!r}" + (f" in branch {branch!r}" if branch else ""))


class ScenarioLibrary(Strict):
    protocol: Protocol
    scenarios: list[Scenario] = Field(min_length=4)

    @model_validator(mode="after")
    def _consistent_with_protocol(self):
        """The data may not contradict its own thresholds: that is how a typo in a key is caught."""
        require_unique([s.id for s in self.scenarios], "monitoring scenarios")
        for scenario in self.scenarios:
            for path, dosed in scenario.paths():
                for step in path:
                    v = step.vitals
                    if self.protocol.hold.reached(v.systolic, v.diastolic) and (
                        "proceed" in step.best or "discharge" in step.best
                    ):
                        raise ValueError(
                            f"{scenario.id}/{step.phase}: at or over the hold line, "
                            "proceeding or discharging cannot be a best action"
                        )
                    if dosed and "discharge" in step.best and step.minute < self.protocol.observation_min:
                        raise ValueError(f"{scenario.id}/{step.phase}: discharge before the minimum observation")
        return self

    def scenario(self, scenario_id: str) -> Scenario:
        return find_by_id(self.scenarios, scenario_id, f"No monitoring scenario {scenario_id!r}")


def library_from_data(data) -> ScenarioLibrary:
    """Check parsed YAML against the models."""
    return ScenarioLibrary.model_validate(data)


# --- thresholds -----------------------------------------------------------------------------


def bp_category(systolic: int, diastolic: int, protocol: Protocol) -> str:
    """'hold' (local protocol line reached), 'caution' (above the label's pre-dose guide) or 'usual'."""
    if protocol.hold.reached(systolic, diastolic):
        return "hold"
    if protocol.pre_dose_caution.reached(systolic, diastolic):
        return "caution"
    return "usual"


def observation_complete(minutes_since_dose: int, protocol: Protocol) -> bool:
    """The label's minimum observation has passed (readiness to leave is a separate assessment)."""
    return minutes_since_dose >= protocol.observation_min


# --- playing a scenario ---------------------------------------------------------------------


class ChoiceResult(Strict):
    phase: str
    action: ActionId
    correct: bool
    points: float
    feedback: str
    refs: list[Key]
    best: list[ActionId]


def judge(step: ScenarioStep, action: str) -> ChoiceResult:
    """Score one choice at one step and return its feedback."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown action {action!r}; choose one of {ACTIONS}")
    correct = action in step.best
    fb = step.feedback[action]
    return ChoiceResult(
        phase=step.phase,
        action=action,
        correct=correct,
        points=1.0 if correct else 0.0,
        feedback=fb.text,
        refs=list(fb.refs),
        best=list(step.best),
    )


class Summary(Strict):
    scenario: str
    score: float
    out_of: float
    results: list[ChoiceResult]

    @property
    def percent(self) -> float:
        return round(100 * self.score / self.out_of, 1) if self.out_of else 0.0


class Session:
    """One learner playing one scenario: step by step, first choice per step scored.

    The path follows the learner's first choice at each step: where that choice leads to a branch, the
    branch's steps replace the rest of the main path. A second choice at a step is judged, not scored,
    and does not change the path.
    """

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self.restart()

    @property
    def step(self) -> ScenarioStep:
        return self.steps[self.index]

    @property
    def answered(self) -> bool:
        return len(self.results) > self.index

    @property
    def finished(self) -> bool:
        return self.index == len(self.steps) - 1 and self.answered

    def choose(self, action: str) -> ChoiceResult:
        """Judge a choice at the current step. A second choice is judged but not scored again."""
        result = judge(self.step, action)
        if not self.answered:
            self.results.append(result)
            branch_id = self.step.branch_on.get(action)
            if branch_id is not None:
                branch = self.scenario.branch(branch_id)
                self.steps = self.steps[: self.index + 1] + list(branch.steps)
                self.branch = branch.id
        return result

    def advance(self) -> bool:
        """Move to the next step once this one is answered; False when there is none."""
        if not self.answered or self.index + 1 >= len(self.steps):
            return False
        self.index += 1
        return True

    def restart(self) -> None:
        self.index = 0
        self.results: list[ChoiceResult] = []
        self.steps: list[ScenarioStep] = list(self.scenario.steps)
        self.branch: Optional[str] = None  # the branch the learner's choices led into, if any

    def summary(self) -> Summary:
        return Summary(
            scenario=self.scenario.id,
            score=sum(r.points for r in self.results),
            out_of=float(len(self.steps)),
            results=list(self.results),
        )
