# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures for every unit test: the collection on an ANSIBLE_COLLECTIONS_PATH."""

import os
import sys

import pytest

REPO_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


@pytest.fixture(scope='session')
def collections_path(tmp_path_factory):
    """A directory holding ansible_collections/chatops/mattermost -> the repository.

    Also put on sys.path so tests can import the collection's module_utils.
    """
    root = tmp_path_factory.mktemp('collections')
    ns = root / 'ansible_collections' / 'chatops'
    ns.mkdir(parents=True)
    os.symlink(REPO_DIR, str(ns / 'mattermost'))
    sys.path.insert(0, str(root))
    yield str(root)
    sys.path.remove(str(root))
