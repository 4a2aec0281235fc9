# -*- test-case-name: tests.dcerpc.test_association -*-
"""
One negotiated security context of an association and what it does to
request/response fragments: the auth trailer, signing and sealing
([MS-RPCE] 2.2.2.11, 3.3.1.5.2). Both roles use it.
"""

import struct

from mapiproxy.dcerpc import pdu as _pdu
from mapiproxy.dcerpc.constants import AuthLevel
from mapiproxy.dcerpc.framing import fragmentStub, maxStubPerFragment
from mapiproxy.errors import AuthenticationError, ProtocolError, SignatureError


# Little-endian header and sec_trailer fields that forwarded fragments are
# read and rewritten with, in place ([MS-RPCE] 2.2.2.9-2.2.2.11).
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
#: frag_length, auth_length, call_id (at offset 8 of every PDU).
FRAG_AUTH_CALL = struct.Struct("<HHI")
#: A request header: pfc_flags, drep[0], frag_length, auth_length,
#: call_id, p_cont_id, opnum (rpc_vers, rpc_vers_minor, PTYPE, the rest of
#: drep and alloc_hint skipped).
REQUEST_HEADER = struct.Struct("<3xBB3xHHI4xHH")
#: auth_type, auth_level, auth_pad_length, auth_reserved, auth_context_id.
SEC_TRAILER = struct.Struct("<BBBBI")
_AUTH_TYPE_LEVEL = struct.Struct("<BB")


class AuthState:
    """
    A security context bound to one auth_context_id of an association, with
    the auth_type and auth_level the client asked for.

    @ivar context: the L{mapiproxy.imapiproxy.ISecurityContext}.
    @ivar failed: the reason the handshake failed, or L{None}.
    @ivar signs: whether request/response fragments carry a verifier (at
        integrity level and above).
    """

    def __init__(self, context, authType, authLevel, authContextId):
        self.context = context
        self.authType = authType
        self.authLevel = _effectiveLevel(authLevel)
        self.requestedLevel = authLevel
        self.authContextId = authContextId
        self.failed = None
        self.signs = self.authLevel >= AuthLevel.INTEGRITY
        self._placeholder = None
        self._signatureSize = None

    @property
    def complete(self):
        """
        True when the handshake finished successfully.
        """
        return self.failed is None and self.context.complete

    @property
    def signatureSize(self):
        """
        Bytes of verifier per fragment (0 below integrity level).
        """
        size = self._signatureSize
        if size is None:
            size = self.context.signatureSize if self.signs else 0
            if self.context.complete:
                # Fixed once the handshake is over: asked once per fragment.
                self._signatureSize = size
        return size

    def step(self, token):
        """
        Feed a handshake token, remembering a failure.

        @raise AuthenticationError: the handshake failed.
        """
        try:
            return self.context.step(token)
        except AuthenticationError as e:
            self.failed = str(e)
            raise

    def protectFragment(self, buf, dataStart, dataEnd):
        """
        Sign or seal, in place, a fragment whose verifier is the last
        L{signatureSize} bytes of C{buf} and whose stub region is
        C{buf[dataStart:dataEnd]} (see
        L{mapiproxy.imapiproxy.ISecurityContext.fragmentProtection}).
        Only once the handshake is complete.
        """
        self._bindFragmentProtection()
        self.protectFragment(buf, dataStart, dataEnd)

    def unprotectFragment(self, buf, dataStart, dataEnd):
        """
        Unseal and verify, in place, the other way round from
        L{protectFragment}.

        @raise SignatureError: the verifier does not match.
        """
        self._bindFragmentProtection()
        self.unprotectFragment(buf, dataStart, dataEnd)

    def _bindFragmentProtection(self):
        """
        Replace L{protectFragment} and L{unprotectFragment} on this
        instance by the security context's own per-fragment functions.
        """
        self.protectFragment, self.unprotectFragment = self.context.fragmentProtection(self.authLevel)

    def reseal(self, buf, callId, contextId, dataStart, secStart):
        """
        Make a request or response fragment from another association ours
        and protect it in place: our call id and context id in the header,
        our auth_type, auth_level and auth_context_id in the sec_trailer at
        C{secStart} (the padding and its length stay), then
        L{protectFragment} over the plaintext stub region
        C{buf[dataStart:secStart]}.

        @raise ProtocolError: C{buf} does not end with a sec_trailer and a
            verifier of L{signatureSize} bytes.
        """
        if len(buf) != secStart + 8 + self.signatureSize:
            raise ProtocolError("fragment has no room for a sec_trailer and a %d-byte verifier" % (self.signatureSize,))
        _U32.pack_into(buf, 12, callId)
        _U16.pack_into(buf, 20, contextId)
        _AUTH_TYPE_LEVEL.pack_into(buf, secStart, self.authType, self.requestedLevel)
        _U32.pack_into(buf, secStart + 4, self.authContextId)
        self.protectFragment(buf, dataStart, secStart)

    def matches(self, authType, authLevel, authContextId):
        """
        Whether a sec_trailer's fields are this context's.
        """
        return authContextId == self.authContextId and authType == self.authType and authLevel == self.requestedLevel

    def verifier(self, value=b""):
        """
        An auth trailer for a PDU of this context.
        """
        return _pdu.AuthVerifier(
            authType=self.authType,
            authLevel=self.requestedLevel,
            authPadLength=0,
            authContextId=self.authContextId,
            authValue=value,
        )

    def _trailer(self):
        """
        The auth trailer of outgoing fragments (the verifier is filled in
        by the security context), made once: it is the same for every
        fragment and never modified.
        """
        if self._placeholder is None:
            self._placeholder = self.verifier()
        return self._placeholder

    def protect(self, message):
        """
        Encode an outgoing request or response fragment with this context's
        trailer, signed or sealed as its level says.

        @param message: a L{mapiproxy.dcerpc.pdu.Request} or
            L{mapiproxy.dcerpc.pdu.Response} (its C{auth} is replaced).
        @return: the fragment's bytes.
        """
        if not self.signs:
            message.auth = None
            return _pdu.encode(message)
        message.auth = self._trailer()
        buf, start, end = _pdu.encodeForSigning(message, self.context.signatureSize)
        self.protectFragment(buf, start, end)
        return bytes(buf)

    def unprotect(self, fragment, message):
        """
        Verify (and unseal) an incoming request or response fragment.

        @param fragment: the fragment's bytes.
        @param message: the same fragment, decoded.
        @return: the plaintext stub.
        @raise SignatureError: no trailer, a trailer of another context, or
            a verifier that does not match.
        """
        if not self.signs:
            return message.stub
        auth = message.auth
        if auth is None:
            raise SignatureError("fragment without a verifier at auth level %d" % (self.authLevel,))
        if auth.authContextId != self.authContextId or auth.authType != self.authType:
            raise SignatureError("fragment signed by another security context")
        if auth.authLevel != self.requestedLevel:
            raise SignatureError("fragment at auth level %d, context at %d" % (auth.authLevel, self.requestedLevel))
        start, end = _pdu.decodedAuthRegion(message, len(fragment))
        buf = bytearray(fragment)
        if end + 8 + self.signatureSize != len(buf) or start > end:
            raise SignatureError("verifier of %d bytes, not %d" % (len(buf) - end - 8, self.signatureSize))
        self.unprotectFragment(buf, start, end)
        return bytes(memoryview(buf)[start : end - auth.authPadLength])


def protectedFragments(pduClass, stub, maxFragment, state, **fields):
    """
    Cut a stub into request or response fragments that fit C{maxFragment}
    once protected, each with its FIRST/LAST flags and alloc_hint (the stub
    bytes left), encoded and signed or sealed by C{state}.

    @param pduClass: L{mapiproxy.dcerpc.pdu.Request} or
        L{mapiproxy.dcerpc.pdu.Response}.
    @param state: the L{AuthState}, or L{None} for no protection.
    @param fields: the PDU's other fields (callId, contextId, opnum...).
    @return: the fragments' bytes, in order.
    @rtype: L{list} of L{bytes}
    """
    flags = _pdu.PFC.OBJECT_UUID if fields.get("object") else 0
    headerLength = _pdu.headerLength(pduClass.PTYPE, flags)
    chunkSize = maxStubPerFragment(maxFragment, headerLength, state.signatureSize if state is not None else 0)
    remaining = len(stub)
    out = []
    # One PDU, its flags, alloc_hint and stub changed for each fragment:
    # each is encoded before the next change.
    message = pduClass(**fields)
    for chunk, pfcFlags in fragmentStub(stub, chunkSize):
        message.pfcFlags = pfcFlags | flags
        message.allocHint = remaining
        message.stub = chunk
        remaining -= len(chunk)
        out.append(state.protect(message) if state is not None else _pdu.encode(message))
    return out


def _effectiveLevel(level):
    """
    Map the auth levels onto what is done to fragments: call and packet
    level are treated as integrity (as Samba does).
    """
    if level in (AuthLevel.CALL, AuthLevel.PKT):
        return AuthLevel.INTEGRITY
    return level
