# -*- test-case-name: tests.auth.test_ntlm -*-
"""
NTLM ([MS-NLMP]) security contexts for DCE/RPC: our own acceptor (it
verifies what the client sent, as Samba and Windows do), an initiator
driven by pyspnego, and one sign/seal key schedule for both roles.

The acceptor is written on library crypto primitives
(C{spnego._ntlm_raw.crypto}) because pyspnego's acceptor re-derives the
whole NTLMv2 response and so rejects impacket's (shorter, equally valid)
blob.
"""

import base64
import contextlib
import enum
import hashlib
import hmac
import os
import struct
import time

from cryptography.hazmat.primitives.ciphers import Cipher
from spnego._context import ContextReq
from spnego._credential import NTLMHash, Password
from spnego._ntlm import NTLMProxy
from spnego._ntlm_raw import crypto

try:
    from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4 as _ARC4
except ImportError:  # cryptography < 43
    from cryptography.hazmat.primitives.ciphers.algorithms import ARC4 as _ARC4

from mapiproxy.auth.security import SecurityContext
from mapiproxy.dcerpc.constants import AuthType
from mapiproxy.errors import AuthenticationError, SignatureError

#: Every NTLM message starts with this ([MS-NLMP] 2.2.1).
NTLMSSP_SIGNATURE = b"NTLMSSP\x00"
NEGOTIATE_MESSAGE = 1
CHALLENGE_MESSAGE = 2
AUTHENTICATE_MESSAGE = 3

#: Our VERSION structure ([MS-NLMP] 2.2.2.10): 10.0 build 17763,
#: NTLMSSP_REVISION_W2K3.
VERSION = struct.pack("<BBH3xB", 10, 0, 17763, 15)

#: Seconds between 1601-01-01 (FILETIME epoch) and 1970-01-01.
_FILETIME_EPOCH_OFFSET = 11644473600

_CHALLENGE_HEADER_LENGTH = 56
_AUTHENTICATE_FIXED_LENGTH = 64
_AUTHENTICATE_VERSION_END = 72
_MIC_OFFSET = 72
_MIC_END = 88
#: The fixed part of an NTLMv2 client challenge before its AV pairs
#: ([MS-NLMP] 2.2.2.7): RespType, HiRespType, 6 reserved, TimeStamp,
#: ChallengeFromClient, 4 reserved.
_NTLMV2_BLOB_HEADER = 28


class NegotiateFlag(enum.IntFlag):
    """
    NegotiateFlags ([MS-NLMP] 2.2.2.5).
    """

    UNICODE = 0x00000001
    OEM = 0x00000002
    REQUEST_TARGET = 0x00000004
    SIGN = 0x00000010
    SEAL = 0x00000020
    DATAGRAM = 0x00000040
    LM_KEY = 0x00000080
    NTLM = 0x00000200
    ANONYMOUS = 0x00000800
    OEM_DOMAIN_SUPPLIED = 0x00001000
    OEM_WORKSTATION_SUPPLIED = 0x00002000
    ALWAYS_SIGN = 0x00008000
    TARGET_TYPE_DOMAIN = 0x00010000
    TARGET_TYPE_SERVER = 0x00020000
    EXTENDED_SESSIONSECURITY = 0x00080000
    IDENTIFY = 0x00100000
    REQUEST_NON_NT_SESSION_KEY = 0x00400000
    TARGET_INFO = 0x00800000
    VERSION = 0x02000000
    NEGOTIATE_128 = 0x20000000
    KEY_EXCH = 0x40000000
    NEGOTIATE_56 = 0x80000000


#: Flags the acceptor grants when the client asks for them.
_GRANTABLE = (
    NegotiateFlag.SIGN
    | NegotiateFlag.SEAL
    | NegotiateFlag.ALWAYS_SIGN
    | NegotiateFlag.EXTENDED_SESSIONSECURITY
    | NegotiateFlag.VERSION
    | NegotiateFlag.NEGOTIATE_128
    | NegotiateFlag.NEGOTIATE_56
    | NegotiateFlag.KEY_EXCH
)


class AvId(enum.IntEnum):
    """
    AV_PAIR identifiers ([MS-NLMP] 2.2.2.1).
    """

    EOL = 0
    NB_COMPUTER_NAME = 1
    NB_DOMAIN_NAME = 2
    DNS_COMPUTER_NAME = 3
    DNS_DOMAIN_NAME = 4
    DNS_TREE_NAME = 5
    FLAGS = 6
    TIMESTAMP = 7
    SINGLE_HOST = 8
    TARGET_NAME = 9
    CHANNEL_BINDINGS = 10


#: MsvAvFlags bit: the AUTHENTICATE message carries a MIC.
AV_FLAG_MIC_PRESENT = 0x00000002


def fileTime(seconds):
    """
    Convert a POSIX time to a FILETIME ([MS-DTYP] 2.3.3).

    @param seconds: seconds since 1970-01-01 UTC.
    @type seconds: L{float}
    @return: 100-nanosecond intervals since 1601-01-01 UTC.
    @rtype: L{int}
    """
    return int(round((seconds + _FILETIME_EPOCH_OFFSET) * 10000000))


def packAvPairs(pairs):
    """
    Encode AV pairs, terminated by MsvAvEOL ([MS-NLMP] 2.2.2.1).

    @param pairs: C{(AvId, value)} in order; a L{str} value is encoded
        UTF-16LE, an L{int} (timestamps) as 8 little-endian bytes.
    @return: the encoded list.
    @rtype: L{bytes}
    """
    out = []
    for avId, value in pairs:
        if isinstance(value, str):
            value = value.encode("utf-16-le")
        elif isinstance(value, int):
            value = struct.pack("<Q", value)
        out.append(struct.pack("<HH", avId, len(value)) + value)
    out.append(struct.pack("<HH", AvId.EOL, 0))
    return b"".join(out)


def parseAvPairs(data):
    """
    Decode AV pairs up to MsvAvEOL or the end of C{data}; a truncated pair
    ends the list (the list is only read, never trusted for lengths).

    @param data: the encoded list.
    @type data: L{bytes}
    @return: the first value of each AvId.
    @rtype: L{dict} of L{int} to L{bytes}
    """
    pairs = {}
    offset = 0
    while offset + 4 <= len(data):
        avId, length = struct.unpack_from("<HH", data, offset)
        offset += 4
        if avId == AvId.EOL or offset + length > len(data):
            break
        pairs.setdefault(avId, data[offset : offset + length])
        offset += length
    return pairs


def _checkMessage(token, messageType, minimum):
    """
    Check the signature, the type and the minimum length of an NTLM
    message.

    @raise AuthenticationError: it is not that message.
    """
    if len(token) < minimum or not token.startswith(NTLMSSP_SIGNATURE):
        raise AuthenticationError("malformed NTLM message (expected message type %d)" % (messageType,))
    (actual,) = struct.unpack_from("<I", token, 8)
    if actual != messageType:
        raise AuthenticationError("unexpected NTLM message type %d (expected %d)" % (actual, messageType))


def _payloadField(token, at):
    """
    Read the (Len, MaxLen, BufferOffset) triple at C{at} and return the
    bytes it points to ([MS-NLMP] 2.2.1.3).

    @return: C{(value, offset)}.
    @raise AuthenticationError: it points outside the message.
    """
    length, _, offset = struct.unpack_from("<HHI", token, at)
    if length == 0:
        return b"", None
    if offset + length > len(token):
        raise AuthenticationError("malformed NTLM message: field at %d points past its end" % (at,))
    return token[offset : offset + length], offset


def _decodeText(raw, unicode):
    """
    Decode a name field: UTF-16LE when UNICODE was negotiated, else OEM.

    @raise AuthenticationError: the bytes do not decode.
    """
    try:
        if unicode:
            return raw.decode("utf-16-le")
        return raw.decode("cp437")
    except UnicodeDecodeError:
        raise AuthenticationError("malformed NTLM message: undecodable name")


def _encodeText(text, unicode):
    if unicode:
        return text.encode("utf-16-le")
    return text.encode("cp437", "replace")


class AuthenticateFields:
    """
    An AUTHENTICATE message ([MS-NLMP] 2.2.1.3), every field read by its
    offset.

    @ivar lmResponse: LmChallengeResponse.
    @ivar ntResponse: NtChallengeResponse.
    @ivar domain: DomainName, raw.
    @ivar user: UserName, raw.
    @ivar workstation: Workstation, raw.
    @ivar encryptedSessionKey: EncryptedRandomSessionKey.
    @ivar flags: NegotiateFlags.
    @ivar payloadStart: the lowest offset of a non-empty payload field.
    """

    def __init__(self, token):
        """
        @param token: the message.
        @type token: L{bytes}
        @raise AuthenticationError: it is malformed.
        """
        _checkMessage(token, AUTHENTICATE_MESSAGE, _AUTHENTICATE_FIXED_LENGTH)
        offsets = []
        values = []
        for at in (12, 20, 28, 36, 44, 52):
            value, offset = _payloadField(token, at)
            values.append(value)
            if offset is not None:
                offsets.append(offset)
        (
            self.lmResponse,
            self.ntResponse,
            self.domain,
            self.user,
            self.workstation,
            self.encryptedSessionKey,
        ) = values
        (self.flags,) = struct.unpack_from("<I", token, 60)
        self.payloadStart = min(offsets) if offsets else len(token)
        if self.payloadStart < _AUTHENTICATE_FIXED_LENGTH:
            raise AuthenticationError("malformed NTLM message: payload overlaps the header")

    def avPairs(self):
        """
        @return: the AV pairs of an NTLMv2 response, or C{{}}.
        @rtype: L{dict}
        """
        if len(self.ntResponse) <= 24:
            return {}
        return parseAvPairs(self.ntResponse[16 + _NTLMV2_BLOB_HEADER :])

    def micAnnounced(self):
        """
        @return: whether MsvAvFlags says the message carries a MIC.
        @rtype: L{bool}
        """
        flags = self.avPairs().get(AvId.FLAGS, b"")
        return len(flags) == 4 and bool(struct.unpack("<I", flags)[0] & AV_FLAG_MIC_PRESENT)


class _Direction:
    """
    The signing key, the sealing RC4 stream and the sequence number of one
    direction ([MS-NLMP] 3.4.4).
    """

    def __init__(self, signKey, sealKey):
        self.signKey = signKey
        self._sealKey = sealKey
        self._startStream()
        self.sequence = 0
        # HMAC-MD5 keyed once: the hash states after the inner and the
        # outer padded key (RFC 2104), copied for each message.
        block = signKey.ljust(64, b"\x00") if len(signKey) <= 64 else hashlib.md5(signKey).digest().ljust(64, b"\x00")
        self.innerHash = hashlib.md5(block.translate(_IPAD))
        self.outerHash = hashlib.md5(block.translate(_OPAD))

    def hmacMD5(self, sequence, message):
        """
        HMAC-MD5 under SignKey of C{sequence || message}, without
        concatenating them.
        """
        inner = self.innerHash.copy()
        inner.update(sequence)
        inner.update(message)
        outer = self.outerHash.copy()
        outer.update(inner.digest())
        return outer.digest()

    def reset(self, resetSequence):
        self._startStream()
        if resetSequence:
            self.sequence = 0

    def _startStream(self):
        """
        (Re)start the RC4 keystream ([MS-NLMP] 3.4.5.3 RC4Init): C{crypt}
        takes any bytes-like object and returns it XORed with the next
        bytes of the stream; C{cryptInto(data, out)} writes that into the
        writable buffer C{out}, which may be C{data} itself.
        """
        # The cipher context spnego's RC4Handle wraps, its methods called
        # directly: two Python frames fewer per fragment and per signature.
        context = Cipher(_ARC4(self._sealKey), mode=None).encryptor()
        self.crypt = context.update
        self.cryptInto = context.update_into


_U32 = struct.Struct("<I")
_IPAD = bytes(b ^ 0x36 for b in range(256))
_OPAD = bytes(b ^ 0x5C for b in range(256))
_SIGNATURE_VERSION = b"\x01\x00\x00\x00"


class SessionSecurity:
    """
    The NTLM key schedule and message signatures of [MS-NLMP] 3.4 for one
    side of an established context.

    With extended session security each direction has its own SignKey,
    SealKey (hence RC4 stream) and sequence number; without it one RC4
    stream and one sequence number are shared by both directions and the
    checksum is a CRC32.

    @ivar flags: the negotiated flags.
    @ivar exportedSessionKey: ExportedSessionKey; never log it.
    @ivar extendedSessionSecurity: whether ESS was negotiated.
    """

    def __init__(self, flags, exportedSessionKey, initiator):
        """
        @param flags: the negotiated flags.
        @type flags: L{int}
        @param exportedSessionKey: 16 bytes.
        @type exportedSessionKey: L{bytes}
        @param initiator: C{True} for the client side (it sends with the
            client-to-server keys).
        @type initiator: L{bool}
        """
        self.flags = int(flags)
        self.exportedSessionKey = exportedSessionKey
        self.extendedSessionSecurity = bool(flags & NegotiateFlag.EXTENDED_SESSIONSECURITY)
        # Tested once here, not with IntFlag arithmetic on every fragment.
        self._signs = bool(self.flags & int(NegotiateFlag.SIGN))
        self._alwaysSigns = bool(self.flags & int(NegotiateFlag.ALWAYS_SIGN))
        self._seals = bool(self.flags & int(NegotiateFlag.SEAL))
        self._keyExchange = bool(self.flags & int(NegotiateFlag.KEY_EXCH))
        self._fragmentFunctions = {}
        if self.extendedSessionSecurity:
            client = _Direction(
                crypto.signkey(flags, exportedSessionKey, "initiate"),
                crypto.sealkey(flags, exportedSessionKey, "initiate"),
            )
            server = _Direction(
                crypto.signkey(flags, exportedSessionKey, "accept"),
                crypto.sealkey(flags, exportedSessionKey, "accept"),
            )
            self._out, self._in = (client, server) if initiator else (server, client)
        else:
            self._out = self._in = _Direction(b"", crypto.sealkey(flags, exportedSessionKey, "initiate"))

    def __repr__(self):
        return "<SessionSecurity flags=0x%08x>" % (self.flags,)

    def encrypt(self, data):
        """
        Encrypt outgoing data with the outgoing RC4 stream.

        @type data: bytes-like
        @rtype: L{bytes}
        """
        return self._out.crypt(data)

    def decrypt(self, data):
        """
        Decrypt incoming data with the incoming RC4 stream.

        @type data: bytes-like
        @rtype: L{bytes}
        """
        return self._in.crypt(data)

    def sign(self, message):
        """
        The signature of an outgoing message; consumes an outgoing sequence
        number ([MS-NLMP] 3.4.4).

        @type message: bytes-like
        @return: the 16-byte NTLMSSP_MESSAGE_SIGNATURE.
        @rtype: L{bytes}
        """
        signature = self._mac(self._out, message)
        self._out.sequence = (self._out.sequence + 1) & 0xFFFFFFFF
        return signature

    def verify(self, message, signature):
        """
        Check the signature of an incoming message; consumes an incoming
        sequence number.

        @type message: bytes-like
        @type signature: L{bytes}
        @raise SignatureError: it does not match.
        """
        expected = self._mac(self._in, message)
        self._in.sequence = (self._in.sequence + 1) & 0xFFFFFFFF
        if self.extendedSessionSecurity or not self._signs:
            ok = hmac.compare_digest(expected, signature)
        else:
            # Without ESS the RandomPad is whatever the sender's RC4 left
            # there (Samba) or zero (the spec): compare the rest.
            ok = len(signature) == 16 and hmac.compare_digest(
                expected[:4] + expected[8:], signature[:4] + signature[8:]
            )
        if not ok:
            raise SignatureError("NTLM signature mismatch (sequence %d)" % (self._in.sequence - 1,))

    def fragmentProtection(self, seal):
        """
        Sign, or seal and sign, DCE/RPC fragments in place: two functions
        of C{(buf, dataStart, dataEnd)}, the verifier being the last 16
        bytes of C{buf} and the stub region C{buf[dataStart:dataEnd]}.

        The checksum is computed over the plaintext: everything before the
        verifier with extended session security, else the stub region
        ([MS-RPCE] 3.3.1.5.2.2). Sealing encrypts the stub region, then
        the checksum, with the same RC4 stream ([MS-NLMP] 3.4.3, 3.4.4.2);
        unsealing decrypts the stub region before the check. With
        extended session security (what every current client negotiates)
        each function is one Python frame from the header to the
        verifier. Made once per C{seal} and kept.

        @return: C{(protect, unprotect)}; C{unprotect} raises
            L{SignatureError} when the signature does not match.
        @raise AuthenticationError: sealing was asked and not negotiated.
        """
        functions = self._fragmentFunctions.get(seal)
        if functions is None:
            if seal and not self._seals:
                raise AuthenticationError("NTLM sealing (packet privacy) was not negotiated")
            if self.extendedSessionSecurity and self._signs:
                functions = self._extendedFragmentFunctions(seal)
            else:
                functions = self._generalFragmentFunctions(seal)
            self._fragmentFunctions[seal] = functions
        return functions

    def _generalFragmentFunctions(self, seal):
        """
        L{fragmentProtection} through L{sign} and L{verify}: without
        extended session security (CRC32 checksums, one RC4 stream for both
        directions), or with ALWAYS_SIGN alone.
        """

        def signed(view, dataStart, dataEnd, verifier):
            if self.extendedSessionSecurity:
                return view[:verifier]
            return view[dataStart:dataEnd]

        def protect(buf, dataStart, dataEnd):
            view = memoryview(buf)
            verifier = len(buf) - 16
            region = view[dataStart:dataEnd]
            message = signed(view, dataStart, dataEnd, verifier)
            if seal:
                message = bytes(message)
                self._out.cryptInto(region, region)
            view[verifier:] = self.sign(message)

        def unprotect(buf, dataStart, dataEnd):
            view = memoryview(buf)
            verifier = len(buf) - 16
            if seal:
                region = view[dataStart:dataEnd]
                self._in.cryptInto(region, region)
            self.verify(signed(view, dataStart, dataEnd, verifier), bytes(view[verifier:]))

        return protect, unprotect

    def _extendedFragmentFunctions(self, seal):
        """
        L{fragmentProtection} with extended session security: HMAC-MD5 from
        the per-direction keyed states, inline.
        """
        out, incoming = self._out, self._in
        keyExchange = self._keyExchange
        pack = _U32.pack
        compare = hmac.compare_digest

        def protect(buf, dataStart, dataEnd):
            view = memoryview(buf)
            verifier = len(buf) - 16
            sequence = pack(out.sequence)
            inner = out.innerHash.copy()
            inner.update(sequence)
            inner.update(view[:verifier])
            outer = out.outerHash.copy()
            outer.update(inner.digest())
            if seal:
                region = view[dataStart:dataEnd]
                out.cryptInto(region, region)
            checksum = outer.digest()[:8]
            if keyExchange:
                checksum = out.crypt(checksum)
            view[verifier:] = _SIGNATURE_VERSION + checksum + sequence
            out.sequence = (out.sequence + 1) & 0xFFFFFFFF

        def unprotect(buf, dataStart, dataEnd):
            view = memoryview(buf)
            verifier = len(buf) - 16
            if seal:
                region = view[dataStart:dataEnd]
                incoming.cryptInto(region, region)
            sequence = pack(incoming.sequence)
            inner = incoming.innerHash.copy()
            inner.update(sequence)
            inner.update(view[:verifier])
            outer = incoming.outerHash.copy()
            outer.update(inner.digest())
            checksum = outer.digest()[:8]
            if keyExchange:
                checksum = incoming.crypt(checksum)
            incoming.sequence = (incoming.sequence + 1) & 0xFFFFFFFF
            if not compare(_SIGNATURE_VERSION + checksum + sequence, view[verifier:]):
                raise SignatureError("NTLM signature mismatch (sequence %d)" % (incoming.sequence - 1,))

        return protect, unprotect

    def resetCipherState(self, resetSequence=False):
        """
        Restart the RC4 streams from their keys, as SPNEGO requires after
        the mechListMIC ([MS-SPNG] 3.3.5.1); Samba keeps the sequence
        numbers when a mechListMIC was exchanged.

        @param resetSequence: also restart the sequence numbers at 0.
        @type resetSequence: L{bool}
        """
        self._out.reset(resetSequence)
        if self._in is not self._out:
            self._in.reset(resetSequence)

    def _mac(self, direction, message):
        """
        MAC(Handle, SigningKey, SeqNum, Message) of [MS-NLMP] 3.4.4.
        """
        if not self._signs:
            if self._alwaysSigns:
                return b"\x01" + b"\x00" * 15
            raise AuthenticationError("NTLM signing was not negotiated")
        sequence = _U32.pack(direction.sequence)
        if self.extendedSessionSecurity:
            # HMAC_MD5(SigningKey, SeqNum || Message)[:8].
            checksum = direction.hmacMD5(sequence, message)[:8]
            if self._keyExchange:
                checksum = direction.crypt(checksum)
            return b"\x01\x00\x00\x00" + checksum + sequence
        # RandomPad (0), CRC32 and SeqNum all go through the RC4 stream.
        encrypted = direction.crypt(b"\x00" * 4 + crypto.crc32(message) + sequence)
        return b"\x01\x00\x00\x00" + b"\x00" * 4 + encrypted[4:]


class NTLMAcceptor(SecurityContext):
    """
    The server side of NTLM ([MS-NLMP] 3.2): NEGOTIATE in, CHALLENGE out,
    AUTHENTICATE in.

    The NTLMv2 proof is recomputed over the blob exactly as the client sent
    it; LMv2 is the fallback; NTLMv1 (with or without ESS) is accepted
    unless C{allowNTLMv1} is false. Anonymous logons are refused.

    @ivar workstation: the workstation name the client sent.
    @ivar micPresent: whether the AUTHENTICATE message carried a (verified)
        MIC; SPNEGO then requires a mechListMIC.
    """

    authType = AuthType.NTLM

    def __init__(self, passdb, identity, clock=time.time, allowNTLMv1=True, randomBytes=os.urandom):
        """
        @param passdb: the accounts.
        @type passdb: L{mapiproxy.auth.passdb.PassDB}
        @param identity: our names.
        @type identity: L{mapiproxy.auth.credentials.ServerIdentity}
        @param clock: returns the current POSIX time.
        @param allowNTLMv1: whether NTLMv1 responses are accepted.
        @type allowNTLMv1: L{bool}
        @param randomBytes: returns that many random bytes (the server
            challenge); tests replace it to replay the [MS-NLMP] 4.2 vectors.
        """
        super().__init__()
        self._randomBytes = randomBytes
        self._passdb = passdb
        self._identity = identity
        self._clock = clock
        self._allowNTLMv1 = allowNTLMv1
        self._negotiate = None
        self._challenge = None
        self._serverChallenge = None
        self._challengeFlags = 0
        self._failed = False
        self.workstation = ""
        self.micPresent = False

    def step(self, inToken):
        """
        Answer a NEGOTIATE with a CHALLENGE, then verify the AUTHENTICATE.

        @param inToken: the client's message.
        @type inToken: L{bytes}
        @return: the CHALLENGE, then L{None}.
        @rtype: L{bytes} or L{None}
        @raise AuthenticationError: see L{SecurityContext.step}.
        """
        if self.complete or self._failed:
            raise AuthenticationError("the NTLM exchange is already over")
        if not inToken:
            raise AuthenticationError("the NTLM acceptor needs a token from the client")
        try:
            if self._challenge is None:
                return self._processNegotiate(bytes(inToken))
            self._processAuthenticate(bytes(inToken))
        except (AuthenticationError, struct.error) as e:
            self._failed = True
            if isinstance(e, struct.error):
                raise AuthenticationError("malformed NTLM message") from e
            raise
        return None

    def _chooseFlags(self, requested):
        """
        Intersect the client's flags with what we support.
        """
        flags = (
            NegotiateFlag.NTLM
            | NegotiateFlag.REQUEST_TARGET
            | NegotiateFlag.TARGET_INFO
            | NegotiateFlag.TARGET_TYPE_DOMAIN
        )
        if requested & NegotiateFlag.UNICODE or not requested & NegotiateFlag.OEM:
            flags |= NegotiateFlag.UNICODE
        else:
            flags |= NegotiateFlag.OEM
        return flags | (requested & _GRANTABLE)

    def _targetInfo(self):
        identity = self._identity
        dnsHostname = identity.dnsHostname or identity.netbiosName.lower()
        if not identity.dnsHostname and identity.dnsDomain:
            dnsHostname += "." + identity.dnsDomain
        pairs = [
            (AvId.NB_DOMAIN_NAME, identity.workgroup),
            (AvId.NB_COMPUTER_NAME, identity.netbiosName),
        ]
        if identity.dnsDomain:
            pairs.append((AvId.DNS_DOMAIN_NAME, identity.dnsDomain))
        pairs.append((AvId.DNS_COMPUTER_NAME, dnsHostname))
        pairs.append((AvId.TIMESTAMP, fileTime(self._clock())))
        return packAvPairs(pairs)

    def _processNegotiate(self, token):
        """
        Build the CHALLENGE ([MS-NLMP] 2.2.1.2, 3.2.5.1.1).
        """
        _checkMessage(token, NEGOTIATE_MESSAGE, 16)
        (requested,) = struct.unpack_from("<I", token, 12)
        flags = self._chooseFlags(requested)
        unicode = bool(flags & NegotiateFlag.UNICODE)
        targetName = _encodeText(self._identity.workgroup, unicode)
        targetInfo = self._targetInfo()
        self._serverChallenge = self._randomBytes(8)
        header = (
            NTLMSSP_SIGNATURE
            + struct.pack("<I", CHALLENGE_MESSAGE)
            + struct.pack("<HHI", len(targetName), len(targetName), _CHALLENGE_HEADER_LENGTH)
            + struct.pack("<I", flags)
            + self._serverChallenge
            + b"\x00" * 8
            + struct.pack(
                "<HHI",
                len(targetInfo),
                len(targetInfo),
                _CHALLENGE_HEADER_LENGTH + len(targetName),
            )
            + (VERSION if flags & NegotiateFlag.VERSION else b"\x00" * 8)
        )
        self._negotiate = token
        self._challengeFlags = flags
        self._challenge = header + targetName + targetInfo
        return self._challenge

    def _processAuthenticate(self, token):
        """
        Verify the AUTHENTICATE ([MS-NLMP] 3.2.5.1.2) and derive the keys.
        """
        message = AuthenticateFields(token)
        unicode = bool(self._challengeFlags & NegotiateFlag.UNICODE)
        domain = _decodeText(message.domain, unicode)
        username = _decodeText(message.user, unicode)
        self.workstation = _decodeText(message.workstation, unicode)
        if not username and not message.ntResponse and message.lmResponse in (b"", b"\x00"):
            raise AuthenticationError("anonymous NTLM logon refused")
        who = "%s\\%s" % (domain, username) if domain else username
        account = self._passdb.lookup(username, domain)
        if account is None:
            raise AuthenticationError("NTLM logon failed for %s: unknown user" % (who,))
        if account.disabled:
            raise AuthenticationError("NTLM logon failed for %s: account disabled" % (who,))
        if account.ntHash is None:
            raise AuthenticationError("NTLM logon failed for %s: account has no password" % (who,))
        flags = self._challengeFlags & message.flags
        keyExchangeKey = self._verifyResponse(message, account.ntHash, username, domain, flags, who)
        if flags & NegotiateFlag.KEY_EXCH and flags & (NegotiateFlag.SIGN | NegotiateFlag.SEAL):
            if len(message.encryptedSessionKey) != 16:
                raise AuthenticationError("NTLM logon failed for %s: no encrypted session key" % (who,))
            exportedSessionKey = crypto.rc4k(keyExchangeKey, message.encryptedSessionKey)
        else:
            exportedSessionKey = keyExchangeKey
        if message.micAnnounced():
            self._checkMIC(token, message, exportedSessionKey, who)
        self._security = SessionSecurity(flags, exportedSessionKey, initiator=False)
        self.username = account.username
        self.domain = account.domain or self._identity.netbiosName
        self.complete = True

    def _checkMIC(self, token, message, exportedSessionKey, who):
        """
        Verify the MIC over NEGOTIATE, CHALLENGE and AUTHENTICATE with the
        MIC zeroed ([MS-NLMP] 3.2.5.1.2).
        """
        if message.payloadStart < _MIC_END:
            raise AuthenticationError("NTLM logon failed for %s: MIC announced but absent" % (who,))
        zeroed = token[:_MIC_OFFSET] + b"\x00" * 16 + token[_MIC_END:]
        expected = crypto.hmac_md5(exportedSessionKey, self._negotiate + self._challenge + zeroed)
        if not hmac.compare_digest(expected, token[_MIC_OFFSET:_MIC_END]):
            raise AuthenticationError("NTLM logon failed for %s: MIC mismatch" % (who,))
        self.micPresent = True

    def _verifyResponse(self, message, ntHash, username, domain, flags, who):
        """
        Check the client's response against the account's NT hash.

        @return: KeyExchangeKey.
        @raise AuthenticationError: no response matches.
        """
        nt, lm = message.ntResponse, message.lmResponse
        if len(nt) > 24:
            if len(nt) < 16 + _NTLMV2_BLOB_HEADER:
                raise AuthenticationError("NTLM logon failed for %s: truncated NTLMv2 response" % (who,))
            key = self._checkV2(ntHash, username, domain, nt[:16], nt[16:])
            if key is None and len(lm) == 24:
                key = self._checkV2(ntHash, username, domain, lm[:16], lm[16:])
        elif len(nt) == 24:
            if not self._allowNTLMv1:
                raise AuthenticationError("NTLM logon failed for %s: NTLMv1 refused" % (who,))
            key = self._checkV1(ntHash, nt, lm, flags)
        elif not nt and len(lm) == 24:
            key = self._checkV2(ntHash, username, domain, lm[:16], lm[16:])
        else:
            raise AuthenticationError("NTLM logon failed for %s: malformed response" % (who,))
        if key is None:
            raise AuthenticationError("NTLM logon failed for %s: wrong password" % (who,))
        return key

    def _checkV2(self, ntHash, username, domain, proof, blob):
        """
        NTLMv2 (or LMv2): C{proof == HMAC_MD5(NTOWFv2, ServerChallenge ||
        blob)} over the blob as received ([MS-NLMP] 3.3.2). The domain is
        tried as sent, upper-cased and empty, as Samba does.

        @return: SessionBaseKey (= KeyExchangeKey for NTLMv2), or L{None}.
        """
        tried = []
        for candidate in (domain, domain.upper(), ""):
            if candidate in tried:
                continue
            tried.append(candidate)
            responseKey = crypto.ntowfv2(username, ntHash, candidate)
            expected = crypto.hmac_md5(responseKey, self._serverChallenge + blob)
            if hmac.compare_digest(expected, proof):
                return crypto.hmac_md5(responseKey, proof)
        return None

    def _checkV1(self, ntHash, nt, lm, flags):
        """
        NTLMv1, with ESS (NTLM2 session response) or without ([MS-NLMP]
        3.3.1).

        @return: KeyExchangeKey, or L{None}.
        """
        if flags & NegotiateFlag.EXTENDED_SESSIONSECURITY:
            if len(lm) < 8:
                return None
            challenge = crypto.md5(self._serverChallenge + lm[:8])[:8]
        else:
            challenge = self._serverChallenge
        if not hmac.compare_digest(crypto.desl(ntHash, challenge), nt):
            return None
        sessionBaseKey = crypto.md4(ntHash)
        return crypto.kxkey(flags, sessionBaseKey, b"\x00" * 16, lm, self._serverChallenge)


@contextlib.contextmanager
def _workstationName(workstation):
    """
    pyspnego reads the workstation name from C{NETBIOS_COMPUTER_NAME} when it
    builds the AUTHENTICATE; set it for the duration of that call.
    """
    if not workstation:
        yield
        return
    saved = os.environ.get("NETBIOS_COMPUTER_NAME")
    os.environ["NETBIOS_COMPUTER_NAME"] = workstation
    try:
        yield
    finally:
        if saved is None:
            del os.environ["NETBIOS_COMPUTER_NAME"]
        else:
            os.environ["NETBIOS_COMPUTER_NAME"] = saved


def _pyspnegoCredential(credentials):
    """
    Turn our credentials into pyspnego's.
    """
    username = credentials.username
    if credentials.domain:
        username = credentials.domain + "\\" + username
    if credentials.password is not None:
        return Password(username=username, password=credentials.password)
    if credentials.ntHash is not None:
        return NTLMHash(username=username, nt_hash=base64.b16encode(credentials.ntHash).decode("ascii"))
    raise AuthenticationError("no password or NT hash for %s" % (username,))


def _hostService(targetName):
    """
    Split a target into pyspnego's (hostname, service): C{"host"} alone,
    or a C{service/host} SPN.
    """
    if "/" in targetName:
        service, host = targetName.split("/", 1)
        return host or None, service or "host"
    return targetName or None, "host"


class NTLMInitiator(SecurityContext):
    """
    The client side of NTLM: pyspnego builds NEGOTIATE and AUTHENTICATE
    (NTLMv2, random client challenge and session key from C{os.urandom},
    a MIC when the server sends a timestamp); the DCE/RPC signing and
    sealing use L{SessionSecurity} with the exported key it derived.

    @ivar micPresent: whether our AUTHENTICATE carries a MIC.
    """

    authType = AuthType.NTLM

    def __init__(self, credentials, targetName=""):
        """
        @param credentials: who we are.
        @type credentials: L{mapiproxy.auth.credentials.Credentials}
        @param targetName: the server's name, for the target name AV pair.
        @type targetName: L{str}
        """
        super().__init__()
        self.username = credentials.username
        self.domain = credentials.domain
        self._credentials = credentials
        self._targetName = targetName
        self._proxy = None
        self.micPresent = False

    def step(self, inToken):
        """
        Produce the NEGOTIATE (first call, no token), then the AUTHENTICATE
        from the server's CHALLENGE.

        @param inToken: L{None}, then the CHALLENGE.
        @type inToken: L{bytes} or L{None}
        @return: the message to send.
        @rtype: L{bytes}
        @raise AuthenticationError: a malformed or unusable CHALLENGE.
        """
        if self.complete:
            raise AuthenticationError("the NTLM exchange is already over")
        if self._proxy is None:
            if inToken:
                raise AuthenticationError("the NTLM initiator speaks first")
            hostname, service = _hostService(self._targetName)
            self._proxy = NTLMProxy(
                username=_pyspnegoCredential(self._credentials),
                hostname=hostname,
                service=service,
                context_req=ContextReq.default,
                usage="initiate",
                protocol="ntlm",
            )
            return self._proxy.step(None)
        if not inToken:
            raise AuthenticationError("expected an NTLM CHALLENGE from the server")
        token = bytes(inToken)
        _checkMessage(token, CHALLENGE_MESSAGE, 48)
        # TargetName and TargetInfo must lie inside the message
        # ([MS-NLMP] 2.2.1.2); pyspnego would silently truncate them.
        _payloadField(token, 12)
        _payloadField(token, 40)
        try:
            with _workstationName(self._credentials.workstation):
                out = self._proxy.step(token)
        except Exception as e:
            raise AuthenticationError("cannot answer the NTLM CHALLENGE: %s" % (e,)) from e
        if not self._proxy.complete:
            raise AuthenticationError("the NTLM exchange did not complete")
        flags = self._proxy._context_attr
        self.micPresent = AuthenticateFields(out).micAnnounced()
        self._security = SessionSecurity(flags, self._proxy.session_key, initiator=True)
        self.complete = True
        return out
