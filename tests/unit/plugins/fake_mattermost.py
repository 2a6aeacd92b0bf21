# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A Mattermost stand-in for the unit tests of the Mattermost modules: the
local-mode routes they use (channels/api4/*_local.go of Mattermost 11.4),
over a Unix socket, with Mattermost's status codes and AppError bodies
(``id``, ``message``, ``status_code``). It checks what the real server checks
for these calls (user_id of a webhook, creator_id of a command, EnableCommands,
EnableIncomingWebhooks); the molecule scenario single_server runs the modules
against the real server."""

import json
import re
import secrets
import socketserver
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

from tests.emulators.gitlab_emulator import BackgroundServers, send_json


def new_id():
    return secrets.token_hex(13)[:26]


class AppError(Exception):
    def __init__(self, status, error_id, message):
        super().__init__(message)
        self.status, self.body = status, {"id": error_id, "message": message, "status_code": status}


class State:
    def __init__(self):
        self.teams, self.channels, self.users, self.hooks, self.commands = {}, {}, {}, {}, {}
        self.config = {"SiteURL": "https://chat.example.test", "EnableIncomingWebhooks": True, "EnableCommands": True}
        self.requests = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length)) if length else {}

    def _dispatch(self):
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        state = self.server.state
        state.requests.append((self.command, url.path))
        try:
            for method, pattern, func in ROUTES:
                match = re.fullmatch("/api/v4" + pattern, url.path)
                if match and method == self.command:
                    status, body = func(state, query, self._body() if method in ("POST", "PUT") else {},
                                        *[unquote(g) for g in match.groups()])
                    send_json(self, status, body)
                    return
            raise AppError(404, "api.context.404.app_error", "Sorry, we could not find the page.")
        except AppError as err:
            send_json(self, err.status, err.body)

    do_GET = do_POST = do_PUT = do_DELETE = _dispatch


def _find(table, error_id, **attrs):
    for item in table.values():
        if all(item.get(k) == v for k, v in attrs.items()):
            return item
    raise AppError(404, error_id, "Unable to find the existing item.")


def team_by_name(state, query, body, name):
    return 200, _find(state.teams, "app.team.get_by_name.missing.app_error", name=name)


def create_team(state, query, body):
    if any(t["name"] == body["name"] for t in state.teams.values()):
        raise AppError(400, "app.team.save.existing.app_error", "A team with that name already exists")
    team = dict(id=new_id(), name=body["name"], display_name=body["display_name"], type=body["type"], delete_at=0)
    state.teams[team["id"]] = team
    return 201, team


def patch_team(state, query, body, team_id):
    state.teams[team_id].update(display_name=body["display_name"])
    return 200, state.teams[team_id]


def channel_by_name(state, query, body, team_id, name):
    channel = _find(state.channels, "app.channel.get_by_name.missing.app_error", team_id=team_id, name=name)
    if channel["delete_at"] and query.get("include_deleted") != "true":
        raise AppError(404, "app.channel.get_by_name.missing.app_error", "Unable to find the existing channel.")
    return 200, channel


def create_channel(state, query, body):
    channel = dict(id=new_id(), delete_at=0, **{k: body[k] for k in
                                                ("team_id", "name", "display_name", "type", "purpose", "header")})
    state.channels[channel["id"]] = channel
    return 201, channel


def delete_channel(state, query, body, channel_id):
    state.channels[channel_id]["delete_at"] = 1
    return 200, {"status": "OK"}


def restore_channel(state, query, body, channel_id):
    state.channels[channel_id]["delete_at"] = 0
    return 200, state.channels[channel_id]


def patch_channel(state, query, body, channel_id):
    state.channels[channel_id].update(body)
    return 200, state.channels[channel_id]


def user_by_name(state, query, body, username):
    return 200, _find(state.users, "app.user.get_by_username.app_error", username=username)


def create_user(state, query, body):
    if len(body.get("password") or "") < 8:
        raise AppError(400, "model.user.is_valid.pwd_length.app_error", "Your password must contain at least 8 characters.")
    user = dict(id=new_id(), username=body["username"], email=body["email"], delete_at=0)
    state.users[user["id"]] = user
    return 201, user


def _hooks_enabled(state):
    if not state.config["EnableIncomingWebhooks"]:
        raise AppError(501, "api.incoming_webhook.disabled.app_error", "Incoming webhooks have been disabled by the system admin.")


def list_hooks(state, query, body):
    _hooks_enabled(state)
    page, per_page = int(query.get("page", 0)), int(query.get("per_page", 60))
    hooks = [h for h in state.hooks.values() if h["team_id"] == query.get("team_id")]
    return 200, hooks[page * per_page:(page + 1) * per_page]


def create_hook(state, query, body):
    _hooks_enabled(state)
    if not body.get("user_id"):
        raise AppError(400, "api.context.invalid_body_param.app_error", "Invalid or missing user_id in request body.")
    channel = state.channels[body["channel_id"]]
    hook = dict(id=new_id(), team_id=channel["team_id"], channel_id=channel["id"], user_id=body["user_id"],
                display_name=body.get("display_name", ""), description=body.get("description", ""),
                username=body.get("username", ""), icon_url=body.get("icon_url", ""),
                channel_locked=body.get("channel_locked", False), delete_at=0)
    state.hooks[hook["id"]] = hook
    return 201, hook


def update_hook(state, query, body, hook_id):
    """Mattermost answers 201 here, unlike every other update (api4/webhook.go updateIncomingHook)."""
    _hooks_enabled(state)
    return _update(state.hooks, hook_id, body, body.get("id") == hook_id, "Invalid or missing id in request body.",
                   status=201)


def delete_hook(state, query, body, hook_id):
    return _delete(state.hooks, hook_id)


def list_commands(state, query, body):
    if not state.config["EnableCommands"]:
        raise AppError(501, "api.command.disabled.app_error", "Commands have been disabled by the system admin.")
    if not query.get("team_id"):
        raise AppError(400, "api.context.invalid_url_param.app_error", "Invalid or missing team_id parameter in request URL.")
    return 200, [c for c in state.commands.values() if c["team_id"] == query["team_id"]]


def create_command(state, query, body):
    if not body.get("creator_id"):
        raise AppError(400, "model.command.is_valid.plugin_id.app_error", "Invalid plugin id.")
    command = dict(id=new_id(), token=new_id(), delete_at=0, method="P", username="", icon_url="",
                   auto_complete=False, auto_complete_desc="", auto_complete_hint="", display_name="",
                   description="")
    command.update(body)
    state.commands[command["id"]] = command
    return 201, command


def update_command(state, query, body, command_id):
    valid = body.get("id") == command_id and body.get("token") == state.commands[command_id]["token"]
    return _update(state.commands, command_id, body, valid, "Invalid or missing command in request body.")


def delete_command(state, query, body, command_id):
    return _delete(state.commands, command_id)


def _update(store, key, body, valid, message, status=200):
    """PUT of a whole record: Mattermost refuses a body that is not the record's own."""
    if not valid:
        raise AppError(400, "api.context.invalid_body_param.app_error", message)
    store[key].update(body)
    return status, store[key]


def _delete(store, key):
    store.pop(key)
    return 200, {"status": "OK"}


def client_config(state, query, body):
    return 200, {"SiteURL": state.config["SiteURL"]}


ROUTES = [
    ("GET", r"/teams/name/([^/]+)", team_by_name),
    ("POST", r"/teams", create_team),
    ("PUT", r"/teams/([^/]+)/patch", patch_team),
    ("GET", r"/teams/([^/]+)/channels/name/([^/]+)", channel_by_name),
    ("POST", r"/channels", create_channel),
    ("DELETE", r"/channels/([^/]+)", delete_channel),
    ("POST", r"/channels/([^/]+)/restore", restore_channel),
    ("PUT", r"/channels/([^/]+)/patch", patch_channel),
    ("GET", r"/users/username/([^/]+)", user_by_name),
    ("POST", r"/users", create_user),
    ("GET", r"/hooks/incoming", list_hooks),
    ("POST", r"/hooks/incoming", create_hook),
    ("PUT", r"/hooks/incoming/([^/]+)", update_hook),
    ("DELETE", r"/hooks/incoming/([^/]+)", delete_hook),
    ("GET", r"/commands", list_commands),
    ("POST", r"/commands", create_command),
    ("PUT", r"/commands/([^/]+)", update_command),
    ("DELETE", r"/commands/([^/]+)", delete_command),
    ("GET", r"/config/client", client_config),
]


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class FakeMattermost(BackgroundServers):
    """Serves from a daemon thread as soon as it is made; ``stop()`` ends it."""

    def __init__(self, path):
        self.path = path
        self.state = State()
        server = Server(path, Handler)
        server.state = self.state
        self.servers = [server]
        self.start()
