"""A small learning platform on loopback, for the LTI 1.3 tests: what Moodle or Canvas does for a tool.

- GET /launch?user=KEY             a page that posts the login initiation to the tool (as a course link does)
- GET /auth                        OIDC authorisation: checks the tool's request, signs an id token for the
                                   user and posts it to the tool's redirect URI (auto-submitted form)
- GET /jwks                        the platform's public key set
- POST /token                      client-credentials grant: the client assertion must be signed by the
                                   tool's key (RS256), for this client, for this URL, never replayed
- GET|POST /contexts/ID/lineitems  Assignment and Grade Services: line items (filters resource_id, tag)
- POST /contexts/ID/lineitems/N/scores   one score; 422 for a user who is not a member of the course

`gradebook` holds what the tool sent: {(context, line item label): {user id: score given}}. `fail_next`
answers that many requests with 503 first. Built on http.server, PyJWT and cryptography.
"""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ketamine_course.core import lti

DEPLOYMENT = "deployment-1"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
STAFF = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Staff"


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_jwk(key, kid: str) -> dict:
    return {**jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": kid, "alg": "RS256"}


@dataclass
class User:
    sub: str
    roles: list
    context: str = "course-1"
    name: str = ""


@dataclass
class MockPlatform:
    client_id: str = "ketamine-tool"
    users: dict = field(default_factory=dict)  # login hint -> User
    members: dict = field(default_factory=dict)  # context -> set of user ids the course has
    tool_login: str = ""  # the tool's login initiation URL
    tool_redirect: str = ""  # the tool's registered redirect (launch) URL
    target_link: str = ""
    tool_keys: list = field(default_factory=list)  # the tool's public keys (JWK)
    fail_next: int = 0
    key: object = field(default_factory=new_key)
    gradebook: dict = field(default_factory=dict)
    line_items: dict = field(default_factory=dict)  # context -> [line item]
    requests: list = field(default_factory=list)  # (method, path) of every AGS request
    used_assertions: set = field(default_factory=set)
    tokens: dict = field(default_factory=dict)  # access token -> scopes

    # ------------------------------------------------------------ running
    def start(self) -> "MockPlatform":
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                platform.answer(self, "GET")

            def do_POST(self):
                platform.answer(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def registration(self, private_key_path, account_prefix: str) -> dict:
        """The registration file an organiser writes from the platform's tool settings."""
        return {
            "issuer": self.url,
            "client_id": self.client_id,
            "deployment_ids": [DEPLOYMENT],
            "login_url": f"{self.url}/auth",
            "jwks_url": f"{self.url}/jwks",
            "token_url": f"{self.url}/token",
            "private_key": str(private_key_path),
            "account_prefix": account_prefix,
        }

    def launch_url(self, login_hint: str) -> str:
        return f"{self.url}/launch?user={urllib.parse.quote(login_hint)}"

    # ------------------------------------------------------------ the id token
    def id_token(self, login_hint: str, nonce: str, key=None, **changes) -> str:
        """An id token for a launch of `login_hint`; `changes` replace claims (None removes one), `key` forges."""
        user = self.users[login_hint]
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": self.client_id,
            "sub": user.sub,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "name": user.name,
            lti.CLAIM + "version": "1.3.0",
            lti.CLAIM + "message_type": "LtiResourceLinkRequest",
            lti.DEPLOYMENT_CLAIM: DEPLOYMENT,
            lti.CLAIM + "target_link_uri": self.target_link,
            lti.ROLES_CLAIM: user.roles,
            lti.CONTEXT_CLAIM: {"id": user.context, "label": "KET101", "title": "Ketamine Therapy for Clinicians"},
            lti.RESOURCE_LINK_CLAIM: {"id": "link-1", "title": "The course"},
            lti.AGS_CLAIM: {
                "scope": [lti.SCOPE_LINEITEM, lti.SCOPE_LINEITEM_READ, lti.SCOPE_SCORE],
                "lineitems": f"{self.url}/contexts/{user.context}/lineitems",
            },
        }
        for name, value in changes.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": "platform-key"})

    # ------------------------------------------------------------ answering
    def answer(self, handler, method: str) -> None:
        parts = urllib.parse.urlsplit(handler.path)
        query = dict(urllib.parse.parse_qsl(parts.query))
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        path = parts.path
        if path.startswith("/contexts/") and self.fail_next > 0:
            self.fail_next -= 1
            return self.reply(handler, 503, {"error": "try again"})
        if path == "/jwks":
            return self.reply(handler, 200, {"keys": [public_jwk(self.key, "platform-key")]})
        if path == "/launch":
            fields = {
                "iss": self.url,
                "login_hint": query["user"],
                "target_link_uri": self.target_link,
                "lti_message_hint": "link-1",
                "client_id": self.client_id,
                "lti_deployment_id": DEPLOYMENT,
            }
            return self.form(handler, self.tool_login, fields)
        if path == "/auth":
            return self.authorise(handler, query)
        if path == "/token" and method == "POST":
            return self.token(handler, dict(urllib.parse.parse_qsl(raw.decode())))
        if path.startswith("/contexts/"):
            return self.grade_service(handler, method, path, query, raw)
        self.reply(handler, 404, {"error": "not found"})

    def authorise(self, handler, query: dict) -> None:
        expected = {"response_type": "id_token", "scope": "openid", "response_mode": "form_post", "prompt": "none"}
        wrong = [k for k, v in expected.items() if query.get(k) != v]
        if wrong or query.get("client_id") != self.client_id or query.get("redirect_uri") != self.tool_redirect:
            return self.reply(handler, 400, {"error": "invalid_request", "wrong": wrong or ["client or redirect"]})
        if query.get("login_hint") not in self.users:
            return self.reply(handler, 400, {"error": "login_required"})
        token = self.id_token(query["login_hint"], query["nonce"])
        self.form(handler, self.tool_redirect, {"id_token": token, "state": query["state"]})

    def token(self, handler, form: dict) -> None:
        if form.get("grant_type") != "client_credentials" or not form.get("client_assertion"):
            return self.reply(handler, 400, {"error": "unsupported_grant_type"})
        try:
            kid = jwt.get_unverified_header(form["client_assertion"]).get("kid")
            jwk = next(k for k in self.tool_keys if k.get("kid") == kid)
            claims = jwt.decode(
                form["client_assertion"],
                jwt.algorithms.RSAAlgorithm.from_jwk(jwk),
                algorithms=["RS256"],
                audience=f"{self.url}/token",
                issuer=self.client_id,
                options={"require": ["exp", "iat", "jti", "sub"]},
            )
        except (StopIteration, jwt.PyJWTError) as exc:
            return self.reply(handler, 401, {"error": "invalid_client", "why": str(exc)})
        if claims["sub"] != self.client_id or claims["jti"] in self.used_assertions:
            return self.reply(handler, 401, {"error": "invalid_client", "why": "subject or replayed jti"})
        self.used_assertions.add(claims["jti"])
        access = secrets.token_urlsafe(16)
        self.tokens[access] = set(form.get("scope", "").split())
        self.reply(handler, 200, {"access_token": access, "token_type": "Bearer", "expires_in": 3600})

    def grade_service(self, handler, method, path, query, raw) -> None:
        scopes = self.tokens.get(handler.headers.get("Authorization", "").removeprefix("Bearer "))
        if scopes is None:
            return self.reply(handler, 401, {"error": "no token"})
        self.requests.append((method, path))
        segments = path.strip("/").split("/")  # contexts, ID, lineitems[, N, scores]
        context, items = segments[1], self.line_items.setdefault(segments[1], [])
        if segments[2:] == ["lineitems"] and method == "GET":
            found = [
                i
                for i in items
                if all(
                    i.get(key) == query[name]
                    for name, key in (("resource_id", "resourceId"), ("tag", "tag"))
                    if name in query
                )
            ]
            return self.reply(handler, 200, found)
        if segments[2:] == ["lineitems"] and method == "POST" and lti.SCOPE_LINEITEM in scopes:
            item = {**json.loads(raw), "id": f"{self.url}{path}/{len(items) + 1}"}
            items.append(item)
            return self.reply(handler, 201, item)
        if len(segments) == 5 and segments[4] == "scores" and method == "POST" and lti.SCOPE_SCORE in scopes:
            if handler.headers.get("Content-Type") != "application/vnd.ims.lis.v1.score+json":
                return self.reply(handler, 415, {"error": "score media type"})
            score = json.loads(raw)
            if score["userId"] not in self.members.get(context, set()):
                return self.reply(handler, 422, {"error": "user is not a member of this course"})
            item = items[int(segments[3]) - 1]
            self.gradebook.setdefault((context, item["label"]), {})[score["userId"]] = score
            return self.reply(handler, 204, None)
        self.reply(handler, 403, {"error": "not allowed"})

    # ------------------------------------------------------------ replies
    @staticmethod
    def reply(handler, status: int, body) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    @staticmethod
    def form(handler, action: str, fields: dict) -> None:
        """A page that posts `fields` to `action` at once, as platforms do."""
        inputs = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(str(v))}">' for k, v in fields.items()
        )
        page = (
            f'<html><body onload="document.forms[0].submit()"><form method="post" action="{html.escape(action)}">'
            f"{inputs}</form></body></html>"
        ).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", str(len(page)))
        handler.end_headers()
        handler.wfile.write(page)
