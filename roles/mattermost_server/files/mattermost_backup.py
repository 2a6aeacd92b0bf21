# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""mattermost-backup: one backup of a Mattermost server, and its restore.

(No shebang here: the role installs it with #!/usr/bin/python3 in front.)

Installed by chatops.mattermost.mattermost_server as
/usr/local/sbin/mattermost-backup; run by the backup playbook, the upgrade
(before a release switch), the restore playbook and the optional systemd
timer. Root only. Settings come from a JSON file the role writes
(/etc/mattermost/<service>.backup.json); the database credentials from
config.json's SqlSettings.DataSource, the DSN Mattermost itself uses, so no
other copy of the password exists. Nothing secret is printed.

A backup is one directory, <backup_dir>/<service>-backup-<version>-<edition>-<UTC time>/,
mode 0700, every file 0600, root:
  database.dump    pg_dump -Fc (one snapshot: consistent while Mattermost runs)
  data.tar.gz      FileSettings.Directory (absent when files live in S3: manifest says so)
  config.json      the server's config.json
  env.tar.gz       the service's environment files and trusted CA certificates
  manifest.json    what the backup holds: version, edition, database, files, sha256 of each part
  manifest.sha256  the sha256 of manifest.json (`sha256sum -c manifest.sha256` format)

Commands (JSON on stdout, a message on stderr and exit 1 on failure):
  create [--reason R]   take a backup, then apply retention (count and age)
  verify PATH           check the manifest against manifest.sha256, then every part's sha256
  inspect-db            what the database holds (users, teams, channels, posts)
  restore PATH --part db|files|config
                        restore one part (the service must be stopped; the
                        playbook orders the parts and checks first)
"""

import argparse
import datetime
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
from urllib.parse import parse_qs, unquote, urlsplit

FORMAT = 1
MANIFEST = 'manifest.json'
# The manifest's own checksum: without it a changed version or sha256 in the
# manifest would go unnoticed.
MANIFEST_SUM = 'manifest.sha256'
PARTS = ('database.dump', 'data.tar.gz', 'config.json', 'env.tar.gz')
TIME_FORMAT = '%Y%m%dT%H%M%SZ'
# Keys of config.json the target host manages (its own URL, database, paths,
# GitLab application): a restore keeps the target's value where it has one.
KEEP_TARGET_KEYS = (
    ('ServiceSettings', 'SiteURL'),
    ('ServiceSettings', 'ListenAddress'),
    ('ServiceSettings', 'LocalModeSocketLocation'),
    ('ServiceSettings', 'EnableLocalMode'),
    ('ServiceSettings', 'AllowedUntrustedInternalConnections'),
    ('SqlSettings', 'DriverName'),
    ('SqlSettings', 'DataSource'),
    ('SqlSettings', 'DataSourceReplicas'),
    ('FileSettings', 'Directory'),
    ('PluginSettings', 'Directory'),
    ('PluginSettings', 'ClientDirectory'),
    ('LogSettings', 'FileLocation'),
    ('GitLabSettings', None),
)
# Rows that make a database "hold data" (what a restore would overwrite).
DATA_TABLES = ('users', 'teams', 'channels', 'posts', 'fileinfo')


class BackupError(Exception):
    """A failure with a message for the admin."""


# ---------------------------------------------------------------- pure helpers
def parse_datasource(dsn):
    """libpq environment for a Mattermost postgres:// DataSource (password included)."""
    parts = urlsplit(dsn)
    if parts.scheme not in ('postgres', 'postgresql') or not parts.path.strip('/'):
        raise BackupError('SqlSettings.DataSource is not a postgres:// URL with a database name')
    query = parse_qs(parts.query)
    env = {
        'PGHOST': parts.hostname or 'localhost',
        'PGPORT': str(parts.port or 5432),
        'PGUSER': unquote(parts.username or ''),
        'PGPASSWORD': unquote(parts.password or ''),
        'PGDATABASE': unquote(parts.path.strip('/')),
    }
    for key, var in (('sslmode', 'PGSSLMODE'), ('connect_timeout', 'PGCONNECT_TIMEOUT')):
        if key in query:
            env[var] = query[key][0]
    return env


def release_of(current_target):
    """(version, edition) from the release directory `current` points at."""
    match = re.match(r'^([0-9]+\.[0-9]+\.[0-9]+)-(team|enterprise)$', os.path.basename(current_target.rstrip('/')))
    if not match:
        raise BackupError('%s is not a release directory <version>-<edition>' % current_target)
    return match.group(1), match.group(2)


def version_tuple(version):
    return tuple(int(x) for x in version.split('.'))


def backup_name(service, version, edition, when):
    return '%s-backup-%s-%s-%s' % (service, version, edition, when.strftime(TIME_FORMAT))


def backup_regex(service):
    return re.compile(r'^%s-backup-([0-9]+\.[0-9]+\.[0-9]+)-(team|enterprise)-([0-9]{8}T[0-9]{6}Z)$' % re.escape(service))


def select_expired(names, service, keep, max_age_days, now, protect=()):
    """The backup names retention removes: beyond the newest `keep` (0: no
    count limit) or older than `max_age_days` (0: no age limit). Names that are
    not this service's backups, and `protect`, are never chosen."""
    pattern = backup_regex(service)
    dated = []
    for name in names:
        match = pattern.match(name)
        if match:
            when = datetime.datetime.strptime(match.group(3), TIME_FORMAT).replace(tzinfo=datetime.timezone.utc)
            dated.append((when, name))
    dated.sort(reverse=True)
    expired = []
    for index, (when, name) in enumerate(dated):
        too_many = keep > 0 and index >= keep
        too_old = max_age_days > 0 and now - when > datetime.timedelta(days=max_age_days)
        if (too_many or too_old) and name not in protect:
            expired.append(name)
    return expired


def merge_config(restored, target):
    """The restored config.json with the target's managed keys where the target has them."""
    merged = json.loads(json.dumps(restored))
    kept = []
    for section, key in KEEP_TARGET_KEYS:
        if section not in target:
            continue
        if key is None:
            if merged.get(section) != target[section]:
                kept.append(section)
            merged[section] = target[section]
        elif key in target[section]:
            if merged.setdefault(section, {}).get(key) != target[section][key]:
                kept.append('%s.%s' % (section, key))
            merged[section][key] = target[section][key]
    return merged, kept


def check_manifest(manifest, sums):
    """Problems of a backup: its manifest against the sha256 of the parts found
    (name -> hex, None when missing). An empty list means it is intact."""
    problems = []
    if manifest.get('format') != FORMAT:
        problems.append('manifest format %r, expected %r' % (manifest.get('format'), FORMAT))
    parts = manifest.get('parts')
    if not isinstance(parts, dict) or 'database.dump' not in parts:
        return problems + ['the manifest lists no database.dump']
    for name in sorted(parts):
        if name not in PARTS:
            problems.append('unknown part %s in the manifest' % name)
        elif sums.get(name) is None:
            problems.append('%s is missing' % name)
        elif sums[name] != parts[name].get('sha256'):
            problems.append('%s does not match its sha256 in the manifest (changed or damaged)' % name)
    for name in sorted(set(sums) - set(parts)):
        if sums[name] is not None:
            problems.append('%s is not in the manifest' % name)
    return problems


def manifest_sum_line(digest):
    """manifest.sha256's content for a manifest.json of that sha256 (sha256sum's format)."""
    return '%s  %s\n' % (digest, MANIFEST)


def check_manifest_sum(line, digest):
    """The problem of a manifest.json of sha256 `digest` against manifest.sha256's
    content `line` (None when the file is missing), or None when it matches."""
    if line is None:
        return '%s is missing: the manifest cannot be checked' % MANIFEST_SUM
    match = re.match(r'^([0-9a-f]{64}) [ *]%s$' % re.escape(MANIFEST), line.strip())
    if not match:
        return '%s is damaged: not "<sha256>  %s"' % (MANIFEST_SUM, MANIFEST)
    if match.group(1) != digest:
        return '%s does not match its sha256 in %s (changed or damaged)' % (MANIFEST, MANIFEST_SUM)
    return None


# ---------------------------------------------------------------- host side
def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def load_settings(path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError) as exc:
        raise BackupError('cannot read %s: %s' % (path, exc)) from exc


def read_config(settings):
    with open(settings['config_file']) as handle:
        return json.load(handle)


def run(argv, env=None, **kwargs):
    full_env = dict(os.environ)
    full_env.update(env or {})
    result = subprocess.run(argv, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, check=False, **kwargs)
    if result.returncode != 0:
        raise BackupError('%s failed (rc=%d): %s' % (argv[0], result.returncode, result.stderr.strip()[-2000:]))
    return result.stdout


def db_env(config):
    return parse_datasource(config.get('SqlSettings', {}).get('DataSource', ''))


def psql_rows(env, query):
    out = run(['psql', '-X', '-A', '-t', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-c', query], env)
    return [line.split('\t') for line in out.split('\n') if line]


def inspect_db(env):
    """Row counts of the tables that make data, the number of tables and the
    database size (bytes); has_data when teams, posts or files exist."""
    counts = dict((k, 0) for k in DATA_TABLES)
    counts['size'] = int(psql_rows(env, 'SELECT pg_database_size(current_database())')[0][0])
    existing = [row[0] for row in psql_rows(
        env, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")]
    counts['tables'] = len(existing)
    present = [t for t in DATA_TABLES if t in existing]
    if present:
        query = ' UNION ALL '.join("SELECT '%s', count(*) FROM %s" % (t, t) for t in present)
        counts.update((k, int(v)) for k, v in psql_rows(env, query))
    # Users alone (bots, a first sign-in) are not data a restore would lose.
    counts['has_data'] = any(counts[t] > 0 for t in ('teams', 'posts', 'fileinfo'))
    return counts


def tar_tree(target, members, compresslevel=1):
    """gzip tar of (path, arcname) pairs; returns (file count, bytes)."""
    count = size = 0
    with tarfile.open(target, 'w:gz', compresslevel=compresslevel) as tar:
        for path, arcname in members:
            if not os.path.lexists(path):
                continue
            tar.add(path, arcname=arcname)
            for root, _dirs, files in os.walk(path) if os.path.isdir(path) else [('', [], [path])]:
                for name in files:
                    full = os.path.join(root, name)
                    if os.path.isfile(full) and not os.path.islink(full):
                        count += 1
                        size += os.path.getsize(full)
    return count, size


def create(settings, reason):
    os.umask(0o077)
    config = read_config(settings)
    env = db_env(config)
    version, edition = release_of(os.path.realpath(settings['current']))
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    backup_dir = settings['backup_dir']
    os.makedirs(backup_dir, mode=0o700, exist_ok=True)
    os.chmod(backup_dir, 0o700)
    name = backup_name(settings['service'], version, edition, now)
    final = os.path.join(backup_dir, name)
    if os.path.exists(final):
        raise BackupError('%s exists already: one backup per second' % final)
    work = tempfile.mkdtemp(prefix='.%s.' % name, dir=backup_dir)
    try:
        database = inspect_db(env)
        run(['pg_dump', '-Fc', '--no-owner', '--no-privileges', '-f', os.path.join(work, 'database.dump')], env)
        files_driver = config.get('FileSettings', {}).get('DriverName', 'local')
        data = {'driver': files_driver}
        if files_driver == 'amazons3':
            data.update(included=False, note='FileSettings.DriverName is amazons3: files live in the bucket, '
                                             'back it up there (not in this backup)')
        else:
            directory = config.get('FileSettings', {}).get('Directory') or settings['data_dir']
            count, size = tar_tree(os.path.join(work, 'data.tar.gz'), [(directory.rstrip('/'), 'data')])
            data.update(included=True, directory=directory, files=count, bytes=size)
        shutil.copyfile(settings['config_file'], os.path.join(work, 'config.json'))
        env_members = [(p, 'env/' + os.path.basename(p)) for p in settings.get('env_files', [])]
        if settings.get('trusted_ca_dir'):
            env_members.append((settings['trusted_ca_dir'], 'trusted-certs'))
        tar_tree(os.path.join(work, 'env.tar.gz'), env_members)
        parts = {}
        for part in PARTS:
            path = os.path.join(work, part)
            if os.path.exists(path):
                os.chmod(path, 0o600)
                parts[part] = {'sha256': sha256_of(path), 'bytes': os.path.getsize(path)}
        manifest = {
            'format': FORMAT,
            'name': name,
            'service': settings['service'],
            'version': version,
            'edition': edition,
            'created': now.strftime('%Y-%m-%dT%H:%M:%SZ'),
            'host': socket.getfqdn(),
            'reason': reason,
            'database': {'name': env['PGDATABASE'], 'host': env['PGHOST'], 'bytes': database['size'],
                         'rows': dict((t, database[t]) for t in DATA_TABLES), 'format': 'pg_dump -Fc'},
            'data': data,
            'config_file': settings['config_file'],
            'env_files': [p for p in settings.get('env_files', []) if os.path.exists(p)],
            'trusted_ca_dir': settings.get('trusted_ca_dir', ''),
            'parts': parts,
        }
        with open(os.path.join(work, MANIFEST), 'w') as handle:
            json.dump(manifest, handle, indent=2, sort_keys=True)
            handle.write('\n')
        os.chmod(os.path.join(work, MANIFEST), 0o600)
        with open(os.path.join(work, MANIFEST_SUM), 'w') as handle:
            handle.write(manifest_sum_line(sha256_of(os.path.join(work, MANIFEST))))
        os.chmod(os.path.join(work, MANIFEST_SUM), 0o600)
        os.chmod(work, 0o700)
        os.rename(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    copies = []
    for target in settings.get('copy_to', []) or []:
        os.makedirs(target, mode=0o700, exist_ok=True)
        shutil.copytree(final, os.path.join(target, name))
        copies.append(os.path.join(target, name))
    removed = []
    for old in select_expired(os.listdir(backup_dir), settings['service'], int(settings.get('keep', 0)),
                              int(settings.get('max_age_days', 0)), now, protect=(name,)):
        shutil.rmtree(os.path.join(backup_dir, old))
        removed.append(old)
    return {'changed': True, 'path': final, 'manifest': manifest, 'copies': copies, 'removed': removed}


def verify(path):
    manifest_path = os.path.join(path, MANIFEST)
    if not os.path.isfile(manifest_path):
        raise BackupError('%s is not a backup: it has no %s' % (path, MANIFEST))
    sum_path = os.path.join(path, MANIFEST_SUM)
    line = None
    if os.path.isfile(sum_path):
        with open(sum_path) as handle:
            line = handle.read()
    problem = check_manifest_sum(line, sha256_of(manifest_path))
    if problem:
        raise BackupError('backup %s fails its checks, nothing was restored: %s' % (path, problem))
    try:
        with open(manifest_path) as handle:
            manifest = json.load(handle)
    except ValueError as exc:
        raise BackupError('%s is damaged: %s' % (manifest_path, exc)) from exc
    sums = dict((p, sha256_of(os.path.join(path, p)) if os.path.isfile(os.path.join(path, p)) else None) for p in PARTS)
    problems = check_manifest(manifest, sums)
    if problems:
        raise BackupError('backup %s fails its checks, nothing was restored: %s' % (path, '; '.join(problems)))
    return {'changed': False, 'path': path, 'manifest': manifest}


def restore(settings, path, part):
    manifest = verify(path)['manifest']
    config = read_config(settings)
    if part == 'db':
        run(['pg_restore', '--no-owner', '--no-privileges', '--exit-on-error', '-d', db_env(config)['PGDATABASE'],
             os.path.join(path, 'database.dump')], db_env(config))
        return {'changed': True, 'part': part}
    if part == 'files':
        if not manifest['data'].get('included'):
            return {'changed': False, 'part': part, 'msg': manifest['data'].get('note', 'no data in this backup')}
        directory = config.get('FileSettings', {}).get('Directory') or settings['data_dir']
        directory = directory.rstrip('/')
        staging = tempfile.mkdtemp(prefix='.restore.', dir=os.path.dirname(directory))
        try:
            with tarfile.open(os.path.join(path, 'data.tar.gz')) as tar:
                members = [m for m in tar.getmembers()
                           if (m.name == 'data' or m.name.startswith('data/')) and '..' not in m.name.split('/')
                           and (m.isfile() or m.isdir())]
                tar.extractall(staging, members=members)  # nosec: members filtered above
            restored = os.path.join(staging, 'data')
            for root, dirs, files in os.walk(restored):
                for name in dirs + files:
                    shutil.chown(os.path.join(root, name), settings['user'], settings['group'])
            shutil.chown(restored, settings['user'], settings['group'])
            os.chmod(restored, 0o750)
            old = directory + '.before-restore'
            shutil.rmtree(old, ignore_errors=True)
            if os.path.exists(directory):
                os.rename(directory, old)
            os.rename(restored, directory)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return {'changed': True, 'part': part, 'files': manifest['data'].get('files')}
    if part == 'config':
        with open(os.path.join(path, 'config.json')) as handle:
            merged, kept = merge_config(json.load(handle), config)
        tmp = settings['config_file'] + '.restore'
        with open(tmp, 'w') as handle:
            json.dump(merged, handle, indent=2)
            handle.write('\n')
        os.chmod(tmp, 0o600)
        shutil.chown(tmp, settings['user'], settings['group'])
        os.rename(tmp, settings['config_file'])
        return {'changed': True, 'part': part, 'kept_from_target': kept}
    raise BackupError('unknown part %s' % part)


def main(argv=None):
    parser = argparse.ArgumentParser(prog='mattermost-backup', description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--settings', default='/etc/mattermost/mattermost.backup.json')
    sub = parser.add_subparsers(dest='command')
    sub.required = True
    p_create = sub.add_parser('create')
    p_create.add_argument('--reason', default='manual')
    sub.add_parser('verify').add_argument('path')
    sub.add_parser('inspect-db')
    p_restore = sub.add_parser('restore')
    p_restore.add_argument('path')
    p_restore.add_argument('--part', choices=['db', 'files', 'config'], required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == 'verify':
            result = verify(args.path)
        else:
            settings = load_settings(args.settings)
            if args.command == 'create':
                result = create(settings, args.reason)
            elif args.command == 'inspect-db':
                result = {'changed': False, 'database': inspect_db(db_env(read_config(settings)))}
            else:
                result = restore(settings, args.path, args.part)
    except (BackupError, OSError) as exc:
        sys.stderr.write('mattermost-backup: %s\n' % exc)
        return 1
    sys.stdout.write(json.dumps(result, sort_keys=True) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
