#!/usr/bin/env bash
# Builds a real Mattermost Team Edition release tarball from the Go module
# github.com/mattermost/mattermost/server/v8, laid out like the official one,
# and puts it with its .sha256 under the artefact site's directory:
#   dist/<version>/mattermost-team-<version>-linux-amd64.tar.gz
# Usage: mattermost-build.sh <version>   (a version listed in mattermost-builds.txt)
# Cached by version: a tarball already in dist/ is not rebuilt.
# A line marked `broken` reuses the real build with the same pins and swaps in
# a bin/mattermost that exits at once (rollback tests).
source "$(dirname "$0")/lib.sh"

version="${1:?usage: $0 <version>}"
read -r _ module_version public_pin broken < <(awk -v v="${version}" '$1 == v' "${WORLD_DIR}/mattermost-builds.txt") \
  || die "version ${version} is not listed in mattermost-builds.txt"
[[ -n "${module_version}" && -n "${public_pin}" ]] || die "mattermost-builds.txt: ${version} needs a server and a public module version"

dist="${CHATOPS_CACHE}/mattermost/dist/${version}"
tarball="${dist}/mattermost-team-${version}-linux-amd64.tar.gz"
if [[ -s "${tarball}" && -s "${tarball}.sha256" ]]; then
  log "mattermost ${version} already built: ${tarball}"
  exit 0
fi

if [[ "${broken:-}" == "broken" ]]; then
  # A deliberately broken release for rollback tests: the tarball of the real
  # build with the same pins, its bin/mattermost replaced by a script that
  # exits at once. No compile: unpack, swap, repack.
  base="$(awk -v m="${module_version}" -v p="${public_pin}" \
    '!/^#/ && $2 == m && $3 == p && $4 != "broken" {print $1; exit}' "${WORLD_DIR}/mattermost-builds.txt")"
  [[ -n "${base}" ]] || die "broken ${version}: list a real build with the same pins in mattermost-builds.txt"
  "${WORLD_DIR}/mattermost-build.sh" "${base}"
  base_tarball="${CHATOPS_CACHE}/mattermost/dist/${base}/mattermost-team-${base}-linux-amd64.tar.gz"
  stage_root="${CHATOPS_CACHE}/mattermost/build-${version}"
  rm -rf "${stage_root}"
  mkdir -p "${stage_root}" "${dist}"
  tar -C "${stage_root}" -xzf "${base_tarball}"
  printf '#!/bin/sh\necho "mattermost %s: broken test build, exiting" >&2\nexit 1\n' "${version}" \
    > "${stage_root}/mattermost/bin/mattermost"
  chmod 0755 "${stage_root}/mattermost/bin/mattermost"
  printf '%s\n' "${version}" > "${stage_root}/mattermost/VERSION"
  tar -C "${stage_root}" --owner=0 --group=0 -czf "${tarball}.tmp" mattermost
  mv "${tarball}.tmp" "${tarball}"
  (cd "${dist}" && sha256sum "$(basename "${tarball}")" > "$(basename "${tarball}").sha256")
  rm -rf "${stage_root}"
  log "built broken ${tarball} from ${base} ($(du -h "${tarball}" | cut -f1))"
  exit 0
fi

module=github.com/mattermost/mattermost/server/v8
build="${CHATOPS_CACHE}/mattermost/build-${version}"
rm -rf "${build}"
mkdir -p "${build}/wrapper/cmd/configgen" "${build}/stage/mattermost"
export GOFLAGS="-mod=mod -buildvcs=false"
export GOTOOLCHAIN=local
# The checksum database does not know these pseudo-versions; go.sum in the
# wrapper still pins what was downloaded.
export GONOSUMDB="github.com/mattermost/mattermost"
export CGO_ENABLED=0

# The server's go.mod carries replace directives, which `go install
# module@version` refuses; a throwaway wrapper module that requires the server
# and repeats those directives builds it instead.
cd "${build}/wrapper" || exit 1
go mod init chatops.test/mattermost-build >/dev/null 2>&1
log "downloading ${module}@${module_version}"
server_gomod="$(go mod download -json "${module}@${module_version}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')"
server_dir="$(go mod download -json "${module}@${module_version}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
python3 - "${server_gomod}" >>go.mod <<'PY'
import re, sys
text = open(sys.argv[1]).read()
for block in re.findall(r'^replace\s*\((.*?)^\)', text, re.S | re.M):
    for line in block.strip().splitlines():
        if line.strip() and not line.strip().startswith("//"):
            print("replace " + line.strip())
for line in re.findall(r'^replace\s+[^(\n].*$', text, re.M):
    print(line)
for line in re.findall(r'^exclude\s+[^(\n].*$', text, re.M):
    print(line)
PY

# config/config.json with the server's own defaults, as the release ships it.
cat > cmd/configgen/main.go <<'GO'
package main

import (
	"encoding/json"
	"os"

	"github.com/mattermost/mattermost/server/public/model"
)

func main() {
	cfg := &model.Config{}
	cfg.SetDefaults()
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "    ")
	if err := enc.Encode(cfg); err != nil {
		panic(err)
	}
}
GO
# Not `go get <package>` nor `go mod tidy`: both resolve imports under every
# build tag, including the Enterprise Edition's private modules. A plain build
# resolves only what Team Edition compiles.
# In the monorepo server/v8 builds against server/public of the same commit
# (go.work), so the wrapper pins that public pseudo-version too.
go mod edit -require="${module}@${module_version}" \
  -require="github.com/mattermost/mattermost/server/public@${public_pin}"
go build -o /dev/null ./cmd/configgen >&2

public_version="$(go list -m -f '{{.Version}}' github.com/mattermost/mattermost/server/public)"
reported="$(go list -m -f '{{.Dir}}' github.com/mattermost/mattermost/server/public)"
current="$(grep -m1 -oE '"[0-9]+\.[0-9]+\.[0-9]+"' "${reported}/model/version.go" | tr -d '"')"
log "server/public ${public_version} reports version ${current}"
[[ "${current}" == "${version}" ]] || die "module ${module_version} reports ${current}, not ${version}: fix mattermost-builds.txt"

ldflags="-s -w"
pkg=github.com/mattermost/mattermost/server/public/model
ldflags+=" -X ${pkg}.BuildNumber=${version}-chatops-test"
ldflags+=" -X ${pkg}.BuildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
ldflags+=" -X ${pkg}.BuildHash=${module_version##*-}"
ldflags+=" -X ${pkg}.BuildHashEnterprise=none"
ldflags+=" -X ${pkg}.BuildEnterpriseReady=false"

stage="${build}/stage/mattermost"
mkdir -p "${stage}/bin" "${stage}/config" "${stage}/logs" "${stage}/prepackaged_plugins" "${stage}/client"
log "compiling mattermost and mmctl (slow on a cold cache)"
go build -trimpath -ldflags "${ldflags}" -o "${stage}/bin/mattermost" "${module}/cmd/mattermost"
go build -trimpath -ldflags "-s -w -X github.com/mattermost/mattermost/server/v8/cmd/mmctl/commands.BuildHash=${module_version##*-}" \
  -o "${stage}/bin/mmctl" "${module}/cmd/mmctl"
go run ./cmd/configgen > "${stage}/config/config.json"
chmod 0600 "${stage}/config/config.json"

for dir in i18n templates fonts; do
  cp -r "${server_dir}/${dir}" "${stage}/${dir}"
done
chmod -R u+w "${stage}"
# The webapp is built with npm from sources the Go module does not carry; a
# placeholder client keeps the server's static routes answering.
cat > "${stage}/client/root.html" <<HTML
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Mattermost</title></head>
<body><p>Mattermost ${version} (test build: webapp not included)</p></body></html>
HTML
cp "${stage}/client/root.html" "${stage}/client/index.html"
mkdir -p "${stage}/client/plugins"
cp "${server_dir}/../LICENSE.txt" "${stage}/" 2>/dev/null || cp "${server_dir}/LICENSE.txt" "${stage}/" 2>/dev/null || true
printf '%s\n' "${version}" > "${stage}/VERSION"

mkdir -p "${dist}"
tar -C "${build}/stage" --owner=0 --group=0 -czf "${tarball}.tmp" mattermost
mv "${tarball}.tmp" "${tarball}"
(cd "${dist}" && sha256sum "$(basename "${tarball}")" > "$(basename "${tarball}").sha256")
rm -rf "${build}/stage"
log "built ${tarball} ($(du -h "${tarball}" | cut -f1))"
