"""
The sans-I/O server association, driven by our client association and by
hand-made PDUs: negotiation results, faults, bind_naks and closes for bad
input.
"""

import os
import struct
import uuid

from twisted.trial.unittest import SynchronousTestCase

from mapiproxy.auth.credentials import Credentials
from mapiproxy.auth.passdb import PassDB, addUser
from mapiproxy.auth.security import makeAcceptor, makeInitiator
from mapiproxy.dcerpc import pdu
from mapiproxy.dcerpc.association import (
    AssociationGroups,
    CallReceived,
    ContextsBound,
    ServerAssociation,
    ServerSettings,
)
from mapiproxy.dcerpc.clientassociation import (
    AssociationFailed,
    BindRefused,
    Bound,
    ClientAssociation,
    FaultReceived,
    ResponseReceived,
)
from mapiproxy.dcerpc.constants import (
    PFC,
    AuthLevel,
    AuthType,
    BindNakReason,
    BindTimeFeature,
    ContextResult,
    ProviderReason,
    Status,
)
from mapiproxy.testing.echo import EchoInterface
from tests.dcerpc.test_endtoend import DOMAIN, IDENTITY, PASSWORD, USER


class Harness:
    """
    A server association with rpcecho, wired to a client association by
    handing bytes across (no sockets).
    """

    def __init__(self, testCase, groups=None, settings=None):
        path = testCase.mktemp()
        addUser(path, USER, PASSWORD)
        self.passdb = PassDB.fromFile(path, IDENTITY)
        self.echo = EchoInterface()
        self.groups = groups if groups is not None else AssociationGroups()
        self.server = ServerAssociation(
            self.lookup,
            lambda authType: makeAcceptor(authType, self.passdb, IDENTITY),
            self.groups,
            settings or ServerSettings(),
            peer="test",
            localPort=4242,
        )
        self.events = []

    def lookup(self, syntax):
        if syntax.uuid == self.echo.syntax.uuid and syntax.version == 1:
            return self.echo
        return None

    def toServer(self, data):
        """
        Feed the server, answering calls and binds like the Twisted protocol.
        """
        events = self.server.receiveData(data)
        while events:
            more = []
            for event in events:
                self.events.append(event)
                if isinstance(event, ContextsBound):
                    more.extend(self.server.completeBind())
                elif isinstance(event, CallReceived):
                    from mapiproxy.errors import DCERPCFault

                    try:
                        self.server.respond(event.call, self.echo.handleCall(event.call))
                    except DCERPCFault as e:
                        self.server.fault(event.call, e.status)
            events = more
        return self.server.dataToSend()

    def connect(self, authType=AuthType.NTLM, level=AuthLevel.PRIVACY, password=PASSWORD, **kw):
        """
        Run a client association's handshake to completion.

        @return: C{(client, events)}.
        """
        security = None
        if authType is not None:
            security = makeInitiator(authType, Credentials(USER, password, DOMAIN))
        client = ClientAssociation([self.echo.syntax], security=security, authLevel=level, **kw)
        client.start()
        events = []
        for _ in range(10):
            data = client.dataToSend()
            if not data:
                break
            events.extend(client.receiveData(self.toServer(data)))
        return client, events

    def call(self, client, opnum, stub, contextId=0):
        client.request(opnum, stub, contextId)
        return client.receiveData(self.toServer(client.dataToSend()))


def frames(data):
    """
    Decode concatenated PDUs.
    """
    out = []
    while data:
        length = struct.unpack_from("<H", data, 8)[0]
        out.append(pdu.decode(data[:length]))
        data = data[length:]
    return out


class NegotiationTests(SynchronousTestCase):
    """
    Presentation context negotiation in bind and alter_context.
    """

    def test_resultsPerContext(self):
        """
        One bind carrying rpcecho (NDR64 then NDR), an unknown interface, an
        NDR64-only context and the bind-time feature negotiation gets one
        result each, in order, with the proper provider reasons.
        """
        harness = Harness(self)
        echo = harness.echo.syntax
        bind = pdu.Bind(
            callId=1,
            maxXmitFrag=5840,
            maxRecvFrag=5840,
            assocGroupId=0,
            contexts=[
                pdu.PresentationContext(0, echo, [pdu.NDR64_SYNTAX, pdu.NDR_SYNTAX]),
                pdu.PresentationContext(1, pdu.SyntaxId(uuid.uuid4(), 1, 0), [pdu.NDR_SYNTAX]),
                pdu.PresentationContext(2, echo, [pdu.NDR64_SYNTAX]),
                pdu.PresentationContext(3, echo, [pdu.SyntaxId.forBindTimeFeatures(3)]),
            ],
        )
        (ack,) = frames(harness.toServer(pdu.encode(bind)))
        self.assertIsInstance(ack, pdu.BindAck)
        self.assertEqual(
            [(r.result, r.reason) for r in ack.results],
            [
                (ContextResult.ACCEPTANCE, 0),
                (ContextResult.PROVIDER_REJECTION, ProviderReason.ABSTRACT_SYNTAX_NOT_SUPPORTED),
                (ContextResult.PROVIDER_REJECTION, ProviderReason.PROPOSED_TRANSFER_SYNTAXES_NOT_SUPPORTED),
                (ContextResult.NEGOTIATE_ACK, BindTimeFeature.SECURITY_CONTEXT_MULTIPLEXING | BindTimeFeature.KEEP_CONNECTION_ON_ORPHAN),
            ],
        )
        self.assertEqual(ack.results[0].transferSyntax, pdu.NDR_SYNTAX)
        self.assertEqual(ack.secondaryAddress, b"4242")
        self.assertNotEqual(ack.assocGroupId, 0)

    def test_fragmentSizesNegotiated(self):
        """
        The bind_ack offers the smaller of the client's sizes and ours, and
        later fragments past that are refused.
        """
        harness = Harness(self, settings=ServerSettings(maxFragment=4280))
        client, events = harness.connect(authType=None, maxFragment=5840)
        self.assertIsInstance(events[-1], Bound)
        self.assertEqual(harness.server.maxRecvFrag, 4280)
        self.assertEqual(harness.server.maxXmitFrag, 4280)
        self.assertEqual(client.maxXmitFrag, 4280)

    def test_alterContextAddsContext(self):
        """
        alter_context adds a context usable by later requests.
        """
        harness = Harness(self)
        client, events = harness.connect()
        contextId = client.alterContext(harness.echo.syntax)
        events = client.receiveData(harness.toServer(client.dataToSend()))
        self.assertTrue(events[0].accepted)
        events = harness.call(client, 0, struct.pack("<I", 9), contextId=contextId)
        self.assertEqual(events[0].stub, struct.pack("<I", 10))

    def test_assocGroups(self):
        """
        A client naming an existing group joins it; an unknown group is
        refused with a bind_nak when group checking is on.
        """
        groups = AssociationGroups()
        first = Harness(self, groups=groups)
        client, events = first.connect()
        group = client.assocGroupId
        second = Harness(self, groups=groups)
        client2, events = second.connect(assocGroupId=group)
        self.assertEqual(client2.assocGroupId, group)
        third = Harness(self, groups=groups)
        client3, events = third.connect(assocGroupId=(group + 7) & 0xFFFFFFFF)
        self.assertIsInstance(events[0], BindRefused)
        self.assertEqual(events[0].status, BindNakReason.REASON_NOT_SPECIFIED)

    def test_assocGroupUncheckedCreated(self):
        """
        Without group checking, an unknown group id is adopted as is.
        """
        harness = Harness(self, groups=AssociationGroups(checking=False))
        client, events = harness.connect(assocGroupId=0x1234)
        self.assertEqual(client.assocGroupId, 0x1234)


class BadInputTests(SynchronousTestCase):
    """
    Each kind of bad input gets its fault, bind_nak or close.
    """

    def test_unsupportedAuthType(self):
        """
        A Kerberos bind is refused: authentication_type_not_recognized.
        """
        harness = Harness(self)
        bind = pdu.Bind(
            callId=1,
            maxXmitFrag=5840,
            maxRecvFrag=5840,
            assocGroupId=0,
            contexts=[pdu.PresentationContext(0, harness.echo.syntax, [pdu.NDR_SYNTAX])],
            auth=pdu.AuthVerifier(AuthType.KERBEROS, AuthLevel.PRIVACY, 0, 0, b"\x60\x00"),
        )
        (nak,) = frames(harness.toServer(pdu.encode(bind)))
        self.assertIsInstance(nak, pdu.BindNak)
        self.assertEqual(nak.rejectReason, BindNakReason.AUTHENTICATION_TYPE_NOT_RECOGNIZED)
        self.assertIsNotNone(harness.server.closing)

    def test_privacyWithoutSealing(self):
        """
        A client that asks for packet privacy but did not negotiate NTLM
        sealing gets a fault SEC_PKG_ERROR and a close at its first request,
        whether the context forwards fragments or not; nothing raises.
        """
        from spnego._context import ContextReq

        import mapiproxy.auth.ntlm as ntlm

        for forwarding in (False, True):
            harness = Harness(self)
            from types import SimpleNamespace

            signOnly = ContextReq.integrity | ContextReq.replay_detect | ContextReq.sequence_detect
            self.patch(ntlm, "ContextReq", SimpleNamespace(default=signOnly))
            client, _ = harness.connect(level=AuthLevel.PRIVACY)
            self.assertTrue(client.ready)
            # Sign only, with a trailer that still says privacy.
            client._auth.authLevel = AuthLevel.INTEGRITY
            if forwarding:
                harness.server.forwardContext(0, 16, object())
            client.request(0, struct.pack("<I", 1))
            data = harness.toServer(client.dataToSend())
            (fault,) = frames(data)
            self.assertEqual(fault.status, Status.SEC_PKG_ERROR)
            self.assertIsNotNone(harness.server.closing)
            self.assertEqual(harness.echo.calls, [])

    def test_unauthenticatedCallRefused(self):
        """
        A client that did not authenticate gets access denied and the
        interface never sees the call.
        """
        harness = Harness(self)
        client, events = harness.connect(authType=None)
        events = harness.call(client, 0, struct.pack("<I", 1))
        self.assertEqual(events, [FaultReceived(2, Status.ACCESS_DENIED)])
        self.assertEqual(harness.echo.calls, [])

    def test_wrongPasswordNoCall(self):
        """
        After a refused AUTH3 the first request gets nca_proto_error (as Samba
        answers) and the association closes.
        """
        harness = Harness(self)
        client, events = harness.connect(password="wrong")
        events = harness.call(client, 0, struct.pack("<I", 1))
        self.assertEqual(events, [FaultReceived(2, Status.NCA_S_PROTO_ERROR)])
        self.assertIsNotNone(harness.server.closing)
        self.assertEqual(harness.echo.calls, [])

    def test_unknownContext(self):
        """
        A request on a context id that was never bound: nca_unk_if.
        """
        harness = Harness(self)
        client, events = harness.connect()
        client._syntaxes[5] = harness.echo.syntax
        events = harness.call(client, 0, struct.pack("<I", 1), contextId=5)
        self.assertEqual(events, [FaultReceived(2, Status.NCA_S_UNK_IF)])
        self.assertIsNone(harness.server.closing)
        events = harness.call(client, 0, struct.pack("<I", 1))
        self.assertEqual(events, [ResponseReceived(3, struct.pack("<I", 2))])

    def test_opnumOutOfRange(self):
        """
        An opnum the interface does not have: nca_op_rng_error, and the
        association goes on.
        """
        harness = Harness(self)
        client, events = harness.connect()
        self.assertEqual(harness.call(client, 200, b""), [FaultReceived(2, Status.NCA_S_OP_RNG_ERROR)])
        self.assertEqual(harness.call(client, 0, struct.pack("<I", 1)), [ResponseReceived(3, struct.pack("<I", 2))])

    def _tamper(self, level):
        harness = Harness(self)
        client, events = harness.connect(level=level)
        client.request(1, struct.pack("<II", 100, 100) + os.urandom(100))
        data = bytearray(client.dataToSend())
        data[30] ^= 0x01
        answer = frames(harness.toServer(bytes(data)))
        self.assertEqual([type(a) for a in answer], [pdu.Fault])
        self.assertEqual(answer[0].status, Status.SEC_PKG_ERROR)
        self.assertIsNotNone(harness.server.closing)
        self.assertEqual(harness.echo.calls, [])

    def test_tamperedSealed(self):
        """
        A flipped bit in a sealed request: fault and close, never a call.
        """
        self._tamper(AuthLevel.PRIVACY)

    def test_tamperedSigned(self):
        """
        A flipped bit in a signed request: fault and close, never a call.
        """
        self._tamper(AuthLevel.INTEGRITY)

    def test_tamperedHeader(self):
        """
        The header is signed too: changing the opnum breaks the verifier.
        """
        harness = Harness(self)
        client, events = harness.connect(level=AuthLevel.INTEGRITY)
        client.request(0, struct.pack("<I", 1))
        data = bytearray(client.dataToSend())
        data[22] = 1  # opnum 0 -> 1
        answer = frames(harness.toServer(bytes(data)))
        self.assertEqual(answer[0].status, Status.SEC_PKG_ERROR)

    def test_replayRefused(self):
        """
        A replayed signed request fails verification (sequence numbers).
        """
        harness = Harness(self)
        client, events = harness.connect(level=AuthLevel.INTEGRITY)
        client.request(0, struct.pack("<I", 1))
        data = client.dataToSend()
        harness.toServer(data)
        answer = frames(harness.toServer(data))
        self.assertEqual(answer[0].status, Status.SEC_PKG_ERROR)

    def test_oversizedFragment(self):
        """
        A frag_length past the negotiated size is refused after 10 bytes,
        with a fault and a close, before any of it is buffered.
        """
        harness = Harness(self)
        client, events = harness.connect()
        header = struct.pack("<BBBB4sHHI", 5, 0, 0, 3, b"\x10\0\0\0", 60000, 0, 9)
        answer = frames(harness.toServer(header[:10]))
        self.assertEqual(answer[0].status, Status.NCA_S_PROTO_ERROR)
        self.assertIsNotNone(harness.server.closing)

    def test_garbageBeforeBind(self):
        """
        Random bytes instead of a bind: a bind_nak (protocol version) and a close.
        """
        harness = Harness(self)
        answer = frames(harness.toServer(b"GET / HTTP/1.1\r\n\r\n"))
        self.assertEqual([type(a) for a in answer], [pdu.BindNak])
        self.assertIsNotNone(harness.server.closing)

    def test_requestBeforeBind(self):
        """
        A request before any bind closes the connection.
        """
        harness = Harness(self)
        harness.toServer(pdu.encode(pdu.Request(callId=1, opnum=0, stub=b"1234")))
        self.assertIsNotNone(harness.server.closing)

    def test_stubPastMaximum(self):
        """
        A request whose fragments add up past the maximum stub is refused
        before it is buffered whole.
        """
        harness = Harness(self, settings=ServerSettings(maxStub=10000))
        client, events = harness.connect()
        client.request(1, struct.pack("<II", 20000, 20000) + b"x" * 20000)
        answer = frames(harness.toServer(client.dataToSend()))
        self.assertEqual(answer[-1].status, Status.NCA_S_PROTO_ERROR)
        self.assertEqual(harness.echo.calls, [])

    def test_byteAtATime(self):
        """
        A whole sealed session fed one byte at a time works.
        """
        harness = Harness(self)
        security = makeInitiator(AuthType.NTLM, Credentials(USER, PASSWORD, DOMAIN))
        client = ClientAssociation([harness.echo.syntax], security=security)
        client.start()
        events = []
        for _ in range(4):
            data = client.dataToSend()
            reply = b"".join(harness.toServer(data[i : i + 1]) for i in range(len(data)))
            events.extend(client.receiveData(reply))
        client.request(1, struct.pack("<II", 6000, 6000) + b"y" * 6000)
        data = client.dataToSend()
        reply = b"".join(harness.toServer(data[i : i + 1]) for i in range(len(data)))
        events = client.receiveData(reply)
        self.assertEqual(events[-1].stub, struct.pack("<I", 6000) + b"y" * 6000)

    def test_orphanedDropsCall(self):
        """
        An orphaned PDU discards a request in reassembly.
        """
        harness = Harness(self)
        client, events = harness.connect(authType=None)
        harness.server._auth.clear()
        harness.echo.requireAuthentication = False
        request = pdu.Request(callId=7, pfcFlags=PFC.FIRST_FRAG, opnum=1, stub=b"abcd")
        harness.toServer(pdu.encode(request))
        self.assertEqual(harness.server._reassembler.pending, 1)
        harness.toServer(pdu.encode(pdu.Orphaned(callId=7)))
        self.assertEqual(harness.server._reassembler.pending, 0)
        self.assertIsNone(harness.server.closing)


class ClientSideTests(SynchronousTestCase):
    """
    The client association's own checks.
    """

    def test_badServerVerifier(self):
        """
        A tampered response fails the association on the client side.
        """
        harness = Harness(self)
        client, events = harness.connect()
        client.request(0, struct.pack("<I", 1))
        reply = bytearray(harness.toServer(client.dataToSend()))
        reply[26] ^= 0x80
        events = client.receiveData(bytes(reply))
        self.assertIsInstance(events[0], AssociationFailed)

    def test_rejectedBind(self):
        """
        A bind whose only context is rejected is reported as refused.
        """
        harness = Harness(self)
        client = ClientAssociation([pdu.SyntaxId(uuid.uuid4(), 1, 0)])
        client.start()
        events = client.receiveData(harness.toServer(client.dataToSend()))
        self.assertIsInstance(events[0], BindRefused)
