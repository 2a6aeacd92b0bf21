# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""chatops.mattermost.paths: its pure functions, and the module in-process on tmp_path."""

import grp
import importlib
import os
import pwd
import stat

import pytest

MODULE = 'chatops.mattermost.paths'
SECRET = 'MM_LICENSE=eyJsaWNlbnNlIjoic2VjcmV0In0\n'
ME = pwd.getpwuid(os.getuid()).pw_name
MY_GROUP = grp.getgrgid(os.getgid()).gr_name


@pytest.fixture
def code(collections_path):
    return importlib.import_module('ansible_collections.chatops.mattermost.plugins.modules.paths')


def mode_of(path):
    return '%04o' % stat.S_IMODE(os.lstat(str(path)).st_mode)


# ---------------------------------------------------------------- pure functions

@pytest.mark.parametrize('make, kind', [
    (None, 'absent'),
    (lambda p: p.mkdir(), 'directory'),
    (lambda p: p.write_text('x'), 'file'),
    (lambda p: p.symlink_to('/nowhere'), 'link'),
    (lambda p: os.mkfifo(str(p)), None),
])
def test_kind_of(code, tmp_path, make, kind):
    path = tmp_path / 'p'
    if make:
        make(path)
    st = os.lstat(str(path)) if make else None
    assert code.kind_of(st) == kind


@pytest.mark.parametrize('wanted, kind, refused', [
    ('directory', 'absent', False),
    ('directory', 'directory', False),
    ('directory', 'file', True),
    ('directory', 'link', True),
    ('file', 'file', False),
    ('file', 'directory', True),
    ('file', 'link', True),
    ('link', 'link', False),
    ('link', 'file', True),
    ('absent', 'directory', False),
    ('absent', None, False),
    ('file', None, True),
])
def test_conflict(code, wanted, kind, refused):
    problem = code.conflict(dict(path='/x/y', state=wanted), kind)
    assert (problem is not None) is refused
    if refused:
        assert '/x/y' in problem and 'remove it' in problem


@pytest.mark.parametrize('entry, words', [
    (dict(path='relative/p', state='directory'), 'not an absolute path'),
    (dict(path='/p', state='file'), 'state=file and no content'),
    (dict(path='/p', state='link'), 'state=link and no src'),
    (dict(path='/p', state='directory', content='x'), 'content goes with state=file'),
    (dict(path='/p', state='file', content='x', src='/q'), 'src goes with state=link'),
    (dict(path='/p', state='absent', purge=True), 'purge goes with state=directory'),
    (dict(path='/p', state='file', content=''), None),
    (dict(path='/p', state='directory', purge=True), None),
    (dict(path='/p', state='link', src='/q'), None),
])
def test_entry_problem(code, entry, words):
    problem = code.entry_problem(entry)
    if words is None:
        assert problem is None
    else:
        assert words in problem


@pytest.mark.parametrize('paths, again', [
    (['/a', '/b'], []),
    (['/a', '/a/', '/b'], ['/a']),
    (['/a', '/b', '/a', '/b', '/a'], ['/a', '/b']),
])
def test_duplicates(code, paths, again):
    assert code.duplicates([dict(path=p) for p in paths]) == again


@pytest.mark.parametrize('names, listed, stale', [
    ([], ['/d/a'], []),
    (['a.crt', 'b.crt'], ['/d', '/d/a.crt'], ['/d/b.crt']),
    (['a.crt', '.hidden'], ['/d/a.crt'], ['/d/.hidden']),
    (['a.crt'], ['/d/a.crt/'], []),
])
def test_stale_entries(code, names, listed, stale):
    assert code.stale_entries('/d', names, listed) == stale


# ---------------------------------------------------------------- the module on a tree

def layout(root, content='one\n'):
    return [
        dict(path=str(root / 'opt'), mode='0755', owner=ME, group=MY_GROUP),
        dict(path=str(root / 'opt' / 'data'), mode='0750'),
        dict(path=str(root / 'opt' / 'app.env'), state='file', content=content, mode='0600'),
        dict(path=str(root / 'opt' / 'current'), state='link', src=str(root / 'opt' / 'data')),
        dict(path=str(root / 'opt' / 'old.conf'), state='absent'),
    ]


def test_creates_then_changes_nothing(tmp_path, call_module):
    run = call_module(MODULE, dict(paths=layout(tmp_path)))
    assert run.rc == 0 and run['changed'] and run['action'] == 'update'
    assert run['drift'] == [str(tmp_path / p) for p in ('opt', 'opt/data', 'opt/app.env', 'opt/current')]
    assert all(run['changes'][p] == ['created'] for p in run['drift'])
    assert mode_of(tmp_path / 'opt' / 'data') == '0750'
    assert mode_of(tmp_path / 'opt' / 'app.env') == '0600'
    assert (tmp_path / 'opt' / 'app.env').read_text() == 'one\n'
    assert os.readlink(str(tmp_path / 'opt' / 'current')) == str(tmp_path / 'opt' / 'data')

    again = call_module(MODULE, dict(paths=layout(tmp_path)))
    assert again.rc == 0 and not again['changed']
    assert again['action'] == 'none' and again['drift'] == [] and again['changes'] == {}


def test_content_mode_and_target_changes_are_named(tmp_path, call_module):
    call_module(MODULE, dict(paths=layout(tmp_path)))
    os.chmod(str(tmp_path / 'opt' / 'data'), 0o777)
    os.unlink(str(tmp_path / 'opt' / 'current'))
    os.symlink('/elsewhere', str(tmp_path / 'opt' / 'current'))
    (tmp_path / 'opt' / 'old.conf').write_text('stale')
    run = call_module(MODULE, dict(paths=layout(tmp_path, content='two\n')), diff=True)
    changes = run['changes']
    assert changes == {str(tmp_path / 'opt' / 'data'): ['mode'],
                       str(tmp_path / 'opt' / 'app.env'): ['content'],
                       str(tmp_path / 'opt' / 'current'): ['target'],
                       str(tmp_path / 'opt' / 'old.conf'): ['removed']}
    assert (tmp_path / 'opt' / 'app.env').read_text() == 'two\n'
    assert mode_of(tmp_path / 'opt' / 'app.env') == '0600'
    assert os.readlink(str(tmp_path / 'opt' / 'current')) == str(tmp_path / 'opt' / 'data')
    assert not (tmp_path / 'opt' / 'old.conf').exists()
    headers = [d['before_header'] for d in run['diff']]
    assert headers == list(changes)
    assert 'mode: 0777' in run['diff'][0]['before'] and 'mode: 0750' in run['diff'][0]['after']
    # No temporary file is left beside what was written.
    assert sorted(os.listdir(str(tmp_path / 'opt'))) == ['app.env', 'current', 'data']


def test_a_file_whose_content_and_mode_differ_names_both(tmp_path, call_module):
    call_module(MODULE, dict(paths=layout(tmp_path)))
    os.chmod(str(tmp_path / 'opt' / 'app.env'), 0o644)
    run = call_module(MODULE, dict(paths=layout(tmp_path, content='two\n')))
    assert run['changes'] == {str(tmp_path / 'opt' / 'app.env'): ['mode', 'content']}
    assert mode_of(tmp_path / 'opt' / 'app.env') == '0600'
    assert (tmp_path / 'opt' / 'app.env').read_text() == 'two\n'


def test_check_mode_changes_nothing_and_predicts(tmp_path, call_module):
    tmp_path = tmp_path / 'tree'
    tmp_path.mkdir()
    run = call_module(MODULE, dict(paths=layout(tmp_path)), check=True)
    assert run.rc == 0 and run['changed']
    assert list(run['changes']) == [str(tmp_path / p) for p in ('opt', 'opt/data', 'opt/app.env', 'opt/current')]
    assert os.listdir(str(tmp_path)) == []

    call_module(MODULE, dict(paths=layout(tmp_path)))
    run = call_module(MODULE, dict(paths=layout(tmp_path, content='two\n')), check=True)
    assert run['changes'] == {str(tmp_path / 'opt' / 'app.env'): ['content']}
    assert (tmp_path / 'opt' / 'app.env').read_text() == 'one\n'


def test_purge_removes_only_what_is_not_named(tmp_path, call_module):
    certs = tmp_path / 'certs'
    certs.mkdir()
    certs.chmod(0o755)
    (certs / 'gone.crt').write_text('old')
    (certs / 'sub').mkdir()
    entries = [dict(path=str(certs), mode='0755', purge=True),
               dict(path=str(certs / 'corp.crt'), state='file', content='PEM\n', mode='0644')]
    run = call_module(MODULE, dict(paths=entries))
    assert run['changes'] == {str(certs / 'corp.crt'): ['created'],
                              str(certs / 'gone.crt'): ['removed'], str(certs / 'sub'): ['removed']}
    assert os.listdir(str(certs)) == ['corp.crt']
    assert not call_module(MODULE, dict(paths=entries))['changed']


def test_a_path_of_another_type_fails_before_any_change(tmp_path, call_module):
    (tmp_path / 'taken').write_text('a file an admin put there')
    entries = [dict(path=str(tmp_path / 'new')), dict(path=str(tmp_path / 'taken'))]
    run = call_module(MODULE, dict(paths=entries))
    assert run.rc == 1 and run['failed']
    assert '%s is a file, not a directory' % (tmp_path / 'taken') in run['msg']
    assert not (tmp_path / 'new').exists()
    assert (tmp_path / 'taken').read_text() == 'a file an admin put there'


@pytest.mark.parametrize('entries, words', [
    ([dict(path='/a', state='file')], 'state=file and no content'),
    ([dict(path='/a'), dict(path='/a/')], '/a is named more than once'),
])
def test_bad_entries_fail_with_the_path(call_module, entries, words):
    run = call_module(MODULE, dict(paths=entries))
    assert run.rc == 1 and words in run['msg']


def test_content_is_never_in_the_result(tmp_path, call_module):
    entry = dict(path=str(tmp_path / 'licence.env'), state='file', content=SECRET, mode='0600')
    run = call_module(MODULE, dict(paths=[entry]), diff=True)
    assert run['changed'] and mode_of(tmp_path / 'licence.env') == '0600'
    assert 'eyJsaWNlbnNl' not in run.output


def test_backup_keeps_the_replaced_content_only(tmp_path, call_module):
    site = dict(path=str(tmp_path / 'site.conf'), state='file', content='one\n', mode='0644', backup=True)
    created = call_module(MODULE, dict(paths=[site]))
    assert created['changes'] == {site['path']: ['created']} and created['backups'] == {}
    os.chmod(site['path'], 0o600)
    only_mode = call_module(MODULE, dict(paths=[site]))
    assert only_mode['changes'] == {site['path']: ['mode']} and only_mode['backups'] == {}

    replaced = call_module(MODULE, dict(paths=[dict(site, content='two\n')]))
    backup = replaced['backups'][site['path']]
    assert os.path.dirname(backup) == str(tmp_path) and backup.endswith('~')
    assert open(backup).read() == 'one\n' and (tmp_path / 'site.conf').read_text() == 'two\n'
    assert call_module(MODULE, dict(paths=[dict(site, content='two\n')]), check=True)['backups'] == {}
