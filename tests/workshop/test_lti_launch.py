"""Launches from a learning platform (LTI 1.3) into the workshop server: a real JupyterHub started by
`ketamine-course workshop start --lti-platform`, real Unix accounts created by the launches, and the
mock platform of tests/lti_platform.py on loopback, in headless Chromium.

A learner's launch opens their own JupyterLab; an instructor's opens the grading folder with the
formgrader; what grade passback needs is written for the instructors and kept encrypted in the hub's
auth state. Forged id tokens (another key, another audience, expired, a replayed nonce, another
deployment, no course role) are refused with a sentence that says why. Needs what
test_workshop_hub.py needs; the helpers of tests/workshop_hub.py are shared with it, and every account a launch
creates is removed at the end.
"""

from __future__ import annotations

import html
import http.cookiejar
import json
import pwd
import sqlite3
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
import workshop_hub
from lti_platform import INSTRUCTOR as INSTRUCTOR_ROLE
from lti_platform import LEARNER, STAFF, MockPlatform, User, new_key, pem
from workshop_hub import GROUPS, PREFIX, nbgrader_menu, new_page, start_hub
from workshop_server import remove_account, stop_hub

from ketamine_course.core import lti
from ketamine_course.workshop.lti import check_platform
from ketamine_course.workshop.people import account, in_group
from ketamine_course.workshop.settings import Settings, WorkshopError

from conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("hub")]  # with test_workshop_hub.py; see conftest.py
ACCOUNT_PREFIX = f"{PREFIX}l"
scratch, shared = workshop_hub.scratch, workshop_hub.shared  # the module fixtures of tests/workshop_hub.py, used here


@pytest.fixture(scope="module")
def platform():
    found = MockPlatform().start()
    found.users = {
        "ana": User("user-ana", [LEARNER, STAFF], name="Ana Silva"),
        "olu": User("user-olu", [INSTRUCTOR_ROLE], name="Olu Adeyemi"),
        "guest": User("user-guest", [STAFF], name="A Visitor"),
    }
    try:
        yield found
    finally:
        found.stop()


@pytest.fixture(scope="module")
def lti_hub(scratch, shared, platform):
    key_path = scratch / "tool-key.pem"
    key_path.write_bytes(pem(new_key()))
    key_path.chmod(0o600)
    registration = scratch / "platform.json"
    registration.write_text(json.dumps(platform.registration(key_path, ACCOUNT_PREFIX)))
    settings = None
    try:
        settings = start_hub(scratch, shared, scratch / "srv-lti", None, "--lti-platform", str(registration))
        platform.tool_login = f"{settings.url}/hub/lti13/oauth_login"
        platform.tool_redirect = f"{settings.url}/hub/lti13/oauth_callback"
        platform.target_link = f"{settings.url}/hub/spawn"
        with urllib.request.urlopen(f"{settings.url}/hub/lti13/jwks", timeout=30) as answer:
            platform.tool_keys = json.loads(answer.read())["keys"]
        yield settings
    finally:
        if settings is not None:
            log = settings.state / "jupyterhub.log"
            print("\n".join(log.read_text(errors="replace").splitlines()[-60:]))  # shown when a test fails
            stop_hub(settings)
        for entry in pwd.getpwall():
            if entry.pw_name.startswith(ACCOUNT_PREFIX):
                remove_account(entry.pw_name)
        for group in GROUPS.values():
            subprocess.run(["groupdel", group], capture_output=True, text=True)


def account_of(platform, login_hint: str) -> str:
    return lti.account_name(ACCOUNT_PREFIX, platform.url, platform.users[login_hint].sub)


def launch(page, platform, login_hint: str):
    """Click the course's link in the platform: JupyterLab, ready."""
    page.goto(platform.launch_url(login_hint))
    page.locator(".jp-NotebookPanel, .jp-DirListing-content").first.wait_for(timeout=180_000)


@pytest.mark.kernel
def test_a_learner_launches_into_their_own_jupyterlab(lti_hub, platform, browser):
    name = account_of(platform, "ana")
    page = new_page(browser)
    try:
        launch(page, platform, "ana")
        assert page.url.startswith(f"{lti_hub.url}/user/{name}/lab/tree/course/"), page.url
        menu = nbgrader_menu(page)
        assert "Assignment List" in menu and "Formgrader" not in menu, menu
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "lti_learner_failure.png"))
        raise
    finally:
        page.context.close()
    assert in_group(name, lti_hub.participants_group) and not in_group(name, lti_hub.instructors_group)
    learner = json.loads((lti_hub.grading / lti.LEARNERS_FILE).read_text())[name]
    assert learner["user_id"] == "user-ana" and learner["role"] == "participant"
    assert learner["lineitems"] == f"{platform.url}/contexts/course-1/lineitems"
    assert lti.SCOPE_SCORE in learner["scopes"] and learner["context_id"] == "course-1"
    with sqlite3.connect(lti_hub.state / "jupyterhub.sqlite") as db:
        [(stored,)] = db.execute("select encrypted_auth_state from users where name = ?", (name,)).fetchall()
    assert stored and b"lineitems" not in stored and b"user-ana" not in stored, "the launch claims are encrypted"


@pytest.mark.kernel
def test_an_instructor_launch_opens_the_formgrader(lti_hub, platform, browser):
    name = account_of(platform, "olu")
    page = new_page(browser)
    try:
        launch(page, platform, "olu")
        assert page.url.startswith(f"{lti_hub.url}/user/{name}/lab"), page.url
        assert "Formgrader" in nbgrader_menu(page)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "lti_instructor_failure.png"))
        raise
    finally:
        page.context.close()
    assert in_group(name, lti_hub.instructors_group) and not in_group(name, lti_hub.participants_group)


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def begin_login(platform, login_hint: str) -> tuple:
    """The tool's login initiation, as the launch page posts it: (cookie jar, nonce, state) of the login."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirects)
    form = {"iss": platform.url, "login_hint": login_hint, "target_link_uri": platform.target_link}
    form.update(client_id=platform.client_id, lti_deployment_id="deployment-1")
    try:
        opener.open(platform.tool_login, urllib.parse.urlencode(form).encode(), timeout=30)
    except urllib.error.HTTPError as answer:
        assert answer.code == 302, answer.read()
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(answer.headers["Location"]).query))
        return jar, query["nonce"], query["state"]
    raise AssertionError("the tool's login initiation did not redirect to the platform")


def post_launch(platform, cookies, id_token: str, state: str) -> tuple:
    """Post an id token to the tool's launch URL with the login's cookies: (status, page text)."""
    jar = http.cookiejar.CookieJar()
    for cookie in cookies:
        jar.set_cookie(cookie)
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirects)
    data = urllib.parse.urlencode({"id_token": id_token, "state": state}).encode()
    try:
        with opener.open(platform.tool_redirect, data, timeout=60) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as answer:
        return answer.code, html.unescape(answer.read().decode())


def test_forged_launches_are_refused_with_a_clear_message(lti_hub, platform):
    jar, nonce, state = begin_login(platform, "ana")
    cookies = list(jar)
    genuine = platform.id_token("ana", nonce)
    assert post_launch(platform, cookies, genuine, state)[0] == 302, "the genuine launch logs in"
    status, page = post_launch(platform, cookies, genuine, state)  # the same post, cookies and all, again
    assert status == 400 and "already used (a replayed nonce)" in page

    now = int(time.time())
    forgeries = {
        "another key": ({"key": new_key()}, "signature does not match the platform's published keys"),
        "another audience": ({"aud": "another-tool"}, "issued for another tool"),
        "expired": ({"iat": now - 400, "exp": now - 100}, "the id token has expired"),
        "another deployment": ({lti.DEPLOYMENT_CLAIM: "deployment-9"}, "deployment 'deployment-9' is not one"),
    }
    for label, (changes, said) in forgeries.items():
        jar, nonce, state = begin_login(platform, "ana")
        status, page = post_launch(platform, list(jar), platform.id_token("ana", nonce, **changes), state)
        assert status in (400, 401, 403), label
        assert "The launch from the learning platform was refused" in page and said in page, (label, page[-800:])
    jar, nonce, state = begin_login(platform, "guest")
    status, page = post_launch(platform, list(jar), platform.id_token("guest", nonce), state)
    assert status == 403 and "no course role the course knows" in page
    assert account(account_of(platform, "guest")) is None, "a refused launch creates no account"
    with pytest.raises(urllib.error.HTTPError) as direct:  # the hub's address opened directly
        urllib.request.urlopen(f"{lti_hub.url}/hub/login", timeout=30)
    assert "This course opens from your learning platform" in html.unescape(direct.value.read().decode())


def test_a_registration_with_mistakes_is_named_before_anything_starts(tmp_path):
    registration = tmp_path / "platform.json"
    registration.write_text(
        json.dumps({"issuer": "moodle.example.org", "client_id": "x", "deployment_ids": "1", "private_key": "/no/key"})
    )
    with pytest.raises(WorkshopError) as problem:
        check_platform(Settings(auth="lti", lti_platform=registration))
    message = str(problem.value)
    assert "issuer 'moodle.example.org' is not an http(s) URL" in message
    assert "jwks_url is missing" in message and "token_url is missing" in message
    assert "the tool's private key /no/key does not exist" in message
    (tmp_path / "key.pem").write_text("not a key")
    site = "https://moodle.example.org"
    good = {"issuer": site, "client_id": "x", "deployment_ids": ["1"], "private_key": str(tmp_path / "key.pem")}
    good |= {"login_url": f"{site}/auth", "jwks_url": f"{site}/certs", "token_url": f"{site}/token"}
    registration.write_text(json.dumps(good))
    with pytest.raises(WorkshopError, match="not an unencrypted PEM RSA key"):
        check_platform(Settings(auth="lti", lti_platform=registration))
    with pytest.raises(WorkshopError, match="--lti-platform"):
        check_platform(Settings(auth="lti"))
