#!/usr/bin/env bash
# Starts (or stops with `down`) the test network and the containers that stand
# in for the outside world: the release download site, GitLab and an SMTP
# server. All of them run from the base image with the repository's own
# scripts mounted read-only.
source "$(dirname "$0")/lib.sh"

ARTIFACTS_DIR="${CHATOPS_CACHE}/mattermost/dist"
TLS_DIR="${CHATOPS_CACHE}/world-tls"
mkdir -p "${ARTIFACTS_DIR}"

down() {
  docker rm -f chatops-mm-artifacts chatops-mm-gitlab chatops-mm-gitlab-own chatops-mm-smtp >/dev/null 2>&1 || true
}

ensure_network() {
  docker network inspect "${TEST_NETWORK}" >/dev/null 2>&1 \
    || docker network create --label chatops-mm=world "${TEST_NETWORK}" >/dev/null
}

# A throwaway CA and server certificates for the emulated peers, made once.
# The CA carries keyUsage keyCertSign (RFC 5280): Python 3.13 (Debian 13
# hosts) verifies with VERIFY_X509_STRICT and rejects a CA without it.
ensure_tls() {
  mkdir -p "${TLS_DIR}"
  local ca_subject="/CN=chatops-mm test CA" ca_usage="keyUsage=critical,keyCertSign,cRLSign"
  if [[ ! -s "${TLS_DIR}/ca.crt" ]]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "${ca_subject}" -addext "${ca_usage}" \
      -keyout "${TLS_DIR}/ca.key" -out "${TLS_DIR}/ca.crt" 2>/dev/null
  elif [[ "$(openssl x509 -in "${TLS_DIR}/ca.crt" -noout -ext keyUsage 2>/dev/null)" != *"Certificate Sign"* ]]; then
    # A CA cached before it had keyUsage: issued again from its own key and
    # name, so the server certificates it signed (and the running services
    # that present them) stay valid.
    log "re-issuing the world's CA certificate with keyUsage (same key)"
    openssl req -x509 -new -key "${TLS_DIR}/ca.key" -days 3650 -subj "${ca_subject}" -addext "${ca_usage}" \
      -out "${TLS_DIR}/ca.crt.tmp" 2>/dev/null
    chmod 0644 "${TLS_DIR}/ca.crt.tmp"
    mv "${TLS_DIR}/ca.crt.tmp" "${TLS_DIR}/ca.crt"
  fi
  local host
  for host in gitlab.test smtp.test; do
    [[ -s "${TLS_DIR}/${host}.crt" ]] && continue
    openssl req -newkey rsa:2048 -nodes -subj "/CN=${host}" \
      -keyout "${TLS_DIR}/${host}.key" -out "${TLS_DIR}/${host}.csr" 2>/dev/null
    openssl x509 -req -in "${TLS_DIR}/${host}.csr" -CA "${TLS_DIR}/ca.crt" -CAkey "${TLS_DIR}/ca.key" \
      -CAcreateserial -days 3650 -extfile <(printf 'subjectAltName=DNS:%s' "${host}") \
      -out "${TLS_DIR}/${host}.crt" 2>/dev/null
  done
  chmod 0644 "${TLS_DIR}"/*
}

# The emulators' code, the checkout they are mounted from and the command line:
# a running service started from other code or another checkout (whose
# directory may be gone) is replaced.
service_revision() { # service_revision CMD...
  { cat "${REPO_DIR}"/tests/emulators/*.py; printf '%s\n' "${REPO_DIR}" "$@"; } | sha256sum | cut -c1-16
}

# run_service NAME ALIAS CMD...: (re)starts a service container unless it runs
# this revision.
run_service() {
  local name="$1" alias="$2" revision; shift 2
  revision="$(service_revision "$@")"
  if [[ "$(docker inspect -f '{{.State.Running}} {{index .Config.Labels "chatops-mm.revision"}}' "${name}" 2>/dev/null)" \
        == "true ${revision}" ]]; then
    return 0
  fi
  docker rm -f "${name}" >/dev/null 2>&1 || true
  docker run -d --name "${name}" --hostname "${alias}" \
    --network "${TEST_NETWORK}" --network-alias "${alias}" \
    --label chatops-mm=world --label "chatops-mm.revision=${revision}" \
    -v "${REPO_DIR}/tests/emulators:/opt/emulators:ro" \
    -v "${ARTIFACTS_DIR}:/srv/artifacts:ro" \
    -v "${TLS_DIR}:/etc/world-tls:ro" \
    "${BASE_IMAGE}" "$@" >/dev/null
}

wait_http() {
  local name="$1" url="$2"
  for _ in $(seq 1 30); do
    if docker exec "${name}" python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" "${url}" 2>/dev/null; then
      return 0
    fi
    sleep 1
  done
  docker logs "${name}" >&2 || true
  die "${name} did not answer on ${url}"
}

up() {
  ensure_network
  ensure_tls
  run_service chatops-mm-artifacts artifacts.test \
    python3 -m http.server 80 --directory /srv/artifacts
  # Webhooks (GitLab's events) go to scenario hosts whose certificates the
  # world's CA signed.
  local gitlab=(python3 /opt/emulators/gitlab_emulator.py --host 0.0.0.0 --port 80
    --tls-port 443 --tls-cert /etc/world-tls/gitlab.test.crt --tls-key /etc/world-tls/gitlab.test.key
    --external-url http://gitlab.test --webhook-ca-file /etc/world-tls/ca.crt)
  run_service chatops-mm-gitlab gitlab.test "${gitlab[@]}"
  # A second GitLab for a scenario that resets it and injects faults while the
  # shared lane uses the first: the scenario pins gitlab.test to it.
  run_service chatops-mm-gitlab-own gitlab-own.test "${gitlab[@]}"
  run_service chatops-mm-smtp smtp.test \
    python3 /opt/emulators/smtp_sink.py --host 0.0.0.0 --port 25 --port-tls 465 \
      --tls-cert /etc/world-tls/smtp.test.crt --tls-key /etc/world-tls/smtp.test.key \
      --user mattermost@example.test --password smtp-test-password \
      --maildir /tmp/maildir --http-port 8025
  wait_http chatops-mm-artifacts http://127.0.0.1/
  wait_http chatops-mm-gitlab http://127.0.0.1/-/health
  wait_http chatops-mm-gitlab-own http://127.0.0.1/-/health
  wait_http chatops-mm-smtp http://127.0.0.1:8025/messages
  log "services up on network ${TEST_NETWORK}: artifacts.test gitlab.test gitlab-own.test smtp.test"
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  *) die "usage: $0 [up|down]" ;;
esac
