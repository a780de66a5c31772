"""`ketamine-course workshop start|stop|status|add-participants`: the workshop server's command line."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from ketamine_course.workshop.checks import require_root
from ketamine_course.workshop.hub import add_participants, start, status, stop
from ketamine_course.workshop.settings import DEFAULT_FOLDER, ENVIRONMENT_PREFIX, Settings


def _settings_from_args(args) -> Settings:
    defaults = Settings(folder=Path(args.folder))
    values = {
        item.name: getattr(args, item.name)
        for item in dataclasses.fields(Settings)
        if getattr(args, item.name, None) is not None
    }
    values["folder"] = Path(args.folder)
    for name in ("course", "course_env", "proxy"):
        if values.get(name) is not None:
            values[name] = Path(values[name]).resolve()
    if getattr(args, "workshop_mode", False):
        values["auth"] = "shared-password"
    if not values.get("admin"):
        values["admin"] = os.environ.get(ENVIRONMENT_PREFIX + "ADMIN", defaults.admin)
    return dataclasses.replace(defaults, **values)


def _saved_or_given(args) -> Settings:
    """The settings the workshop in --folder was started with; the options' own when none were saved."""
    if not Settings.saved_file(Path(args.folder)).exists():
        return _settings_from_args(args)
    saved = Settings.load(Path(args.folder))
    for name in ("participants_group", "instructors_group"):
        if getattr(args, name, None):
            setattr(saved, name, getattr(args, name))
    return saved


def _run_command(args) -> int:
    require_root(f"`workshop {args.workshop_command}`")
    if args.workshop_command == "start":
        return start(_settings_from_args(args), args.people, args.home_base, args.new_passwords)
    if args.workshop_command == "stop":
        return stop(_saved_or_given(args))
    if args.workshop_command == "status":
        return status(_saved_or_given(args))
    return add_participants(_saved_or_given(args), args.people, args.home_base)


def add_commands(subparsers) -> None:
    parser = subparsers.add_parser(
        "workshop",
        help="run the course on JupyterHub for a class on this machine",
        description="The workshop server (docs/workshop-server.md).",
    )
    commands = parser.add_subparsers(dest="workshop_command", required=True)

    def with_folder(command):
        command.add_argument(
            "--folder",
            default=str(DEFAULT_FOLDER),
            help=f"the workshop folder: exchange, grading, state (default {DEFAULT_FOLDER})",
        )
        return command

    def with_groups(command):
        command.add_argument("--participants-group", help="Unix group of participants (default participants)")
        command.add_argument("--instructors-group", help="Unix group of instructors (default instructors)")
        command.add_argument("--home-base", type=Path, help="folder for new accounts' homes (default /home)")
        return command

    start_parser = with_groups(with_folder(commands.add_parser("start", help="start the workshop server")))
    start_parser.add_argument(
        "--people", type=Path, help="list file: one account a line, 'NAME instructor' for instructors"
    )
    start_parser.add_argument("--admin", help="the hub's admin account (or KETAMINE_WORKSHOP_ADMIN)")
    start_parser.add_argument("--ip", help="address to listen on (default 127.0.0.1; 0.0.0.0 needs HTTPS)")
    start_parser.add_argument("--port", type=int, help="public port (default 8000)")
    start_parser.add_argument("--hub-port", type=int, help="hub's internal port on 127.0.0.1 (default 8081)")
    start_parser.add_argument("--proxy-api-port", type=int, help="proxy's control port on 127.0.0.1 (default 8001)")
    start_parser.add_argument(
        "--workshop-mode", action="store_true", help="log in with shared workshop passwords instead of Unix passwords"
    )
    start_parser.add_argument("--new-passwords", action="store_true", help="new workshop-mode passwords")
    start_parser.add_argument("--idle-timeout", type=int, help="seconds idle before a server is stopped (default 3600)")
    start_parser.add_argument("--cull-every", type=int, help="seconds between idle checks (default 300)")
    start_parser.add_argument("--course-env", help="Python environment the servers run from (default this one)")
    start_parser.add_argument("--proxy", help="configurable-http-proxy to use (default workshop/node_modules)")
    start_parser.add_argument("--ssl-key", help="HTTPS private key")
    start_parser.add_argument("--ssl-cert", help="HTTPS certificate (chain)")
    start_parser.add_argument(
        "--behind-https-proxy",
        action="store_true",
        help="allow plain HTTP on a public address: HTTPS ends at a reverse proxy in front",
    )
    with_folder(commands.add_parser("stop", help="stop the hub and every single-user server"))
    with_folder(commands.add_parser("status", help="is it running; servers and their memory"))
    add = with_groups(with_folder(commands.add_parser("add-participants", help="create accounts from a list file")))
    add.add_argument("people", type=Path, help="list file: one account a line, 'NAME instructor' for instructors")
    parser.set_defaults(run=_run_command)
