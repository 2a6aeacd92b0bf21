"""Prints the packages a role installs, one a line.

The test world's PostgreSQL-ready host image (tests/world/pg-image.sh) holds
what the mattermost_server role installs for a local database; this reads that
list from the role's variable, so the role stays its one home. Fails (exit 1,
a message naming the file and the variable) when the variable is not found or
is not a literal list of package names.

    python3 tests/tools/role_packages.py [VARS_FILE VAR_NAME]

Without arguments: roles/mattermost_server/vars/main.yml, _mattermost_server_local_db_packages.
apt_packages() reads the literal list of an apt task instead (the scenarios' own).
"""
import pathlib
import sys

import yaml

REPO_DIR = pathlib.Path(__file__).resolve().parents[2]
PG_VARS_FILE = REPO_DIR / "roles" / "mattermost_server" / "vars" / "main.yml"
PG_VAR_NAME = "_mattermost_server_local_db_packages"
APT_MODULES = ("ansible.builtin.apt", "apt")


def apt_packages(task_file, task_name):
    """The literal `name` list of the apt task called task_name in task_file
    (top level or inside a block); ValueError when there is none."""
    with open(task_file, encoding="utf-8") as f:
        tasks = yaml.safe_load(f) or []
    found = []

    def walk(items):
        for task in items or []:
            if not isinstance(task, dict):
                continue
            for key in ("block", "rescue", "always"):
                walk(task.get(key))
            if task.get("name") != task_name:
                continue
            module = next((task[m] for m in APT_MODULES if m in task), None)
            if isinstance(module, dict):
                found.append(module.get("name"))

    walk(tasks)
    if len(found) != 1:
        raise ValueError("%s: %d apt tasks named %r, expected one" % (task_file, len(found), task_name))
    return literal_list(found[0], "%s: the apt task %r" % (task_file, task_name))


def var_packages(vars_file, var_name):
    """The literal list of package names the variable var_name holds in vars_file; ValueError otherwise."""
    with open(vars_file, encoding="utf-8") as f:
        variables = yaml.safe_load(f) or {}
    if var_name not in variables:
        raise ValueError("%s: no variable %s" % (vars_file, var_name))
    return literal_list(variables[var_name], "%s: %s" % (vars_file, var_name))


def literal_list(names, where):
    if isinstance(names, str) and "{" not in names:
        names = [names]
    if not (isinstance(names, list) and names and all(isinstance(n, str) and n and "{" not in n for n in names)):
        raise ValueError("%s does not name a literal list of packages: %r" % (where, names))
    return names


def main(argv):
    vars_file, var_name = (argv[0], argv[1]) if len(argv) == 2 else (PG_VARS_FILE, PG_VAR_NAME)
    try:
        names = var_packages(vars_file, var_name)
    except (OSError, ValueError, yaml.YAMLError) as e:
        print("role_packages: %s" % e, file=sys.stderr)
        return 1
    print("\n".join(names))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
