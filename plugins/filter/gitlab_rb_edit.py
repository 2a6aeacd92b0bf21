# -*- coding: utf-8 -*-

# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Small, reversible edits of the GitLab package's gitlab.rb: a setting set
to a literal, a name kept in an array of strings, an nginx include kept in
nginx['custom_nginx_config'], and GitLab's external_url read.

Each edit changes only the bytes it needs: the admin's own text stays as it
was, and state=absent takes back exactly what state=present added. A line the
edit adds gets a comment line above it (`# <comment>`); state=absent removes
such a line with its comment, and never a line the admin wrote. What cannot be
edited safely (a value that is not a literal, a key set twice) raises an
error that says what to do by hand. Ruby is not run: the tokenizer of
gitlab_rb.py reads the statements.

Each filter is documented in plugins/filter/<filter name>.yml; the cases are
in tests/unit/plugins/filter/test_gitlab_rb_edit.py. Users: the roles
mattermost_nginx (GitLab's nginx as Mattermost's front end) and
mattermost_migrate.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.chatops.mattermost.plugins.filter.gitlab_rb import (
    _is_str,
    _lexed,
    _text,
    _url_of,
)

MANAGED = 'Managed by chatops.mattermost'
STATES = ('present', 'absent')

# name['key']['key'] as written in gitlab.rb (either quote).
_KEY = re.compile(r'''^([a-z_][a-z0-9_]*)((?:\[(?:'[^'\\]*'|"[^"\\#]*")\])+)$''')
_SUBSCRIPT = re.compile(r'''\[(?:'([^'\\]*)'|"([^"\\#]*)")\]''')
_INTEGER = re.compile(r'^-?[0-9]+$')
# What may go inside a quoted literal unescaped: an nginx path, a host name.
_PLAIN = re.compile(r'^[A-Za-z0-9._/*:@+=,~-]+$')


def _state(state, what):
    state = to_text(state if state is not None else 'present')
    if state not in STATES:
        raise AnsibleFilterError('%s: state must be present or absent, got %r' % (what, state))
    return state


def _key(key, what):
    """('gitlab_rails', ['mattermost_host']) of "gitlab_rails['mattermost_host']"."""
    match = _KEY.match(to_text(key or '').strip())
    if not match:
        raise AnsibleFilterError("%s: the key must look like gitlab_rails['mattermost_host'], got %r" % (what, key))
    return match.group(1), [a if a else b for a, b in _SUBSCRIPT.findall(match.group(2))]


class _Statement(object):
    """One statement about a key: where it is in the text and what it does."""

    def __init__(self, text, offsets, first, last, lexer, start):
        self.first, self.last = first, last
        # The whole lines, newline included when there is one.
        self.begin = offsets[first]
        self.end = offsets[last + 1] if last + 1 < len(offsets) else len(text)
        self.tokens = lexer.tokens[start:]
        self.spans = [(offsets[first + a[0]] + a[1], offsets[first + b[0]] + b[1])
                      for a, b in lexer.spans[start:]]
        self.assigns = self.tokens[:1] == ['=']
        self.value = self.tokens[1:] if self.assigns else None
        self.value_spans = self.spans[1:] if self.assigns else None
        self.line = first + 1


def _offsets(text):
    """Offset of the start of each line (text split on newlines)."""
    offsets = [0]
    for match in re.finditer('\n', text):
        offsets.append(match.end())
    return offsets


def _find(text, name, keys):
    """The statements that set name[keys...] (not deeper keys), in order."""
    lines = text.split('\n')
    offsets = _offsets(text)
    start = re.compile(r'^[ \t]*' + re.escape(name) + r'[ \t]*\[')
    found = []
    for first, last, lexer in _lexed(lines, start):
        tokens = lexer.tokens
        subscripts, i = [], 1
        while i + 2 < len(tokens) and tokens[i] == '[' and _is_str(tokens[i + 1]) and tokens[i + 2] == ']':
            subscripts.append(tokens[i + 1].value)
            i += 3
        if tokens[:1] == [name] and subscripts == keys and i < len(tokens) and tokens[i] != '[':
            found.append(_Statement(text, offsets, first, last, lexer, i))
    return found


def _written(name, keys):
    return name + ''.join("['%s']" % key for key in keys)


def _comment_line(comment):
    return '# ' + comment


def _managed(text, statement, comment):
    """True when the line above the statement is the comment this edit writes."""
    if statement.first == 0:
        return False
    lines = text.split('\n')
    return lines[statement.first - 1].strip() == _comment_line(comment)


def _cut_managed(text, statement):
    """text without the statement and the comment line above it."""
    begin = text.rfind('\n', 0, statement.begin - 1) + 1
    return text[:begin] + text[statement.end:]


def _append(text, comment, line):
    """text with the comment line and line added at the end, in the text's line endings."""
    newline = '\r\n' if '\r\n' in text else '\n'
    if text and not text.endswith('\n'):
        text += newline
    return text + _comment_line(comment) + newline + line + newline


def _ruby(value, what):
    """A Ruby literal for a str, bool or int."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        escaped = to_text(value).replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')
        escaped = re.sub(r'#(?=[{$@])', r'\\#', escaped)
        return '"%s"' % escaped
    raise AnsibleFilterError('%s: the value must be text, a boolean or an integer, got %s'
                             % (what, type(value).__name__))


def _same(token, value):
    """Whether one literal token holds value."""
    if isinstance(value, bool):
        return token == ('true' if value else 'false')
    if isinstance(value, int):
        return token == str(value)
    return _is_str(token, to_text(value))


def _once(found, written, what, by_hand):
    if len(found) > 1:
        raise AnsibleFilterError(
            '%s: %s is set %d times in gitlab.rb (lines %s); which one counts depends on Ruby. %s'
            % (what, written, len(found), ', '.join(str(s.line) for s in found), by_hand))


def gitlab_rb_set(text, key, value=None, state='present', comment=MANAGED):
    """gitlab.rb with key (e.g. gitlab_rails['mattermost_host']) set to value.

    present: a missing key is appended with the comment line above it; a key
    set to another literal gets the new value in place of the old one (the
    rest of its line stays); the same value changes nothing. absent: the key
    goes only when the comment line is above it (a line this filter added);
    an admin's own line stays. A value that is not one literal, or a key set
    more than once, raises an error.
    """
    what = 'gitlab_rb_set'
    text = _text(text, what)
    state = _state(state, what)
    name, keys = _key(key, what)
    written = _written(name, keys)
    found = _find(text, name, keys)
    if state == 'absent':
        for statement in reversed(found):
            if _managed(text, statement, comment):
                text = _cut_managed(text, statement)
        return text
    literal = _ruby(value, what)
    by_hand = 'Set %s = %s in gitlab.rb by hand, then run again.' % (written, literal)
    _once(found, written, what, by_hand)
    if not found:
        return _append(text, comment, '%s = %s' % (written, literal))
    statement = found[0]
    if not statement.assigns or len(statement.value) != 1 or not (
            _is_str(statement.value[0]) or statement.value[0] in ('true', 'false', 'nil')
            or (isinstance(statement.value[0], str) and _INTEGER.match(statement.value[0]))):
        raise AnsibleFilterError(
            '%s: %s on line %d of gitlab.rb is not set to one literal (a string, true, false or a number) '
            'and cannot be changed safely. %s' % (what, written, statement.line, by_hand))
    if _same(statement.value[0], value):
        return text
    begin, end = statement.value_spans[0]
    return text[:begin] + literal + text[end:]


def _array(statement):
    """The string elements and their spans of `[ 'a', "b", ]`, else None."""
    if not statement.assigns:
        return None
    tokens, spans = statement.value, statement.value_spans
    if len(tokens) < 2 or tokens[0] != '[' or tokens[-1] != ']':
        return None
    items = []
    expect_item = True
    for token, span in zip(tokens[1:-1], spans[1:-1]):
        if expect_item and _is_str(token):
            items.append((token.value, span))
            expect_item = False
        elif not expect_item and token == ',':
            expect_item = True
        else:
            return None
    return items, spans[0]


def gitlab_rb_array_item(text, key, item, state='present', comment=MANAGED):
    """gitlab.rb with item kept in (or taken out of) the array of strings key.

    present: an item already there changes nothing; else it is appended after
    the last element (`, 'item'`), or becomes the first; a missing key is
    appended as `key = ['item']` with the comment line above it. absent: the
    item's text is cut (with the comma before it, as present added it); a
    commented line holding only the item goes whole. Anything but an array of
    plain strings, or a key set more than once, raises an error.
    """
    what = 'gitlab_rb_array_item'
    text = _text(text, what)
    state = _state(state, what)
    name, keys = _key(key, what)
    item = to_text(item if item is not None else '')
    if not _PLAIN.match(item):
        raise AnsibleFilterError('%s: %r cannot go into gitlab.rb unquoted' % (what, item))
    written = _written(name, keys)
    found = _find(text, name, keys)
    by_hand = "Keep '%s' in %s by hand, then run again." % (item, written) if state == 'present' else \
        "Take '%s' out of %s by hand, then run again." % (item, written)
    if not found:
        return text if state == 'absent' else _append(text, comment, "%s = ['%s']" % (written, item))
    _once(found, written, what, by_hand)
    statement = found[0]
    parsed = _array(statement)
    if parsed is None:
        raise AnsibleFilterError(
            '%s: %s on line %d of gitlab.rb is not an array of plain strings and cannot be changed safely. %s'
            % (what, written, statement.line, by_hand))
    items, bracket = parsed
    values = [value for value, dummy in items]
    if state == 'present':
        if item in values:
            return text
        if not items:
            return text[:bracket[1]] + "'%s'" % item + text[bracket[1]:]
        last = items[-1][1]
        quote = text[last[0]]
        return text[:last[1]] + ', %s%s%s' % (quote, item, quote) + text[last[1]:]
    if item not in values:
        return text
    if values == [item] and _managed(text, statement, comment):
        return _cut_managed(text, statement)
    index = values.index(item)
    begin, end = items[index][1]
    if index > 0:
        begin = items[index - 1][1][1]
    elif len(items) > 1:
        end = items[1][1][0]
    return text[:begin] + text[end:]


def _include_re(path):
    return re.compile(r'(?:^|(?<=[\s;{}]))include[ \t]+' + re.escape(path) + r'[ \t]*;')


def gitlab_rb_nginx_include(text, path, state='present', comment=MANAGED):
    """gitlab.rb whose nginx['custom_nginx_config'] includes path (or no longer does).

    present: a missing setting is appended, `nginx['custom_nginx_config'] =
    "include <path>;"`, with the comment line above it; an admin's string
    literal (either quote) gets ` include <path>;` before its closing quote
    (on a line of its own when the string's last line holds a #), their bytes
    unchanged; an include already there changes nothing. absent: the include
    goes with the blank added before it; a commented line left empty goes
    whole. A value that is not one string literal (a variable, a heredoc, a
    concatenation, an interpolation), or the setting made more than once,
    raises an error.
    """
    what = 'gitlab_rb_nginx_include'
    text = _text(text, what)
    state = _state(state, what)
    path = to_text(path if path is not None else '')
    if not path.startswith('/') or not _PLAIN.match(path):
        raise AnsibleFilterError('%s: the path must be absolute and plain, got %r' % (what, path))
    include = 'include %s;' % path
    written = "nginx['custom_nginx_config']"
    found = _find(text, 'nginx', ['custom_nginx_config'])
    by_hand = ('Add `%s` to %s by hand (inside its http-level text), run gitlab-ctl reconfigure, then run again.'
               % (include, written) if state == 'present' else
               'Take `%s` out of %s by hand, run gitlab-ctl reconfigure, then run again.' % (include, written))
    if not found:
        return text if state == 'absent' else _append(text, comment, '%s = "%s"' % (written, include))
    _once(found, written, what, by_hand)
    statement = found[0]
    if not statement.assigns or len(statement.value) != 1 or not _is_str(statement.value[0]):
        raise AnsibleFilterError(
            '%s: %s on line %d of gitlab.rb is not one string literal (a variable, a heredoc, a concatenation '
            'or #{...} cannot be edited safely). %s' % (what, written, statement.line, by_hand))
    value = statement.value[0].value
    begin, end = statement.value_spans[0]
    # The text between the quotes, as written.
    inner_begin, inner_end = begin + 1, end - 1
    present = _include_re(path).search(value)
    if state == 'present':
        if present:
            return text
        if value == '':
            added = include
        elif '#' in value.split('\n')[-1]:
            added = '\n' + include
        else:
            added = ' ' + include
        return text[:inner_end] + added + text[inner_end:]
    if not present:
        return text
    if value.strip() == include and _managed(text, statement, comment):
        return _cut_managed(text, statement)
    raw = text[inner_begin:inner_end]
    for added in (' ' + include, '\n' + include, include):
        at = raw.rfind(added)
        if at >= 0:
            raw = raw[:at] + raw[at + len(added):]
            return text[:inner_begin] + raw + text[inner_end:]
    # Written another way (spaces, escapes): the admin's; leave it and say so.
    raise AnsibleFilterError(
        '%s: %s on line %d of gitlab.rb includes %s, but not as this filter wrote it. %s'
        % (what, written, statement.line, path, by_hand))


def gitlab_rb_external_url(text):
    """GitLab's external_url in gitlab.rb (the last one), or '' when there is none or it is not a literal."""
    lines = _text(text, 'gitlab_rb_external_url').split('\n')
    url = ''
    for dummy, dummy, lexer in _lexed(lines, re.compile(r'^[ \t]*external_url\b')):
        found = _url_of(lexer.tokens, 'external_url')
        if found is not None:
            url = found
    return url


class FilterModule(object):
    """Reversible edits of gitlab.rb."""

    def filters(self):
        return dict((f.__name__, f) for f in (gitlab_rb_set, gitlab_rb_array_item, gitlab_rb_nginx_include,
                                              gitlab_rb_external_url))
