#!/usr/bin/env bash
# Builds the HTML docs site offline into DEST/html: antsibull-docs writes the
# pages of the collection's modules, roles and plugins from their
# documentation (failing on any it cannot parse), the guides of docs/ are
# added as they are (Markdown), and Sphinx fails on any warning.
# chatops.mattermost must be on ANSIBLE_COLLECTIONS_PATH (tests/run.sh puts
# this checkout there).
#   docs/site/build.sh DEST
set -euo pipefail
site="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "${site}/../.." && pwd)"
dest="${1:?usage: docs/site/build.sh DEST}"
src="${dest}/src"
# antsibull-docs writes only into a directory no one else can write to.
mkdir -p "${src}"
chmod 700 "${src}"
antsibull-docs collection --use-current --fail-on-error --dest-dir "${src}" chatops.mattermost
cp "${site}/index.rst" "${src}/"
mkdir -p "${src}/docs"
for guide in "${repo}"/docs/*.md; do
  [[ "$(basename "${guide}")" == DESIGN.md ]] || cp "${guide}" "${src}/docs/"
done
# The guides link to the roles' argument specs; they become downloads.
for spec in "${repo}"/roles/*/meta/argument_specs.yml; do
  install -D -m 0644 "${spec}" "${src}/${spec#"${repo}/"}"
done
sphinx-build -q -b html -c "${site}" -W --keep-going "${src}" "${dest}/html"
