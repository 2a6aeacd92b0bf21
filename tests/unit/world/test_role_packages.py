# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tests/tools/role_packages.py, which reads the packages the mattermost_server
role installs for a local database for the test world's PostgreSQL-ready host image
(tests/world/pg-image.sh): the role's list is found, the migration scenarios'
stand-in for the package's PostgreSQL installs nothing the image lacks, and a
task it cannot read is refused by name."""

import importlib.util
import os

import pytest

REPO = os.path.join(os.path.dirname(__file__), '..', '..', '..')
TOOL = os.path.join(REPO, 'tests', 'tools', 'role_packages.py')
_spec = importlib.util.spec_from_file_location('role_packages', TOOL)
rp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rp)

# The scenarios' stand-in for the GitLab package's PostgreSQL (migrate_from_gitlab's
# prepare, also migrate_two_hosts'): its hosts start from the image.
STAND_IN = os.path.join(REPO, 'extensions', 'molecule', 'migrate_from_gitlab', 'prepare_tasks', 'accounts_and_database.yml')
STAND_IN_TASK = "Install PostgreSQL (Debian's stands in for the package's)"


def test_the_roles_list_is_read():
    packages = rp.var_packages(rp.PG_VARS_FILE, rp.PG_VAR_NAME)
    assert 'postgresql' in packages
    assert len(packages) == len(set(packages))


def test_the_stand_in_installs_nothing_the_image_lacks():
    image = set(rp.var_packages(rp.PG_VARS_FILE, rp.PG_VAR_NAME))
    assert set(rp.apt_packages(STAND_IN, STAND_IN_TASK)) <= image


def test_main_prints_one_package_a_line(capsys):
    assert rp.main([]) == 0
    assert capsys.readouterr().out.split() == rp.var_packages(rp.PG_VARS_FILE, rp.PG_VAR_NAME)


@pytest.mark.parametrize('tasks, expected', [
    ("- name: T\n  ansible.builtin.apt:\n    name: [a, b]\n", ['a', 'b']),
    ("- name: T\n  apt:\n    name: a\n", ['a']),
    ("- name: B\n  block:\n    - name: T\n      ansible.builtin.apt:\n        name: [a]\n", ['a']),
    ("- name: T\n  ansible.builtin.command: true\n- name: T\n  ansible.builtin.apt:\n    name: [a]\n", ['a']),
], ids=['fqcn', 'short-name-string', 'in-a-block', 'same-name-other-module'])
def test_apt_packages(tmp_path, tasks, expected):
    path = tmp_path / 'tasks.yml'
    path.write_text(tasks)
    assert rp.apt_packages(path, 'T') == expected


@pytest.mark.parametrize('tasks, message', [
    ("- name: Other\n  ansible.builtin.apt:\n    name: [a]\n", '0 apt tasks named'),
    ("- name: T\n  ansible.builtin.apt:\n    name: [a]\n- name: T\n  ansible.builtin.apt:\n    name: [b]\n", '2 apt tasks named'),
    ("- name: T\n  ansible.builtin.apt:\n    name: \"{{ pkgs }}\"\n", 'not name a literal list'),
    ("- name: T\n  ansible.builtin.apt:\n    name: [a, \"{{ more }}\"]\n", 'not name a literal list'),
    ("- name: T\n  ansible.builtin.apt:\n    name: []\n", 'not name a literal list'),
    ("- name: T\n  ansible.builtin.apt:\n    update_cache: true\n", 'not name a literal list'),
], ids=['missing', 'twice', 'templated', 'templated-item', 'empty', 'no-name'])
def test_apt_packages_refuses(tmp_path, tasks, message):
    path = tmp_path / 'tasks.yml'
    path.write_text(tasks)
    with pytest.raises(ValueError, match=message):
        rp.apt_packages(path, 'T')


@pytest.mark.parametrize('variables, message', [
    ("other: [a]\n", 'no variable v'),
    ("v: \"{{ ['a'] }}\"\n", 'does not name a literal list'),
    ("v: []\n", 'does not name a literal list'),
], ids=['missing', 'templated', 'empty'])
def test_var_packages_refuses(tmp_path, variables, message):
    path = tmp_path / 'main.yml'
    path.write_text(variables)
    with pytest.raises(ValueError, match=message):
        rp.var_packages(path, 'v')


def test_var_packages(tmp_path):
    path = tmp_path / 'main.yml'
    path.write_text("v: [a, b]\nw: c\n")
    assert rp.var_packages(path, 'v') == ['a', 'b']
    assert rp.var_packages(path, 'w') == ['c']


def test_main_names_the_file_and_fails(tmp_path, capsys):
    path = tmp_path / 'main.yml'
    path.write_text("other: [a]\n")
    assert rp.main([str(path), 'v']) == 1
    assert str(path) in capsys.readouterr().err
