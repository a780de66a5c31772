"""The candidacy rules engine: every rule fires on its side of each boundary and not on the other."""

import pytest
from pydantic import ValidationError

from ketamine_course import content
from ketamine_course.content import screening_rules as load_rules
from ketamine_course.core import screening
from ketamine_course.core.screening import (
    PATIENT_FIELDS,
    Condition,
    Patient,
    Rule,
    RuleTable,
)

# A patient who meets the usual definition of treatment-resistant depression and has nothing else.
BASE = dict(diagnosis="major_depression", adequate_antidepressant_trials=2, systolic_bp=120, diastolic_bp=80, age=40)


def evaluate(patient: Patient, rules: RuleTable | None = None, jurisdiction: str = "both"):
    """The engine, with the course's own rule table unless a test gives another."""
    return screening.evaluate(patient, rules or load_rules(), jurisdiction)


def patient(**changes) -> Patient:
    return Patient(**{**BASE, **changes})


def fired(**changes) -> list:
    return evaluate(patient(**changes)).rule_ids


# rule id -> (answers that trigger it, answers just on the other side, which must not)
CASES = {
    "hypersensitivity": (dict(hypersensitivity=True), dict(hypersensitivity=False)),
    "aneurysmal_vascular_disease": (dict(aneurysmal_vascular_disease=True), dict(aneurysmal_vascular_disease=False)),
    "arteriovenous_malformation": (dict(arteriovenous_malformation=True), dict(arteriovenous_malformation=False)),
    "intracerebral_haemorrhage": (dict(intracerebral_haemorrhage=True), dict(intracerebral_haemorrhage=False)),
    "raised_intracranial_pressure": (dict(raised_intracranial_pressure=True), dict(raised_intracranial_pressure=False)),
    "hypertensive_encephalopathy_history": (
        dict(hypertensive_encephalopathy_history=True),
        dict(hypertensive_encephalopathy_history=False),
    ),
    "significant_respiratory_disease": (
        dict(significant_respiratory_disease=True),
        dict(significant_respiratory_disease=False),
    ),
    "eu_resuscitation_setting": (dict(weeks_since_cardiovascular_event=7), dict(weeks_since_cardiovascular_event=6)),
    "recent_cardiovascular_event": (dict(weeks_since_cardiovascular_event=6), dict(weeks_since_cardiovascular_event=7)),
    "past_cardiovascular_event": (dict(weeks_since_cardiovascular_event=7), dict(weeks_since_cardiovascular_event=6)),
    "cardiovascular_disease": (dict(cardiovascular_disease=True), dict(cardiovascular_disease=False)),
    "cerebrovascular_disease": (dict(cerebrovascular_disease=True), dict(cerebrovascular_disease=False)),
    "blood_pressure_above_label_guide": (
        dict(systolic_bp=141, diastolic_bp=91),
        dict(systolic_bp=140, diastolic_bp=90),
    ),
    "blood_pressure_local_hold": (dict(systolic_bp=180, diastolic_bp=110), dict(systolic_bp=179, diastolic_bp=109)),
    "pregnancy": (dict(pregnant=True), dict(pregnant=False)),
    "breastfeeding": (dict(breastfeeding=True), dict(breastfeeding=False)),
    "active_substance_use_disorder": (
        dict(active_substance_use_disorder=True),
        dict(active_substance_use_disorder=False),
    ),
    "psychosis_history": (dict(psychosis_history=True), dict(psychosis_history=False)),
    "mania_history": (dict(mania_history=True), dict(mania_history=False)),
    "uncontrolled_hyperthyroidism": (dict(uncontrolled_hyperthyroidism=True), dict(uncontrolled_hyperthyroidism=False)),
    "too_few_adequate_trials": (dict(adequate_antidepressant_trials=1), dict(adequate_antidepressant_trials=2)),
    "bipolar_depression": (dict(diagnosis="bipolar_depression"), dict(diagnosis="major_depression")),
    "anxiety_disorder": (dict(diagnosis="generalised_anxiety"), dict(diagnosis="major_depression")),
    "ptsd": (dict(diagnosis="ptsd"), dict(diagnosis="major_depression")),
    "ocd": (dict(diagnosis="ocd"), dict(diagnosis="major_depression")),
    "chronic_pain": (dict(diagnosis="chronic_pain"), dict(diagnosis="major_depression")),
    "mdd_acute_suicidal_ideation": (dict(diagnosis="mdd_acute_suicidal_ideation"), dict(diagnosis="major_depression")),
    "postpartum_depression": (dict(diagnosis="postpartum_depression"), dict(diagnosis="major_depression")),
    "older_adult": (dict(age=65), dict(age=64)),
    "under_18": (dict(age=17), dict(age=18)),
    "severe_hepatic_impairment": (dict(child_pugh="C"), dict(child_pugh="B")),
    "moderate_hepatic_impairment": (dict(child_pugh="B"), dict(child_pugh="A")),
    "renal_impairment": (dict(renal_function="severe"), dict(renal_function="normal")),
    "dialysis": (dict(renal_function="dialysis"), dict(renal_function="severe")),
    "cns_depressants": (dict(takes_cns_depressants=True), dict(takes_cns_depressants=False)),
    "psychostimulants": (dict(takes_psychostimulants=True), dict(takes_psychostimulants=False)),
    "maoi": (dict(takes_maoi=True), dict(takes_maoi=False)),
}


def test_every_rule_in_the_table_has_a_test_case():
    assert set(CASES) == {r.id for r in load_rules().rules}


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires_on_its_side_of_the_boundary(rule_id):
    trigger, other_side = CASES[rule_id]
    assert rule_id in fired(**trigger)
    assert rule_id not in fired(**other_side)


def test_the_clean_trd_patient_is_a_candidate_with_no_findings():
    verdict = evaluate(patient())
    assert verdict.level == "candidate"
    assert verdict.findings == []
    assert "full psychiatric and medical assessment" in verdict.headline


# --- boundaries named in the module outline ---------------------------------------------------------


@pytest.mark.parametrize(
    "systolic, diastolic, expected",
    [
        (139, 89, False),
        (140, 90, False),
        (141, 91, True),
        (141, 80, True),  # systolic alone is enough
        (120, 91, True),  # diastolic alone is enough
    ],
)
def test_label_blood_pressure_guide_is_above_140_over_90(systolic, diastolic, expected):
    assert ("blood_pressure_above_label_guide" in fired(systolic_bp=systolic, diastolic_bp=diastolic)) is expected


@pytest.mark.parametrize(
    "systolic, diastolic, expected",
    [
        (179, 109, False),
        (180, 100, True),
        (170, 110, True),
        (181, 111, True),
    ],
)
def test_local_hold_threshold_is_180_over_110_or_higher(systolic, diastolic, expected):
    assert ("blood_pressure_local_hold" in fired(systolic_bp=systolic, diastolic_bp=diastolic)) is expected


def test_blood_pressure_alone_never_makes_a_contraindication():
    verdict = evaluate(patient(systolic_bp=200, diastolic_bp=120))
    assert verdict.level == "caution"
    assert {r.id for r in verdict.findings} == {"blood_pressure_above_label_guide", "blood_pressure_local_hold"}
    hold = next(r for r in verdict.findings if r.id == "blood_pressure_local_hold")
    assert hold.basis == ["local_protocol"] and "not a number from either label" in hold.action


@pytest.mark.parametrize(
    "weeks, level, rule",
    [
        (0, "contraindication", "recent_cardiovascular_event"),
        (5, "contraindication", "recent_cardiovascular_event"),
        (6, "contraindication", "recent_cardiovascular_event"),
        (6.5, "caution", "past_cardiovascular_event"),
        (7, "caution", "past_cardiovascular_event"),
        (52, "caution", "past_cardiovascular_event"),
    ],
)
def test_cardiovascular_event_within_6_weeks_is_an_eu_contraindication(weeks, level, rule):
    verdict = evaluate(patient(weeks_since_cardiovascular_event=weeks))
    expected = [rule] if rule == "recent_cardiovascular_event" else [rule, "eu_resuscitation_setting"]
    assert verdict.level == level and verdict.rule_ids == expected


def test_no_cardiovascular_event_fires_neither_rule():
    ids = fired(weeks_since_cardiovascular_event=None)
    assert "recent_cardiovascular_event" not in ids and "past_cardiovascular_event" not in ids


def test_recent_event_rule_is_eu_label_only():
    rule = next(r for r in load_rules().rules if r.id == "recent_cardiovascular_event")
    assert rule.basis == ["eu_label"]


@pytest.mark.parametrize(
    "age, older, younger",
    [(17, False, True), (18, False, False), (64, False, False), (65, True, False), (66, True, False)],
)
def test_age_boundaries(age, older, younger):
    ids = fired(age=age)
    assert ("older_adult" in ids) is older
    assert ("under_18" in ids) is younger


@pytest.mark.parametrize("trials, expected", [(0, True), (1, True), (2, False), (3, False)])
def test_trd_definition_needs_two_adequate_trials(trials, expected):
    assert ("too_few_adequate_trials" in fired(adequate_antidepressant_trials=trials)) is expected


def test_trial_count_rule_applies_to_postpartum_but_not_to_other_diagnoses():
    assert "too_few_adequate_trials" in fired(diagnosis="postpartum_depression", adequate_antidepressant_trials=0)
    assert "too_few_adequate_trials" not in fired(
        diagnosis="mdd_acute_suicidal_ideation", adequate_antidepressant_trials=0
    )
    assert "too_few_adequate_trials" not in fired(diagnosis="bipolar_depression", adequate_antidepressant_trials=0)


@pytest.mark.parametrize(
    "grade, rules",
    [("none", []), ("A", []), ("B", ["moderate_hepatic_impairment"]), ("C", ["severe_hepatic_impairment"])],
)
def test_child_pugh_classes(grade, rules):
    assert fired(child_pugh=grade) == rules


@pytest.mark.parametrize(
    "renal, rules",
    [
        ("normal", []),
        ("mild", ["renal_impairment"]),
        ("moderate", ["renal_impairment"]),
        ("severe", ["renal_impairment"]),
        ("dialysis", ["dialysis"]),
    ],
)
def test_renal_function(renal, rules):
    verdict = evaluate(patient(renal_function=renal))
    assert verdict.rule_ids == rules
    assert verdict.level == "candidate"  # notes never change the verdict


# --- the popular error: these are warnings, not contraindications -----------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        dict(pregnant=True),
        dict(psychosis_history=True),
        dict(active_substance_use_disorder=True),
        dict(systolic_bp=170, diastolic_bp=100),
        dict(breastfeeding=True),
    ],
)
def test_pregnancy_psychosis_hypertension_and_sud_are_cautions_not_contraindications(changes):
    assert evaluate(patient(**changes)).level == "caution"


@pytest.mark.parametrize(
    "changes",
    [
        dict(aneurysmal_vascular_disease=True),
        dict(arteriovenous_malformation=True),
        dict(intracerebral_haemorrhage=True),
        dict(hypersensitivity=True),
    ],
)
def test_the_us_labelled_contraindications(changes):
    verdict = evaluate(patient(**changes))
    assert verdict.level == "contraindication"
    assert all("us_label" in r.basis for r in verdict.findings)


# --- combined verdict logic -------------------------------------------------------------------------


def test_contraindication_outranks_cautions_and_notes_and_all_reasons_are_listed():
    verdict = evaluate(patient(intracerebral_haemorrhage=True, pregnant=True, age=70, renal_function="dialysis"))
    assert verdict.level == "contraindication"
    assert verdict.rule_ids == ["intracerebral_haemorrhage", "pregnancy", "older_adult", "dialysis"]
    assert [r.level for r in verdict.findings] == ["contraindication", "caution", "caution", "note"]


def test_caution_outranks_notes():
    verdict = evaluate(patient(diagnosis="postpartum_depression", breastfeeding=True))
    assert verdict.level == "caution"
    assert verdict.rule_ids == ["breastfeeding", "postpartum_depression"]


def test_notes_alone_leave_a_candidate():
    verdict = evaluate(patient(renal_function="moderate"))
    assert verdict.level == "candidate" and verdict.rule_ids == ["renal_impairment"]


def test_acute_suicidal_ideation_is_a_caution_that_puts_safety_first():
    verdict = evaluate(patient(diagnosis="mdd_acute_suicidal_ideation", adequate_antidepressant_trials=0))
    assert verdict.level == "caution" and verdict.rule_ids == ["mdd_acute_suicidal_ideation"]
    assert "safety assessment" in verdict.findings[0].action


def test_every_finding_is_spelt_out_and_cited():
    verdict = evaluate(patient(aneurysmal_vascular_disease=True, takes_maoi=True, mania_history=True))
    for rule in verdict.findings:
        assert rule.reason and rule.refs and rule.basis
        if rule.level == "caution":
            assert rule.action


def test_an_injected_rule_table_is_used_instead_of_the_course_table():
    table = RuleTable(
        rules=[
            Rule(
                id="x",
                title="x",
                when=[Condition(field="age", op="gt", value=50)],
                level="note",
                reason="r",
                basis=["consensus"],
                refs=["gaynes2020"],
            )
        ]
    )
    assert evaluate(patient(age=51), table).rule_ids == ["x"]
    assert evaluate(patient(age=50), table).rule_ids == []


# --- the table itself -----------------------------------------------------------------------------


def test_rule_table_is_clean_data():
    known = {r.key for r in content.reference_library().references}
    for rule in load_rules().rules:
        assert set(rule.fields) <= PATIENT_FIELDS
        for key in rule.refs:
            assert key in known, f"{rule.id} cites unknown {key}"
            assert content.reference(key).verified, f"{rule.id} cites unverified {key}"


def test_every_patient_field_is_read_by_some_rule():
    read = {f for rule in load_rules().rules for f in rule.fields}
    assert read == set(PATIENT_FIELDS)


def test_schema_rejects_bad_rules_and_patients():
    with pytest.raises(ValidationError):
        Condition(field="shoe_size", op="eq", value=1)
    with pytest.raises(ValidationError):
        Condition(field="age", op="in", value=65)
    with pytest.raises(ValidationError):
        Rule(
            id="y",
            title="y",
            when=[Condition(field="age", op="gt", value=1)],
            level="caution",
            reason="r",
            basis=["consensus"],
            refs=["gaynes2020"],
        )  # a caution without an action
    with pytest.raises(ValidationError):
        Patient(diagnosis="flu")
    with pytest.raises(ValidationError):
        Patient(adequate_antidepressant_trials=-1)


# --- the checklist widget -------------------------------------------------------------------------


def test_checklist_form_builds_the_patient_and_shows_a_cited_verdict():
    from ketamine_course.widgets.screening_explorer import DISCLAIMER, ScreeningForm

    form = ScreeningForm()
    form.trials.value = 2
    assert form.check().level == "candidate"
    assert "teaching tool" in form.card.value and "does not decide for a real patient" in DISCLAIMER

    form.checks["arteriovenous_malformation"].value = True
    form.cv_event.value = True
    form.cv_weeks.value = 5
    form.systolic.value, form.diastolic.value = 141, 91
    verdict = form.check()
    assert verdict.level == "contraindication"
    assert {"arteriovenous_malformation", "recent_cardiovascular_event", "blood_pressure_above_label_guide"} <= set(
        verdict.rule_ids
    )
    assert "Arteriovenous malformation" in form.card.value and "https://" in form.card.value
    assert "Basis: EU label" in form.card.value


def test_checklist_ignores_weeks_unless_an_event_is_ticked():
    from ketamine_course.widgets.screening_explorer import ScreeningForm

    form = ScreeningForm()
    form.cv_weeks.value = 2
    assert form.patient().weeks_since_cardiovascular_event is None


def test_checklist_widget_has_an_input_for_every_patient_field():
    from ketamine_course.widgets.screening_explorer import ScreeningForm

    form = ScreeningForm()
    form.widget()
    covered = set(form.checks) | {
        "diagnosis",
        "adequate_antidepressant_trials",
        "systolic_bp",
        "diastolic_bp",
        "age",
        "weeks_since_cardiovascular_event",
        "child_pugh",
        "renal_function",
    }
    assert covered == set(PATIENT_FIELDS)


def test_rules_table_shows_every_rule_with_its_sources():
    from ketamine_course.widgets.screening_explorer import rules_table_html

    table = rules_table_html()
    for rule in load_rules().rules:
        assert rule.title.split("(")[0].strip()[:20] in table
    assert "systolic_bp &gt; 140; diastolic_bp &gt; 90" in table and "any of" in table


# --- raised intracranial pressure and the other December 2026 rules (D1) ---------------------------


@pytest.mark.parametrize("jurisdiction", ["both", "us", "eu"])
def test_raised_intracranial_pressure_is_a_contraindication_in_every_jurisdiction(jurisdiction):
    verdict = evaluate(patient(raised_intracranial_pressure=True), jurisdiction=jurisdiction)
    assert verdict.level == "contraindication" and verdict.level != "candidate"
    assert verdict.rule_ids == ["raised_intracranial_pressure"]
    assert verdict.findings[0].jurisdiction == "US and EU"
    assert evaluate(patient(raised_intracranial_pressure=False), jurisdiction=jurisdiction).level == "candidate"


@pytest.mark.parametrize("jurisdiction", ["both", "us", "eu"])
def test_hypertensive_encephalopathy_history_asks_for_more_intensive_monitoring(jurisdiction):
    verdict = evaluate(patient(hypertensive_encephalopathy_history=True), jurisdiction=jurisdiction)
    assert verdict.level == "caution" and verdict.rule_ids == ["hypertensive_encephalopathy_history"]
    assert "more intensively" in verdict.findings[0].action


def test_significant_respiratory_disease_and_the_eu_resuscitation_setting():
    both = evaluate(patient(significant_respiratory_disease=True))
    assert both.level == "caution"
    assert both.rule_ids == ["significant_respiratory_disease", "eu_resuscitation_setting"]
    assert "resuscitation" in both.findings[0].action and "pulse oximetry" in both.findings[0].action
    # the setting rule is the EU's: under the US label it is not applied (the REMS sets the US setting)
    assert evaluate(patient(significant_respiratory_disease=True), jurisdiction="us").rule_ids == [
        "significant_respiratory_disease"
    ]
    assert (
        "eu_resuscitation_setting"
        in evaluate(patient(significant_respiratory_disease=True), jurisdiction="eu").rule_ids
    )


@pytest.mark.parametrize(
    "changes, fires",
    [
        (dict(cardiovascular_disease=True), True),
        (dict(significant_respiratory_disease=True), True),
        (dict(weeks_since_cardiovascular_event=6.01), True),
        (dict(weeks_since_cardiovascular_event=6), False),
        (dict(weeks_since_cardiovascular_event=None), False),
        (dict(cerebrovascular_disease=True), False),
    ],
)
def test_eu_resuscitation_setting_boundaries(changes, fires):
    assert ("eu_resuscitation_setting" in fired(**changes)) is fires


@pytest.mark.parametrize(
    "weeks, us_level, eu_level",
    [(5, "caution", "contraindication"), (6, "caution", "contraindication"), (7, "caution", "caution")],
)
def test_recent_cardiovascular_event_differs_by_jurisdiction(weeks, us_level, eu_level):
    us = evaluate(patient(weeks_since_cardiovascular_event=weeks), jurisdiction="us")
    eu = evaluate(patient(weeks_since_cardiovascular_event=weeks), jurisdiction="eu")
    both = evaluate(patient(weeks_since_cardiovascular_event=weeks))
    assert (us.level, eu.level) == (us_level, eu_level)
    assert both.level == eu_level  # both: the stricter label wherever they differ
    if weeks <= 6:
        us_rule = us.findings[0]
        assert us_rule.id == "recent_cardiovascular_event" and us_rule.label_level == "contraindication"
        assert us_rule.jurisdiction == "EU" and "US" in us_rule.outside_reason


@pytest.mark.parametrize(
    "jurisdiction, level", [("both", "contraindication"), ("us", "contraindication"), ("eu", "caution")]
)
def test_arteriovenous_malformation_is_a_us_contraindication_and_an_eu_caution(jurisdiction, level):
    verdict = evaluate(patient(arteriovenous_malformation=True), jurisdiction=jurisdiction)
    assert verdict.level == level and verdict.level != "candidate"


def test_a_label_rule_without_an_outside_level_does_not_apply_in_the_other_jurisdiction():
    assert "older_adult" in fired(age=70)
    us_old = evaluate(patient(age=70), jurisdiction="us")
    assert us_old.rule_ids == ["older_adult"] and us_old.findings[0].level == "note" and us_old.level == "candidate"
    assert evaluate(patient(age=70), jurisdiction="eu").findings[0].level == "caution"


def test_every_rule_names_its_jurisdiction():
    words = {"US and EU", "US", "EU", "not a label rule"}
    for rule in load_rules().rules:
        assert rule.jurisdiction in words
        if rule.outside_level is not None:
            assert rule.jurisdiction in {"US", "EU"} and rule.outside_reason
    assert next(r for r in load_rules().rules if r.id == "blood_pressure_local_hold").jurisdiction == "not a label rule"


def test_unknown_jurisdiction_is_refused():
    with pytest.raises(ValueError):
        evaluate(patient(), jurisdiction="uk")


def test_checklist_shows_the_jurisdiction_and_the_label_summary():
    from ketamine_course.widgets.screening_explorer import ScreeningForm

    form = ScreeningForm()
    form.widget()
    form.trials.value = 2
    form.checks["raised_intracranial_pressure"].value = True
    assert form.check().level == "contraindication"
    assert "Jurisdiction: US and EU" in form.card.value and "Rules applied: US and EU labels" in form.card.value
    assert "What the label says" in form.card.value and "resuscitation" in form.card.value
    form.checks["raised_intracranial_pressure"].value = False
    form.cv_event.value, form.cv_weeks.value = True, 5
    form.jurisdiction.value = "us"
    verdict = form.check()
    assert verdict.level == "caution" and "An EU contraindication; under the US label" in form.card.value
    assert "<b>EU:</b>" not in form.card.value  # the label summary follows the jurisdiction chosen
    assert set(form.jurisdiction.options) == {("US and EU labels", "both"), ("US label", "us"), ("EU label", "eu")}


# --- the US/EU side-by-side table ---------------------------------------------------------------------


def test_regulatory_table_is_valid_and_cited():
    import yaml

    from ketamine_course.content.models import DataSet, RegulatoryComparison

    raw = yaml.safe_load((content.CONTENT_DIR / "data" / "regulatory_us_eu.yaml").read_text(encoding="utf-8"))
    table = RegulatoryComparison.model_validate(raw)
    DataSet.model_validate(raw)  # the generic schema test of data/*.yaml reads it too
    known = {r.key for r in content.reference_library().references}
    topics = {r.id for r in table.rows}
    assert {
        "indications",
        "prescriber",
        "co_therapy",
        "setting",
        "observation",
        "rems",
        "contraindications",
        "warnings",
        "dosing_age",
        "driving",
    } <= topics
    for row in table.rows:
        assert row.us.strip() and row.eu.strip() and row.revision_read.strip()
        assert set(row.refs) <= known and all(content.reference(k).verified for k in row.refs)
    assert "intracranial pressure" in table.row("contraindications").eu
    assert "6 weeks" in table.row("contraindications").eu
    assert "SSRI or an SNRI" in table.row("co_therapy").eu
    assert "psychiatric emergency" in table.row("indications").eu
    assert "pulse oximeter" in table.row("rems").us
    with pytest.raises(ValidationError):
        RegulatoryComparison.model_validate({**raw, "rows": raw["rows"] + raw["rows"][:1]})  # duplicate topic


def test_regulatory_table_widget_filters_by_topic_and_jurisdiction():
    from ketamine_course import ui
    from ketamine_course.widgets.regulatory_table import RegulatoryTable, table_html

    ui.us_eu_table()
    widget = RegulatoryTable()
    assert "United States" in widget.out.value and "European Union" in widget.out.value
    widget.jurisdiction.value = "eu"
    assert "United States" not in widget.out.value and "European Union" in widget.out.value
    widget.topic.value = "contraindications"
    assert "6 weeks" in widget.out.value and "Driving" not in widget.out.value
    assert "https://" in table_html("setting", "us")
    with pytest.raises(ValueError):
        table_html("all", "uk")


# --- December 2026 review: rules that must hold under every jurisdiction ---------------------------------------


@pytest.mark.parametrize("jurisdiction", ["us", "eu", "both"])
def test_history_of_mania_is_a_caution_in_every_jurisdiction(jurisdiction):
    """A history of mania must never leave a 'candidate' verdict, whichever label's rules are chosen."""
    verdict = evaluate(patient(mania_history=True), jurisdiction=jurisdiction)
    assert verdict.level == "caution" and "mania_history" in verdict.rule_ids
    assert evaluate(patient(mania_history=False), jurisdiction=jurisdiction).level == "candidate"


@pytest.mark.parametrize("jurisdiction", ["us", "eu", "both"])
def test_uncontrolled_hyperthyroidism_is_a_caution_in_every_jurisdiction(jurisdiction):
    verdict = evaluate(patient(uncontrolled_hyperthyroidism=True), jurisdiction=jurisdiction)
    assert verdict.level == "caution" and "uncontrolled_hyperthyroidism" in verdict.rule_ids
    rule = next(r for r in load_rules().rules if r.id == "uncontrolled_hyperthyroidism")
    assert rule.jurisdiction == "EU" and "Course advice" in rule.outside_reason


@pytest.mark.parametrize("jurisdiction", ["us", "eu"])
def test_postpartum_note_applies_under_both_labels(jurisdiction):
    verdict = evaluate(patient(diagnosis="postpartum_depression"), jurisdiction=jurisdiction)
    assert "postpartum_depression" in verdict.rule_ids
    assert next(r for r in load_rules().rules if r.id == "postpartum_depression").jurisdiction == "US and EU"


def test_no_jurisdiction_is_more_permissive_than_both_for_any_single_answer():
    """For each rule's triggering answers, 'both' is at least as strict as the US and the EU rules alone."""
    rank = {"candidate": 0, "caution": 1, "contraindication": 2}
    for on, _off in CASES.values():
        both = rank[evaluate(patient(**on), jurisdiction="both").level]
        assert both >= rank[evaluate(patient(**on), jurisdiction="us").level]
        assert both >= rank[evaluate(patient(**on), jurisdiction="eu").level]


def test_regulatory_table_states_both_blood_pressure_durations_and_the_mdsi_reduction():
    table = content.regulatory_comparison()
    bp = table.row("blood_pressure")
    assert "4 hours" in bp.us and "1 to 2 hours" in bp.eu
    dosing = table.row("dosing_age")
    assert "one-time" not in dosing.us and "56 mg twice weekly" in dosing.us
    warnings = table.row("warnings")
    assert "bladder" in warnings.us and "bladder" in warnings.eu
