# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``api`` fixture of the module_utils tests: the module a test file names in ``MODULE_UTILS``."""

import importlib

import pytest


@pytest.fixture
def api(request, collections_path):
    return importlib.import_module('ansible_collections.chatops.mattermost.plugins.module_utils.'
                                   + request.module.MODULE_UTILS)
