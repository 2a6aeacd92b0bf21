"""A GitLab stand-in for tests: the REST and OAuth2 shapes Mattermost and the
collection's modules use, with GitLab's status codes and error bodies.

Standard library only, so it runs in the bare test containers as well as in
pytest (``GitLabEmulator(port=0).start()``).

Covered: personal access tokens (``PRIVATE-TOKEN`` header or ``Authorization:
Bearer``), the instance applications API (list with pagination, create,
delete, renew-secret), the OAuth2 authorization-code flow (``/oauth/authorize``
auto-approves one test user, ``/oauth/token``), ``/api/v4/user`` and
``/-/health``. Test control lives under ``/-/emulator/``: state, request log,
reset and fault injection.
"""

import argparse
import base64
import json
import re
import secrets
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

ALLOWED_SCOPES = {
    "api", "read_api", "read_user", "create_runner", "manage_runner", "k8s_proxy",
    "read_repository", "write_repository", "read_registry", "write_registry",
    "sudo", "admin_mode", "openid", "profile", "email", "ai_features",
}

DEFAULT_USERS = [
    {"id": 1, "username": "root", "name": "Administrator", "email": "admin@example.test",
     "is_admin": True, "token": "glpat-admin-token"},
    {"id": 2, "username": "developer", "name": "Developer", "email": "developer@example.test",
     "is_admin": False, "token": "glpat-user-token"},
    {"id": 42, "username": "sso.tester", "name": "SSO Tester", "email": "sso.tester@example.test",
     "is_admin": False, "token": None, "sso": True},
]


class HTTPError(Exception):
    """An error answered with GitLab's status and JSON body."""

    def __init__(self, status, body):
        super().__init__(status)
        self.status = status
        self.body = body


def _now():
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def _split_uris(value):
    return [uri for uri in re.split(r"[\s]+", value or "") if uri]


class GitLabState:
    """Applications, users and tokens; thread-safe, optionally persisted."""

    def __init__(self, users=None, state_file=None):
        self.lock = threading.RLock()
        self.state_file = state_file
        self.users = [dict(u) for u in (users or DEFAULT_USERS)]
        self.applications = []
        self.next_id = 1
        self.codes = {}
        self.access_tokens = {}
        self.requests = []
        self.faults = []
        self._load()

    # persistence -----------------------------------------------------------
    def _load(self):
        if not self.state_file:
            return
        try:
            with open(self.state_file, encoding="utf-8") as handle:
                data = json.load(handle)
        except FileNotFoundError:
            return
        self.applications = data.get("applications", [])
        self.next_id = data.get("next_id", 1)

    def save(self):
        if not self.state_file:
            return
        with open(self.state_file, "w", encoding="utf-8") as handle:
            json.dump({"applications": self.applications, "next_id": self.next_id}, handle)

    def reset(self):
        with self.lock:
            self.applications, self.next_id = [], 1
            self.codes.clear()
            self.access_tokens.clear()
            self.requests.clear()
            self.faults.clear()
            self.save()

    # lookups ---------------------------------------------------------------
    def user_by_token(self, token):
        if not token:
            return None
        for user in self.users:
            if user.get("token") and secrets.compare_digest(user["token"], token):
                return user
        user_id = self.access_tokens.get(token)
        return next((u for u in self.users if u["id"] == user_id), None)

    def sso_user(self):
        return next(u for u in self.users if u.get("sso"))

    def app_by_uid(self, uid):
        return next((a for a in self.applications if a["application_id"] == uid), None)

    # applications ----------------------------------------------------------
    def create_application(self, params):
        missing = [f for f in ("name", "redirect_uri", "scopes") if not str(params.get(f) or "").strip()]
        if missing:
            raise HTTPError(400, {"error": ", ".join(f + " is missing" for f in missing)})
        uris = _split_uris(params["redirect_uri"])
        if not all(urlsplit(u).scheme and urlsplit(u).netloc for u in uris):
            raise HTTPError(400, {"message": {"redirect_uri": ["must be an absolute URI."]}})
        scopes = str(params["scopes"]).split()
        if any(s not in ALLOWED_SCOPES for s in scopes):
            raise HTTPError(400, {"message": {"scopes": ["doesn't match configured on the server."]}})
        confidential = params.get("confidential", True)
        if isinstance(confidential, str):
            confidential = confidential.lower() not in ("false", "0", "no")
        with self.lock:
            app = {
                "id": self.next_id,
                "application_id": secrets.token_hex(32),
                "application_name": str(params["name"]),
                "callback_url": "\n".join(uris),
                "confidential": bool(confidential),
                "scopes": scopes,
                "secret": "gloas-" + secrets.token_hex(32),
            }
            self.next_id += 1
            self.applications.append(app)
            self.save()
            return app

    def delete_application(self, app_id):
        with self.lock:
            app = next((a for a in self.applications if a["id"] == app_id), None)
            if app is None:
                raise HTTPError(404, {"message": "404 Application Not Found"})
            self.applications.remove(app)
            self.save()

    def renew_secret(self, app_id):
        with self.lock:
            app = next((a for a in self.applications if a["id"] == app_id), None)
            if app is None:
                raise HTTPError(404, {"message": "404 Application Not Found"})
            app["secret"] = "gloas-" + secrets.token_hex(32)
            self.save()
            return app


def public_application(app, with_secret=False):
    keys = ["id", "application_id", "application_name", "callback_url", "confidential", "scopes"]
    data = {k: app[k] for k in keys}
    if with_secret:
        data["secret"] = app["secret"]
    return data


def user_json(user, base_url):
    return {
        "id": user["id"], "username": user["username"], "login": user["username"],
        "name": user["name"], "email": user["email"], "state": "active", "locked": False,
        "avatar_url": None, "web_url": f"{base_url}/{user['username']}",
        "created_at": "2020-01-01T00:00:00.000Z", "is_admin": user.get("is_admin", False),
        "bot": False,
    }


class Handler(BaseHTTPRequestHandler):
    """Routes one request; ``self.server.state`` holds the emulator state."""

    protocol_version = "HTTP/1.1"
    server_version = "nginx"

    # plumbing --------------------------------------------------------------
    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        ctype = self.headers.get("Content-Type", "")
        if "application/json" in ctype and raw:
            return json.loads(raw)
        return {k: v[-1] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}

    def _send(self, status, body=None, headers=None):
        payload = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        # Logged before the answer leaves, so a client that reads the log right
        # after its answer finds its request there.
        self._log(status)
        self.send_response(status)
        if body is not None and not isinstance(body, bytes):
            self.send_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _log(self, status):
        self._status = status
        path = urlsplit(self.path).path
        if not path.startswith("/-/emulator/") and not self._logged:
            self._logged = True
            with self.server.state.lock:
                self.server.state.requests.append({"method": self.command, "path": path, "status": status})

    def _token(self):
        token = self.headers.get("PRIVATE-TOKEN")
        auth = self.headers.get("Authorization", "")
        if not token and auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        return token

    def _require_user(self, admin=False):
        user = self.server.state.user_by_token(self._token())
        if user is None:
            raise HTTPError(401, {"message": "401 Unauthorized"})
        if admin and not user.get("is_admin"):
            raise HTTPError(403, {"message": "403 Forbidden"})
        return user

    def _apply_fault(self):
        state = self.server.state
        with state.lock:
            for fault in state.faults:
                if fault["count"] <= 0:
                    continue
                if fault.get("method") and fault["method"].upper() != self.command:
                    continue
                if not re.search(fault["path_regex"], self.path):
                    continue
                fault["count"] -= 1
                break
            else:
                return False
        if fault.get("delay"):
            time.sleep(float(fault["delay"]))
        if fault.get("status"):
            message = {500: "500 Internal Server Error", 502: "502 Bad Gateway",
                       503: "503 Service Unavailable", 401: "401 Unauthorized"}.get(
                           fault["status"], f"{fault['status']} Error")
            self._send(int(fault["status"]), {"message": message})
            return True
        return False

    def _dispatch(self):
        self._status = 0
        self._logged = False
        url = urlsplit(self.path)
        path, query = url.path, parse_qs(url.query)
        try:
            if not path.startswith("/-/emulator/") and self._apply_fault():
                return
            route = ROUTES.get((self.command, path))
            if route is None:
                for (method, pattern), func in PATTERN_ROUTES:
                    match = re.fullmatch(pattern, path)
                    if method == self.command and match:
                        func(self, query, *match.groups())
                        return
                if path.startswith("/api/"):
                    raise HTTPError(404, {"error": "404 Not Found"})
                raise HTTPError(404, {"message": "404 Not Found"})
            route(self, query)
        except HTTPError as err:
            self._send(err.status, err.body)
        finally:
            self._log(self._status)

    do_GET = do_POST = do_DELETE = do_PUT = _dispatch

    # REST API --------------------------------------------------------------
    def list_applications(self, query):
        self._require_user(admin=True)
        page = max(int(query.get("page", ["1"])[0] or 1), 1)
        per_page = min(max(int(query.get("per_page", ["20"])[0] or 20), 1), 100)
        apps = self.server.state.applications
        total_pages = max((len(apps) + per_page - 1) // per_page, 1)
        chunk = apps[(page - 1) * per_page: page * per_page]
        base = f"{self.server.base_url}/api/v4/applications"
        links = []
        if page < total_pages:
            links.append(f'<{base}?{urlencode({"page": page + 1, "per_page": per_page})}>; rel="next"')
        if page > 1:
            links.append(f'<{base}?{urlencode({"page": page - 1, "per_page": per_page})}>; rel="prev"')
        links.append(f'<{base}?{urlencode({"page": 1, "per_page": per_page})}>; rel="first"')
        links.append(f'<{base}?{urlencode({"page": total_pages, "per_page": per_page})}>; rel="last"')
        headers = {
            "X-Page": str(page), "X-Per-Page": str(per_page), "X-Total": str(len(apps)),
            "X-Total-Pages": str(total_pages),
            "X-Next-Page": str(page + 1) if page < total_pages else "",
            "X-Prev-Page": str(page - 1) if page > 1 else "",
            "Link": ", ".join(links),
        }
        self._send(200, [public_application(a) for a in chunk], headers)

    def create_application(self, query):
        self._require_user(admin=True)
        app = self.server.state.create_application(self._body())
        self._send(201, public_application(app, with_secret=True))

    def delete_application(self, query, app_id):
        self._require_user(admin=True)
        self.server.state.delete_application(int(app_id))
        self._send(204)

    def renew_secret(self, query, app_id):
        self._require_user(admin=True)
        app = self.server.state.renew_secret(int(app_id))
        self._send(201, public_application(app, with_secret=True))

    def current_user(self, query):
        user = self._require_user()
        self._send(200, user_json(user, self.server.base_url))

    # OAuth2 ----------------------------------------------------------------
    def authorize(self, query):
        def arg(name):
            return query.get(name, [""])[0]
        app = self.server.state.app_by_uid(arg("client_id"))
        if app is None:
            raise HTTPError(401, {"error": "invalid_client",
                                  "error_description": "The client identification provided is invalid."})
        redirect_uri = arg("redirect_uri")
        if redirect_uri not in app["callback_url"].split("\n"):
            raise HTTPError(400, {"error": "invalid_redirect_uri",
                                  "error_description": "The redirect uri included is not valid."})
        if arg("response_type") != "code":
            raise HTTPError(400, {"error": "unsupported_response_type"})
        code = secrets.token_hex(32)
        with self.server.state.lock:
            self.server.state.codes[code] = {
                "client_id": app["application_id"], "redirect_uri": redirect_uri,
                "user_id": self.server.state.sso_user()["id"],
            }
        separator = "&" if "?" in redirect_uri else "?"
        location = redirect_uri + separator + urlencode({"code": code, "state": arg("state")})
        self._send(302, b"", {"Location": location})

    def token(self, query):
        body = self._body()
        client_id, client_secret = body.get("client_id", ""), body.get("client_secret", "")
        auth = self.headers.get("Authorization", "")
        if auth.lower().startswith("basic "):
            client_id, _sep, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
        state = self.server.state
        app = state.app_by_uid(client_id)
        if app is None or not secrets.compare_digest(app["secret"], client_secret or ""):
            raise HTTPError(401, {
                "error": "invalid_client",
                "error_description": "Client authentication failed due to unknown client, no client "
                                     "authentication included, or unsupported authentication method."})
        if body.get("grant_type") != "authorization_code":
            raise HTTPError(400, {"error": "unsupported_grant_type"})
        with state.lock:
            grant = state.codes.pop(body.get("code", ""), None)
        if (grant is None or grant["client_id"] != client_id
                or grant["redirect_uri"] != body.get("redirect_uri")):
            raise HTTPError(400, {
                "error": "invalid_grant",
                "error_description": "The provided authorization grant is invalid, expired, revoked, "
                                     "does not match the redirection URI used in the authorization "
                                     "request, or was issued to another client."})
        access = secrets.token_hex(32)
        with state.lock:
            state.access_tokens[access] = grant["user_id"]
        self._send(200, {"access_token": access, "token_type": "Bearer", "expires_in": 7200,
                         "refresh_token": secrets.token_hex(32), "scope": " ".join(app["scopes"]),
                         "created_at": int(time.time())})

    def health(self, query):
        self._send(200, b"GitLab OK")

    # test control ----------------------------------------------------------
    def emulator_state(self, query):
        state = self.server.state
        with state.lock:
            self._send(200, {"applications": state.applications,
                             "access_tokens": len(state.access_tokens),
                             "users": [user_json(u, self.server.base_url) for u in state.users]})

    def emulator_requests(self, query):
        with self.server.state.lock:
            self._send(200, list(self.server.state.requests))

    def emulator_reset(self, query):
        self.server.state.reset()
        self._send(204)

    def emulator_add_fault(self, query):
        fault = self._body()
        fault.setdefault("count", 1)
        fault.setdefault("path_regex", ".*")
        with self.server.state.lock:
            self.server.state.faults.append(fault)
        self._send(201, fault)

    def emulator_clear_faults(self, query):
        with self.server.state.lock:
            self.server.state.faults.clear()
        self._send(204)


ROUTES = {
    ("GET", "/api/v4/applications"): Handler.list_applications,
    ("POST", "/api/v4/applications"): Handler.create_application,
    ("GET", "/api/v4/user"): Handler.current_user,
    ("GET", "/oauth/authorize"): Handler.authorize,
    ("POST", "/oauth/token"): Handler.token,
    ("GET", "/-/health"): Handler.health,
    ("GET", "/-/emulator/state"): Handler.emulator_state,
    ("GET", "/-/emulator/requests"): Handler.emulator_requests,
    ("POST", "/-/emulator/reset"): Handler.emulator_reset,
    ("POST", "/-/emulator/faults"): Handler.emulator_add_fault,
    ("DELETE", "/-/emulator/faults"): Handler.emulator_clear_faults,
}
PATTERN_ROUTES = [
    (("DELETE", r"/api/v4/applications/(\d+)"), Handler.delete_application),
    (("POST", r"/api/v4/applications/(\d+)/renew-secret"), Handler.renew_secret),
]


class GitLabEmulator:
    """Runs the emulator in a background thread (HTTP, optionally HTTPS too)."""

    def __init__(self, host="127.0.0.1", port=0, external_url=None, users=None, state_file=None,
                 tls_port=None, tls_cert=None, tls_key=None):
        self.state = GitLabState(users=users, state_file=state_file)
        self.servers = [self._server(host, port, external_url)]
        if tls_port is not None and tls_cert:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls_cert, tls_key)
            server = self._server(host, tls_port, external_url, scheme="https")
            server.socket = context.wrap_socket(server.socket, server_side=True)
            self.servers.append(server)
        self.threads = []

    def _server(self, host, port, external_url, scheme="http"):
        server = ThreadingHTTPServer((host, port), Handler)
        server.daemon_threads = True
        server.state = self.state
        bound = server.server_address[1]
        server.base_url = (external_url or f"{scheme}://{host}:{bound}").rstrip("/")
        return server

    @property
    def url(self):
        host, port = self.servers[0].server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        for server in self.servers:
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            self.threads.append(thread)
        return self.url

    def stop(self):
        for server in self.servers:
            server.shutdown()
            server.server_close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument("--tls-port", type=int)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--external-url")
    parser.add_argument("--state-file")
    parser.add_argument("--config", help="JSON file with a list of users (see DEFAULT_USERS)")
    args = parser.parse_args()
    users = None
    if args.config:
        with open(args.config, encoding="utf-8") as handle:
            users = json.load(handle)
    emulator = GitLabEmulator(args.host, args.port, args.external_url, users, args.state_file,
                              args.tls_port, args.tls_cert, args.tls_key)
    emulator.start()
    print(f"GitLab emulator listening on {emulator.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        emulator.stop()


if __name__ == "__main__":
    main()
