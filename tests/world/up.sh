#!/usr/bin/env bash
# Brings the whole test world up from nothing, reusing what is cached:
# Docker engine, base images (one per Debian suite, and bookworm's with
# PostgreSQL installed), Mattermost release
# tarballs, service containers.
# Writes ${CHATOPS_CACHE}/world.env for molecule and the tests to source.
source "$(dirname "$0")/lib.sh"

: >"${PHASE_LOG}"
phase docker-engine "${WORLD_DIR}/docker-engine.sh"
# One base image per Debian suite (versions.env). The services' suite first
# (it also installs debootstrap on a fresh machine); the others build in the
# background behind the browser and Mattermost phases (debootstrap mostly waits
# on the mirror, the Go builds on the CPU) and are waited for before anything
# uses them. Each prints its own phase time.
phase "base-image-${DEBIAN_SUITE}" "${WORLD_DIR}/base-image.sh" "${DEBIAN_SUITE}"
base_pids=()
# The services' suite's base image with PostgreSQL installed (pg-image.sh),
# for the scenarios whose subject is not a first install: built beside the
# rest like the other suites' base images (apt waits on the mirror and dpkg on
# the CPU, about a minute in all).
phase "pg-image-${DEBIAN_SUITE}" "${WORLD_DIR}/pg-image.sh" "${DEBIAN_SUITE}" &
base_pids+=("$!")
for suite in ${DEBIAN_SUITES}; do
  [[ "${suite}" == "${DEBIAN_SUITE}" ]] && continue
  phase "base-image-${suite}" "${WORLD_DIR}/base-image.sh" "${suite}" &
  base_pids+=("$!")
done
phase browser "${WORLD_DIR}/browser.sh"
while read -r version _; do
  [[ -z "${version}" || "${version}" == \#* ]] && continue
  phase "mattermost-${version}" "${WORLD_DIR}/mattermost-build.sh" "${version}"
done <"${WORLD_DIR}/mattermost-builds.txt"
# Each build also under its Enterprise release name. It is the same
# open-source build, not Mattermost's Enterprise binary (no Entry tier, every
# licence rejected), but the roles' enterprise path (download name, licence
# step, settings) runs on it.
for dir in "${CHATOPS_CACHE}"/mattermost/dist/*/; do
  v="$(basename "${dir}")"
  [[ -s "${dir}mattermost-team-${v}-linux-amd64.tar.gz.sha256" ]] || continue
  ln -f "${dir}mattermost-team-${v}-linux-amd64.tar.gz" "${dir}mattermost-${v}-linux-amd64.tar.gz"
  sed 's/mattermost-team-/mattermost-/' "${dir}mattermost-team-${v}-linux-amd64.tar.gz.sha256" \
    >"${dir}mattermost-${v}-linux-amd64.tar.gz.sha256"
done
for pid in "${base_pids[@]}"; do
  wait "${pid}" || die "a base or PostgreSQL image could not be built (see its log lines above)"
done
phase services "${WORLD_DIR}/services.sh" up

link_collection

primary="$(awk '!/^#/ && NF {print $1; exit}' "${WORLD_DIR}/mattermost-builds.txt")"
# The upgrade scenario's extra releases: the first real build after the
# primary one (older, upgraded from) and the first `broken` one.
old_mm="$(awk -v p="${primary}" '!/^#/ && NF == 3 && $1 != p {print $1; exit}' "${WORLD_DIR}/mattermost-builds.txt")"
broken_mm="$(awk '!/^#/ && $4 == "broken" {print $1; exit}' "${WORLD_DIR}/mattermost-builds.txt")"
# The newest real build before 11.0: a Team Edition whose clients show the
# GitLab button (from 11.0 it needs a licence).
button_mm="$(awk '!/^#/ && NF == 3 {split($1, v, "."); if (v[1] < 11) print $1}' "${WORLD_DIR}/mattermost-builds.txt" \
  | sort -V | tail -n 1)"
mm_sha() {
  if [[ -n "$1" ]]; then
    cut -d' ' -f1 "${CHATOPS_CACHE}/mattermost/dist/$1/mattermost-team-$1-linux-amd64.tar.gz.sha256"
  fi
}
# release_env NAME VERSION: world.env's CHATOPS_MM<NAME>_VERSION and CHATOPS_MM<NAME>_SHA256 of a
# release (both empty when there is none).
release_env() {
  printf "export CHATOPS_MM%s_VERSION='%s'\nexport CHATOPS_MM%s_SHA256='%s'\n" "$1" "$2" "$1" "$(mm_sha "$2")"
}
# The primary release must have been built; the others' variables are empty when they were not.
mm_sha "${primary}" >/dev/null
pg_image_name="$(pg_image "${DEBIAN_SUITE}")"
cat >"${CHATOPS_CACHE}/world.env" <<ENV
export CHATOPS_CACHE='${CHATOPS_CACHE}'
export CHATOPS_MM_BASE_IMAGE='${BASE_IMAGE}'
export CHATOPS_MM_PG_IMAGE='${pg_image_name}'
$(for suite in ${DEBIAN_SUITES}; do
    printf "export CHATOPS_MM_BASE_IMAGE_%s='%s'\n" "${suite^^}" "$(base_image "${suite}")"
  done)
$(release_env '' "${primary}")
export CHATOPS_MM_DOWNLOAD_BASE='http://artifacts.test'
export CHATOPS_MM_WORLD_CA='${CHATOPS_CACHE}/world-tls/ca.crt'
export CHATOPS_MM_TEST_NETWORK='${TEST_NETWORK}'
export ANSIBLE_COLLECTIONS_PATH='${COLLECTIONS_DIR}'
$(release_env _OLD "${old_mm}")
$(release_env _BROKEN "${broken_mm}")
$(release_env _BUTTON "${button_mm}")
ENV
log "world is up; phases:"
cat "${PHASE_LOG}" >&2
