#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: host_state
short_description: Read in one call what a role needs to know of a host before it changes it
version_added: 0.3.0
description:
  - Reads the host's platform, and the paths, Debian packages, systemd units, users and groups it is asked
    about, with one remote call. A role reads them once in its preflight, where a C(stat), a C(getent), a
    fact gathering and a command each cost a call, and skips the tasks whose work is already done (a package
    installed, a service enabled and running) in a run that changes nothing.
  - Reads only; never changes the host. An unknown package, unit, user or group is reported as missing, not
    as an error; so are the units when systemd does not run.
author:
  - chatops.mattermost maintainers (!UNKNOWN)
extends_documentation_fragment: [chatops.mattermost.attributes.read_only, ansible.builtin.action_common_attributes]
options:
  paths:
    description: Paths to read with C(lstat) (a link is not followed).
    type: list
    elements: path
    default: []
  checksums:
    description:
      - Files whose SHA-256 to compute, as C(ansible.builtin.get_url) does before it decides to download
        (a kept download checked without a call of its own).
    type: list
    elements: path
    default: []
  packages:
    description: Debian packages whose installed version to read from dpkg's database.
    type: list
    elements: str
    default: []
  units:
    description: systemd units whose state to read (C(systemctl show)).
    type: list
    elements: str
    default: []
  users:
    description: Users to look up in the password database.
    type: list
    elements: str
    default: []
  groups:
    description: Groups to look up in the group database.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Read what the role needs before changing anything
  chatops.mattermost.host_state:
    paths: [/opt/mattermost/current]
    packages: [postgresql, acl]
    units: [postgresql.service]
    users: [mattermost]
    groups: [mattermost]
  register: _host

- name: Install PostgreSQL
  ansible.builtin.apt:
    name: [postgresql, acl]
  when: _host.packages_missing | length > 0

- name: Start PostgreSQL
  ansible.builtin.systemd_service:
    name: postgresql
    state: started
    enabled: true
  when: "'postgresql.service' not in _host.units_up"
"""

RETURN = r"""
platform:
  description: The host's C(architecture), C(os_family), C(distribution) and C(distribution_version), named and
    valued as in C(ansible_facts).
  returned: always
  type: dict
  sample: {"architecture": "x86_64", "os_family": "Debian", "distribution": "Debian", "distribution_version": "12"}
paths:
  description: For each path, C(exists), C(islnk), C(isdir), C(isreg), and C(lnk_target), C(uid), C(gid) and
    C(mode) (octal string) when it exists.
  returned: always
  type: dict
  sample: {"/opt/mattermost/current": {"exists": true, "islnk": true, "isdir": false, "isreg": false,
           "lnk_target": "/opt/mattermost/releases/11.4.0-team", "uid": 0, "gid": 0, "mode": "0777"}}
sha256:
  description: For each file of O(checksums), its SHA-256 as lower-case hex, or V(null) when it is not a
    regular file.
  returned: always
  type: dict
  sample: {"/opt/mattermost/downloads/mattermost-team-11.4.0-linux-amd64.tar.gz": "9f86d081884c7d65..."}
packages:
  description: For each package, its installed version, or V(null) when it is not installed.
  returned: always
  type: dict
  sample: {"postgresql": "15+248", "acl": null}
packages_missing:
  description: The packages of O(packages) that are not installed, in the order given.
  returned: always
  type: list
  elements: str
  sample: ["acl"]
units:
  description: For each unit, C(load_state), C(active_state) and C(unit_file_state) as systemd says them, and
    C(started) (active) and C(enabled) (its unit file is enabled).
  returned: always
  type: dict
  sample: {"nginx.service": {"load_state": "loaded", "active_state": "active", "unit_file_state": "enabled",
           "started": true, "enabled": true}}
units_up:
  description: The units of O(units) that are enabled and running, in the order given.
  returned: always
  type: list
  elements: str
  sample: ["nginx.service"]
users:
  description: For each user, C(uid), C(gid), C(home) and C(shell), or V(null) when there is no such user.
  returned: always
  type: dict
groups:
  description: For each group, C(gid), or V(null) when there is no such group.
  returned: always
  type: dict
"""

import grp
import hashlib
import os
import platform as platform_lib
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule

DPKG_STATUS = '/var/lib/dpkg/status'
OS_RELEASE = ('/etc/os-release', '/usr/lib/os-release')
UNIT_PROPERTIES = (('LoadState', 'load_state'), ('ActiveState', 'active_state'), ('UnitFileState', 'unit_file_state'))
# The distributions ansible_facts counts in the Debian family, when os-release has no ID_LIKE=debian.
DEBIAN_FAMILY = ('debian', 'ubuntu', 'raspbian', 'linuxmint', 'kali', 'devuan', 'pop')


def installed_versions(status_text, names):
    """The installed version of each of ``names`` in the text of dpkg's status database; None when not installed."""
    wanted = set(names)
    found = {}
    for stanza in status_text.split('\n\n'):
        fields = {}
        for line in stanza.splitlines():
            if line and not line[0].isspace() and ':' in line:
                key, value = line.split(':', 1)
                fields[key] = value.strip()
        name = fields.get('Package')
        if name in wanted and fields.get('Status', '').split()[-1:] == ['installed']:
            found[name] = fields.get('Version')
    return dict((name, found.get(name)) for name in names)


def unit_states(show_output, units):
    """The states of ``units`` from `systemctl show -p LoadState -p ActiveState -p UnitFileState <units>`."""
    blocks = show_output.strip('\n').split('\n\n') if show_output.strip() else []
    states = {}
    for index, unit in enumerate(units):
        props = {}
        for line in (blocks[index] if index < len(blocks) else '').splitlines():
            key, sep, value = line.partition('=')
            if sep:
                props[key] = value
        state = dict((ours, props.get(systemd) or None) for systemd, ours in UNIT_PROPERTIES)
        state['started'] = state['active_state'] == 'active'
        state['enabled'] = state['unit_file_state'] == 'enabled'
        states[unit] = state
    return states


def platform_of(os_release_text, machine):
    """architecture, os_family, distribution and distribution_version as ansible_facts names them."""
    fields = {}
    for line in os_release_text.splitlines():
        key, sep, value = line.partition('=')
        if sep and not key.startswith('#'):
            fields[key.strip()] = value.strip().strip('"\'')
    distro_id = fields.get('ID', '').lower()
    distribution = distro_id.capitalize() or None
    like = fields.get('ID_LIKE', '').lower().split()
    return {
        'architecture': machine,
        'os_family': 'Debian' if distro_id in DEBIAN_FAMILY or 'debian' in like else distribution,
        'distribution': distribution,
        'distribution_version': fields.get('VERSION_ID'),
    }


def path_state(path):
    """lstat() of ``path`` as stat-like keys."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return {'exists': False, 'islnk': False, 'isdir': False, 'isreg': False}
    state = {
        'exists': True,
        'islnk': stat.S_ISLNK(st.st_mode),
        'isdir': stat.S_ISDIR(st.st_mode),
        'isreg': stat.S_ISREG(st.st_mode),
        'uid': st.st_uid,
        'gid': st.st_gid,
        'mode': '%04o' % stat.S_IMODE(st.st_mode),
    }
    if state['islnk']:
        state['lnk_target'] = os.readlink(path)
    return state


def sha256_of(path):
    """SHA-256 of a regular file (not through a link); None for anything else."""
    if not path_state(path)['isreg']:
        return None
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def user_state(name):
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return {'uid': entry.pw_uid, 'gid': entry.pw_gid, 'home': entry.pw_dir, 'shell': entry.pw_shell}


def group_state(name):
    try:
        return {'gid': grp.getgrnam(name).gr_gid}
    except KeyError:
        return None


def read_first(paths):
    for path in paths:
        try:
            with open(path) as handle:
                return handle.read()
        except (IOError, OSError):
            continue
    return ''


def main():
    module = AnsibleModule(
        argument_spec=dict(
            paths=dict(type='list', elements='path', default=[]),
            checksums=dict(type='list', elements='path', default=[]),
            packages=dict(type='list', elements='str', default=[]),
            units=dict(type='list', elements='str', default=[]),
            users=dict(type='list', elements='str', default=[]),
            groups=dict(type='list', elements='str', default=[]),
        ),
        supports_check_mode=True,
    )
    params = module.params
    units = {}
    packages = installed_versions(read_first([DPKG_STATUS]), params['packages']) if params['packages'] else {}
    if params['units']:
        systemctl = module.get_bin_path('systemctl')
        show = ''
        if systemctl:
            argv = [systemctl, 'show', '--no-pager'] + ['-p' + systemd for systemd, ours in UNIT_PROPERTIES]
            rc, show, err = module.run_command(argv + ['--'] + params['units'])
            if rc != 0:
                # Not booted with systemd: every unit is reported unknown (not started, not enabled).
                show = ''
        units = unit_states(show, params['units'])
    module.exit_json(
        changed=False,
        platform=platform_of(read_first(OS_RELEASE), platform_lib.machine()),
        paths=dict((path, path_state(path)) for path in params['paths']),
        sha256=dict((path, sha256_of(path)) for path in params['checksums']),
        packages=packages,
        packages_missing=[name for name in params['packages'] if packages[name] is None],
        units=units,
        units_up=[unit for unit in params['units'] if units[unit]['started'] and units[unit]['enabled']],
        users=dict((name, user_state(name)) for name in params['users']),
        groups=dict((name, group_state(name)) for name in params['groups']),
    )


if __name__ == '__main__':
    main()
