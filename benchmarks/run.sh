#!/usr/bin/env bash
# Benchmarks of the collection (not a test): converge phases against plain
# commands, no-op and check-mode runs on 1 and BENCH_HOSTS hosts, and the
# gitlab_application module's cost when nothing changes. Prints a table and
# writes benchmarks/results/<UTC timestamp>.json. See benchmarks/README.md.
#   benchmarks/run.sh                  8 hosts for the multi-host no-op run
#   BENCH_HOSTS=2 benchmarks/run.sh    fewer hosts (quicker)
# Other knobs (BENCH_CALLS, BENCH_GITLAB, BENCH_KEEP, BENCH_WORLD_UP): see
# benchmarks/bench.py.
set -euo pipefail

bench_dir="$(cd "$(dirname "$0")" && pwd)"
repo_dir="$(cd "${bench_dir}/.." && pwd)"
# The same cache as tests/world/lib.sh.
cache="${CHATOPS_MM_CACHE:-${XDG_CACHE_HOME:-${HOME}/.cache}/chatops-mattermost}"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# The test world: reused when it is up (up.sh would rebuild every release
# listed in tests/world/mattermost-builds.txt that is missing, which is slow
# and may race a test run building the same one); brought up otherwise, or
# always with BENCH_WORLD_UP=1.
world_is_up() {
  [[ -s "${cache}/world.env" ]] || return 1
  # shellcheck source=/dev/null
  (source "${cache}/world.env"
   docker image inspect "${CHATOPS_MM_BASE_IMAGE}" >/dev/null 2>&1 \
     && [[ -s "${CHATOPS_CACHE}/mattermost/dist/${CHATOPS_MM_VERSION}/mattermost-team-${CHATOPS_MM_VERSION}-linux-amd64.tar.gz" ]] \
     && [[ "$(docker inspect -f '{{.State.Running}}' chatops-mm-artifacts 2>/dev/null)" == "true" ]] \
     && [[ "$(docker inspect -f '{{.State.Running}}' chatops-mm-gitlab 2>/dev/null)" == "true" ]])
}
mkdir -p "${bench_dir}/results"
if [[ "${BENCH_WORLD_UP:-0}" == "1" ]] || ! world_is_up; then
  log "bringing the test world up (tests/world/up.sh)"
  # Our own phase log, not the one tests/run.sh reports from.
  PHASE_LOG="${bench_dir}/results/world-phases.log" bash "${repo_dir}/tests/world/up.sh"
else
  log "test world is up; reusing it"
fi
# shellcheck source=/dev/null
source "${cache}/world.env"

venv="$("${repo_dir}/tests/world/venv.sh")"
export PATH="${venv}/bin:${PATH}"
# Ansible finds this checkout as the chatops.mattermost collection.
COLLECTIONS_DIR="${cache}/collections/$(printf '%s' "${repo_dir}" | sha256sum | cut -c1-12)"
export ANSIBLE_COLLECTIONS_PATH="${COLLECTIONS_DIR}"
mkdir -p "${ANSIBLE_COLLECTIONS_PATH}/ansible_collections/chatops"
ln -sfn "${repo_dir}" "${ANSIBLE_COLLECTIONS_PATH}/ansible_collections/chatops/mattermost"

BENCH_RUN_ID="$(date -u +%Y%m%dT%H%M%SZ)"
export BENCH_RUN_ID
# bench.py removes its containers itself; this catches a bench.py that was
# killed outright. Only this run's containers, by their label.
cleanup() {
  [[ "${BENCH_KEEP:-0}" == "1" ]] && return 0
  local ids
  ids="$(docker ps -aq --filter "label=chatops-mm-bench-run=${BENCH_RUN_ID}" 2>/dev/null || true)"
  if [[ -n "${ids}" ]]; then
    # shellcheck disable=SC2086
    docker rm -f ${ids} >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

cd "${repo_dir}"
python "${bench_dir}/bench.py"
