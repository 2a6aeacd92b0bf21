# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmarks of the chatops.mattermost collection (not a test).

Run through benchmarks/run.sh, which brings the test world up and sets the
environment. Creates its own systemd containers (chatops-mm-bench-*) on the
test world's network, measures converge / no-op / check-mode times of the
split_server playbook and the gitlab_application module's cost when nothing
changes, prints a table and writes benchmarks/results/<UTC timestamp>.json.
Removes its containers at the end. Exits non-zero only on a real error
(a failed run, a no-op run that changed something), never on slow numbers.

Environment:
  BENCH_HOSTS   hosts of the multi-host no-op run (default 8; 1 skips it)
  BENCH_CALLS   gitlab_application calls in the module benchmark (default 20)
  BENCH_GITLAB  private (default): a GitLab emulator of the benchmark's own
                (chatops-mm-bench-gitlab, http://gitlab-bench.test), so that
                molecule runs sharing the world's gitlab.test are not reset
                under their feet and its request log holds only our requests;
                world: the world's gitlab.test, reset first
  BENCH_KEEP    1: leave the containers running at the end (debugging)
  BENCH_WORLD_UP 1: run tests/world/up.sh even when the world looks up
                (run.sh; otherwise it only runs it when something is missing)
  BENCH_PEER_ROLE  a directory holding another Mattermost role (not part of
                this repository): it is also converged and re-run on a fresh
                host of the same image, with the variables of BENCH_PEER_VARS
                (default peers/ma-04-ansible-role-mattermost.yml), one run
                after ours with the same deployment (given certificate and
                key, given client id and secret) on another fresh host, and
                the times are printed side by side
"""

import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import yaml

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / 'results'
MOLECULE_FILE = REPO_DIR / 'extensions' / 'molecule' / 'split_server' / 'molecule.yml'

PREFIX = 'chatops-mm-bench-'
LABEL = 'chatops-mm=bench'
# The molecule platforms' flags (extensions/molecule/split_server/molecule.yml).
SYSTEMD_FLAGS = [
    '--cap-add', 'SYS_ADMIN', '--cgroupns=host',
    '-v', '/sys/fs/cgroup:/sys/fs/cgroup:rw',
    '--tmpfs', '/run', '--tmpfs', '/run/lock', '--tmpfs', '/tmp',
    '--security-opt', 'seccomp=unconfined', '--security-opt', 'apparmor=unconfined',
]
# What the roles install with apt for the split_server variables
# (mattermost_server: database.yml; mattermost_nginx: vars/main.yml, self-signed).
ROLE_PACKAGES = ['postgresql', 'python3-psycopg2', 'acl', 'nginx', 'python3-cryptography']
PING = 'http://127.0.0.1:8065/api/v4/system/ping'
# How ansible reaches every benchmark host (ours and a peer's).
HOST_VARS = dict(ansible_connection='community.docker.docker', ansible_python_interpreter='/usr/bin/python3')

# Phases of a converge, by task (first match wins). Matched against
# "<action>|<role>|<task name>".
PHASES = [
    ('packages', re.compile(r'^(ansible\.builtin\.)?(apt|package)\|')),
    ('unpack', re.compile(r'^(ansible\.builtin\.)?(get_url|unarchive)\|')),
    ('database', re.compile(r'^(community\.postgresql\.|chatops\.mattermost\.mattermost_database\|)'
                            r'|\|(Start PostgreSQL|Create the database( role)?( and database)?'
                            r'|Give the database role the public schema)$')),
    ('first start', re.compile(r'\|(Restart mattermost|Check Mattermost answers( after the restart)?'
                               r'|Wait for Mattermost to answer|Wait for /api/v4/system/ping to report OK( .*)?'
                               r'|Enable and start (the )?Mattermost( service)?|Restart the Mattermost service'
                               r'|Apply pending restarts before checking the service)$',
                               re.I)),
]
PHASE_NAMES = [phase[0] for phase in PHASES] + ['other']
# Tasks that (re)start Mattermost (roles/mattermost_server/tasks/restart.yml, upgrade.yml).
RESTART_TASKS = ('Restart Mattermost', 'Start the new release')
# Goals of issue 11: a no-op run of split_server reports at most this many
# tasks ok in its recap, and a fresh converge starts Mattermost once.
NOOP_OK_GOAL = 60
RESTART_GOAL = 1
NOOP_REQUESTS_GOAL = 3


class BenchError(Exception):
    """A real error: the benchmark cannot go on with this measurement."""


def log(msg):
    print('[bench %s] %s' % (time.strftime('%H:%M:%S'), msg), file=sys.stderr, flush=True)


def env(name, default=None):
    value = os.environ.get(name, default)
    if value is None:
        raise BenchError('%s is not set: run benchmarks/run.sh (it sources the world.env)' % name)
    return value


def run(cmd, timeout, check=True, log_file=None, extra_env=None, stdin=None):
    """Runs cmd (bounded by timeout); returns (rc, output, seconds)."""
    start = time.monotonic()
    run_env = dict(os.environ, **(extra_env or {}))
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                              env=run_env, input=stdin, text=True, check=False)
    except subprocess.TimeoutExpired as err:
        out = err.output.decode(errors='replace') if isinstance(err.output, bytes) else (err.output or '')
        if log_file:
            Path(log_file).write_text(out, encoding='utf-8')
        raise BenchError('%s timed out after %ss' % (' '.join(cmd[:4]), timeout)) from err
    seconds = time.monotonic() - start
    if log_file:
        Path(log_file).write_text(proc.stdout, encoding='utf-8')
    if check and proc.returncode != 0:
        tail = '\n'.join(proc.stdout.splitlines()[-25:])
        raise BenchError('%s failed (rc=%d):\n%s' % (' '.join(cmd[:6]), proc.returncode, tail))
    return proc.returncode, proc.stdout, seconds


def http_json(url, method='GET', timeout=10):
    req = urllib.request.Request(url, method=method, data=b'' if method == 'POST' else None)
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # nosec - our own emulator container
        body = resp.read()
    return json.loads(body) if body else None


class Bench:

    def __init__(self):
        self.run_id = os.environ.get('BENCH_RUN_ID') or datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')
        self.hosts_n = max(1, int(os.environ.get('BENCH_HOSTS', '8')))
        self.calls = max(1, int(os.environ.get('BENCH_CALLS', '20')))
        self.gitlab_mode = os.environ.get('BENCH_GITLAB', 'private')
        if self.gitlab_mode not in ('private', 'world'):
            raise BenchError('BENCH_GITLAB must be private or world')
        self.keep = os.environ.get('BENCH_KEEP', '') == '1'
        self.image = env('CHATOPS_MM_BASE_IMAGE')
        self.network = env('CHATOPS_MM_TEST_NETWORK')
        self.version = env('CHATOPS_MM_VERSION')
        self.sha256 = env('CHATOPS_MM_SHA256')
        self.download_base = env('CHATOPS_MM_DOWNLOAD_BASE', 'http://artifacts.test')
        env('ANSIBLE_COLLECTIONS_PATH')
        self.work = RESULTS_DIR / self.run_id
        self.work.mkdir(parents=True, exist_ok=True)
        self.hosts = ['%sh%d' % (PREFIX, i) for i in range(1, self.hosts_n + 1)]
        self.floor_host = PREFIX + 'floor'
        self.gitlab_container = PREFIX + 'gitlab' if self.gitlab_mode == 'private' else 'chatops-mm-gitlab'
        self.gitlab_url = 'http://gitlab-bench.test' if self.gitlab_mode == 'private' else 'http://gitlab.test'
        self.gitlab_ip = None
        self.metrics = []
        self.details = {}
        self.errors = []
        self.inventory = self.work / 'inventory.json'
        self.peer_role = os.environ.get('BENCH_PEER_ROLE', '')
        self.peer_vars = Path(os.environ.get('BENCH_PEER_VARS', BENCH_DIR / 'peers' / 'ma-04-ansible-role-mattermost.yml'))
        if self.peer_role and not (Path(self.peer_role) / 'tasks' / 'main.yml').is_file():
            raise BenchError('BENCH_PEER_ROLE=%s is not a role directory (no tasks/main.yml)' % self.peer_role)
        if self.peer_role and not self.peer_vars.is_file():
            raise BenchError('BENCH_PEER_VARS=%s does not exist' % self.peer_vars)
        self.peer_host = PREFIX + 'peer'
        # Ours with the peer's deployment (given certificate, client id and secret), beside the peer.
        self.same_host = PREFIX + 'same'
        self.group_vars = {}
        self.load_at_start = os.getloadavg()

    # ---------------------------------------------------------------- output
    def metric(self, name, value, unit, note=''):
        self.metrics.append(dict(metric=name, value=value, unit=unit, note=note))

    def error(self, what, err):
        log('ERROR in %s: %s' % (what, err))
        self.errors.append(dict(step=what, error=str(err)))

    # ------------------------------------------------------------ containers
    def cleanup_stale(self):
        dummy_rc, out, dummy_secs = run(['docker', 'ps', '-aq', '--filter', 'label=' + LABEL], 60)
        stale = out.split()
        if stale:
            log('removing %d container(s) left over by an earlier benchmark run' % len(stale))
            run(['docker', 'rm', '-f'] + stale, 120)

    def cleanup(self):
        dummy_rc, out, dummy_secs = run(
            ['docker', 'ps', '-aq', '--filter', 'label=chatops-mm-bench-run=' + self.run_id], 60, check=False)
        ids = out.split()
        if not ids:
            return
        if self.keep:
            log('BENCH_KEEP=1: leaving %d container(s) running (docker rm -f them by label %s)' % (len(ids), LABEL))
            return
        log('removing %d benchmark container(s)' % len(ids))
        run(['docker', 'rm', '-f'] + ids, 180, check=False)

    def start_systemd_host(self, name):
        run(['docker', 'run', '-d', '--name', name, '--hostname', name[len(PREFIX):] + '.bench.test',
             '--network', self.network, '--label', LABEL, '--label', 'chatops-mm-bench-run=' + self.run_id]
            + SYSTEMD_FLAGS + [self.image, '/lib/systemd/systemd'], 120)

    def wait_booted(self, name):
        # Right after `docker run` systemd may not listen yet ("Failed to
        # connect to bus"): ask again, for at most about 5 minutes.
        deadline = time.monotonic() + 300
        while True:
            rc, out, dummy_secs = run(['docker', 'exec', name, 'systemctl', 'is-system-running', '--wait'], 300,
                                      check=False)
            state = out.strip().splitlines()[-1] if out.strip() else ''
            if state in ('running', 'degraded'):
                return
            if time.monotonic() > deadline:
                raise BenchError('%s did not boot (systemctl is-system-running: %r, rc=%d)' % (name, state, rc))
            time.sleep(1)

    def start_gitlab(self):
        if self.gitlab_mode == 'private':
            run(['docker', 'run', '-d', '--name', self.gitlab_container, '--hostname', 'gitlab-bench.test',
                 '--network', self.network, '--network-alias', 'gitlab-bench.test',
                 '--label', LABEL, '--label', 'chatops-mm-bench-run=' + self.run_id,
                 '-v', '%s:/opt/emulators:ro' % (REPO_DIR / 'tests' / 'emulators'),
                 self.image, 'python3', '/opt/emulators/gitlab_emulator.py', '--host', '0.0.0.0', '--port', '80',
                 '--external-url', self.gitlab_url], 120)
        dummy_rc, out, dummy_secs = run(
            ['docker', 'inspect', '-f', '{{(index .NetworkSettings.Networks "%s").IPAddress}}' % self.network,
             self.gitlab_container], 30)
        self.gitlab_ip = out.strip()
        for dummy in range(60):
            try:
                with urllib.request.urlopen('http://%s/-/health' % self.gitlab_ip, timeout=2):  # nosec
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise BenchError('the GitLab emulator %s does not answer on %s' % (self.gitlab_container, self.gitlab_ip))
        # A clean GitLab, as the molecule scenario's prepare makes it.
        http_json(self.emulator('reset'), method='POST')
        log('GitLab emulator %s (%s, %s) reset' % (self.gitlab_container, self.gitlab_url, self.gitlab_ip))

    def emulator(self, what):
        return 'http://%s/-/emulator/%s' % (self.gitlab_ip, what)

    def write_inventory(self):
        molecule = yaml.safe_load(MOLECULE_FILE.read_text(encoding='utf-8'))
        group_vars = molecule['provisioner']['inventory']['group_vars']['mattermost']
        group_vars = {k: os.path.expandvars(v) if isinstance(v, str) else v for k, v in group_vars.items()}
        unexpanded = [k for k, v in group_vars.items() if isinstance(v, str) and '${' in v]
        if unexpanded:
            raise BenchError('molecule.yml variables left unexpanded: %s' % ', '.join(unexpanded))
        # Every GitLab URL of the scenario goes to the benchmark's GitLab: the
        # API (registration) too, or the application would be registered in the
        # world's gitlab.test under the scenario's name while the scenario runs.
        # The internal URL differs from the API URL as a string, as in the
        # scenario, so that the preflight's reachability probe runs.
        group_vars['mattermost_gitlab_sso_gitlab_url'] = self.gitlab_url
        group_vars['mattermost_gitlab_sso_api_url'] = self.gitlab_url
        if 'mattermost_gitlab_sso_gitlab_internal_url' in group_vars:
            group_vars['mattermost_gitlab_sso_gitlab_internal_url'] = '%s:%d' % (
                self.gitlab_url, 443 if self.gitlab_url.startswith('https:') else 80)
        group_vars.update(HOST_VARS)
        hosts = {}
        for i, name in enumerate(self.hosts, 1):
            # The first host has the scenario's own variables; the others are
            # other Mattermost servers with applications of their own in the
            # same GitLab (one name per application, as the role expects).
            hosts[name] = {'ansible_host': name}
            if i > 1:
                hosts[name].update(mattermost_server_external_url='https://mattermost-%d.bench.test' % i,
                                   mattermost_gitlab_sso_application_name='GitLab Mattermost (bench host %d)' % i)
        inventory = {'all': {'children': {'mattermost': {'hosts': hosts, 'vars': group_vars}}}}
        # JSON (the yaml inventory plugin reads .json); no secrets beyond the test world's fixed ones.
        self.inventory.write_text(json.dumps(inventory, indent=2), encoding='utf-8')
        self.group_vars = group_vars
        self.details['inventory_vars'] = {k: v for k, v in group_vars.items()
                                          if 'password' not in k and 'token' not in k}

    # --------------------------------------------------------------- ansible
    def playbook(self, tag, hosts, forks=1, check=False, timeout=3600, playbook='chatops.mattermost.split_server',
                 extra=None, inventory=True, extra_env=None):
        """Runs a playbook with the bench_timer callback; returns a summary dict."""
        timer = self.work / ('%s.timer.json' % tag)
        cmd = ['ansible-playbook']
        if inventory:
            cmd += ['-i', str(self.inventory if inventory is True else inventory), '--limit', ','.join(hosts)]
        cmd += ['--forks', str(forks), playbook]
        if check:
            cmd.append('--check')
        for value in extra or []:
            cmd += ['-e', value]
        log('%s: ansible-playbook %s on %d host(s), forks=%d%s' % (tag, playbook, len(hosts), forks,
                                                                   ' --check' if check else ''))
        rc, out, seconds = run(cmd, timeout, check=False, log_file=self.work / ('%s.log' % tag), extra_env={
            'ANSIBLE_CALLBACK_PLUGINS': str(BENCH_DIR / 'callback_plugins'),
            'ANSIBLE_CALLBACKS_ENABLED': 'bench_timer',
            'BENCH_TIMER_OUT': str(timer),
            'ANSIBLE_FORCE_COLOR': 'false',
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_RETRY_FILES_ENABLED': 'false',
            'ANSIBLE_INTERPRETER_PYTHON': '/usr/bin/python3',
            **(extra_env or {}),
        })
        data = json.loads(timer.read_text(encoding='utf-8')) if timer.exists() else None
        stats = (data or {}).get('stats', {})
        summary = dict(tag=tag, rc=rc, seconds=round(seconds, 2), hosts=len(hosts), forks=forks, check=check,
                       changed=sum(s.get('changed', 0) for s in stats.values()),
                       failed=sum(s.get('failures', 0) + s.get('unreachable', 0) for s in stats.values()),
                       # The PLAY RECAP's ok (per host; the largest when several).
                       ok=max((s.get('ok', 0) for s in stats.values()), default=0),
                       stats=stats, log=str(self.work / ('%s.log' % tag)))
        if data:
            summary['changed_tasks'] = sorted({t['name'] for t in data['tasks']
                                               for h in t['hosts'].values() if h.get('changed')})
            tasks = data['tasks']
            summary['tasks'] = len(tasks)
            summary['tasks_ran'] = sum(1 for t in tasks if any(h['status'] != 'skipped' for h in t['hosts'].values()))
            durations = [((tasks[i + 1]['start'] if i + 1 < len(tasks) else data['ended']) - t['start'], t['name'])
                         for i, t in enumerate(tasks)]
            summary['restarts'] = self.restarts(tasks)
            summary['slowest_tasks'] = [dict(task=n, seconds=round(s, 2)) for s, n in sorted(durations)[::-1][:8]]
        log('%s: rc=%d in %.1fs, changed=%d' % (tag, rc, seconds, summary['changed']))
        self.details.setdefault('runs', {})[tag] = {k: v for k, v in summary.items() if k != 'stats'}
        if rc != 0 or data is None:
            tail = '\n'.join(out.splitlines()[-30:])
            raise BenchError('%s: ansible-playbook failed (rc=%d), log %s:\n%s' % (tag, rc, summary['log'], tail))
        return summary, data

    @staticmethod
    def restarts(tasks):
        """Times Mattermost was (re)started by the roles: the restart handler
        and a release switch, counted where they ran (not skipped)."""
        return sum(1 for t in tasks if t['plain_name'] in RESTART_TASKS
                   and any(h['status'] != 'skipped' for h in t['hosts'].values()))

    @staticmethod
    def classify(task):
        key = '%s|%s|%s' % (task['action'], task['role'], task['plain_name'])
        for phase, pattern in PHASES:
            if pattern.search(key):
                return phase
        return 'other'

    def phases(self, data, wall):
        """Seconds per phase: each task lasts until the next one starts."""
        tasks = data['tasks']
        totals = dict.fromkeys(PHASE_NAMES, 0.0)
        per_task = []
        for i, task in enumerate(tasks):
            end = tasks[i + 1]['start'] if i + 1 < len(tasks) else data['ended']
            seconds = end - task['start']
            phase = self.classify(task)
            totals[phase] += seconds
            per_task.append(dict(task=task['name'], action=task['action'], handler=task['handler'], phase=phase,
                                 seconds=round(seconds, 2)))
        # Ansible's start-up and parsing before the first task, and its exit.
        totals['other'] += max(0.0, wall - sum(totals.values()))
        return {k: round(v, 2) for k, v in totals.items()}, per_task

    # ------------------------------------------------------------ measuring
    def dexec(self, host, script, timeout=900):
        return run(['docker', 'exec', host, 'bash', '-c', script], timeout)

    def measure_floor(self):
        """What the converge phases cost with plain commands on a fresh host."""
        host = self.floor_host
        floor = {}
        dummy_rc, dummy_out, floor['apt-get update'] = self.dexec(host, 'apt-get update -qq')
        dummy_rc, dummy_out, floor['apt-get install'] = self.dexec(
            host, 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq %s >/dev/null' % ' '.join(ROLE_PACKAGES))
        url = '%s/%s/mattermost-team-%s-linux-amd64.tar.gz' % (self.download_base, self.version, self.version)
        dummy_rc, dummy_out, floor['download + checksum + tar'] = self.dexec(
            host, 'set -e; mkdir -p /opt/floor/mm; curl -fsS -o /opt/floor/mm.tar.gz %s; '
                  'echo "%s  /opt/floor/mm.tar.gz" | sha256sum -c --quiet; '
                  'tar -C /opt/floor/mm --strip-components=1 -xzf /opt/floor/mm.tar.gz' % (url, self.sha256))
        dummy_rc, dummy_out, floor['createuser + createdb'] = self.dexec(
            host, "set -e; cd /; systemctl start postgresql; "
                  "runuser -u postgres -- psql -qc \"CREATE ROLE mattermost LOGIN PASSWORD 'floor-Pa55'\"; "
                  "runuser -u postgres -- createdb -O mattermost -E UTF8 -T template0 mattermost; "
                  "runuser -u postgres -- psql -q -d mattermost -c 'ALTER SCHEMA public OWNER TO mattermost'")
        self.details['floor'] = {k: round(v, 2) for k, v in floor.items()}
        return floor

    def start_to_ping(self, host, start_cmd):
        """Seconds from start_cmd to /api/v4/system/ping OK, timed inside the container."""
        script = ('s=$(date +%%s.%%N); %s; r=$(date +%%s.%%N); ok=0; '
                  'for _ in $(seq 1 1500); do '
                  '  if curl -fsS --max-time 2 %s 2>/dev/null | grep -q \'"status":"OK"\'; then ok=1; break; fi; '
                  '  sleep 0.2; '
                  'done; e=$(date +%%s.%%N); echo "$s $r $e $ok"') % (start_cmd, PING)
        dummy_rc, out, dummy_secs = self.dexec(host, script, timeout=600)
        start, returned, end, ok = out.split()[-4:]
        if ok != '1':
            dummy_rc, journal, dummy_secs = run(['docker', 'exec', host, 'journalctl', '-n', '20', '--no-pager'], 60, check=False)
            raise BenchError('Mattermost on %s did not answer the ping within 300 s:\n%s' % (host, journal))
        return float(returned) - float(start), float(end) - float(start)

    def measure_first_start_floor(self):
        """Empty database: the binary from the floor host's tarball, started under systemd-run."""
        host = self.floor_host
        self.dexec(host, 'set -e; useradd --system --home-dir /opt/floor/mm --shell /usr/sbin/nologin mattermost; '
                         'chown -R mattermost:mattermost /opt/floor/mm')
        cmd = ('systemd-run --quiet --unit=mm-floor --uid=mattermost --gid=mattermost '
               '-p WorkingDirectory=/opt/floor/mm '
               '--setenv=MM_SQLSETTINGS_DRIVERNAME=postgres '
               '"--setenv=MM_SQLSETTINGS_DATASOURCE=postgres://mattermost:floor-Pa55@localhost:5432/mattermost'
               '?sslmode=disable&connect_timeout=10" '
               '--setenv=MM_SERVICESETTINGS_LISTENADDRESS=127.0.0.1:8065 '
               '--setenv=MM_SERVICESETTINGS_SITEURL=https://floor.bench.test '
               '/opt/floor/mm/bin/mattermost --config /opt/floor/mm/config/config.json')
        return self.start_to_ping(host, cmd)[1]

    def measure_restart_floor(self, host):
        """Converged host: systemctl stop, then start until the ping answers OK."""
        self.dexec(host, 'systemctl stop mattermost')
        returned, pinged = self.start_to_ping(host, 'systemctl start mattermost')
        return returned, pinged

    def gitlab_requests(self):
        return len(http_json(self.emulator('requests')))

    def measure_module(self):
        """gitlab_application with nothing to change: requests and time per call."""
        apps = http_json(self.emulator('state'))['applications']
        app = next(a for a in apps if a['application_name'] == 'GitLab Mattermost')
        extra = json.dumps(dict(
            bench_api_url='http://%s' % self.gitlab_ip, bench_api_token='glpat-admin-token',
            bench_app_name=app['application_name'], bench_redirect_uris=app['callback_url'].split('\n'),
            bench_scopes=app['scopes'], bench_calls=self.calls))
        before = self.gitlab_requests()
        summary, data = self.playbook('module', ['localhost'], playbook=str(BENCH_DIR / 'module_bench.yml'),
                                      extra=[extra], inventory=False, timeout=900)
        emulator_count = self.gitlab_requests() - before
        task = next(t for t in data['tasks'] if t['action'].endswith('gitlab_application'))
        items = task['items']
        times, last = [], task['start']
        for item in items:
            times.append(item['end'] - last)
            last = item['end']
        module_requests = [item.get('requests') for item in items]
        changed_items = sum(1 for item in items if item['changed'])
        self.details['module'] = dict(calls=len(items), per_call_seconds=[round(t, 3) for t in times],
                                      module_requests=module_requests, emulator_requests=emulator_count,
                                      changed_calls=changed_items, task_seconds=round(last - task['start'], 2),
                                      playbook_seconds=summary['seconds'])

        # One ad-hoc call: what a single CLI invocation costs end to end.
        args = json.dumps(dict(api_url='http://%s' % self.gitlab_ip, api_token='glpat-admin-token',
                               name=app['application_name'], redirect_uris=app['callback_url'].split('\n'),
                               scopes=app['scopes'], confidential=True))
        dummy_rc, out, adhoc = run(
            ['ansible', 'localhost', '-c', 'local', '-m', 'chatops.mattermost.gitlab_application', '-a', args], 300,
            log_file=self.work / 'module-adhoc.log',
            extra_env={'ANSIBLE_INTERPRETER_PYTHON': sys.executable, 'ANSIBLE_NOCOLOR': '1'})
        adhoc_changed = '"changed": true' in out
        self.details['module']['adhoc_seconds'] = round(adhoc, 2)
        return times, module_requests, emulator_count, changed_items, adhoc, adhoc_changed

    # ----------------------------------------------------------------- main
    def main(self):
        log('run %s: %d host(s), %d module calls, GitLab emulator: %s; work files in %s'
            % (self.run_id, self.hosts_n, self.calls, self.gitlab_mode, self.work))
        self.cleanup_stale()
        self.start_gitlab()
        self.write_inventory()
        containers = self.hosts + [self.floor_host] + ([self.same_host, self.peer_host] if self.peer_role else [])
        for name in containers:
            self.start_systemd_host(name)
        for name in containers:
            self.wait_booted(name)
        log('%d systemd container(s) booted' % len(containers))

        # 1. Converge of one fresh host, by phase; the same phases by hand.
        first = self.hosts[0]
        summary, data = self.playbook('converge-first', [first], timeout=2400)
        phases, per_task = self.phases(data, summary['seconds'])
        self.details['converge_1'] = dict(phases=phases, tasks=per_task)
        self.metric('converge, 1 fresh host', summary['seconds'], 's',
                    'changed=%d, ok=%d in the recap, all phases below' % (summary['changed'], summary['ok']))
        self.metric('  Mattermost restarts in that converge', summary.get('restarts', 0), 'restarts',
                    'restart handler and release switch; goal %d %s'
                    % (RESTART_GOAL, '✓' if summary.get('restarts', 0) <= RESTART_GOAL else '✗'))

        floor = {}
        try:
            floor = self.measure_floor()
        except BenchError as err:
            self.error('floor (packages, unpack, database)', err)
        restart = None
        try:
            restart = self.measure_restart_floor(first)
            self.details['floor']['systemctl start returned'] = round(restart[0], 2)
            self.details['floor']['restart to ping OK'] = round(restart[1], 2)
        except BenchError as err:
            self.error('floor (restart to ping)', err)
        empty_start = None
        if floor:
            try:
                empty_start = self.measure_first_start_floor()
                self.details['floor']['first start on an empty database to ping OK'] = round(empty_start, 2)
            except BenchError as err:
                self.error('floor (first start on an empty database)', err)

        def ratio(ansible, plain):
            return ' (%.1fx)' % (ansible / plain) if plain else ''
        pkg_floor = floor.get('apt-get update', 0) + floor.get('apt-get install', 0)
        unpack_floor = floor.get('download + checksum + tar', 0)
        db_floor = floor.get('createuser + createdb', 0)
        self.metric('  phase: packages (apt)', phases['packages'], 's',
                    'floor %.1f s%s' % (pkg_floor, ratio(phases['packages'], pkg_floor)) if floor else 'floor n/a')
        self.metric('  phase: unpack (download + unarchive)', phases['unpack'], 's',
                    'floor %.1f s%s' % (unpack_floor, ratio(phases['unpack'], unpack_floor)) if floor else 'floor n/a')
        self.metric('  phase: database (postgres tasks)', phases['database'], 's',
                    'floor %.1f s%s' % (db_floor, ratio(phases['database'], db_floor)) if floor else 'floor n/a')
        notes = []
        if empty_start is not None:
            notes.append('floor %.1f s on an empty DB' % empty_start)
        if restart is not None:
            notes.append('%.1f s restart' % restart[1])
        notes.append('%d restart(s), 5 s poll' % summary.get('restarts', 0))
        self.metric('  phase: first start (restart handler + health)', phases['first start'], 's', '; '.join(notes))
        self.metric('  phase: other', phases['other'], 's', 'preflight, files, config, nginx, TLS, SSO, facts, start-up')
        if floor:
            self.metric('floor: apt-get update + install', round(pkg_floor, 2), 's',
                        'update %.1f + install %.1f; %s'
                        % (floor['apt-get update'], floor['apt-get install'], ' '.join(ROLE_PACKAGES)))
            self.metric('floor: curl + sha256sum + tar', round(unpack_floor, 2), 's', 'from artifacts.test')
            self.metric('floor: createuser + createdb', round(db_floor, 2), 's', 'psql CREATE ROLE, createdb, schema')
        if empty_start is not None:
            self.metric('floor: first start, empty DB, to ping OK', round(empty_start, 2), 's',
                        'systemd-run of the bare binary (migrations)')
        if restart is not None:
            self.metric('floor: systemctl start to ping OK', round(restart[1], 2), 's',
                        'converged host; start returned after %.1f s' % restart[0])

        # 2. No-op runs. The other hosts are converged first, in one run.
        others = self.hosts[1:]
        if others:
            try:
                summary, dummy_data = self.playbook('converge-others', others, forks=len(self.hosts), timeout=5400)
                self.metric('converge, %d fresh host%s at once (forks=%d)'
                            % (len(others), '' if len(others) == 1 else 's', len(self.hosts)),
                            summary['seconds'], 's', 'changed=%d' % summary['changed'])
            except BenchError as err:
                self.error('converge of %d hosts' % len(others), err)
                others = []

        before = self.gitlab_requests()
        summary_noop, dummy_data = self.playbook('noop-1', [first])
        noop_requests = self.gitlab_requests() - before
        self.noop_metric('no-op re-run, 1 host', summary_noop)
        self.metric('  tasks ok in its PLAY RECAP', summary_noop['ok'], 'tasks',
                    'goal at most %d %s' % (NOOP_OK_GOAL, '✓' if summary_noop['ok'] <= NOOP_OK_GOAL else '✗'))
        # The registration plan (GET applications), the check of the secret
        # Mattermost holds (POST /oauth/token) and, since the internal URL
        # differs from the API URL here, the reachability probe (GET /api/v4/version).
        self.metric('  GitLab requests in that run', noop_requests, 'requests',
                    'emulator request log; goal %d %s' % (NOOP_REQUESTS_GOAL, '✓' if noop_requests <= NOOP_REQUESTS_GOAL else '✗'))
        self.details['noop_1_slowest_tasks'] = summary_noop.get('slowest_tasks')
        # Same run with SSH-style pipelining (fewer docker exec round trips per
        # task); the collection's scenarios run without it.
        summary_pipelining = None
        try:
            summary_pipelining, dummy_data = self.playbook('noop-1-pipelining', [first],
                                                           extra_env={'ANSIBLE_PIPELINING': 'true'})
            self.noop_metric('  same, ANSIBLE_PIPELINING=true', summary_pipelining)
        except BenchError as err:
            self.error('no-op run with pipelining', err)
        if others:
            try:
                summary, dummy_data = self.playbook('noop-%d' % len(self.hosts), self.hosts, forks=len(self.hosts))
                self.noop_metric('no-op re-run, %d hosts (forks=%d)' % (len(self.hosts), len(self.hosts)), summary)
            except BenchError as err:
                self.error('no-op run on %d hosts' % len(self.hosts), err)

        # 3. Check mode on a converged host.
        try:
            summary, dummy_data = self.playbook('check-1', [first], check=True)
            self.metric('check mode (--check), 1 converged host', summary['seconds'], 's',
                        'changed=%d %s; %d tasks ran' % (summary['changed'], '✓' if summary['changed'] == 0 else '✗',
                                                         summary.get('tasks_ran', 0)))
        except BenchError as err:
            self.error('check mode', err)

        # 4. Another role, the same deployment, the same kind of host.
        if self.peer_role:
            try:
                self.measure_peer()
            except BenchError as err:
                self.error('peer role %s' % self.peer_role, err)

        # 5. The OAuth module when nothing changed.
        try:
            times, module_requests, emulator_count, changed_items, adhoc, adhoc_changed = self.measure_module()
            per_call = sorted(module_requests, key=lambda r: -1 if r is None else r)
            ones = all(r == 1 for r in module_requests)
            self.metric('gitlab_application no-op: requests per call', per_call[-1] if per_call else 'n/a',
                        'requests', 'module says %s over %d calls; emulator log %d for %d calls %s; changed=%d'
                        % ('1 each' if ones else module_requests, len(times), emulator_count, len(times),
                           '✓' if ones and emulator_count == len(times) else '✗', changed_items))
            self.metric('gitlab_application no-op: time per call (median)', round(statistics.median(times), 3), 's',
                        'min %.3f, max %.3f, mean %.3f; N=%d in one playbook task' % (
                            min(times), max(times), statistics.mean(times), len(times)))
            self.metric('gitlab_application: one ad-hoc call', round(adhoc, 2), 's',
                        '`ansible localhost -m` incl. CLI start-up; changed=%s' % str(adhoc_changed).lower())
        except (BenchError, StopIteration, KeyError, ValueError) as err:
            self.error('gitlab_application benchmark', err)

    def register_application(self, name, redirect_uris):
        """An OAuth application made in the benchmark's GitLab as an admin does by hand: (client id, secret)."""
        body = urllib.parse.urlencode({'name': name, 'redirect_uri': '\n'.join(redirect_uris),
                                       'scopes': 'read_user'}).encode()
        req = urllib.request.Request('http://%s/api/v4/applications' % self.gitlab_ip, data=body, method='POST',
                                     headers={'PRIVATE-TOKEN': 'glpat-admin-token'})
        with urllib.request.urlopen(req, timeout=10) as resp:  # nosec - our own emulator container
            app = json.loads(resp.read())
        return app['application_id'], app['secret']

    def measure_peer(self):
        """The peer role and ours with the peer's deployment, each on a fresh host of the same image: the
        converge, a no-op and a no-op with pipelining, ours and the peer's one after the other (the
        machine's speed drifts over minutes), with the ratio ours / peer of each."""
        name = Path(self.peer_role).name
        key, cert = self.work / 'peer.key', self.work / 'peer.crt'
        run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
             '-subj', '/CN=mattermost.test', '-days', '30', '-keyout', str(key), '-out', str(cert)], 60)
        site = 'https://mattermost.test'
        client_id, secret = self.register_application(
            'GitLab Mattermost (bench, given by hand)',
            [site + '/signup/gitlab/complete', site + '/login/gitlab/complete'])
        certificate, private_key = cert.read_text(encoding='utf-8'), key.read_text(encoding='utf-8')
        # Ours: the scenario's variables, but nginx with the given certificate and key, and GitLab sign-in with
        # the given client id and secret (no API token: nothing registered, the secret checked with GitLab).
        same_vars = {k: v for k, v in self.group_vars.items()
                     if k not in ('mattermost_gitlab_sso_api_token', 'mattermost_gitlab_sso_api_url',
                                  'mattermost_gitlab_sso_gitlab_internal_url')}
        same_vars.update(mattermost_server_external_url=site, mattermost_nginx_tls_self_signed=False,
                         mattermost_nginx_tls_certificate=certificate, mattermost_nginx_tls_key=private_key,
                         mattermost_gitlab_sso_client_id=client_id, mattermost_gitlab_sso_client_secret=secret)
        same_inventory = self.work / 'same-inventory.json'
        same_inventory.write_text(json.dumps({'all': {'children': {'mattermost': {
            'hosts': {self.same_host: {'ansible_host': self.same_host}}, 'vars': same_vars}}}}, indent=2),
            encoding='utf-8')
        peer_inventory = self.work / 'peer-inventory.json'
        peer_inventory.write_text(json.dumps({'all': {'hosts': {self.peer_host: {
            'ansible_host': self.peer_host, **HOST_VARS,
            'bench_version': self.version, 'bench_download_base': self.download_base, 'bench_sha256': self.sha256,
            'bench_certificate': certificate, 'bench_private_key': private_key,
            'bench_gitlab_url': self.gitlab_url, 'bench_gitlab_client_id': client_id,
            'bench_gitlab_client_secret': secret}}}}, indent=2), encoding='utf-8')
        playbook = self.work / 'peer.yml'
        playbook.write_text(yaml.safe_dump([{
            'name': 'Deploy Mattermost with the peer role %s' % name, 'hosts': 'all', 'become': True,
            'vars_files': [str(self.peer_vars)], 'roles': [{'role': str(Path(self.peer_role).resolve())}]}]),
            encoding='utf-8')
        sides = (('same', 'ours, the peer\'s deployment', dict(inventory=same_inventory), [self.same_host]),
                 ('peer', 'peer %s' % name, dict(inventory=peer_inventory, playbook=str(playbook)), [self.peer_host]))
        for tag, label, extra_env in (('converge', 'converge, 1 fresh host', None),
                                      ('noop', 'no-op re-run', None),
                                      ('noop-pipelining', 'no-op re-run, ANSIBLE_PIPELINING=true',
                                       {'ANSIBLE_PIPELINING': 'true'})):
            runs = {}
            for side, side_label, options, hosts in sides:
                summary, dummy_data = self.playbook('%s-%s' % (side, tag), hosts, extra_env=extra_env,
                                                    timeout=2400, **options)
                runs[side] = summary
                if tag == 'converge':
                    self.metric('%s: %s' % (side_label, label), summary['seconds'], 's',
                                'changed=%d, ok=%d in the recap%s' % (
                                    summary['changed'], summary['ok'],
                                    '; %d restart(s)' % summary.get('restarts', 0) if side == 'same' else ''))
                else:
                    self.noop_metric('%s: %s' % (side_label, label), summary, ours=side == 'same')
            ratio = runs['same']['seconds'] / runs['peer']['seconds']
            goal = 1.0 if tag == 'converge' else 0.5
            self.metric('  ours / peer', round(ratio, 2), 'x', 'ours %.1f s, the peer %.1f s; issue 11 goal at most %s %s'
                        % (runs['same']['seconds'], runs['peer']['seconds'], goal, '✓' if ratio <= goal else '✗'))

    def noop_metric(self, name, summary, ours=True):
        """A no-op run's time; a change in it is an error of ours, and only noted for a peer."""
        ok = summary['changed'] == 0
        note = 'changed=%d %s' % (summary['changed'], '✓' if ok else '✗ ' + ', '.join(summary.get('changed_tasks', [])))
        if summary.get('tasks_ran'):
            note += '; %d tasks ran, %.2f s each' % (summary['tasks_ran'], summary['seconds'] / summary['tasks_ran'])
        self.metric(name, summary['seconds'], 's', note)
        if not ok and ours:
            self.errors.append(dict(step=name, error='a no-op run changed %d task(s): %s'
                                    % (summary['changed'], ', '.join(summary.get('changed_tasks', [])))))

    # --------------------------------------------------------------- report
    def machine(self):
        info = dict(cpus=os.cpu_count(), kernel=platform.release(), python=platform.python_version(),
                    loadavg_at_start=self.load_at_start)
        try:
            with open('/proc/meminfo', encoding='utf-8') as handle:
                kib = int(handle.readline().split()[1])
            info['memory_gib'] = round(kib / 1024 / 1024, 1)
            with open('/proc/cpuinfo', encoding='utf-8') as handle:
                model = [line.split(':', 1)[1].strip() for line in handle if line.startswith('model name')]
            info['cpu_model'] = model[0] if model else ''
            info['loadavg_at_end'] = os.getloadavg()
        except (OSError, ValueError, IndexError):
            pass
        dummy_rc, out, dummy_secs = run(['docker', 'version', '--format', '{{.Server.Version}}'], 30, check=False)
        info['docker'] = out.strip()
        dummy_rc, out, dummy_secs = run(['ansible', '--version'], 60, check=False)
        info['ansible'] = out.splitlines()[0] if out else ''
        return info

    def git(self):
        dummy_rc, commit, dummy_secs = run(['git', '-C', str(REPO_DIR), 'rev-parse', 'HEAD'], 30, check=False)
        dummy_rc, status, dummy_secs = run(
            ['git', '-C', str(REPO_DIR), 'status', '--porcelain', '--', 'roles', 'plugins', 'playbooks'], 30, check=False)
        return dict(commit=commit.strip(), roles_plugins_playbooks_dirty=bool(status.strip()))

    def table(self):
        rows = [('metric', 'value', 'unit', 'note')]
        for m in self.metrics:
            value = m['value']
            value = ('%.2f' % value) if isinstance(value, float) else str(value)
            rows.append((m['metric'], value, m['unit'], m['note']))
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = []
        for i, row in enumerate(rows):
            lines.append('%-*s  %*s  %-*s  %s' % (widths[0], row[0], widths[1], row[1], widths[2], row[2], row[3]))
            if i == 0:
                lines.append('-' * (sum(widths) + 6 + max(len(r[3]) for r in rows)))
        return '\n'.join(lines)

    def report(self, started):
        result = dict(run_id=self.run_id, started_utc=started, ended_utc=datetime.now(timezone.utc).isoformat(),
                      hosts=self.hosts_n, calls=self.calls, gitlab=dict(mode=self.gitlab_mode, url=self.gitlab_url),
                      machine=self.machine(), git=self.git(), metrics=self.metrics, details=self.details,
                      errors=self.errors)
        path = RESULTS_DIR / ('%s.json' % self.run_id)
        path.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding='utf-8')
        print(self.table())
        if self.errors:
            print('\nerrors:')
            for err in self.errors:
                print('  %s: %s' % (err['step'], err['error'].splitlines()[0] if err['error'] else ''))
        print('\nload average (1, 5, 15 min) at start %s, at end %s on %s CPUs' % (
            ' '.join('%.1f' % x for x in self.load_at_start), ' '.join('%.1f' % x for x in os.getloadavg()),
            os.cpu_count()))
        print('results: %s (logs and per-task timings in %s)' % (path, self.work))


def main():
    def terminate(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)
    started = datetime.now(timezone.utc).isoformat()
    try:
        bench = Bench()
    except BenchError as err:
        log('ERROR: %s' % err)
        return 1
    rc = 0
    try:
        bench.main()
    except BenchError as err:
        bench.error('benchmark', err)
    except KeyboardInterrupt:
        bench.error('benchmark', 'interrupted')
    except SystemExit as err:
        bench.error('benchmark', 'terminated (exit %s)' % err.code)
    finally:
        bench.cleanup()
    bench.report(started)
    if bench.errors:
        rc = 1
    return rc


if __name__ == '__main__':
    sys.exit(main())
