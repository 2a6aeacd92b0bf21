"""Signs in to Mattermost with GitLab the way a browser does, and prints the
Mattermost user it ends up as (JSON). Standard library only: it runs inside a
test container on the test network, where the Mattermost and GitLab names
resolve.

    python3 sso_login.py https://mattermost.test [--insecure]

Steps: GET {site}/oauth/gitlab/login -> GitLab's /oauth/authorize (the
emulator approves its test user) -> {site}/signup|login/gitlab/complete ->
Mattermost exchanges the code with GitLab, sets its session cookie ->
GET {site}/api/v4/users/me with that session.
"""

import argparse
import http.cookiejar
import json
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("site")
    parser.add_argument("--insecure", action="store_true", help="do not verify Mattermost's certificate")
    parser.add_argument("--max-hops", type=int, default=10)
    args = parser.parse_args()
    site = args.site.rstrip("/")

    context = ssl.create_default_context()
    if args.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(jar), urllib.request.HTTPSHandler(context=context), NoRedirect)

    url, hops = f"{site}/oauth/gitlab/login", []
    for _hop in range(args.max_hops):
        try:
            answer = opener.open(url, timeout=30)
            status, location, body = answer.status, None, answer.read()
        except urllib.error.HTTPError as err:
            status, location, body = err.code, err.headers.get("Location"), err.read()
        hops.append({"url": url, "status": status})
        if status in (301, 302, 303, 307, 308) and location:
            url = urllib.parse.urljoin(url, location)
            continue
        break
    cookies = {c.name: c.value for c in jar}
    if "MMAUTHTOKEN" not in cookies:
        sys.stderr.write(json.dumps({"error": "no Mattermost session after the GitLab sign-in",
                                     "hops": hops, "last_body": body[:2000].decode("utf-8", "replace")},
                                    indent=2) + "\n")
        return 1
    request = urllib.request.Request(f"{site}/api/v4/users/me",
                                     headers={"Authorization": f"Bearer {cookies['MMAUTHTOKEN']}",
                                              "X-Requested-With": "XMLHttpRequest"})
    me = json.loads(opener.open(request, timeout=30).read())
    print(json.dumps({"user": {k: me.get(k) for k in ("id", "username", "email", "auth_service", "auth_data")},
                      "hops": hops}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
