# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""chatops.mattermost.mattermost_database: its pure functions.

The verifiers are PostgreSQL 15's own (pg_authid.rolpassword after CREATE ROLE ... PASSWORD with
password_encryption scram-sha-256 or md5); the SQL runs in the molecule scenarios against a real server.
"""

import importlib

import pytest

SCRAM = ('SCRAM-SHA-256$4096:XmM2tnZH1f78bFKVvEOIsA==$5sUJIhhu9HA2zPHTNkCXGJAy82Pj+FH2RgGs9NgPWWM='
         ':J2ORFCDBzh6dYbKxPGNOytQyqaRodmpLENLRe1ExfDE=')          # 'correct horse', role t_scram
MD5 = 'md5c9130d65e2ba8605596ab6913dba8d9a'                          # 'correct horse', role t_md5
SCRAM_FULLWIDTH = ('SCRAM-SHA-256$4096:lDYWyf9oHejN2gPyW6KtTA==$TxHKb/b9QPqrovlo05GU1y6IUSvqoNuPK3J7rwifqyE='
                   ':dzGxTxogTppY08rLCjNvgY8nxUtbn7QvkumLH7RWDwg=')  # '\uff50\uff41\uff53\uff53' (fullwidth "pass")


@pytest.fixture
def code(collections_path):
    return importlib.import_module('ansible_collections.chatops.mattermost.plugins.modules.mattermost_database')


@pytest.mark.parametrize('stored, password, role, matches', [
    (SCRAM, 'correct horse', 't_scram', True),
    (SCRAM, 'correct horse ', 't_scram', False),
    (SCRAM, 'Correct horse', 't_scram', False),
    (MD5, 'correct horse', 't_md5', True),
    # MD5 verifiers are salted with the role's name.
    (MD5, 'correct horse', 'someone_else', False),
    (MD5, 'wrong', 't_md5', False),
    # PostgreSQL hashed SASLprep's (NFKC) form: the fullwidth letters and plain ASCII both verify.
    (SCRAM_FULLWIDTH, '\uff50\uff41\uff53\uff53', 't_uni', True),
    (SCRAM_FULLWIDTH, 'pass', 't_uni', True),
    (SCRAM_FULLWIDTH, 'pas', 't_uni', False),
    (None, 'anything', 'r', False),
    # Plain text, as PostgreSQL before 10 could keep it.
    ('correct horse', 'correct horse', 'r', True),
    ('correct horse', 'correct', 'r', False),
])
def test_password_matches(code, stored, password, role, matches):
    assert code.password_matches(stored, password, role) is matches


def state(role=True, login=True, password=SCRAM, database=True, owner='t_scram', encoding='UTF8', schema='t_scram'):
    return dict(role={'login': login, 'password': password} if role else None,
                database={'owner': owner, 'encoding': encoding} if database else None,
                schema_owner=schema if database else None)


@pytest.mark.parametrize('current, drift, action', [
    (state(), [], 'none'),
    (state(role=False, database=False), ['role', 'database', 'schema'], 'create'),
    (state(database=False), ['database', 'schema'], 'create'),
    (state(role=False), ['role'], 'create'),
    (state(login=False), ['login'], 'update'),
    (state(password=None), ['password'], 'update'),
    (state(password=MD5), ['password'], 'update'),
    (state(owner='postgres'), ['owner'], 'update'),
    # PostgreSQL 15 gives a new database's public schema to pg_database_owner.
    (state(schema='pg_database_owner'), ['schema'], 'update'),
    (state(login=False, password=None, owner='postgres', schema='postgres'), ['login', 'password', 'owner', 'schema'],
     'update'),
])
def test_drift_and_action(code, current, drift, action):
    found = code.drift_of(current, 't_scram', 'correct horse')
    assert found == drift
    assert [d for d in code.DRIFT_ORDER if d in found] == found
    assert code.action_of(found) == action


@pytest.mark.parametrize('encoding, refused', [('UTF8', False), ('utf8', False), ('SQL_ASCII', True), ('LATIN1', True)])
def test_encoding_problem(code, encoding, refused):
    problem = code.encoding_problem(state(encoding=encoding), 'mattermost')
    assert bool(problem) is refused
    if refused:
        assert 'mattermost' in problem and encoding in problem and 'Nothing was changed' in problem
    assert code.encoding_problem(state(database=False), 'mattermost') is None


@pytest.mark.parametrize('password, forms', [
    ('ascii only', ['ascii only']),
    ('\uff50ass', ['\uff50ass', 'pass']),
    ('caf\u00e9', ['caf\u00e9']),
])
def test_password_forms(code, password, forms):
    assert code.password_forms(password) == forms


def test_module_without_psycopg2_names_the_library(call_module, monkeypatch, code):
    monkeypatch.setattr(code, 'HAS_PSYCOPG2', False)
    run = call_module('mattermost_database', dict(name='mattermost', owner='mmuser', password='secret'))
    assert run.rc == 1 and 'psycopg2' in run['msg'] and 'secret' not in run.output


# ---------------------------------------------------------------- the module, against a stand-in server

class FakeSql(object):
    """psycopg2.sql as far as the module uses it: statements become text with quoted names."""

    class SQL(str):
        def format(self, *names):
            return str.format(self, *names)

    @staticmethod
    def Identifier(name):
        return '"%s"' % name


class FakeServer(object):
    """The catalogs the module reads, and every statement it sends, per database connected to."""

    Error = Exception

    def __init__(self, role=None, database=None, schema_owner=None):
        self.role, self.database, self.schema_owner = role, database, schema_owner
        self.sent = []

    def connect(self, dbname, port, host=None):
        server = self

        class Cursor(object):
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

            def execute(self, statement, args=()):
                server.sent.append((dbname, statement, args))
                self.row = None
                if 'FROM pg_authid' in statement:
                    self.row = server.role
                elif 'FROM pg_database' in statement:
                    self.row = server.database
                elif 'FROM pg_namespace' in statement:
                    self.row = (server.schema_owner,)

            def fetchone(self):
                return self.row

        class Connection(object):
            autocommit = False

            def cursor(self):
                return Cursor()

            def close(self):
                pass

        return Connection()

    def writes(self):
        return [(db, statement) for db, statement, args in self.sent if not statement.startswith('SELECT')]


ARGS = dict(name='mattermost', owner='t_scram', password='correct horse')


@pytest.fixture
def server(code, monkeypatch):
    def install(**catalogs):
        fake = FakeServer(**catalogs)
        monkeypatch.setattr(code, 'HAS_PSYCOPG2', True)
        monkeypatch.setattr(code, 'psycopg2', fake, raising=False)
        monkeypatch.setattr(code, 'sql', FakeSql, raising=False)
        return fake
    return install


def test_a_fresh_server_gets_role_database_and_schema(call_module, server):
    fake = server()
    run = call_module('mattermost_database', ARGS)
    assert run.rc == 0 and run['changed'] and run['action'] == 'create'
    assert run['drift'] == ['role', 'database', 'schema']
    assert fake.writes() == [
        ('postgres', 'CREATE ROLE "t_scram" LOGIN PASSWORD %s'),
        ('postgres', 'CREATE DATABASE "mattermost" OWNER "t_scram" ENCODING \'UTF8\' TEMPLATE template0'),
        ('mattermost', 'ALTER SCHEMA public OWNER TO "t_scram"'),
    ]
    assert 'correct horse' not in run.output


def test_a_converged_server_is_only_read(call_module, server):
    fake = server(role=(True, SCRAM), database=('t_scram', 'UTF8'), schema_owner='t_scram')
    run = call_module('mattermost_database', ARGS)
    assert run.rc == 0 and not run['changed'] and run['action'] == 'none' and run['drift'] == []
    assert fake.writes() == []


@pytest.mark.parametrize('check', [False, True])
def test_a_changed_password_and_owner_are_set_again(call_module, server, check):
    fake = server(role=(True, MD5), database=('postgres', 'UTF8'), schema_owner='t_scram')
    run = call_module('mattermost_database', ARGS, check=check)
    assert run['changed'] and run['action'] == 'update' and run['drift'] == ['password', 'owner']
    assert fake.writes() == ([] if check else [('postgres', 'ALTER ROLE "t_scram" PASSWORD %s'),
                                               ('postgres', 'ALTER DATABASE "mattermost" OWNER TO "t_scram"')])


def test_another_encoding_fails_before_any_change(call_module, server):
    fake = server(role=None, database=('t_scram', 'LATIN1'), schema_owner='t_scram')
    run = call_module('mattermost_database', ARGS)
    assert run.rc == 1 and 'LATIN1' in run['msg'] and fake.writes() == []
