# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The files_in filter (plugins/filter/paths.py)."""

import importlib

import pytest

from ansible.errors import AnsibleError


@pytest.fixture(scope='module')
def f(collections_path):
    return importlib.import_module('ansible_collections.chatops.mattermost.plugins.filter.paths')


@pytest.mark.parametrize('contents, kwargs, entries', [
    ({}, {}, []),
    ({'corp': '-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----'}, dict(suffix='.crt', mode='0644'),
     [dict(path='/etc/ca/corp.crt', state='file', mode='0644',
           content='-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n')]),
    # blanks around a pasted certificate are dropped, one newline ends it; names are sorted
    ({'b': '  text\n\n\n', 'a': '\ttext'}, dict(owner='root', group='root'),
     [dict(path='/etc/ca/a', state='file', owner='root', group='root', content='text\n'),
      dict(path='/etc/ca/b', state='file', owner='root', group='root', content='text\n')]),
])
def test_files_in(f, contents, kwargs, entries):
    assert f.files_in(contents, '/etc/ca', **kwargs) == entries


@pytest.mark.parametrize('contents', [
    {'../escape': 'x'},
    {'a/b': 'x'},
    {'..': 'x'},
    {'': 'x'},
    ['not', 'a', 'dict'],
])
def test_files_in_refuses(f, contents):
    with pytest.raises(AnsibleError, match='files_in'):
        f.files_in(contents, '/etc/ca')
