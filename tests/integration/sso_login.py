"""Signs in to Mattermost with GitLab the way a browser does, and prints the
Mattermost user it ends up as (JSON). Standard library only: it runs inside a
test container on the test network, where the Mattermost and GitLab names
resolve.

    python3 sso_login.py https://mattermost.test [--insecure]
                         [--user sso.tester] [--password sso-Tester-Pa55word]

Steps: GET {site}/oauth/gitlab/login -> GitLab's /oauth/authorize -> (no
GitLab session) /users/sign_in: the form is filled in (authenticity_token,
user[login], user[password]) and posted -> back to /oauth/authorize: the
consent form is posted when GitLab shows it (or the "Redirecting" page's link
followed when the user already authorized) -> {site}/signup|login/gitlab/complete
-> Mattermost exchanges the code with GitLab and sets its session cookie ->
GET {site}/api/v4/users/me with that session.

With --confirm URL, the same browser (signed in to GitLab now) then opens a
GitLab page with an authorize form, such as the link GitLab's slash command
gives a chat user to connect their account, and submits that form (the form
posting a token, not the one that denies it).

Prints {"user": {...}, "hops": [...]}; on failure a JSON diagnosis on stderr
(with GitLab's error when a redirect or page carries one) and exit status 1.
"""

import argparse
import http.cookiejar
import json
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser

REDIRECTS = (301, 302, 303, 307, 308)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are followed by hand, so every hop is seen and recorded."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class PageParser(HTMLParser):
    """The forms (fields a browser would submit, buttons), links, <pre> texts
    and flash alerts of an HTML page."""

    def __init__(self):
        super().__init__()
        self.forms, self.links, self.pre, self.alerts = [], [], [], []
        self._text_target = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action", ""), "method": attrs.get("method", "get"),
                               "fields": [], "buttons": []})
        elif tag == "input" and self.forms:
            self._add_input(attrs)
        elif tag == "button" and self.forms:
            self.forms[-1]["buttons"].append(attrs)
        elif tag == "a" and attrs.get("href"):
            self.links.append({"href": attrs["href"], "text": ""})
            self._text_target = self.links[-1]
        elif tag == "pre":
            self.pre.append({"text": ""})
            self._text_target = self.pre[-1]
        elif tag == "div" and "flash-alert" in (attrs.get("class") or ""):
            self.alerts.append({"text": ""})
            self._text_target = self.alerts[-1]

    def _add_input(self, attrs):
        kind = (attrs.get("type") or "text").lower()
        if not attrs.get("name") or kind in ("submit", "button", "image", "reset"):
            return
        if kind in ("checkbox", "radio") and "checked" not in attrs:
            return
        self.forms[-1]["fields"].append([attrs["name"], attrs.get("value") or ""])

    def handle_endtag(self, tag):
        if tag in ("a", "pre", "div"):
            self._text_target = None

    def handle_data(self, data):
        if self._text_target is not None:
            self._text_target["text"] += data


def parse_page(body):
    parser = PageParser()
    parser.feed(body.decode("utf-8", "replace"))
    return parser


def form_with(parser, predicate):
    return next((form for form in parser.forms if predicate(form)), None)


def field_names(form):
    return {name for name, _value in form["fields"]}


def button_testids(form):
    return {button.get("data-testid") for button in form["buttons"]}


def gitlab_error_in(url):
    """error/error_description of a redirect back to the client, if any."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    if "error" not in query:
        return None
    return {"error": query["error"][0], "error_description": query.get("error_description", [""])[0]}


class SignInFailed(Exception):
    """A step that a browser user would be stuck at."""


class Browser:
    """A cookie jar, no automatic redirects, and the hops taken."""

    def __init__(self, insecure):
        context = ssl.create_default_context()
        if insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), urllib.request.HTTPSHandler(context=context), NoRedirect)
        self.hops = []
        self.last_body = b""
        self.gitlab_error = None

    def fetch(self, url, form=None, headers=None):
        """One request; returns (status, Location or None, body)."""
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(url, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as answer:
                status, location, body = answer.status, None, answer.read()
        except urllib.error.HTTPError as err:
            status, location, body = err.code, err.headers.get("Location"), err.read()
        self.hops.append({"method": "POST" if form is not None else "GET", "url": url, "status": status})
        self.last_body = body
        return status, location, body

    def cookie(self, name):
        return next((c.value for c in self.jar if c.name == name), None)


def next_step(browser, url, body, credentials, state):
    """What a user does on this page: (url, form to post) or None when done."""
    page = parse_page(body)
    sign_in = form_with(page, lambda f: "user[login]" in field_names(f))
    if sign_in is not None:
        if state.get("signed_in"):
            alert = " ".join(a["text"].strip() for a in page.alerts) or "the sign-in page came back"
            raise SignInFailed(f"GitLab refused the sign-in: {alert}")
        state["signed_in"] = True
        fields = dict(sign_in["fields"])
        fields.update({"user[login]": credentials[0], "user[password]": credentials[1]})
        return urllib.parse.urljoin(url, sign_in["action"]), fields
    consent = form_with(page, lambda f: "authorization-button" in button_testids(f))
    if consent is not None:
        return urllib.parse.urljoin(url, consent["action"]), dict(consent["fields"])
    onward = next((link for link in page.links if link["text"].startswith("Click here to redirect to")), None)
    if onward is not None:
        return urllib.parse.urljoin(url, onward["href"]), None
    if b"An error has occurred" in body and page.pre:
        browser.gitlab_error = {"error_description": page.pre[0]["text"].strip()}
        raise SignInFailed("GitLab showed its OAuth error page")
    return None


def sign_in(browser, site, credentials, max_hops):
    """Follows redirects and fills GitLab's pages until no step is left."""
    url, form, state = f"{site}/oauth/gitlab/login", None, {}
    for _hop in range(max_hops):
        status, location, body = browser.fetch(url, form)
        if status in REDIRECTS and location:
            url, form = urllib.parse.urljoin(url, location), None
            browser.gitlab_error = gitlab_error_in(url) or browser.gitlab_error
            continue
        step = next_step(browser, url, body, credentials, state) if status == 200 else None
        if step is None:
            return
        url, form = step
    raise SignInFailed(f"still redirecting after {max_hops} hops")


def confirm(browser, url):
    """Opens url with the GitLab session and submits its authorize form; the
    answer must send the browser on (GitLab's 302 to the list)."""
    status, _location, body = browser.fetch(url)
    if status != 200:
        raise SignInFailed(f"GitLab answered {status} for the page to confirm (unknown, used or expired token?)")
    page = parse_page(body)
    form = form_with(page, lambda f: f["method"].lower() == "post" and "token" in field_names(f)
                     and "_method" not in field_names(f))
    if form is None:
        raise SignInFailed("the page to confirm has no authorize form")
    status, location, _body = browser.fetch(urllib.parse.urljoin(url, form["action"]), dict(form["fields"]))
    if status not in REDIRECTS:
        raise SignInFailed(f"GitLab answered {status} to the confirmation")
    return urllib.parse.urljoin(url, location or "")


def fail(browser, message):
    sys.stderr.write(json.dumps({"error": message, "gitlab_error": browser.gitlab_error, "hops": browser.hops,
                                 "last_body": browser.last_body[:2000].decode("utf-8", "replace")},
                                indent=2) + "\n")
    return 1


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("site")
    parser.add_argument("--insecure", action="store_true", help="do not verify certificates")
    parser.add_argument("--user", default="sso.tester", help="GitLab login (username or email)")
    parser.add_argument("--password", default="sso-Tester-Pa55word", help="GitLab password")
    parser.add_argument("--max-hops", type=int, default=20)
    parser.add_argument("--session", action="store_true",
                        help="print the Mattermost session token too (for API calls as the user)")
    parser.add_argument("--confirm", metavar="URL",
                        help="then open this GitLab page signed in and submit its authorize form")
    args = parser.parse_args(argv)
    site = args.site.rstrip("/")

    browser = Browser(args.insecure)
    try:
        sign_in(browser, site, (args.user, args.password), args.max_hops)
    except SignInFailed as err:
        return fail(browser, str(err))
    token = browser.cookie("MMAUTHTOKEN")
    if token is None:
        return fail(browser, "no Mattermost session after the GitLab sign-in")
    status, _location, body = browser.fetch(f"{site}/api/v4/users/me", headers={
        "Authorization": f"Bearer {token}", "X-Requested-With": "XMLHttpRequest"})
    if status != 200:
        return fail(browser, f"Mattermost answered {status} for /api/v4/users/me")
    me = json.loads(body)
    answer = {"user": {k: me.get(k) for k in ("id", "username", "email", "auth_service", "auth_data")},
              "hops": browser.hops}
    if args.confirm:
        try:
            answer["confirmed"] = confirm(browser, args.confirm)
        except SignInFailed as err:
            return fail(browser, str(err))
    if args.session:
        answer["token"] = token
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
