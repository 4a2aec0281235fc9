"""
The proxy end to end over real sockets: client -> mapiproxy -> upstream,
sealed on both legs, with an rpcecho upstream served by the engine (which
the tests can kill) and with a real Samba AD DC.
"""

import os
import struct

from twisted.internet import reactor
from twisted.internet.defer import gatherResults, inlineCallbacks
from twisted.internet.threads import deferToThread
from twisted.logger import globalLogPublisher
from twisted.trial.unittest import TestCase
from zope.interface import implementer

from mapiproxy.auth.credentials import Credentials
from mapiproxy.auth.security import makeInitiator
from mapiproxy.dcerpc.client import connectRPC
from mapiproxy.dcerpc.constants import AuthLevel, AuthType, Status
from mapiproxy.endpoints import resolvePort
from mapiproxy.errors import DCERPCFault, UpstreamError
from mapiproxy.imapiproxy import IRPCInterface
from mapiproxy.testing.echo import EchoInterface
from tests.peers import SambaDC, canBindPrivileged, requireRoot, requireSamba, requireTool
from tests.relaysupport import (
    CLIENT_DOMAIN,
    CLIENT_PASSWORD,
    CLIENT_USER,
    PROXY_HOST,
    EchoUpstream,
    proxyConfig,
    startProxy,
)

ECHO_SYNTAX = EchoInterface().syntax


def connectClient(service, authType=AuthType.NTLM, level=AuthLevel.PRIVACY, password=CLIENT_PASSWORD, assocGroupId=0, maxFragment=5840):
    """
    Our client, bound to the proxy's rpcecho port.
    """
    security = None
    if authType is not None:
        security = makeInitiator(authType, Credentials(CLIENT_USER, password, CLIENT_DOMAIN))
    port = service.ports[ECHO_SPEC_NAME(service)]
    return connectRPC(
        reactor,
        PROXY_HOST,
        port,
        [ECHO_SYNTAX],
        security=security,
        authLevel=level,
        assocGroupId=assocGroupId,
        timeout=10,
        maxFragment=maxFragment,
    )


def ECHO_SPEC_NAME(service):
    return service.interfaces[0].name


def echoStub(data):
    return struct.pack("<II", len(data), len(data)) + data


def impacketEcho(port, level, data):
    """
    impacket's DCERPC_v5 against the proxy: two EchoData calls (the second
    goes through the relay's cut-through path).

    @return: the answer of the second.
    """
    from impacket.dcerpc.v5 import transport
    from impacket.dcerpc.v5.rpcrt import RPC_C_AUTHN_WINNT
    from impacket.uuid import uuidtup_to_bin

    rpctransport = transport.DCERPCTransportFactory("ncacn_ip_tcp:%s[%d]" % (PROXY_HOST, port))
    rpctransport.set_credentials(CLIENT_USER, CLIENT_PASSWORD, CLIENT_DOMAIN)
    dce = rpctransport.get_dce_rpc()
    dce.set_auth_type(RPC_C_AUTHN_WINNT)
    dce.set_auth_level(level)
    dce.connect()
    try:
        dce.bind(uuidtup_to_bin((str(ECHO_SYNTAX.uuid), "1.0")))
        dce.call(1, echoStub(data[::-1]))
        if dce.recv()[4:] != data[::-1]:
            raise AssertionError("first EchoData answer differs")
        dce.call(1, echoStub(data))
        return dce.recv()
    finally:
        dce.disconnect()


class Logged:
    """
    Collect log events while a test runs.
    """

    def __init__(self, testCase):
        self.events = []
        globalLogPublisher.addObserver(self.events.append)
        testCase.addCleanup(globalLogPublisher.removeObserver, self.events.append)

    def texts(self):
        from twisted.logger import formatEvent

        return [formatEvent(e) for e in self.events]


class EchoRelayTests(TestCase):
    """
    The relay with an rpcecho upstream.
    """

    timeout = 90

    def setUp(self):
        self.upstream = EchoUpstream(self)
        self.config = proxyConfig(self, "ncacn_ip_tcp:127.0.0.1[%d,seal]" % (self.upstream.port,))
        self.service = startProxy(self, self.config)

    @inlineCallbacks
    def test_impacketSealed(self):
        """
        impacket at levels 5 and 6 through the proxy: 200 KB each way come
        back byte-identical, and the upstream saw the call.
        """
        port = self.service.ports[self.service.interfaces[0].name]
        for level in (AuthLevel.INTEGRITY, AuthLevel.PRIVACY):
            data = os.urandom(200 * 1024)
            answer = yield deferToThread(impacketEcho, port, level, data)
            self.assertEqual(answer[4:], data)
        self.assertEqual([op for op, size in self.upstream.echo.calls], [1, 1, 1, 1])
        upstreamAuth = [a.authInfo for a in self.upstream.associations]
        self.assertEqual({(i.username, i.authLevel) for i in upstreamAuth}, {("relay", AuthLevel.PRIVACY)})

    @inlineCallbacks
    def test_spnegoClientAndFaults(self):
        """
        An SPNEGO client; an upstream fault comes back unchanged; calls go on.
        """
        proto = yield connectClient(self.service, authType=AuthType.SPNEGO)
        self.addCleanup(proto.disconnect)
        fault = yield self.assertFailure(proto.call(42, b""), DCERPCFault)
        self.assertEqual(fault.status, Status.NCA_S_OP_RNG_ERROR)
        answer = yield proto.call(0, struct.pack("<I", 1))
        self.assertEqual(answer, struct.pack("<I", 2))

    @inlineCallbacks
    def test_wrongPasswordNeverReachesUpstream(self):
        """
        A client with a wrong password gets a fault; the upstream never sees
        a connection.
        """
        proto = yield connectClient(self.service, password="wrong")
        self.addCleanup(proto.disconnect)
        yield self.assertFailure(proto.call(0, struct.pack("<I", 1)), DCERPCFault, UpstreamError)
        self.assertEqual(self.upstream.factory.connections, [])

    @inlineCallbacks
    def test_unauthenticatedNeverReachesUpstream(self):
        """
        A client that does not authenticate is refused before anything goes upstream.
        """
        proto = yield connectClient(self.service, authType=None)
        self.addCleanup(proto.disconnect)
        fault = yield self.assertFailure(proto.call(0, struct.pack("<I", 1)), DCERPCFault)
        self.assertEqual(fault.status, Status.ACCESS_DENIED)
        self.assertEqual(self.upstream.factory.connections, [])

    @inlineCallbacks
    def test_alterContextMirrored(self):
        """
        A context added by alter_context is added upstream too.
        """
        proto = yield connectClient(self.service)
        self.addCleanup(proto.disconnect)
        yield proto.call(0, struct.pack("<I", 1))
        contextId = yield proto.alterContext(ECHO_SYNTAX)
        answer = yield proto.call(0, struct.pack("<I", 5), contextId=contextId)
        self.assertEqual(answer, struct.pack("<I", 6))
        (upstream,) = self.upstream.associations
        self.assertEqual(sorted(s.contextId for s in upstream.sessions), [0, 1])

    @inlineCallbacks
    def test_assocGroupShared(self):
        """
        Two client associations in one group land in one upstream group.
        """
        first = yield connectClient(self.service)
        self.addCleanup(first.disconnect)
        yield first.call(0, struct.pack("<I", 1))
        second = yield connectClient(self.service, assocGroupId=first.assocGroupId)
        self.addCleanup(second.disconnect)
        yield second.call(0, struct.pack("<I", 1))
        groups = [a.assocGroupId for a in self.upstream.associations]
        self.assertEqual(len(groups), 2)
        self.assertEqual(groups[0], groups[1])
        other = yield connectClient(self.service)
        self.addCleanup(other.disconnect)
        yield other.call(0, struct.pack("<I", 1))
        self.assertNotEqual(self.upstream.associations[2].assocGroupId, groups[0])

    @inlineCallbacks
    def test_concurrentClients(self):
        """
        Twenty clients at once each get their own answers.
        """
        protos = yield gatherResults([connectClient(self.service) for _ in range(20)])
        for proto in protos:
            self.addCleanup(proto.disconnect)
        answers = yield gatherResults([p.call(0, struct.pack("<I", i)) for i, p in enumerate(protos)])
        self.assertEqual(answers, [struct.pack("<I", i + 1) for i in range(20)])

    @inlineCallbacks
    def test_epmapperRegistration(self):
        """
        The proxy's endpoint mapper resolves the relayed interface to its port.
        """
        port = yield resolvePort(reactor, PROXY_HOST, ECHO_SYNTAX, port=self.config.epmapperPort)
        self.assertEqual(port, self.service.ports[self.service.interfaces[0].name])

    @inlineCallbacks
    def test_upstreamKilledMidCall(self):
        """
        Killing the upstream during a call: the client gets a fault and its
        connection closes, within a bounded time; once the upstream is back,
        new clients work.
        """
        logged = Logged(self)
        proto = yield connectClient(self.service)
        yield proto.call(0, struct.pack("<I", 1))
        sleeping = proto.call(6, struct.pack("<I", 20))
        reactor.callLater(0.3, self.upstream.kill)
        failure = yield self.assertFailure(sleeping, DCERPCFault, UpstreamError)
        if isinstance(failure, DCERPCFault):
            self.assertEqual(failure.status, Status.NCA_S_COMM_FAILURE)
        self.assertTrue(any("lost" in text for text in logged.texts()), logged.texts())
        self.upstream.start()
        fresh = yield connectClient(self.service)
        self.addCleanup(fresh.disconnect)
        answer = yield fresh.call(0, struct.pack("<I", 9))
        self.assertEqual(answer, struct.pack("<I", 10))


def sleepFor(d, seconds):
    reactor.callLater(seconds, d.callback, None)
    return d


class CutThroughTests(TestCase):
    """
    After a client's first call, the relay forwards its fragments one by one
    (cut-through) when nothing looks at the calls.
    """

    timeout = 120

    def setUp(self):
        self.upstream = EchoUpstream(self)
        self.logged = Logged(self)

    def _start(self, flags="seal", **changes):
        import attrs

        config = proxyConfig(self, "ncacn_ip_tcp:127.0.0.1[%d,%s]" % (self.upstream.port, flags))
        if changes:
            config = attrs.evolve(config, **changes)
        return startProxy(self, config)

    def cutThroughLines(self):
        return [t for t in self.logged.texts() if "cut-through" in t]

    @inlineCallbacks
    def test_stubsOfEverySize(self):
        """
        Stubs from 0 bytes to 1 MiB come back byte-identical through the
        cut-through path, with client fragments of 5840 and of 1432 bytes
        and sign-only or sealed clients, and the upstream answered every
        call.
        """
        service = self._start()
        sizes = [0, 1, 28, 5790, 5791, 70000, 1 << 20]
        clients = 0
        for level, maxFragment in [(AuthLevel.PRIVACY, 5840), (AuthLevel.INTEGRITY, 1432), (AuthLevel.PRIVACY, 1432)]:
            proto = yield connectClient(service, level=level, maxFragment=maxFragment)
            self.addCleanup(proto.disconnect)
            clients += 1
            yield proto.call(0, struct.pack("<I", 1))
            self.assertEqual(len(self.cutThroughLines()), clients)
            for size in sizes:
                data = os.urandom(size)
                answer = yield proto.call(1, echoStub(data))
                self.assertTrue(answer[4:] == data, "size %d differs" % (size,))
        self.assertEqual(len(self.upstream.echo.calls), clients * (len(sizes) + 1))

    @inlineCallbacks
    def test_concurrentCallsAnsweredOutOfOrder(self):
        """
        Multiplexed calls on one association, answered by the upstream out
        of order, each get their own answer.
        """
        service = self._start()
        proto = yield connectClient(service)
        self.addCleanup(proto.disconnect)
        yield proto.call(0, struct.pack("<I", 1))
        self.assertEqual(len(self.cutThroughLines()), 1)
        sleeping = proto.call(6, struct.pack("<I", 1))
        quick = [proto.call(0, struct.pack("<I", i)) for i in range(10)]
        big = proto.call(1, echoStub(b"z" * 100000))
        answers = yield gatherResults(quick)
        self.assertEqual(answers, [struct.pack("<I", i + 1) for i in range(10)])
        self.assertFalse(sleeping.called)
        answer = yield big
        self.assertEqual(answer[4:], b"z" * 100000)
        answer = yield sleeping
        self.assertEqual(answer, struct.pack("<I", 1))

    @inlineCallbacks
    def test_upstreamFaultPassedOn(self):
        """
        An upstream fault on a cut-through call comes back with its status,
        and the association goes on.
        """
        service = self._start()
        proto = yield connectClient(service)
        self.addCleanup(proto.disconnect)
        yield proto.call(0, struct.pack("<I", 1))
        fault = yield self.assertFailure(proto.call(42, b""), DCERPCFault)
        self.assertEqual(fault.status, Status.NCA_S_OP_RNG_ERROR)
        answer = yield proto.call(0, struct.pack("<I", 4))
        self.assertEqual(answer, struct.pack("<I", 5))

    @inlineCallbacks
    def test_callTimeout(self):
        """
        A cut-through call the upstream does not answer within
        upstream_timeout gets a fault and the client connection closes; the
        log says why.
        """
        service = self._start(upstreamTimeout=1)
        proto = yield connectClient(service)
        yield proto.call(0, struct.pack("<I", 1))
        failure = yield self.assertFailure(proto.call(6, struct.pack("<I", 30)), DCERPCFault, UpstreamError)
        if isinstance(failure, DCERPCFault):
            self.assertEqual(failure.status, Status.NCA_S_COMM_FAILURE)
        self.assertTrue(any("timed out" in t for t in self.logged.texts()), self.logged.texts())

    @inlineCallbacks
    def test_notWithObservers(self):
        """
        In print mode every call is decoded and shown: no cut-through.
        """
        service = self._start(flags="seal,print")
        proto = yield connectClient(service)
        self.addCleanup(proto.disconnect)
        for i in range(3):
            answer = yield proto.call(0, struct.pack("<I", i))
            self.assertEqual(answer, struct.pack("<I", i + 1))
        self.assertEqual(self.cutThroughLines(), [])


class SmbtortureThroughProxyTests(TestCase):
    """
    Samba's own client, smbtorture rpc.echo, through the proxy to the
    rpcecho upstream: every call after a connection's first goes through
    the cut-through path, the sleep test with calls answered out of order.
    """

    timeout = 300

    @inlineCallbacks
    def test_echoSuite(self):
        """
        The rpc.echo tests of implemented opnums pass through the proxy
        with NTLM sealed and signed and with SPNEGO, as they do direct;
        tshark finds no malformed frame on either leg, and for the sealed
        NTLM run it unseals both legs to the same stub bytes.
        """
        from tests.dcerpc.test_samba_clients import runEchoSuite
        from tests.tshark import Capture, malformedFrames

        requireTool("smbtorture")
        requireRoot("tshark on lo")
        upstream = EchoUpstream(self)
        service = startProxy(self, proxyConfig(self, "ncacn_ip_tcp:127.0.0.1[%d,seal]" % (upstream.port,)))
        port = service.ports[service.interfaces[0].name]
        logged = Logged(self)
        legs = [port, upstream.port]
        for flags in ("seal,ntlm", "sign,ntlm", "seal,spnego"):
            capture = Capture(legs)
            capture.start()
            self.addCleanup(getattr(capture, "cleanup", lambda: None))
            try:
                yield runEchoSuite(
                    self, "ncacn_ip_tcp:%s[%d,%s]" % (PROXY_HOST, port, flags), CLIENT_DOMAIN, CLIENT_USER, CLIENT_PASSWORD
                )
            finally:
                path = capture.stop()
            self.assertEqual(malformedFrames(path, decodeAs=legs), [], flags)
            if flags == "seal,ntlm":
                self._sameStubs(path, port, upstream.port)
        self.assertTrue(any("cut-through" in t for t in logged.texts()))

    def _sameStubs(self, path, clientLeg, upstreamLeg):
        """
        tshark unseals each leg with its own password (the client's, and
        the account the proxy uses upstream): the stubs the client sealed
        and the ones the proxy resealed are the same bytes, both ways.
        """
        from tests.relaysupport import UPSTREAM_PASSWORD
        from tests.tshark import summary

        def stubs(password, leg, ptype):
            rows = summary(
                path,
                decodeAs=[leg],
                fields=("dcerpc.pkt_type", "dcerpc.cn_flags", "dcerpc.decrypted_stub_data"),
                displayFilter="tcp.port == %d && dcerpc.pkt_type == %d" % (leg, ptype),
                ntlmPassword=password,
            )
            # tshark 4.0 loses its RC4 stream at the first multi-fragment
            # call (several PDUs per TCP segment): compare the
            # single-fragment calls before it.
            out = []
            for row in rows:
                types = row["dcerpc.pkt_type"].split(",")
                flags = row["dcerpc.cn_flags"].split(",")[types.index(str(ptype))]
                if types.count(str(ptype)) > 1 or int(flags, 16) & 3 != 3:
                    break
                out.append(row["dcerpc.decrypted_stub_data"])
            return out

        for ptype in (0, 2):
            fromClient = stubs(CLIENT_PASSWORD, clientLeg, ptype)
            toUpstream = stubs(UPSTREAM_PASSWORD, upstreamLeg, ptype)
            compared = min(len(fromClient), len(toUpstream))
            self.assertGreaterEqual(compared, 10)
            self.assertEqual(fromClient[:compared], toUpstream[:compared], "PDU type %d" % (ptype,))


@implementer(IRPCInterface)
class SlowInterface:
    """
    An interface (by its info's syntax) that answers every call after
    C{delay} seconds with 8 zero bytes.
    """

    requireAuthentication = True

    def __init__(self, info, delay):
        self.name = info.name
        self.syntax = info.syntaxId
        self.delay = delay
        self.calls = []
        self.pending = []

    def contextBound(self, session):
        return None

    def contextReleased(self, session):
        pass

    def handleCall(self, call):
        from twisted.internet.task import deferLater

        self.calls.append(call.opnum)
        d = deferLater(reactor, self.delay, lambda: b"\x00" * 8)
        self.pending.append(d)
        return d

    def cancelAll(self):
        for d in self.pending:
            if not d.called:
                d.cancel()


class HeldCallTests(TestCase):
    """
    EcDoAsyncWaitEx may be held by the server for up to 5 minutes
    ([MS-OXCRPC] 3.3.4.1): the relay waits for it past upstream_timeout,
    on both paths, while other calls still time out.
    """

    timeout = 60

    def _start(self, interfaceName, delay):
        import attrs

        from mapiproxy.auth.credentials import ServerIdentity
        from mapiproxy.auth.passdb import PassDB, addUser
        from mapiproxy.dcerpc.server import RPCServerFactory
        from mapiproxy.interfaces.registry import lookupByName
        from tests.relaysupport import UPSTREAM_DOMAIN, UPSTREAM_PASSWORD, UPSTREAM_USER

        info = lookupByName(interfaceName)
        path = self.mktemp()
        addUser(path, UPSTREAM_USER, UPSTREAM_PASSWORD)
        identity = ServerIdentity("UPSTREAM", UPSTREAM_DOMAIN)
        slow = SlowInterface(info, delay)
        self.addCleanup(slow.cancelAll)
        factory = RPCServerFactory([slow], passdb=PassDB.fromFile(path, identity), identity=identity)
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        config = proxyConfig(self, "ncacn_ip_tcp:127.0.0.1[%d,seal]" % (port.getHost().port,), interfaces=interfaceName)
        service = startProxy(self, attrs.evolve(config, upstreamTimeout=1))
        return service, slow, info

    def _connect(self, service, info):
        security = makeInitiator(AuthType.NTLM, Credentials(CLIENT_USER, CLIENT_PASSWORD, CLIENT_DOMAIN))
        return connectRPC(
            reactor, PROXY_HOST, service.ports[info.name], [info.syntaxId], security=security, authLevel=AuthLevel.PRIVACY, timeout=10
        )

    @inlineCallbacks
    def test_asyncWaitOutlastsUpstreamTimeout(self):
        """
        Two EcDoAsyncWaitEx calls that the upstream holds for 2.5 s each go
        through with upstream_timeout = 1 (the first whole, the second cut
        through), and the answers arrive.
        """
        service, slow, info = self._start("exchange_async_emsmdb", 2.5)
        logged = Logged(self)
        proto = yield self._connect(service, info)
        self.addCleanup(proto.disconnect)
        for _ in range(2):
            answer = yield proto.call(0, b"\x00" * 24)
            self.assertEqual(answer, b"\x00" * 8)
        self.assertEqual(slow.calls, [0, 0])
        self.assertEqual(len([t for t in logged.texts() if "cut-through" in t]), 1)
        self.assertFalse(any("timed out" in t for t in logged.texts()), logged.texts())

    @inlineCallbacks
    def test_otherCallsStillTimeOut(self):
        """
        An EMSMDB call held as long gets a fault after upstream_timeout, on
        both paths.
        """
        service, slow, info = self._start("exchange_emsmdb", 2.5)
        for _ in range(2):
            logged = Logged(self)
            proto = yield self._connect(service, info)
            self.addCleanup(proto.disconnect)
            if _:
                # A quick first call makes the context cut through.
                slow.delay = 0
                yield proto.call(11, b"")
                slow.delay = 2.5
            failure = yield self.assertFailure(proto.call(0, b""), DCERPCFault, UpstreamError)
            if isinstance(failure, DCERPCFault):
                self.assertEqual(failure.status, Status.NCA_S_COMM_FAILURE)
            self.assertTrue(any("timed out after 1s" in t for t in logged.texts()), logged.texts())


class UnreachableUpstreamTests(TestCase):
    """
    An upstream that is not there.
    """

    timeout = 60

    @inlineCallbacks
    def test_unreachable(self):
        """
        Nothing listens upstream: the call gets nca_s_comm_failure, the
        connection closes, the log says why, and the proxy keeps serving.
        """
        from tests.peers import freePort

        logged = Logged(self)
        dead = freePort("127.0.0.1")
        service = startProxy(self, proxyConfig(self, "ncacn_ip_tcp:127.0.0.1[%d,seal]" % (dead,)))
        for attempt in range(2):
            proto = yield connectClient(service)
            self.addCleanup(proto.disconnect)
            fault = yield self.assertFailure(proto.call(0, struct.pack("<I", 1)), DCERPCFault)
            self.assertEqual(fault.status, Status.NCA_S_COMM_FAILURE)
        self.assertTrue(any("cannot reach upstream" in text for text in logged.texts()))


class SambaRelayTests(TestCase):
    """
    The proxy in front of a real Samba AD DC, with Samba's and impacket's
    clients: the same answers through the proxy as direct.
    """

    timeout = 180

    def setUp(self):
        requireSamba()
        self.samba = SambaDC.shared()

    def _proxy(self, epmapperPort=None):
        config = proxyConfig(self, "ncacn_ip_tcp:%s[seal]" % (self.samba.host,), interfaces="samr", epmapperPort=epmapperPort)
        import attrs

        config = attrs.evolve(
            config, username=self.samba.adminUser, password=self.samba.adminPassword, domain=self.samba.domain
        )
        return startProxy(self, config)

    @inlineCallbacks
    def test_rpcclientSameAsDirect(self):
        """
        rpcclient enumdomusers/enumdomains through the proxy (sealed, and
        SPNEGO) prints exactly what it prints direct; tshark finds no
        malformed packet on either leg.
        """
        requireTool("rpcclient")
        requireRoot("port 135")
        if not canBindPrivileged(PROXY_HOST):
            raise self.skipTest("%s:135 is taken" % (PROXY_HOST,))
        from tests.tshark import Capture, malformedFrames

        service = self._proxy(epmapperPort=135)
        capture = Capture([135, service.ports["samr"], range(15000, 15011)])
        yield deferToThread(capture.start)
        try:
            code, direct, err = yield deferToThread(
                self.samba.rpcclient, "ncacn_ip_tcp:%s[seal]" % (self.samba.host,), "enumdomusers;enumdomains"
            )
            self.assertEqual(code, 0, err)
            self.assertIn("user:[Administrator]", direct)
            for flags in ("seal", "seal,spnego", "sign"):
                code, relayed, err = yield deferToThread(
                    self.samba.rpcclient,
                    "ncacn_ip_tcp:%s[%s]" % (PROXY_HOST, flags),
                    "enumdomusers;enumdomains",
                    user=CLIENT_USER,
                    password=CLIENT_PASSWORD,
                    domain=CLIENT_DOMAIN,
                )
                self.assertEqual((code, relayed), (0, direct), err)
            code, out, err = yield deferToThread(
                self.samba.rpcclient,
                "ncacn_ip_tcp:%s[seal]" % (PROXY_HOST,),
                "enumdomusers",
                user=CLIENT_USER,
                password="wrong",
                domain=CLIENT_DOMAIN,
            )
            self.assertNotEqual(code, 0)
            self.assertNotIn("Administrator", out)
        finally:
            path = yield deferToThread(capture.stop)
        bad = yield deferToThread(malformedFrames, path, None, [service.ports["samr"]])
        self.assertEqual(bad, [])

    @inlineCallbacks
    def test_impacketSamrSameAsDirect(self):
        """
        impacket's samr client at levels 5 and 6 through the proxy lists the
        same domains and users as direct.
        """
        service = self._proxy()
        samrPort = yield deferToThread(self.samba.samrPort)
        direct = yield deferToThread(
            impacketSamr, self.samba.host, samrPort, self.samba.adminUser, self.samba.adminPassword, self.samba.domain, 6
        )
        self.assertIn("Administrator", direct[1])
        for level in (5, 6):
            relayed = yield deferToThread(
                impacketSamr, PROXY_HOST, service.ports["samr"], CLIENT_USER, CLIENT_PASSWORD, CLIENT_DOMAIN, level
            )
            self.assertEqual(relayed, direct)


def impacketSamr(host, port, user, password, domain, level):
    """
    SamrConnect, EnumerateDomains, LookupDomain, OpenDomain, EnumerateUsers
    with impacket.

    @return: C{(domain names, user names of the first domain)}.
    """
    from impacket.dcerpc.v5 import samr, transport
    from impacket.dcerpc.v5.rpcrt import RPC_C_AUTHN_WINNT

    rpctransport = transport.DCERPCTransportFactory("ncacn_ip_tcp:%s[%d]" % (host, port))
    rpctransport.set_credentials(user, password, domain)
    dce = rpctransport.get_dce_rpc()
    dce.set_auth_type(RPC_C_AUTHN_WINNT)
    dce.set_auth_level(level)
    dce.connect()
    try:
        dce.bind(samr.MSRPC_UUID_SAMR)
        server = samr.hSamrConnect(dce)["ServerHandle"]
        domains = [d["Name"] for d in samr.hSamrEnumerateDomainsInSamServer(dce, server)["Buffer"]["Buffer"]]
        sid = samr.hSamrLookupDomainInSamServer(dce, server, domains[0])["DomainId"]
        handle = samr.hSamrOpenDomain(dce, server, domainId=sid)["DomainHandle"]
        users = samr.hSamrEnumerateUsersInDomain(dce, handle)["Buffer"]["Buffer"]
        return sorted(domains), sorted(u["Name"] for u in users)
    finally:
        dce.disconnect()


