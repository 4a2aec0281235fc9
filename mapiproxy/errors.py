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
