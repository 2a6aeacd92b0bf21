# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""chatops.mattermost.host_state: its pure functions (dpkg's database, systemctl show, os-release, lstat)."""

import contextlib
import importlib
import hashlib
import os
from unittest import mock

import pytest
from ansible.module_utils import basic

DPKG_STATUS = """Package: postgresql
Status: install ok installed
Priority: optional
Version: 15+248
Description: object-relational SQL database
 (supported version)

Package: acl
Status: deinstall ok config-files
Version: 2.3.1-3

Package: nginx
Status: hold ok installed
Version: 1:1.22.1-9+deb12u1
Depends: nginx-core (<< 1.22.1-9+deb12u1.1~)

Package: libc6
Architecture: amd64
Status: install ok installed
Version: 2.36-9+deb12u9

Package: libc6
Architecture: i386
Status: install ok installed
Version: 2.36-9+deb12u9
"""


@pytest.fixture
def code(collections_path):
    return importlib.import_module('ansible_collections.chatops.mattermost.plugins.modules.host_state')


@pytest.mark.parametrize('names, expected', [
    (['postgresql'], {'postgresql': '15+248'}),
    # Removed with its configuration kept: not installed.
    (['acl'], {'acl': None}),
    (['nginx'], {'nginx': '1:1.22.1-9+deb12u1'}),
    (['python3-psycopg2'], {'python3-psycopg2': None}),
    (['libc6'], {'libc6': '2.36-9+deb12u9'}),
    # A description line that looks like a field does not start a package.
    (['supported version'], {'supported version': None}),
    ([], {}),
])
def test_installed_versions(code, names, expected):
    assert code.installed_versions(DPKG_STATUS, names) == expected


def test_installed_versions_of_empty_database(code):
    assert code.installed_versions('', ['nginx']) == {'nginx': None}


SHOW = """LoadState=loaded
ActiveState=active
UnitFileState=enabled

LoadState=not-found
ActiveState=inactive
UnitFileState=

UnitFileState=disabled
LoadState=loaded
ActiveState=active
"""


@pytest.mark.parametrize('unit, expected', [
    ('nginx.service', {'load_state': 'loaded', 'active_state': 'active', 'unit_file_state': 'enabled',
                       'started': True, 'enabled': True}),
    ('nothere.service', {'load_state': 'not-found', 'active_state': 'inactive', 'unit_file_state': None,
                         'started': False, 'enabled': False}),
    # Properties in another order; running but not enabled.
    ('mattermost.service', {'load_state': 'loaded', 'active_state': 'active', 'unit_file_state': 'disabled',
                            'started': True, 'enabled': False}),
])
def test_unit_states(code, unit, expected):
    states = code.unit_states(SHOW, ['nginx.service', 'nothere.service', 'mattermost.service'])
    assert states[unit] == expected


def test_unit_states_without_systemd(code):
    assert code.unit_states('', ['nginx.service']) == {'nginx.service': {
        'load_state': None, 'active_state': None, 'unit_file_state': None, 'started': False, 'enabled': False}}


@pytest.mark.parametrize('os_release, machine, expected', [
    ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n', 'x86_64',
     {'architecture': 'x86_64', 'os_family': 'Debian', 'distribution': 'Debian', 'distribution_version': '12'}),
    ('NAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\n', 'aarch64',
     {'architecture': 'aarch64', 'os_family': 'Debian', 'distribution': 'Ubuntu', 'distribution_version': '24.04'}),
    # A derivative named only by ID_LIKE.
    ("# comment\nID='elementary'\nID_LIKE='ubuntu debian'\n", 'x86_64',
     {'architecture': 'x86_64', 'os_family': 'Debian', 'distribution': 'Elementary', 'distribution_version': None}),
    ('ID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n', 'x86_64',
     {'architecture': 'x86_64', 'os_family': 'Rocky', 'distribution': 'Rocky', 'distribution_version': '9.4'}),
    ('', 'x86_64', {'architecture': 'x86_64', 'os_family': None, 'distribution': None, 'distribution_version': None}),
])
def test_platform_of(code, os_release, machine, expected):
    assert code.platform_of(os_release, machine) == expected


def test_path_state(code, tmp_path):
    (tmp_path / 'dir').mkdir(mode=0o750)
    (tmp_path / 'file').write_text('x')
    (tmp_path / 'link').symlink_to('dir')
    os.chmod(str(tmp_path / 'dir'), 0o750)
    assert code.path_state(str(tmp_path / 'missing')) == {'exists': False, 'islnk': False, 'isdir': False, 'isreg': False}
    directory = code.path_state(str(tmp_path / 'dir'))
    assert (directory['exists'], directory['isdir'], directory['islnk'], directory['mode']) == (True, True, False, '0750')
    assert directory['uid'] == os.getuid()
    link = code.path_state(str(tmp_path / 'link'))
    # lstat: the link itself, not what it points at.
    assert (link['islnk'], link['isdir'], link['lnk_target']) == (True, False, 'dir')
    assert code.path_state(str(tmp_path / 'file'))['isreg'] is True


def test_sha256_of(code, tmp_path):
    (tmp_path / 'file').write_bytes(b'abc')
    (tmp_path / 'link').symlink_to('file')
    assert code.sha256_of(str(tmp_path / 'file')) == hashlib.sha256(b'abc').hexdigest()
    # A regular file only: not through a link, not a directory, not what is missing.
    assert [code.sha256_of(str(tmp_path / name)) for name in ('link', 'missing')] == [None, None]
    assert code.sha256_of(str(tmp_path)) is None


def test_accounts(code):
    import grp
    import pwd
    me = pwd.getpwuid(os.getuid())
    assert code.user_state(me.pw_name) == {'uid': me.pw_uid, 'gid': me.pw_gid, 'home': me.pw_dir, 'shell': me.pw_shell}
    assert code.user_state('no-such-user-chatops') is None
    group = grp.getgrgid(os.getgid())
    assert code.group_state(group.gr_name) == {'gid': group.gr_gid}
    assert code.group_state('no-such-group-chatops') is None


# ---------------------------------------------------------------- the module, in this process

@contextlib.contextmanager
def systemctl_answering(rc, out, err=''):
    """systemctl on the PATH, answering every call with (rc, out, err); yields the run_command mock."""
    with mock.patch.object(basic.AnsibleModule, 'get_bin_path', return_value='/bin/systemctl'), \
            mock.patch.object(basic.AnsibleModule, 'run_command', return_value=(rc, out, err)) as run_command:
        yield run_command


@pytest.mark.parametrize('check', [False, True])
def test_module_reports_what_is_missing_and_up(code, call_module, tmp_path, monkeypatch, check):
    status = tmp_path / 'status'
    status.write_text(DPKG_STATUS)
    monkeypatch.setattr(code, 'DPKG_STATUS', str(status))
    (tmp_path / 'current').symlink_to('releases/1.0.0')
    (tmp_path / 'release.tar.gz').write_bytes(b'tarball')
    with systemctl_answering(0, SHOW) as run_command:
        run = call_module('host_state', dict(
            paths=[str(tmp_path / 'current'), str(tmp_path / 'missing')],
            checksums=[str(tmp_path / 'release.tar.gz'), str(tmp_path / 'missing')],
            packages=['acl', 'postgresql', 'python3-psycopg2'],
            units=['nginx.service', 'nothere.service', 'mattermost.service'],
            users=['no-such-user-chatops'], groups=['no-such-group-chatops']), check=check)
    assert run.rc == 0 and run['changed'] is False
    # One systemctl call for every unit.
    assert run_command.call_count == 1
    assert run['packages_missing'] == ['acl', 'python3-psycopg2']
    assert run['packages']['postgresql'] == '15+248'
    assert run['units_up'] == ['nginx.service']
    assert run['paths'][str(tmp_path / 'current')]['lnk_target'] == 'releases/1.0.0'
    assert run['paths'][str(tmp_path / 'missing')]['exists'] is False
    assert run['sha256'] == {str(tmp_path / 'release.tar.gz'): hashlib.sha256(b'tarball').hexdigest(),
                             str(tmp_path / 'missing'): None}
    assert run['users'] == {'no-such-user-chatops': None} and run['groups'] == {'no-such-group-chatops': None}
    assert set(run['platform']) == {'architecture', 'os_family', 'distribution', 'distribution_version'}


def test_module_without_systemd_reports_no_unit_up(call_module):
    with systemctl_answering(1, '', 'System has not been booted with systemd'):
        run = call_module('host_state', dict(units=['nginx.service']))
    assert run.rc == 0
    assert run['units_up'] == [] and run['units']['nginx.service']['active_state'] is None
    assert run['packages_missing'] == [] and run['packages'] == {}
