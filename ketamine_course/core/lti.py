"""LTI 1.3, as rules: the claims the course reads from a platform's launch, who is an instructor, and
which Unix account a platform's user gets. The hub (workshop/lti.py) and the grade passback
(instructor/grade_passback.py) agree through this module and the files it names.
"""

from __future__ import annotations

import hashlib
import re

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
ROLES_CLAIM = CLAIM + "roles"
DEPLOYMENT_CLAIM = CLAIM + "deployment_id"
CONTEXT_CLAIM = CLAIM + "context"
RESOURCE_LINK_CLAIM = CLAIM + "resource_link"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
AGS_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/"
SCOPE_LINEITEM = AGS_SCOPE + "lineitem"
SCOPE_LINEITEM_READ = AGS_SCOPE + "lineitem.readonly"
SCOPE_SCORE = AGS_SCOPE + "score"

# The files the hub writes for the instructors, in the grading course (group instructors, never participants).
FOLDER = "lti"
PLATFORM_FILE = "lti/platform.json"  # the platform's registration: issuer, client id, token URL, key path
LEARNERS_FILE = "lti/learners.json"  # account -> who they are on the platform and where their grades go
SENT_FILE = "lti/sent-grades.json"  # every score sent, so a re-send sends only what changed

# Context roles (LIS vocabulary, and the short names LTI 1.3 still accepts) that make someone an instructor.
# Institution and system roles never do: a staff member taking the course as a learner is a participant.
MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership"
INSTRUCTOR_ROLES = {"Instructor", "Administrator", "ContentDeveloper", "Mentor"}
LEARNER_ROLES = {"Learner"}


def _context_role(role: str) -> str:
    """'…/membership#Instructor' or '…/membership/Instructor#TeachingAssistant' or 'Instructor' -> 'Instructor';
    '' for an institution or system role."""
    if role.startswith(MEMBERSHIP):
        rest = role[len(MEMBERSHIP) :]
        return rest.lstrip("#/").split("#")[0]
    return role if re.fullmatch(r"[A-Za-z]+", role) else ""


def course_role(roles) -> str | None:
    """'instructor', 'participant', or None when the launch names no course role the course knows."""
    found = {_context_role(role) for role in roles or () if isinstance(role, str)}
    if found & INSTRUCTOR_ROLES:
        return "instructor"
    if found & LEARNER_ROLES:
        return "participant"
    return None


def account_name(prefix: str, issuer: str, user_id: str) -> str:
    """The Unix account of a platform's user: the prefix and a digest of (issuer, user id).

    Nothing the platform sends reaches useradd; the same person on the same platform always gets the
    same account, and two platforms never share one.
    """
    digest = hashlib.sha256(f"{issuer}\n{user_id}".encode()).hexdigest()[:10]
    return f"{prefix}{digest}"


def launch_record(claims: dict) -> dict:
    """What the course keeps of a launch: the user on the platform, the course and link, the grade service."""
    ags = claims.get(AGS_CLAIM) or {}
    context = claims.get(CONTEXT_CLAIM) or {}
    return {
        "user_id": claims.get("sub", ""),
        "issuer": claims.get("iss", ""),
        "deployment_id": claims.get(DEPLOYMENT_CLAIM, ""),
        "name": claims.get("name") or " ".join(filter(None, (claims.get("given_name"), claims.get("family_name")))),
        "email": claims.get("email", ""),
        "role": course_role(claims.get(ROLES_CLAIM)),
        "context_id": context.get("id", ""),
        "context_title": context.get("title", ""),
        "resource_link_id": (claims.get(RESOURCE_LINK_CLAIM) or {}).get("id", ""),
        "lineitems": ags.get("lineitems", ""),
        "lineitem": ags.get("lineitem", ""),
        "scopes": list(ags.get("scope") or []),
    }
