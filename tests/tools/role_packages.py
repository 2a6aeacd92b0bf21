"""Prints the packages an apt task of a role installs, one a line.

The test world's PostgreSQL-ready host image (tests/world/pg-image.sh) holds
what the mattermost_server role's "Install PostgreSQL" task installs; this reads
that list from the role's task file, so the role stays its one home. Fails
(exit 1, a message naming the file and the task) when the task is not found or
its `name` is not a literal list of package names.

    python3 tests/tools/role_packages.py [TASK_FILE TASK_NAME]

Without arguments: roles/mattermost_server/tasks/database.yml, "Install PostgreSQL".
"""
import pathlib
import sys

import yaml

REPO_DIR = pathlib.Path(__file__).resolve().parents[2]
PG_TASK_FILE = REPO_DIR / "roles" / "mattermost_server" / "tasks" / "database.yml"
PG_TASK_NAME = "Install PostgreSQL"
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
    names = found[0]
    if isinstance(names, str) and "{" not in names:
        names = [names]
    if not (isinstance(names, list) and names and all(isinstance(n, str) and n and "{" not in n for n in names)):
        raise ValueError("%s: the apt task %r does not name a literal list of packages: %r" % (task_file, task_name, names))
    return names


def main(argv):
    task_file, task_name = (argv[0], argv[1]) if len(argv) == 2 else (PG_TASK_FILE, PG_TASK_NAME)
    try:
        names = apt_packages(task_file, task_name)
    except (OSError, ValueError, yaml.YAMLError) as e:
        print("role_packages: %s" % e, file=sys.stderr)
        return 1
    print("\n".join(names))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
