# shellcheck shell=bash
# Shared settings and helpers for the test world scripts. Source it; do not run it.

set -euo pipefail

WORLD_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "${WORLD_DIR}/../.." && pwd)"
export WORLD_DIR REPO_DIR

# Slow artefacts live outside the repository, keyed by version, and are
# rebuilt when missing.
CHATOPS_CACHE="${CHATOPS_MM_CACHE:-${XDG_CACHE_HOME:-${HOME}/.cache}/chatops-mattermost}"
export CHATOPS_CACHE
mkdir -p "${CHATOPS_CACHE}"

# Ansible finds this checkout as the chatops.mattermost collection on a path
# of its own, so a clone under test and the working tree never see each
# other's roles. link_collection makes (or renews) the link.
COLLECTIONS_DIR="${CHATOPS_CACHE}/collections/$(printf '%s' "${REPO_DIR}" | sha256sum | cut -c1-12)"
export COLLECTIONS_DIR
link_collection() {
  mkdir -p "${COLLECTIONS_DIR}/ansible_collections/chatops"
  ln -sfn "${REPO_DIR}" "${COLLECTIONS_DIR}/ansible_collections/chatops/mattermost"
}

# shellcheck source=tests/world/versions.env
source "${WORLD_DIR}/versions.env"

# Names of what the world creates in Docker.
TEST_NETWORK="${TEST_NETWORK:-chatops-mm-test}"
# base_image SUITE: the name of that suite's base image.
base_image() { printf 'chatops-mm/debian-%s-systemd:%s' "$1" "${BASE_IMAGE_REVISION}"; }
BASE_IMAGE="$(base_image "${DEBIAN_SUITE}")"
# start_host CONTAINER IMAGE [DOCKER RUN OPTION...]: a systemd host container
# with the molecule hosts' flags (extensions/molecule/_shared/create.yml),
# returned once systemd says it booted (a minute at most).
start_host() {
  local container="$1" image="$2" _ state
  shift 2
  docker run -d --name "${container}" \
    --cap-add SYS_ADMIN --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
    --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
    "$@" "${image}" /lib/systemd/systemd >/dev/null || return 1
  # Right after `docker run` systemd may not listen yet: ask again.
  for _ in $(seq 60); do
    state="$(docker exec "${container}" systemctl is-system-running --wait 2>/dev/null || true)"
    [[ "${state}" == running || "${state}" == degraded ]] && return 0
    sleep 1
  done
  echo "${container} did not boot (systemctl is-system-running: ${state:-no answer})" >&2
  return 1
}
# pg_packages: what the mattermost_server role installs for a local database
# (_mattermost_server_local_db_packages), one a line (tests/tools/role_packages.py).
pg_packages() {
  "$("${WORLD_DIR}/venv.sh")/bin/python" "${REPO_DIR}/tests/tools/role_packages.py"
}
# pg_image SUITE: the name of that suite's base image with pg_packages
# installed (pg-image.sh); a new base image revision or package list is a new tag.
pg_image() {
  local packages
  packages="$(pg_packages)" || die "could not read the PostgreSQL packages from the mattermost_server role"
  printf 'chatops-mm/debian-%s-systemd-postgresql:%s-%s' "$1" "${BASE_IMAGE_REVISION}" \
    "$(printf '%s\n' "${packages}" | sha256sum | cut -c1-12)"
}
SERVICES_IMAGE="${BASE_IMAGE}"
export TEST_NETWORK BASE_IMAGE SERVICES_IMAGE

log() { printf '[world %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# phase NAME CMD...: runs CMD and records how long it took.
PHASE_LOG="${PHASE_LOG:-${CHATOPS_CACHE}/phases.log}"
phase() {
  local name="$1"; shift
  local start end
  start=$(date +%s)
  log "phase ${name}: start"
  "$@"
  end=$(date +%s)
  log "phase ${name}: $((end - start))s"
  printf '%-28s %5ss\n' "${name}" "$((end - start))" >> "${PHASE_LOG}"
}
