#!/usr/bin/env bash
# The main job: a full deploy of the single-server layout into local
# containers (the single_server molecule scenario's converge, left running).
source "$(dirname "$0")/world/lib.sh"

venv="$("${WORLD_DIR}/venv.sh")"
export PATH="${venv}/bin:${PATH}"
"${WORLD_DIR}/up.sh"
# shellcheck source=/dev/null
source "${CHATOPS_CACHE}/world.env"
export ANSIBLE_COLLECTIONS_PATH="${COLLECTIONS_DIR}"
cd "${REPO_DIR}" || exit 1
molecule converge -s single_server
molecule verify -s single_server
ip="$(docker inspect -f "{{(index .NetworkSettings.Networks \"${TEST_NETWORK}\").IPAddress}}" single-server)"
cat <<MSG
Mattermost is deployed in container single-server (${ip}) with GitLab SSO against the
GitLab emulator. From this machine:
  curl -k --resolve mattermost.test:443:${ip} https://mattermost.test/api/v4/system/ping
Remove it with: molecule destroy -s single_server
MSG
