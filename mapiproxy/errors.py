"""
Typed exceptions of mapiproxy. Each layer raises its own; the protocol
boundary turns them into a fault PDU, a bind_nak or a closed connection.
"""


class MapiProxyError(Exception):
    """Base class of every mapiproxy error."""


class ConfigError(MapiProxyError):
    """
    A configuration the user can fix: the message names the file, the line
    and the option.
    """

    def __init__(self, message, path=None, line=None, option=None):
        self.path = path
        self.line = line
        self.option = option
        where = ""
        if path is not None:
            where = "%s:%s: " % (path, line if line is not None else "-")
        if option is not None:
            where += "'%s': " % (option,)
        super().__init__(where + message)


class ProtocolError(MapiProxyError):
    """
    The peer broke the DCE/RPC protocol badly enough that the connection
    must be closed (after a fault or bind_nak where one can still be sent).
    """


class MalformedPDU(ProtocolError):
    """Bytes that do not parse as a DCE/RPC PDU."""


class FragmentTooLarge(ProtocolError):
    """A frag_length past the negotiated limit, or a stub past the maximum."""


class DCERPCFault(MapiProxyError):
    """
    Answer the current call with a fault PDU carrying C{status}; the
    association stays up.
    """

    def __init__(self, status, message=None):
        from mapiproxy.dcerpc.constants import statusName

        self.status = int(status)
        super().__init__(message or statusName(self.status))


class AuthenticationError(MapiProxyError):
    """
    Authentication failed (wrong password, unknown user, bad token). Never
    carries a secret in its message.
    """


class SignatureError(AuthenticationError):
    """A verifier did not match: the PDU was tampered with or the keys differ."""


class UnsupportedAuthType(AuthenticationError):
    """An auth_type this implementation does not speak (e.g. Kerberos)."""


class UpstreamError(MapiProxyError):
    """The upstream server could not be reached, refused us or went away."""


class ModuleError(MapiProxyError):
    """A proxy module misbehaved (e.g. a hook returned None)."""


class MapiBufferError(MapiProxyError):
    """
    A MAPI payload inside EMSMDB (RPC_HEADER_EXT chain, ROP buffer, AUX
    block) that does not parse ([MS-OXCRPC] 2.2.2, [MS-OXCROPS] 2.2.1).
    """


class CompressionError(MapiBufferError):
    """
    An MS-XCA Plain LZ77 stream that does not decode: truncated, pointing
    before the start of the output, or decoding to the wrong size.
    """


class MalformedStub(MapiProxyError):
    """
    Stub bytes that do not decode as the NDR of the call they belong to. A
    server answers the call with a fault C{nca_s_fault_ndr}; a client gives
    up on the call.
    """


class EndpointNotRegistered(UpstreamError):
    """
    An endpoint mapper has no endpoint for the interface asked for
    (C{EPT_S_NOT_REGISTERED}, 0x16c9a0d6, or an answer without a usable
    tower).

    @ivar status: the status the endpoint mapper answered.
    """

    def __init__(self, message, status=0x16C9A0D6):
        self.status = status
        super().__init__(message)


class NDRError(MalformedStub):
    """
    NDR20 stub bytes that break the transfer syntax ([C706] 14, [MS-RPCE]
    2.2.5): a read past the end of the stub, a conformance or variance that
    disagrees with itself, a value outside an IDL C{range()}, a NULL where
    a C{[ref]} pointer must point, or bytes left after the last parameter.
    """


class RopError(MapiBufferError):
    """
    A ROP buffer ([MS-OXCROPS] 2.2) or an [MS-OXCDATA] structure inside one
    that does not parse or cannot be encoded: a read past the end of the
    data, a count that cannot fit, an unknown type or kind code, a value out
    of range for its field. Decoding arbitrary bytes raises only this.
    """


class MapiError(MapiProxyError):
    """
    A MAPI error code ([MS-OXCDATA] 2.4) that a server answers in the
    return value of a call (an NSPI C{result}, a ROP C{ReturnValue}), not
    with a fault: the call was understood and refused.

    @ivar code: the 32-bit error code, e.g. 0x8004010F (NotFound).
    """

    def __init__(self, code, message=None):
        self.code = int(code) & 0xFFFFFFFF
        super().__init__(message or "MAPI error 0x%08x" % (self.code,))


class ClientError(MapiProxyError):
    """
    Something the user of C{mapiproxy-client} asked for that cannot be done
    as asked: an unknown folder, message or attachment, a malformed message
    id, a server that never answered with what the protocol promises.
    """
