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
cat >"${CHATOPS_CACHE}/world.env" <<ENV
export CHATOPS_CACHE='${CHATOPS_CACHE}'
export CHATOPS_MM_BASE_IMAGE='${BASE_IMAGE}'
export CHATOPS_MM_VERSION='${primary}'
export CHATOPS_MM_SHA256='${sha}'
export CHATOPS_MM_DOWNLOAD_BASE='http://artifacts.test'
export CHATOPS_MM_WORLD_CA='${CHATOPS_CACHE}/world-tls/ca.crt'
export CHATOPS_MM_TEST_NETWORK='${TEST_NETWORK}'
export ANSIBLE_COLLECTIONS_PATH='${collections}'
ENV
log "world is up; phases:"
cat "${PHASE_LOG}" >&2
