#!/usr/bin/env bash
# Creates (once per requirements hash) the Python virtualenv the tests run in
# and prints its path.
source "$(dirname "$0")/lib.sh"

key="$(cat "${REPO_DIR}/requirements.txt" "${REPO_DIR}/requirements-test.txt" "${REPO_DIR}/constraints-test.txt" 2>/dev/null \
  | sha256sum | cut -c1-12)"
venv="${CHATOPS_CACHE}/venv-$(python3 -c 'import sys; print("py%d.%d" % sys.version_info[:2])')-${key}"
if [[ ! -x "${venv}/bin/molecule" ]]; then
  log "creating virtualenv ${venv}"
  rm -rf "${venv}"
  python3 -m venv "${venv}"
  "${venv}/bin/pip" install -q --upgrade pip >&2
  constraints=()
  [[ -f "${REPO_DIR}/constraints-test.txt" ]] && constraints=(-c "${REPO_DIR}/constraints-test.txt")
  "${venv}/bin/pip" install -q -r "${REPO_DIR}/requirements-test.txt" "${constraints[@]}" >&2
fi
echo "${venv}"
