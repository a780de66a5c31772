"""The shapes of the course's content: references, questions, graded items and vignettes.

Pure data models (pydantic). Authors write YAML; these models check it. Formative questions
(course/) carry their keys and rationales; graded items (assignments/) never do: their keys
live only in the hidden test cells of solutions/.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ketamine_course.core.schema import ItemId, Key, OptionId, Strict, require_known_objectives, require_unique
from ketamine_course.core.signing import fingerprint

# --- references ---------------------------------------------------------------------------


class Reference(Strict):
    key: Key
    type: Literal[
        "trial",
        "meta-analysis",
        "review",
        "guideline",
        "label",
        "preclinical",
        "observational",
        "pharmacokinetic",
        "regulatory",
        "hta",
    ]
    authors: str
    year: int
    title: str
    source: str
    doi: Optional[str] = None
    pmid: Optional[str] = None
    url: Optional[str] = None
    verified: bool = True
    note: Optional[str] = None

    @field_validator("doi")
    @classmethod
    def _doi_shape(cls, value):
        if value is not None and not value.startswith("10."):
            raise ValueError("a DOI starts with '10.'")
        return value

    @field_validator("pmid")
    @classmethod
    def _pmid_shape(cls, value):
        if value is not None and not value.isdigit():
            raise ValueError("a PMID is digits only")
        return value

    @model_validator(mode="after")
    def _has_identifier(self):
        """A verified reference can be checked by a reader: DOI or PMID (a label: its official URL).

        Unverified entries are kept for authors to finish, and the tests forbid citing them.
        """
        if not self.verified:
            return self
        if self.type in (
            "label",
            "regulatory",
            "hta",
        ):  # regulatory: an agency's safety communication; hta: an HTA body's guidance (no DOI)
            if not (self.url or self.doi or self.pmid):
                raise ValueError(f"label {self.key} needs a url to the official label")
        elif not (self.doi or self.pmid):
            raise ValueError(f"reference {self.key} needs a DOI or a PMID")
        return self


class ReferenceLibrary(Strict):
    evidence_current_to: date
    references: list[Reference]

    @model_validator(mode="after")
    def _unique_keys(self):
        require_unique([r.key for r in self.references], "references.yaml")
        return self


# --- formative questions (course/, keys included because they teach) ------------------------


class Objective(Strict):
    id: ItemId
    text: str


class Option(Strict):
    id: OptionId
    text: str
    correct: bool = False
    rationale: str
    refs: list[Key] = Field(min_length=1)


class _QuestionBase(Strict):
    id: ItemId
    stem: str
    objective: ItemId
    refs: list[Key] = Field(default_factory=list)


class SingleQuestion(_QuestionBase):
    type: Literal["single"]
    options: list[Option] = Field(min_length=2)

    @model_validator(mode="after")
    def _one_correct(self):
        if sum(o.correct for o in self.options) != 1:
            raise ValueError(f"{self.id}: a single-best-answer question needs exactly one correct option")
        require_unique([o.id for o in self.options], self.id)
        return self


class MultipleQuestion(_QuestionBase):
    type: Literal["multiple"]
    options: list[Option] = Field(min_length=3)

    @model_validator(mode="after")
    def _some_correct(self):
        if not any(o.correct for o in self.options):
            raise ValueError(f"{self.id}: a multiple-select question needs at least one correct option")
        require_unique([o.id for o in self.options], self.id)
        return self


class NumericAnswer(Strict):
    value: float
    unit: str
    tolerance: float = Field(ge=0)


class NumericQuestion(_QuestionBase):
    type: Literal["numeric"]
    units: list[str] = Field(min_length=1)
    answer: NumericAnswer
    rationale: str
    refs: list[Key] = Field(min_length=1)

    @model_validator(mode="after")
    def _unit_offered(self):
        if self.answer.unit not in self.units:
            raise ValueError(f"{self.id}: the answer's unit must be one of the units offered")
        return self


class Step(Strict):
    id: OptionId
    text: str


class OrderingQuestion(_QuestionBase):
    type: Literal["ordering"]
    steps: list[Step] = Field(min_length=3)
    order: list[OptionId]
    rationale: str
    refs: list[Key] = Field(min_length=1)

    @model_validator(mode="after")
    def _order_is_permutation(self):
        if sorted(self.order) != sorted(s.id for s in self.steps):
            raise ValueError(f"{self.id}: order must list every step id once")
        return self


class ReflectionQuestion(_QuestionBase):
    type: Literal["reflection"]
    guidance: str  # shown after the learner has written: what a good answer covers
    refs: list[Key] = Field(min_length=1)


Question = Annotated[
    Union[SingleQuestion, MultipleQuestion, NumericQuestion, OrderingQuestion, ReflectionQuestion],
    Field(discriminator="type"),
]


class ObjectiveGroup(Strict):
    """A titled group of questions or items, each under one of the group's objectives."""

    title: str
    objectives: list[Objective] = Field(min_length=1)

    def entries(self) -> list:
        raise NotImplementedError

    @model_validator(mode="after")
    def _consistent(self):
        require_known_objectives(self.entries(), self.objectives, self.title)
        return self


class QuestionBank(ObjectiveGroup):
    module: Key
    questions: list[Question]

    def entries(self) -> list:
        return self.questions


# --- graded items (assignments/: no keys, no rationales) ------------------------------------


class GradedOption(Strict):
    id: OptionId
    text: str


class GradedItem(Strict):
    id: ItemId
    type: Literal["single", "multiple", "numeric", "ordering", "reflection"]
    stem: str
    objective: ItemId
    vignette: Optional[ItemId] = None
    options: list[GradedOption] = Field(default_factory=list)
    units: list[str] = Field(default_factory=list)
    steps: list[Step] = Field(default_factory=list)

    @model_validator(mode="after")
    def _fields_for_type(self):
        needs = {"single": "options", "multiple": "options", "numeric": "units", "ordering": "steps"}
        field = needs.get(self.type)
        if field and not getattr(self, field):
            raise ValueError(f"{self.id}: a {self.type} item needs {field}")
        return self


class Assessment(ObjectiveGroup):
    assignment: Key
    items: list[GradedItem] = Field(min_length=1)

    def entries(self) -> list:
        return self.items


# --- vignettes ------------------------------------------------------------------------------


class Vignette(Strict):
    id: ItemId
    title: str
    setting: str
    patient: str  # one line: age, sex, presenting problem
    facts: dict[str, str]  # heading -> detail, shown in order on the patient card
    refs: list[Key] = Field(default_factory=list)


class VignetteSet(Strict):
    vignettes: list[Vignette]


# --- data behind figures and tables -------------------------------------------------------


class DataRow(BaseModel):
    """One plotted or tabulated number (or group of numbers), always with its source."""

    model_config = ConfigDict(extra="allow", frozen=True)
    source: Key
    approximate: bool = False  # True where the value was read off a published figure
    note: Optional[str] = None


class Caption(Strict):
    """The caption of a figure or table drawn from a data set, citing what it states (the widget adds the
    sources of the rows it draws)."""

    figure: Key
    caption: str
    refs: list[Key] = Field(min_length=1)


class DataSet(Strict):
    title: str
    description: str
    rows: list[DataRow] = Field(min_length=1)
    captions: list[Caption] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_caption_per_figure(self):
        require_unique([c.figure for c in self.captions], f"captions of {self.title!r}")
        return self

    def caption(self, figure: str) -> str:
        for c in self.captions:
            if c.figure == figure:
                return c.caption
        raise KeyError(f"{self.title!r} has no caption for {figure!r}")


# --- US and EU side by side (esketamine) ----------------------------------------------------


class RegulatoryRow(Strict):
    """One topic of the US/EU comparison: what each jurisdiction's label (or REMS) says, with sources."""

    id: Key
    topic: str
    us: str
    eu: str
    refs: list[Key] = Field(min_length=1)
    source: Key  # the main source of the row (kept so the file also reads as a plain data set)
    revision_read: str  # which label revision was read for this row


# Which columns of the US/EU table a jurisdiction choice shows ("both": the US and the EU side by side).
JURISDICTION_COLUMNS = {"both": ("us", "eu"), "us": ("us",), "eu": ("eu",)}


class RegulatoryComparison(Strict):
    title: str
    description: str
    rows: list[RegulatoryRow] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_topics(self):
        require_unique([r.id for r in self.rows], "regulatory comparison")
        return self

    def row(self, topic_id: str) -> RegulatoryRow:
        for r in self.rows:
            if r.id == topic_id:
                return r
        raise KeyError(topic_id)


class CourseFacts(Strict):
    """`content/course.yaml`: the course's title, start page and disclaimer."""

    title: str = Field(min_length=1)
    start_page: str = Field(pattern=r"^course/[\w.-]+\.ipynb$")
    disclaimer: str = Field(min_length=1)


# --- credit: what continuing education asks of the course (content/credit.yaml) -------------------

REVIEW_AT_LEAST_EVERY_DAYS = 3 * 365 + 1  # three years, one of them a leap year


class ModuleTime(Strict):
    module: Key
    notebook: str = Field(pattern=r"^course/\d\d_[\w.-]+\.ipynb$")
    assignment: Key
    minutes: int = Field(gt=0, le=600)


class TimeRates(Strict):
    """The basis of the time estimate: minutes per thing a learner does, and reading speed."""

    words_per_minute: int = Field(gt=0)
    quick_check: float = Field(gt=0)
    interactive: float = Field(gt=0)
    graded_item: float = Field(gt=0)
    reflection: float = Field(gt=0)


class FinancialRelationship(Strict):
    company: str = Field(min_length=1)
    relationship: str = Field(min_length=1)  # e.g. "speaker's fees", "shares"
    mitigation: str = Field(min_length=1)  # how the content was kept independent of it


class TeamMember(Strict):
    role: str = Field(min_length=1)
    name: Optional[str] = None  # the course names roles; a name only where a person agreed to be named
    contribution: str = Field(min_length=1)
    financial_relationships: Union[Literal["none"], list[FinancialRelationship]]

    @field_validator("financial_relationships")
    @classmethod
    def _stated(cls, value):
        if value != "none" and not value:
            raise ValueError('write "none" when there are no financial relationships; never leave the list empty')
        return value


class OffLabelUse(Strict):
    use: str = Field(min_length=1)
    status: Literal["off-label", "licensed", "investigational"]
    jurisdictions: list[Literal["US", "EU", "UK"]] = Field(min_length=1)
    note: str = Field(min_length=1)
    refs: list[Key] = Field(min_length=1)


class Accreditation(Strict):
    status: Literal["not accredited", "accredited"]
    statement: str = Field(min_length=1)
    provider: Optional[str] = None
    activity_id: Optional[str] = None

    @model_validator(mode="after")
    def _named_when_accredited(self):
        if self.status == "accredited" and not (self.provider and self.activity_id):
            raise ValueError("an accredited course names its provider and activity_id")
        return self


class SigningKey(Strict):
    """A public key the course owner publishes; certificates it signed verify without --trust."""

    owner: str = Field(min_length=1)
    public_key: str = Field(min_length=44, max_length=44)  # 32 raw bytes, base64
    fingerprint: str = Field(pattern=r"^[0-9a-f]{64}$")

    @model_validator(mode="after")
    def _fingerprint_of_key(self):
        if fingerprint(self.public_key) != self.fingerprint:
            raise ValueError("the fingerprint is not that of the public key")
        return self


class EvaluationQuestion(Strict):
    id: Key
    type: Literal["scale", "choice", "text", "hours"]
    text: str = Field(min_length=1)
    options: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _options_for_choice(self):
        if (self.type == "choice") != bool(self.options):
            raise ValueError(f"{self.id}: a choice has options, and only a choice")
        return self


class CreditFacts(Strict):
    """`content/credit.yaml`: what an accrediting body asks to see before a learner starts."""

    release_date: date
    review_by: date
    time_basis: str = Field(min_length=1)
    time_rates: TimeRates
    modules: list[ModuleTime] = Field(min_length=1)
    pass_mark: float = Field(ge=50, le=100)
    team: list[TeamMember] = Field(min_length=2)
    disclosure_period_months: int = Field(ge=12)
    commercial_support: Union[Literal["none"], list[str]]
    off_label: list[OffLabelUse] = Field(min_length=1)
    accreditation: Accreditation
    signing_keys: list[SigningKey] = Field(default_factory=list)
    evaluation: list[EvaluationQuestion] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self):
        if self.review_by <= self.release_date:
            raise ValueError("review_by must come after release_date")
        if (self.review_by - self.release_date).days > REVIEW_AT_LEAST_EVERY_DAYS:
            raise ValueError("review_by is more than three years after release_date: review at least every 3 years")
        require_unique([m.module for m in self.modules], "credit modules")
        require_unique([q.id for q in self.evaluation], "evaluation questions")
        return self

    @property
    def total_minutes(self) -> int:
        return sum(m.minutes for m in self.modules)

    @property
    def hours(self) -> float:
        """The estimated hours: the total time, rounded down to a quarter hour."""
        return (self.total_minutes // 15) / 4

    def overdue_review(self, today: date) -> str:
        """Why no certificate may be made on `today` because the course is past its review date; '' if it is not."""
        if today <= self.review_by:
            return ""
        return (
            f"The course was due for review by {self.review_by}: no certificate can be made for it until it is "
            "reviewed and review_by in content/credit.yaml is moved on."
        )
