"""Grade passback (LTI 1.3 Assignment and Grade Services) to a mock learning platform on loopback
(tests/lti_platform.py), from a scratch course graded by real nbgrader, as an instructor runs it.

Three learners submit the Start-here check: amara (all right, on time), ben (partly right, 25 hours
late: two started days, 20% of the points off) and dev (all right, but no longer a member of the
platform's course). Nothing is sent while their written answers wait for a person. The launches the hub would
have recorded are written to lti/learners.json as it writes them.
"""

from __future__ import annotations

import json
import shutil
import warnings
from datetime import datetime, timedelta, timezone

import jwt
import pytest
import yaml
from lti_platform import LEARNER, STAFF, MockPlatform, User, new_key, pem, public_jwk
from nbgrader.api import Gradebook

from ketamine_course.core import late_penalty, lti
from ketamine_course.instructor import grade_passback
from ketamine_course.storage import answer_store

from conftest import REPO, copy_course, course_command, nbgrader

pytestmark = [pytest.mark.nbgrader, pytest.mark.xdist_group("passback")]

ASSIGNMENT = "ps0_start_here"
FIXTURE = yaml.safe_load((REPO / "tests" / "fixtures" / "assignments" / f"{ASSIGNMENT}.yaml").read_text())
NOTEBOOK = FIXTURE["notebook"]
REFLECTION = "ps0_r1_task"
DUE = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
LATE = {"ben": timedelta(hours=25)}
ANSWERS = {
    "amara": FIXTURE["right"],
    "ben": FIXTURE["partial"]["answers"],
    "dev": FIXTURE["right"],
}
READ_BY_A_PERSON = {"amara": 2.0, "ben": 1.5, "dev": 2.0}


def launches(platform: MockPlatform) -> dict:
    """lti/learners.json as the hub writes it: account -> the record of their launch."""
    found = {}
    for name in platform.users:
        claims = jwt.decode(platform.id_token(name, "n"), options={"verify_signature": False})
        found[name] = lti.launch_record(claims)
    return found


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = copy_course(tmp_path_factory.mktemp("passback") / "course_root")
    nbgrader(root, "generate_assignment", ASSIGNMENT, "--force")
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        warnings.simplefilter("ignore")
        gb.update_or_create_assignment(ASSIGNMENT, duedate=DUE.replace(tzinfo=None))
    released = root / "assignments" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    for student, answers in ANSWERS.items():
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        shutil.copy(released, folder)
        for item_id, value in answers.items():
            answer_store.save_answer(item_id, value, folder)
        handed_in = DUE + LATE.get(student, timedelta(hours=-1))
        (folder / "timestamp.txt").write_text(handed_in.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))

    platform = MockPlatform().start()
    platform.users = {name: User(f"user-{name}", [LEARNER, STAFF], name=name.title()) for name in ANSWERS}
    platform.members = {"course-1": {"user-amara", "user-ben"}}  # dev has left the course
    tool_key = new_key()
    key_path = root.parent / "tool-key.pem"
    key_path.write_bytes(pem(tool_key))
    key_path.chmod(0o600)
    platform.tool_keys = [public_jwk(tool_key, "tool-key")]
    (root / lti.FOLDER).mkdir()
    registration = platform.registration(key_path, "lti")
    shared = {k: registration[k] for k in ("issuer", "client_id", "token_url", "private_key")}
    (root / lti.PLATFORM_FILE).write_text(json.dumps({**shared, "key_id": "tool-key"}))
    (root / lti.LEARNERS_FILE).write_text(json.dumps(launches(platform)))
    first = course_command(root, "grade-cohort", ASSIGNMENT, "--send-grades")
    try:
        yield root, platform, first
    finally:
        platform.stop()


def grade_by_hand(root, scores: dict) -> None:
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        warnings.simplefilter("ignore")
        for student, points in scores.items():
            grade = gb.find_grade(REFLECTION, NOTEBOOK, ASSIGNMENT, student)
            grade.manual_score = points
            grade.needs_manual_grade = False
        gb.db.commit()


def expected_scores() -> dict:
    """user id -> final score: autograded points, the written answer's, minus the late penalty."""
    auto = {"amara": FIXTURE["auto_points"], "ben": FIXTURE["partial"]["score"]}
    points = FIXTURE["auto_points"] + FIXTURE["manual_points"]
    late = {s: late_penalty.points_off(points, auto[s], LATE[s].total_seconds(), 0.10) for s in LATE}
    assert late == {"ben": pytest.approx(2.0)}
    return {f"user-{s}": auto[s] + READ_BY_A_PERSON[s] - late.get(s, 0) for s in auto}


def score_posts(platform) -> int:
    return sum(1 for method, path in platform.requests if method == "POST" and path.endswith("/scores"))


@pytest.mark.kernel
def test_grade_cohort_sends_nothing_while_written_answers_wait(course):
    root, platform, first = course
    assert first.returncode == 1, first.stdout + first.stderr
    last = first.stdout.strip().splitlines()[-1]
    assert last.startswith(f"Sent 0 score(s) of {ASSIGNMENT} to the learning platform")
    for student in ANSWERS:
        assert f"{student} (a grade still waits for a person)" in last
    assert platform.gradebook == {} and platform.line_items.get("course-1", []) == []


@pytest.mark.kernel
def test_final_scores_reach_the_platform_once_and_only_changes_are_sent_again(course):
    root, platform, _ = course
    grade_by_hand(root, READ_BY_A_PERSON)
    sent = course_command(root, "send-grades", ASSIGNMENT)
    assert sent.returncode == 1, "a learner not sent is reported in the exit status"
    summary = sent.stdout.strip().splitlines()[-1]
    assert f"Sent 2 score(s) of {ASSIGNMENT} to the learning platform (1 line item(s) created)" in summary
    assert "dev (the platform does not know user user-dev in this course" in summary
    assert "Traceback" not in sent.stderr

    [item] = platform.line_items["course-1"]
    points = FIXTURE["auto_points"] + FIXTURE["manual_points"]
    assert (item["resourceId"], item["tag"], item["scoreMaximum"]) == (ASSIGNMENT, ASSIGNMENT, points)
    book = platform.gradebook[("course-1", ASSIGNMENT)]
    assert {user: score["scoreGiven"] for user, score in book.items()} == pytest.approx(expected_scores())
    for score in book.values():
        assert (score["scoreMaximum"], score["activityProgress"], score["gradingProgress"]) == (
            points,
            "Completed",
            "FullyGraded",
        )
        assert datetime.fromisoformat(score["timestamp"]).utcoffset() == timedelta(0)

    # A re-send changes nothing: no new line item, no score sent again.
    before, posts = json.loads(json.dumps(book)), score_posts(platform)
    again = grade_passback.send_grades(ASSIGNMENT, root)
    assert again.sent == [] and again.unchanged == ["amara", "ben"] and list(again.not_sent) == ["dev"]
    assert platform.gradebook[("course-1", ASSIGNMENT)] == before
    assert len(platform.line_items["course-1"]) == 1
    assert score_posts(platform) == posts + 1, "only dev, whom the platform refused, is tried again"

    # A grade changed by hand is sent alone, through a platform that first answers 503 twice.
    grade_by_hand(root, {"ben": 2.0})
    platform.fail_next = 2
    changed = grade_passback.send_grades(ASSIGNMENT, root, pauses=(0.01, 0.01, 0.01))
    assert changed.sent == ["ben"] and changed.unchanged == ["amara"] and changed.created_line_items == 0
    assert platform.gradebook[("course-1", ASSIGNMENT)]["user-ben"]["scoreGiven"] == pytest.approx(
        expected_scores()["user-ben"] + 0.5
    )
    log = json.loads((root / lti.SENT_FILE).read_text())
    assert set(log["scores"][ASSIGNMENT]) == {"amara", "ben"}
    assert list(log["line_items"].values()) == [item["id"]]


def test_a_platform_that_never_answers_stops_with_what_to_do():
    service = grade_passback.Service({"token_url": "http://127.0.0.1:9/token"}, pauses=(0.01,))
    service._token = "any"
    with pytest.raises(grade_passback.GradePassbackError, match="did not answer .* after 2 tries"):
        service.request("GET", "http://127.0.0.1:9/lineitems")


def test_without_a_registration_the_message_says_where_it_comes_from(tmp_path):
    with pytest.raises(grade_passback.GradePassbackError, match="--lti-platform"):
        grade_passback.send_grades(ASSIGNMENT, tmp_path)


def test_the_course_role_comes_from_the_course_not_the_institution():
    member = lti.MEMBERSHIP
    assert lti.course_role([f"{member}#Learner", STAFF]) == "participant"
    assert lti.course_role([f"{member}/Instructor#TeachingAssistant"]) == "instructor"
    assert lti.course_role(["Instructor"]) == "instructor"
    assert lti.course_role([STAFF, "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor"]) is None
    assert lti.course_role(None) is None
    name = lti.account_name("lti", "https://moodle.example.org", "42; rm -rf /")
    assert name == lti.account_name("lti", "https://moodle.example.org", "42; rm -rf /")
    assert name.startswith("lti") and len(name) == 13 and name[3:].isalnum()
    assert name != lti.account_name("lti", "https://canvas.example.org", "42; rm -rf /")
