# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""chatops.mattermost.mattermost_config: its pure functions, the module in-process on
files in tmp_path, and through ansible-playbook for what the controller shows."""

import copy
import importlib
import json
import stat

import pytest

MODULE = 'chatops.mattermost.mattermost_config'
SECRET = 'postgres://mmuser:db-Pa55word@localhost:5432/mattermost?sslmode=disable'
# What Mattermost writes: its own keys, the System Console's changes, '&' as \u0026.
CONFIG = {
    'ServiceSettings': {'SiteURL': 'https://old.example.test', 'ListenAddress': ':8065',
                        'WebserverMode': 'gzip'},
    'SqlSettings': {'DriverName': 'postgres', 'DataSource': '', 'AtRestEncryptKey': 'kept-key'},
    'TeamSettings': {'SiteName': 'Changed in the System Console'},
    'PluginSettings': {'Directory': './plugins', 'Plugins': {}},
}


@pytest.fixture
def code(collections_path):
    return importlib.import_module('ansible_collections.chatops.mattermost.plugins.modules.mattermost_config')


# ---------------------------------------------------------------- pure functions

@pytest.mark.parametrize('value, empty', [
    (None, True),
    ('', True),
    (' ', False),
    (0, False),
    (False, False),
    ([], False),
    ({}, False),
    ('x', False),
])
def test_is_empty(code, value, empty):
    assert code._is_empty(value) is empty


@pytest.mark.parametrize('current, wanted, only_if_empty, merged, changed', [
    # settings: added, equal, replaced
    ({}, {'A': 1}, False, {'A': 1}, ['A']),
    ({'A': 1}, {'A': 1}, False, {'A': 1}, []),
    ({'A': 1}, {'A': 2}, False, {'A': 2}, ['A']),
    ({'A': 1, 'B': 2}, {}, False, {'A': 1, 'B': 2}, []),
    # nested dictionaries are merged: other keys of a section stay
    ({'S': {'a': 1, 'b': 2}}, {'S': {'a': 3}}, False, {'S': {'a': 3, 'b': 2}}, ['S.a']),
    ({'S': {'a': 1}}, {'S': {'n': {'x': 1}}}, False, {'S': {'a': 1, 'n': {'x': 1}}}, ['S.n']),
    ({'S': {'n': {'x': 1, 'y': 2}}}, {'S': {'n': {'x': 5}}}, False, {'S': {'n': {'x': 5, 'y': 2}}}, ['S.n.x']),
    ({'S': {'a': 1}, 'T': {'b': 2}}, {'S': {'a': 2}, 'T': {'b': 3}}, False,
     {'S': {'a': 2}, 'T': {'b': 3}}, ['S.a', 'T.b']),
    # a missing section, or one that is not a dictionary, is replaced whole and named as the section
    ({}, {'S': {'a': 1}}, False, {'S': {'a': 1}}, ['S']),
    ({'S': None}, {'S': {'a': 1}}, False, {'S': {'a': 1}}, ['S']),
    ({'S': {'a': 1}}, {'S': 'flat'}, False, {'S': 'flat'}, ['S']),
    # lists and scalars replace the file's value, they are not merged
    ({'L': [1, 2]}, {'L': [2]}, False, {'L': [2]}, ['L']),
    ({'L': [1, 2]}, {'L': [1, 2]}, False, {'L': [1, 2]}, []),
    ({'L': [1, 2]}, {'L': [2, 1]}, False, {'L': [2, 1]}, ['L']),
    ({'A': None}, {'A': ''}, False, {'A': ''}, ['A']),
    # defaults: only where the key is missing, null or an empty string
    ({}, {'A': 1}, True, {'A': 1}, ['A']),
    ({'A': None}, {'A': 1}, True, {'A': 1}, ['A']),
    ({'A': ''}, {'A': 'k'}, True, {'A': 'k'}, ['A']),
    ({'A': 'set'}, {'A': 'k'}, True, {'A': 'set'}, []),
    ({'A': 0}, {'A': 1}, True, {'A': 0}, []),
    ({'A': False}, {'A': True}, True, {'A': False}, []),
    ({'S': {'k': 'set', 'e': ''}}, {'S': {'k': 'new', 'e': 'new'}}, True, {'S': {'k': 'set', 'e': 'new'}}, ['S.e']),
    ({}, {'S': {'k': 'new'}}, True, {'S': {'k': 'new'}}, ['S']),
])
def test_merge(code, current, wanted, only_if_empty, merged, changed):
    current = copy.deepcopy(current)
    found = []
    code.merge(current, wanted, only_if_empty, found)
    assert current == merged
    assert found == changed


def test_merge_copies_the_wanted_values(code):
    wanted = {'S': {'list': [1], 'dict': {'a': 1}}}
    current = {'S': {}}
    code.merge(current, wanted, False, [])
    wanted['S']['list'].append(2)
    wanted['S']['dict']['a'] = 2
    assert current == {'S': {'list': [1], 'dict': {'a': 1}}}


def test_merge_appends_to_the_changed_list_with_a_prefix(code):
    changed = ['Earlier.Key']
    code.merge({'a': 1}, {'a': 2}, False, changed, prefix='Section.')
    assert changed == ['Earlier.Key', 'Section.a']


@pytest.mark.parametrize('tree, keys', [
    ({}, []),
    ({'A': 1}, ['A']),
    ({'S': {'a': 1, 'b': None}}, ['S.a', 'S.b']),
    ({'S': {'n': {'x': 1}}, 'T': {'y': [1]}}, ['S.n.x', 'T.y']),
    # an empty dictionary is a value of its own, not a section
    ({'S': {}}, ['S']),
    ({'S': {'Plugins': {}}}, ['S.Plugins']),
])
def test_dotted_keys(code, tree, keys):
    assert list(code.dotted_keys(tree)) == keys


@pytest.mark.parametrize('dotted, value', [
    ('ServiceSettings.SiteURL', 'https://old.example.test'),
    ('ServiceSettings', CONFIG['ServiceSettings']),
    ('PluginSettings.Plugins', {}),
    ('ServiceSettings.Missing', None),
    ('Missing.Key', None),
    ('ServiceSettings.SiteURL.Deeper', None),
    ('SqlSettings.DataSource', ''),
])
def test_lookup(code, dotted, value):
    assert code.lookup(CONFIG, dotted) == value


@pytest.mark.parametrize('keys, secret_keys, view', [
    (['ServiceSettings.SiteURL'], [], {'ServiceSettings.SiteURL': 'https://old.example.test'}),
    # secrets are masked, but an empty one shows as empty (so a missing secret is visible)
    (['SqlSettings.AtRestEncryptKey', 'SqlSettings.DataSource'], ['SqlSettings.AtRestEncryptKey', 'SqlSettings.DataSource'],
     {'SqlSettings.AtRestEncryptKey': '********', 'SqlSettings.DataSource': ''}),
    (['Missing.Key'], ['Missing.Key'], {'Missing.Key': None}),
    ([], [], {}),
])
def test_diff_view(code, keys, secret_keys, view):
    assert code.diff_view(CONFIG, set(keys), set(secret_keys)) == view


def test_diff_view_lists_keys_in_order(code):
    view = code.diff_view(CONFIG, {'TeamSettings.SiteName', 'ServiceSettings.SiteURL', 'SqlSettings.DriverName'},
                          set())
    assert list(view) == ['ServiceSettings.SiteURL', 'SqlSettings.DriverName', 'TeamSettings.SiteName']


# ---------------------------------------------------------------- the module, in-process

@pytest.fixture
def config(tmp_path):
    """config.json as Mattermost left it (mode 0640, '&' written as \\u0026)."""
    path = tmp_path / 'config.json'
    text = json.dumps(dict(CONFIG, EmailSettings={'FeedbackEmail': 'a&b@example.test'}), indent=4)
    path.write_text(text.replace('&', '\\u0026'))
    path.chmod(0o640)
    return path


def load(path):
    return json.loads(path.read_text())


def test_sets_managed_keys_and_keeps_the_others(config, call_module):
    run = call_module(MODULE, dict(path=str(config), settings=dict(
        ServiceSettings=dict(SiteURL='https://chat.example.test', ListenAddress='127.0.0.1:8065'))))
    assert run['changed'] is True and run['created'] is False
    assert run['changed_keys'] == ['ServiceSettings.ListenAddress', 'ServiceSettings.SiteURL']
    written = load(config)
    assert written['ServiceSettings'] == dict(CONFIG['ServiceSettings'], SiteURL='https://chat.example.test',
                                              ListenAddress='127.0.0.1:8065')
    assert written['TeamSettings'] == CONFIG['TeamSettings']  # the System Console's change stays
    assert stat.S_IMODE(config.stat().st_mode) == 0o640  # the file's mode stays


def test_same_values_are_no_change(config, call_module):
    """Compared parsed: Mattermost's \\u0026 for '&' and its key order are no change, and the file is not rewritten."""
    before = config.read_text()
    run = call_module(MODULE, dict(path=str(config), settings=dict(
        EmailSettings=dict(FeedbackEmail='a&b@example.test'), ServiceSettings=dict(WebserverMode='gzip'))))
    assert run['changed'] is False and run['changed_keys'] == []
    assert config.read_text() == before


def test_defaults_fill_only_empty_keys(config, call_module):
    run = call_module(MODULE, dict(path=str(config), secret_defaults=dict(
        SqlSettings=dict(AtRestEncryptKey='generated', DataSource='generated-too'))))
    assert run['changed_keys'] == ['SqlSettings.DataSource']
    assert load(config)['SqlSettings'] == dict(CONFIG['SqlSettings'], DataSource='generated-too')


def test_created_from_the_base(tmp_path, config, call_module):
    path = tmp_path / 'new' / 'config.json'
    path.parent.mkdir()
    run = call_module(MODULE, dict(path=str(path), base=str(config), settings=dict(
        ServiceSettings=dict(SiteURL='https://old.example.test'))))
    assert run['changed'] is True and run['created'] is True and run['changed_keys'] == []
    assert load(path) == load(config)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it will hold the database password


def test_check_mode_writes_nothing(tmp_path, config, call_module):
    before = config.read_text()
    run = call_module(MODULE, dict(path=str(config), settings=dict(ServiceSettings=dict(SiteURL='https://x.test'))),
                      check=True)
    assert run['changed'] is True and run['changed_keys'] == ['ServiceSettings.SiteURL']
    assert config.read_text() == before
    missing = tmp_path / 'missing.json'
    run = call_module(MODULE, dict(path=str(missing), base=str(config)), check=True)
    assert run['changed'] is True and run['created'] is True
    assert not missing.exists()


def test_diff_shows_managed_keys_with_secrets_masked(config, call_module):
    run = call_module(MODULE, dict(path=str(config), settings=dict(ServiceSettings=dict(SiteURL='https://x.test')),
                                   secrets=dict(SqlSettings=dict(DataSource=SECRET))), diff=True)
    assert run['diff']['before'] == {'ServiceSettings.SiteURL': 'https://old.example.test',
                                     'SqlSettings.DataSource': ''}
    assert run['diff']['after'] == {'ServiceSettings.SiteURL': 'https://x.test',
                                    'SqlSettings.DataSource': '********'}
    assert run['diff']['before_header'] == run['diff']['after_header'] == str(config)
    assert SECRET not in run.output
    assert load(config)['SqlSettings']['DataSource'] == SECRET


def test_file_arguments_apply(config, call_module):
    run = call_module(MODULE, dict(path=str(config), mode='0600'))
    assert run['changed'] is True and run['changed_keys'] == []
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert call_module(MODULE, dict(path=str(config), mode='0600'))['changed'] is False


@pytest.mark.parametrize('content, base, message', [
    (None, None, 'does not exist and no base config.json was given'),
    (None, 'missing-base.json', 'neither'),
    ('{"not": "closed"', None, 'cannot read'),
    ('["a", "list"]', None, 'does not hold a JSON object'),
])
def test_refuses(tmp_path, call_module, content, base, message):
    path = tmp_path / 'config.json'
    if content is not None:
        path.write_text(content)
    args = dict(path=str(path))
    if base:
        args['base'] = str(tmp_path / base)
    run = call_module(MODULE, args)
    assert run['failed'] is True and message in run['msg']
    assert path.exists() is (content is not None)


# ---------------------------------------------------------------- through ansible-playbook

def test_playbook_check_diff_then_write_without_showing_secrets(config, run_module, call_module):
    """What the controller prints with --check --diff -vvv holds no secret; the real run then writes it."""
    args = dict(path=str(config), settings=dict(ServiceSettings=dict(SiteURL='https://x.test')),
                secrets=dict(SqlSettings=dict(DataSource=SECRET)))
    before = config.read_text()
    run = run_module(MODULE, args, check=True, diff=True, verbosity=3)
    assert not run.get('failed'), run.get('msg')
    assert run['changed'] is True and run['changed_keys'] == ['ServiceSettings.SiteURL', 'SqlSettings.DataSource']
    assert config.read_text() == before
    output = ' '.join(run.output.split())
    assert '+ "SqlSettings.DataSource": "********"' in output  # the diff
    assert '"DataSource": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"' in output  # the logged arguments
    assert SECRET not in run.output and 'db-Pa55word' not in run.output
    run = run_module(MODULE, args)
    assert run['changed'] is True and load(config)['SqlSettings']['DataSource'] == SECRET
    assert stat.S_IMODE(config.stat().st_mode) == 0o640
    assert call_module(MODULE, args)['changed'] is False
