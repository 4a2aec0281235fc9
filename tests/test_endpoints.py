"""
The endpoint mapper on real sockets: impacket's C{hept_map}/C{hept_lookup}
and Samba's C{rpcclient} against ours; our L{resolvePort} and client role
against Samba's AD DC (real SAMR calls compared with rpcclient's answers).
"""

import re

from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks
from twisted.internet.threads import deferToThread
from twisted.trial.unittest import TestCase

from mapiproxy.auth.credentials import Credentials
from mapiproxy.auth.passdb import PassDB, addUser
from mapiproxy.auth.security import makeInitiator
from mapiproxy.dcerpc.client import connectRPC
from mapiproxy.dcerpc.constants import AuthLevel, AuthType
from mapiproxy.dcerpc.server import RPCServerFactory
from mapiproxy.endpoints import EndpointMapperInterface, resolvePort
from mapiproxy.errors import EndpointNotRegistered
from mapiproxy.interfaces.registry import SAMR
from mapiproxy.testing.echo import ECHO_UUID, EchoInterface
from tests.dcerpc.test_endtoend import DOMAIN, IDENTITY, PASSWORD, USER
from tests.peers import SambaDC, canBindPrivileged, requireRoot, requireSamba, requireTool

HOST = "127.0.0.2"


def serveMapperAndEcho(testCase, mapperPort):
    """
    Serve rpcecho on a dynamic port and the endpoint mapper on C{mapperPort}
    (0: dynamic), both on L{HOST}, with echo registered in the mapper.

    @return: C{(mapper port, echo port, echo interface)}.
    """
    path = testCase.mktemp()
    addUser(path, USER, PASSWORD)
    passdb = PassDB.fromFile(path, IDENTITY)
    mapper = EndpointMapperInterface()
    echo = EchoInterface(reactor)
    factory = RPCServerFactory([mapper, echo], passdb=passdb, identity=IDENTITY)
    echoListener = reactor.listenTCP(0, factory, interface=HOST)
    testCase.addCleanup(echoListener.stopListening)
    mapperListener = reactor.listenTCP(mapperPort, factory, interface=HOST)
    testCase.addCleanup(mapperListener.stopListening)
    echoPort = echoListener.getHost().port
    mapper.mapper.register(echo.syntax, echoPort, "0.0.0.0", "rpcecho")
    return mapperListener.getHost().port, echoPort, echo


def impacketMap(mapperPort, uuid, version):
    """
    impacket's hept_map through a DCE/RPC handle on C{mapperPort}.
    """
    from impacket.dcerpc.v5 import epm, transport
    from impacket.uuid import uuidtup_to_bin

    rpctransport = transport.DCERPCTransportFactory("ncacn_ip_tcp:%s[%d]" % (HOST, mapperPort))
    dce = rpctransport.get_dce_rpc()
    dce.connect()
    try:
        return epm.hept_map(HOST, uuidtup_to_bin((uuid, version)), protocol="ncacn_ip_tcp", dce=dce)
    finally:
        dce.disconnect()


def impacketLookup(mapperPort):
    """
    impacket's hept_lookup (what rpcdump.py calls) through C{mapperPort}.
    """
    from impacket.dcerpc.v5 import epm, transport

    rpctransport = transport.DCERPCTransportFactory("ncacn_ip_tcp:%s[%d]" % (HOST, mapperPort))
    dce = rpctransport.get_dce_rpc()
    dce.connect()
    try:
        entries = epm.hept_lookup(None, dce=dce)
        return [epm.PrintStringBinding(entry["tower"]["Floors"]) for entry in entries]
    finally:
        dce.disconnect()


class EndpointMapperServerTests(TestCase):
    """
    Real clients against our endpoint mapper.
    """

    timeout = 60

    @inlineCallbacks
    def test_impacketMap(self):
        """
        impacket's hept_map resolves rpcecho to our echo port and an unknown
        interface to "not registered".
        """
        mapperPort, echoPort, echo = serveMapperAndEcho(self, 0)
        binding = yield deferToThread(impacketMap, mapperPort, str(ECHO_UUID), "1.0")
        self.assertEqual(binding, "ncacn_ip_tcp:%s[%d]" % (HOST, echoPort))
        from impacket.dcerpc.v5.rpcrt import DCERPCException

        yield self.assertFailure(
            deferToThread(impacketMap, mapperPort, "12345678-1234-abcd-ef00-0123456789ac", "1.0"),
            DCERPCException,
        )

    @inlineCallbacks
    def test_impacketLookup(self):
        """
        impacket's hept_lookup lists the echo endpoint.
        """
        mapperPort, echoPort, echo = serveMapperAndEcho(self, 0)
        bindings = yield deferToThread(impacketLookup, mapperPort)
        self.assertIn("ncacn_ip_tcp:%s[%d]" % (HOST, echoPort), bindings)

    @inlineCallbacks
    def test_resolvePort(self):
        """
        Our client helper resolves through our mapper, and fails cleanly for
        an interface nobody registered.
        """
        mapperPort, echoPort, echo = serveMapperAndEcho(self, 0)
        port = yield resolvePort(reactor, HOST, echo.syntax, port=mapperPort)
        self.assertEqual(port, echoPort)
        yield self.assertFailure(resolvePort(reactor, HOST, SAMR.syntaxId, port=mapperPort), EndpointNotRegistered)

    @inlineCallbacks
    def test_rpcclientThroughMapper(self):
        """
        rpcclient (which always asks host:135) finds rpcecho through our
        endpoint mapper, lists it with epmlookup, and calls it sealed.
        """
        rpcclient = requireTool("rpcclient")
        requireRoot("port 135")
        if not canBindPrivileged(HOST):
            raise self.skipTest("%s:135 is taken" % (HOST,))
        mapperPort, echoPort, echo = serveMapperAndEcho(self, 135)
        from twisted.internet.utils import getProcessOutputAndValue

        conf = self.mktemp()
        with open(conf, "w") as f:
            f.write("[global]\n client use kerberos = off\n")
        out, err, code = yield getProcessOutputAndValue(
            rpcclient,
            ["-s", conf, "--use-kerberos=off", "-U", "%s\\%s%%%s" % (DOMAIN, USER, PASSWORD),
             "ncacn_ip_tcp:%s[seal]" % (HOST,), "-c", "echoaddone 41; echodata 3000; epmlookup"],
            env={"PATH": "/usr/bin:/bin"},
        )
        text = out.decode("utf-8", "replace")
        self.assertEqual(code, 0, text + err.decode("utf-8", "replace"))
        self.assertIn("41 + 1 = 42", text)
        self.assertIn("ncacn_ip_tcp:%s[%d,abstract_syntax=%s/0x00000001]: rpcecho" % (HOST, echoPort, ECHO_UUID), text)
        self.assertEqual([op for op, size in echo.calls][:2], [0, 1])


class SambaClientRoleTests(TestCase):
    """
    Our client role against Samba's AD DC: its endpoint mapper, then SAMR
    sealed with NTLM, compared with what rpcclient gets directly.
    """

    timeout = 120

    def setUp(self):
        requireSamba()
        self.samba = SambaDC.shared()

    @inlineCallbacks
    def test_resolveSamrThroughSamba(self):
        """
        resolvePort finds the same samr port as impacket's hept_map on Samba.
        """
        port = yield resolvePort(reactor, self.samba.host, SAMR.syntaxId)
        expected = yield deferToThread(self.samba.samrPort)
        self.assertEqual(port, expected)

    def _samrEnumDomains(self, authType):
        return samrEnumDomains(self.samba, authType)

    @inlineCallbacks
    def test_samrEnumDomainsMatchesRpcclient(self):
        """
        SamrConnect + SamrEnumerateDomainsInSamServer over our sealed client
        (NTLM and SPNEGO) give the domains rpcclient's enumdomains prints.
        """
        code, out, err = yield deferToThread(
            self.samba.rpcclient, "ncacn_ip_tcp:%s[seal]" % (self.samba.host,), "enumdomains"
        )
        self.assertEqual(code, 0, err)
        expected = re.findall(r"name:\[([^\]]+)\] idx:\[0x([0-9a-f]+)\]", out)
        self.assertTrue(expected)
        for authType in (AuthType.NTLM, AuthType.SPNEGO):
            domains = yield self._samrEnumDomains(authType)
            self.assertEqual(domains, [(name, int(idx, 16)) for name, idx in expected])


@inlineCallbacks
def samrEnumDomains(samba, authType):
    """
    Connect to Samba's samr with our client role and enumerate domains.

    @return: a L{Deferred} firing with C{[(name, index), ...]}.
    """
    from impacket.dcerpc.v5 import samr

    port = yield resolvePort(reactor, samba.host, SAMR.syntaxId)
    security = makeInitiator(authType, Credentials(samba.adminUser, samba.adminPassword, samba.domain))
    proto = yield connectRPC(reactor, samba.host, port, [SAMR.syntaxId], security=security, authLevel=AuthLevel.PRIVACY)
    try:
        request = samr.SamrConnect()
        request["ServerName"] = "\x00"
        request["DesiredAccess"] = samr.SAM_SERVER_ENUMERATE_DOMAINS | samr.SAM_SERVER_LOOKUP_DOMAIN
        answer = yield proto.call(request.opnum, request.getData())
        connect = samr.SamrConnectResponse(answer)
        request = samr.SamrEnumerateDomainsInSamServer()
        request["ServerHandle"] = connect["ServerHandle"]
        request["EnumerationContext"] = 0
        request["PreferedMaximumLength"] = 0xFFFFFFFF
        answer = yield proto.call(request.opnum, request.getData())
        response = samr.SamrEnumerateDomainsInSamServerResponse(answer)
        names = [entry["Name"] for entry in response["Buffer"]["Buffer"]]
        return [(name, entry["RelativeId"]) for name, entry in zip(names, response["Buffer"]["Buffer"])]
    finally:
        proto.disconnect()


