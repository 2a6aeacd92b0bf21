"""Stand-in for ansible-test's pip bootstrap script, which it would download
from a host this machine cannot reach. Run by ansible-test inside a fresh
virtualenv with pip's command-line options: bootstraps pip from the
interpreter's own ensurepip, then installs the requested packages from the
package index (PyPI is reachable). ansible-test runs it with a cleaned
environment, so the system's CA bundle is passed explicitly."""

import ensurepip
import os
import subprocess
import sys

ensurepip.bootstrap(upgrade=True)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
for bundle in (os.environ.get("PIP_CERT"), os.environ.get("SSL_CERT_FILE"), "/etc/ssl/certs/ca-certificates.crt"):
    if bundle and os.path.exists(bundle):
        args = ["--cert", bundle] + args
        break
subprocess.check_call([sys.executable, "-m", "pip", "install", "--upgrade"] + args)
