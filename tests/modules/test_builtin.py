"""
The built-in modules through the proxy: downgrade and dummy.
"""

from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks
from twisted.logger import formatEvent, globalLogPublisher
from twisted.trial.unittest import TestCase

from mapiproxy.auth.credentials import Credentials
from mapiproxy.auth.security import makeInitiator
from mapiproxy.dcerpc.client import connectRPC
from mapiproxy.dcerpc.constants import AuthType
from mapiproxy.errors import DCERPCFault
from mapiproxy.interfaces import emsmdb as E
from mapiproxy.interfaces.registry import lookupByName
from tests.fakeexchange import FakeExchange
from tests.relaysupport import CLIENT_DOMAIN, CLIENT_PASSWORD, CLIENT_USER, PROXY_HOST, proxyConfig, startProxy

CONNECT = dict(
    szUserDN="/o=First Organization/cn=Recipients/cn=alice",
    ulCpid=1252,
    ulLcidString=1033,
    ulLcidSort=1033,
    ulIcxrLink=0xFFFFFFFF,
    usFCanConvertCodePages=1,
    rgwClientVersion=(0x000C, 0x183E, 0x03E8),
)


class BuiltinModuleTests(TestCase):
    """
    downgrade and dummy in front of the scripted Exchange.
    """

    timeout = 60

    def setUp(self):
        self.events = []
        globalLogPublisher.addObserver(self.events.append)
        self.addCleanup(globalLogPublisher.removeObserver, self.events.append)
        self.exchange = FakeExchange(self)

    @inlineCallbacks
    def _emsmdb(self, modules, extra=""):
        config = proxyConfig(
            self,
            "ncacn_ip_tcp:127.0.0.1[%d,seal]" % (self.exchange.port,),
            interfaces="exchange_emsmdb",
            extra="    dcerpc_mapiproxy:modules = %s\n%s" % (modules, extra),
        )
        service = startProxy(self, config)
        security = makeInitiator(AuthType.NTLM, Credentials(CLIENT_USER, CLIENT_PASSWORD, CLIENT_DOMAIN))
        proto = yield connectRPC(
            reactor, PROXY_HOST, service.ports["exchange_emsmdb"], [lookupByName("exchange_emsmdb").syntaxId], security=security
        )
        self.addCleanup(proto.disconnect)
        return proto

    def _texts(self):
        return [formatEvent(e) for e in self.events]

    @inlineCallbacks
    def test_downgrade(self):
        """
        EcDoConnectEx gets nca_op_rng_error and never reaches Exchange;
        EcDoConnect goes through and claims Exchange 2000 (6.0x1141.5).
        """
        proto = yield self._emsmdb("downgrade")
        fault = yield self.assertFailure(proto.call(10, E.EcDoConnectExRequest(pcbAuxOut=0x1008, **CONNECT).encode()), DCERPCFault)
        self.assertEqual(fault.status, 0x1C010002)
        self.assertEqual(self.exchange.emsmdb.requests, [])
        answer = yield proto.call(0, E.EcDoConnectRequest(**CONNECT).encode())
        response = E.EcDoConnectResponse.decode(answer)
        self.assertEqual(response.rgwServerVersion, (0x0006, 0x1141, 0x0005))
        self.assertEqual(response.szDisplayName, "EXCH01")
        self.assertEqual([op for op, request in self.exchange.emsmdb.requests], [0])
        texts = self._texts()
        self.assertIn("MAPIPROXY module 'downgrade' loaded", texts)
        self.assertIn("mapiproxy_module_load 'downgrade' (Downgrade EMSMDB protocol version EcDoConnect/EcDoRpc)", texts)

    @inlineCallbacks
    def test_dummy(self):
        """
        dummy logs its option at start-up and every hook of every call.
        """
        proto = yield self._emsmdb("dummy", "    mpm_dummy:test = hello\n")
        yield proto.call(0, E.EcDoConnectRequest(**CONNECT).encode())
        texts = self._texts()
        self.assertIn("mpm_dummy: test = hello", texts)
        for hook in ("ndr_pull", "pull", "dispatch", "push"):
            self.assertIn("mpm_dummy: %s exchange_emsmdb EcDoConnect (call 2)" % (hook,), texts)

    @inlineCallbacks
    def test_downgradeThenDummy(self):
        """
        Modules stack: with downgrade first, dummy never sees EcDoConnectEx's
        dispatch being relayed, but sees EcDoConnect.
        """
        proto = yield self._emsmdb("downgrade, dummy")
        yield self.assertFailure(proto.call(10, E.EcDoConnectExRequest(pcbAuxOut=0x1008, **CONNECT).encode()), DCERPCFault)
        texts = self._texts()
        self.assertNotIn("mpm_dummy: dispatch exchange_emsmdb EcDoConnectEx (call 2)", texts)
        self.assertIn("mpm_dummy: pull exchange_emsmdb EcDoConnectEx (call 2)", texts)


