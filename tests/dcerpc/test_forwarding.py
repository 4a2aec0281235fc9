"""
The cut-through path of the sans-I/O associations, as the relay uses it: a
client talks to the proxy's server association, whose request fragments
go one by one through the proxy's client association to an upstream
rpcecho server association, and back.
"""

import os
import struct

from twisted.trial.unittest import SynchronousTestCase

from mapiproxy.dcerpc import pdu
from zope.interface import implementer
from zope.interface.verify import verifyObject

from mapiproxy.dcerpc.association import CallReceived, ContextsBound
from mapiproxy.dcerpc.clientassociation import AssociationFailed, FaultReceived, ResponseReceived
from mapiproxy.imapiproxy import IRequestForwarder, IResponseForwarder
from mapiproxy.dcerpc.constants import PFC, AuthLevel, AuthType, Status
from mapiproxy.errors import ProtocolError
from tests.dcerpc.test_association import Harness, frames


def echoStub(data):
    return struct.pack("<II", len(data), len(data)) + data


@implementer(IRequestForwarder, IResponseForwarder)
class Relay:
    """
    client -> proxyIn (server association) -> proxyOut (client association)
    -> upstream (rpcecho server association), forwarding context 0; this
    object is the forwarder both ways, as the relay's UpstreamLink is.
    """

    def __init__(self, testCase, clientAuth=AuthType.NTLM, clientLevel=AuthLevel.PRIVACY, upstreamLevel=AuthLevel.PRIVACY, clientFragment=5840):
        self.proxyIn = Harness(testCase)
        self.upstream = Harness(testCase)
        self.client, _ = self.proxyIn.connect(authType=clientAuth, level=clientLevel, maxFragment=clientFragment)
        assert self.client.ready
        self.proxyOut, _ = self.upstream.connect(level=upstreamLevel, maxFragment=clientFragment)
        assert self.proxyOut.ready
        self.proxyOut.forwarder = self
        self.requestFragments = []
        self.plaintext = []
        self.responseFragments = []
        self.orphaned = []
        self.batches = 0
        self._upstreamIds = {}
        self._clientIds = {}

    # IRequestForwarder

    def forwardRequest(self, session, callId, opnum, buf, dataStart, dataEnd, pfcFlags):
        self.requestFragments.append((session, callId, pfcFlags))
        self.plaintext.append(bytes(buf[dataStart : dataEnd - buf[dataEnd + 2]]))
        if pfcFlags & PFC.FIRST_FRAG:
            self._upstreamIds[callId] = self.proxyOut.newCallId()
            self._clientIds[self._upstreamIds[callId]] = callId
        self.proxyOut.forwardRequest(self._upstreamIds[callId], 0, buf, dataStart, dataEnd, pfcFlags)

    def fragmentsDone(self):
        self.batches += 1

    def forwardOrphaned(self, session, callId):
        self.orphaned.append(callId)

    # IResponseForwarder

    def responseFragment(self, callId, buf, dataStart, dataEnd, pfcFlags):
        self.responseFragments.append(callId)
        self.proxyIn.server.forwardResponse(self._clientIds[callId], buf, dataStart, dataEnd, pfcFlags)

    def forwardedFault(self, callId, status):
        self.proxyIn.server.faultCall(self._clientIds[callId], 0, status)

    def responsesDone(self):
        pass

    def forward(self, authLength=None):
        self.proxyIn.server.forwardContext(0, self.proxyOut.signatureSize if authLength is None else authLength, self)

    def clientToProxy(self, data):
        """
        What the proxy does with bytes from the client: forwarded fragments
        go upstream (and the answers come back); anything else is answered
        by the proxy's own rpcecho.

        @return: the events of the client association.
        """
        events = self.proxyIn.server.receiveData(data)
        while events:
            more = []
            for event in events:
                if isinstance(event, ContextsBound):
                    more.extend(self.proxyIn.server.completeBind())
                elif isinstance(event, CallReceived):
                    self.proxyIn.server.respond(event.call, self.proxyIn.echo.handleCall(event.call))
            events = more
        toUpstream = self.proxyOut.dataToSend()
        if toUpstream:
            self.proxyOut.receiveData(self.upstream.toServer(toUpstream))
        return self.client.receiveData(self.proxyIn.server.dataToSend())

    def call(self, opnum, stub):
        self.client.request(opnum, stub)
        return self.clientToProxy(self.client.dataToSend())


class CutThroughTests(SynchronousTestCase):
    """
    Fragments forwarded one by one, unsealed and resealed in place.
    """

    def test_interfaces(self):
        """
        The test forwarder provides what the associations call.
        """
        relay = Relay(self)
        verifyObject(IRequestForwarder, relay)
        verifyObject(IResponseForwarder, relay)

    def test_roundTrip(self):
        """
        Stubs of every size come back byte-identical, answered by the
        upstream (not the proxy's own rpcecho), one request fragment and one
        response fragment forwarded per fragment on the wire, for each mix
        of client and upstream levels.
        """
        for clientAuth, clientLevel, upstreamLevel in [
            (AuthType.NTLM, AuthLevel.PRIVACY, AuthLevel.PRIVACY),
            (AuthType.NTLM, AuthLevel.INTEGRITY, AuthLevel.PRIVACY),
            (AuthType.SPNEGO, AuthLevel.PRIVACY, AuthLevel.INTEGRITY),
            (AuthType.NTLM, AuthLevel.PKT, AuthLevel.PRIVACY),
        ]:
            relay = Relay(self, clientAuth, clientLevel, upstreamLevel)
            relay.forward()
            sizes = [0, 1, 28, 5000, 5799, 70000, 300000]
            for size in sizes:
                data = os.urandom(size)
                relay.client.request(1, echoStub(data))
                sent = relay.client.dataToSend()
                (event,) = relay.clientToProxy(sent)
                self.assertIsInstance(event, ResponseReceived)
                self.assertEqual(event.stub[4:], data)
            self.assertEqual(relay.proxyIn.echo.calls, [])
            self.assertEqual([size for op, size in relay.upstream.echo.calls], [len(echoStub(b"x" * n)) for n in sizes])
            self.assertGreater(len(relay.requestFragments), len(sizes))
            self.assertEqual(len(relay.requestFragments), len(relay.responseFragments))

    def test_fragmentsArePlaintext(self):
        """
        The forwarder sees each fragment unsealed, flags as sent.
        """
        relay = Relay(self)
        relay.forward()
        data = os.urandom(20000)
        relay.call(1, echoStub(data))
        self.assertEqual(b"".join(relay.plaintext), echoStub(data))
        flags = [f[2] & (PFC.FIRST_FRAG | PFC.LAST_FRAG) for f in relay.requestFragments]
        self.assertEqual(relay.batches, 1)
        self.assertEqual(flags[0], PFC.FIRST_FRAG)
        self.assertEqual(flags[-1], PFC.LAST_FRAG)
        self.assertEqual(set(flags[1:-1]), {0} if len(flags) > 2 else set())

    def test_objectUUID(self):
        """
        A request with an object UUID (a 40-byte header) is forwarded with
        its UUID, over several fragments.
        """
        import uuid

        from mapiproxy.dcerpc.association import CallReceived

        relay = Relay(self)
        relay.forward()
        seen = []
        handle = relay.upstream.echo.handleCall
        relay.upstream.echo.handleCall = lambda call: (seen.append(call.object), handle(call))[1]
        self.addCleanup(setattr, relay.upstream.echo, "handleCall", handle)
        target = uuid.uuid4()
        data = os.urandom(12000)
        relay.client.request(1, echoStub(data), object=target)
        (event,) = relay.clientToProxy(relay.client.dataToSend())
        self.assertEqual(event.stub[4:], data)
        self.assertEqual(seen, [target])
        self.assertGreater(len(relay.requestFragments), 1)
        self.assertEqual(b"".join(relay.plaintext), echoStub(data))

    def test_notForwardingByDefault(self):
        """
        Without forwardContext, calls are reassembled and answered whole.
        """
        relay = Relay(self)
        (event,) = relay.call(1, echoStub(b"abc"))
        self.assertEqual(event.stub[4:], b"abc")
        self.assertEqual(relay.requestFragments, [])
        self.assertEqual(relay.proxyIn.echo.calls, [(1, 11)])

    def test_otherVerifierSizeTakesUsualPath(self):
        """
        A fragment whose verifier is not the size the forwarder produces is
        reassembled and answered as usual.
        """
        relay = Relay(self)
        relay.forward(authLength=20)
        (event,) = relay.call(1, echoStub(b"abc"))
        self.assertEqual(event.stub[4:], b"abc")
        self.assertEqual(relay.requestFragments, [])

    def test_badVerifier(self):
        """
        A tampered fragment gets a fault SEC_PKG_ERROR and the connection
        closes; nothing is forwarded.
        """
        relay = Relay(self)
        relay.forward()
        relay.client.request(1, echoStub(b"x" * 100))
        sent = bytearray(relay.client.dataToSend())
        sent[40] ^= 1
        events = relay.proxyIn.server.receiveData(bytes(sent))
        self.assertEqual(events, [])
        (fault,) = frames(relay.proxyIn.server.dataToSend())
        self.assertEqual(fault.status, Status.SEC_PKG_ERROR)
        self.assertIsNotNone(relay.proxyIn.server.closing)

    def test_laterFragmentChangesTrailer(self):
        """
        A later fragment of a forwarded call under another auth_context_id
        gets a fault nca_proto_error and the connection closes, without an
        exception out of the association.
        """
        relay = Relay(self)
        relay.forward()
        relay.client.request(1, echoStub(b"q" * 12000))
        data = bytearray(relay.client.dataToSend())
        first = struct.unpack_from("<H", data, 8)[0]
        self.assertEqual(relay.proxyIn.server.receiveData(bytes(data[:first])), [])
        second = data[first : first + struct.unpack_from("<H", data, first + 8)[0]]
        secStart = len(second) - 16 - 8
        struct.pack_into("<I", second, secStart + 4, 99)
        self.assertEqual(relay.proxyIn.server.receiveData(bytes(second)), [])
        (fault,) = frames(relay.proxyIn.server.dataToSend())
        self.assertEqual(fault.status, Status.NCA_S_PROTO_ERROR)
        self.assertIsNotNone(relay.proxyIn.server.closing)

    def test_fragmentAfterLast(self):
        """
        A request fragment for a forwarded call whose last fragment came
        already is a protocol error (fault, close), not forwarded.
        """
        relay = Relay(self)
        relay.forward()
        callId = relay.client.request(1, echoStub(b"abc"))
        data = relay.client.dataToSend()
        self.assertEqual(relay.proxyIn.server.receiveData(data), [])
        forwarded = len(relay.requestFragments)
        # The same fragment again, without FIRST_FRAG.
        again = bytearray(data)
        again[3] &= ~PFC.FIRST_FRAG & 0xFF
        self.assertEqual(relay.proxyIn.server.receiveData(bytes(again)), [])
        self.assertEqual(len(relay.requestFragments), forwarded)
        (fault,) = frames(relay.proxyIn.server.dataToSend())
        self.assertEqual((fault.callId, fault.status), (callId, Status.NCA_S_PROTO_ERROR))
        self.assertIsNotNone(relay.proxyIn.server.closing)

    def test_tooManyPartialCalls(self):
        """
        No more calls may be half sent at once than may be in reassembly
        (ServerSettings.maxCalls).
        """
        from mapiproxy.dcerpc.association import ServerSettings

        relay = Relay(self)
        relay.proxyIn.server.settings = ServerSettings(maxCalls=3)
        relay.forward()

        def first(callId):
            # A first fragment only, protected in sequence.
            message = pdu.Request(
                callId=callId, contextId=0, opnum=1, pfcFlags=PFC.FIRST_FRAG, allocHint=8000, stub=b"p" * 96
            )
            return relay.client._auth.protect(message)

        for callId in (101, 102, 103):
            self.assertEqual(relay.proxyIn.server.receiveData(first(callId)), [])
        self.assertIsNone(relay.proxyIn.server.closing)
        relay.proxyIn.server.receiveData(first(104))
        self.assertEqual(len(relay.requestFragments), 3)
        (fault,) = frames(relay.proxyIn.server.dataToSend())
        self.assertEqual(fault.status, Status.NCA_S_PROTO_ERROR)
        self.assertIsNotNone(relay.proxyIn.server.closing)

    def test_upstreamFault(self):
        """
        An upstream fault for a forwarded call reaches the client as a fault
        of its own call; the next call works.
        """
        relay = Relay(self)
        relay.forward()
        (event,) = relay.call(42, b"")
        self.assertIsInstance(event, FaultReceived)
        self.assertEqual(event.status, Status.NCA_S_OP_RNG_ERROR)
        (event,) = relay.call(0, struct.pack("<I", 7))
        self.assertEqual(event.stub, struct.pack("<I", 8))

    def test_orphaned(self):
        """
        An orphaned PDU for a forwarded call is reported, and an answer that
        comes anyway is dropped.
        """
        relay = Relay(self)
        relay.forward()
        callId = relay.client.request(1, echoStub(b"x" * 20000))
        data = relay.client.dataToSend()
        first = data[: struct.unpack_from("<H", data, 8)[0]]
        self.assertEqual(relay.proxyIn.server.receiveData(first), [])
        self.assertEqual([f[1] for f in relay.requestFragments], [callId])
        self.assertEqual(relay.proxyIn.server.receiveData(pdu.encode(pdu.Orphaned(callId=callId))), [])
        self.assertEqual(relay.orphaned, [callId])
        relay.proxyIn.server.forwardResponse(callId, bytearray(first), 24, len(first) - 24, PFC.FIRST_FRAG | PFC.LAST_FRAG)
        self.assertEqual(relay.proxyIn.server.dataToSend(), b"")

    def test_responseWithoutVerifier(self):
        """
        An unsigned response to a forwarded call fails the upstream
        association.
        """
        relay = Relay(self)
        upstreamId = relay.proxyOut.newCallId()
        buf = bytearray(pdu.encode(pdu.Request(callId=1, contextId=0, opnum=1, stub=echoStub(b"hi"))))
        with self.assertRaises(ProtocolError):
            # Unsigned fragments cannot be forwarded as they are.
            relay.proxyOut.forwardRequest(upstreamId, 0, buf, 24, len(buf), PFC.FIRST_FRAG | PFC.LAST_FRAG)
        relay.client.request(1, echoStub(b"hi"))
        relay.forward()
        self.assertEqual(relay.proxyIn.server.receiveData(relay.client.dataToSend()), [])
        (forwardedId,) = relay._clientIds
        response = pdu.encode(pdu.Response(callId=forwardedId, contextId=0, stub=b"\x00" * 8))
        (event,) = relay.proxyOut.receiveData(response)
        self.assertIsInstance(event, AssociationFailed)
        self.assertIn("verifier", event.reason)

    def test_fragmentTooLargeForUpstream(self):
        """
        A fragment over the upstream's limit is refused, not cut.
        """
        relay = Relay(self)
        relay.proxyOut.maxXmitFrag = 2000
        relay.forward()
        relay.client.request(1, echoStub(b"y" * 4000))
        with self.assertRaises(ProtocolError):
            relay.proxyIn.server.receiveData(relay.client.dataToSend())
