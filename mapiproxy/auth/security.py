# -*- test-case-name: tests.auth.test_security -*-
"""
Security contexts as the DCE/RPC layer sees them: a token exchange
(C{step}) followed by per-PDU protection (C{protectPDU}/C{unprotectPDU}),
and the factories that make one for an auth_type.

Only the rules of [MS-RPCE] 3.3.1.5.2.2 about I{which bytes} are signed live
here; the mechanisms (NTLM, SPNEGO) supply the keys.
"""

import time

from mapiproxy.dcerpc.constants import AuthLevel, AuthType
from mapiproxy.errors import AuthenticationError, SignatureError, UnsupportedAuthType

#: Levels at which every PDU carries a signature ([MS-RPCE] 2.2.1.1.8):
#: Windows treats CALL like PKT on connection-oriented transports.
_SIGNING_LEVELS = frozenset([AuthLevel.CALL, AuthLevel.PKT, AuthLevel.INTEGRITY])
#: Whether each protecting level seals (else it only signs).
_SEALS = {int(level): False for level in _SIGNING_LEVELS}
_SEALS[int(AuthLevel.PRIVACY)] = True


class SecurityContext:
    """
    The common base of the NTLM and SPNEGO contexts of both roles.

    @cvar authType: the auth_type of the sec_trailer (L{AuthType.NTLM} or
        L{AuthType.SPNEGO}).
    @cvar signatureSize: the size of the verifier of a protected PDU.
    @ivar complete: whether the token exchange is over.
    @ivar username: acceptor: the authenticated account (after C{complete});
        initiator: the user we authenticate as.
    @ivar domain: the domain that goes with C{username}.
    """

    authType = None
    signatureSize = 16

    def __init__(self):
        self.complete = False
        self.username = ""
        self.domain = ""
        self._security = None

    def __repr__(self):
        return "<%s %s complete=%s>" % (
            type(self).__name__,
            (self.domain + "\\" + self.username) if self.domain else self.username,
            self.complete,
        )

    def step(self, inToken):
        """
        Consume the peer's token and produce ours.

        @param inToken: the peer's token, L{None} for the initiator's first
            call.
        @type inToken: L{bytes} or L{None}
        @return: the token to send, or L{None} when nothing is to be sent.
        @rtype: L{bytes} or L{None}
        @raise AuthenticationError: wrong password, unknown user, malformed
            token, anonymous refused...
        """
        raise NotImplementedError()

    @property
    def sessionKey(self):
        """
        The exported session key once the exchange is complete, else
        L{None}. Never log it.
        """
        if self._security is None:
            return None
        return self._security.exportedSessionKey

    @property
    def negotiatedFlags(self):
        """
        The NTLM flags both sides agreed on (0 until complete).
        """
        if self._security is None:
            return 0
        return self._security.flags

    def fragmentProtection(self, level):
        """
        Per-fragment protection for one level: see
        L{mapiproxy.imapiproxy.ISecurityContext.fragmentProtection}.
        """
        security = self._security
        if security is None or not self.complete:
            raise AuthenticationError("the security context is not established")
        seal = _SEALS.get(level)
        if seal is None:
            raise AuthenticationError("auth level %d has no per-PDU protection" % (level,))
        return security.fragmentProtection(seal)

    def _checkedProtection(self, buf, dataStart, dataEnd, level, misfit):
        """
        L{fragmentProtection} for L{protectPDU} and L{unprotectPDU}, once
        the stub region is known to fit C{buf} before its verifier.

        @param misfit: the exception type for a region that does not fit.
        """
        if self._security is None or not self.complete:
            raise AuthenticationError("the security context is not established")
        verifier = len(buf) - self.signatureSize
        if not 0 <= dataStart <= dataEnd <= verifier:
            raise misfit(
                "stub region [%d:%d] does not fit a %d-byte PDU with a %d-byte verifier"
                % (dataStart, dataEnd, len(buf), self.signatureSize)
            )
        return self.fragmentProtection(level)

    def protectPDU(self, buf, dataStart, dataEnd, level):
        """
        Sign, or seal and sign, an outgoing fragment in place, using and
        incrementing the outgoing sequence number.

        With NTLM extended session security the signature covers every byte
        before the verifier (header, plaintext stub and pad, sec_trailer);
        without it only the stub region ([MS-RPCE] 3.3.1.5.2.2). When
        sealing, the stub is encrypted first and the checksum second with
        the same RC4 stream ([MS-NLMP] 3.4.3).

        @param buf: the whole fragment; its last C{signatureSize} bytes are
            the verifier placeholder.
        @type buf: L{bytearray}
        @param dataStart: where the stub (and pad) to encrypt starts.
        @type dataStart: L{int}
        @param dataEnd: where it ends.
        @type dataEnd: L{int}
        @param level: L{AuthLevel.INTEGRITY} (or PKT) to sign,
            L{AuthLevel.PRIVACY} to seal.
        @type level: L{int}
        @raise AuthenticationError: the context is not established, the
            level needs a feature that was not negotiated, or the region
            does not fit.
        """
        protect, _ = self._checkedProtection(buf, dataStart, dataEnd, level, AuthenticationError)
        protect(buf, dataStart, dataEnd)

    def unprotectPDU(self, buf, dataStart, dataEnd, level):
        """
        The inverse of L{protectPDU} for a received fragment: decrypt the
        stub region in place (PRIVACY), then check the verifier against the
        signature over the plaintext, using and incrementing the incoming
        sequence number.

        @param buf: the whole fragment, verifier included.
        @type buf: L{bytearray}
        @param dataStart: where the stub (and pad) starts.
        @type dataStart: L{int}
        @param dataEnd: where it ends.
        @type dataEnd: L{int}
        @param level: L{AuthLevel.INTEGRITY} (or PKT) or L{AuthLevel.PRIVACY}.
        @type level: L{int}
        @raise SignatureError: the verifier does not match, or the region
            does not fit.
        @raise AuthenticationError: the context is not established or the
            level needs a feature that was not negotiated.
        """
        _, unprotect = self._checkedProtection(buf, dataStart, dataEnd, level, SignatureError)
        unprotect(buf, dataStart, dataEnd)


def _authTypeName(authType):
    try:
        return "%s (%d)" % (AuthType(authType).name, authType)
    except ValueError:
        return "%r" % (authType,)


def makeAcceptor(authType, passdb, identity, clock=time.time, allowNTLMv1=True):
    """
    Make the server side of a security context.

    @param authType: the auth_type the client asked for.
    @type authType: L{int}
    @param passdb: the accounts to authenticate against.
    @type passdb: L{mapiproxy.auth.passdb.PassDB}
    @param identity: the names to announce.
    @type identity: L{mapiproxy.auth.credentials.ServerIdentity}
    @param clock: returns the time (seconds since the epoch) for the
        CHALLENGE's timestamp.
    @param allowNTLMv1: whether NTLMv1 responses are accepted (older
        clients); NTLMv2 always is.
    @type allowNTLMv1: L{bool}
    @return: a fresh context.
    @rtype: L{SecurityContext}
    @raise UnsupportedAuthType: anything but NTLM (10) or SPNEGO (9).
    """
    from mapiproxy.auth.ntlm import NTLMAcceptor
    from mapiproxy.auth.spnego import SPNEGOAcceptor

    if authType == AuthType.NTLM:
        return NTLMAcceptor(passdb, identity, clock=clock, allowNTLMv1=allowNTLMv1)
    if authType == AuthType.SPNEGO:
        return SPNEGOAcceptor(NTLMAcceptor(passdb, identity, clock=clock, allowNTLMv1=allowNTLMv1))
    raise UnsupportedAuthType("auth_type %s is not supported (only NTLM and SPNEGO)" % (_authTypeName(authType),))


def makeInitiator(authType, credentials, targetName=""):
    """
    Make the client side of a security context.

    @param authType: L{AuthType.NTLM} or L{AuthType.SPNEGO}.
    @type authType: L{int}
    @param credentials: who we authenticate as.
    @type credentials: L{mapiproxy.auth.credentials.Credentials}
    @param targetName: the server's host name (or a C{service/host} SPN)
        for the NTLMv2 target name AV pair.
    @type targetName: L{str}
    @return: a fresh context; call C{step(None)} for the first token.
    @rtype: L{SecurityContext}
    @raise UnsupportedAuthType: anything but NTLM (10) or SPNEGO (9).
    """
    from mapiproxy.auth.ntlm import NTLMInitiator
    from mapiproxy.auth.spnego import SPNEGOInitiator

    if authType == AuthType.NTLM:
        return NTLMInitiator(credentials, targetName)
    if authType == AuthType.SPNEGO:
        return SPNEGOInitiator(NTLMInitiator(credentials, targetName))
    raise UnsupportedAuthType("auth_type %s is not supported (only NTLM and SPNEGO)" % (_authTypeName(authType),))
