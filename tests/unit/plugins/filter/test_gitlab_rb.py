# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The gitlab.rb filters (plugins/filter/gitlab_rb.py): parametrized cases of
realistic gitlab.rb, config.json and env input, and the Jinja the role ran
before (fixtures/old_jinja.yml) rendered with ansible's Templar on the same
input, equal where the behaviour must not change, different where a bug was
fixed."""

import base64
import copy
import importlib
import os

import pytest

from ansible.errors import AnsibleError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core before 2.19 templates every string
    def trust_as_template(value):
        return value

# The old Jinja's regular expressions in string literals warn on Python 3.12+.
pytestmark = pytest.mark.filterwarnings('ignore:invalid escape sequence:DeprecationWarning')

OLD_JINJA = os.path.join(os.path.dirname(__file__), 'fixtures', 'old_jinja.yml')
PREFIX = '# [moved to standalone Mattermost] '


@pytest.fixture(scope='module')
def f(collections_path):
    return importlib.import_module('ansible_collections.chatops.mattermost.plugins.filter.gitlab_rb')


# The old Jinja ------------------------------------------------------------------

def _trusted(value):
    if isinstance(value, dict):
        return dict((k, _trusted(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_trusted(v) for v in value]
    if isinstance(value, str):
        return trust_as_template(value)
    return value


@pytest.fixture(scope='module')
def old_vars():
    return _trusted(DataLoader().load_from_file(OLD_JINJA))


@pytest.fixture(scope='module')
def old(old_vars):
    """render(expression, **variables): the old Jinja's answer."""

    def render(expression, **variables):
        data = dict(old_vars)
        data.update(variables)
        return Templar(loader=DataLoader(), variables=data).template(trust_as_template(expression))

    return render


def src(gitlab_rb='', secrets=None, env=None, config=None, gitlab_version=''):
    return dict(gitlab_rb=gitlab_rb, secrets=secrets or {}, env=env or {}, config=config or {},
                gitlab_version=gitlab_version)


def old_rb_env(old, text):
    return old('{{ _mattermost_migrate_rb_env_json | from_json }}', _mattermost_migrate_src=src(gitlab_rb=text))


def old_commented(old, text):
    return old('{{ _mattermost_migrate_rb_commented }}', _mattermost_migrate_rb_text=text)


# gitlab.rb -> MM_* ---------------------------------------------------------------

GITLAB_17 = """\
## GitLab configuration settings
external_url 'https://gitlab.example.com'
gitlab_rails['mattermost_host'] = "https://chat.example.com"

################################################################################
## GitLab Mattermost
################################################################################
mattermost_external_url 'https://chat.example.com'
# mattermost['enable'] = false
mattermost['enable'] = true
mattermost['gitlab_enable'] = true
mattermost['gitlab_id'] = "4b1f0c"  # registered by hand
mattermost['gitlab_secret'] = 'gloas-secret'
mattermost['gitlab_scope'] = ""
mattermost['service_allowed_untrusted_internal_connections'] = "10.0.0.0/8"
mattermost['team_site_name'] = "Chat"
mattermost['email_smtp_port'] = 587
mattermost['uid'] = 996
mattermost_nginx['redirect_http_to_https'] = true
nginx['enable'] = true
"""

RB_ENV_CASES = {
    'package host, GitLab 17': (GITLAB_17, {
        'MM_SERVICESETTINGS_SITEURL': 'https://chat.example.com',
        'MM_GITLABSETTINGS_AUTHENDPOINT': 'https://gitlab.example.com/oauth/authorize',
        'MM_GITLABSETTINGS_TOKENENDPOINT': 'https://gitlab.example.com/oauth/token',
        'MM_GITLABSETTINGS_USERAPIENDPOINT': 'https://gitlab.example.com/api/v4/user',
        'MM_GITLABSETTINGS_ENABLE': 'true',
        'MM_GITLABSETTINGS_ID': '4b1f0c',
        'MM_GITLABSETTINGS_SECRET': 'gloas-secret',
        'MM_GITLABSETTINGS_SCOPE': '',
        'MM_SERVICESETTINGS_ALLOWEDUNTRUSTEDINTERNALCONNECTIONS': '10.0.0.0/8 gitlab.example.com',
        'MM_TEAMSETTINGS_SITENAME': 'Chat',
        'MM_EMAILSETTINGS_SMTPPORT': '587',
    }),
    'env hash on one line, two pairs, trailing comment': (
        "mattermost_external_url 'http://chat.test'\n"
        "mattermost['env'] = { 'MM_TEAMSETTINGS_MAXUSERSPERTEAM' => '77', \"MM_PLUGINSETTINGS_ENABLE\" => \"false\" } # ok\n",
        {'MM_SERVICESETTINGS_SITEURL': 'http://chat.test', 'MM_TEAMSETTINGS_MAXUSERSPERTEAM': '77',
         'MM_PLUGINSETTINGS_ENABLE': 'false'}),
    'env hash on several lines with comments and the other quote in a value': (
        "mattermost['env'] = {\n"
        "  'MM_TEAMSETTINGS_SITENAME' => \"Bob's chat\",   # the team's name\n"
        "  # 'MM_LOGSETTINGS_CONSOLELEVEL' => 'DEBUG',\n"
        "  'MM_SERVICESETTINGS_ENABLEPOSTUSERNAMEOVERRIDE' => true,\n"
        "  'MM_SQLSETTINGS_DATASOURCE' => 'postgres://u:p#w(@db/mm',\n"
        "  'MM_FILESETTINGS_MAXFILESIZE' => 104857600\n"
        "}\n",
        {'MM_TEAMSETTINGS_SITENAME': "Bob's chat", 'MM_SERVICESETTINGS_ENABLEPOSTUSERNAMEOVERRIDE': 'true',
         'MM_SQLSETTINGS_DATASOURCE': 'postgres://u:p#w(@db/mm', 'MM_FILESETTINGS_MAXFILESIZE': '104857600'}),
    'env pairs win over settings; one env key set alone': (
        "mattermost['service_site_url'] = 'https://a.test'\n"
        "mattermost['env'] = {'MM_SERVICESETTINGS_SITEURL' => 'https://b.test'}\n"
        "mattermost['env']['MM_TEAMSETTINGS_SITENAME'] = 'Alone'\n",
        {'MM_SERVICESETTINGS_SITEURL': 'https://b.test', 'MM_TEAMSETTINGS_SITENAME': 'Alone'}),
    'everything commented out': (
        "# external_url 'https://gitlab.example.com'\n# mattermost_external_url 'https://chat.example.com'\n"
        "# mattermost['gitlab_id'] = 'x'\n#mattermost['env'] = {\n#  'MM_A' => 'b'\n# }\n", {}),
    'parenthesised URL, puma elsewhere, an endpoint set by hand': (
        "external_url('https://gitlab.example.com/')\nmattermost_external_url('https://chat.example.com')\n"
        "puma['enable'] = false\nmattermost['gitlab_auth_endpoint'] = 'https://sso.example.com/oauth/authorize'\n",
        {'MM_SERVICESETTINGS_SITEURL': 'https://chat.example.com',
         'MM_GITLABSETTINGS_AUTHENDPOINT': 'https://sso.example.com/oauth/authorize',
         'MM_GITLABSETTINGS_TOKENENDPOINT': 'https://gitlab.example.com/oauth/token',
         'MM_GITLABSETTINGS_USERAPIENDPOINT': 'https://gitlab.example.com/api/v4/user'}),
    'GitLab on a port and a user name in its URL': (
        "external_url 'http://root@gitlab.internal:8080'\nmattermost_external_url 'http://chat.internal'\n",
        {'MM_SERVICESETTINGS_SITEURL': 'http://chat.internal',
         'MM_GITLABSETTINGS_AUTHENDPOINT': 'http://root@gitlab.internal:8080/oauth/authorize',
         'MM_GITLABSETTINGS_TOKENENDPOINT': 'http://root@gitlab.internal:8080/oauth/token',
         'MM_GITLABSETTINGS_USERAPIENDPOINT': 'http://root@gitlab.internal:8080/api/v4/user',
         'MM_SERVICESETTINGS_ALLOWEDUNTRUSTEDINTERNALCONNECTIONS': 'gitlab.internal'}),
    # GitLab 19.0: mattermost_external_url already commented out; the id and
    # secret in gitlab-secrets.json still need GitLab's endpoints.
    'GitLab alone (no mattermost_external_url) derives the endpoints and the allowed host': (
        "external_url 'https://gitlab.example.com'\ngitlab_rails['mattermost_host'] = 'https://chat.example.com'\n",
        {'MM_GITLABSETTINGS_AUTHENDPOINT': 'https://gitlab.example.com/oauth/authorize',
         'MM_GITLABSETTINGS_TOKENENDPOINT': 'https://gitlab.example.com/oauth/token',
         'MM_GITLABSETTINGS_USERAPIENDPOINT': 'https://gitlab.example.com/api/v4/user',
         'MM_SERVICESETTINGS_ALLOWEDUNTRUSTEDINTERNALCONNECTIONS': 'gitlab.example.com'}),
    'escapes read, interpolation and expressions left out': (
        "mattermost['gitlab_secret'] = 'it\\'s'\nmattermost['gitlab_id'] = \"#{ENV['ID']}\"\n"
        "mattermost['team_site_name'] = 'a' + 'b'\nmattermost['email_smtp_username'] = \"tab\\there\"\n"
        "mattermost['sql_max_idle_conns'] = nil\n",
        {'MM_GITLABSETTINGS_SECRET': "it's", 'MM_EMAILSETTINGS_SMTPUSERNAME': 'tab\there'}),
    'a value on the next line': (
        "mattermost['service_allowed_untrusted_internal_connections'] =\n  '192.168.0.0/16'\n",
        {'MM_SERVICESETTINGS_ALLOWEDUNTRUSTEDINTERNALCONNECTIONS': '192.168.0.0/16'}),
    'MM_* pairs outside mattermost[env] do not count': (
        "gitlab_rails['env'] = {'MM_SERVICESETTINGS_SITEURL' => 'https://wrong.test'}\n", {}),
    'empty': ('', {}),
}


@pytest.mark.parametrize('text, expected', list(RB_ENV_CASES.values()), ids=list(RB_ENV_CASES))
def test_gitlab_rb_mattermost_env(f, text, expected):
    assert f.gitlab_rb_mattermost_env(text) == expected


def test_gitlab_rb_mattermost_env_refuses_what_is_not_text(f):
    with pytest.raises(AnsibleError):
        f.gitlab_rb_mattermost_env({'not': 'text'})
    assert f.gitlab_rb_mattermost_env(None) == {}


# Inputs where the old regular expressions and the new reader must agree:
# no GitLab external_url (the old Jinja did not derive the endpoints), at most
# one MM_* pair per line, no escapes.
RB_SAME = {
    'package template': (
        "## GitLab Mattermost\n"
        "gitlab_rails['mattermost_host'] = \"https://chat.example.com\"\n"
        "mattermost_external_url 'https://chat.example.com'\n"
        "# mattermost_external_url 'https://old.example.com'\n"
        "# mattermost['enable'] = false\n"
        "mattermost['enable'] = true\n"
        "mattermost[\"gitlab_enable\"] = true\n"
        "mattermost['gitlab_id'] = \"4b1f0c\"  # by hand\n"
        "mattermost['gitlab_secret'] = 'gloas-secret'\n"
        "mattermost['gitlab_scope'] = ''\n"
        "mattermost['email_smtp_port'] = 587\n"
        "mattermost['email_enable_smtp_auth'] = false\n"
        "mattermost['foo_bar'] = 'unknown prefix'\n"
        "mattermost['uid'] = 996\n"
        "mattermost['env'] = {\n"
        "  'MM_TEAMSETTINGS_MAXUSERSPERTEAM' => '77',\n"
        "  # 'MM_LOGSETTINGS_CONSOLELEVEL' => 'DEBUG',\n"
        "  \"MM_PLUGINSETTINGS_ENABLE\" => \"false\"\n"
        "}\n"
        "mattermost_nginx['redirect_http_to_https'] = true\n"
        "mattermost_nginx['listen_port'] = 80\n"),
    'env wins over settings': (
        "mattermost['service_site_url'] = 'https://a.test'\n"
        "mattermost['env'] = {'MM_SERVICESETTINGS_SITEURL' => 'https://b.test'}\n"),
    'last mattermost_external_url wins': (
        "mattermost_external_url 'https://one.test'\nmattermost_external_url \"https://two.test\"\n"),
    'commented only': "# mattermost['gitlab_id'] = 'x'\n#  'MM_A' => 'b'\n",
    'empty': '',
}


@pytest.mark.parametrize('text', list(RB_SAME.values()), ids=list(RB_SAME))
def test_gitlab_rb_mattermost_env_as_the_old_jinja(f, old, text):
    assert f.gitlab_rb_mattermost_env(text) == old_rb_env(old, text)


# Where the old regular expressions were wrong: (text, old answer, new answer).
RB_FIXED = {
    'second pair of a one-line hash was lost': (
        "mattermost['env'] = {'MM_A_B' => '1', 'MM_C_D' => '2'}\n",
        {'MM_A_B': '1'}, {'MM_A_B': '1', 'MM_C_D': '2'}),
    'a value with the other quote was cut': (
        "mattermost['env'] = {\n  'MM_TEAMSETTINGS_SITENAME' => \"Bob's\"\n}\n",
        {'MM_TEAMSETTINGS_SITENAME': 'Bob'}, {'MM_TEAMSETTINGS_SITENAME': "Bob's"}),
    'pairs of another hash were taken': (
        "gitlab_rails['env'] = {\n  'MM_SERVICESETTINGS_SITEURL' => 'https://wrong.test'\n}\n",
        {'MM_SERVICESETTINGS_SITEURL': 'https://wrong.test'}, {}),
    'endpoints from GitLab external_url were missing': (
        "external_url 'https://gitlab.test'\nmattermost_external_url 'https://chat.test'\n",
        {'MM_SERVICESETTINGS_SITEURL': 'https://chat.test'},
        {'MM_SERVICESETTINGS_SITEURL': 'https://chat.test',
         'MM_GITLABSETTINGS_AUTHENDPOINT': 'https://gitlab.test/oauth/authorize',
         'MM_GITLABSETTINGS_TOKENENDPOINT': 'https://gitlab.test/oauth/token',
         'MM_GITLABSETTINGS_USERAPIENDPOINT': 'https://gitlab.test/api/v4/user',
         'MM_SERVICESETTINGS_ALLOWEDUNTRUSTEDINTERNALCONNECTIONS': 'gitlab.test'}),
}


@pytest.mark.parametrize('text, was, now', list(RB_FIXED.values()), ids=list(RB_FIXED))
def test_gitlab_rb_mattermost_env_fixed(f, old, text, was, now):
    assert old_rb_env(old, text) == was
    assert f.gitlab_rb_mattermost_env(text) == now


# gitlab-secrets.json ---------------------------------------------------------------

SALTS = {'sql_at_rest_encrypt_key': 'k' * 32, 'file_public_link_salt': 's' * 32, 'email_invite_salt': 'i' * 32}
SALTS_ENV = {'MM_SQLSETTINGS_ATRESTENCRYPTKEY': 'k' * 32, 'MM_FILESETTINGS_PUBLICLINKSALT': 's' * 32,
             'MM_EMAILSETTINGS_INVITESALT': 'i' * 32}

SECRETS_CASES = {
    'GitLab 18, SSO registered by the package': (
        dict(SALTS, gitlab_enable=True, gitlab_id='4b1f0c', gitlab_secret='gloas-x', register_as_oauth_app=False),
        dict(SALTS_ENV, MM_GITLABSETTINGS_ENABLE='true', MM_GITLABSETTINGS_ID='4b1f0c',
             MM_GITLABSETTINGS_SECRET='gloas-x')),
    'old release with scope and endpoints': (
        dict(SALTS, gitlab_enable=True, gitlab_id='a', gitlab_secret='b', gitlab_scope='',
             gitlab_auth_endpoint='http://g/oauth/authorize', gitlab_token_endpoint='http://g/oauth/token',
             gitlab_user_api_endpoint='http://g/api/v4/user', email_password_reset_salt='r'),
        dict(SALTS_ENV, MM_GITLABSETTINGS_ENABLE='true', MM_GITLABSETTINGS_ID='a', MM_GITLABSETTINGS_SECRET='b',
             MM_GITLABSETTINGS_AUTHENDPOINT='http://g/oauth/authorize',
             MM_GITLABSETTINGS_TOKENENDPOINT='http://g/oauth/token',
             MM_GITLABSETTINGS_USERAPIENDPOINT='http://g/api/v4/user')),
    'salts only': (dict(SALTS), dict(SALTS_ENV)),
    'empty and null values': ({'sql_at_rest_encrypt_key': '', 'gitlab_id': None}, {}),
    'no section': (None, {}),
}


@pytest.mark.parametrize('section, expected', list(SECRETS_CASES.values()), ids=list(SECRETS_CASES))
def test_gitlab_secrets_mattermost_env(f, section, expected):
    assert f.gitlab_secrets_mattermost_env(section) == expected


@pytest.mark.parametrize('section', [dict(SALTS), {'file_public_link_salt': 'x', 'sql_at_rest_encrypt_key': ''}, {}],
                         ids=['salts', 'one empty', 'empty'])
def test_gitlab_secrets_mattermost_env_as_the_old_jinja(f, old, section):
    was = old('{{ _mattermost_migrate_secrets_env }}', _mattermost_migrate_src=src(secrets=section))
    assert f.gitlab_secrets_mattermost_env(section) == was


def test_gitlab_secrets_mattermost_env_fixed(f, old):
    """Issue 13 item 5: GitLab 19.0 installed first keeps the application only in gitlab-secrets.json."""
    section = dict(SALTS, gitlab_enable=True, gitlab_id='4b1f0c', gitlab_secret='gloas-x')
    was = old('{{ _mattermost_migrate_secrets_env }}', _mattermost_migrate_src=src(secrets=section))
    assert 'MM_GITLABSETTINGS_ID' not in was
    now = f.gitlab_secrets_mattermost_env(section)
    assert now['MM_GITLABSETTINGS_ID'] == '4b1f0c' and now['MM_GITLABSETTINGS_SECRET'] == 'gloas-x'


def test_gitlab_secrets_mattermost_env_refuses_a_list(f):
    with pytest.raises(AnsibleError):
        f.gitlab_secrets_mattermost_env(['x'])


# The env directory -------------------------------------------------------------------

ENVDIR = {
    'MM_SERVICESETTINGS_SITEURL': 'https://chat.example.com\n',
    'MM_GITLABSETTINGS_SECRET': 'gloas-x \t\nsecond line\n',
    'MM_GITLABSETTINGS_SCOPE': '',
    'MM_TEAMSETTINGS_SITENAME': 'GitLab Mattermost',
    'MM_EMAILSETTINGS_SMTPSERVER': 'smtp.example.com\r\n',
}


def test_mattermost_envdir(f):
    assert f.mattermost_envdir(ENVDIR) == {
        'MM_SERVICESETTINGS_SITEURL': 'https://chat.example.com', 'MM_GITLABSETTINGS_SECRET': 'gloas-x',
        'MM_GITLABSETTINGS_SCOPE': '', 'MM_TEAMSETTINGS_SITENAME': 'GitLab Mattermost',
        'MM_EMAILSETTINGS_SMTPSERVER': 'smtp.example.com'}
    assert f.mattermost_envdir(None) == {}


def test_mattermost_envdir_as_the_old_jinja(f, old):
    results = [dict(item=dict(path='/opt/gitlab/etc/mattermost/env/' + name),
                    content=base64.b64encode(text.encode()).decode()) for name, text in sorted(ENVDIR.items())]
    results.append(dict(item=dict(path='/opt/gitlab/etc/mattermost/env/UNREADABLE'), failed=True))
    was = old('{{ _old_env_pairs | from_json }}', _mattermost_migrate_env_raw=dict(results=results))
    assert f.mattermost_envdir(ENVDIR) == was


# The overlay ---------------------------------------------------------------------------

CONFIG = {
    'ServiceSettings': {'SiteURL': '', 'ListenAddress': ':8065', 'EnableIncomingWebhooks': True,
                        'MaximumLoginAttempts': 10, 'AllowCorsFrom': '', 'TrustedProxyIPHeader': ['X-Forwarded-For'],
                        'AllowedUntrustedInternalConnections': ''},
    'TeamSettings': {'SiteName': 'Mattermost', 'MaxUsersPerTeam': 50},
    'SqlSettings': {'DriverName': 'postgres', 'DataSource': 'postgres://x', 'AtRestEncryptKey': ''},
    'GitLabSettings': {'Enable': False, 'Secret': '', 'Id': '', 'Scope': '', 'AuthEndpoint': '',
                       'TokenEndpoint': '', 'UserAPIEndpoint': ''},
    'PluginSettings': {'Enable': True, 'Plugins': {'com.mattermost.x': {}}, 'Directory': './plugins'},
    'EmailSettings': {'SMTPServer': '', 'SMTPPort': '10025', 'EnableSMTPAuth': False},
    'RateLimitSettings': None,
}
KNOWN_KEYS = {
    'MM_SERVICESETTINGS_SITEURL': ['ServiceSettings', 'SiteURL', 'str'],
    'MM_GITLABSETTINGS_ENABLE': ['GitLabSettings', 'Enable', 'bool'],
    'MM_GITLABSETTINGS_ID': ['GitLabSettings', 'Id', 'str'],
    'MM_GITLABSETTINGS_SECRET': ['GitLabSettings', 'Secret', 'str'],
    'MM_EMAILSETTINGS_SMTPSERVERTIMEOUT': ['EmailSettings', 'SMTPServerTimeout', 'int'],
    'MM_EMAILSETTINGS_SENDEMAILNOTIFICATIONS': ['EmailSettings', 'SendEmailNotifications', 'bool'],
}
REPLACED = ['SqlSettings.DriverName', 'SqlSettings.DataSource', 'ServiceSettings.ListenAddress',
            'PluginSettings.Directory']
ENV = {
    'MM_SERVICESETTINGS_SITEURL': 'https://chat.example.com',
    'MM_SERVICESETTINGS_LISTENADDRESS': '127.0.0.1:8065',
    'MM_SERVICESETTINGS_ENABLEINCOMINGWEBHOOKS': 'F',
    'MM_SERVICESETTINGS_MAXIMUMLOGINATTEMPTS': '5',
    'MM_SERVICESETTINGS_TRUSTEDPROXYIPHEADER': 'X-Real-IP  X-Forwarded-For',
    'MM_SERVICESETTINGS_ALLOWEDUNTRUSTEDINTERNALCONNECTIONS': ' gitlab.example.com',
    'MM_TEAMSETTINGS_MAXUSERSPERTEAM': '77.9',
    'MM_TEAMSETTINGS_SITENAME': 'GitLab Mattermost',
    'MM_SQLSETTINGS_DATASOURCE': 'user=gitlab_mattermost host=/var/opt/gitlab/postgresql',
    'MM_SQLSETTINGS_ATRESTENCRYPTKEY': 'k' * 32,
    'MM_GITLABSETTINGS_ENABLE': 'true',
    'MM_GITLABSETTINGS_ID': '4b1f0c',
    'MM_GITLABSETTINGS_SECRET': 'gloas-x',
    'MM_GITLABSETTINGS_SCOPE': '',
    'MM_PLUGINSETTINGS_PLUGINS': '{}',
    'MM_PLUGINSETTINGS_DIRECTORY': '/var/opt/gitlab/mattermost/plugins',
    'MM_EMAILSETTINGS_SMTPSERVERTIMEOUT': 'ten',
    'MM_EMAILSETTINGS_SENDEMAILNOTIFICATIONS': '1',
    'MM_EMAILSETTINGS_INVITESALT': 'i' * 32,
    'MM_RATELIMITSETTINGS_ENABLE': 'true',
    'MM_INSTALL_TYPE': 'gitlab_omnibus',
    'mm_teamsettings_sitename': 'lower case',
    'SSL_CERT_DIR': '/opt/gitlab/embedded/ssl/certs/',
}

OVERLAY_CASES = {
    'package environment over a started config.json': (CONFIG, ENV),
    'never started: no config.json': ({}, ENV),
    'no environment': (CONFIG, {}),
}


def test_mattermost_env_overlay(f):
    result = f.mattermost_env_overlay(CONFIG, ENV, KNOWN_KEYS, REPLACED)
    assert result['overlay'] == {
        'ServiceSettings': {'SiteURL': 'https://chat.example.com', 'EnableIncomingWebhooks': False,
                            'MaximumLoginAttempts': 5, 'TrustedProxyIPHeader': ['X-Real-IP', 'X-Forwarded-For'],
                            'AllowedUntrustedInternalConnections': ' gitlab.example.com'},
        'TeamSettings': {'MaxUsersPerTeam': 77, 'SiteName': 'GitLab Mattermost'},
        'SqlSettings': {'AtRestEncryptKey': 'k' * 32},
        'GitLabSettings': {'Enable': True, 'Id': '4b1f0c', 'Secret': 'gloas-x', 'Scope': ''},
        'EmailSettings': {'SMTPServerTimeout': 0, 'SendEmailNotifications': True},
    }
    assert result['replaced'] == ['MM_PLUGINSETTINGS_DIRECTORY', 'MM_SERVICESETTINGS_LISTENADDRESS',
                                  'MM_SQLSETTINGS_DATASOURCE']
    assert result['skipped'] == ['MM_EMAILSETTINGS_INVITESALT', 'MM_INSTALL_TYPE', 'MM_PLUGINSETTINGS_PLUGINS',
                                 'MM_RATELIMITSETTINGS_ENABLE', 'mm_teamsettings_sitename', 'SSL_CERT_DIR']
    assert result['carried'] == sorted(result['carried'], key=str.lower)
    effective = result['effective']
    assert effective['ServiceSettings']['ListenAddress'] == ':8065'
    assert effective['PluginSettings'] == CONFIG['PluginSettings']
    assert effective['TeamSettings'] == {'SiteName': 'GitLab Mattermost', 'MaxUsersPerTeam': 77}
    assert effective['RateLimitSettings'] is None
    assert CONFIG['TeamSettings']['SiteName'] == 'Mattermost', 'the input is not changed'


@pytest.mark.parametrize('config, env', list(OVERLAY_CASES.values()), ids=list(OVERLAY_CASES))
def test_mattermost_env_overlay_as_the_old_jinja(f, old, old_vars, config, env):
    variables = dict(_mattermost_migrate_src=src(config=copy.deepcopy(config), env=env))
    was = old('{{ _mattermost_migrate_overlay_json | from_json }}', **variables)
    was_effective = old('{{ _old_effective }}', _mattermost_migrate_overlay=was, **variables)
    now = f.mattermost_env_overlay(config, env, old_vars['_mattermost_migrate_known_keys'],
                                   old_vars['_mattermost_migrate_replaced_keys'])
    assert dict((k, now[k]) for k in ('overlay', 'carried', 'replaced', 'skipped')) == was
    assert now['effective'] == was_effective


def test_mattermost_env_overlay_not_an_object(f):
    result = f.mattermost_env_overlay([], {'MM_SERVICESETTINGS_SITEURL': 'https://x'},
                                      {'MM_SERVICESETTINGS_SITEURL': ['ServiceSettings', 'SiteURL', 'str']})
    assert result['effective'] == {'ServiceSettings': {'SiteURL': 'https://x'}}


# The whole chain: what the bundled Mattermost saw, old and new, from what
# source.yml read (config.json < gitlab-secrets.json < gitlab.rb < env directory).
CHAIN_CASES = {
    'env directory present (GitLab 17/18)': src(
        config=CONFIG, env={'MM_SERVICESETTINGS_SITEURL': 'https://chat.example.com', 'MM_GITLABSETTINGS_ID': 'env'},
        secrets=dict(SALTS), gitlab_rb=RB_SAME['package template']),
    'env directory gone, gitlab.rb read': src(config=CONFIG, secrets=dict(SALTS), gitlab_rb=RB_SAME['package template']),
    'nothing but config.json': src(config=CONFIG),
}


@pytest.mark.parametrize('source', list(CHAIN_CASES.values()), ids=list(CHAIN_CASES))
def test_what_mattermost_saw_as_the_old_jinja(f, old, old_vars, source):
    was = old('{{ _mattermost_migrate_overlay_json | from_json }}', _mattermost_migrate_src=source)
    env = dict(f.gitlab_secrets_mattermost_env(source['secrets']))
    if not source['env']:
        env.update(f.gitlab_rb_mattermost_env(source['gitlab_rb']))
    env.update(source['env'])
    now = f.mattermost_env_overlay(source['config'], env, old_vars['_mattermost_migrate_known_keys'],
                                   old_vars['_mattermost_migrate_replaced_keys'])
    assert dict((k, now[k]) for k in ('overlay', 'carried', 'replaced', 'skipped')) == was


def test_gitlab_19_installed_first(f, old_vars):
    """No env directory, no gitlab_id in gitlab.rb: the application comes from gitlab-secrets.json, the
    endpoints from external_url, and gitlab.rb and the env directory still win over gitlab-secrets.json."""
    rb = ("external_url 'https://gitlab.example.com'\nmattermost_external_url 'https://chat.example.com'\n"
          "mattermost['gitlab_secret'] = 'from-gitlab-rb'\n")
    secrets = dict(SALTS, gitlab_enable=True, gitlab_id='4b1f0c', gitlab_secret='from-secrets')
    env = dict(f.gitlab_secrets_mattermost_env(secrets))
    env.update(f.gitlab_rb_mattermost_env(rb))
    gitlab = f.mattermost_env_overlay(CONFIG, env, old_vars['_mattermost_migrate_known_keys'],
                                      old_vars['_mattermost_migrate_replaced_keys'])['effective']['GitLabSettings']
    assert gitlab == {'Enable': True, 'Id': '4b1f0c', 'Secret': 'from-gitlab-rb', 'Scope': '',
                      'AuthEndpoint': 'https://gitlab.example.com/oauth/authorize',
                      'TokenEndpoint': 'https://gitlab.example.com/oauth/token',
                      'UserAPIEndpoint': 'https://gitlab.example.com/api/v4/user'}


# The gitlab.rb mode ----------------------------------------------------------------------

MODE_CASES = [
    ('auto', '16.11.10', 'disable'),
    ('auto', '17.11.4', 'disable'),
    ('auto', '18.11.3', 'disable'),
    ('auto', '19.0.1', 'comment'),
    ('auto', '19.2.0-ee', 'comment'),
    ('auto', '20.0', 'comment'),
    ('auto', 'v19.0', 'comment'),
    ('auto', '19', 'comment'),
    ('auto', '', 'disable'),
    ('auto', None, 'disable'),
    (None, '19.0.0', 'comment'),
    ('disable', '19.0.1', 'disable'),
    ('comment', '17.11.4', 'comment'),
    ('none', '19.0.1', 'none'),
    ('none', '', 'none'),
]


@pytest.mark.parametrize('mode, version, expected', MODE_CASES)
def test_gitlab_rb_mode(f, mode, version, expected):
    assert f.gitlab_rb_mode(mode, version) == expected


@pytest.mark.parametrize('mode, version', [('Comment', ''), ('off', '19.0'), ('auto', 'latest')])
def test_gitlab_rb_mode_refuses(f, mode, version):
    with pytest.raises(AnsibleError):
        f.gitlab_rb_mode(mode, version)


@pytest.mark.parametrize('mode, override, manifest', [
    ('auto', '', '17.11.4'), ('auto', '', '18.11.3'), ('auto', '', '19.0.1'), ('auto', '', ''),
    ('auto', '19.0.0', '18.11.3'), ('auto', '18.11.3', '19.0.1'), ('auto', '20.1.0-ee', ''),
    ('disable', '', '19.0.1'), ('comment', '', '17.11.4'), ('none', '19.0.0', '19.0.0')])
def test_gitlab_rb_mode_as_switch_off_decided(f, old, mode, override, manifest):
    was = old('{{ _mattermost_migrate_rb_mode | trim }}', mattermost_migrate_gitlab_rb_mode=mode,
              mattermost_migrate_gitlab_version=override,
              _mattermost_migrate_source=dict(gitlab_version=manifest))
    assert f.gitlab_rb_mode(mode, override or manifest) == was


def test_the_plan_used_to_ignore_mattermost_migrate_gitlab_version(f, old):
    """tasks/plan.yml read only the manifest's version, tasks/switch_off.yml took
    mattermost_migrate_gitlab_version first: with 19.0.0 set by hand on an 18
    manifest the plan said disable and play 4 commented. Both now use gitlab_rb_mode
    on the same version."""
    variables = dict(mattermost_migrate_gitlab_rb_mode='auto', mattermost_migrate_gitlab_version='19.0.0',
                     _mattermost_migrate_source=dict(gitlab_version='18.11.3'),
                     _src=dict(gitlab_version='18.11.3'))
    assert old('{{ _old_plan_rb_mode | trim }}', **variables) == 'disable'
    assert old('{{ _mattermost_migrate_rb_mode | trim }}', **variables) == 'comment'
    assert f.gitlab_rb_mode('auto', '19.0.0') == 'comment'


def test_gitlab_rb_mode_19_without_minor_was_read_as_older(f, old):
    was = old('{{ _mattermost_migrate_rb_mode | trim }}', mattermost_migrate_gitlab_rb_mode='auto',
              mattermost_migrate_gitlab_version='19', _mattermost_migrate_source={})
    assert was == 'disable'
    assert f.gitlab_rb_mode('auto', '19') == 'comment'


# Commenting gitlab.rb --------------------------------------------------------------------

MOLECULE_RB = """\
## GitLab configuration settings (test copy)
external_url 'http://gitlab.test'
gitlab_rails['mattermost_host'] = "https://mattermost.test"

################################################################################
## GitLab Mattermost
################################################################################
mattermost_external_url 'https://mattermost.test'
# mattermost['enable'] = false
mattermost['enable'] = true
mattermost['uid'] = 999
mattermost['gid'] = 999
mattermost['gitlab_enable'] = true
mattermost['gitlab_id'] = "app-id"
mattermost['gitlab_secret'] = "app-secret"
mattermost['env'] = {
  'MM_TEAMSETTINGS_MAXUSERSPERTEAM' => '77',
  'MM_PLUGINSETTINGS_ENABLE' => 'false'
}
mattermost_nginx['redirect_http_to_https'] = true

nginx['enable'] = true
"""

MOLECULE_RB_COMMENTED = """\
## GitLab configuration settings (test copy)
external_url 'http://gitlab.test'
gitlab_rails['mattermost_host'] = "https://mattermost.test"

################################################################################
## GitLab Mattermost
################################################################################
{p}mattermost_external_url 'https://mattermost.test'
# mattermost['enable'] = false
{p}mattermost['enable'] = true
{p}mattermost['uid'] = 999
{p}mattermost['gid'] = 999
{p}mattermost['gitlab_enable'] = true
{p}mattermost['gitlab_id'] = "app-id"
{p}mattermost['gitlab_secret'] = "app-secret"
{p}mattermost['env'] = {{
{p}  'MM_TEAMSETTINGS_MAXUSERSPERTEAM' => '77',
{p}  'MM_PLUGINSETTINGS_ENABLE' => 'false'
{p}}}
{p}mattermost_nginx['redirect_http_to_https'] = true

nginx['enable'] = true
""".format(p=PREFIX)

COMMENT_CASES = {
    'the molecule scenario': (MOLECULE_RB, MOLECULE_RB_COMMENTED),
    'one-line hash with a trailing comment': (
        "mattermost['env'] = {'MM_A_B' => '1', 'MM_C_D' => '2'} # two\nnginx['enable'] = true\n",
        PREFIX + "mattermost['env'] = {'MM_A_B' => '1', 'MM_C_D' => '2'} # two\nnginx['enable'] = true\n"),
    'array over lines, value on the next line, spaces before the bracket': (
        "mattermost_nginx['listen_addresses'] = [\n  '0.0.0.0', # v4\n  '[::]'\n]\n"
        "mattermost ['service_allowed_untrusted_internal_connections'] =\n  'gitlab.test'\n"
        "letsencrypt['enable'] = true\n",
        PREFIX + "mattermost_nginx['listen_addresses'] = [\n" + PREFIX + "  '0.0.0.0', # v4\n"
        + PREFIX + "  '[::]'\n" + PREFIX + "]\n" + PREFIX + "mattermost ['service_allowed_untrusted_internal_connections'] =\n"
        + PREFIX + "  'gitlab.test'\nletsencrypt['enable'] = true\n"),
    'indented, CRLF, no newline at the end': (
        "  mattermost_external_url 'https://chat.test'\r\ngitlab_rails['time_zone'] = 'UTC'\r\nmattermost['enable'] = true",
        PREFIX + "  mattermost_external_url 'https://chat.test'\r\ngitlab_rails['time_zone'] = 'UTC'\r\n"
        + PREFIX + "mattermost['enable'] = true"),
    'nothing for Mattermost': ("external_url 'https://gitlab.test'\n# mattermost['enable'] = false\n",
                               "external_url 'https://gitlab.test'\n# mattermost['enable'] = false\n"),
    'empty': ('', ''),
}


@pytest.mark.parametrize('text, expected', list(COMMENT_CASES.values()), ids=list(COMMENT_CASES))
def test_gitlab_rb_comment_mattermost(f, text, expected):
    commented = f.gitlab_rb_comment_mattermost(text)
    assert commented == expected
    assert f.gitlab_rb_comment_mattermost(commented) == commented, 'a second pass changes nothing'


@pytest.mark.parametrize('text', [case[0] for case in COMMENT_CASES.values()], ids=list(COMMENT_CASES))
def test_gitlab_rb_comment_mattermost_as_the_old_jinja(f, old, text):
    assert f.gitlab_rb_comment_mattermost(text) == old_commented(old, text)


def test_gitlab_rb_comment_mattermost_prefix(f):
    assert f.gitlab_rb_comment_mattermost("mattermost['enable'] = true\n", '#') == "#mattermost['enable'] = true\n"


# Where the old bracket count ran on into GitLab's own settings: (text, lines the old
# Jinja commented, lines commented now).
COMMENT_FIXED = {
    'a bracket in a string': (
        "mattermost['team_site_name'] = \"Chat :-(\"\n"
        "nginx['enable'] = true\ngitlab_rails['mattermost_host'] = 'https://chat.test'\n", 4, 1),
    'a # and a bracket in a string': (
        "mattermost['env'] = {'MM_SQLSETTINGS_DATASOURCE' => 'postgres://u:p#w@db/mm'}\n"
        "external_url 'https://gitlab.test'\n", 3, 1),
    'a string over two lines': (
        "mattermost['team_site_name'] = \"Chat\n[staging]\"\nexternal_url 'https://gitlab.test'\n", 1, 2),
}


@pytest.mark.parametrize('text, was, now', list(COMMENT_FIXED.values()), ids=list(COMMENT_FIXED))
def test_gitlab_rb_comment_mattermost_fixed(f, old, text, was, now):
    def commented(result):
        return sum(1 for line in result.split('\n') if line.startswith(PREFIX))

    assert commented(old_commented(old, text)) == was
    assert commented(f.gitlab_rb_comment_mattermost(text)) == now


# Setting names for the message -----------------------------------------------------------

def test_gitlab_rb_mattermost_settings(f):
    assert f.gitlab_rb_mattermost_settings(MOLECULE_RB) == [
        'mattermost_external_url', "mattermost['enable']", "mattermost['uid']", "mattermost['gid']",
        "mattermost['gitlab_enable']", "mattermost['gitlab_id']", "mattermost['gitlab_secret']", "mattermost['env']",
        "mattermost_nginx['redirect_http_to_https']"]
    assert f.gitlab_rb_mattermost_settings("mattermost['enable'] = true\nmattermost['enable'] = false\n") == \
        ["mattermost['enable']"]
    assert f.gitlab_rb_mattermost_settings('') == []


@pytest.mark.parametrize('text', [MOLECULE_RB, COMMENT_CASES['array over lines, value on the next line, spaces before the bracket'][0],
                                  ''], ids=['molecule', 'multi-line', 'empty'])
def test_gitlab_rb_mattermost_settings_as_the_old_jinja(f, old, text):
    was = old('{{ _old_settings }}', _mattermost_migrate_rb_raw=dict(content=base64.b64encode(text.encode()).decode()))
    assert f.gitlab_rb_mattermost_settings(text) == was
