# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The gitlab.rb edits (plugins/filter/gitlab_rb_edit.py): parametrized cases of
realistic gitlab.rb text. Every present case is run twice (the second pass
changes nothing) and then absent, which must give the original bytes back."""

import importlib

import pytest

from ansible.errors import AnsibleError

SITE = '/etc/gitlab/nginx/mattermost.conf'
INCLUDE = 'include %s;' % SITE
COMMENT = 'Managed by chatops.mattermost.mattermost_nginx'
HOST = "gitlab_rails['mattermost_host']"
ALT = "letsencrypt['alt_names']"


@pytest.fixture(scope='module')
def f(collections_path):
    return importlib.import_module('ansible_collections.chatops.mattermost.plugins.filter.gitlab_rb_edit')


GITLAB_18 = """\
## GitLab configuration settings
external_url 'https://gitlab.example.com'
gitlab_rails['time_zone'] = 'UTC'
# nginx['custom_nginx_config'] = "include /etc/gitlab/nginx/sites-enabled/*.conf;"
letsencrypt['enable'] = false
"""

# nginx['custom_nginx_config'] -----------------------------------------------------------

# (gitlab.rb, the text with the include)
INCLUDE_CASES = {
    'no setting: a line with the comment above it': (
        GITLAB_18,
        GITLAB_18 + '# %s\nnginx[\'custom_nginx_config\'] = "%s"\n' % (COMMENT, INCLUDE)),
    "an admin's double-quoted include": (
        "external_url 'https://gitlab-host.test'\nnginx['custom_nginx_config'] = \"include /etc/gitlab/nginx/admin-extra.conf;\"\n",
        "external_url 'https://gitlab-host.test'\nnginx['custom_nginx_config'] = "
        "\"include /etc/gitlab/nginx/admin-extra.conf; %s\"\n" % INCLUDE),
    "an admin's single-quoted server block over lines, a comment after it": (
        "nginx['custom_nginx_config'] = 'server {\n  listen 8080;\n}\n'  # status page\nnginx['enable'] = true\n",
        "nginx['custom_nginx_config'] = 'server {\n  listen 8080;\n}\n %s'  # status page\nnginx['enable'] = true\n"
        % INCLUDE),
    'a # on the last line of the string: the include on a line of its own': (
        "nginx['custom_nginx_config'] = \"include /etc/nginx/extra.conf; # extra\"\n",
        "nginx['custom_nginx_config'] = \"include /etc/nginx/extra.conf; # extra\n%s\"\n" % INCLUDE),
    'an empty string, spaces around the bracket and =': (
        "nginx [ 'custom_nginx_config' ]  =  ''\n",
        "nginx [ 'custom_nginx_config' ]  =  '%s'\n" % INCLUDE),
    'escapes and a bracket in the string, CRLF, no newline at the end': (
        "nginx['custom_nginx_config'] = \"map $a $b { default \\\"x]\\\"; }\"\r\nnginx['enable'] = true",
        "nginx['custom_nginx_config'] = \"map $a $b { default \\\"x]\\\"; } %s\"\r\nnginx['enable'] = true" % INCLUDE),
    'empty gitlab.rb': ('', '# %s\nnginx[\'custom_nginx_config\'] = "%s"\n' % (COMMENT, INCLUDE)),
    'no newline at the end, CRLF': (
        "external_url 'https://g.test'\r\nnginx['enable'] = true",
        "external_url 'https://g.test'\r\nnginx['enable'] = true\r\n# %s\r\nnginx['custom_nginx_config'] = \"%s\"\r\n"
        % (COMMENT, INCLUDE)),
}


@pytest.mark.parametrize('text, expected', list(INCLUDE_CASES.values()), ids=list(INCLUDE_CASES))
def test_gitlab_rb_nginx_include(f, text, expected):
    added = f.gitlab_rb_nginx_include(text, SITE, 'present', COMMENT)
    assert added == expected
    assert f.gitlab_rb_nginx_include(added, SITE, 'present', COMMENT) == added, 'a second pass changes nothing'
    if text.endswith('\n') or "'custom_nginx_config'" in text:
        assert f.gitlab_rb_nginx_include(added, SITE, 'absent', COMMENT) == text, 'absent gives the bytes back'


@pytest.mark.parametrize('text', [
    "nginx['custom_nginx_config'] = \"include %s;\"\n" % SITE,
    "nginx['custom_nginx_config'] = \"server { listen 81; }\ninclude  %s ;\n\"\n" % SITE,
], ids=['the include alone, by the admin', 'other spacing, after a block'])
def test_gitlab_rb_nginx_include_already_there(f, text):
    assert f.gitlab_rb_nginx_include(text, SITE) == text


def test_gitlab_rb_nginx_include_absent(f):
    # An admin's own include without our comment: the string stays, empty.
    assert f.gitlab_rb_nginx_include("nginx['custom_nginx_config'] = \"%s\"\n" % INCLUDE, SITE, 'absent') == \
        "nginx['custom_nginx_config'] = \"\"\n"
    # Added to since: only the include goes, the comment and the admin's addition stay.
    text = "# %s\nnginx['custom_nginx_config'] = \"%s include /x.conf;\"\n" % (COMMENT, INCLUDE)
    assert f.gitlab_rb_nginx_include(text, SITE, 'absent', COMMENT) == \
        "# %s\nnginx['custom_nginx_config'] = \" include /x.conf;\"\n" % COMMENT
    assert f.gitlab_rb_nginx_include(GITLAB_18, SITE, 'absent') == GITLAB_18


# Not editable: (gitlab.rb, words of the message)
INCLUDE_REFUSED = {
    'a variable': ("extra = 'include /x.conf;'\nnginx['custom_nginx_config'] = extra\n", 'line 2'),
    'a heredoc': ("nginx['custom_nginx_config'] = <<~NGINX\n  include /x.conf;\nNGINX\n", 'not one string literal'),
    'a concatenation': ("nginx['custom_nginx_config'] = 'include /a.conf;' +\n  'include /b.conf;'\n", 'concatenation'),
    'an interpolation': ("nginx['custom_nginx_config'] = \"include #{dir}/a.conf;\"\n", '#{...}'),
    'two assignments': ("nginx['custom_nginx_config'] = 'a'\nnginx['custom_nginx_config'] = 'b'\n", 'set 2 times'),
    'an append': ("nginx['custom_nginx_config'] << 'include /a.conf;'\n", 'not one string literal'),
    'a %q string': ("nginx['custom_nginx_config'] = %q(include /a.conf;)\n", 'not one string literal'),
}


@pytest.mark.parametrize('text, words', list(INCLUDE_REFUSED.values()), ids=list(INCLUDE_REFUSED))
def test_gitlab_rb_nginx_include_refuses(f, text, words):
    with pytest.raises(AnsibleError) as raised:
        f.gitlab_rb_nginx_include(text, SITE)
    assert words in str(raised.value)
    assert 'by hand' in str(raised.value) and INCLUDE in str(raised.value)


@pytest.mark.parametrize('path', ['relative.conf', '/etc/gitlab/nginx/my "site".conf', '/a b.conf', None])
def test_gitlab_rb_nginx_include_refuses_a_path(f, path):
    with pytest.raises(AnsibleError):
        f.gitlab_rb_nginx_include('', path)


# gitlab_rb_set ---------------------------------------------------------------------------

# (gitlab.rb, value, the text with the value)
SET_CASES = {
    'missing: a line with the comment above it': (
        GITLAB_18, 'https://chat.example.com',
        GITLAB_18 + '# %s\n%s = "https://chat.example.com"\n' % (COMMENT, HOST)),
    "an admin's other value: replaced in place, their comment kept": (
        "gitlab_rails['mattermost_host'] = 'https://old.example.com' # chat\n", 'https://chat.example.com',
        "gitlab_rails['mattermost_host'] = \"https://chat.example.com\" # chat\n"),
    'the same value, other quotes: nothing changes': (
        "gitlab_rails[\"mattermost_host\"] = 'https://chat.example.com'\n", 'https://chat.example.com',
        "gitlab_rails[\"mattermost_host\"] = 'https://chat.example.com'\n"),
    'a commented-out example does not count': (
        "# gitlab_rails['mattermost_host'] = \"https://mattermost.example.com\"\n", 'https://chat.example.com',
        "# gitlab_rails['mattermost_host'] = \"https://mattermost.example.com\"\n# %s\n%s = \"https://chat.example.com\"\n"
        % (COMMENT, HOST)),
    'a deeper key is another key': (
        "gitlab_rails['mattermost_host']['x'] = 1\n", 'https://c',
        "gitlab_rails['mattermost_host']['x'] = 1\n# %s\n%s = \"https://c\"\n" % (COMMENT, HOST)),
    'quotes and #{ in the value are escaped': (
        '', 'a"b#{c}\\', '# %s\n%s = "a\\"b\\#{c}\\\\"\n' % (COMMENT, HOST)),
}


@pytest.mark.parametrize('text, value, expected', list(SET_CASES.values()), ids=list(SET_CASES))
def test_gitlab_rb_set(f, text, value, expected):
    changed = f.gitlab_rb_set(text, HOST, value, 'present', COMMENT)
    assert changed == expected
    assert f.gitlab_rb_set(changed, HOST, value, 'present', COMMENT) == changed, 'a second pass changes nothing'


@pytest.mark.parametrize('value, literal', [(True, 'true'), (False, 'false'), (8080, '8080')])
def test_gitlab_rb_set_booleans_and_numbers(f, value, literal):
    changed = f.gitlab_rb_set("nginx['enable'] = true\n", "nginx['listen_port']", value)
    assert changed.endswith("nginx['listen_port'] = %s\n" % literal)
    assert f.gitlab_rb_set(changed, "nginx['listen_port']", value) == changed
    assert f.gitlab_rb_set("puma['enable'] = false\n", "puma['enable']", True) == "puma['enable'] = true\n"


def test_gitlab_rb_set_absent_removes_only_its_own_line(f):
    added = f.gitlab_rb_set(GITLAB_18, HOST, 'https://chat.example.com', 'present', COMMENT)
    assert f.gitlab_rb_set(added, HOST, None, 'absent', COMMENT) == GITLAB_18
    admins = GITLAB_18 + "gitlab_rails['mattermost_host'] = 'https://chat.example.com'\n"
    assert f.gitlab_rb_set(admins, HOST, None, 'absent', COMMENT) == admins
    # Another owner's comment is not ours.
    assert f.gitlab_rb_set(added, HOST, None, 'absent', 'Managed by someone else') == added


@pytest.mark.parametrize('text, key, words', [
    ("gitlab_rails['mattermost_host'] = ENV['MM']\n", HOST, 'not set to one literal'),
    ("gitlab_rails['mattermost_host'] = 'a'\ngitlab_rails['mattermost_host'] = 'b'\n", HOST, 'set 2 times in gitlab.rb (lines 1, 2)'),
    ('', 'mattermost_host', "must look like gitlab_rails['mattermost_host']"),
    ('', "gitlab_rails[mattermost_host]", 'must look like'),
], ids=['a variable', 'set twice', 'no subscript', 'a bare word subscript'])
def test_gitlab_rb_set_refuses(f, text, key, words):
    with pytest.raises(AnsibleError) as raised:
        f.gitlab_rb_set(text, key, 'https://chat.example.com')
    assert words in str(raised.value)


def test_gitlab_rb_set_refuses_a_state_and_a_value(f):
    with pytest.raises(AnsibleError):
        f.gitlab_rb_set('', HOST, 'x', 'latest')
    with pytest.raises(AnsibleError):
        f.gitlab_rb_set('', HOST, ['x'])


# gitlab_rb_array_item --------------------------------------------------------------------

# (gitlab.rb, the text with chat.example.com)
ARRAY_CASES = {
    'missing: a line with the comment above it': (
        GITLAB_18, GITLAB_18 + "# %s\n%s = ['chat.example.com']\n" % (COMMENT, ALT)),
    'empty': ("letsencrypt['alt_names'] = []\n", "letsencrypt['alt_names'] = ['chat.example.com']\n"),
    'one name, double quotes: the new one follows their style': (
        "letsencrypt['alt_names'] = [\"www.example.com\"] # www\n",
        "letsencrypt['alt_names'] = [\"www.example.com\", \"chat.example.com\"] # www\n"),
    'over lines with a trailing comma': (
        "letsencrypt['alt_names'] = [\n  'a.example.com',\n  'b.example.com', # b\n]\n",
        "letsencrypt['alt_names'] = [\n  'a.example.com',\n  'b.example.com', 'chat.example.com', # b\n]\n"),
}


@pytest.mark.parametrize('text, expected', list(ARRAY_CASES.values()), ids=list(ARRAY_CASES))
def test_gitlab_rb_array_item(f, text, expected):
    added = f.gitlab_rb_array_item(text, ALT, 'chat.example.com', 'present', COMMENT)
    assert added == expected
    assert f.gitlab_rb_array_item(added, ALT, 'chat.example.com', 'present', COMMENT) == added
    assert f.gitlab_rb_array_item(added, ALT, 'chat.example.com', 'absent', COMMENT) == text


@pytest.mark.parametrize('text, expected', [
    ("letsencrypt['alt_names'] = ['chat.example.com', 'www.example.com']\n",
     "letsencrypt['alt_names'] = ['www.example.com']\n"),
    ("letsencrypt['alt_names'] = ['www.example.com']\n", "letsencrypt['alt_names'] = ['www.example.com']\n"),
    ('', ''),
], ids=['first of two', 'not there', 'no setting'])
def test_gitlab_rb_array_item_absent(f, text, expected):
    assert f.gitlab_rb_array_item(text, ALT, 'chat.example.com', 'absent') == expected


@pytest.mark.parametrize('text, item', [
    pytest.param("letsencrypt['alt_names'] = names\n", 'chat.example.com', id='a variable'),
    pytest.param("letsencrypt['alt_names'] = ['a', names]\n", 'chat.example.com', id='a variable inside'),
    pytest.param("letsencrypt['alt_names'] = %w[a b]\n", 'chat.example.com', id='a %w array'),
    pytest.param("letsencrypt['alt_names'] = ['a']\nletsencrypt['alt_names'] = ['b']\n", 'chat.example.com', id='set twice'),
    pytest.param('', "chat'.example.com", id='a quote in the name'),
])
def test_gitlab_rb_array_item_refuses(f, text, item):
    with pytest.raises(AnsibleError):
        f.gitlab_rb_array_item(text, ALT, item)


# gitlab_rb_external_url ------------------------------------------------------------------

@pytest.mark.parametrize('text, expected', [
    (GITLAB_18, 'https://gitlab.example.com'),
    ("external_url('http://gitlab.internal:8080')\n", 'http://gitlab.internal:8080'),
    ("external_url 'https://a.test'\nexternal_url \"https://b.test\"\n", 'https://b.test'),
    ("# external_url 'https://a.test'\nexternal_url ENV['URL']\n", ''),
    ('', ''),
], ids=['quoted', 'parenthesised', 'the last one counts', 'not a literal', 'empty'])
def test_gitlab_rb_external_url(f, text, expected):
    assert f.gitlab_rb_external_url(text) == expected


def test_everything_refuses_what_is_not_text(f):
    with pytest.raises(AnsibleError):
        f.gitlab_rb_nginx_include(['x'], SITE)
    with pytest.raises(AnsibleError):
        f.gitlab_rb_external_url({'a': 1})
