# -*- coding: utf-8 -*-

# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Entries for the chatops.mattermost.paths module built from role variables.
Documented in plugins/filter/files_in.yml; cases in tests/unit/plugins/filter/test_files_in.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text


def files_in(contents, directory, suffix='', **attributes):
    """The paths entries (state=file) of the files named in ``contents`` (name -> text) in ``directory``:
    each file is ``<directory>/<name><suffix>``, its text stripped of surrounding blanks and ending in
    one newline (PEM certificates pasted from anywhere), with ``attributes`` (owner, group, mode)."""
    if not isinstance(contents, Mapping):
        raise AnsibleFilterError('files_in: expected a dictionary of file name to content, got %s'
                                 % type(contents).__name__)
    entries = []
    for name in sorted(contents):
        name = to_text(name)
        if not name or '/' in name or name in ('.', '..'):
            raise AnsibleFilterError('files_in: %r cannot be a file name in %s (not empty, ".", ".." or with "/")'
                                     % (name, directory))
        entry = dict(attributes, path=posixpath.join(directory, name + suffix), state='file',
                     content=to_text(contents[name]).strip() + '\n')
        entries.append(entry)
    return entries


class FilterModule(object):
    """Entries for chatops.mattermost.paths."""

    def filters(self):
        return dict(files_in=files_in)
