"""JupyterHub for a workshop of the course on one machine (docs/workshop-server.md).

Started by `ketamine-course workshop start` (or workshop/workshop.sh start), which prepares the folders
and passes the settings as KETAMINE_WORKSHOP_* environment variables (ketamine_course/workshop/settings.py,
class Settings). Every participant and instructor is a real Unix account; each gets their own
JupyterLab, run as that account, from the course's Python environment.

Secure by default: Unix passwords through PAM, only members of the participants' and instructors'
groups (and the named admin) may log in, no sign-up, the hub's state readable by root only.
The workshop mode (shared passwords) must be asked for with --workshop-mode.
"""

import sys
from hmac import compare_digest

from jupyterhub.authenticators.shared import SharedPasswordAuthenticator

from ketamine_course.workshop.checks import check_prepared
from ketamine_course.workshop.people import group_members, in_group, workshop_passwords
from ketamine_course.workshop.servers import configure_spawner
from ketamine_course.workshop.settings import Settings, WorkshopError

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)
settings = Settings.from_environment()
try:
    check_prepared(settings)
except WorkshopError as problem:  # a configuration file: stop the hub with the message, not a traceback
    raise SystemExit(str(problem)) from None
groups = [settings.participants_group, settings.instructors_group]

# ------------------------------------------------------------------ where it listens
# One public address (127.0.0.1 unless told otherwise; a public address needs HTTPS, here or in front).
c.JupyterHub.bind_url = settings.bind_url
if settings.ssl_cert:
    c.JupyterHub.ssl_key = settings.ssl_key
    c.JupyterHub.ssl_cert = settings.ssl_cert
# The hub's own API and the proxy's control API stay on the loopback interface.
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = settings.hub_port
c.ConfigurableHTTPProxy.command = [str(settings.proxy_command)]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings.proxy_api_port}"
c.ConfigurableHTTPProxy.pid_file = str(settings.state / "proxy.pid")

# ------------------------------------------------------------------ state (folder 0700, files 0600)
c.JupyterHub.db_url = f"sqlite:///{settings.state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(settings.state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(settings.state / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every participant's server


# ------------------------------------------------------------------ who may log in
class WorkshopPasswordAuthenticator(SharedPasswordAuthenticator):
    """Workshop mode: participants share one password; instructors and the admin share another.

    As in PAM mode, who may log in is decided by the Unix groups at each login, so people added with
    `workshop add-participants` can log in at once, and an instructor never gets in with the
    participants' password.
    """

    def _is_instructor(self, name):
        return name == settings.admin or in_group(name, settings.instructors_group)

    async def authenticate(self, handler, data):
        name = self.normalize_username(data["username"])
        given = data["password"].encode()
        wanted = self.admin_password if self._is_instructor(name) else self.user_password
        if wanted and compare_digest(given, wanted.encode()):
            return {"name": name, "admin": name in self.admin_users}
        return None

    def check_allowed(self, username, authentication=None):
        return username in self.allowed_users or any(in_group(username, group) for group in groups)


c.Authenticator.admin_users = {settings.admin}
c.Authenticator.allowed_users = {settings.admin}
c.Authenticator.allow_all = False  # no open sign-up
c.Authenticator.allow_existing_users = False  # leaving the group ends access, even for earlier users
if settings.auth == "shared-password":
    passwords = workshop_passwords(settings)
    c.JupyterHub.authenticator_class = WorkshopPasswordAuthenticator
    c.SharedPasswordAuthenticator.user_password = passwords["participants"]
    c.SharedPasswordAuthenticator.admin_password = passwords["instructors"]
else:
    c.JupyterHub.authenticator_class = "pam"
    c.LocalAuthenticator.allowed_groups = set(groups)
    c.LocalAuthenticator.create_system_users = False  # accounts come from the list file, never from a login
    c.PAMAuthenticator.open_sessions = False

# ------------------------------------------------------------------ each person's JupyterLab
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.pre_spawn_hook = lambda spawner: configure_spawner(spawner, settings)
c.Spawner.env_keep = ["LANG", "LC_ALL"]  # nothing else from the hub's environment
c.Spawner.start_timeout = 120  # two cores and a class logging in at once: be patient
c.Spawner.http_timeout = 120
c.JupyterHub.concurrent_spawn_limit = 10

# ------------------------------------------------------------------ roles, groups and idle servers
instructors = sorted(group_members(settings.instructors_group))
c.JupyterHub.load_groups = {settings.instructors_group: {"users": instructors}}
roles = [
    {
        "name": "workshop-instructors",
        "description": "Instructors see who is logged in and whose server is running (the admin page, read-only).",
        "scopes": ["admin-ui", "list:users", "read:users:activity", "read:servers"],
        "groups": [settings.instructors_group],
    }
]
services = []
if settings.idle_timeout:
    roles.append(
        {
            "name": "idle-culler",
            "description": "Stop single-user servers that have been idle for a while.",
            "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
            "services": ["idle-culler"],
        }
    )
    services.append(
        {
            "name": "idle-culler",
            "command": [
                sys.executable,
                "-m",
                "jupyterhub_idle_culler",
                f"--timeout={settings.idle_timeout}",
                f"--cull-every={settings.cull_every}",
            ],
            "cwd": str(settings.state),
        }
    )
c.JupyterHub.load_roles = roles
c.JupyterHub.services = services
