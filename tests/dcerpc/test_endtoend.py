"""
End-to-end tests of the DCE/RPC engine over real loopback sockets, with real
third-party clients: impacket's unmodified C{DCERPC_v5} (NTLM at levels 2, 5
and 6) and our own client role (NTLM and SPNEGO), against the rpcecho test
service, with stubs spanning many fragments both ways.
"""

import hashlib
import os
import struct

from twisted.internet import reactor as globalReactor
from twisted.internet.defer import inlineCallbacks
from twisted.internet.threads import deferToThread
from twisted.trial.unittest import TestCase

from mapiproxy.auth.credentials import Credentials, ServerIdentity
from mapiproxy.auth.passdb import PassDB, addUser
from mapiproxy.auth.security import makeInitiator
from mapiproxy.dcerpc.client import BindError, connectRPC
from mapiproxy.dcerpc.constants import AuthLevel, AuthType, Status
from mapiproxy.dcerpc.server import RPCServerFactory
from mapiproxy.errors import DCERPCFault
from mapiproxy.testing.echo import ECHO_UUID, EchoInterface, sourceData

USER = "alice"
PASSWORD = "Secret.Pass1"
DOMAIN = "TESTDOM"
IDENTITY = ServerIdentity(netbiosName="MAPIPROXY", workgroup=DOMAIN, dnsDomain="test.lan", dnsHostname="mapiproxy.test.lan")


def makeServer(testCase, maxFragment=5840, host="127.0.0.1", reactor=None):
    """
    Listen with an rpcecho service on C{host} and a passdb holding alice.

    @return: C{(port number, factory, echo interface)}.
    """
    path = testCase.mktemp()
    addUser(path, USER, PASSWORD)
    passdb = PassDB.fromFile(path, IDENTITY)
    echo = EchoInterface(reactor)
    factory = RPCServerFactory([echo], passdb=passdb, identity=IDENTITY)
    factory.settings.maxFragment = maxFragment
    port = globalReactor.listenTCP(0, factory, interface=host)
    testCase.addCleanup(port.stopListening)
    return port.getHost().port, factory, echo


def impacketEcho(port, level, opnum, stub, password=PASSWORD, maxFragment=None):
    """
    Bind with impacket's unmodified DCERPC_v5 and make one raw call.

    @return: the response stub.
    """
    from impacket.dcerpc.v5 import transport
    from impacket.dcerpc.v5.rpcrt import RPC_C_AUTHN_WINNT
    from impacket.uuid import uuidtup_to_bin

    rpctransport = transport.DCERPCTransportFactory("ncacn_ip_tcp:127.0.0.1[%d]" % (port,))
    rpctransport.set_credentials(USER, password, DOMAIN)
    rpctransport.set_connect_timeout(10)
    dce = rpctransport.get_dce_rpc()
    dce.set_auth_type(RPC_C_AUTHN_WINNT)
    dce.set_auth_level(level)
    if maxFragment:
        dce.set_max_fragment_size(maxFragment)
    dce.connect()
    try:
        dce.bind(uuidtup_to_bin((str(ECHO_UUID), "1.0")))
        dce.call(opnum, stub)
        return dce.recv()
    finally:
        dce.disconnect()


def echoDataStub(data):
    """
    An echo_EchoData request stub.
    """
    return struct.pack("<II", len(data), len(data)) + data


class ImpacketClientTests(TestCase):
    """
    impacket 0.13.1's DCERPC_v5 against the engine's server role.
    """

    timeout = 60

    @inlineCallbacks
    def _echoAtLevel(self, level):
        port, factory, echo = makeServer(self)
        data = os.urandom(200 * 1024)
        answer = yield deferToThread(impacketEcho, port, level, 1, echoDataStub(data))
        self.assertEqual(struct.unpack_from("<I", answer)[0], len(data))
        self.assertEqual(hashlib.sha256(answer[4:]).hexdigest(), hashlib.sha256(data).hexdigest())
        source = yield deferToThread(impacketEcho, port, level, 3, struct.pack("<I", 200 * 1024))
        self.assertEqual(source[4:], sourceData(200 * 1024))
        self.assertEqual(echo.calls, [(1, len(data) + 8), (3, 4)])

    def test_levelConnect(self):
        """
        At auth level connect, a 200 KB stub each way is echoed intact.
        """
        return self._echoAtLevel(AuthLevel.CONNECT)

    def test_levelIntegrity(self):
        """
        At auth level integrity (signed), a 200 KB stub each way is echoed intact.
        """
        return self._echoAtLevel(AuthLevel.INTEGRITY)

    def test_levelPrivacy(self):
        """
        At auth level privacy (sealed), a 200 KB stub each way is echoed intact.
        """
        return self._echoAtLevel(AuthLevel.PRIVACY)

    @inlineCallbacks
    def test_smallFragments(self):
        """
        With impacket's smallest fragments and ours, the stubs still cross intact.
        """
        port, factory, echo = makeServer(self, maxFragment=1432)
        data = os.urandom(50 * 1024)
        answer = yield deferToThread(impacketEcho, port, AuthLevel.PRIVACY, 1, echoDataStub(data), maxFragment=100)
        self.assertEqual(answer[4:], data)

    @inlineCallbacks
    def test_wrongPassword(self):
        """
        A wrong password is refused: the call fails and the server keeps serving.
        """
        from impacket.dcerpc.v5.rpcrt import DCERPCException

        port, factory, echo = makeServer(self)
        yield self.assertFailure(
            deferToThread(impacketEcho, port, AuthLevel.PRIVACY, 0, struct.pack("<I", 1), password="wrong"),
            DCERPCException,
        )
        self.assertEqual(echo.calls, [])
        answer = yield deferToThread(impacketEcho, port, AuthLevel.PRIVACY, 0, struct.pack("<I", 41))
        self.assertEqual(answer, struct.pack("<I", 42))


class OwnClientTests(TestCase):
    """
    Our client role against our server role, over loopback.
    """

    timeout = 60

    @inlineCallbacks
    def _roundTrip(self, authType, level):
        port, factory, echo = makeServer(self)
        security = makeInitiator(authType, Credentials(USER, PASSWORD, DOMAIN))
        proto = yield connectRPC(globalReactor, "127.0.0.1", port, [echo.syntax], security=security, authLevel=level)
        self.addCleanup(proto.disconnect)
        data = os.urandom(200 * 1024)
        answer = yield proto.call(1, echoDataStub(data))
        self.assertEqual(answer[4:], data)
        value = yield proto.call(0, struct.pack("<I", 7))
        self.assertEqual(value, struct.pack("<I", 8))
        fault = yield self.assertFailure(proto.call(99, b""), DCERPCFault)
        self.assertEqual(fault.status, Status.NCA_S_OP_RNG_ERROR)

    def test_ntlmPrivacy(self):
        """
        NTLM at privacy level: 200 KB round trip, calls after it, an op range fault.
        """
        return self._roundTrip(AuthType.NTLM, AuthLevel.PRIVACY)

    def test_ntlmIntegrity(self):
        """
        NTLM at integrity level works the same.
        """
        return self._roundTrip(AuthType.NTLM, AuthLevel.INTEGRITY)

    def test_spnegoPrivacy(self):
        """
        SPNEGO-wrapped NTLM at privacy level (the four-leg alter_context handshake).
        """
        return self._roundTrip(AuthType.SPNEGO, AuthLevel.PRIVACY)

    @inlineCallbacks
    def test_concurrentCalls(self):
        """
        Several calls outstanding on one association all get their own answers.
        """
        port, factory, echo = makeServer(self)
        security = makeInitiator(AuthType.NTLM, Credentials(USER, PASSWORD, DOMAIN))
        proto = yield connectRPC(globalReactor, "127.0.0.1", port, [echo.syntax], security=security)
        self.addCleanup(proto.disconnect)
        from twisted.internet.defer import gatherResults

        results = yield gatherResults([proto.call(0, struct.pack("<I", i)) for i in range(20)])
        self.assertEqual(results, [struct.pack("<I", i + 1) for i in range(20)])

    @inlineCallbacks
    def test_wrongPasswordOwnClient(self):
        """
        Our client with a wrong password: the first call fails with
        nca_proto_error, as Samba answers.
        """
        port, factory, echo = makeServer(self)
        security = makeInitiator(AuthType.NTLM, Credentials(USER, "nope", DOMAIN))
        proto = yield connectRPC(globalReactor, "127.0.0.1", port, [echo.syntax], security=security)
        self.addCleanup(proto.disconnect)
        fault = yield self.assertFailure(proto.call(0, struct.pack("<I", 1)), DCERPCFault)
        self.assertEqual(fault.status, Status.NCA_S_PROTO_ERROR)
        self.assertEqual(echo.calls, [])

    @inlineCallbacks
    def test_spnegoWrongPassword(self):
        """
        SPNEGO with a wrong password fails during the bind.
        """
        port, factory, echo = makeServer(self)
        security = makeInitiator(AuthType.SPNEGO, Credentials(USER, "nope", DOMAIN))
        error = yield self.assertFailure(
            connectRPC(globalReactor, "127.0.0.1", port, [echo.syntax], security=security),
            BindError,
        )
        self.assertEqual(error.status, Status.SEC_PKG_ERROR)
