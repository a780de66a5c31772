"""Send an assignment's final scores to the learning platform the class launched from (LTI 1.3
Assignment and Grade Services).

    ketamine-course send-grades ASSIGNMENT      each learner's score after the late penalty, once;
                                                a re-run sends only what changed
    ketamine-course grade-cohort ASSIGNMENT --send-grades    the same, after autograding

Run by an instructor in the grading course of a workshop started with --lti-platform. The hub wrote
lti/platform.json (the registration, without its secrets) and lti/learners.json (each account's user
on the platform and its grade service, from their last launch); this command writes
lti/sent-grades.json: the line item of each assignment in each platform course, and every score
sent. The service token comes from a client-credentials grant with a JWT signed by the tool's
private key (private_key_jwt, RS256), read from the path in the registration.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ketamine_course.core import lti
from ketamine_course.core.errors import CourseError
from ketamine_course.instructor.gradebook import final_scores, has_gradebook, open_gradebook
from ketamine_course.runtime import console_progress, nbgrader
from ketamine_course.storage.json_files import locked, write_atomically
from ketamine_course.storage.paths import course_root

LINE_ITEMS = "application/vnd.ims.lis.v2.lineitemcontainer+json"
LINE_ITEM = "application/vnd.ims.lis.v2.lineitem+json"
SCORE = "application/vnd.ims.lis.v1.score+json"
RETRY_PAUSES = (0.5, 1.5, 4.0)  # seconds before each new try after a network error or a 5xx answer


class GradePassbackError(CourseError):
    """Grades cannot be sent; the message says why and what to do."""


class LearnerNotSent(Exception):
    """One learner's score was refused by the platform; the others are still sent."""


@dataclass
class Sending:
    assignment: str
    sent: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    not_sent: dict = field(default_factory=dict)  # account -> why
    created_line_items: int = 0
    log: Path = None

    def summary(self) -> str:
        line = (
            f"Sent {len(self.sent)} score(s) of {self.assignment} to the learning platform"
            f"{f' ({self.created_line_items} line item(s) created)' if self.created_line_items else ''}"
            f"; {len(self.unchanged)} unchanged since the last send"
        )
        if self.not_sent:
            line += "; not sent: " + "; ".join(f"{who} ({why})" for who, why in sorted(self.not_sent.items()))
        return line + f". Log: {self.log}"


def _read_json(path: Path, what: str, missing: str) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GradePassbackError(f"{what} {path} does not exist: {missing}") from None
    except (OSError, ValueError) as exc:
        raise GradePassbackError(f"{what} {path} cannot be read ({exc}).") from None


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Service:
    """The platform's grade service, as the tool: one token, requests retried on network errors and 5xx."""

    def __init__(self, platform: dict, pauses=RETRY_PAUSES):
        self.platform = platform
        self.pauses = pauses
        self._token = None

    def client_assertion(self) -> str:
        import jwt

        key_path = Path(self.platform["private_key"])
        try:
            key = key_path.read_bytes()
        except PermissionError:
            raise GradePassbackError(
                f"You cannot read the tool's private key {key_path}: ask the organiser to make it readable "
                "by the instructors' group (chgrp INSTRUCTORS-GROUP KEY; chmod 640 KEY)."
            ) from None
        except OSError as exc:
            raise GradePassbackError(f"The tool's private key {key_path} cannot be read ({exc}).") from None
        now = int(time.time())
        claims = {
            "iss": self.platform["client_id"],
            "sub": self.platform["client_id"],
            "aud": self.platform.get("token_audience") or self.platform["token_url"],
            "iat": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": self.platform.get("key_id", "")})

    def token(self) -> str:
        if self._token is None:
            form = {
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": self.client_assertion(),
                "scope": " ".join((lti.SCOPE_LINEITEM, lti.SCOPE_LINEITEM_READ, lti.SCOPE_SCORE)),
            }
            status, answer = self.request("POST", self.platform["token_url"], form=form, authorised=False)
            if status != 200 or not answer.get("access_token"):
                raise GradePassbackError(
                    f"The platform refused the tool's token request ({status}: {answer.get('error', answer)}). "
                    "Check client_id, token_url and that the platform has the tool's public key "
                    "(the hub's /hub/lti13/jwks)."
                )
            self._token = answer["access_token"]
        return self._token

    def request(self, method: str, url: str, body=None, form=None, content_type=None, accept=None, authorised=True):
        """(status, JSON answer or {}); retried with back-off on network errors and 5xx answers."""
        headers = {"Accept": accept or "application/json"}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = content_type or "application/json"
        if authorised:
            headers["Authorization"] = f"Bearer {self.token()}"
        for attempt in range(len(self.pauses) + 1):
            problem = None
            try:
                with urllib.request.urlopen(urllib.request.Request(url, data, headers, method=method), timeout=30) as r:
                    return r.status, _json_of(r.read())
            except urllib.error.HTTPError as answer:
                if answer.code < 500:
                    return answer.code, _json_of(answer.read())
                problem = f"{answer.code} {answer.reason}"
            except (urllib.error.URLError, OSError) as exc:
                problem = str(getattr(exc, "reason", exc))
            if attempt < len(self.pauses):
                time.sleep(self.pauses[attempt])
        raise GradePassbackError(
            f"The learning platform did not answer {method} {url} after {len(self.pauses) + 1} tries ({problem}). "
            "What was sent is in the log; run the command again later to send the rest."
        )

    def line_item(self, lineitems: str, assignment: str, max_score: float) -> tuple:
        """(URL of the assignment's line item in this platform course, True if created now): found by
        resourceId and tag, created only when there is none."""
        query = urllib.parse.urlencode({"resource_id": assignment, "tag": assignment})
        status, found = self.request("GET", _with_query(lineitems, query), accept=LINE_ITEMS)
        if status != 200:
            raise GradePassbackError(f"The platform did not list the line items of {lineitems} ({status}: {found}).")
        for item in found if isinstance(found, list) else []:
            if item.get("resourceId") == assignment and item.get("id"):
                return item["id"], False
        body = {"scoreMaximum": max_score, "label": assignment, "resourceId": assignment, "tag": assignment}
        status, created = self.request("POST", lineitems, body, content_type=LINE_ITEM, accept=LINE_ITEM)
        if status not in (200, 201) or not created.get("id"):
            raise GradePassbackError(f"The platform did not create a line item for {assignment} ({status}: {created}).")
        return created["id"], True

    def send_score(self, line_item: str, user_id: str, score: float, max_score: float) -> None:
        body = {
            "userId": user_id,
            "scoreGiven": score,
            "scoreMaximum": max_score,
            "activityProgress": "Completed",
            "gradingProgress": "FullyGraded",
            "timestamp": utc_now(),
        }
        parts = urllib.parse.urlsplit(line_item)
        scores_url = urllib.parse.urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))
        status, answer = self.request("POST", scores_url, body, content_type=SCORE)
        if status in (401, 403):
            raise GradePassbackError(f"The platform refused the tool's scores ({status}: {answer}); check its scopes.")
        if status in (400, 404, 422):
            raise LearnerNotSent(f"the platform does not know user {user_id} in this course: {status} {answer or ''}")
        if status not in (200, 201, 202, 204):
            raise LearnerNotSent(f"the platform refused the score: {status} {answer or ''}")


def _json_of(raw: bytes):
    try:
        return json.loads(raw or b"{}")
    except ValueError:
        return {"error": raw[:200].decode(errors="replace")}


def _with_query(url: str, query: str) -> str:
    return url + ("&" if "?" in url else "?") + query


def send_grades(assignment: str, root: Path = None, pauses=RETRY_PAUSES, stream=None) -> Sending:
    """Send every fully graded learner's final score of `assignment`; only those that changed since the last send."""
    root = Path(root or course_root()).resolve()
    platform = _read_json(
        root / lti.PLATFORM_FILE,
        "The learning platform's registration",
        "the workshop server writes it when started with --lti-platform; run send-grades in its grading course.",
    )
    learners = _read_json(
        root / lti.LEARNERS_FILE, "The list of launches", "nobody has launched the course from the platform yet."
    )
    if not has_gradebook(root):
        raise GradePassbackError(f"There is no gradebook in {root} yet: autograde {assignment} first.")
    with nbgrader.in_course(root), open_gradebook(root) as gradebook:
        scores = final_scores(gradebook, assignment)
    if not scores:
        raise GradePassbackError(f"Nobody's submission of {assignment} is graded yet: autograde it first.")
    run = Sending(assignment, log=root / lti.SENT_FILE)
    service = Service(platform, pauses)
    with locked(root / lti.FOLDER / ".sent-grades.lock"):
        log = json.loads(run.log.read_text(encoding="utf-8")) if run.log.exists() else {}
        log.setdefault("line_items", {})
        sent = log.setdefault("scores", {}).setdefault(assignment, {})
        with console_progress.bar(
            total=len(scores), unit="learner", desc=f"Sending {assignment}", stream=stream
        ) as bar:
            for student, final in sorted(scores.items()):
                why = _send_one(service, log, sent, run, student, final, learners.get(student))
                if why:
                    run.not_sent[student] = why
                bar.update(1)
    return run


def _send_one(service, log, sent, run, student, final, learner) -> str:
    """Send one learner's score unless it is already there; '' when done, else why it was not sent."""
    if not final.graded:
        return "a grade still waits for a person"
    if learner is None:
        return "never launched the course from the platform"
    if not learner.get("lineitems") or lti.SCOPE_SCORE not in learner.get("scopes", []):
        return "their platform course gave the tool no grade service (AGS)"
    previous = sent.get(student, {})
    if previous.get("lineitems") == learner["lineitems"] and (previous.get("score"), previous.get("max")) == (
        final.score,
        final.max_score,
    ):
        run.unchanged.append(student)
        return ""
    key = f"{learner['lineitems']} {run.assignment}"
    if key not in log["line_items"]:
        log["line_items"][key], created = service.line_item(learner["lineitems"], run.assignment, final.max_score)
        run.created_line_items += created
        _save(run.log, log)  # before any score: a re-run never creates it again
    try:
        service.send_score(log["line_items"][key], learner["user_id"], final.score, final.max_score)
    except LearnerNotSent as refused:
        return str(refused)
    sent[student] = {
        "user_id": learner["user_id"],
        "lineitems": learner["lineitems"],
        "line_item": log["line_items"][key],
        "score": final.score,
        "max": final.max_score,
        "sent": utc_now(),
    }
    _save(run.log, log)
    run.sent.append(student)
    return ""


def _save(path: Path, log: dict) -> None:
    """The send log, atomically; readable and writable by the instructors' group (the folder's)."""
    write_atomically(path, json.dumps(log, indent=1, sort_keys=True) + "\n", mode=0o660)


def cmd_send_grades(args) -> int:
    run = send_grades(args.assignment)
    console_progress.summary(run.summary())
    return 1 if run.not_sent else 0


def add_commands(subparsers) -> None:
    command = subparsers.add_parser(
        "send-grades", help="send an assignment's final scores to the learning platform (LTI 1.3)"
    )
    command.add_argument("assignment", help="e.g. ps1_mechanism")
    command.set_defaults(run=cmd_send_grades)
