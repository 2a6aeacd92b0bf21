#!/usr/bin/env bash
# Makes sure a Docker engine answers: installs Debian's docker.io when dockerd
# is missing and starts dockerd when it is not running.
source "$(dirname "$0")/lib.sh"

if ! command -v dockerd >/dev/null 2>&1; then
  log "installing docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

if docker info >/dev/null 2>&1; then
  log "docker engine already answers"
  exit 0
fi

log "starting dockerd"
mkdir -p /var/log
# The engine outlives this script on purpose: later phases and tests use it.
nohup dockerd >/var/log/chatops-dockerd.log 2>&1 &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    log "docker engine is up"
    exit 0
  fi
  sleep 1
done
tail -n 30 /var/log/chatops-dockerd.log >&2 || true
die "dockerd did not answer within 60 s"
