#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: paths
short_description: Ensure several directories, files, symbolic links and absent paths in one call
version_added: 0.3.0
description:
  - Brings a list of paths to their wanted state with one remote call, where a loop of
    C(ansible.builtin.file) and C(ansible.builtin.copy) makes one or two calls per item. The roles'
    layouts (install, data and configuration directories, TLS and cache directories, the backup tool's
    files, trusted CA certificates) cost one task in a run that changes nothing.
  - Entries are handled in order, so a directory listed before its files is there when they are written.
  - Never replaces a path of another type (a file where a directory is wanted, a directory where a file
    or link is wanted); it fails before changing anything, naming the path. Only O(paths[].state=absent)
    and O(paths[].purge) remove.
  - A file's content is written to a temporary file in the same directory with the wanted owner, group
    and mode, then renamed over the old one. A reader sees the old or the new file, and a secret never has
    looser permissions on disk.
author:
  - chatops.mattermost maintainers (!UNKNOWN)
extends_documentation_fragment: [chatops.mattermost.attributes]
attributes:
  diff_mode:
    details: Contents are not shown (they may be secrets); a changed content is named by its SHA-256 prefix.
options:
  paths:
    description: The paths, handled in order.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute path.
        type: path
        required: true
      state:
        description:
          - V(directory) creates the directory (and missing parents, owned by root), V(file) writes
            O(paths[].content), V(link) points a symbolic link at O(paths[].src), V(absent) removes the path
            (a directory with what it holds).
        type: str
        choices: [directory, file, link, absent]
        default: directory
      content:
        description: The file's content (O(paths[].state=file)). Never logged.
        type: str
      src:
        description: Where the link points (O(paths[].state=link)).
        type: path
      owner:
        description: Owner (name or uid). Left as it is when not given.
        type: str
      group:
        description: Group (name or gid). Left as it is when not given.
        type: str
      mode:
        description: Mode as an octal string (V('0750')); not set on links. Left as it is when not given.
        type: raw
      purge:
        description:
          - For a directory, remove the entries directly in it that no other entry of O(paths) names.
        type: bool
        default: false
      backup:
        description:
          - For a file whose content changes, keep the previous one beside it (named as
            C(ansible.builtin.copy) names its backups) and return its path in RV(backups).
        type: bool
        default: false
"""

EXAMPLES = r"""
- name: The layout of a service
  chatops.mattermost.paths:
    paths:
      - {path: /opt/app, owner: root, group: root, mode: "0755"}
      - {path: /var/opt/app, owner: app, group: app, mode: "0750"}
      - {path: /etc/app/trusted-certs, mode: "0755", purge: true}
      - path: /etc/app/trusted-certs/corp.crt
        state: file
        content: "{{ corp_ca_pem }}"
        mode: "0644"
      - {path: /etc/app/old.conf, state: absent}
"""

RETURN = r"""
action:
  description: V(none) when every path was as wanted, V(update) otherwise.
  returned: always
  type: str
drift:
  description: The paths that were not as wanted, in the order given (removed purged entries last).
  returned: always
  type: list
  elements: str
changes:
  description: For each path in RV(drift), what was done (V(created), V(content), V(target), V(owner), V(group),
    V(mode), V(removed)).
  returned: always
  type: dict
  sample: {"/var/opt/app": ["created"], "/etc/app/app.env": ["content", "mode"]}
backups:
  description: For each file with O(paths[].backup) whose content was replaced, where its previous content is.
  returned: always
  type: dict
  sample: {"/etc/nginx/sites-available/app.conf": "/etc/nginx/sites-available/app.conf.3411.2026-12-03@20:30:01~"}
"""

import grp
import hashlib
import os
import pwd
import shutil
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes

ATTRIBUTES = ('owner', 'group', 'mode')


def kind_of(st):
    """The type of an lstat() result as this module's states name it; None for what it does not manage."""
    if st is None:
        return 'absent'
    if stat.S_ISLNK(st.st_mode):
        return 'link'
    if stat.S_ISDIR(st.st_mode):
        return 'directory'
    if stat.S_ISREG(st.st_mode):
        return 'file'
    return None


def conflict(entry, kind):
    """Why ``entry`` cannot be brought to its state over a path of type ``kind``; None when it can."""
    wanted = entry['state']
    if wanted == 'absent' or kind in ('absent', wanted):
        return None
    return ('%s is a %s, not a %s: remove it or change the wanted state; paths does not replace a path of '
            'another type' % (entry['path'], kind or 'special file', wanted))


def entry_problem(entry):
    """What is wrong with an entry on its own (before anything is read); None when it is usable."""
    path, state = entry['path'], entry['state']
    if not os.path.isabs(path):
        return 'paths: %r is not an absolute path' % path
    if state == 'file' and entry.get('content') is None:
        return 'paths: %s has state=file and no content' % path
    if state == 'link' and not entry.get('src'):
        return 'paths: %s has state=link and no src' % path
    if state != 'file' and entry.get('content') is not None:
        return 'paths: %s has content but state=%s (content goes with state=file)' % (path, state)
    if state != 'link' and entry.get('src'):
        return 'paths: %s has src but state=%s (src goes with state=link)' % (path, state)
    if entry.get('purge') and state != 'directory':
        return 'paths: %s has purge but state=%s (purge goes with state=directory)' % (path, state)
    return None


def duplicates(entries):
    """Paths named more than once (normalised), in the order first seen again."""
    seen, again = set(), []
    for entry in entries:
        path = os.path.normpath(entry['path'])
        if path in seen and path not in again:
            again.append(path)
        seen.add(path)
    return again


def stale_entries(directory, names, listed):
    """Entries (full paths) directly in ``directory``, from its listing ``names``, that ``listed`` does not name."""
    keep = set(os.path.normpath(p) for p in listed)
    return sorted(os.path.join(directory, n) for n in names
                  if os.path.normpath(os.path.join(directory, n)) not in keep)


def current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def digest(data):
    return hashlib.sha256(data).hexdigest()


def file_digest(path):
    sha = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(65536), b''):
            sha.update(block)
    return sha.hexdigest()


def describe(attributes, kind, extra=None):
    """One side of a path's diff: its type, the attributes given and the extra lines."""
    lines = ['state: %s' % kind]
    lines += ['%s: %s' % (a, attributes[a]) for a in ATTRIBUTES if attributes.get(a) is not None and kind != 'absent']
    lines += extra or []
    return '\n'.join(lines) + '\n'


def attributes_of(st):
    """Owner, group (names where known) and mode of an lstat() result."""
    try:
        owner = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        owner = st.st_uid
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = st.st_gid
    return dict(owner=owner, group=group, mode='%04o' % stat.S_IMODE(st.st_mode))


class Paths(object):

    def __init__(self, module):
        self.module = module
        self.check = module.check_mode
        self.changes = {}
        self.diffs = []
        self.backups = {}

    def note(self, path, *what):
        self.changes.setdefault(path, [])
        self.changes[path].extend(w for w in what if w not in self.changes[path])

    def attributes(self, path, entry, link=False):
        """Owner, group and mode as wanted; which of them changed."""
        changed = []
        setters = dict(owner=self.module.set_owner_if_different, group=self.module.set_group_if_different,
                       mode=self.module.set_mode_if_different)
        for name in ATTRIBUTES:
            if entry.get(name) is None or (link and name == 'mode'):
                continue
            if setters[name](path, entry[name], False, expand=False):
                changed.append(name)
        return changed

    def write(self, path, data, entry):
        directory = os.path.dirname(path)
        fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=directory)
        try:
            with os.fdopen(fd, 'wb') as handle:
                handle.write(data)
            if entry.get('mode') is None:
                # As ansible.builtin.copy: an existing file keeps its mode, a new one gets the umask's.
                os.chmod(tmp, os.stat(path).st_mode & 0o7777 if os.path.exists(path) else 0o666 & ~current_umask())
            self.attributes(tmp, entry)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def ensure(self, entry, st):
        path, state = entry['path'], entry['state']
        kind = kind_of(st)
        if state == 'absent':
            if kind != 'absent':
                if not self.check:
                    if kind == 'directory':
                        shutil.rmtree(path)
                    else:
                        os.unlink(path)
                self.note(path, 'removed')
                self.diffs.append(dict(before_header=path, after_header=path,
                                       before=describe(attributes_of(st), kind), after='state: absent\n'))
            return
        done, extra = [], []
        data = to_bytes(entry['content']) if state == 'file' else None
        if kind == 'absent':
            done.append('created')
            if not self.check:
                # A path just made gets its attributes as part of being created.
                if state == 'directory':
                    os.makedirs(path)
                    self.attributes(path, entry)
                elif state == 'link':
                    os.symlink(entry['src'], path)
                    self.attributes(path, entry, link=True)
                else:
                    self.write(path, data, entry)
        elif state == 'file':
            # Attributes first: a new content is written with them (write() gives its file the wanted ones).
            done += self.attributes(path, entry)
            old = file_digest(path)
            if old != digest(data):
                done.append('content')
                extra.append('sha256: %s' % old[:12])
                if not self.check:
                    if entry.get('backup'):
                        self.backups[path] = self.module.backup_local(path)
                    self.write(path, data, entry)
        elif state == 'link':
            old = os.readlink(path)
            if old != entry['src']:
                done.append('target')
                extra.append('src: %s' % old)
                if not self.check:
                    tmp = os.path.join(os.path.dirname(path), '.%s.paths-link' % os.path.basename(path))
                    if os.path.lexists(tmp):
                        os.unlink(tmp)
                    os.symlink(entry['src'], tmp)
                    os.replace(tmp, path)
            # After a new target: the new link is a new inode.
            done += self.attributes(path, entry, link=True)
        else:
            done += self.attributes(path, entry)
        if done:
            self.note(path, *done)
            after = ['src: %s' % entry['src']] if state == 'link' else []
            if state == 'file':
                after.append('sha256: %s' % digest(data)[:12])
            self.diffs.append(dict(before_header=path, after_header=path,
                                   before=describe(attributes_of(st), kind, extra) if kind != 'absent'
                                   else 'state: absent\n',
                                   after=describe(entry, state, after)))

    def purge(self, entry, listed):
        path = entry['path']
        if not os.path.isdir(path):
            return
        for stale in stale_entries(path, os.listdir(path), listed):
            self.ensure(dict(path=stale, state='absent'), os.lstat(stale))


def lstat_or_none(path):
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            paths=dict(type='list', elements='dict', required=True, options=dict(
                path=dict(type='path', required=True),
                state=dict(type='str', default='directory', choices=['directory', 'file', 'link', 'absent']),
                content=dict(type='str', no_log=True),
                src=dict(type='path'),
                owner=dict(type='str'),
                group=dict(type='str'),
                mode=dict(type='raw'),
                purge=dict(type='bool', default=False),
                backup=dict(type='bool', default=False),
            )),
        ),
        supports_check_mode=True,
    )
    entries = module.params['paths']
    problems = [p for p in (entry_problem(e) for e in entries) if p]
    problems += ['paths: %s is named more than once' % p for p in duplicates(entries)]
    # Every type conflict before any change.
    problems += [p for p in (conflict(e, kind_of(lstat_or_none(e['path']))) for e in entries) if p]
    if problems:
        module.fail_json(msg='; '.join(problems))

    run = Paths(module)
    listed = [e['path'] for e in entries]
    try:
        for entry in entries:
            run.ensure(entry, lstat_or_none(entry['path']))
        for entry in entries:
            if entry['purge']:
                run.purge(entry, listed)
    except OSError as err:
        module.fail_json(msg='paths: %s' % err, drift=list(run.changes), changes=run.changes, backups=run.backups)
    result = dict(changed=bool(run.changes), action='update' if run.changes else 'none',
                  drift=list(run.changes), changes=run.changes, backups=run.backups)
    if module._diff:
        result['diff'] = run.diffs
    module.exit_json(**result)


if __name__ == '__main__':
    main()
