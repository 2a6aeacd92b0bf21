#!/usr/bin/env bash
# Brings the whole test world up from nothing, reusing what is cached:
# Docker engine, base image, Mattermost release tarballs, service containers.
# Writes ${CHATOPS_CACHE}/world.env for molecule and the tests to source.
source "$(dirname "$0")/lib.sh"

: >"${PHASE_LOG}"
phase docker-engine "${WORLD_DIR}/docker-engine.sh"
phase base-image "${WORLD_DIR}/base-image.sh"
while read -r version _; do
  [[ -z "${version}" || "${version}" == \#* ]] && continue
  phase "mattermost-${version}" "${WORLD_DIR}/mattermost-build.sh" "${version}"
done <"${WORLD_DIR}/mattermost-builds.txt"
phase services "${WORLD_DIR}/services.sh" up

# Ansible finds this checkout as the chatops.mattermost collection.
collections="${CHATOPS_CACHE}/collections"
mkdir -p "${collections}/ansible_collections/chatops"
ln -sfn "${REPO_DIR}" "${collections}/ansible_collections/chatops/mattermost"

primary="$(awk '!/^#/ && NF {print $1; exit}' "${WORLD_DIR}/mattermost-builds.txt")"
sha="$(cut -d' ' -f1 "${CHATOPS_CACHE}/mattermost/dist/${primary}/mattermost-team-${primary}-linux-amd64.tar.gz.sha256")"
# The upgrade scenario's extra releases: the first real build after the
# primary one (older, upgraded from) and the first `broken` one.
old_mm="$(awk -v p="${primary}" '!/^#/ && NF == 3 && $1 != p {print $1; exit}' "${WORLD_DIR}/mattermost-builds.txt")"
broken_mm="$(awk '!/^#/ && $4 == "broken" {print $1; exit}' "${WORLD_DIR}/mattermost-builds.txt")"
mm_sha() {
  if [[ -n "$1" ]]; then
    cut -d' ' -f1 "${CHATOPS_CACHE}/mattermost/dist/$1/mattermost-team-$1-linux-amd64.tar.gz.sha256"
  fi
}
cat >"${CHATOPS_CACHE}/world.env" <<ENV
export CHATOPS_CACHE='${CHATOPS_CACHE}'
export CHATOPS_MM_BASE_IMAGE='${BASE_IMAGE}'
export CHATOPS_MM_VERSION='${primary}'
export CHATOPS_MM_SHA256='${sha}'
export CHATOPS_MM_DOWNLOAD_BASE='http://artifacts.test'
export CHATOPS_MM_WORLD_CA='${CHATOPS_CACHE}/world-tls/ca.crt'
export CHATOPS_MM_TEST_NETWORK='${TEST_NETWORK}'
export ANSIBLE_COLLECTIONS_PATH='${collections}'
export CHATOPS_MM_OLD_VERSION='${old_mm}'
export CHATOPS_MM_OLD_SHA256='$(mm_sha "${old_mm}")'
export CHATOPS_MM_BROKEN_VERSION='${broken_mm}'
export CHATOPS_MM_BROKEN_SHA256='$(mm_sha "${broken_mm}")'
ENV
log "world is up; phases:"
cat "${PHASE_LOG}" >&2
