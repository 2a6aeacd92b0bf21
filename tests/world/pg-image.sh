#!/usr/bin/env bash
# Builds a suite's PostgreSQL-ready host image: its base image (base-image.sh)
# with what the mattermost_server role installs for a local database
# (pg_packages in lib.sh reads the list from the role) already installed. The
# scenarios whose subject is not a first install start from it and save dpkg's
# unpack and set-up of PostgreSQL (CPU-bound, 25-45 s a host); the others keep
# the bare base image (docs/DESIGN.md, "Host images").
# Installed as on a host: a container booted with the molecule hosts' flags
# (../../extensions/molecule/_shared/create.yml), apt-get install with apt's
# defaults (recommends too, like ansible.builtin.apt). Then, as in the base
# image: the downloaded packages and the package lists removed, the lists
# directory dated 2000 (so the role's cache_valid_time sees a stale cache, as
# on any host); PostgreSQL stopped cleanly (it starts at each container's boot)
# and the container committed with the base image's CMD and ENV.
#   pg-image.sh [SUITE]   SUITE: a Debian suite, DEBIAN_SUITE (versions.env) if not given
source "$(dirname "$0")/lib.sh"

suite="${1:-${DEBIAN_SUITE}}"
base="$(base_image "${suite}")"
image="$(pg_image "${suite}")"
mapfile -t packages < <(pg_packages)

if docker image inspect "${image}" >/dev/null 2>&1; then
  log "PostgreSQL image ${image} present"
  exit 0
fi
docker image inspect "${base}" >/dev/null 2>&1 || die "the base image ${base} is missing: run base-image.sh ${suite} first"

container="chatops-mm-pg-image-${suite}-$$"
trap 'docker rm -f "${container}" >/dev/null 2>&1 || true' EXIT
log "installing ${packages[*]} into ${image}"
start_host "${container}" "${base}" || die "${container} did not start"
docker exec -e DEBIAN_FRONTEND=noninteractive "${container}" bash -euo pipefail -c '
  apt-get update -qq
  apt-get install -y -qq "$@" >/dev/null
  apt-get clean
  rm -rf /var/lib/apt/lists/* /var/lib/apt/periodic/update-success-stamp
  touch -d 2000-01-01 /var/lib/apt/lists
  systemctl stop postgresql "postgresql@*"
  # Every cluster down (pg_lsclusters: Ver Cluster Port Status ...).
  pg_lsclusters --no-header | awk "\$4 != \"down\" {print \"still up: \" \$0 > \"/dev/stderr\"; up = 1} END {exit up}"
  # What this boot left that belongs to one host (each host makes its own at
  # its first boot); the timers stamps would fire apt-daily at a later boot.
  : >/etc/machine-id
  rm -rf /var/lib/dbus/machine-id /var/log/journal/* /var/lib/systemd/timers /var/lib/systemd/random-seed \
    /var/tmp/systemd-private-*
' pg-image "${packages[@]}" || die "installing ${packages[*]} in ${container} failed"
docker commit \
  --change 'CMD ["/lib/systemd/systemd"]' \
  --change 'ENV container=docker' \
  "${container}" "${image}" >/dev/null
log "PostgreSQL image ${image} ready"
