"""Launches from a learning platform (LTI 1.3): the platform's registration, the hub's login through
jupyterhub-ltiauthenticator, and the accounts launches create.

    ketamine-course workshop start --lti-platform platform.json --admin NAME ...

The platform signs an id token; the hub checks it against the platform's published keys (JWKS), with
its issuer, client id, deployment, age and nonce. The course role decides the group (instructors get
the grading folder and the formgrader); the account is created on the first launch, named after the
platform's user id (core/lti.py), never after anything a user can choose. What grade passback needs
(the user on the platform, the grade service's URLs and scopes) is kept in the hub's encrypted auth
state and written for the instructors to lti/learners.json in the grading course.
"""

from __future__ import annotations

import asyncio
import grp
import json
import os
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlparse

from ketamine_course.core import lti
from ketamine_course.storage.json_files import locked, write_atomically
from ketamine_course.workshop.checks import run_checked
from ketamine_course.workshop.people import Person, account, add_accounts, in_group
from ketamine_course.workshop.settings import ACCOUNT_NAME, Settings, WorkshopError, write_private

TOOL_KEY_ID = "ketamine-course-tool"
NONCE_MEMORY = 900  # seconds a used nonce is remembered: longer than an id token is accepted (10 minutes)


@dataclass
class Platform:
    """One learning platform's registration of the course (docs/workshop-server.md, 'Learning platforms')."""

    issuer: str
    client_id: str
    deployment_ids: list
    login_url: str  # the platform's OIDC authorisation endpoint ("authentication request URL")
    jwks_url: str  # the platform's public keys
    token_url: str  # the platform's OAuth 2 token endpoint, for grade passback
    private_key: str  # path of the tool's RSA private key (PEM), outside the repository
    account_prefix: str = "lti"
    key_id: str = TOOL_KEY_ID
    token_audience: str = ""  # the audience of the tool's token request, when the platform wants other than token_url


class LaunchRefused(Exception):
    """A launch the hub does not accept; the message is shown on the error page."""


def read_platform(path: Path) -> Platform:
    """The registration file, checked: every field present, URLs that are URLs, a key that exists."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WorkshopError(f"The learning platform's registration {path} does not exist.") from None
    except (OSError, ValueError) as exc:
        raise WorkshopError(f"The learning platform's registration {path} cannot be read: {exc}.") from None
    if not isinstance(data, dict):
        raise WorkshopError(f"The learning platform's registration {path} must be a JSON object.")
    wanted = ("issuer", "client_id", "deployment_ids", "login_url", "jwks_url", "token_url", "private_key")
    problems = [f"{name} is missing" for name in wanted if not data.get(name)]
    for name in ("issuer", "login_url", "jwks_url", "token_url"):
        if data.get(name) and urlparse(str(data[name])).scheme not in ("https", "http"):
            problems.append(f"{name} {data[name]!r} is not an http(s) URL")
    if isinstance(data.get("deployment_ids"), str):
        data["deployment_ids"] = [data["deployment_ids"]]
    prefix = data.get("account_prefix", "lti")
    if not ACCOUNT_NAME.match(prefix + "0" * 10) or len(prefix) > 20:
        problems.append(f"account_prefix {prefix!r} must be lower-case letters, digits, - or _ (at most 20)")
    if data.get("private_key") and not Path(data["private_key"]).is_file():
        problems.append(f"the tool's private key {data['private_key']} does not exist")
    if problems:
        raise WorkshopError(f"The learning platform's registration {path} has problems:\n  " + "\n  ".join(problems))
    return Platform(**{name: data[name] for name in Platform.__dataclass_fields__ if name in data})


def check_platform(settings: Settings) -> Platform | None:
    """For `workshop start`: the registration must be sound before anything changes."""
    if settings.auth != "lti":
        return None
    if not settings.lti_platform:
        raise WorkshopError("LTI login needs the platform's registration: --lti-platform FILE.")
    platform = read_platform(settings.lti_platform)
    tool_public_key(platform)
    return platform


def tool_public_key(platform: Platform) -> dict:
    """The tool's public key as a JWK, for the platform (it checks the signature of grade passback's requests)."""
    import jwt
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        private = load_pem_private_key(Path(platform.private_key).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise WorkshopError(
            f"The tool's private key {platform.private_key} is not an unencrypted PEM RSA key ({exc})."
        ) from None
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    return {**jwk, "kid": platform.key_id, "alg": "RS256", "use": "sig"}


def crypt_key(settings: Settings) -> str:
    """The key that encrypts the hub's auth state (launch claims), kept in the state folder (0600)."""
    path = settings.state / "jupyterhub_crypt_key"
    if not path.exists():
        write_private(path, secrets.token_hex(32) + "\n")
    return path.read_text().strip()


def instructors_file(settings: Settings, relative: str, text: str) -> Path:
    """Write a file of the grading course that instructors read and participants never see (0660, their group)."""
    gid = grp.getgrnam(settings.instructors_group).gr_gid
    path = settings.grading / relative
    if not path.parent.is_dir():
        path.parent.mkdir(mode=0o2770)
        os.chown(path.parent, 0, gid)
        os.chmod(path.parent, 0o2770)
    write_atomically(path, text, mode=0o660)
    os.chown(path, 0, gid)
    return path


def record_launch(settings: Settings, name: str, record: dict) -> None:
    """Add or update one account's entry in lti/learners.json (what send-grades reads)."""
    with locked(settings.state / "lti-learners.lock"):
        learners = known_learners(settings)
        learners[name] = {**record, "last_launch": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        instructors_file(settings, lti.LEARNERS_FILE, json.dumps(learners, indent=1, sort_keys=True) + "\n")


def known_learners(settings: Settings) -> dict:
    path = settings.grading / lti.LEARNERS_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def ensure_account(settings: Settings, name: str, role: str) -> None:
    """The launch's account, in its role's group only: created on the first launch, moved when the role changes."""
    if account(name) is not None and name not in known_learners(settings):
        raise LaunchRefused(f"the account {name} exists but was not created by a launch; ask the organiser")
    add_accounts([Person(name, role)], settings, settings.home_base, passwords=False)
    other = settings.participants_group if role == "instructor" else settings.instructors_group
    if in_group(name, other):
        run_checked(["gpasswd", "--delete", name, other], f"Removing {name} from {other}")


ANOTHER_TOOL = "the id token was issued for another tool, not this registration's client id"
NO_COOKIE = (
    "this browser did not start the login (its login cookie is missing); start again from the platform and "
    "allow cookies for this site"
)
REASONS = {  # what the library (or PyJWT) says -> what the error page says
    "signature verification failed": "the id token's signature does not match the platform's published keys "
    "(JWKS); check jwks_url in the registration",
    "signature has expired": "the id token has expired; start again from the platform (and check this machine's clock)",
    "invalid audience": ANOTHER_TOOL,
    "audience doesn't match": ANOTHER_TOOL,
    "invalid issuer": "the id token comes from another platform than the registered issuer",
    "issued too long ago": "the id token is too old; start again from the platform",
    "nonce mismatch": "the id token does not answer this browser's login request (nonce mismatch); start again "
    "from the platform",
    "missing nonce state cookie": NO_COOKIE,
    "state missing from cookies": NO_COOKIE,
    "unable to find a signing key": "the id token is signed with a key the platform does not publish (JWKS)",
}


def refusal(problem: Exception) -> str:
    """A plain sentence for why a launch was refused."""
    text = str(getattr(problem, "log_message", None) or problem)
    reason = next((said for known, said in REASONS.items() if known in text.lower()), text)
    return f"The launch from the learning platform was refused: {reason}."


def _hub_classes():
    """The authenticator and its handlers; imported only by the hub (they need jupyterhub-ltiauthenticator)."""
    from jupyterhub.handlers import BaseHandler
    from ltiauthenticator.lti13.auth import LTI13Authenticator
    from ltiauthenticator.lti13.error import LoginError, ValidationError
    from ltiauthenticator.lti13.handlers import LTI13CallbackHandler, LTI13LoginInitHandler
    from tornado.web import HTTPError

    class LaunchHandler(LTI13CallbackHandler):
        """The platform posts the id token here: validated by the library, then deployment, nonce and role."""

        async def post(self):
            try:
                claims = self.decode_and_validate_launch_request()
                self.authenticator.remember_nonce(claims)
            except (ValidationError, HTTPError, LaunchRefused) as problem:
                self.log.warning("LTI launch refused: %s", problem)
                raise HTTPError(getattr(problem, "status_code", 400), refusal(problem)) from None
            try:
                user = await self.login_user(claims)
            except (LoginError, LaunchRefused) as problem:
                self.log.warning("LTI launch refused: %s", problem)
                raise HTTPError(403, refusal(problem)) from None
            if user is None:
                raise HTTPError(403, "The launch from the learning platform was refused: not allowed on this hub.")
            await self.redirect_to_next_url(user)

    class LoginStartHandler(LTI13LoginInitHandler):
        """Where the platform starts the login; someone who opens the hub's address directly is told what to do."""

        def post(self):
            if not self.get_argument("iss", None):
                raise HTTPError(
                    400,
                    "This course opens from your learning platform: follow its link in your course there "
                    "(this address is where the platform starts the login).",
                )
            return super().post()

        get = post

    class ToolKeysHandler(BaseHandler):
        """The tool's public key set (JWKS), which the platform uses to check grade passback's requests."""

        def get(self):
            self.set_header("Content-Type", "application/json")
            self.write(json.dumps({"keys": [self.authenticator.tool_key]}))

    class WorkshopLTIAuthenticator(LTI13Authenticator):
        """jupyterhub-ltiauthenticator, with the deployment, replayed nonces, course roles and accounts checked."""

        login_service = "your learning platform"
        login_handler = LoginStartHandler
        callback_handler = LaunchHandler

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.workshop = Settings.from_environment()
            self.platform = read_platform(self.workshop.lti_platform)
            self.tool_key = tool_public_key(self.platform)
            self.used_nonces = {}

        def get_handlers(self, app):
            return super().get_handlers(app) + [("/lti13/jwks", ToolKeysHandler)]

        def remember_nonce(self, claims: dict) -> None:
            now = time.time()
            self.used_nonces = {n: t for n, t in self.used_nonces.items() if t > now}
            nonce = claims.get("nonce") or ""
            if nonce in self.used_nonces:
                raise LaunchRefused("this launch was already used (a replayed nonce); start again from the platform")
            self.used_nonces[nonce] = now + NONCE_MEMORY

        async def authenticate(self, handler, data=None):
            claims = data or {}
            deployment = claims.get(lti.DEPLOYMENT_CLAIM)
            if deployment not in self.platform.deployment_ids:
                raise LaunchRefused(f"the deployment {deployment!r} is not one this hub was registered for")
            record = lti.launch_record(claims)
            if record["role"] is None:
                raise LaunchRefused(
                    "the platform gave no course role the course knows (Learner or Instructor) for this user"
                )
            name = lti.account_name(self.platform.account_prefix, record["issuer"], record["user_id"])
            await asyncio.to_thread(ensure_account, self.workshop, name, record["role"])
            record_launch(self.workshop, name, record)
            self.log.info(
                "LTI launch: %s (%s) as %s from %s", name, record["user_id"], record["role"], record["issuer"]
            )
            return {"name": name, "auth_state": {"lti": record}}

        def check_allowed(self, username, authentication=None):
            role = ((authentication or {}).get("auth_state") or {}).get("lti", {}).get("role")
            return role in ("participant", "instructor") or username in self.allowed_users

    return WorkshopLTIAuthenticator


def configure_lti(c, settings: Settings) -> None:
    """The hub's configuration for LTI launches (called by workshop/jupyterhub_config.py)."""
    platform = check_platform(settings)
    # Launches create accounts: useradd and usermod, in sbin, which the hub's clean PATH leaves out.
    os.environ["PATH"] = os.pathsep.join([os.environ.get("PATH", "/usr/bin:/bin"), "/usr/sbin", "/sbin"])
    c.JupyterHub.authenticator_class = _hub_classes()
    c.LTI13Authenticator.issuer = platform.issuer
    c.LTI13Authenticator.client_id = {platform.client_id}
    c.LTI13Authenticator.authorize_url = platform.login_url
    c.LTI13Authenticator.jwks_endpoint = platform.jwks_url
    c.LTI13Authenticator.tool_name = "Ketamine Therapy for Clinicians"
    c.LTI13Authenticator.tool_description = "The course's notebooks, graded with nbgrader"
    c.Authenticator.enable_auth_state = True
    c.Authenticator.auto_login = True  # no login form: the hub's address says to come from the platform
    c.CryptKeeper.keys = [crypt_key(settings)]
    shared = {k: v for k, v in asdict(platform).items() if k not in ("login_url", "jwks_url")}
    instructors_file(settings, lti.PLATFORM_FILE, json.dumps(shared, indent=1) + "\n")
