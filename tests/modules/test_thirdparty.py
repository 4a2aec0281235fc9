"""
A third-party module installed with pip (examples/mapiproxy-stamp), found
through Twisted's plugin system, loaded by name from smb.conf, with its
effect visible end to end.
"""

import os
import subprocess
import sys

from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks
from twisted.trial.unittest import TestCase

from mapiproxy.auth.credentials import Credentials
from mapiproxy.auth.security import makeInitiator
from mapiproxy.dcerpc.client import connectRPC
from mapiproxy.dcerpc.constants import AuthType
from mapiproxy.interfaces import nspi as N
from mapiproxy.interfaces import nspi_types as T
from mapiproxy.interfaces.registry import lookupByName
from tests.fakeexchange import FakeExchange
from tests.relaysupport import CLIENT_DOMAIN, CLIENT_PASSWORD, CLIENT_USER, PROXY_HOST, proxyConfig, startProxy

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(REPO, "examples", "mapiproxy-stamp")


def pipInstall(target):
    """
    Install the example package into C{target} with pip (no network).
    """
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--no-build-isolation", "--target", target, EXAMPLE],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise AssertionError("pip install failed: %s" % (result.stderr[-2000:],))


class ThirdPartyModuleTests(TestCase):
    """
    The stamp example module.
    """

    timeout = 300

    def setUp(self):
        self.target = os.path.abspath(self.mktemp())
        pipInstall(self.target)

    def test_foundInFreshProcess(self):
        """
        In a fresh interpreter with the package installed, the module is
        available by name and a config naming it loads.
        """
        conf = os.path.abspath(self.mktemp())
        with open(conf, "w") as f:
            f.write("[global]\n dcerpc_mapiproxy:binding = ncacn_ip_tcp:127.0.0.1[1]\n dcerpc_mapiproxy:modules = stamp\n")
        code = (
            "from mapiproxy.modules import availableModules; from mapiproxy.service import loadConfig\n"
            "print(sorted(availableModules())); print(loadConfig(%r).modules)" % (conf,)
        )
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([self.target, REPO]))
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("'stamp'", result.stdout)
        self.assertIn("('stamp',)", result.stdout)
        env = dict(os.environ, PYTHONPATH=REPO)
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("unknown module 'stamp'", result.stderr)

    @inlineCallbacks
    def test_effectEndToEnd(self):
        """
        Through the proxy with modules = stamp, the address book's display
        names carry the configured prefix.
        """
        import twisted.plugins

        plugins = os.path.join(self.target, "twisted", "plugins")
        sys.path.insert(0, self.target)
        twisted.plugins.__path__.append(plugins)

        def restore():
            sys.path.remove(self.target)
            twisted.plugins.__path__.remove(plugins)
            for name in [n for n in sys.modules if n.startswith("mapiproxy_stamp") or n == "twisted.plugins.mapiproxy_stamp_plugin"]:
                del sys.modules[name]

        self.addCleanup(restore)
        exchange = FakeExchange(self)
        config = proxyConfig(
            self,
            "ncacn_ip_tcp:127.0.0.1[%d,seal]" % (exchange.port,),
            interfaces="exchange_nsp",
            extra="    dcerpc_mapiproxy:modules = stamp\n    mpm_stamp:prefix = [via proxy]\n",
        )
        service = startProxy(self, config)
        security = makeInitiator(AuthType.NTLM, Credentials(CLIENT_USER, CLIENT_PASSWORD, CLIENT_DOMAIN))
        nspi = yield connectRPC(
            reactor, PROXY_HOST, service.ports["exchange_nsp"], [lookupByName("exchange_nsp").syntaxId], security=security
        )
        self.addCleanup(nspi.disconnect)
        answer = yield nspi.call(9, N.NspiGetPropsRequest(pStat=T.STAT()).encode())
        values = {p.ulPropTag: p.value for p in N.NspiGetPropsResponse.decode(answer).ppRows.lpProps}
        self.assertEqual(values[0x3001001E], "[via proxy]EXCH01")
        answer = yield nspi.call(3, N.NspiQueryRowsRequest(pStat=T.STAT(), Count=5).encode())
        names = [p.value for r in N.NspiQueryRowsResponse.decode(answer).ppRows.aRow for p in r.lpProps if p.ulPropTag == 0x3001001E]
        self.assertEqual(names, ["[via proxy]Alice", "[via proxy]Bob", "[via proxy]Carol", "[via proxy]Dave"])
