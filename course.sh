#!/usr/bin/env bash
# Set up and run the course. Two commands do everything on a fresh machine:
#   ./course.sh open    create .venv, install the pinned course, open JupyterLab on the course
#   ./course.sh test    the same set-up plus test tools (and Chromium if missing), then the whole test suite
# Also: ./course.sh lint   ruff's checks and its formatter's check, as CI runs them,
#       ./course.sh nbgrader ARGS...   nbgrader from the course root, in the course's environment,
#       ./course.sh COMMAND ARGS...    any other `ketamine-course` command (./course.sh help lists them).
set -euo pipefail
cd "$(dirname "$0")"
root=$(pwd)
venv="$root/.venv"

pick_python() {
  for candidate in "${PYTHON:-}" python3.11 python3.12 python3.13 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)." >&2
  return 1
}

# Install the pinned requirements and the course package; skipped when nothing changed since last time.
setup() {
  local requirements=$1
  local stamp="$venv/.installed-$(basename "$requirements")"
  local wanted
  wanted=$(cat requirements*.txt pyproject.toml | sha256sum | cut -c1-16)
  if [ ! -x "$venv/bin/python" ]; then
    echo "==> Creating the virtual environment in .venv"
    "$(pick_python)" -m venv "$venv"
  fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "==> Installing pinned dependencies from $requirements (a few minutes the first time)"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet -r "$requirements"
    "$venv/bin/python" -m pip install --quiet --no-deps -e .
    echo "$wanted" > "$stamp"
  fi
}

ensure_chromium() {
  if command -v chromium >/dev/null 2>&1; then return 0; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> Installing Chromium from Debian's packages (for the browser tests)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "Chromium is missing: install Debian's package 'chromium' (sudo apt-get install chromium)." >&2
    return 1
  fi
}

# The test of several graders sharing one gradebook starts a throwaway PostgreSQL server (Debian's).
ensure_postgresql() {
  if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then return 0; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> Installing PostgreSQL from Debian's packages (for the test of graders sharing a gradebook)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "PostgreSQL is missing: install Debian's package 'postgresql' (sudo apt-get install postgresql)." >&2
    return 1
  fi
}

command=${1:-}
[ $# -gt 0 ] && shift
case "$command" in
  open)
    setup requirements.txt
    exec "$venv/bin/ketamine-course" open "$@" ;;
  test)
    setup requirements-dev.txt
    ensure_chromium
    ensure_postgresql
    export PATH="$venv/bin:$PATH"
    exec "$venv/bin/python" -m pytest "$@" ;;
  lint)
    setup requirements-dev.txt
    "$venv/bin/ruff" check .
    exec "$venv/bin/ruff" format --check . ;;
  nbgrader)
    setup requirements.txt
    exec "$venv/bin/ketamine-course" nbgrader "$@" ;;
  ""|-h|--help)
    echo "usage: ./course.sh open | test [pytest args] | lint | nbgrader ARGS... | COMMAND ARGS... (./course.sh help)" >&2
    exit 2 ;;
  help)
    setup requirements.txt
    exec "$venv/bin/ketamine-course" --help ;;
  *)
    setup requirements.txt
    exec "$venv/bin/ketamine-course" "$command" "$@" ;;
esac
