"""
Tests for L{mapiproxy.auth.ntlm}: the [MS-NLMP] 4.2 test vectors, and real
third-party peers (impacket's and pyspnego's NTLM clients against our
acceptor, pyspnego's server against our initiator). Samba is in
L{tests.auth.test_samba}.
"""

import os
import struct

import spnego
from hypothesis import given, settings
from hypothesis import strategies as st
from impacket import ntlm as impacketNTLM
from spnego._ntlm_raw.crypto import ntowfv1
from spnego._ntlm_raw.messages import Challenge
from spnego.exceptions import SpnegoError
from spnego.iov import BufferType, IOVBuffer
from twisted.trial.unittest import SynchronousTestCase

from mapiproxy.auth.credentials import Credentials, ServerIdentity
from mapiproxy.auth.ntlm import (
    AvId,
    AuthenticateFields,
    NegotiateFlag,
    NTLMAcceptor,
    NTLMInitiator,
    SessionSecurity,
    fileTime,
    packAvPairs,
    parseAvPairs,
)
from mapiproxy.auth.passdb import Account, PassDB
from mapiproxy.dcerpc.constants import AuthLevel
from mapiproxy.errors import AuthenticationError, SignatureError

from tests.auth.support import (
    DOMAIN,
    IDENTITY,
    PASSWORD,
    USER,
    ImpacketClientSigner,
    makePassDB,
    requestPDU,
    runExchange,
)

# [MS-NLMP] 4.2.1 common values.
SPEC_CHALLENGE = bytes.fromhex("0123456789abcdef")
SPEC_CLIENT_CHALLENGE = b"\xaa" * 8
SPEC_RANDOM_SESSION_KEY = b"\x55" * 16
SPEC_PLAINTEXT = "Plaintext".encode("utf-16-le")
SPEC_IDENTITY = ServerIdentity("Server", "Domain")


def buildNegotiate(flags):
    """
    A NEGOTIATE message with no domain or workstation ([MS-NLMP] 2.2.1.1).
    """
    return b"NTLMSSP\x00" + struct.pack("<II", 1, flags) + b"\x00" * 16


def buildAuthenticate(
    lm=b"",
    nt=b"",
    domain="",
    user="",
    workstation="",
    encryptedKey=b"",
    flags=0,
    mic=None,
    order=(0, 1, 2, 3, 4, 5),
):
    """
    An AUTHENTICATE message ([MS-NLMP] 2.2.1.3) whose payload fields are
    laid out in C{order} (indexes of lm, nt, domain, user, workstation,
    key), so that parsing by offset is exercised.
    """
    values = [
        lm,
        nt,
        domain.encode("utf-16-le"),
        user.encode("utf-16-le"),
        workstation.encode("utf-16-le"),
        encryptedKey,
    ]
    headerLength = 88 if mic is not None else 72
    offsets = [0] * 6
    payload = b""
    for index in order:
        offsets[index] = headerLength + len(payload)
        payload += values[index]
    fields = b"".join(struct.pack("<HHI", len(v), len(v), o) for v, o in zip(values, offsets))
    header = b"NTLMSSP\x00" + struct.pack("<I", 3) + fields + struct.pack("<I", flags) + b"\x00" * 8
    if mic is not None:
        header += mic
    return header + payload


def specNTLMv2Blob(pairs=None):
    """
    The NTLMv2 client challenge (temp) of [MS-NLMP] 4.2.4.2.2.
    """
    if pairs is None:
        pairs = packAvPairs([(AvId.NB_DOMAIN_NAME, "Domain"), (AvId.NB_COMPUTER_NAME, "Server")])
    return b"\x01\x01" + b"\x00" * 6 + b"\x00" * 8 + SPEC_CLIENT_CHALLENGE + b"\x00" * 4 + pairs + b"\x00" * 4


def specAcceptor(allowNTLMv1=True):
    """
    An acceptor whose server challenge is the spec's, for user "User",
    password "Password".
    """
    db = PassDB([Account("User", ntowfv1("Password"))], SPEC_IDENTITY)
    return NTLMAcceptor(db, SPEC_IDENTITY, randomBytes=lambda n: SPEC_CHALLENGE, allowNTLMv1=allowNTLMv1)


class SpecVectorTests(SynchronousTestCase):
    """
    The test vectors of [MS-NLMP] 4.2 (user "User", domain "Domain",
    password "Password", server challenge 0123456789abcdef).
    """

    def test_sealNTLMv2(self):
        """
        4.2.4.4: "Plaintext" sealed with ESS, KEY_EXCH and 128-bit keys.
        """
        security = SessionSecurity(0xE28A8233, SPEC_RANDOM_SESSION_KEY, initiator=True)
        self.assertEqual(security.encrypt(SPEC_PLAINTEXT).hex(), "54e50165bf1936dc996020c1811b0f06fb5f")
        self.assertEqual(security.sign(SPEC_PLAINTEXT).hex(), "010000007fb38ec5c55d497600000000")

    def test_sealNTLMv1WithESS(self):
        """
        4.2.3.4: ESS without KEY_EXCH, 56-bit sealing key.
        """
        security = SessionSecurity(0x820A8233, bytes.fromhex("eb93429a8bd952f8b89c55b87f475edc"), initiator=True)
        self.assertEqual(security.encrypt(SPEC_PLAINTEXT).hex(), "a02372f6530273f3aa1eb90190ce5200c99d")
        self.assertEqual(security.sign(SPEC_PLAINTEXT).hex(), "01000000ff2aeb52f681793a00000000")

    def test_sealNTLMv1(self):
        """
        4.2.2.4: without ESS, one RC4 stream and a CRC32 checksum.
        """
        security = SessionSecurity(0xE2028233, SPEC_RANDOM_SESSION_KEY, initiator=True)
        self.assertEqual(security.encrypt(SPEC_PLAINTEXT).hex(), "56fe04d861f9319af0d7238a2e3b4d457fb8")
        self.assertEqual(security.sign(SPEC_PLAINTEXT).hex(), "010000000000000009dcd1df2e459d36")

    def test_acceptNTLMv2Response(self):
        """
        4.2.4: the acceptor accepts the spec's NTLMv2 response (NTProofStr
        68cd0ab8...) and decrypts the spec's EncryptedRandomSessionKey to
        the random session key.
        """
        acceptor = specAcceptor()
        acceptor.step(buildNegotiate(0xE28A8233))
        authenticate = buildAuthenticate(
            nt=bytes.fromhex("68cd0ab851e51c96aabc927bebef6a1c") + specNTLMv2Blob(),
            lm=bytes.fromhex("86c35097ac9cec102554764a57cccc19") + SPEC_CLIENT_CHALLENGE,
            domain="Domain",
            user="User",
            workstation="COMPUTER",
            encryptedKey=bytes.fromhex("c5dad2544fc9799094ce1ce90bc9d03e"),
            flags=0xE28A8233,
        )
        self.assertIsNone(acceptor.step(authenticate))
        self.assertTrue(acceptor.complete)
        self.assertEqual(acceptor.sessionKey, SPEC_RANDOM_SESSION_KEY)
        self.assertEqual((acceptor.username, acceptor.workstation), ("User", "COMPUTER"))

    def test_acceptLMv2Only(self):
        """
        4.2.4.2.1: the spec's LMv2 response alone (no NT response) is
        accepted as a fallback.
        """
        acceptor = specAcceptor()
        acceptor.step(buildNegotiate(0xE28A8233 & ~NegotiateFlag.KEY_EXCH))
        acceptor.step(
            buildAuthenticate(
                lm=bytes.fromhex("86c35097ac9cec102554764a57cccc19") + SPEC_CLIENT_CHALLENGE,
                domain="Domain",
                user="User",
                flags=0xE28A8233 & ~NegotiateFlag.KEY_EXCH,
            )
        )
        self.assertTrue(acceptor.complete)

    def test_acceptNTLMv1WithESS(self):
        """
        4.2.3: the NTLM2 session response; KeyExchangeKey eb93429a...
        becomes the session key (no KEY_EXCH).
        """
        acceptor = specAcceptor()
        acceptor.step(buildNegotiate(0x820A8233))
        acceptor.step(
            buildAuthenticate(
                nt=bytes.fromhex("7537f803ae367128ca458204bde7caf81e97ed2683267232"),
                lm=SPEC_CLIENT_CHALLENGE + b"\x00" * 16,
                domain="Domain",
                user="User",
                flags=0x820A8233,
            )
        )
        self.assertEqual(acceptor.sessionKey.hex(), "eb93429a8bd952f8b89c55b87f475edc")

    def test_acceptNTLMv1(self):
        """
        4.2.2: the plain NTLMv1 response 67c43011...; with KEY_EXCH the
        session base key (MD4 of the NT hash) decrypts the random key.
        """
        from spnego._ntlm_raw.crypto import rc4k

        acceptor = specAcceptor()
        acceptor.step(buildNegotiate(0xE2028233))
        response = bytes.fromhex("67c43011f30298a2ad35ece64f16331c44bdbed927841f94")
        acceptor.step(
            buildAuthenticate(
                nt=response,
                lm=response,
                domain="Domain",
                user="User",
                encryptedKey=rc4k(bytes.fromhex("d87262b0cde4b1cb7499becccdf10784"), SPEC_RANDOM_SESSION_KEY),
                flags=0xE2028233,
            )
        )
        self.assertEqual(acceptor.sessionKey, SPEC_RANDOM_SESSION_KEY)
        self.assertFalse(acceptor.negotiatedFlags & NegotiateFlag.EXTENDED_SESSIONSECURITY)

    def test_refuseNTLMv1(self):
        """
        With C{allowNTLMv1=False} the same NTLMv1 response is refused.
        """
        acceptor = specAcceptor(allowNTLMv1=False)
        acceptor.step(buildNegotiate(0xE2028233))
        response = bytes.fromhex("67c43011f30298a2ad35ece64f16331c44bdbed927841f94")
        error = self.assertRaises(
            AuthenticationError,
            acceptor.step,
            buildAuthenticate(nt=response, lm=response, domain="Domain", user="User", flags=0xE2028233),
        )
        self.assertIn("NTLMv1 refused", str(error))

    def test_payloadOrderDoesNotMatter(self):
        """
        The AUTHENTICATE fields are read by offset: the spec's message with
        its payload in reverse order (session key first) still works.
        """
        acceptor = specAcceptor()
        acceptor.step(buildNegotiate(0xE28A8233))
        acceptor.step(
            buildAuthenticate(
                nt=bytes.fromhex("68cd0ab851e51c96aabc927bebef6a1c") + specNTLMv2Blob(),
                domain="Domain",
                user="User",
                encryptedKey=bytes.fromhex("c5dad2544fc9799094ce1ce90bc9d03e"),
                flags=0xE28A8233,
                order=(5, 4, 3, 2, 1, 0),
            )
        )
        self.assertEqual(acceptor.sessionKey, SPEC_RANDOM_SESSION_KEY)

    def test_wrongProofStr(self):
        """
        One changed bit of the NTProofStr is a wrong password.
        """
        acceptor = specAcceptor()
        acceptor.step(buildNegotiate(0xE28A8233))
        error = self.assertRaises(
            AuthenticationError,
            acceptor.step,
            buildAuthenticate(
                nt=bytes.fromhex("69cd0ab851e51c96aabc927bebef6a1c") + specNTLMv2Blob(),
                domain="Domain",
                user="User",
                encryptedKey=b"\x00" * 16,
                flags=0xE28A8233,
            ),
        )
        self.assertEqual(str(error), "NTLM logon failed for Domain\\User: wrong password")


class ChallengeTests(SynchronousTestCase):
    """
    The acceptor's CHALLENGE, read back by impacket's and pyspnego's
    parsers.
    """

    def challenge(self, flags, clock=lambda: 1700000000.0):
        acceptor = NTLMAcceptor(makePassDB(), IDENTITY, clock=clock)
        return acceptor.step(buildNegotiate(flags))

    def test_parsedByImpacket(self):
        """
        impacket reads our flags, target name and AV pairs.
        """
        flags = impacketNTLM.getNTLMSSPType1("", "", signingRequired=True)["flags"]
        parsed = impacketNTLM.NTLMAuthChallenge(self.challenge(flags))
        self.assertEqual(parsed["domain_name"].decode("utf-16-le"), "RELAY")
        pairs = impacketNTLM.AV_PAIRS(parsed["TargetInfoFields"])
        self.assertEqual(pairs[impacketNTLM.NTLMSSP_AV_HOSTNAME][1].decode("utf-16-le"), "PROXY1")
        self.assertEqual(pairs[impacketNTLM.NTLMSSP_AV_DOMAINNAME][1].decode("utf-16-le"), "RELAY")
        self.assertEqual(pairs[impacketNTLM.NTLMSSP_AV_DNS_HOSTNAME][1].decode("utf-16-le"), "proxy1.relay.test")
        self.assertEqual(pairs[impacketNTLM.NTLMSSP_AV_DNS_DOMAINNAME][1].decode("utf-16-le"), "relay.test")
        self.assertEqual(parsed["flags"] & flags, flags & ~NegotiateFlag.VERSION)

    def test_parsedByPyspnego(self):
        """
        pyspnego reads the timestamp from our clock and the VERSION.
        """
        challenge = Challenge.unpack(self.challenge(0xE2088297, clock=lambda: 0.0))
        self.assertEqual(challenge.target_info[AvId.TIMESTAMP].year, 1970)
        self.assertEqual((challenge.version.major, challenge.version.minor), (10, 0))
        self.assertEqual(challenge.target_name, "RELAY")
        self.assertEqual(len(challenge.server_challenge), 8)

    def test_flagsIntersected(self):
        """
        Only what the client asks for among SIGN, SEAL, KEY_EXCH, ESS, 128,
        56, VERSION is granted; NTLM, TARGET_INFO and REQUEST_TARGET always
        are, LM_KEY never.
        """
        (flags,) = struct.unpack_from("<I", self.challenge(NegotiateFlag.UNICODE | NegotiateFlag.LM_KEY), 20)
        self.assertEqual(
            flags,
            NegotiateFlag.UNICODE
            | NegotiateFlag.NTLM
            | NegotiateFlag.REQUEST_TARGET
            | NegotiateFlag.TARGET_INFO
            | NegotiateFlag.TARGET_TYPE_DOMAIN,
        )

    def test_oem(self):
        """
        A client that asks only for OEM gets an OEM target name.
        """
        token = self.challenge(NegotiateFlag.OEM)
        (flags,) = struct.unpack_from("<I", token, 20)
        length, _, offset = struct.unpack_from("<HHI", token, 12)
        self.assertEqual((flags & 3, token[offset : offset + length]), (NegotiateFlag.OEM, b"RELAY"))

    def test_randomChallenge(self):
        """
        Two CHALLENGEs carry different server challenges.
        """
        first, second = self.challenge(0xE2088297), self.challenge(0xE2088297)
        self.assertNotEqual(first[24:32], second[24:32])

    def test_fileTime(self):
        """
        The POSIX epoch is FILETIME 116444736000000000.
        """
        self.assertEqual(fileTime(0), 116444736000000000)

    def test_avPairsRoundTrip(self):
        """
        AV pairs decode to what was encoded, and a truncated list does not
        raise.
        """
        data = packAvPairs([(AvId.NB_DOMAIN_NAME, "D"), (AvId.TIMESTAMP, 5)])
        self.assertEqual(
            parseAvPairs(data),
            {AvId.NB_DOMAIN_NAME: "D".encode("utf-16-le"), AvId.TIMESTAMP: struct.pack("<Q", 5)},
        )
        self.assertEqual(parseAvPairs(data[:5]), {})


def impacketHandshake(acceptor, user=USER, password=PASSWORD, domain=DOMAIN, ntlmv2=True, nthash=""):
    """
    Run impacket's client (as DCERPC_v5.bind does) against C{acceptor}.

    @return: (impacket's exported session key, its AUTHENTICATE flags).
    """
    negotiate = impacketNTLM.getNTLMSSPType1("", "", signingRequired=True, use_ntlmv2=ntlmv2)
    challenge = acceptor.step(negotiate.getData())
    authenticate, key = impacketNTLM.getNTLMSSPType3(
        negotiate, challenge, user, password, domain, nthash=nthash, use_ntlmv2=ntlmv2
    )
    acceptor.step(authenticate.getData())
    return key, authenticate["flags"]


class ImpacketInteropTests(SynchronousTestCase):
    """
    impacket 0.13.1's NTLM client against our acceptor.
    """

    def setUp(self):
        self.acceptor = NTLMAcceptor(makePassDB(), IDENTITY)

    def test_ntlmv2(self):
        """
        impacket's NTLMv2 AUTHENTICATE (the one pyspnego's acceptor
        rejects) is accepted and both sides export the same key.
        """
        key, flags = impacketHandshake(self.acceptor)
        self.assertTrue(self.acceptor.complete)
        self.assertEqual(self.acceptor.sessionKey, key)
        self.assertEqual(self.acceptor.negotiatedFlags, flags)
        self.assertEqual((self.acceptor.username, self.acceptor.domain), (USER, "PROXY1"))

    def test_ntlmv1WithESS(self):
        """
        impacket's NTLMv1 with ESS (C{use_ntlmv2=False}) is accepted.
        """
        key, flags = impacketHandshake(self.acceptor, ntlmv2=False)
        self.assertEqual(self.acceptor.sessionKey, key)
        self.assertTrue(flags & NegotiateFlag.EXTENDED_SESSIONSECURITY)

    def test_passTheHash(self):
        """
        impacket authenticating with the NT hash instead of the password.
        """
        key, _ = impacketHandshake(self.acceptor, password="", nthash=ntowfv1(PASSWORD))
        self.assertEqual(self.acceptor.sessionKey, key)

    def test_caseInsensitiveUser(self):
        """
        The user name matches in any case (NTOWFv2 upper-cases it).
        """
        impacketHandshake(self.acceptor, user="BoB", domain="relay")
        self.assertEqual(self.acceptor.username, USER)

    def test_wrongPassword(self):
        """
        A wrong password is an AuthenticationError naming user and domain.
        """
        error = self.assertRaises(AuthenticationError, impacketHandshake, self.acceptor, password="wrong")
        self.assertEqual(str(error), "NTLM logon failed for RELAY\\bob: wrong password")
        self.assertFalse(self.acceptor.complete)

    def test_wrongPasswordNTLMv1(self):
        """
        A wrong NTLMv1 password is refused too.
        """
        error = self.assertRaises(AuthenticationError, impacketHandshake, self.acceptor, password="x", ntlmv2=False)
        self.assertIn("wrong password", str(error))

    def test_unknownUser(self):
        """
        An unknown user is refused, naming the user.
        """
        error = self.assertRaises(AuthenticationError, impacketHandshake, self.acceptor, user="mallory")
        self.assertEqual(str(error), "NTLM logon failed for RELAY\\mallory: unknown user")

    def test_foreignDomain(self):
        """
        A local account does not authenticate for another domain.
        """
        error = self.assertRaises(AuthenticationError, impacketHandshake, self.acceptor, domain="EVIL")
        self.assertIn("unknown user", str(error))

    def test_disabledAccount(self):
        """
        A disabled account is refused even with the right password.
        """
        acceptor = NTLMAcceptor(
            PassDB([Account(USER, ntowfv1(PASSWORD), disabled=True)], IDENTITY), IDENTITY
        )
        error = self.assertRaises(AuthenticationError, impacketHandshake, acceptor)
        self.assertIn("account disabled", str(error))

    def test_accountWithoutHash(self):
        """
        An account whose file entry has no NT hash never authenticates.
        """
        acceptor = NTLMAcceptor(PassDB([Account(USER, None, noPasswordRequired=True)], IDENTITY), IDENTITY)
        error = self.assertRaises(AuthenticationError, impacketHandshake, acceptor, password="")
        self.assertIn("has no password", str(error))

    def test_errorHasNoSecret(self):
        """
        The failure message carries neither the password nor the hash.
        """
        error = self.assertRaises(AuthenticationError, impacketHandshake, self.acceptor, password="wrong")
        self.assertNotIn(PASSWORD, str(error))
        self.assertNotIn(ntowfv1(PASSWORD).hex(), str(error).lower())

    def test_sealedRequests(self):
        """
        Three requests sealed by impacket's C{ntlm.SEAL} (whole-PDU
        signature, data encrypted first) unseal in order.
        """
        key, flags = impacketHandshake(self.acceptor)
        client = ImpacketClientSigner(flags, key)
        for number in range(3):
            stub = b"request %d" % (number,) * (number + 1)
            buf, start, end = requestPDU(stub, callId=number + 1)
            client.protect(buf, start, end, AuthLevel.PRIVACY)
            self.assertNotIn(stub, bytes(buf))
            self.acceptor.unprotectPDU(buf, start, end, AuthLevel.PRIVACY)
            self.assertEqual(bytes(buf[start : start + len(stub)]), stub)

    def test_signedRequest(self):
        """
        A request signed by impacket's C{ntlm.SIGN} verifies.
        """
        key, flags = impacketHandshake(self.acceptor)
        client = ImpacketClientSigner(flags, key)
        buf, start, end = requestPDU(b"signed only", authLevel=AuthLevel.INTEGRITY)
        client.protect(buf, start, end, AuthLevel.INTEGRITY)
        self.acceptor.unprotectPDU(buf, start, end, AuthLevel.INTEGRITY)
        self.assertEqual(bytes(buf[start : start + 11]), b"signed only")

    def test_sealedResponses(self):
        """
        Our sealed responses decrypt and verify with impacket's primitives
        (server keys, incoming sequence 0, 1...).
        """
        key, flags = impacketHandshake(self.acceptor)
        client = ImpacketClientSigner(flags, key)
        for number in range(2):
            stub = b"response %d" % (number,)
            buf, start, end = requestPDU(stub)
            self.acceptor.protectPDU(buf, start, end, AuthLevel.PRIVACY)
            self.assertTrue(client.unprotect(buf, start, end, AuthLevel.PRIVACY))
            self.assertEqual(bytes(buf[start : start + len(stub)]), stub)

    def test_headerTampered(self):
        """
        With ESS the header is signed: changing the call_id of a sealed
        request is a SignatureError.
        """
        key, flags = impacketHandshake(self.acceptor)
        client = ImpacketClientSigner(flags, key)
        buf, start, end = requestPDU(b"payload")
        client.protect(buf, start, end, AuthLevel.PRIVACY)
        buf[12] ^= 1
        self.assertRaises(SignatureError, self.acceptor.unprotectPDU, buf, start, end, AuthLevel.PRIVACY)

    def test_replay(self):
        """
        The same signed PDU twice fails the second time (sequence number).
        """
        key, flags = impacketHandshake(self.acceptor)
        client = ImpacketClientSigner(flags, key)
        buf, start, end = requestPDU(b"once", authLevel=AuthLevel.INTEGRITY)
        client.protect(buf, start, end, AuthLevel.INTEGRITY)
        copy = bytearray(buf)
        self.acceptor.unprotectPDU(buf, start, end, AuthLevel.INTEGRITY)
        self.assertRaises(SignatureError, self.acceptor.unprotectPDU, copy, start, end, AuthLevel.INTEGRITY)


def pyspnegoClient(user=USER, password=PASSWORD, domain=DOMAIN):
    return spnego.client(
        domain + "\\" + user,
        password,
        hostname="proxy1",
        service="host",
        protocol="ntlm",
        options=spnego.NegotiateOptions.use_ntlm,
    )


def iov(*buffers):
    return [IOVBuffer(kind, data) for kind, data in buffers]


class PyspnegoClientTests(SynchronousTestCase):
    """
    pyspnego's NTLM client against our acceptor, and its C{wrap_iov}/
    C{unwrap_iov} with C{sign_only} header and trailer buffers against
    L{NTLMAcceptor.protectPDU}/C{unprotectPDU}.
    """

    def handshake(self, client, acceptor=None):
        acceptor = acceptor or NTLMAcceptor(makePassDB(), IDENTITY)
        runExchange(client.step, acceptor.step)
        return acceptor

    def test_handshakeWithMIC(self):
        """
        pyspnego sends a MIC (our CHALLENGE has a timestamp); it verifies
        and both sides export the same key.
        """
        client = pyspnegoClient()
        acceptor = self.handshake(client)
        self.assertTrue(acceptor.complete and client.complete)
        self.assertTrue(acceptor.micPresent)
        self.assertEqual(acceptor.sessionKey, client.session_key)

    def test_badMIC(self):
        """
        A changed MIC is refused.
        """
        client = pyspnegoClient()
        acceptor = NTLMAcceptor(makePassDB(), IDENTITY)
        authenticate = bytearray(client.step(acceptor.step(client.step())))
        self.assertTrue(AuthenticateFields(bytes(authenticate)).micAnnounced())
        authenticate[75] ^= 0xFF
        error = self.assertRaises(AuthenticationError, acceptor.step, bytes(authenticate))
        self.assertIn("MIC mismatch", str(error))

    def test_micAnnouncedWithoutRoom(self):
        """
        MsvAvFlags announcing a MIC in a message whose payload starts at 72
        is refused.
        """
        acceptor = specAcceptor()
        acceptor.step(buildNegotiate(0xE28A8233))
        pairs = packAvPairs([(AvId.NB_DOMAIN_NAME, "Domain"), (AvId.FLAGS, 2)])
        error = self.assertRaises(
            AuthenticationError,
            acceptor.step,
            buildAuthenticate(nt=b"\x00" * 16 + specNTLMv2Blob(pairs), user="User", domain="Domain", flags=0xE28A8233),
        )
        self.assertIn("wrong password", str(error))

    def test_wrapIovToAcceptor(self):
        """
        A PDU sealed by pyspnego's wrap_iov (header and trailer sign_only)
        unseals with L{NTLMAcceptor.unprotectPDU}.
        """
        client = pyspnegoClient()
        acceptor = self.handshake(client)
        stub = b"\x01\x02\x03 stub from pyspnego" + b"\x00" * 6
        buf, start, end = requestPDU(stub)
        result = client.wrap_iov(
            iov(
                (BufferType.sign_only, bytes(buf[:start])),
                (BufferType.data, bytes(buf[start:end])),
                (BufferType.sign_only, bytes(buf[end:-16])),
                (BufferType.header, None),
            )
        )
        buf[start:end] = result.buffers[1].data
        buf[-16:] = result.buffers[3].data
        acceptor.unprotectPDU(buf, start, end, AuthLevel.PRIVACY)
        self.assertEqual(bytes(buf[start : start + len(stub)]), stub)

    def test_acceptorToUnwrapIov(self):
        """
        Our sealed PDU unwraps with pyspnego's unwrap_iov.
        """
        client = pyspnegoClient()
        acceptor = self.handshake(client)
        stub = b"answer from the proxy"
        buf, start, end = requestPDU(stub)
        plain = bytes(buf[start:end])
        acceptor.protectPDU(buf, start, end, AuthLevel.PRIVACY)
        result = client.unwrap_iov(
            iov(
                (BufferType.sign_only, bytes(buf[:start])),
                (BufferType.data, bytes(buf[start:end])),
                (BufferType.sign_only, bytes(buf[end:-16])),
                (BufferType.header, bytes(buf[-16:])),
            )
        )
        self.assertEqual(result.buffers[1].data, plain)

    def test_tamperedForPyspnego(self):
        """
        pyspnego rejects our PDU when a signed header byte changes, which
        shows the header is in our signature.
        """
        client = pyspnegoClient()
        acceptor = self.handshake(client)
        buf, start, end = requestPDU(b"x" * 32)
        acceptor.protectPDU(buf, start, end, AuthLevel.PRIVACY)
        buf[2] ^= 1
        self.assertRaises(
            SpnegoError,
            client.unwrap_iov,
            iov(
                (BufferType.sign_only, bytes(buf[:start])),
                (BufferType.data, bytes(buf[start:end])),
                (BufferType.sign_only, bytes(buf[end:-16])),
                (BufferType.header, bytes(buf[-16:])),
            ),
        )

    def test_withoutESS(self):
        """
        pyspnego's NTLMv1 client without ESS (LM_COMPAT_LEVEL=0): the
        handshake and stub-only signatures with the shared RC4 stream
        interoperate in both directions.
        """
        self.patch(os, "environ", dict(os.environ, LM_COMPAT_LEVEL="0"))
        client = pyspnegoClient()
        acceptor = self.handshake(client)
        self.assertFalse(acceptor.negotiatedFlags & NegotiateFlag.EXTENDED_SESSIONSECURITY)
        self.assertEqual(acceptor.sessionKey, client.session_key)
        for _ in range(2):
            stub = b"legacy stub"
            buf, start, end = requestPDU(stub)
            result = client.wrap_iov(iov((BufferType.data, bytes(buf[start:end])), (BufferType.header, None)))
            buf[start:end] = result.buffers[0].data
            buf[-16:] = result.buffers[1].data
            acceptor.unprotectPDU(buf, start, end, AuthLevel.PRIVACY)
            self.assertEqual(bytes(buf[start : start + len(stub)]), stub)
            reply, start, end = requestPDU(b"legacy reply")
            plain = bytes(reply[start:end])
            acceptor.protectPDU(reply, start, end, AuthLevel.PRIVACY)
            unwrapped = client.unwrap_iov(
                iov((BufferType.data, bytes(reply[start:end])), (BufferType.header, bytes(reply[-16:])))
            )
            self.assertEqual(unwrapped.buffers[0].data, plain)

    def test_withoutESSHeaderNotSigned(self):
        """
        Without ESS only the stub is signed: a changed header byte still
        verifies (that is the legacy protocol), a changed stub byte does
        not.
        """
        self.patch(os, "environ", dict(os.environ, LM_COMPAT_LEVEL="0"))
        client = pyspnegoClient()
        acceptor = self.handshake(client)
        buf, start, end = requestPDU(b"integrity", authLevel=AuthLevel.INTEGRITY)
        buf[-16:] = client.sign(bytes(buf[start:end]))
        buf[12] ^= 1
        acceptor.unprotectPDU(buf, start, end, AuthLevel.INTEGRITY)
        buf2, start, end = requestPDU(b"integrity", authLevel=AuthLevel.INTEGRITY)
        buf2[-16:] = client.sign(bytes(buf2[start:end]))
        buf2[start] ^= 1
        self.assertRaises(SignatureError, acceptor.unprotectPDU, buf2, start, end, AuthLevel.INTEGRITY)


class PyspnegoServerTests(SynchronousTestCase):
    """
    Our initiator against pyspnego's NTLM server (credentials from an
    C{NTLM_USER_FILE}).
    """

    def setUp(self):
        path = os.path.abspath(self.mktemp())
        with open(path, "w") as f:
            f.write("%s:%s:%s\n" % (DOMAIN, USER, PASSWORD))
        self.patch(os, "environ", dict(os.environ, NTLM_USER_FILE=path))
        self.server = spnego.server(protocol="ntlm", options=spnego.NegotiateOptions.use_ntlm)

    def test_handshake(self):
        """
        pyspnego accepts our AUTHENTICATE (with a MIC) and exports the same
        key.
        """
        initiator = NTLMInitiator(Credentials(USER, PASSWORD, DOMAIN), "proxy1")
        self.assertEqual(runExchange(initiator.step, self.server.step), 3)
        self.assertTrue(initiator.complete and self.server.complete)
        self.assertTrue(initiator.micPresent)
        self.assertEqual(initiator.sessionKey, self.server.session_key)
        self.assertEqual(self.server.client_principal, "RELAY\\bob")

    def test_handshakeWithHash(self):
        """
        An initiator holding only the NT hash authenticates.
        """
        initiator = NTLMInitiator(Credentials(USER, domain=DOMAIN, ntHash=ntowfv1(PASSWORD)))
        runExchange(initiator.step, self.server.step)
        self.assertEqual(initiator.sessionKey, self.server.session_key)

    def test_wrongPassword(self):
        """
        pyspnego refuses our AUTHENTICATE made with a wrong password.
        """
        initiator = NTLMInitiator(Credentials(USER, "wrong", DOMAIN))
        self.assertRaises(SpnegoError, runExchange, initiator.step, self.server.step)

    def test_sealBothWays(self):
        """
        Our requests unwrap with pyspnego's unwrap_iov and its wrap_iov
        replies unseal with our initiator.
        """
        initiator = NTLMInitiator(Credentials(USER, PASSWORD, DOMAIN))
        runExchange(initiator.step, self.server.step)
        for number in range(2):
            buf, start, end = requestPDU(b"request %d" % (number,))
            plain = bytes(buf[start:end])
            initiator.protectPDU(buf, start, end, AuthLevel.PRIVACY)
            result = self.server.unwrap_iov(
                iov(
                    (BufferType.sign_only, bytes(buf[:start])),
                    (BufferType.data, bytes(buf[start:end])),
                    (BufferType.sign_only, bytes(buf[end:-16])),
                    (BufferType.header, bytes(buf[-16:])),
                )
            )
            self.assertEqual(result.buffers[1].data, plain)
            reply, start, end = requestPDU(b"reply %d" % (number,))
            wrapped = self.server.wrap_iov(
                iov(
                    (BufferType.sign_only, bytes(reply[:start])),
                    (BufferType.data, bytes(reply[start:end])),
                    (BufferType.sign_only, bytes(reply[end:-16])),
                    (BufferType.header, None),
                )
            )
            reply[start:end] = wrapped.buffers[1].data
            reply[-16:] = wrapped.buffers[3].data
            initiator.unprotectPDU(reply, start, end, AuthLevel.PRIVACY)
            self.assertEqual(bytes(reply[start : start + 7]), b"reply %d" % (number,))

    def test_workstationName(self):
        """
        The credentials' workstation name is what the AUTHENTICATE carries.
        """
        initiator = NTLMInitiator(Credentials(USER, PASSWORD, DOMAIN, workstation="MAPIPROXY"))
        negotiate = initiator.step(None)
        authenticate = initiator.step(self.server.step(negotiate))
        self.assertEqual(AuthenticateFields(authenticate).workstation.decode("utf-16-le"), "MAPIPROXY")
        self.assertNotEqual(os.environ.get("NETBIOS_COMPUTER_NAME"), "MAPIPROXY")


class InitiatorTests(SynchronousTestCase):
    """
    L{NTLMInitiator} against our own acceptor, and its error handling.
    """

    def test_againstAcceptor(self):
        """
        Our initiator and acceptor agree on keys and protect PDUs for each
        other in both directions.
        """
        initiator = NTLMInitiator(Credentials(USER, PASSWORD, DOMAIN))
        acceptor = NTLMAcceptor(makePassDB(), IDENTITY)
        runExchange(initiator.step, acceptor.step)
        self.assertEqual(initiator.sessionKey, acceptor.sessionKey)
        buf, start, end = requestPDU(b"ping")
        initiator.protectPDU(buf, start, end, AuthLevel.PRIVACY)
        acceptor.unprotectPDU(buf, start, end, AuthLevel.PRIVACY)
        self.assertEqual(bytes(buf[start : start + 4]), b"ping")
        buf, start, end = requestPDU(b"pong")
        acceptor.protectPDU(buf, start, end, AuthLevel.INTEGRITY)
        initiator.unprotectPDU(buf, start, end, AuthLevel.INTEGRITY)

    def test_garbageChallenge(self):
        """
        A token that is not a CHALLENGE is an AuthenticationError.
        """
        initiator = NTLMInitiator(Credentials(USER, PASSWORD, DOMAIN))
        initiator.step(None)
        self.assertRaises(AuthenticationError, initiator.step, b"NTLMSSP\x00\x02\x00\x00\x00" + b"\xff" * 40)

    def test_truncatedChallenge(self):
        """
        A truncated CHALLENGE is an AuthenticationError.
        """
        initiator = NTLMInitiator(Credentials(USER, PASSWORD, DOMAIN))
        acceptor = NTLMAcceptor(makePassDB(), IDENTITY)
        challenge = acceptor.step(initiator.step(None))
        self.assertRaises(AuthenticationError, initiator.step, challenge[:20])

    def test_firstStepTakesNoToken(self):
        """
        The initiator speaks first.
        """
        initiator = NTLMInitiator(Credentials(USER, PASSWORD, DOMAIN))
        self.assertRaises(AuthenticationError, initiator.step, b"NTLMSSP\x00")

    def test_noSecret(self):
        """
        Credentials without password or hash cannot start.
        """
        self.assertRaises(AuthenticationError, NTLMInitiator(Credentials(USER)).step, None)


class AcceptorInputTests(SynchronousTestCase):
    """
    Bad input to the acceptor raises AuthenticationError and nothing else.
    """

    def negotiated(self):
        acceptor = NTLMAcceptor(makePassDB(), IDENTITY)
        acceptor.step(impacketNTLM.getNTLMSSPType1("", "", signingRequired=True).getData())
        return acceptor

    def test_notNTLM(self):
        """
        A token without the NTLMSSP signature is refused.
        """
        self.assertRaises(AuthenticationError, NTLMAcceptor(makePassDB(), IDENTITY).step, b"\x60\x28" + b"\x00" * 30)

    def test_wrongMessageType(self):
        """
        An AUTHENTICATE where a NEGOTIATE is expected is refused.
        """
        error = self.assertRaises(
            AuthenticationError, NTLMAcceptor(makePassDB(), IDENTITY).step, buildAuthenticate(user="x")
        )
        self.assertIn("unexpected NTLM message type 3", str(error))

    def test_emptyToken(self):
        """
        An empty token is refused.
        """
        self.assertRaises(AuthenticationError, NTLMAcceptor(makePassDB(), IDENTITY).step, b"")

    def test_fieldPastEnd(self):
        """
        A payload field pointing past the message is refused.
        """
        token = bytearray(buildAuthenticate(user="bob", nt=b"\x00" * 24))
        struct.pack_into("<I", token, 40, 5000)
        error = self.assertRaises(AuthenticationError, self.negotiated().step, bytes(token))
        self.assertIn("points past its end", str(error))

    def test_oddUnicode(self):
        """
        An odd-length UTF-16 user name is refused, not a UnicodeDecodeError.
        """
        token = buildAuthenticate(user="bob", nt=b"\x00" * 24)
        token = token[:36] + struct.pack("<HH", 5, 5) + token[40:]
        self.assertRaises(AuthenticationError, self.negotiated().step, token)

    def test_anonymous(self):
        """
        An anonymous AUTHENTICATE (no user, LM = one zero byte) is refused.
        """
        error = self.assertRaises(AuthenticationError, self.negotiated().step, buildAuthenticate(lm=b"\x00"))
        self.assertEqual(str(error), "anonymous NTLM logon refused")

    def test_shortNTLMv2(self):
        """
        An NT response longer than 24 bytes but shorter than an NTLMv2
        blob is malformed.
        """
        error = self.assertRaises(
            AuthenticationError, self.negotiated().step, buildAuthenticate(user="bob", domain="RELAY", nt=b"\x00" * 30)
        )
        self.assertIn("truncated NTLMv2 response", str(error))

    def test_oddResponseLength(self):
        """
        A 10-byte NT response is malformed.
        """
        error = self.assertRaises(
            AuthenticationError, self.negotiated().step, buildAuthenticate(user="bob", nt=b"\x00" * 10)
        )
        self.assertIn("malformed response", str(error))

    def test_deadAfterFailure(self):
        """
        After a failure the context refuses further tokens.
        """
        acceptor = self.negotiated()
        self.assertRaises(AuthenticationError, acceptor.step, buildAuthenticate(lm=b"\x00"))
        self.assertRaises(AuthenticationError, acceptor.step, buildAuthenticate(lm=b"\x00"))

    def test_stepAfterComplete(self):
        """
        A complete context takes no more tokens.
        """
        acceptor = NTLMAcceptor(makePassDB(), IDENTITY)
        impacketHandshake(acceptor)
        self.assertRaises(AuthenticationError, acceptor.step, b"NTLMSSP\x00")

    @settings(max_examples=200, deadline=None)
    @given(st.binary(max_size=200))
    def test_randomAuthenticate(self, data):
        """
        Random bytes after a valid header raise only AuthenticationError.
        """
        token = b"NTLMSSP\x00\x03\x00\x00\x00" + data
        try:
            self.negotiated().step(token)
        except AuthenticationError:
            pass

    @settings(max_examples=200, deadline=None)
    @given(st.data())
    def test_mutatedAuthenticate(self, data):
        """
        impacket's valid AUTHENTICATE with random bytes changed raises only
        AuthenticationError (or, rarely, still authenticates).
        """
        acceptor = NTLMAcceptor(makePassDB(), IDENTITY)
        negotiate = impacketNTLM.getNTLMSSPType1("", "", signingRequired=True)
        challenge = acceptor.step(negotiate.getData())
        token = bytearray(impacketNTLM.getNTLMSSPType3(negotiate, challenge, USER, PASSWORD, DOMAIN)[0].getData())
        for _ in range(data.draw(st.integers(1, 4))):
            index = data.draw(st.integers(0, len(token) - 1))
            token[index] = data.draw(st.integers(0, 255))
        try:
            acceptor.step(bytes(token))
        except AuthenticationError:
            pass


class SessionSecurityTests(SynchronousTestCase):
    """
    L{SessionSecurity} directions, sequence numbers and reset.
    """

    flags = 0xE2088235

    def test_directionsDiffer(self):
        """
        With ESS the initiator's outgoing signature is what the acceptor
        expects incoming, and differs from the acceptor's own outgoing one.
        """
        key = os.urandom(16)
        client, server = SessionSecurity(self.flags, key, True), SessionSecurity(self.flags, key, False)
        signature = client.sign(b"message")
        self.assertNotEqual(signature, SessionSecurity(self.flags, key, False).sign(b"message"))
        server.verify(b"message", signature)

    def test_sequenceInSignature(self):
        """
        The ESS signature ends with the sequence number, counting up.
        """
        security = SessionSecurity(self.flags, b"k" * 16, True)
        self.assertEqual([security.sign(b"m")[12:] for _ in range(3)], [struct.pack("<I", n) for n in range(3)])

    def test_resetKeepsSequence(self):
        """
        C{resetCipherState} restarts the RC4 stream but not the sequence
        number unless asked.
        """
        security = SessionSecurity(self.flags, b"k" * 16, True)
        first = security.sign(b"m")
        security.resetCipherState()
        second = security.sign(b"m")
        self.assertEqual(second[12:], b"\x01\x00\x00\x00")
        security.resetCipherState(resetSequence=True)
        self.assertEqual(security.sign(b"m"), first)

    def test_sharedStateWithoutESS(self):
        """
        Without ESS one sequence number counts both directions.
        """
        flags = self.flags & ~NegotiateFlag.EXTENDED_SESSIONSECURITY
        key = b"k" * 16
        client, server = SessionSecurity(flags, key, True), SessionSecurity(flags, key, False)
        server.verify(b"a", client.sign(b"a"))
        client.verify(b"b", server.sign(b"b"))
        server.verify(b"c", client.sign(b"c"))

    def test_verifyMismatch(self):
        """
        A wrong signature is a SignatureError.
        """
        key = b"k" * 16
        client, server = SessionSecurity(self.flags, key, True), SessionSecurity(self.flags, key, False)
        self.assertRaises(SignatureError, server.verify, b"other", client.sign(b"message"))

    def test_noSigning(self):
        """
        Without SIGN or ALWAYS_SIGN there is no signature to make.
        """
        security = SessionSecurity(NegotiateFlag.NTLM, b"k" * 16, True)
        self.assertRaises(AuthenticationError, security.sign, b"m")

    def test_reprHidesKey(self):
        """
        The repr shows the flags, not the key.
        """
        key = bytes(range(16))
        self.assertNotIn(key.hex(), repr(SessionSecurity(self.flags, key, True)))

    def test_fragmentProtectionIsSealThenSign(self):
        """
        C{fragmentProtection}'s C{protect} gives the bytes of sealing the
        stub region and signing the plaintext (all before the verifier with
        ESS, the stub region without), and C{unprotect} on the other side
        recovers the plaintext; for both flag sets, sealed and signed only.
        """
        for flags in (self.flags, self.flags & ~NegotiateFlag.EXTENDED_SESSIONSECURITY):
            for seal in (True, False):
                key = os.urandom(16)
                reference = SessionSecurity(flags, key, True)
                protect, _ = SessionSecurity(flags, key, True).fragmentProtection(seal)
                _, unprotect = SessionSecurity(flags, key, False).fragmentProtection(seal)
                for size in (0, 5, 300, 5000):
                    header, stub, trailer = os.urandom(24), os.urandom(size), os.urandom(8)
                    buf = bytearray(header + stub + trailer + bytes(16))
                    end = 24 + size
                    protect(buf, 24, end)
                    signed = header + stub + trailer if flags & NegotiateFlag.EXTENDED_SESSIONSECURITY else stub
                    sealed = reference.encrypt(stub) if seal else stub
                    self.assertEqual(bytes(buf), header + sealed + trailer + reference.sign(signed))
                    unprotect(buf, 24, end)
                    self.assertEqual(bytes(buf[24:end]), stub)

    def test_fragmentUnprotectRejectsTampering(self):
        """
        A changed byte anywhere before the verifier fails the check.
        """
        key = os.urandom(16)
        protect, _ = SessionSecurity(self.flags, key, True).fragmentProtection(True)
        _, unprotect = SessionSecurity(self.flags, key, False).fragmentProtection(True)
        buf = bytearray(os.urandom(24 + 100 + 8) + bytes(16))
        protect(buf, 24, 124)
        buf[3] ^= 0x40
        self.assertRaises(SignatureError, unprotect, buf, 24, 124)

    def test_fragmentProtectionWithoutSealing(self):
        """
        Sealing functions are refused when sealing was not negotiated.
        """
        security = SessionSecurity(self.flags & ~NegotiateFlag.SEAL, os.urandom(16), True)
        self.assertRaises(AuthenticationError, security.fragmentProtection, True)
        security.fragmentProtection(False)

    def test_hmacKeyedOnce(self):
        """
        The per-direction HMAC-MD5 equals the standard library's.
        """
        import hashlib
        import hmac

        security = SessionSecurity(self.flags, os.urandom(16), True)
        direction = security._out
        message = os.urandom(1000)
        self.assertEqual(
            direction.hmacMD5(b"abcd", message), hmac.new(direction.signKey, b"abcd" + message, hashlib.md5).digest()
        )
