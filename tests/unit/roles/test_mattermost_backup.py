# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The backup tool the mattermost_server role installs on the host
(roles/mattermost_server/files/mattermost_backup.py): its pure functions, and
verify/restore of the file parts on a backup set made in a temporary
directory (PostgreSQL parts run in the mattermost_upgrade scenario), and create()
with pg_dump faked: files in S3 skipped, a copy to another directory, retention."""

import datetime
import importlib.util
import json
import os
import tarfile

import pytest

TOOL = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'roles', 'mattermost_server', 'files', 'mattermost_backup.py')
_spec = importlib.util.spec_from_file_location('mattermost_backup', TOOL)
mb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mb)

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 12, 2, 12, 0, 0, tzinfo=UTC)


def name_at(days_ago, version='11.4.0', service='mattermost'):
    return mb.backup_name(service, version, 'team', NOW - datetime.timedelta(days=days_ago))


@pytest.mark.parametrize('dsn, expected', [
    ('postgres://mmuser:pw@localhost:5432/mattermost?sslmode=disable&connect_timeout=10&binary_parameters=yes',
     {'PGHOST': 'localhost', 'PGPORT': '5432', 'PGUSER': 'mmuser', 'PGPASSWORD': 'pw', 'PGDATABASE': 'mattermost',
      'PGSSLMODE': 'disable', 'PGCONNECT_TIMEOUT': '10'}),
    # The role writes the password urlencoded, '/' as %2F.
    ('postgres://mmuser:upgrade-Db%2FPa55%26word@db.example:6432/mm',
     {'PGHOST': 'db.example', 'PGPORT': '6432', 'PGUSER': 'mmuser', 'PGPASSWORD': 'upgrade-Db/Pa55&word', 'PGDATABASE': 'mm'}),
    ('postgresql://u@h/d', {'PGHOST': 'h', 'PGPORT': '5432', 'PGUSER': 'u', 'PGPASSWORD': '', 'PGDATABASE': 'd'}),
], ids=['role-dsn', 'encoded-password', 'no-password'])
def test_parse_datasource(dsn, expected):
    assert mb.parse_datasource(dsn) == expected


@pytest.mark.parametrize('dsn', ['mysql://u:p@h/d', 'postgres://u:p@h/', ''], ids=['mysql', 'no-db', 'empty'])
def test_parse_datasource_refuses(dsn):
    with pytest.raises(mb.BackupError, match='not a postgres:// URL'):
        mb.parse_datasource(dsn)


@pytest.mark.parametrize('target, expected', [
    ('/opt/mattermost/releases/11.4.0-team', ('11.4.0', 'team')),
    ('/opt/mattermost/releases/9.9.0-enterprise/', ('9.9.0', 'enterprise')),
])
def test_release_of(target, expected):
    assert mb.release_of(target) == expected


def test_release_of_refuses_other_directories():
    with pytest.raises(mb.BackupError, match='not a release directory'):
        mb.release_of('/opt/mattermost/mattermost')


@pytest.mark.parametrize('names, keep, max_age, expected', [
    # Count: newest first, the fourth and older go.
    ([name_at(d) for d in (0, 1, 2, 3, 4)], 3, 0, [name_at(3), name_at(4)]),
    # Age: older than 7 days, whatever the count.
    ([name_at(d) for d in (0, 6, 8, 30)], 0, 7, [name_at(8), name_at(30)]),
    # Both limits: either removes.
    ([name_at(d) for d in (0, 1, 9)], 2, 7, [name_at(9)]),
    # 0 and 0: everything kept.
    ([name_at(d) for d in (0, 100)], 0, 0, []),
    # The time in the name orders, not the version (11.4.0 sorts before 9.9.0 as text).
    ([name_at(0, '9.9.0'), name_at(1, '11.4.0'), name_at(2, '9.9.0')], 2, 0, [name_at(2, '9.9.0')]),
    # Not this service's backups, and other files, are never chosen.
    ([name_at(0), name_at(1), name_at(5, service='other'), 'admin-kept-this.sql.gz', name_at(2) + '.tmp'], 1, 0, [name_at(1)]),
], ids=['count', 'age', 'count-and-age', 'keep-all', 'time-not-version', 'only-own'])
def test_select_expired(names, keep, max_age, expected):
    assert mb.select_expired(names, 'mattermost', keep, max_age, NOW) == expected


def test_select_expired_never_the_protected_one():
    names = [name_at(d) for d in (0, 1, 2)]
    assert mb.select_expired(names, 'mattermost', 0, 1, NOW + datetime.timedelta(days=10), protect=(names[0],)) == names[1:]


def test_merge_config_keeps_the_targets_managed_keys():
    restored = {'ServiceSettings': {'SiteURL': 'https://old.example', 'EnableDeveloper': True},
                'SqlSettings': {'DataSource': 'postgres://old', 'AtRestEncryptKey': 'backup-key'},
                'GitLabSettings': {'Enable': True, 'Secret': 'stale'},
                'TeamSettings': {'SiteName': 'From the backup'}}
    target = {'ServiceSettings': {'SiteURL': 'https://new.example', 'EnableDeveloper': False},
              'SqlSettings': {'DataSource': 'postgres://new', 'AtRestEncryptKey': 'target-key'},
              'GitLabSettings': {'Enable': True, 'Secret': 'current'}}
    merged, kept = mb.merge_config(restored, target)
    assert merged['ServiceSettings'] == {'SiteURL': 'https://new.example', 'EnableDeveloper': True}
    # The key the database's encrypted values need comes with the backup.
    assert merged['SqlSettings'] == {'DataSource': 'postgres://new', 'AtRestEncryptKey': 'backup-key'}
    assert merged['GitLabSettings'] == {'Enable': True, 'Secret': 'current'}
    assert merged['TeamSettings'] == {'SiteName': 'From the backup'}
    assert kept == ['ServiceSettings.SiteURL', 'SqlSettings.DataSource', 'GitLabSettings']
    assert restored['ServiceSettings']['SiteURL'] == 'https://old.example'


def manifest_for(sums):
    return {'format': mb.FORMAT, 'parts': dict((k, {'sha256': v}) for k, v in sums.items() if v)}


GOOD = {'database.dump': 'a' * 64, 'data.tar.gz': 'b' * 64, 'config.json': 'c' * 64, 'env.tar.gz': 'd' * 64}


@pytest.mark.parametrize('manifest, sums, problem', [
    (manifest_for(GOOD), GOOD, None),
    (manifest_for(GOOD), dict(GOOD, **{'config.json': 'e' * 64}), 'config.json does not match its sha256'),
    (manifest_for(GOOD), dict(GOOD, **{'data.tar.gz': None}), 'data.tar.gz is missing'),
    (manifest_for(dict(GOOD, **{'data.tar.gz': None})), GOOD, 'data.tar.gz is not in the manifest'),
    (dict(manifest_for(GOOD), format=2), GOOD, 'manifest format 2'),
    ({'format': 1, 'parts': {}}, GOOD, 'lists no database.dump'),
], ids=['intact', 'changed-part', 'missing-part', 'extra-part', 'format', 'no-database'])
def test_check_manifest(manifest, sums, problem):
    problems = mb.check_manifest(manifest, sums)
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems


SUM = 'f' * 64


@pytest.mark.parametrize('line, problem', [
    (mb.manifest_sum_line(SUM), None),
    # sha256sum's binary-mode marker, and no final newline.
    (SUM + ' *manifest.json', None),
    (mb.manifest_sum_line('0' * 64), 'manifest.json does not match its sha256 in manifest.sha256'),
    (None, 'manifest.sha256 is missing'),
    ('', 'manifest.sha256 is damaged'),
    (mb.manifest_sum_line(SUM).replace('manifest.json', 'config.json'), 'manifest.sha256 is damaged'),
], ids=['intact', 'binary-marker', 'changed-manifest', 'missing', 'empty', 'other-file'])
def test_check_manifest_sum(line, problem):
    result = mb.check_manifest_sum(line, SUM)
    if problem is None:
        assert result is None
    else:
        assert problem in result


@pytest.fixture
def backup_set(tmp_path):
    """A backup set as create() writes it, without the database part's content."""
    data = tmp_path / 'src' / 'data'
    (data / 'teams' / 't1').mkdir(parents=True)
    (data / 'teams' / 't1' / 'file.bin').write_bytes(bytes(range(256)) * 10)
    (data / 'sentinel.txt').write_text('kept\n')
    path = tmp_path / 'backups' / name_at(0)
    path.mkdir(parents=True)
    count, size = mb.tar_tree(str(path / 'data.tar.gz'), [(str(data), 'data')])
    (path / 'database.dump').write_bytes(b'PGDMP fake')
    (path / 'config.json').write_text(json.dumps({'ServiceSettings': {'SiteURL': 'https://old.example'},
                                                  'TeamSettings': {'SiteName': 'Restored'}}))
    mb.tar_tree(str(path / 'env.tar.gz'), [])
    parts = dict((p, {'sha256': mb.sha256_of(str(path / p))}) for p in mb.PARTS)
    manifest = {'format': mb.FORMAT, 'name': path.name, 'version': '11.4.0', 'parts': parts,
                'data': {'included': True, 'files': count, 'bytes': size}}
    (path / 'manifest.json').write_text(json.dumps(manifest))
    (path / 'manifest.sha256').write_text(mb.manifest_sum_line(mb.sha256_of(str(path / 'manifest.json'))))
    return path, count, size


def test_tar_tree_counts_files_and_bytes(backup_set):
    _path, count, size = backup_set
    assert (count, size) == (2, 2560 + 5)


def test_verify_accepts_an_intact_set_and_refuses_one_changed_byte(backup_set):
    path = backup_set[0]
    assert mb.verify(str(path))['manifest']['version'] == '11.4.0'
    content = bytearray((path / 'data.tar.gz').read_bytes())
    content[len(content) // 2] ^= 0xFF
    (path / 'data.tar.gz').write_bytes(bytes(content))
    with pytest.raises(mb.BackupError, match='data.tar.gz does not match its sha256'):
        mb.verify(str(path))


@pytest.mark.parametrize('change, problem', [
    # A backup of 11.4.0 made to look like one of an older release.
    (lambda p: (p / 'manifest.json').write_text((p / 'manifest.json').read_text().replace('11.4.0', '11.3.0')),
     'manifest.json does not match its sha256 in manifest.sha256'),
    (lambda p: (p / 'manifest.sha256').unlink(), 'manifest.sha256 is missing'),
], ids=['changed-manifest', 'missing-sum'])
def test_verify_checks_the_manifest_first(backup_set, change, problem):
    path = backup_set[0]
    change(path)
    with pytest.raises(mb.BackupError, match='fails its checks, nothing was restored: ' + problem):
        mb.verify(str(path))


def test_verify_refuses_a_directory_without_manifest(tmp_path):
    with pytest.raises(mb.BackupError, match='has no manifest.json'):
        mb.verify(str(tmp_path))


def test_restore_files_and_config(backup_set, tmp_path, monkeypatch):
    path = backup_set[0]
    root = tmp_path / 'target'
    (root / 'data').mkdir(parents=True)
    (root / 'data' / 'only-on-target.txt').write_text('replaced\n')
    (root / 'config').mkdir()
    config = root / 'config' / 'config.json'
    config.write_text(json.dumps({'ServiceSettings': {'SiteURL': 'https://new.example'},
                                  'FileSettings': {'Directory': str(root / 'data') + '/'}}))
    monkeypatch.setattr(mb.shutil, 'chown', lambda *args, **kwargs: None)
    settings = {'config_file': str(config), 'data_dir': str(root / 'data'), 'user': 'x', 'group': 'x'}
    assert mb.restore(settings, str(path), 'files')['files'] == 2
    assert sorted(os.listdir(str(root / 'data'))) == ['sentinel.txt', 'teams']
    assert (root / 'data' / 'teams' / 't1' / 'file.bin').read_bytes() == bytes(range(256)) * 10
    assert not (root / 'data.before-restore').exists()
    result = mb.restore(settings, str(path), 'config')
    restored = json.loads(config.read_text())
    assert restored['ServiceSettings']['SiteURL'] == 'https://new.example'
    assert restored['TeamSettings']['SiteName'] == 'Restored'
    assert result['kept_from_target'] == ['ServiceSettings.SiteURL', 'FileSettings.Directory']
    assert oct(os.stat(str(config)).st_mode & 0o777) == '0o600'


def test_the_data_archive_holds_only_data(backup_set):
    with tarfile.open(str(backup_set[0] / 'data.tar.gz')) as tar:
        names = tar.getnames()
    assert all(n == 'data' or n.startswith('data/') for n in names)


@pytest.fixture
def host(tmp_path, monkeypatch):
    """A host layout for create(): a release `current` points at, config.json,
    a data directory, and pg_dump/psql replaced by fakes (no PostgreSQL here)."""
    release = tmp_path / 'opt' / 'releases' / '11.4.0-team'
    release.mkdir(parents=True)
    (tmp_path / 'opt' / 'current').symlink_to(release)
    data = tmp_path / 'data'
    (data / 'users').mkdir(parents=True)
    (data / 'users' / 'avatar.png').write_bytes(b'\x89PNG' * 64)
    config = tmp_path / 'config.json'

    def write_config(driver):
        config.write_text(json.dumps({
            'SqlSettings': {'DriverName': 'postgres',
                            'DataSource': 'postgres://mmuser:pw@localhost:5432/mattermost?sslmode=disable'},
            'FileSettings': {'DriverName': driver, 'Directory': str(data) + '/'}}))

    def fake_run(argv, env=None, **kwargs):
        if argv[0] == 'pg_dump':
            with open(argv[argv.index('-f') + 1], 'wb') as handle:
                handle.write(b'PGDMP fake')
        return ''
    monkeypatch.setattr(mb, 'run', fake_run)
    monkeypatch.setattr(mb, 'inspect_db', lambda env: dict({t: 0 for t in mb.DATA_TABLES}, size=1, tables=1,
                                                           has_data=False))
    settings = {'service': 'mattermost', 'current': str(tmp_path / 'opt' / 'current'), 'config_file': str(config),
                'data_dir': str(data), 'env_files': [], 'trusted_ca_dir': '', 'backup_dir': str(tmp_path / 'backups'),
                'keep': 2, 'max_age_days': 0, 'copy_to': [str(tmp_path / 'nfs')]}
    umask = os.umask(0o022)  # create() sets 077 for the process: put it back for the other tests
    yield settings, write_config
    os.umask(umask)


@pytest.mark.parametrize('driver, included', [('local', True), ('amazons3', False)])
def test_create_skips_the_files_in_s3_and_says_so(host, driver, included):
    settings, write_config = host
    write_config(driver)
    result = mb.create(settings, 'test')
    data = result['manifest']['data']
    assert data['included'] is included
    assert os.path.exists(os.path.join(result['path'], 'data.tar.gz')) is included
    if not included:
        assert 'amazons3' in data['note'] and 'bucket' in data['note']
        assert mb.restore(settings, result['path'], 'files')['changed'] is False
    assert mb.verify(result['path'])['manifest']['name'] == os.path.basename(result['path'])


def test_create_copies_the_set_and_keeps_the_newest(host):
    settings, write_config = host
    write_config('local')
    os.makedirs(settings['backup_dir'])
    older = [name_at(days) for days in (3, 2)]
    for name in older:
        os.makedirs(os.path.join(settings['backup_dir'], name))
    result = mb.create(settings, 'test')
    name = os.path.basename(result['path'])
    copy = os.path.join(settings['copy_to'][0], name)
    assert result['copies'] == [copy]
    assert mb.verify(copy)['manifest']['name'] == name
    assert oct(os.stat(settings['copy_to'][0]).st_mode & 0o777) == '0o700'
    # keep 2: the new set and the newest older one stay.
    assert result['removed'] == [older[0]]
    assert sorted(os.listdir(settings['backup_dir'])) == sorted([older[1], name])
