"""
Interop of L{mapiproxy.auth} with Samba's gensec (a third independent
NTLMSSP/SPNEGO implementation), driven through python3-samba in Debian's
/usr/bin/python3 (see samba_gensec_peer.py).

Samba's Python binding offers C{sign_packet}/C{check_packet} with a
whole-PDU argument (DCE/RPC signing) but no C{seal_packet}/
C{unseal_packet}; sealing is checked through C{wrap}/C{unwrap}, which seal
with the signature over the data alone: our side then sees a "PDU" that is
nothing but its stub and verifier.
"""

import shutil

from twisted.trial.unittest import SynchronousTestCase

from mapiproxy.auth.credentials import Credentials
from mapiproxy.auth.ntlm import NegotiateFlag
from mapiproxy.auth.security import makeAcceptor, makeInitiator
from mapiproxy.dcerpc.constants import AuthLevel, AuthType
from mapiproxy.errors import AuthenticationError

from tests.auth.support import (
    DOMAIN,
    IDENTITY,
    PASSWORD,
    USER,
    SambaError,
    SambaPeer,
    makePassDB,
    requestPDU,
    runExchange,
    sambaDomain,
    sambaSkipReason,
)

_SKIP = sambaSkipReason()
#: NT_STATUS_WRONG_PASSWORD as Samba's binding reports it.
NT_STATUS_WRONG_PASSWORD = "3221225578"


class SambaTestsMixin:
    """
    Sign and seal checks shared by both roles; C{self.peer} is Samba and
    C{self.context} ours, both established.
    """

    def test_sessionKey(self):
        """
        Samba and we export the same session key.
        """
        self.assertEqual(self.peer.sessionKey(), self.context.sessionKey)

    def test_sambaSignsWePDU(self):
        """
        Two PDUs signed by gensec_sign_packet (stub + whole PDU) verify with
        our unprotectPDU, in sequence.
        """
        for number in range(2):
            buf, start, end = requestPDU(b"signed by samba %d" % (number,), authLevel=AuthLevel.INTEGRITY)
            buf[-16:] = self.peer.signPacket(bytes(buf[start:end]), bytes(buf[:-16]))
            self.context.unprotectPDU(buf, start, end, AuthLevel.INTEGRITY)

    def test_weSignSambaChecks(self):
        """
        Our signatures pass gensec_check_packet, and a changed header does
        not (Samba signs the header too).
        """
        buf, start, end = requestPDU(b"signed by us", authLevel=AuthLevel.INTEGRITY)
        self.context.protectPDU(buf, start, end, AuthLevel.INTEGRITY)
        self.assertTrue(self.peer.checkPacket(bytes(buf[start:end]), bytes(buf[:-16]), bytes(buf[-16:])))
        buf, start, end = requestPDU(b"signed by us", authLevel=AuthLevel.INTEGRITY)
        self.context.protectPDU(buf, start, end, AuthLevel.INTEGRITY)
        header = bytearray(buf[:-16])
        header[12] ^= 1
        self.assertFalse(self.peer.checkPacket(bytes(buf[start:end]), bytes(header), bytes(buf[-16:])))

    def test_sambaSealsWeUnseal(self):
        """
        Data sealed by gensec_wrap (signature then sealed data) unseals with
        our unprotectPDU.
        """
        data = b"sealed by samba, sixteen+ bytes"
        wrapped = self.peer.wrap(data)
        buf = bytearray(wrapped[16:] + wrapped[:16])
        self.context.unprotectPDU(buf, 0, len(data), AuthLevel.PRIVACY)
        self.assertEqual(bytes(buf[: len(data)]), data)

    def test_weSealSambaUnseals(self):
        """
        Data sealed by our protectPDU unwraps with gensec_unwrap.
        """
        data = b"sealed by mapiproxy"
        buf = bytearray(data + b"\x00" * 16)
        self.context.protectPDU(buf, 0, len(data), AuthLevel.PRIVACY)
        self.assertNotIn(data, bytes(buf))
        self.assertEqual(self.peer.unwrap(bytes(buf[-16:] + buf[:-16])), data)


class SambaClientNTLMTests(SambaTestsMixin, SynchronousTestCase):
    """
    Samba's gensec NTLMSSP client (sign, seal, DCE style) against our NTLM
    acceptor.
    """

    if _SKIP:
        skip = _SKIP

    mech = "ntlmssp"
    authType = AuthType.NTLM
    options = ()
    legs = 3

    def setUp(self):
        self.peer = SambaPeer.client(self.mech, USER, DOMAIN, PASSWORD, *self.options)
        self.addCleanup(self.peer.close)
        self.context = makeAcceptor(self.authType, makePassDB(), IDENTITY)
        self.assertEqual(runExchange(self.peer.step, self.context.step), self.legs)
        self.assertTrue(self.context.complete)

    def test_identity(self):
        """
        The acceptor reports the account Samba logged on with.
        """
        self.assertEqual((self.context.username, self.context.domain), (USER, "PROXY1"))

    def test_wrongPassword(self):
        """
        Samba's client with a wrong password is refused by our acceptor.
        """
        peer = SambaPeer.client(self.mech, USER, DOMAIN, "wrong", *self.options)
        self.addCleanup(peer.close)
        context = makeAcceptor(self.authType, makePassDB(), IDENTITY)
        error = self.assertRaises(AuthenticationError, runExchange, peer.step, context.step)
        self.assertIn("RELAY\\bob: wrong password", str(error))


class SambaClientSPNEGOTests(SambaClientNTLMTests):
    """
    Samba's gensec SPNEGO client against our SPNEGO acceptor (four legs;
    Samba checks our mechListMIC).
    """

    mech = "spnego"
    authType = AuthType.SPNEGO
    legs = 4

    def test_sequenceAfterMechListMIC(self):
        """
        Samba's first signature after the mechListMIC carries sequence 1,
        which is also what we expect.
        """
        buf, start, end = requestPDU(b"first", authType=AuthType.SPNEGO, authLevel=AuthLevel.INTEGRITY)
        buf[-16:] = self.peer.signPacket(bytes(buf[start:end]), bytes(buf[:-16]))
        self.assertEqual(bytes(buf[-4:]), b"\x01\x00\x00\x00")
        self.context.unprotectPDU(buf, start, end, AuthLevel.INTEGRITY)


class SambaClientNTLMv1Tests(SambaClientNTLMTests):
    """
    Samba's client with C{client ntlmv2 auth = no}: NTLMv1 with ESS.
    """

    options = ("client ntlmv2 auth=no",)

    def test_flags(self):
        """
        ESS was negotiated.
        """
        self.assertTrue(self.context.negotiatedFlags & NegotiateFlag.EXTENDED_SESSIONSECURITY)


class SambaClientLegacyTests(SambaClientNTLMTests):
    """
    Samba's client without NTLMv2 and without NTLM2 (ESS): plain NTLMv1,
    CRC32 checksums and one shared RC4 stream, stub-only signatures.
    """

    options = ("client ntlmv2 auth=no", "ntlmssp_client:ntlm2=no")

    def test_flags(self):
        """
        ESS was not negotiated.
        """
        self.assertFalse(self.context.negotiatedFlags & NegotiateFlag.EXTENDED_SESSIONSECURITY)

    def test_weSignSambaChecks(self):
        """
        Our stub-only signatures pass gensec_check_packet; without ESS the
        header is not covered, but the stub is.
        """
        buf, start, end = requestPDU(b"signed by us", authLevel=AuthLevel.INTEGRITY)
        self.context.protectPDU(buf, start, end, AuthLevel.INTEGRITY)
        self.assertTrue(self.peer.checkPacket(bytes(buf[start:end]), bytes(buf[:-16]), bytes(buf[-16:])))
        buf, start, end = requestPDU(b"signed by us", authLevel=AuthLevel.INTEGRITY)
        self.context.protectPDU(buf, start, end, AuthLevel.INTEGRITY)
        stub = bytearray(buf[start:end])
        stub[0] ^= 1
        self.assertFalse(self.peer.checkPacket(bytes(stub), bytes(buf[:-16]), bytes(buf[-16:])))


class SambaServerNTLMTests(SambaTestsMixin, SynchronousTestCase):
    """
    Our NTLM initiator against Samba's gensec NTLMSSP server, backed by a
    throwaway Samba AD domain provisioned once per test run.
    """

    if _SKIP:
        skip = _SKIP
    elif shutil.which("samba-tool") is None:
        skip = "samba-tool is not installed (package samba-ad-dc)"

    mech = "ntlmssp"
    authType = AuthType.NTLM

    def setUp(self):
        self.conf = sambaDomain()
        self.peer = SambaPeer.server(self.mech, self.conf)
        self.addCleanup(self.peer.close)
        self.context = makeInitiator(self.authType, Credentials(USER, PASSWORD, DOMAIN), "dc1.relay.test")
        runExchange(self.context.step, self.peer.step)
        self.assertTrue(self.context.complete)
        self.assertTrue(self.peer.finished)

    def test_wrongPassword(self):
        """
        Samba refuses our AUTHENTICATE made with a wrong password
        (NT_STATUS_WRONG_PASSWORD).
        """
        peer = SambaPeer.server(self.mech, self.conf)
        self.addCleanup(peer.close)
        context = makeInitiator(self.authType, Credentials(USER, "wrong", DOMAIN))
        error = self.assertRaises(SambaError, runExchange, context.step, peer.step)
        self.assertIn(NT_STATUS_WRONG_PASSWORD, str(error))


class SambaServerSPNEGOTests(SambaServerNTLMTests):
    """
    Our SPNEGO initiator against Samba's SPNEGO server (which checks our
    mechListMIC; we check its).
    """

    mech = "spnego"
    authType = AuthType.SPNEGO
