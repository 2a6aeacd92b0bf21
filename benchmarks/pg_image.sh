#!/usr/bin/env bash
# Benchmark (not a test) of the test world's PostgreSQL-ready host image
# (tests/world/pg-image.sh): on a fresh container of the bare base image and
# of the PostgreSQL image, alternately, the boot (systemctl is-system-running
# --wait) and the mattermost_server role's "Install PostgreSQL" task with the
# role's arguments (packages read from the role, update_cache,
# cache_valid_time 3600), timed. Prints one line per container. Needs the
# test world up (world.env, both images, the world's network).
#   benchmarks/pg_image.sh [ROUNDS]   ROUNDS: base/PostgreSQL pairs, 2 if not given
source "$(dirname "$0")/../tests/world/lib.sh"

rounds="${1:-2}"
venv="$("${WORLD_DIR}/venv.sh")"
export PATH="${venv}/bin:${PATH}"
export ANSIBLE_COLLECTIONS_PATH="${COLLECTIONS_DIR}"
pg="$(pg_image "${DEBIAN_SUITE}")"
packages="$(pg_packages | paste -sd,)"
for image in "${BASE_IMAGE}" "${pg}"; do
  docker image inspect "${image}" >/dev/null 2>&1 || die "${image} is missing: bring the test world up (tests/world/up.sh)"
done
container="chatops-mm-bench-pg-image-$$"
trap 'docker rm -f "${container}" >/dev/null 2>&1 || true' EXIT

seconds_since() { awk -v start="$1" -v now="$(date +%s.%N)" 'BEGIN { printf "%.1f", now - start }'; }
for round in $(seq "${rounds}"); do
  for image in "${BASE_IMAGE}" "${pg}"; do
    start="$(date +%s.%N)"
    start_host "${container}" "${image}" --label chatops-mm=bench --network "${TEST_NETWORK}" \
      || die "${container} did not start"
    boot="$(seconds_since "${start}")"
    start="$(date +%s.%N)"
    out="$(ANSIBLE_PIPELINING=true ansible all -i "${container}," -c community.docker.docker \
      -e ansible_python_interpreter=/usr/bin/python3 -m ansible.builtin.apt \
      -a "name=${packages} state=present update_cache=true cache_valid_time=3600" 2>&1)" \
      || { printf '%s\n' "${out}" >&2; die "the apt task failed on ${image}"; }
    printf 'round %s  %-62s  boot %5.1f s  apt task %5.1f s  %s  load %s\n' "${round}" "${image}" \
      "${boot}" "$(seconds_since "${start}")" "$(grep -o '"changed": [a-z]*' <<<"${out}" | head -n 1)" \
      "$(cut -d' ' -f1 /proc/loadavg)"
    docker rm -f "${container}" >/dev/null
  done
done
