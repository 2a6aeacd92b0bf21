#!/usr/bin/env bash
# The test command: lint, sanity, unit tests, then every molecule scenario in
# the test world. Builds whatever the world lacks first (cached outside the
# repository). Prints how long each phase took and a closing
# "N passed, N failed" line.
#   tests/run.sh                 everything
#   tests/run.sh static unit     only these stages (static, unit, molecule)
#   SCENARIOS="mattermost_nginx" tests/run.sh molecule
source "$(dirname "$0")/world/lib.sh"
set +e

stages=("$@")
[[ ${#stages[@]} -eq 0 ]] && stages=(static unit molecule)
want() { local s; for s in "${stages[@]}"; do [[ "$s" == "$1" ]] && return 0; done; return 1; }

passed=0 failed=0 failures=()
record() { # record NAME RC
  if [[ "$2" -eq 0 ]]; then passed=$((passed + 1)); log "PASS $1"
  else failed=$((failed + 1)); failures+=("$1"); log "FAIL $1 (rc=$2)"; fi
}
timed() { # timed NAME CMD...: runs a check, records its result and duration
  local name="$1" start rc; shift
  start=$(date +%s)
  "$@"; rc=$?
  printf '%-40s %5ss  %s\n' "${name}" "$(( $(date +%s) - start ))" "$([[ $rc -eq 0 ]] && echo ok || echo FAILED)" >>"${RUN_LOG}"
  record "${name}" "${rc}"
}

# timed_bg NAME CMD...: like timed, in the background (ansible-test sanity
# and ansible-lint are one process each: on two cores they run side by side);
# collect_bg waits, prints each one's output and records it.
BG_DIR="$(mktemp -d)" bg_names=() bg_pids=()
timed_bg() {
  local name="$1"; shift
  ( start=$(date +%s); "$@" >"${BG_DIR}/${name}.log" 2>&1
    echo "$? $(( $(date +%s) - start ))" >"${BG_DIR}/${name}.rc" ) &
  bg_names+=("${name}") bg_pids+=("$!")
}
collect_bg() {
  local name rc seconds
  wait "${bg_pids[@]}"
  for name in "${bg_names[@]}"; do
    cat "${BG_DIR}/${name}.log"
    read -r rc seconds <"${BG_DIR}/${name}.rc" || { rc=1; seconds=0; }
    printf '%-40s %5ss  %s\n' "${name}" "${seconds}" "$([[ $rc -eq 0 ]] && echo ok || echo FAILED)" >>"${RUN_LOG}"
    record "${name}" "${rc}"
  done
  bg_names=() bg_pids=()
}

RUN_LOG="$(mktemp)"
venv="$("${WORLD_DIR}/venv.sh")" || { log "could not create the virtualenv"; exit 1; }
export PATH="${venv}/bin:${PATH}"
export ANSIBLE_COLLECTIONS_PATH="${COLLECTIONS_DIR}"
link_collection
cd "${REPO_DIR}" || exit 1

sanity() {
  # ansible-test bootstraps pip in its venvs with a script from a host this
  # machine cannot reach; an offline stand-in takes its cached place.
  local pip_version
  pip_version="$(python - <<'PY'
from ansible_test._internal.python_requirements import get_venv_packages
from ansible_test._internal.host_configs import NativePythonConfig
import sys
print(get_venv_packages(NativePythonConfig(version="%d.%d" % sys.version_info[:2]))["pip"])
PY
)"
  mkdir -p "${HOME}/.ansible/test/cache"
  cp "${REPO_DIR}/tests/tools/get_pip_offline.py" "${HOME}/.ansible/test/cache/get_pip_${pip_version//./_}.py"
  # ansible-test wants the collection at ansible_collections/<ns>/<name>.
  local tree
  tree="$(mktemp -d)/ansible_collections/chatops/mattermost"
  mkdir -p "${tree}"
  git ls-files -z --cached --others --exclude-standard | rsync -a --from0 --files-from=- ./ "${tree}/"
  (cd "${tree}" && git init -q && git add -A && ansible-test sanity --python "$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
     --color no)
}

# The artefact Galaxy would get: galaxy.yml must build, and the built
# collection, installed where no other copy is on the path, must document
# every module and role it ships (ansible-doc exits 0 for a plugin it cannot
# find, so its JSON is read).
collection_build() {
  local out rc=0 name kind
  out="$(mktemp -d)"
  ansible-galaxy collection build --output-path "${out}" . >/dev/null \
    && ANSIBLE_COLLECTIONS_PATH="${out}/installed" ansible-galaxy collection install --offline --force --no-deps \
         -p "${out}/installed" "${out}"/chatops-mattermost-*.tar.gz >/dev/null || rc=1
  for module in plugins/modules/*.py; do
    name="chatops.mattermost.$(basename "${module}" .py)"
    ANSIBLE_COLLECTIONS_PATH="${out}/installed" ansible-doc --json -t module "${name}" 2>/dev/null \
      | python3 -c 'import json, sys; d = json.load(sys.stdin); sys.exit(0 if sys.argv[1] in d and d[sys.argv[1]].get("doc") else 1)' "${name}" \
      || { echo "collection-build: the built collection does not document ${name}"; rc=1; }
  done
  for role in roles/[!_]*/; do
    name="chatops.mattermost.$(basename "${role}")"
    kind="$(ANSIBLE_COLLECTIONS_PATH="${out}/installed" ansible-doc --json -t role "${name}" 2>/dev/null \
      | python3 -c 'import json, sys; d = json.load(sys.stdin); print(",".join(sorted(d.get(sys.argv[1], {}).get("entry_points", {}))))' "${name}")"
    [[ -n "${kind}" ]] || { echo "collection-build: the built collection does not document role ${name}"; rc=1; }
  done
  rm -rf "${out}"
  return "${rc}"
}

# Fragments in changelogs/fragments/ and the hand-kept history must be what
# antsibull-changelog release can merge.
changelog_lint() {
  antsibull-changelog lint && antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
}

# The execution environment: ansible-builder writes its build context (needs
# no container engine), then reads the collection's requirements the way an
# EE build does. meta/execution-environment.yml names its files relative to
# the collection root (that is how ansible-builder reads it in an installed
# collection), so the definition is given from a directory beside meta/.
execution_environment() {
  local out rc=0
  out="$(mktemp -d)"
  ln -s "${REPO_DIR}/meta" "${out}/meta"
  cp meta/execution-environment.yml "${out}/"
  ansible-builder create --file "${out}/execution-environment.yml" --context "${out}/context" >/dev/null \
    && python3 "${out}/context/_build/scripts/introspect.py" introspect "${ANSIBLE_COLLECTIONS_PATH}" >/dev/null || rc=1
  rm -rf "${out}"
  return "${rc}"
}

# The HTML docs site (antsibull-docs + Sphinx, offline): a module, plugin or
# role whose documentation does not parse, or a broken reference, fails it.
docs_site() {
  local out rc=0
  out="$(mktemp -d)"
  "${REPO_DIR}/docs/site/build.sh" "${out}" || rc=1
  rm -rf "${out}"
  return "${rc}"
}

# Scenarios run in two lanes at once: those marked "shared" in scenarios.txt
# reset or count what the world's GitLab emulator and SMTP sink hold, so they
# run one after another in the first lane; the others only use their own
# containers and run in the second lane, or in the first when marked "lane1"
# (to even out the two lanes' times, printed below and in benchmarks/README.md). Each
# scenario's output goes to tests/output/molecule-<scenario>.log; the tail of
# a failed one is printed.
run_lane() { # run_lane SCENARIO...: runs scenarios in order, one result file each
  local scenario rc start
  for scenario in "$@"; do
    start=$(date +%s)
    molecule test -s "${scenario}" >"${OUTPUT_DIR}/molecule-${scenario}.log" 2>&1
    rc=$?
    echo "${scenario} ${rc} $(( $(date +%s) - start ))" >"${OUTPUT_DIR}/molecule-${scenario}.result"
  done
}

bring_world_up() { # also writes its rc to tests/output/world.rc, for the second lane
  local rc
  "${WORLD_DIR}/up.sh" >"${WORLD_LOG}" 2>&1; rc=$?
  echo "${rc}" >"${OUTPUT_DIR}/world.rc"
  return "${rc}"
}
use_world_env() {
  # shellcheck source=/dev/null
  source "${CHATOPS_CACHE}/world.env"
  # world.env names the collections path of the checkout that brought the world up.
  export ANSIBLE_COLLECTIONS_PATH="${COLLECTIONS_DIR}"
}
world_then_lane1() {
  bring_world_up || return 1
  use_world_env
  run_lane "${shared[@]}"
}

# The test world (built on first use: base images, Mattermost from source)
# comes up while the static and unit stages run, and the first lane (the
# longer one) starts as soon as the world is up; the second starts after the
# unit tests.
if want molecule; then
  OUTPUT_DIR="${REPO_DIR}/tests/output"
  mkdir -p "${OUTPUT_DIR}"
  rm -f "${OUTPUT_DIR}"/molecule-*.result "${OUTPUT_DIR}/world.rc"
  WORLD_LOG="$(mktemp)"
  shared=() own=()
  while read -r name lane; do
    [[ -z "${name}" || "${name}" == \#* ]] && continue
    if [[ -n "${SCENARIOS:-}" && " ${SCENARIOS} " != *" ${name} "* ]]; then continue; fi
    if [[ "${lane}" == shared || "${lane}" == lane1 ]]; then shared+=("${name}"); else own+=("${name}"); fi
  done <"${REPO_DIR}/extensions/molecule/scenarios.txt"
  log "molecule lanes: 1 (the shared world state first): ${shared[*]:-none}; 2: ${own[*]:-none}"
  world_then_lane1 &
  lane1_pid=$!
fi

if want static; then
  if ! command -v rsync >/dev/null || ! command -v shellcheck >/dev/null; then
    apt-get update -qq && apt-get install -y -qq rsync shellcheck >/dev/null
  fi
  timed_bg ansible-test-sanity sanity
  timed yamllint yamllint -s .
  timed argument-specs python3 tests/tools/check_argument_specs.py
  timed ansible-lint ansible-lint --offline
  collect_bg
  timed collection-build collection_build
  timed changelog-lint changelog_lint
  timed execution-environment execution_environment
  timed docs-site docs_site
fi

# One pytest worker per core (pytest-xdist): each test starts its own GitLab
# emulator on a free port and works in its own tmp_path.
if want unit; then
  timed pytest-unit python -m pytest -q -n auto tests/unit
fi

if want molecule; then
  while [[ ! -s "${OUTPUT_DIR}/world.rc" ]] && kill -0 "${lane1_pid}" 2>/dev/null; do sleep 2; done
  world_rc="$(cat "${OUTPUT_DIR}/world.rc" 2>/dev/null || echo 1)"
  cat "${WORLD_LOG}"
  [[ "${world_rc}" -eq 0 ]] || { log "the test world did not come up"; exit 1; }
  use_world_env
  run_lane "${own[@]}"
  wait "${lane1_pid}"
  for scenario in "${shared[@]}" "${own[@]}"; do
    read -r _ rc seconds <"${OUTPUT_DIR}/molecule-${scenario}.result" || { rc=1; seconds=0; }
    printf '%-40s %5ss  %s\n' "molecule-${scenario}" "${seconds}" "$([[ $rc -eq 0 ]] && echo ok || echo FAILED)" >>"${RUN_LOG}"
    if [[ "${rc}" -ne 0 ]]; then
      echo "---- molecule-${scenario} failed; last lines of tests/output/molecule-${scenario}.log:"
      tail -n 80 "${OUTPUT_DIR}/molecule-${scenario}.log"
    fi
    record "molecule-${scenario}" "${rc}"
  done
fi

echo
echo "phase durations:"
want molecule && [[ -s "${PHASE_LOG}" ]] && cat "${PHASE_LOG}"
cat "${RUN_LOG}"
if [[ ${failed} -gt 0 ]]; then echo "failed: ${failures[*]}"; fi
echo "${passed} passed, ${failed} failed"
[[ ${failed} -eq 0 ]]
