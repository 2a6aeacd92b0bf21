#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: mattermost_database
short_description: Ensure the PostgreSQL role, database and schema Mattermost runs on, in one call
version_added: 0.3.0
description:
  - Makes on a PostgreSQL server what Mattermost needs to start, with one remote call where
    C(community.postgresql.postgresql_user), C(postgresql_db) and C(postgresql_schema) make three. That is a login
    role with the given password, a C(UTF8) database made from C(template0) and owned by that role, and the
    database's C(public) schema owned by it (PostgreSQL 15 took C(CREATE) on C(public) away from other roles).
  - Never drops, renames or empties anything. A database of another encoding is an error, reported before any
    change.
  - The password is compared with the role's stored SCRAM-SHA-256 or MD5 verifier (read from C(pg_authid), so the
    task runs as a superuser, usually C(become_user=postgres)) and set only when it does not match. A password
    with characters outside ASCII is compared as it is and in Unicode NFKC form, the part of SASLprep that
    applies to text; a password neither form matches is set again.
  - Connects over the local socket as the user the task runs as, like community.postgresql's modules without
    login options.
author:
  - chatops.mattermost maintainers (!UNKNOWN)
requirements: [psycopg2]
extends_documentation_fragment: [chatops.mattermost.attributes]
attributes:
  diff_mode:
    support: none
options:
  name:
    description: The database.
    type: str
    required: true
  owner:
    description: The login role that owns the database and its C(public) schema (Mattermost's user).
    type: str
    required: true
  password:
    description: The role's password. Never logged.
    type: str
    required: true
  login_unix_socket:
    description: Directory of the server's socket; libpq's default when empty.
    type: path
    default: ''
  port:
    description: The server's port (part of the socket's name).
    type: int
    default: 5432
"""

EXAMPLES = r"""
- name: Create the database role and database
  chatops.mattermost.mattermost_database:
    name: mattermost
    owner: mmuser
    password: "{{ mattermost_db_password }}"
  become: true
  become_user: postgres
"""

RETURN = r"""
action:
  description: V(none) when the role, database and schema were as wanted, V(create) when the role or the database
    was made, V(update) when only attributes changed.
  returned: always
  type: str
drift:
  description: What differed, in this order; V(role) (missing), V(login) (the role could not log in),
    V(password), V(database) (missing), V(owner) (of the database), V(schema) (the owner of C(public)).
  returned: always
  type: list
  elements: str
  sample: ["password"]
"""

import base64
import contextlib
import hashlib
import hmac
import re
import unicodedata

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    import psycopg2
    from psycopg2 import sql
    HAS_PSYCOPG2 = True
except ImportError:
    HAS_PSYCOPG2 = False

SCRAM = re.compile(r'^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$')
DRIFT_ORDER = ('role', 'login', 'password', 'database', 'owner', 'schema')


def password_forms(password):
    """The password as PostgreSQL may have hashed it: as given and, outside ASCII, in NFKC form."""
    forms = [password]
    normalized = unicodedata.normalize('NFKC', password)
    if normalized != password:
        forms.append(normalized)
    return forms


def password_matches(stored, password, role):
    """Whether ``stored`` (pg_authid.rolpassword) verifies ``password`` of ``role``."""
    if stored is None:
        return False
    scram = SCRAM.match(stored)
    if scram:
        iterations, salt = int(scram.group(1)), base64.b64decode(scram.group(2))
        server_key = base64.b64decode(scram.group(4))
        for form in password_forms(password):
            salted = hashlib.pbkdf2_hmac('sha256', form.encode('utf-8'), salt, iterations)
            if hmac.compare_digest(hmac.new(salted, b'Server Key', hashlib.sha256).digest(), server_key):
                return True
        return False
    if re.match(r'^md5[0-9a-f]{32}$', stored):
        wanted = 'md5' + hashlib.md5((password + role).encode('utf-8')).hexdigest()
        return hmac.compare_digest(stored, wanted)
    # A password stored as plain text (PostgreSQL before 10).
    return hmac.compare_digest(stored.encode('utf-8'), password.encode('utf-8'))


def drift_of(current, owner, password):
    """What differs between ``current`` (what read() found) and the wanted role, database and schema.

    ``current``: role (None or {'login': bool, 'password': str or None}), database (None or
    {'owner': str, 'encoding': str}) and schema_owner (None when the database is missing).
    """
    drift = []
    role = current['role']
    if role is None:
        drift.append('role')
    else:
        if not role['login']:
            drift.append('login')
        if not password_matches(role['password'], password, owner):
            drift.append('password')
    database = current['database']
    if database is None:
        drift += ['database', 'schema']
    else:
        if database['owner'] != owner:
            drift.append('owner')
        if current['schema_owner'] != owner:
            drift.append('schema')
    return drift


def encoding_problem(current, name):
    database = current['database']
    if database is not None and database['encoding'].upper() != 'UTF8':
        return ('mattermost_database: the database %s exists with encoding %s; Mattermost needs UTF8. Nothing was '
                'changed: move its data into a UTF8 database, or name another one.' % (name, database['encoding']))
    return None


def action_of(drift):
    if not drift:
        return 'none'
    return 'create' if 'role' in drift or 'database' in drift else 'update'


@contextlib.contextmanager
def cursor_on(params, database):
    """A cursor of an autocommit connection to ``database`` over the local socket, closed after."""
    kwargs = dict(dbname=database, port=params['port'])
    if params['login_unix_socket']:
        kwargs['host'] = params['login_unix_socket']
    connection = psycopg2.connect(**kwargs)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            yield cursor
    finally:
        connection.close()


def read(cursor, params):
    cursor.execute('SELECT rolcanlogin, rolpassword FROM pg_authid WHERE rolname = %s', (params['owner'],))
    row = cursor.fetchone()
    role = None if row is None else {'login': row[0], 'password': row[1]}
    cursor.execute('SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding) FROM pg_database WHERE datname = %s',
                   (params['name'],))
    row = cursor.fetchone()
    database = None if row is None else {'owner': row[0], 'encoding': row[1]}
    return dict(role=role, database=database, schema_owner=None)


def schema_owner(params):
    with cursor_on(params, params['name']) as cursor:
        cursor.execute("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'public'")
        row = cursor.fetchone()
    return None if row is None else row[0]


def apply(cursor, params, drift):
    role, name = sql.Identifier(params['owner']), sql.Identifier(params['name'])
    if 'role' in drift:
        cursor.execute(sql.SQL('CREATE ROLE {} LOGIN PASSWORD %s').format(role), (params['password'],))
    else:
        if 'login' in drift:
            cursor.execute(sql.SQL('ALTER ROLE {} LOGIN').format(role))
        if 'password' in drift:
            cursor.execute(sql.SQL('ALTER ROLE {} PASSWORD %s').format(role), (params['password'],))
    if 'database' in drift:
        cursor.execute(sql.SQL("CREATE DATABASE {} OWNER {} ENCODING 'UTF8' TEMPLATE template0").format(name, role))
    elif 'owner' in drift:
        cursor.execute(sql.SQL('ALTER DATABASE {} OWNER TO {}').format(name, role))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            owner=dict(type='str', required=True),
            password=dict(type='str', required=True, no_log=True),
            login_unix_socket=dict(type='path', default=''),
            port=dict(type='int', default=5432),
        ),
        supports_check_mode=True,
    )
    if not HAS_PSYCOPG2:
        module.fail_json(msg=missing_required_lib('psycopg2'))
    params = module.params
    try:
        with cursor_on(params, 'postgres') as cursor:
            current = read(cursor, params)
            if current['database'] is not None:
                current['schema_owner'] = schema_owner(params)
            problem = encoding_problem(current, params['name'])
            if problem:
                module.fail_json(msg=problem, action='none', drift=[])
            drift = drift_of(current, params['owner'], params['password'])
            if drift and not module.check_mode:
                apply(cursor, params, drift)
        # A database made just now has its public schema owned by pg_database_owner
        # (PostgreSQL 15) or the bootstrap superuser: it is given to the role from inside.
        if 'schema' in drift and not module.check_mode:
            with cursor_on(params, params['name']) as cursor:
                cursor.execute(sql.SQL('ALTER SCHEMA public OWNER TO {}').format(sql.Identifier(params['owner'])))
    except psycopg2.Error as err:
        module.fail_json(msg='mattermost_database: %s' % str(err).strip(), action='none', drift=[])
    module.exit_json(changed=bool(drift), action=action_of(drift), drift=drift)


if __name__ == '__main__':
    main()
