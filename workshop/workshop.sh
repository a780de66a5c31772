#!/usr/bin/env bash
# The workshop server in one command (docs/workshop-server.md). Run as root:
#   workshop/workshop.sh start --people people.txt --admin NAME [--workshop-mode] [--ip 0.0.0.0 --ssl-key K --ssl-cert C]
#   workshop/workshop.sh start --lti-platform platform.json --admin NAME    (launches from Moodle, Canvas: LTI 1.3)
#   workshop/workshop.sh add-participants more-people.txt
#   workshop/workshop.sh status
#   workshop/workshop.sh stop
# The first run creates the course's environment in .venv (set PYTHON=/usr/bin/python3 so that every
# account can run it) with the pinned course and hub requirements; `start` also installs the pinned
# proxy with npm ci into workshop/node_modules.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
requirements="$root/requirements-hub.txt"
stamp="$venv/.installed-requirements-hub.txt"

if [ ! -x "$venv/bin/python" ]; then
  python=${PYTHON:-python3}
  "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null ||
    { echo "Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)." >&2; exit 1; }
  echo "==> Creating the course's environment in $venv"
  "$python" -m venv "$venv"
fi
wanted=$(cd "$root" && cat requirements*.txt pyproject.toml | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "==> Installing the pinned course and workshop-server requirements (a few minutes the first time)"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet -r "$requirements"
  "$venv/bin/python" -m pip install --quiet --no-deps -e "$root"
  echo "$wanted" > "$stamp"
fi
cd "$root"
exec "$venv/bin/python" -m ketamine_course.cli workshop "$@"
