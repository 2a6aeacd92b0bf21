"""Signs in to Mattermost with GitLab in a real browser (headless Chromium,
driven by selenium) and prints what the browser saw as JSON.

    python browser_login.py https://mattermost.test \
        --resolve mattermost.test=172.18.0.5 --resolve gitlab.test=172.18.0.5 \
        [--expect-button] [--expect-hsts] [--expect-consent] [--screenshots DIR]

The way a user goes: Mattermost's GitLab button (its link, /oauth/gitlab/login,
since the test build's webapp is a placeholder) -> GitLab's sign-in page (the
form is filled and submitted) -> GitLab's consent page ("Authorize") ->
Mattermost's callback, which sets the session cookies. Cookies, redirects,
Secure/HttpOnly/SameSite and HSTS are judged by Chromium, not by hand-written
HTTP code. Exits 1 with a diagnosis (and screenshots) when any step fails.

Debian's chromium and chromium-driver (tests/world/browser.sh); the driver's
path is given, as Selenium Manager cannot download one here. The test hosts'
names resolve through Chromium's host resolver rules: nothing on the machine
changes. Their certificates are self-signed or from the test world's CA,
which this throwaway browser profile does not know, hence
--ignore-certificate-errors (Chromium still treats the origins as secure, so
Secure cookies and HSTS are in force).
"""

import argparse
import json
import os
import sys
import tempfile
import time
from urllib.parse import urlsplit

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


class Failure(Exception):
    """A step that did not go as a user needs it to."""


def browser(resolve, profile):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--no-proxy-server", "--ignore-certificate-errors",
                 "--window-size=1280,900", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    rules = [f"MAP {name} {address}" for name, address in resolve] + ["EXCLUDE localhost"]
    options.add_argument("--host-resolver-rules=" + ", ".join(rules))
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


def page_json(driver, url):
    """Opens a JSON URL as a page and parses what the browser shows."""
    driver.get(url)
    text = driver.find_element(By.TAG_NAME, "body").text
    try:
        return json.loads(text)
    except ValueError as err:
        raise Failure(f"{url} did not answer JSON: {text[:300]!r}") from err


def wait_for(driver, condition, what, seconds=30):
    try:
        return WebDriverWait(driver, seconds).until(condition)
    except TimeoutException as err:
        raise Failure(f"waited {seconds} s for {what}; the browser is at {driver.current_url}") from err


def consent_button(driver):
    found = driver.find_elements(By.CSS_SELECTOR, "[data-testid='authorization-button']")
    return found[0] if found and found[0].is_displayed() else None


def cookies(driver):
    """Every cookie the browser holds, with the attributes Chromium applied."""
    return driver.execute_cdp_cmd("Network.getAllCookies", {})["cookies"]


def cookie(jar, name, host):
    found = [c for c in jar if c["name"] == name and host.endswith(c["domain"].lstrip("."))]
    if not found:
        raise Failure(f"no {name} cookie for {host}; the browser holds {sorted(c['name'] for c in jar)}")
    return found[0]


def check_cookie(found, secure):
    problems = []
    if not found.get("httpOnly"):
        problems.append("not HttpOnly")
    if secure and not found.get("secure"):
        problems.append("not Secure on an https site")
    if problems:
        raise Failure(f"cookie {found['name']} for {found['domain']}: {', '.join(problems)}")
    return {k: found.get(k) for k in ("name", "domain", "path", "httpOnly", "secure", "sameSite")}


def fetch_me(driver, site):
    """/api/v4/users/me from the page, as the webapp asks it (session cookie,
    X-Requested-With), with the HSTS header of the answer."""
    script = """
        const done = arguments[arguments.length - 1];
        fetch(arguments[0] + '/api/v4/users/me', {credentials: 'include',
              headers: {'X-Requested-With': 'XMLHttpRequest'}})
          .then(r => r.text().then(body => done({status: r.status, body: body,
                hsts: r.headers.get('strict-transport-security')})))
          .catch(e => done({status: 0, body: String(e), hsts: null}));
    """
    driver.set_script_timeout(30)
    answer = driver.execute_async_script(script, site)
    if answer["status"] != 200:
        raise Failure(f"GET {site}/api/v4/users/me from the page answered {answer['status']}: {answer['body'][:300]}")
    return json.loads(answer["body"]), answer["hsts"]


def sign_in(driver, args, steps):
    site = args.site.rstrip("/")
    site_host = urlsplit(site).hostname

    client = page_json(driver, f"{site}/api/v4/config/client?format=old")
    steps.append({"step": "client config", "EnableSignUpWithGitLab": client.get("EnableSignUpWithGitLab")})
    if args.expect_button and client.get("EnableSignUpWithGitLab") != "true":
        raise Failure("Mattermost does not offer its clients GitLab sign-in (EnableSignUpWithGitLab is "
                      f"{client.get('EnableSignUpWithGitLab')!r}): the login page has no GitLab button")

    driver.get(f"{site}/oauth/gitlab/login")
    login = wait_for(driver, expected_conditions.presence_of_element_located((By.NAME, "user[login]")),
                     "GitLab's sign-in form")
    steps.append({"step": "GitLab sign-in page", "url": driver.current_url})
    gitlab = urlsplit(driver.current_url)
    login.send_keys(args.user)
    driver.find_element(By.NAME, "user[password]").send_keys(args.password)
    screenshot(driver, args, "gitlab-sign-in")
    driver.find_element(By.CSS_SELECTOR, "[data-testid='sign-in-button']").click()

    # GitLab asks for consent once per user and application (scopes); after
    # that it sends the browser straight back through its redirect page.
    wait_for(driver, lambda d: consent_button(d) or urlsplit(d.current_url).hostname == site_host,
             "GitLab's consent page or the way back to Mattermost")
    authorize = consent_button(driver)
    if authorize:
        steps.append({"step": "GitLab consent page", "url": driver.current_url})
        screenshot(driver, args, "gitlab-consent")
        authorize.click()
    elif args.expect_consent:
        raise Failure("GitLab did not ask for consent, although this user had not authorized the application yet")

    wait_for(driver, lambda d: urlsplit(d.current_url).hostname == site_host
             and any(c["name"] == "MMAUTHTOKEN" for c in cookies(d)), "Mattermost's session after the consent")
    steps.append({"step": "back at Mattermost", "url": driver.current_url})
    screenshot(driver, args, "mattermost-signed-in")

    jar = cookies(driver)
    checked = [check_cookie(cookie(jar, "MMAUTHTOKEN", site_host), site.startswith("https://")),
               check_cookie(cookie(jar, "_gitlab_session", gitlab.hostname), gitlab.scheme == "https")]
    me, hsts = fetch_me(driver, site)
    if site.startswith("https://") and args.expect_hsts and not hsts:
        raise Failure(f"{site} answers without Strict-Transport-Security")
    return {"user": {k: me.get(k) for k in ("id", "username", "email", "auth_service")},
            "cookies": checked, "hsts": hsts, "steps": steps}


def screenshot(driver, args, name):
    if args.screenshots:
        os.makedirs(args.screenshots, exist_ok=True)
        driver.save_screenshot(os.path.join(args.screenshots, f"{int(time.time())}-{name}.png"))


def parse_resolve(value):
    name, sep, address = value.partition("=")
    if not sep or not name or not address:
        raise argparse.ArgumentTypeError(f"--resolve wants NAME=ADDRESS, got {value!r}")
    return name, address


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site")
    parser.add_argument("--resolve", type=parse_resolve, action="append", default=[],
                        help="NAME=ADDRESS the browser uses for a test host (repeat)")
    parser.add_argument("--user", default="sso.tester")
    parser.add_argument("--password", default="sso-Tester-Pa55word")
    parser.add_argument("--expect-button", action="store_true",
                        help="fail unless Mattermost offers its clients GitLab sign-in")
    parser.add_argument("--expect-hsts", action="store_true", help="fail unless the site sends HSTS")
    parser.add_argument("--expect-consent", action="store_true",
                        help="fail unless GitLab asks for consent (a user who never authorized the application)")
    parser.add_argument("--screenshots", help="directory for a screenshot of each page")
    args = parser.parse_args()

    steps = []
    with tempfile.TemporaryDirectory(prefix="chatops-browser-") as profile:
        driver = browser(args.resolve, profile)
        try:
            result = sign_in(driver, args, steps)
        except (Failure, WebDriverException) as err:
            screenshot(driver, args, "failure")
            body = ""
            try:
                body = driver.find_element(By.TAG_NAME, "body").text[:1000]
            except WebDriverException:
                pass
            sys.stderr.write(json.dumps({"error": str(err).strip(), "url": driver.current_url,
                                         "page": body, "steps": steps}, indent=2) + "\n")
            return 1
        finally:
            driver.quit()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
