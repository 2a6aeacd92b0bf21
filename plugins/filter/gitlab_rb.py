# -*- coding: utf-8 -*-

# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the GitLab Linux package configured for its bundled Mattermost, and what
Mattermost made of it: gitlab.rb, gitlab-secrets.json and the env directory read
into MM_* variables, those applied to config.json, and gitlab.rb switched off.

Each filter is documented in plugins/filter/<filter name>.yml. The role
mattermost_migrate is the user; tests/unit/plugins/filter/test_gitlab_rb.py
holds the cases, among them the Jinja this replaced.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

# gitlab.rb's mattermost['<prefix>_<key>'] and the config.json section each
# prefix sets (the package's attributes/default.rb naming).
SECTIONS = {
    'service': 'ServiceSettings',
    'team': 'TeamSettings',
    'sql': 'SqlSettings',
    'log': 'LogSettings',
    'file': 'FileSettings',
    'email': 'EmailSettings',
    'gitlab': 'GitLabSettings',
    'plugin': 'PluginSettings',
    'privacy': 'PrivacySettings',
    'password': 'PasswordSettings',
    'rate': 'RateLimitSettings',
    'support': 'SupportSettings',
    'localization': 'LocalizationSettings',
}

# The package kept these in gitlab-secrets.json's `mattermost` section
# (omnibus-gitlab files/gitlab-cookbooks/package/libraries/helpers/secrets_helper.rb,
# SecretsHelper.gather_gitlab_secrets / write_to_gitlab_secrets): always
# email_invite_salt, file_public_link_salt, sql_at_rest_encrypt_key; with
# mattermost['gitlab_enable'] also gitlab_enable, gitlab_secret and gitlab_id,
# which MattermostHelper.authorize_with_gitlab (mattermost_helper.rb) writes
# there for the application it registers itself. Releases before about 10.x
# also wrote gitlab_scope and the three gitlab_*_endpoint keys. Each maps to
# MM_* by the gitlab.rb naming above (gitlab_id -> MM_GITLABSETTINGS_ID).
# register_as_oauth_app and other keys are the package's own, not Mattermost's.
SECRET_KEYS = (
    'sql_at_rest_encrypt_key',
    'file_public_link_salt',
    'email_invite_salt',
    'gitlab_enable',
    'gitlab_id',
    'gitlab_secret',
    'gitlab_scope',
    'gitlab_auth_endpoint',
    'gitlab_token_endpoint',
    'gitlab_user_api_endpoint',
)

GITLAB_RB_MODES = ('auto', 'disable', 'comment', 'none')
# GitLab 19.0 removed the bundled Mattermost: any mattermost[...] key aborts reconfigure.
GITLAB_WITHOUT_MATTERMOST = (19, 0)
COMMENT_PREFIX = '# [moved to standalone Mattermost] '

# A statement that sets mattermost[...], mattermost_nginx[...] or mattermost_external_url.
_MATTERMOST_START = re.compile(r'^[ \t]*(?:mattermost(?:_nginx)?[ \t]*\[|mattermost_external_url\b)')
# Statements the MM_* variables are derived from (GitLab's external_url and puma too).
_ENV_START = re.compile(r'^[ \t]*(?:mattermost[ \t]*\[|mattermost_external_url\b|external_url\b|puma[ \t]*\[)')
# The setting a statement starts with, without its value (for messages).
_SETTING = re.compile(r'^[ \t]*(mattermost(?:_nginx)?[ \t]*\[[^\]]*\]|mattermost_external_url)')
# A line whose code ends with one of these continues on the next line.
_CONTINUED = frozenset(',\\=+|&')
_WORD = re.compile(r'[A-Za-z0-9_]+')
_KEY = re.compile(r'^[a-z0-9_]+$')
_MM_NAME = re.compile(r'^MM_[A-Z0-9_]+$')
_INTEGER = re.compile(r'^[0-9]+$')
_VERSION = re.compile(r'^\s*v?([0-9]+)(?:\.([0-9]+))?')
_ESCAPES = {'n': '\n', 't': '\t', 'r': '\r', 's': ' ', '0': '\0', 'e': '\x1b', 'a': '\a', 'b': '\b', 'f': '\f', 'v': '\v'}


class _Str(object):
    """A Ruby string literal: its value, and whether it interpolates (#{...}) and so cannot be read."""

    __slots__ = ('value', 'interpolated')

    def __init__(self, value, interpolated):
        self.value = value
        self.interpolated = interpolated

    def __repr__(self):
        return '_Str(%r%s)' % (self.value, ', interpolated' if self.interpolated else '')


class _Lexer(object):
    """Ruby tokens of one statement, fed line by line.

    Knows what gitlab.rb needs: '...' and "..." strings (escapes, #{...}
    interpolation, strings over several lines), comments, bracket depth and
    => ; everything else is a word or a single character. Brackets, quotes and
    # inside strings do not count.
    """

    def __init__(self):
        self.tokens = []
        # Where each token is: ((line, column), (line, column after it)), lines
        # counted from the statement's first; a string from its opening quote
        # to after its closing one.
        self.spans = []
        self.line = -1
        self.depth = 0
        # Open strings and interpolations: ['str', quote, chars, interpolated, start] / ['interp', braces].
        self.stack = []
        self.last = ''

    def _add(self, token, start, end):
        self.tokens.append(token)
        self.spans.append(((self.line, start), (self.line, end)))

    def feed(self, line):
        """Read one line (without its newline); True when the statement goes on."""
        self.line += 1
        i, n = 0, len(line)
        while i < n:
            ch = line[i]
            top = self.stack[-1] if self.stack else None
            if top is not None and top[0] == 'str':
                i = self._in_string(line, i, top)
                continue
            if top is not None and top[0] == 'interp':
                if ch in '\'"':
                    self.stack.append(['str', ch, [], False, (self.line, i)])
                elif ch == '{':
                    top[1] += 1
                elif ch == '}':
                    if top[1] == 0:
                        self.stack.pop()
                    else:
                        top[1] -= 1
                i += 1
                continue
            if ch == '#':
                break
            if ch in ' \t\r\n\f\v':
                i += 1
                continue
            self.last = ch
            if ch in '\'"':
                self.stack.append(['str', ch, [], False, (self.line, i)])
                i += 1
            elif ch in '[{(':
                self.depth += 1
                self._add(ch, i, i + 1)
                i += 1
            elif ch in ']})':
                self.depth -= 1
                self._add(ch, i, i + 1)
                i += 1
            elif line.startswith('=>', i):
                self._add('=>', i, i + 2)
                self.last = '>'
                i += 2
            else:
                word = _WORD.match(line, i)
                if word:
                    self._add(word.group(0), i, word.end())
                    self.last = word.group(0)[-1]
                    i = word.end()
                else:
                    self._add(ch, i, i + 1)
                    i += 1
        if self.stack:
            if self.stack[-1][0] == 'str':
                self.stack[-1][2].append('\n')
            return True
        return self.depth > 0 or self.last in _CONTINUED

    def _in_string(self, line, i, top):
        quote, chars = top[1], top[2]
        ch = line[i]
        if ch == '\\':
            if i + 1 >= len(line):
                return i + 1
            nxt = line[i + 1]
            if quote == "'":
                chars.append(nxt if nxt in '\'\\' else '\\' + nxt)
            else:
                chars.append(_ESCAPES.get(nxt, nxt))
            return i + 2
        if ch == quote:
            self.stack.pop()
            if not self.stack:
                self.tokens.append(_Str(''.join(chars), top[3]))
                self.spans.append((top[4], (self.line, i + 1)))
            return i + 1
        if quote == '"' and line.startswith('#{', i):
            top[3] = True
            self.stack.append(['interp', 0])
            return i + 2
        chars.append(ch)
        return i + 1


def _text(value, what):
    if value is None:
        return ''
    if not isinstance(value, str):
        raise AnsibleFilterError('%s expects text, got %s' % (what, type(value).__name__))
    return to_text(value)


def _mapping(value, what, expected):
    """value as a dict ({} for None); anything else is refused, naming the filter."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise AnsibleFilterError('%s expects %s, got %s' % (what, expected, type(value).__name__))
    return value


def _lexed(lines, start):
    """(first line, last line, lexer) of every statement whose first line matches start.

    Lines inside such a statement are never a start. Commented-out lines do not
    match and are left as they are.
    """
    found = []
    i = 0
    while i < len(lines):
        if not start.match(lines[i]):
            i += 1
            continue
        lexer = _Lexer()
        first = i
        while lexer.feed(lines[i]) and i + 1 < len(lines):
            i += 1
        found.append((first, i, lexer))
        i += 1
    return found


def _statements(lines, start):
    """(first line, last line, tokens) of every statement whose first line matches start."""
    return [(first, last, lexer.tokens) for first, last, lexer in _lexed(lines, start)]


def _literal(token):
    """The text of a string, true/false or integer literal, else None."""
    if isinstance(token, _Str):
        return None if token.interpolated else token.value
    if token in ('true', 'false') or (isinstance(token, str) and _INTEGER.match(token)):
        return token
    return None


def _is_str(token, value=None):
    return isinstance(token, _Str) and not token.interpolated and (value is None or token.value == value)


def _url_of(tokens, name):
    """The URL of `name 'url'` or `name('url')`."""
    if not tokens or tokens[0] != name:
        return None
    rest = tokens[1:]
    if rest[:1] == ['(']:
        rest = rest[1:]
    if rest and _is_str(rest[0]) and rest[0].value:
        return rest[0].value
    return None


def _assignment(tokens, name):
    """keys, tokens after '=' of `name['k1']['k2'] = ...`, else (None, None)."""
    if not tokens or tokens[0] != name:
        return None, None
    keys, i = [], 1
    while i + 2 < len(tokens) and tokens[i] == '[' and _is_str(tokens[i + 1]) and tokens[i + 2] == ']':
        keys.append(tokens[i + 1].value)
        i += 3
    if keys and i < len(tokens) and tokens[i] == '=':
        return keys, tokens[i + 1:]
    return None, None


def _one_literal(tokens):
    """The literal when tokens are exactly one, else None."""
    return _literal(tokens[0]) if len(tokens) == 1 else None


def _host_of(url):
    """The host of a URL as Ruby's URI#host gives it (IPv6 in brackets)."""
    netloc = urlsplit(url).netloc.rsplit('@', 1)[-1]
    if netloc.endswith(']') or ':' not in netloc:
        return netloc
    return netloc.rsplit(':', 1)[0]


def _env_name(key):
    """MM_* of mattermost['<prefix>_<key>'] (gitlab_user_api_endpoint -> MM_GITLABSETTINGS_USERAPIENDPOINT)."""
    if '_' not in key:
        return None
    prefix, rest = key.split('_', 1)
    if prefix not in SECTIONS:
        return None
    return 'MM_' + SECTIONS[prefix].upper() + '_' + rest.replace('_', '').upper()


def _env_pairs(tokens):
    """The 'MM_*' => value pairs of a hash."""
    pairs = []
    for i in range(len(tokens) - 2):
        if _is_str(tokens[i]) and _MM_NAME.match(tokens[i].value) and tokens[i + 1] == '=>':
            value = _literal(tokens[i + 2])
            if value is not None:
                pairs.append((tokens[i].value, value))
    return pairs


def gitlab_rb_mattermost_env(text):
    """gitlab.rb -> the MM_* variables the package derived from it (what it wrote to the env directory).

    mattermost_external_url (SiteURL), GitLab's external_url (the GitLab
    endpoints and, when puma runs here, GitLab's host in
    AllowedUntrustedInternalConnections, as omnibus' parse_mattermost_external_url
    did; also when mattermost_external_url is already commented out), one-literal mattermost['<section>_<key>'] settings, and the
    'MM_*' => ... pairs of mattermost['env'] (which win). Ruby is not run:
    anything but a literal is left out.
    """
    lines = _text(text, 'gitlab_rb_mattermost_env').split('\n')
    site_url = gitlab_url = None
    puma = True
    settings = {}
    env_pairs = []
    for dummy, dummy, tokens in _statements(lines, _ENV_START):
        url = _url_of(tokens, 'mattermost_external_url')
        if url is not None:
            site_url = url
            continue
        url = _url_of(tokens, 'external_url')
        if url is not None:
            gitlab_url = url
            continue
        keys, value = _assignment(tokens, 'puma')
        if keys == ['enable']:
            puma = value != ['false']
            continue
        keys, value = _assignment(tokens, 'mattermost')
        if keys == ['env']:
            env_pairs.extend(_env_pairs(value))
        elif keys and len(keys) == 2 and keys[0] == 'env' and _MM_NAME.match(keys[1]) \
                and _one_literal(value) is not None:
            env_pairs.append((keys[1], _one_literal(value)))
        elif keys and len(keys) == 1 and _KEY.match(keys[0]) and _env_name(keys[0]) \
                and _one_literal(value) is not None:
            settings[_env_name(keys[0])] = _one_literal(value)

    env = {}
    if site_url is not None:
        env['MM_SERVICESETTINGS_SITEURL'] = site_url
    # The endpoints follow GitLab's external_url even when mattermost_external_url
    # was already commented out (GitLab 19.0 refuses it): the application id and
    # secret may still be in gitlab-secrets.json.
    if gitlab_url is not None:
        base = gitlab_url[:-1] if gitlab_url.endswith('/') else gitlab_url
        env['MM_GITLABSETTINGS_AUTHENDPOINT'] = base + '/oauth/authorize'
        env['MM_GITLABSETTINGS_TOKENENDPOINT'] = base + '/oauth/token'
        env['MM_GITLABSETTINGS_USERAPIENDPOINT'] = base + '/api/v4/user'
    env.update(settings)
    if gitlab_url is not None and puma:
        host = _host_of(gitlab_url)
        allowed = env.get('MM_SERVICESETTINGS_ALLOWEDUNTRUSTEDINTERNALCONNECTIONS', '').split()
        if host and host not in allowed:
            allowed.append(host)
        env['MM_SERVICESETTINGS_ALLOWEDUNTRUSTEDINTERNALCONNECTIONS'] = ' '.join(allowed)
    env.update(env_pairs)
    return env


def gitlab_secrets_mattermost_env(section):
    """gitlab-secrets.json's `mattermost` section -> MM_* variables (empty values left out)."""
    env = {}
    section = _mapping(section, 'gitlab_secrets_mattermost_env', 'the mattermost section (a dict)')
    for key in SECRET_KEYS:
        value = section.get(key)
        if value is None or isinstance(value, (Mapping, list)):
            continue
        if isinstance(value, bool):
            value = 'true' if value else 'false'
        value = to_text(value)
        if value:
            env[_env_name(key)] = value
    return env


def mattermost_envdir(files):
    """{file name: file text} of an env directory -> {variable: value}: each file's first line,
    trailing blanks removed (runit's envdir)."""
    env = {}
    for name, content in _mapping(files, 'mattermost_envdir', 'a dict of file name to text').items():
        first = (_text(content, 'mattermost_envdir').splitlines() + [''])[0]
        env[to_text(name)] = first.rstrip(' \t')
    return env


def _to_int(raw):
    """Jinja's int filter: 0 for what is no number, '42.9' -> 42."""
    try:
        if isinstance(raw, str):
            return int(raw, 10)
        return int(raw)
    except (TypeError, ValueError):
        try:
            return int(float(raw))
        except (TypeError, ValueError, OverflowError):
            return 0


def _kind(value):
    if isinstance(value, bool):
        return 'bool'
    if isinstance(value, int):
        return 'int'
    if isinstance(value, Mapping):
        return 'dict'
    if isinstance(value, (list, tuple)):
        return 'list'
    return 'str'


def _merge(base, over):
    """Ansible's combine(recursive=true): dicts merged, anything else replaced."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(merged.get(key), Mapping) and isinstance(value, Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def mattermost_env_overlay(config, env, known_keys=None, replaced_keys=None):
    """config.json + MM_* variables -> what Mattermost ran with.

    Each MM_<SECTION>_<KEY> is matched to config.json's section and key
    without regard to case (names config.json lacks: known_keys, name ->
    [section, key, type]) and typed like the value there: booleans as Go's
    ParseBool reads true (1, t, true), integers, lists split on blanks.
    Objects, names nobody knows and names without MM_ are skipped;
    Section.Key in replaced_keys are replaced (the standalone layout sets them).
    Returns overlay, carried, replaced, skipped (names sorted without case)
    and effective (config.json with the overlay applied).
    """
    config = config if isinstance(config, Mapping) else {}
    env = env if isinstance(env, Mapping) else {}
    known_keys = known_keys if isinstance(known_keys, Mapping) else {}
    replaced_keys = list(replaced_keys or [])
    sections = {}
    for name in config:
        sections[to_text(name).upper()] = name
    overlay, carried, replaced, skipped = {}, [], [], []
    for name, raw in sorted(env.items(), key=lambda item: to_text(item[0]).lower()):
        if name.startswith('MM_'):
            parts = (name[3:].split('_', 1) + [''])[:2]
        else:
            parts = ['', '']
        static = list(known_keys.get(name) or [None, None, 'str']) + [None, None, 'str']
        sec = sections.get(parts[0], static[0])
        seccfg = config[sec] if sec is not None and isinstance(config.get(sec), Mapping) else {}
        keys = {}
        for key_name in seccfg:
            keys[to_text(key_name).upper()] = key_name
        key = keys.get(parts[1], static[1])
        kind = _kind(seccfg[key]) if key is not None and key in seccfg else (static[2] or 'str')
        if sec is None or key is None or kind == 'dict':
            skipped.append(name)
        elif '%s.%s' % (sec, key) in replaced_keys:
            replaced.append(name)
        else:
            if kind == 'bool':
                value = to_text(raw).lower() in ('1', 't', 'true')
            elif kind == 'int':
                value = _to_int(raw)
            elif kind == 'list':
                value = to_text(raw).split()
            else:
                value = raw
            overlay = _merge(overlay, {sec: {key: value}})
            carried.append(name)
    return {
        'overlay': overlay,
        'carried': carried,
        'replaced': replaced,
        'skipped': skipped,
        'effective': _merge(config, overlay),
    }


def _version(version):
    """(major, minor) of '19.0.1', 'v18.11', '19' or '19.0.0-ee'; None when empty."""
    text = to_text(version if version is not None else '').strip()
    if not text:
        return None
    match = _VERSION.match(text)
    if not match:
        raise AnsibleFilterError('cannot read the GitLab version %r (expected e.g. 18.11.3)' % text)
    return int(match.group(1)), int(match.group(2) or 0)


def gitlab_rb_mode(mode, version=''):
    """How gitlab.rb lets go of the bundled Mattermost: disable, comment or none.

    auto: comment from GitLab 19.0 on (any mattermost[...] key aborts its
    reconfigure), disable before it and when the version is unknown.
    """
    mode = to_text(mode if mode is not None else 'auto').strip() or 'auto'
    if mode not in GITLAB_RB_MODES:
        raise AnsibleFilterError('gitlab.rb mode must be one of %s, got %r' % (', '.join(GITLAB_RB_MODES), mode))
    if mode != 'auto':
        return mode
    found = _version(version)
    return 'comment' if found is not None and found >= GITLAB_WITHOUT_MATTERMOST else 'disable'


def gitlab_rb_comment_mattermost(text, prefix=COMMENT_PREFIX):
    """gitlab.rb with every statement setting mattermost[...], mattermost_nginx[...] or
    mattermost_external_url commented out, multi-line ones to their last line.

    Lines already commented and every other statement stay as they are, so a
    second pass changes nothing.
    """
    lines = _text(text, 'gitlab_rb_comment_mattermost').split('\n')
    prefix = _text(prefix, 'gitlab_rb_comment_mattermost prefix')
    for first, last, dummy in _statements(lines, _MATTERMOST_START):
        for i in range(first, last + 1):
            lines[i] = prefix + lines[i]
    return '\n'.join(lines)


def gitlab_rb_mattermost_settings(text):
    """The settings (mattermost['env'], mattermost_nginx['enable'], mattermost_external_url, ...)
    gitlab.rb sets for the bundled Mattermost, each once, in order; values are not shown."""
    lines = _text(text, 'gitlab_rb_mattermost_settings').split('\n')
    names = []
    for first, dummy, dummy in _statements(lines, _MATTERMOST_START):
        match = _SETTING.match(lines[first])
        name = match.group(1).strip() if match else lines[first].strip()
        if name not in names:
            names.append(name)
    return names


class FilterModule(object):
    """gitlab.rb, gitlab-secrets.json and the env directory of the GitLab package's Mattermost."""

    def filters(self):
        return dict((f.__name__, f) for f in (gitlab_rb_mattermost_env, gitlab_secrets_mattermost_env, mattermost_envdir,
                                              mattermost_env_overlay, gitlab_rb_mode, gitlab_rb_comment_mattermost,
                                              gitlab_rb_mattermost_settings))
