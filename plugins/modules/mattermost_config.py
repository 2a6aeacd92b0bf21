#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: mattermost_config
short_description: Manage selected keys of Mattermost's config.json
version_added: 0.1.0
description:
  - Merges the keys an automation manages into Mattermost's C(config.json) and leaves every
    other key as it is, so settings an admin changes in the System Console survive.
  - Compares parsed JSON, not text. Mattermost rewrites the file when it starts (fills defaults,
    reorders keys, escapes C(&) as C(\u0026)); none of that counts as a change.
  - Writes atomically and only when a managed value differs. The diff lists only managed keys,
    with secrets masked.
author:
  - chatops.mattermost maintainers (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    support: full
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
  platform:
    support: full
    platforms: posix
    description: Target OS/families that can be operated against.
options:
  path:
    description: Path of Mattermost's config.json.
    type: path
    required: true
  base:
    description:
      - A config.json to start from when O(path) does not exist, typically the release's
        C(config/config.json) with the server's defaults.
      - Without it, a missing O(path) is an error.
    type: path
  settings:
    description:
      - Keys to enforce, as a dictionary of sections (C(ServiceSettings), C(SqlSettings), ...) of
        keys. Nested dictionaries are merged; lists and scalars replace the file's value.
    type: dict
    default: {}
  defaults:
    description:
      - Keys set only when the file lacks them or holds V(null) or an empty string. Same shape
        as O(settings).
    type: dict
    default: {}
  secrets:
    description:
      - Like O(settings), for values that must never be shown. Ansible masks these values in
        all output; the diff shows them as C(********).
    type: dict
    default: {}
  secret_defaults:
    description: Like O(defaults), for secret values (for example a generated AtRestEncryptKey).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Point Mattermost at its site URL and database
  chatops.mattermost.mattermost_config:
    path: /var/opt/mattermost/config/config.json
    base: /opt/mattermost/current/config/config.json
    owner: mattermost
    group: mattermost
    mode: "0600"
    settings:
      ServiceSettings:
        SiteURL: https://chat.example.com
        ListenAddress: 127.0.0.1:8065
      SqlSettings:
        DriverName: postgres
    secrets:
      SqlSettings:
        DataSource: "postgres://mmuser:{{ db_password | urlencode }}@localhost:5432/mattermost?sslmode=disable"
    secret_defaults:
      SqlSettings:
        AtRestEncryptKey: "{{ lookup('ansible.builtin.password', '/dev/null', length=32, chars=['ascii_letters', 'digits']) }}"
  notify: restart mattermost
"""

RETURN = r"""
changed_keys:
  description: Dotted names of the managed keys whose value changed (or would change in check mode).
  returned: always
  type: list
  elements: str
  sample: [ServiceSettings.SiteURL, SqlSettings.DataSource]
created:
  description: Whether the file was created from O(base).
  returned: always
  type: bool
"""

import copy
import json
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes

MASK = "********"


def _is_empty(value):
    return value is None or value == ""


def merge(current, wanted, only_if_empty, changed, prefix=""):
    """Merges ``wanted`` into ``current`` in place; appends changed dotted keys to ``changed``."""
    for key, value in wanted.items():
        name = prefix + key
        if isinstance(value, dict) and isinstance(current.get(key), dict):
            merge(current[key], value, only_if_empty, changed, name + ".")
            continue
        if only_if_empty and key in current and not _is_empty(current[key]):
            continue
        if key not in current or current[key] != value:
            current[key] = copy.deepcopy(value)
            changed.append(name)


def dotted_keys(tree, prefix=""):
    """Dotted names of every leaf in a settings tree."""
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            yield from dotted_keys(value, prefix + key + ".")
        else:
            yield prefix + key


def lookup(tree, dotted):
    node = tree
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def diff_view(config, keys, secret_keys):
    """The managed keys of ``config`` as a flat dict, secrets masked."""
    view = {}
    for key in sorted(keys):
        value = lookup(config, key)
        if key in secret_keys and not _is_empty(value):
            value = MASK
        view[key] = value
    return view


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            base=dict(type="path"),
            settings=dict(type="dict", default={}),
            defaults=dict(type="dict", default={}),
            secrets=dict(type="dict", default={}, no_log=True),
            secret_defaults=dict(type="dict", default={}, no_log=True),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    params = module.params
    path = params["path"]

    created = not os.path.exists(path)
    source = params["base"] if created else path
    if created and not params["base"]:
        module.fail_json(msg="%s does not exist and no base config.json was given" % path)
    if created and not os.path.exists(source):
        if module.check_mode:
            module.exit_json(changed=True, created=True, changed_keys=[],
                             msg="%s and its base %s do not exist yet" % (path, source))
        module.fail_json(msg="neither %s nor its base %s exists" % (path, source))
    try:
        with open(source, "rb") as handle:
            config = json.load(handle)
    except (OSError, ValueError) as err:
        module.fail_json(msg="cannot read %s as JSON: %s" % (source, err))
    if not isinstance(config, dict):
        module.fail_json(msg="%s does not hold a JSON object" % source)

    before = copy.deepcopy(config)
    changed_keys = []
    merge(config, params["settings"], False, changed_keys)
    merge(config, params["secrets"], False, changed_keys)
    merge(config, params["defaults"], True, changed_keys)
    merge(config, params["secret_defaults"], True, changed_keys)

    secret_keys = set(dotted_keys(params["secrets"])) | set(dotted_keys(params["secret_defaults"]))
    managed = set(dotted_keys(params["settings"])) | set(dotted_keys(params["defaults"])) | secret_keys
    changed = bool(changed_keys) or created
    result = dict(changed=changed, created=created, changed_keys=sorted(changed_keys))
    if module._diff:
        result["diff"] = dict(
            before=diff_view(before, managed, secret_keys) if not created else {},
            after=diff_view(config, managed, secret_keys),
            before_header=path, after_header=path,
        )

    if changed and not module.check_mode:
        directory = os.path.dirname(path) or "."
        fd, tmp = tempfile.mkstemp(prefix=".config.json.", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(to_bytes(json.dumps(config, indent=4, ensure_ascii=False) + "\n"))
            if not created:
                # Keep the current owner and mode; file arguments below may change them.
                stat = os.stat(path)
                os.chmod(tmp, stat.st_mode & 0o7777)
                os.chown(tmp, stat.st_uid, stat.st_gid)
            module.atomic_move(tmp, path)
            if created:
                # atomic_move gives a new file the umask's mode; this one holds the database password.
                os.chmod(path, 0o600)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    file_args = module.load_file_common_arguments(params, path=path)
    if os.path.exists(path):
        result["changed"] = module.set_fs_attributes_if_different(file_args, result["changed"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
