"""
Tests for L{mapiproxy.auth.security}: the factories and the per-PDU rules
shared by every context.
"""

from hypothesis import given, settings
from hypothesis import strategies as st
from impacket import ntlm as impacketNTLM
from twisted.trial.unittest import SynchronousTestCase

from mapiproxy.auth.credentials import Credentials
from mapiproxy.auth.ntlm import NTLMAcceptor, NTLMInitiator
from mapiproxy.auth.security import SecurityContext, makeAcceptor, makeInitiator
from mapiproxy.auth.spnego import SPNEGOAcceptor, SPNEGOInitiator
from mapiproxy.dcerpc.constants import AuthLevel, AuthType
from mapiproxy.errors import AuthenticationError, SignatureError, UnsupportedAuthType

from tests.auth.support import DOMAIN, IDENTITY, PASSWORD, USER, makePassDB, requestPDU, runExchange

CREDENTIALS = Credentials(USER, PASSWORD, DOMAIN)


def establishedPair(authType=AuthType.NTLM):
    client = makeInitiator(authType, CREDENTIALS, "proxy1")
    server = makeAcceptor(authType, makePassDB(), IDENTITY)
    runExchange(client.step, server.step)
    return client, server


class FactoryTests(SynchronousTestCase):
    """
    L{makeAcceptor} and L{makeInitiator} pick the context for an auth_type.
    """

    def test_acceptors(self):
        """
        NTLM (10) gives an NTLM acceptor, SPNEGO (9) an SPNEGO one; both
        are L{SecurityContext}s with their auth type and 16-byte verifiers.
        """
        ntlm = makeAcceptor(10, makePassDB(), IDENTITY)
        negotiate = makeAcceptor(9, makePassDB(), IDENTITY)
        self.assertIsInstance(ntlm, NTLMAcceptor)
        self.assertIsInstance(negotiate, SPNEGOAcceptor)
        for context, authType in ((ntlm, AuthType.NTLM), (negotiate, AuthType.SPNEGO)):
            self.assertIsInstance(context, SecurityContext)
            self.assertEqual((context.authType, context.signatureSize, context.complete), (authType, 16, False))

    def test_initiators(self):
        """
        The same for initiators, which know who they are before the
        exchange.
        """
        ntlm = makeInitiator(AuthType.NTLM, CREDENTIALS)
        negotiate = makeInitiator(AuthType.SPNEGO, CREDENTIALS)
        self.assertIsInstance(ntlm, NTLMInitiator)
        self.assertIsInstance(negotiate, SPNEGOInitiator)
        self.assertEqual((negotiate.username, negotiate.domain), (USER, DOMAIN))

    def test_unsupported(self):
        """
        Kerberos, Schannel and unknown numbers are L{UnsupportedAuthType}.
        """
        error = self.assertRaises(UnsupportedAuthType, makeAcceptor, 16, makePassDB(), IDENTITY)
        self.assertIn("KERBEROS (16)", str(error))
        self.assertRaises(UnsupportedAuthType, makeAcceptor, AuthType.SCHANNEL, makePassDB(), IDENTITY)
        self.assertRaises(UnsupportedAuthType, makeInitiator, 200, CREDENTIALS)
        self.assertTrue(issubclass(UnsupportedAuthType, AuthenticationError))

    def test_ntlmv1Option(self):
        """
        C{allowNTLMv1=False} reaches the acceptor.
        """
        server = makeAcceptor(AuthType.NTLM, makePassDB(), IDENTITY, allowNTLMv1=False)
        negotiate = impacketNTLM.getNTLMSSPType1("", "", signingRequired=True, use_ntlmv2=False)
        challenge = server.step(negotiate.getData())
        authenticate, _ = impacketNTLM.getNTLMSSPType3(negotiate, challenge, USER, PASSWORD, DOMAIN, use_ntlmv2=False)
        self.assertRaises(AuthenticationError, server.step, authenticate.getData())

    def test_clockReachesChallenge(self):
        """
        The acceptor's clock sets the CHALLENGE timestamp.
        """
        server = makeAcceptor(AuthType.NTLM, makePassDB(), IDENTITY, clock=lambda: 0.0)
        challenge = server.step(impacketNTLM.getNTLMSSPType1("", "", signingRequired=True).getData())
        pairs = impacketNTLM.AV_PAIRS(impacketNTLM.NTLMAuthChallenge(challenge)["TargetInfoFields"])
        self.assertEqual(pairs[impacketNTLM.NTLMSSP_AV_TIME][1], (116444736000000000).to_bytes(8, "little"))


class ProtectionTests(SynchronousTestCase):
    """
    L{SecurityContext.protectPDU} and C{unprotectPDU}.
    """

    def test_packetLevelSigns(self):
        """
        PKT (4) signs like INTEGRITY (5): the stub stays clear.
        """
        client, server = establishedPair()
        buf, start, end = requestPDU(b"packet level", authLevel=AuthLevel.PKT)
        client.protectPDU(buf, start, end, AuthLevel.PKT)
        self.assertIn(b"packet level", bytes(buf))
        self.assertNotEqual(bytes(buf[-16:]), b"\x00" * 16)
        server.unprotectPDU(buf, start, end, AuthLevel.PKT)

    def test_connectLevel(self):
        """
        CONNECT (2) has no per-PDU protection to apply.
        """
        client, server = establishedPair()
        buf, start, end = requestPDU(b"x")
        self.assertRaises(AuthenticationError, client.protectPDU, buf, start, end, AuthLevel.CONNECT)
        self.assertRaises(AuthenticationError, server.unprotectPDU, buf, start, end, AuthLevel.CONNECT)

    def test_notEstablished(self):
        """
        A context that has not completed protects nothing.
        """
        buf, start, end = requestPDU(b"x")
        server = makeAcceptor(AuthType.NTLM, makePassDB(), IDENTITY)
        self.assertRaises(AuthenticationError, server.protectPDU, buf, start, end, AuthLevel.INTEGRITY)
        self.assertRaises(AuthenticationError, server.unprotectPDU, buf, start, end, AuthLevel.INTEGRITY)

    def test_badRegion(self):
        """
        A stub region reaching into the verifier, or reversed, is refused:
        AuthenticationError on the way out, SignatureError on the way in.
        """
        client, server = establishedPair()
        buf, start, end = requestPDU(b"x")
        for region in ((start, len(buf) - 15), (end, start), (-1, end)):
            self.assertRaises(AuthenticationError, client.protectPDU, buf, region[0], region[1], AuthLevel.PRIVACY)
            self.assertRaises(SignatureError, server.unprotectPDU, buf, region[0], region[1], AuthLevel.PRIVACY)
        self.assertRaises(SignatureError, server.unprotectPDU, bytearray(10), 0, 0, AuthLevel.INTEGRITY)

    def test_sealingNotNegotiated(self):
        """
        A client that asked neither signing nor sealing gets a context that
        refuses both levels.
        """
        server = makeAcceptor(AuthType.NTLM, makePassDB(), IDENTITY)
        negotiate = impacketNTLM.getNTLMSSPType1("", "", signingRequired=False)
        challenge = server.step(negotiate.getData())
        server.step(impacketNTLM.getNTLMSSPType3(negotiate, challenge, USER, PASSWORD, DOMAIN)[0].getData())
        buf, start, end = requestPDU(b"x")
        error = self.assertRaises(AuthenticationError, server.protectPDU, buf, start, end, AuthLevel.PRIVACY)
        self.assertIn("sealing", str(error))
        error = self.assertRaises(AuthenticationError, server.protectPDU, buf, start, end, AuthLevel.INTEGRITY)
        self.assertIn("signing", str(error))

    def test_reprHidesKey(self):
        """
        A context's repr names the user and never shows the session key.
        """
        _, server = establishedPair()
        self.assertIn("PROXY1\\bob", repr(server))
        self.assertNotIn(server.sessionKey.hex(), repr(server))

    @settings(max_examples=200, deadline=None)
    @given(
        stub=st.binary(max_size=300),
        level=st.sampled_from([AuthLevel.INTEGRITY, AuthLevel.PRIVACY]),
        authType=st.sampled_from([AuthType.NTLM, AuthType.SPNEGO]),
        data=st.data(),
    )
    def test_anyChangeDetected(self, stub, level, authType, data):
        """
        A protected PDU round-trips, and changing any one byte of it (header,
        stub, pad, trailer or verifier) is a SignatureError.
        """
        client, server = establishedPair(authType)
        buf, start, end = requestPDU(stub, authType=authType, authLevel=level)
        client.protectPDU(buf, start, end, level)
        server.unprotectPDU(buf, start, end, level)
        self.assertEqual(bytes(buf[start : start + len(stub)]), stub)
        client, server = establishedPair(authType)
        buf, start, end = requestPDU(stub, authType=authType, authLevel=level)
        client.protectPDU(buf, start, end, level)
        buf[data.draw(st.integers(0, len(buf) - 1))] ^= data.draw(st.integers(1, 255))
        self.assertRaises(SignatureError, server.unprotectPDU, buf, start, end, level)
