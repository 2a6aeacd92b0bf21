# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Role variables that build file contents, rendered by the installed ansible-core as a role run
renders them (_common's defaults, the role's defaults, then its vars, the caller's values as extra vars): a given certificate, key
and chain (mattermost_nginx) and the licence's environment file (mattermost_server) must hold
their text and end in a real newline. ansible-core 2.19 keeps an escape such as the two characters
backslash and n, written in a Jinja literal inside a folded YAML scalar, as they are: a certificate
then ended in them and nginx refused it ("bad end line")."""

import json
import os
import subprocess
import sys

import pytest

REPO_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2Vyd\nAQH/BAQDAgWgMB0GA1UdJQQW\n-----END CERTIFICATE-----'
KEY = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEG\n-----END PRIVATE KEY-----'


def render(collections_path, tmp_path, role, name, extra_vars):
    """The value of role variable ``name`` with ``extra_vars`` given, read from a JSON file."""
    out = tmp_path / 'value.json'
    role_dir = os.path.join(REPO_DIR, 'roles', role)
    play = [{'hosts': 'localhost', 'gather_facts': False, 'tasks': [
        # The internal role every role depends on (meta/main.yml) holds the shared defaults.
        {'ansible.builtin.include_vars': os.path.join(REPO_DIR, 'roles', '_common', 'defaults', 'main.yml')},
        {'ansible.builtin.include_vars': os.path.join(role_dir, 'defaults', 'main.yml')},
        {'ansible.builtin.include_vars': os.path.join(role_dir, 'vars', 'main.yml')},
        {'ansible.builtin.copy': {'content': '{{ %s | to_json }}' % name, 'dest': str(out)}},
    ]}]
    playbook = tmp_path / 'play.yml'
    playbook.write_text(json.dumps(play))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path, ANSIBLE_NOCOLOR='1',
               ANSIBLE_LOCAL_TEMP=str(tmp_path / 'local'), ANSIBLE_RETRY_FILES_ENABLED='0')
    env.pop('ANSIBLE_CONFIG', None)
    ansible_playbook = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
    proc = subprocess.run([ansible_playbook, '-i', 'localhost,', '-c', 'local',
                           '-e', 'ansible_python_interpreter=%s' % sys.executable,
                           '-e', json.dumps(extra_vars), str(playbook)],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(out.read_text())


@pytest.mark.parametrize('given', [
    dict(mattermost_nginx_tls_certificate=PEM + '\n', mattermost_nginx_tls_key='  ' + KEY + '\n\n',
         mattermost_nginx_tls_chain=PEM),
    dict(mattermost_nginx_tls_certificate=PEM, mattermost_nginx_tls_key=KEY),
], ids=['pasted-with-blanks-and-chain', 'no-trailing-newline'])
def test_given_tls_files_hold_the_text_and_one_newline(collections_path, tmp_path, given):
    entries = render(collections_path, tmp_path, 'mattermost_nginx', '_mattermost_nginx_given_tls_files',
                     dict(given, mattermost_server_external_url='https://chat.example.test'))
    by_path = {e['path']: e for e in entries}
    expected = {'/etc/ssl/mattermost/mattermost.crt': (PEM, '0644'), '/etc/ssl/mattermost/mattermost.key': (KEY, '0600')}
    if 'mattermost_nginx_tls_chain' in given:
        expected['/etc/ssl/mattermost/mattermost-chain.crt'] = (PEM, '0644')
    assert set(by_path) == set(expected)
    for path, (text, mode) in expected.items():
        assert by_path[path]['content'] == text + '\n', path
        assert (by_path[path]['state'], by_path[path]['owner'], by_path[path]['group'], by_path[path]['mode']) \
            == ('file', 'root', 'root', mode)


def test_no_given_tls_files_without_tls(collections_path, tmp_path):
    assert render(collections_path, tmp_path, 'mattermost_nginx', '_mattermost_nginx_given_tls_files',
                  dict(mattermost_nginx_tls=False, mattermost_nginx_tls_certificate=PEM,
                       mattermost_server_external_url='http://chat.example.test')) == []


@pytest.mark.parametrize('licence', ['eyJpZCI6 ImFiYyJ9\n.c2ln\n', 'eyJpZCI6ImFiYyJ9.c2ln'], ids=['wrapped', 'one-line'])
def test_licence_file_is_one_line_ending_in_a_newline(collections_path, tmp_path, licence):
    entry = render(collections_path, tmp_path, 'mattermost_server', '_mattermost_server_license_entry',
                   dict(mattermost_server_license=licence, mattermost_server_edition='enterprise',
                        mattermost_server_external_url='https://chat.example.test'))
    assert entry['content'] == 'MM_LICENSE=eyJpZCI6ImFiYyJ9.c2ln\n'
    assert (entry['state'], entry['owner'], entry['group'], entry['mode']) == ('file', 'root', 'mattermost', '0640')


def test_no_licence_removes_the_file(collections_path, tmp_path):
    entry = render(collections_path, tmp_path, 'mattermost_server', '_mattermost_server_license_entry',
                   dict(mattermost_server_external_url='https://chat.example.test'))
    assert entry == {'path': '/etc/mattermost/mattermost.license.env', 'state': 'absent'}
