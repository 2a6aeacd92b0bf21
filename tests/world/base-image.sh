#!/usr/bin/env bash
# Builds the base host image for molecule and the test services: Debian with
# systemd as PID 1 and python3, from debootstrap and `docker import` (no
# registry is reachable). The root filesystem tarball is cached outside the
# repository; the Docker image is re-imported from it when missing.
#   base-image.sh [SUITE]   SUITE: a Debian suite, DEBIAN_SUITE (versions.env) if not given
# Builds for two suites can run at once (up.sh does).
source "$(dirname "$0")/lib.sh"

suite="${1:-${DEBIAN_SUITE}}"
image="$(base_image "${suite}")"
rootfs_tar="${CHATOPS_CACHE}/base/${suite}-systemd-r${BASE_IMAGE_REVISION}.tar"

if docker image inspect "${image}" >/dev/null 2>&1; then
  log "base image ${image} present"
  exit 0
fi

if [[ ! -s "${rootfs_tar}" ]]; then
  command -v debootstrap >/dev/null 2>&1 || {
    export DEBIAN_FRONTEND=noninteractive
    # One apt at a time when two builds start together.
    flock "${CHATOPS_CACHE}/apt.lock" sh -c \
      'command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }'
  }
  work="$(mktemp -d "${CHATOPS_CACHE}/debootstrap.XXXXXX")"
  trap 'rm -rf "${work}"' EXIT
  rootfs="${work}/rootfs"
  log "debootstrap ${suite} into ${rootfs}"
  debootstrap --variant=minbase \
    --include=systemd,systemd-sysv,dbus,python3,python3-apt,sudo,ca-certificates,iproute2,procps,curl,gnupg \
    "${suite}" "${rootfs}" "${DEBIAN_MIRROR}" >"${work}/debootstrap.log" 2>&1 \
    || { tail -n 40 "${work}/debootstrap.log" >&2; die "debootstrap failed"; }

  cat >"${rootfs}/etc/apt/sources.list" <<SOURCES
deb ${DEBIAN_MIRROR} ${suite} main
deb ${DEBIAN_MIRROR} ${suite}-updates main
deb http://deb.debian.org/debian-security ${suite}-security main
SOURCES
  # A container has no consoles or hardware; these units only fail or wait.
  for unit in getty.target console-getty.service systemd-udevd.service \
      systemd-udev-trigger.service systemd-remount-fs.service \
      sys-kernel-debug.mount sys-kernel-tracing.mount dev-hugepages.mount \
      systemd-firstboot.service systemd-modules-load.service; do
    ln -sf /dev/null "${rootfs}/etc/systemd/system/${unit}"
  done
  ln -sf /lib/systemd/system/multi-user.target "${rootfs}/etc/systemd/system/default.target"
  # Each container gets its own machine id at first boot.
  : >"${rootfs}/etc/machine-id"
  rm -f "${rootfs}/var/lib/dbus/machine-id"
  rm -rf "${rootfs}/var/lib/apt/lists/"* "${rootfs}/var/cache/apt/archives/"*.deb
  # Empty package lists must look stale, as on any host, or apt's
  # cache_valid_time would skip the first update.
  touch -d '2000-01-01' "${rootfs}/var/lib/apt/lists"
  log "packing ${rootfs_tar}"
  mkdir -p "$(dirname "${rootfs_tar}")"
  tar -C "${rootfs}" -cf "${rootfs_tar}.tmp" .
  mv "${rootfs_tar}.tmp" "${rootfs_tar}"
fi

log "importing ${rootfs_tar} as ${image}"
docker import \
  --change 'CMD ["/lib/systemd/systemd"]' \
  --change 'ENV container=docker' \
  "${rootfs_tar}" "${image}" >/dev/null
log "base image ${image} ready"
