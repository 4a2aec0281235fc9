"""
Tests for L{mapiproxy.auth.spnego}: our SPNEGO contexts against each
other, against pyspnego's Negotiate client and server, and their tokens
read by impacket's independent SPNEGO parser.
"""

import os
import struct

import spnego
from hypothesis import given, settings
from hypothesis import strategies as st
from impacket import spnego as impacketSPNEGO
from spnego._spnego import NegState, NegTokenInit, NegTokenResp, pack_mech_type_list, unpack_token
from spnego.exceptions import SpnegoError
from spnego.iov import BufferType, IOVBuffer
from twisted.trial.unittest import SynchronousTestCase

from mapiproxy.auth.credentials import Credentials
from mapiproxy.auth.ntlm import NTLMAcceptor, NTLMInitiator
from mapiproxy.auth.spnego import NTLMSSP_OID, SPNEGOAcceptor, SPNEGOInitiator
from mapiproxy.dcerpc.constants import AuthLevel, AuthType
from mapiproxy.errors import AuthenticationError, SignatureError

from tests.auth.support import DOMAIN, IDENTITY, PASSWORD, USER, makePassDB, requestPDU, runExchange

#: The DER of the NTLMSSP OID 1.3.6.1.4.1.311.2.2.10.
NTLMSSP_OID_DER = bytes.fromhex("2b06010401823702020a")
KERBEROS_OID = "1.2.840.113554.1.2.2"
MS_KERBEROS_OID = "1.2.840.48018.1.2.2"


def acceptor():
    return SPNEGOAcceptor(NTLMAcceptor(makePassDB(), IDENTITY))


def initiator(password=PASSWORD):
    return SPNEGOInitiator(NTLMInitiator(Credentials(USER, password, DOMAIN), "proxy1"))


def iov(*buffers):
    return [IOVBuffer(kind, data) for kind, data in buffers]


def pduBuffers(buf, start, end, signature=None):
    return iov(
        (BufferType.sign_only, bytes(buf[:start])),
        (BufferType.data, bytes(buf[start:end])),
        (BufferType.sign_only, bytes(buf[end:-16])),
        (BufferType.header, signature),
    )


class OwnPairTests(SynchronousTestCase):
    """
    L{SPNEGOInitiator} against L{SPNEGOAcceptor}: the four DCE/RPC legs.
    """

    def test_fourLegs(self):
        """
        bind, bind_ack, alter_context, alter_context_resp: four tokens, both
        complete with the same key.
        """
        client, server = initiator(), acceptor()
        self.assertEqual(runExchange(client.step, server.step), 4)
        self.assertTrue(client.complete and server.complete)
        self.assertEqual(client.sessionKey, server.sessionKey)
        self.assertEqual((server.username, server.domain, server.authType), (USER, "PROXY1", AuthType.SPNEGO))

    def test_tokensReadByImpacket(self):
        """
        impacket's SPNEGO parser reads our NegTokenInit (NTLMSSP offered,
        NEGOTIATE inside) and our first NegTokenResp (accept-incomplete,
        NTLMSSP chosen, CHALLENGE inside).
        """
        client, server = initiator(), acceptor()
        init = client.step(None)
        parsed = impacketSPNEGO.SPNEGO_NegTokenInit()
        parsed.fromString(init)
        self.assertEqual(parsed["MechTypes"], [NTLMSSP_OID_DER])
        self.assertTrue(parsed["MechToken"].startswith(b"NTLMSSP\x00\x01\x00\x00\x00"))
        response = impacketSPNEGO.SPNEGO_NegTokenResp()
        response.fromString(server.step(init))
        self.assertEqual(response["NegState"], b"\x01")
        self.assertEqual(response["SupportedMech"], NTLMSSP_OID_DER)
        self.assertTrue(response["ResponseToken"].startswith(b"NTLMSSP\x00\x02\x00\x00\x00"))

    def test_finalTokenBytes(self):
        """
        The acceptor's last token is exactly NegTokenResp{negState
        accept-completed, mechListMIC} with an NTLM signature of sequence 0.
        """
        client, server = initiator(), acceptor()
        final = server.step(client.step(server.step(client.step(None))))
        self.assertEqual(len(final), 29)
        self.assertEqual(final[:13].hex(), "a11b3019a0030a0100a3120410")
        self.assertEqual(final[13:17] + final[25:], b"\x01\x00\x00\x00" + b"\x00" * 4)

    def test_sequenceAfterMechListMIC(self):
        """
        The mechListMIC used sequence 0 in each direction; RC4 restarts but
        the first PDU is signed with sequence 1, as Samba and pyspnego do.
        """
        client, server = initiator(), acceptor()
        runExchange(client.step, server.step)
        buf, start, end = requestPDU(b"first request", authType=AuthType.SPNEGO, authLevel=AuthLevel.INTEGRITY)
        client.protectPDU(buf, start, end, AuthLevel.INTEGRITY)
        self.assertEqual(struct.unpack("<I", buf[-4:])[0], 1)
        server.unprotectPDU(buf, start, end, AuthLevel.INTEGRITY)

    def test_sealBothWays(self):
        """
        Sealed PDUs flow both ways after the exchange.
        """
        client, server = initiator(), acceptor()
        runExchange(client.step, server.step)
        for sender, receiver in ((client, server), (server, client), (client, server)):
            buf, start, end = requestPDU(b"sealed", authType=AuthType.SPNEGO)
            sender.protectPDU(buf, start, end, AuthLevel.PRIVACY)
            receiver.unprotectPDU(buf, start, end, AuthLevel.PRIVACY)
            self.assertEqual(bytes(buf[start : start + 6]), b"sealed")

    def test_wrongPassword(self):
        """
        A wrong password fails at the third leg.
        """
        client, server = initiator("wrong"), acceptor()
        error = self.assertRaises(AuthenticationError, runExchange, client.step, server.step)
        self.assertIn("wrong password", str(error))
        self.assertFalse(server.complete)


class PyspnegoTests(SynchronousTestCase):
    """
    pyspnego's Negotiate (SPNEGO) client and server, with NTLM inside.
    """

    def test_clientToAcceptor(self):
        """
        pyspnego's Negotiate client authenticates to our acceptor, and
        wrap_iov/unwrap_iov interoperate with protectPDU/unprotectPDU.
        """
        client = spnego.client(DOMAIN + "\\" + USER, PASSWORD, hostname="proxy1", protocol="negotiate")
        server = acceptor()
        runExchange(client.step, server.step)
        self.assertTrue(client.complete and server.complete)
        self.assertEqual(type(client).__name__, "NegotiateProxy")
        self.assertEqual(client.session_key, server.sessionKey)
        buf, start, end = requestPDU(b"from pyspnego", authType=AuthType.SPNEGO)
        wrapped = client.wrap_iov(pduBuffers(buf, start, end))
        buf[start:end] = wrapped.buffers[1].data
        buf[-16:] = wrapped.buffers[3].data
        server.unprotectPDU(buf, start, end, AuthLevel.PRIVACY)
        self.assertEqual(bytes(buf[start : start + 13]), b"from pyspnego")
        buf, start, end = requestPDU(b"to pyspnego", authType=AuthType.SPNEGO)
        plain = bytes(buf[start:end])
        server.protectPDU(buf, start, end, AuthLevel.PRIVACY)
        unwrapped = client.unwrap_iov(pduBuffers(buf, start, end, bytes(buf[-16:])))
        self.assertEqual(unwrapped.buffers[1].data, plain)

    def test_rawNTLMUnderSPNEGO(self):
        """
        A bare NTLM NEGOTIATE under auth_type 9 is accepted as raw NTLM.
        """
        client = spnego.client(
            DOMAIN + "\\" + USER, PASSWORD, protocol="negotiate", options=spnego.NegotiateOptions.use_ntlm
        )
        server = acceptor()
        self.assertEqual(runExchange(client.step, server.step), 3)
        self.assertEqual(client.session_key, server.sessionKey)

    def test_initiatorToServer(self):
        """
        Our initiator authenticates to pyspnego's Negotiate server, which
        checks our mechListMIC, and we check its.
        """
        path = os.path.abspath(self.mktemp())
        with open(path, "w") as f:
            f.write("%s:%s:%s\n" % (DOMAIN, USER, PASSWORD))
        self.patch(os, "environ", dict(os.environ, NTLM_USER_FILE=path))
        server = spnego.server(protocol="negotiate")
        client = initiator()
        self.assertEqual(runExchange(client.step, server.step), 4)
        self.assertTrue(client.complete and server.complete)
        self.assertEqual(client.sessionKey, server.session_key)
        buf, start, end = requestPDU(b"to pyspnego server", authType=AuthType.SPNEGO)
        plain = bytes(buf[start:end])
        client.protectPDU(buf, start, end, AuthLevel.PRIVACY)
        self.assertEqual(server.unwrap_iov(pduBuffers(buf, start, end, bytes(buf[-16:]))).buffers[1].data, plain)

    def test_initiatorWrongPasswordToServer(self):
        """
        pyspnego's server refuses our initiator's wrong password.
        """
        path = os.path.abspath(self.mktemp())
        with open(path, "w") as f:
            f.write("%s:%s:%s\n" % (DOMAIN, USER, PASSWORD))
        self.patch(os, "environ", dict(os.environ, NTLM_USER_FILE=path))
        self.assertRaises(SpnegoError, runExchange, initiator("wrong").step, spnego.server(protocol="negotiate").step)


class NegotiationTests(SynchronousTestCase):
    """
    How the acceptor negotiates when NTLMSSP is not first, and what it
    refuses.
    """

    def test_kerberosFirst(self):
        """
        With Kerberos offered first (as Windows does) the acceptor selects
        NTLMSSP with request-mic and no token; the NEGOTIATE then comes in a
        NegTokenResp, and the exchange completes with mechListMICs.
        """
        mechs = [MS_KERBEROS_OID, KERBEROS_OID, NTLMSSP_OID]
        ntlm = NTLMInitiator(Credentials(USER, PASSWORD, DOMAIN))
        server = acceptor()
        first = unpack_token(server.step(NegTokenInit(mech_types=mechs, mech_token=b"\x60\x00kerberos").pack()))
        self.assertEqual(
            (first.neg_state, first.supported_mech, first.response_token),
            (NegState.request_mic, NTLMSSP_OID, None),
        )
        second = unpack_token(server.step(NegTokenResp(response_token=ntlm.step(None)).pack()))
        self.assertEqual(second.neg_state, NegState.accept_incomplete)
        authenticate = ntlm.step(second.response_token)
        mechList = pack_mech_type_list(mechs)
        mic = ntlm._security.sign(mechList)
        ntlm._security.resetCipherState()
        final = unpack_token(server.step(NegTokenResp(response_token=authenticate, mech_list_mic=mic).pack()))
        self.assertEqual(final.neg_state, NegState.accept_complete)
        ntlm._security.verify(mechList, final.mech_list_mic)
        self.assertEqual(server.sessionKey, ntlm.sessionKey)

    def test_requestedMICMissing(self):
        """
        When the acceptor asked for a mechListMIC, leaving it out fails.
        """
        ntlm = NTLMInitiator(Credentials(USER, PASSWORD, DOMAIN))
        server = acceptor()
        server.step(NegTokenInit(mech_types=[KERBEROS_OID, NTLMSSP_OID]).pack())
        challenge = unpack_token(server.step(NegTokenResp(response_token=ntlm.step(None)).pack())).response_token
        error = self.assertRaises(
            AuthenticationError, server.step, NegTokenResp(response_token=ntlm.step(challenge)).pack()
        )
        self.assertIn("mechListMIC missing", str(error))

    def test_micMissingAfterNTLMMIC(self):
        """
        An AUTHENTICATE with an NTLM MIC must come with a mechListMIC, even
        when NTLMSSP was first.
        """
        ntlm = NTLMInitiator(Credentials(USER, PASSWORD, DOMAIN))
        server = acceptor()
        first = unpack_token(server.step(NegTokenInit(mech_types=[NTLMSSP_OID], mech_token=ntlm.step(None)).pack()))
        authenticate = ntlm.step(first.response_token)
        self.assertTrue(ntlm.micPresent)
        self.assertRaises(AuthenticationError, server.step, NegTokenResp(response_token=authenticate).pack())

    def test_badMechListMIC(self):
        """
        A mechListMIC over another mech list is a SignatureError.
        """
        ntlm = NTLMInitiator(Credentials(USER, PASSWORD, DOMAIN))
        server = acceptor()
        first = unpack_token(server.step(NegTokenInit(mech_types=[NTLMSSP_OID], mech_token=ntlm.step(None)).pack()))
        authenticate = ntlm.step(first.response_token)
        mic = ntlm._security.sign(pack_mech_type_list([NTLMSSP_OID, KERBEROS_OID]))
        self.assertRaises(
            SignatureError, server.step, NegTokenResp(response_token=authenticate, mech_list_mic=mic).pack()
        )

    def test_noNTLMOffered(self):
        """
        A NegTokenInit without NTLMSSP is refused, naming what was offered.
        """
        error = self.assertRaises(AuthenticationError, acceptor().step, NegTokenInit(mech_types=[KERBEROS_OID]).pack())
        self.assertIn(KERBEROS_OID, str(error))

    def test_responseFirst(self):
        """
        A NegTokenResp as the first token is refused.
        """
        self.assertRaises(AuthenticationError, acceptor().step, NegTokenResp(response_token=b"x").pack())

    def test_clientReject(self):
        """
        A client's reject ends the exchange.
        """
        client, server = initiator(), acceptor()
        server.step(client.step(None))
        self.assertRaises(AuthenticationError, server.step, NegTokenResp(neg_state=NegState.reject).pack())

    def test_acceptorReject(self):
        """
        The initiator fails on the acceptor's reject.
        """
        client = initiator()
        client.step(None)
        error = self.assertRaises(AuthenticationError, client.step, NegTokenResp(neg_state=NegState.reject).pack())
        self.assertIn("rejected", str(error))

    def test_otherMechChosen(self):
        """
        The initiator fails when the acceptor picks a mechanism it did not
        offer.
        """
        client = initiator()
        client.step(None)
        self.assertRaises(
            AuthenticationError,
            client.step,
            NegTokenResp(neg_state=NegState.accept_incomplete, supported_mech=KERBEROS_OID, response_token=b"x").pack(),
        )

    def test_badFinalMIC(self):
        """
        The initiator refuses an acceptor mechListMIC that does not verify.
        """
        client, server = initiator(), acceptor()
        final = bytearray(server.step(client.step(server.step(client.step(None)))))
        final[20] ^= 1
        self.assertRaises(SignatureError, client.step, bytes(final))
        self.assertFalse(client.complete)

    def test_notComplete(self):
        """
        Protecting a PDU before completion is refused.
        """
        client = initiator()
        client.step(None)
        buf, start, end = requestPDU(b"early")
        self.assertRaises(AuthenticationError, client.protectPDU, buf, start, end, AuthLevel.PRIVACY)

    @settings(max_examples=200, deadline=None)
    @given(st.binary(max_size=120))
    def test_randomFirstToken(self, data):
        """
        Random bytes as the first token raise only AuthenticationError.
        """
        try:
            acceptor().step(data)
        except AuthenticationError:
            pass

    @settings(max_examples=200, deadline=None)
    @given(st.binary(max_size=120))
    def test_randomSecondToken(self, data):
        """
        Random bytes after a valid NegTokenInit raise only
        AuthenticationError.
        """
        server = acceptor()
        server.step(initiator().step(None))
        try:
            server.step(data)
        except AuthenticationError:
            pass
