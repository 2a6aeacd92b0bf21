# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every filter a plugins/filter/*.py module offers has its documentation
(plugins/filter/<name>.yml, what ansible-doc and the docs site read), and every
documentation file belongs to a filter."""

import glob
import importlib
import os

import pytest

FILTER_DIR = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins', 'filter')
MODULES = sorted(os.path.basename(path)[:-3] for path in glob.glob(os.path.join(FILTER_DIR, '*.py'))
                 if not os.path.basename(path).startswith('_'))


def offered(collections_path):
    return {name: module for module in MODULES
            for name in importlib.import_module('ansible_collections.chatops.mattermost.plugins.filter.' + module)
            .FilterModule().filters()}


@pytest.mark.parametrize('module', MODULES)
def test_each_filter_is_documented(collections_path, module):
    filters = importlib.import_module('ansible_collections.chatops.mattermost.plugins.filter.' + module).FilterModule().filters()
    assert filters
    for name, function in filters.items():
        assert function.__name__ == name
        assert os.path.exists(os.path.join(FILTER_DIR, name + '.yml')), name


def test_each_doc_belongs_to_a_filter(collections_path):
    docs = sorted(os.path.basename(path)[:-4] for path in glob.glob(os.path.join(FILTER_DIR, '*.yml')))
    assert docs == sorted(offered(collections_path))
