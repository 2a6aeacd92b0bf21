# Sphinx configuration of the HTML docs site built by docs/site/build.sh:
# the pages antsibull-docs writes for the collection's modules and roles, and
# the Markdown guides of docs/ (MyST). Builds offline: no intersphinx.
project = "chatops.mattermost"
copyright = "chatops.mattermost maintainers"
title = html_short_title = "chatops.mattermost"

extensions = ["sphinx_antsibull_ext", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_heading_anchors = 4

pygments_style = "ansible"
highlight_language = "YAML+Jinja"
html_theme = "sphinx_ansible_theme"
html_show_sphinx = False
html_use_modindex = False
html_use_index = False
html_copy_source = False
display_version = False

# Every reference must resolve (the build runs with -W), except these labels
# of the Ansible documentation, which the pages antsibull-docs writes link to
# and which only intersphinx (online) would resolve.
nitpicky = True
nitpick_ignore = [
    ("std:ref", "ansible_configuration_settings"),
    ("std:ref", "common_return_values"),
]
