# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""No escape that ansible-core versions read differently in the shipped YAML's templates.

In a YAML scalar that is not double-quoted (folded, literal, plain, single-quoted), a Jinja literal's
``\\n`` is a newline for ansible-core 2.16-2.18 and the two characters backslash and n for 2.19 (a given
certificate ended in them and nginx refused it); ``\\\\`` is one backslash or two. Regex classes such as
``\\s`` or ``\\[`` read the same in both. Use a double-quoted scalar, ``splitlines()`` or a filter
(``chatops.mattermost.files_in`` ends a file in one newline) instead."""

import os
import re

import pytest
import yaml

REPO_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
AMBIGUOUS = re.compile(r'\\[ntr"\'\\]')
# A Jinja string literal, and whether it is a regular expression (the first argument of a regex filter or
# test), where both readings of \t or \n match the same character.
LITERAL = re.compile(r"'(?:[^'\\]|\\.)*'" + '|' + r'"(?:[^"\\]|\\.)*"')
REGEX_CALL = re.compile(r'(regex_replace|regex_findall|regex_search|match|search)\(\s*$')


def shipped_yaml():
    for top in ('roles', 'playbooks'):
        for root, dummy_dirs, files in os.walk(os.path.join(REPO_DIR, top)):
            for name in sorted(files):
                if name.endswith(('.yml', '.yaml')):
                    yield os.path.relpath(os.path.join(root, name), REPO_DIR)


def scalars(node):
    if isinstance(node, yaml.ScalarNode):
        yield node
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from scalars(item)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from scalars(key)
            yield from scalars(value)


def ambiguous_escapes(text):
    """(line, escape) of each ambiguous escape in a template of a scalar that is not double-quoted."""
    found = []
    for document in yaml.compose_all(text, Loader=yaml.SafeLoader):
        for node in scalars(document) if document is not None else ():
            if node.style == '"' or ('{{' not in node.value and '{%' not in node.value):
                continue
            for literal in LITERAL.finditer(node.value):
                escapes = [m.group() for m in AMBIGUOUS.finditer(literal.group()[1:-1])]
                if REGEX_CALL.search(node.value[:literal.start()]):
                    escapes = [e for e in escapes if e not in ('\\t', '\\n')]
                found.extend((node.start_mark.line + 1, e) for e in escapes)
    return found


@pytest.mark.parametrize('text, expected', [
    ("a: >-\n  {{ x ~ '\\n' }}\n", [(1, '\\n')]),
    ("a: \"{{ x ~ '\\n' }}\"\n", []),
    ("a: >-\n  {{ x | regex_replace('\\s+', '') }}\n", []),
    ("a: '{{ x.split(\"\\n\") }}'\n", [(1, '\\n')]),
    ("a: >-\n  {{ x | regex_replace('\\\\s+', '') }}\n", [(1, '\\\\')]),
    ("a: plain \\n text without a template\n", []),
    ("a: >-\n  {{ x | regex_findall('^a[ \\t]+b') }}\n", []),
    ("a: >-\n  {{ x | regex_findall('^a[ \\t]+b') | join('\\t') }}\n", [(1, '\\t')]),
], ids=['folded-newline', 'double-quoted', 'regex-class', 'single-quoted', 'double-backslash', 'no-template',
        'regex-tab', 'join-tab'])
def test_ambiguous_escapes(text, expected):
    assert ambiguous_escapes(text) == expected


@pytest.mark.parametrize('path', sorted(shipped_yaml()))
def test_shipped_yaml_has_no_ambiguous_escape(path):
    with open(os.path.join(REPO_DIR, path), encoding='utf-8') as handle:
        assert ambiguous_escapes(handle.read()) == [], path
