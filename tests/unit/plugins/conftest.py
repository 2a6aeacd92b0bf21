# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures for the plugin tests (the collection on an ANSIBLE_COLLECTIONS_PATH is
../conftest.py's): a GitLab API emulator on loopback, and two runners for a module: ``call_module``
runs it in this process as AnsibleModule runs on a host (the module's logic,
fast), ``run_module`` the way Ansible does (ansible-playbook on localhost, in a
subprocess: what the controller adds, such as --check, --diff, -v output and
no_log)."""

import contextlib
import importlib
import io
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from unittest import mock

from ansible.module_utils.common import warnings as module_warnings

try:
    from ansible.module_utils import _internal as module_utils_internal
except ImportError:  # ansible-core before 2.19
    module_utils_internal = None

import pytest

REPO_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
EMULATORS_DIR = os.path.join(REPO_DIR, 'tests', 'emulators')
ADMIN_TOKEN = 'glpat-admin-token'
ADMIN_API_ONLY_TOKEN = 'glpat-admin-api-only'
USER_TOKEN = 'glpat-user-token'


def _emulator_class():
    if not os.path.exists(os.path.join(EMULATORS_DIR, 'gitlab_emulator.py')):
        pytest.skip('tests/emulators/gitlab_emulator.py is missing')
    if EMULATORS_DIR not in sys.path:
        sys.path.insert(0, EMULATORS_DIR)
    import gitlab_emulator  # pylint: disable=import-error
    return gitlab_emulator


# GitLab versions the emulator is run as where the module's behaviour differs:
# 16.10 has no renew-secret API; later ones list more of each application.
GITLAB_PROFILES = ('16.10.0', '17.11.7', '18.6.2')


class Emulator(object):
    """A running GitLab emulator plus helpers on its control endpoints.

    ``version`` and ``admin_mode`` are passed to the emulator only when given,
    so it runs with its own defaults otherwise.
    """

    def __init__(self, module, version=None, admin_mode=None, **options):
        self.module = module
        if version is not None:
            options['version'] = version
        if admin_mode is not None:
            options['admin_mode'] = admin_mode
        self.server = module.GitLabEmulator(host='127.0.0.1', port=0, **options)
        self.url = self.server.start().url

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={'Content-Type': 'application/json'})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(req, timeout=10) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def state(self):
        return self._call('GET', '/-/emulator/state')

    def applications(self):
        """Applications as stored (with secrets)."""
        return self.state()['applications']

    def settings(self, **settings):
        """The emulator's version and Admin Mode; changed first when given (version=, admin_mode=)."""
        if settings:
            return self._call('PUT', '/-/emulator/settings', settings)
        return self.state()['settings']

    def change_secret(self, app_id):
        """Renew an application's secret behind the module's back (as in GitLab's Admin Area); the new secret."""
        return self._call('POST', '/-/emulator/applications/%s/secret' % app_id)['secret']

    def requests(self):
        return self._call('GET', '/-/emulator/requests')

    def fault(self, **fault):
        return self._call('POST', '/-/emulator/faults', fault)

    def add_application(self, name, redirect_uris, scopes=('read_user',), confidential=True):
        """Seed an application straight into the emulator's state."""
        return self.server.state.create_application(dict(
            name=name, redirect_uri='\n'.join(redirect_uris), scopes=' '.join(scopes),
            confidential=confidential))

    def stop(self):
        self.server.stop()


@pytest.fixture
def gitlab(request):
    """A GitLab emulator; parametrize indirectly with a version string or a dict of
    GitLabEmulator options (``version``, ``admin_mode``)."""
    options = getattr(request, 'param', None) or {}
    if isinstance(options, str):
        options = dict(version=options)
    emulator = Emulator(_emulator_class(), **options)
    yield emulator
    emulator.stop()


@pytest.fixture
def gitlab_at():
    """Factory: ``gitlab_at('16.10.0', admin_mode=True)`` starts an emulator, stopped after the test."""
    started = []

    def start(version=None, admin_mode=None, **options):
        emulator = Emulator(_emulator_class(), version=version, admin_mode=admin_mode, **options)
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()


def _certificate_authority(directory):
    """A throwaway CA and a certificate it signed for 127.0.0.1; returns the paths."""
    import datetime
    import ipaddress
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    validity = dict(not_valid_before=now - datetime.timedelta(minutes=5),
                    not_valid_after=now + datetime.timedelta(days=1))

    def name(common_name):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name('unit-test CA')).issuer_name(name('unit-test CA'))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(validity['not_valid_before']).not_valid_after(validity['not_valid_after'])
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(name('127.0.0.1')).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(validity['not_valid_before']).not_valid_after(validity['not_valid_after'])
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = dict(ca=directory / 'ca.crt', cert=directory / 'gitlab.crt', key=directory / 'gitlab.key')
    paths['ca'].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths['cert'].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths['key'].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return {kind: str(path) for kind, path in paths.items()}


class TLSEmulator(Emulator):
    """The emulator on HTTPS too, with a certificate from a private CA (``ca`` is its PEM file)."""

    def __init__(self, module, directory, **options):
        self.tls = _certificate_authority(directory)
        self.ca = self.tls['ca']
        super(TLSEmulator, self).__init__(module, tls_port=0, tls_cert=self.tls['cert'], tls_key=self.tls['key'],
                                          **options)
        host, port = self.server.servers[1].server_address[:2]
        self.https_url = 'https://%s:%s' % (host, port)


@pytest.fixture
def gitlab_tls(tmp_path):
    emulator = TLSEmulator(_emulator_class(), tmp_path)
    yield emulator
    emulator.stop()


def _ansible_playbook():
    candidate = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
    if os.path.exists(candidate):
        return candidate
    found = shutil.which('ansible-playbook')
    if not found:
        pytest.skip('ansible-playbook not found')
    return found


class Run(object):
    """Outcome of one task run: the registered result and the console output."""

    def __init__(self, result, output, rc):
        self.result = result
        self.rc = rc
        self.output = output

    def __getitem__(self, key):
        return self.result[key]

    def get(self, key, default=None):
        return self.result.get(key, default)


@pytest.fixture
def run_module(collections_path, tmp_path):
    """Run one module task with ansible-playbook and return a :class:`Run`.

    The registered result is written to a file by a second task, so it is read
    exactly as a playbook would see it, whatever the stdout callback prints.
    """
    counter = [0]

    def run(module, args, check=False, diff=False, verbosity=0, no_log=False, env=None):
        counter[0] += 1
        out = tmp_path / ('result-%d.json' % counter[0])
        playbook = tmp_path / ('playbook-%d.yml' % counter[0])
        play = [{
            'hosts': 'localhost',
            'gather_facts': False,
            'tasks': [
                {'name': 'module under test', module: args, 'register': 'result',
                 'ignore_errors': True, 'no_log': no_log},
                {'name': 'save the result', 'ansible.builtin.copy': {
                    'content': '{{ result | to_json }}', 'dest': str(out)},
                 'check_mode': False, 'diff': False, 'no_log': True},
            ],
        }]
        playbook.write_text(json.dumps(play))
        cmd = [_ansible_playbook(), '-i', 'localhost,', '-c', 'local',
               '-e', 'ansible_python_interpreter=%s' % sys.executable, str(playbook)]
        if check:
            cmd.append('--check')
        if diff:
            cmd.append('--diff')
        if verbosity:
            cmd.append('-' + 'v' * verbosity)
        run_env = dict(os.environ)
        run_env.update({
            'ANSIBLE_COLLECTIONS_PATH': collections_path,
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_FORCE_COLOR': '0',
            'ANSIBLE_RETRY_FILES_ENABLED': '0',
            'ANSIBLE_LOCAL_TEMP': str(tmp_path / 'ansible-local'),
            'ANSIBLE_REMOTE_TMP': str(tmp_path / 'ansible-remote'),
            'NO_PROXY': '127.0.0.1,localhost',
            'no_proxy': '127.0.0.1,localhost',
        })
        run_env.pop('ANSIBLE_CONFIG', None)
        run_env.update(env or {})
        proc = subprocess.run(cmd, cwd=str(tmp_path), env=run_env, capture_output=True, text=True,
                              timeout=300, check=False)
        if not out.exists():
            raise AssertionError('the playbook did not save a result (rc %s):\n%s\n%s'
                                 % (proc.returncode, proc.stdout, proc.stderr))
        return Run(json.loads(out.read_text()), proc.stdout + proc.stderr, proc.returncode)

    return run


try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core before 2.19
    @contextlib.contextmanager
    def patch_module_args(args):
        from ansible.module_utils import basic
        with mock.patch.object(basic, '_ANSIBLE_ARGS', json.dumps(dict(ANSIBLE_MODULE_ARGS=args)).encode()):
            yield


@pytest.fixture
def call_module(collections_path, tmp_path):
    """Run one module in this process and return a :class:`Run` (``output`` is the module's JSON).

    The module gets its arguments as on a host (ANSIBLE_MODULE_ARGS, with the
    ``_ansible_check_mode`` and ``_ansible_diff`` the controller would send)
    and answers with exit_json or fail_json as there, no_log values removed by
    AnsibleModule. What only the controller does (the task's no_log, -v output,
    the logged arguments) needs ``run_module``.
    """
    counter = [0]

    def call(module, args, check=False, diff=False, env=None):
        counter[0] += 1
        code = importlib.import_module('ansible_collections.chatops.mattermost.plugins.modules.'
                                       + module.rsplit('.', 1)[-1])
        tmpdir = tmp_path / ('module-tmp-%d' % counter[0])
        tmpdir.mkdir()
        module_args = dict(args, _ansible_check_mode=check, _ansible_diff=diff, _ansible_tmpdir=str(tmpdir))
        stdout = io.StringIO()
        with contextlib.ExitStack() as stack:
            if getattr(module_utils_internal, 'is_controller', False):
                # Tests that import controller code (the filter tests) turn this on, and warnings
                # would then go to the console instead of the module's result.
                stack.enter_context(mock.patch.object(module_utils_internal, 'is_controller', False))
            stack.enter_context(patch_module_args(module_args))
            stack.enter_context(mock.patch.dict(os.environ, env or {}))
            stack.enter_context(mock.patch.dict(module_warnings._global_warnings, clear=True))
            stack.enter_context(mock.patch.dict(module_warnings._global_deprecations, clear=True))
            stack.enter_context(contextlib.redirect_stdout(stdout))
            exit_info = stack.enter_context(pytest.raises(SystemExit))
            code.main()
        output = stdout.getvalue()
        return Run(json.loads(output), output, exit_info.value.code)

    return call
