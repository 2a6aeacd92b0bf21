"""Checks that each role's argument specs are what ansible-core validates with.

For every role under roles/ (prints the offenders, exits 1 if there are any):
- each variable of defaults/main.yml is an option of one of the role's entry
  points in meta/argument_specs.yml;
- each option of each entry point has a `default` or is `required: true` (or,
  for a default computed by Jinja in defaults/main.yml that the option's type
  cannot hold, says "Defaults to" in its description), and a literal default
  (no Jinja in defaults/main.yml) is the same in both files;
- a role with tasks/preflight.yml has a `preflight` entry point;
- an internal role (roles/_*, no spec of its own) has each default documented
  by the spec of a role that depends on it, with the same literal default;
- a `tasks_from` (playbooks/, roles/) naming an entry point names it without
  `.yml`: ansible-core takes the name literally, `preflight.yml` validates nothing;
- a playbook's `tasks_from` (a literal) is an entry point of that role: the
  variables an admin passes to a playbook are validated by a spec.

    python3 tests/tools/check_argument_specs.py [REPO_DIR]
"""
import pathlib
import re
import sys

import yaml

COLLECTION = "chatops.mattermost."


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


def entry_points(role):
    spec_file = role / "meta" / "argument_specs.yml"
    return (load(spec_file).get("argument_specs") or {}) if spec_file.is_file() else None


def role_defaults(role):
    defaults_file = role / "defaults" / "main.yml"
    return load(defaults_file) if defaults_file.is_file() else {}


def dependencies(role):
    meta_file = role / "meta" / "main.yml"
    deps = (load(meta_file).get("dependencies") or []) if meta_file.is_file() else []
    names = [dep.get("role", "") if isinstance(dep, dict) else dep for dep in deps]
    return [name[len(COLLECTION):] if name.startswith(COLLECTION) else name for name in names]


def literal_default_problems(role_name, defaults, options):
    problems = []
    for name, value in sorted(defaults.items()):
        if name not in options or "default" not in options[name] or "{{" in str(value):
            continue
        if str(options[name]["default"]) != str(value) and options[name]["default"] != value:
            problems.append(f"{role_name}: {name} defaults to {value!r} in defaults/main.yml"
                            f" but to {options[name]['default']!r} in meta/argument_specs.yml")
    return problems


def spec_options(entries):
    return {name: option or {} for spec in entries.values() for name, option in ((spec or {}).get("options") or {}).items()}


def check_internal_role(role, roles):
    """An internal role's defaults are documented by the specs of the roles that depend on it."""
    dependants = [other for other in roles if role.name in dependencies(other)]
    options = {}
    for other in dependants:
        options.update(spec_options(entry_points(other) or {}))
    defaults = role_defaults(role)
    problems = [f"{role.name}: {name} is in defaults/main.yml but no spec of a role depending on it has it"
                for name in sorted(set(defaults) - set(options))]
    return problems + literal_default_problems(role.name, defaults, options)


def check_role(role):
    """Returns the problems of one role, as lines to print."""
    entries = entry_points(role)
    if entries is None:
        return [f"{role.name}: no meta/argument_specs.yml"]
    problems = []
    defaults = role_defaults(role)
    options = {}
    for entry, spec in sorted(entries.items()):
        for name, option in sorted(((spec or {}).get("options") or {}).items()):
            option = option or {}
            options[name] = option
            computed = "{{" in str(defaults.get(name, "")) and "Defaults to" in str(option.get("description", ""))
            if "default" not in option and not option.get("required", False) and not computed:
                problems.append(f"{role.name}: option {name} of entry point {entry} has no default and is not required")
    for name in sorted(set(defaults) - set(options)):
        problems.append(f"{role.name}: {name} is in defaults/main.yml but no entry point has it")
    problems += literal_default_problems(role.name, defaults, options)
    if (role / "tasks" / "preflight.yml").is_file() and "preflight" not in entries:
        problems.append(f"{role.name}: tasks/preflight.yml has no `preflight` entry point")
    return problems


def tasks_from_problems(repo, specs):
    """`tasks_from: <entry>.yml` where `<entry>` is an entry point of that role."""
    problems = []
    pattern = re.compile(r"^\s*(?:-\s+)?name:\s*[\"']?(\S+?)[\"']?\s*$")
    for path in sorted(list((repo / "playbooks").rglob("*.yml")) + list((repo / "roles").rglob("*.yml"))):
        role_name = None
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            found = pattern.match(line)
            if found:
                # A role named by a variable could be any of them.
                role_name = found.group(1)[len(COLLECTION):] if found.group(1).startswith(COLLECTION) else None
            found = re.match(r"^\s*tasks_from:\s*[\"']?([^\"'\s]+)", line)
            if not found:
                continue
            value = found.group(1)
            stem = re.sub(r"\.ya?ml$", "", value)
            candidates = [role_name] if role_name in specs else list(specs)
            if stem != value and any(stem in specs[name] for name in candidates):
                problems.append(f"{path.relative_to(repo)}:{number}: tasks_from: {value} validates nothing;"
                                f" write tasks_from: {stem} (an entry point)")
            elif (path.parts[len(repo.parts)] == "playbooks" and role_name in specs and "{{" not in value
                  and stem not in specs[role_name]):
                problems.append(f"{path.relative_to(repo)}:{number}: tasks_from: {value} is no entry point of"
                                f" {role_name}: nothing validates its variables; add {stem} to"
                                f" roles/{role_name}/meta/argument_specs.yml")
    return problems


def main():
    repo = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    roles = sorted(p for p in (repo / "roles").iterdir() if p.is_dir())
    problems = []
    for role in roles:
        problems += check_internal_role(role, roles) if role.name.startswith("_") else check_role(role)
    problems += tasks_from_problems(repo, {role.name: entry_points(role) or {} for role in roles
                                           if not role.name.startswith("_")})
    for line in problems:
        print(line)
    if problems:
        print(f"{len(problems)} argument spec problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
