# Shared set-up for scripts/run and scripts/test: Debian ffmpeg, a venv, musicd installed into it.
# Sourced, not executed. Idempotent: a second run only checks.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MUSICD_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"

need_apt=()
command -v ffmpeg >/dev/null 2>&1 || need_apt+=(ffmpeg)
if [ "${MUSICD_WITH_BROWSER:-0}" = 1 ] && ! command -v chromium >/dev/null 2>&1; then need_apt+=(chromium); fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "musicd: installing ${need_apt[*]} with apt-get" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "musicd needs Python 3.11 or newer")'
if [ ! -x "$VENV/bin/python" ]; then
  echo "musicd: creating the virtual environment in $VENV" >&2
  "$PY" -m venv "$VENV"
fi
# Reinstall when pyproject.toml (its dependencies), the extras or the checkout the venv serves changed since
# the last install that succeeded. A failed install leaves no stamp, so the next run tries again instead of
# testing against a venv that lacks a dependency (it once lacked `implicit`: the model never trained).
stamp="$VENV/.musicd-installed"
extras="${MUSICD_EXTRAS:-}"
want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)-$extras-$ROOT"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "musicd: installing Python dependencies" >&2
  rm -f "$stamp"
  "$VENV/bin/pip" install -q --disable-pip-version-check --upgrade pip 2>/dev/null || true
  # The log is shown only when the install fails: a working install is one line, not pages of build output.
  log="$VENV/.musicd-install.log"
  if ! "$VENV/bin/pip" install -q --disable-pip-version-check -e "$ROOT${extras:+[$extras]}" >"$log" 2>&1; then
    cat "$log" >&2; echo "musicd: installing the Python dependencies failed (see above)" >&2; exit 1
  fi
  # Every declared dependency (extras included) must be installed, not only importable musicd.
  "$VENV/bin/python" -m musicd.devtools.check_deps ${extras:+"$extras"} || { echo "musicd: install incomplete" >&2; exit 1; }
  echo "$want" > "$stamp"
fi
export PATH="$VENV/bin:$PATH"
# Bytecode for the checkout, as an installed package has it: where PYTHONDONTWRITEBYTECODE is set, every
# command would otherwise compile musicd's modules again on each start (about 0.3 CPU-s). Up-to-date files
# are skipped, so this costs a fraction of a second after the first time.
"$VENV/bin/python" -m compileall -q -j 0 "$ROOT/musicd" >/dev/null || true
