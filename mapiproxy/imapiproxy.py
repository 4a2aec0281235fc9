"""
Every zope.interface declaration of mapiproxy, in one place (like Twisted's
C{iweb.py}).
"""

from zope.interface import Attribute, Interface


class IRPCInterface(Interface):
    """
    A DCE/RPC interface served by a L{mapiproxy.dcerpc.server.RPCServerFactory}:
    the endpoint mapper, a relayed interface, or one served locally.
    """

    name = Attribute(
        "The interface's name as Samba/OpenChange print it, e.g. "
        "'exchange_emsmdb' or 'epmapper'."
    )
    syntax = Attribute(
        "The abstract syntax (L{mapiproxy.dcerpc.pdu.SyntaxId}) a client binds to."
    )
    requireAuthentication = Attribute(
        "True when calls from a client that did not authenticate must be "
        "refused before they reach L{handleCall} (with a fault "
        "DCERPC_FAULT_ACCESS_DENIED). The endpoint mapper says False."
    )

    def handleCall(call):
        """
        Answer one complete, verified and unsealed request.

        @param call: the request.
        @type call: L{mapiproxy.dcerpc.association.Call}
        @return: the response stub (L{bytes}) or a L{Deferred} firing with it.
        @raise mapiproxy.errors.DCERPCFault: to answer with a fault PDU (also
            acceptable as the failure of the returned Deferred).
        """

    def contextBound(session):
        """
        A client bound a presentation context to this interface.

        @param session: the per-(connection, context) session.
        @type session: L{mapiproxy.dcerpc.association.ContextSession}
        @return: L{None}, or a L{Deferred} that must fire before the bind
            acknowledgement is sent (the proxy connects upstream here). A
            failure makes the bind fail.
        """

    def contextReleased(session):
        """
        The presentation context is gone (the connection closed).

        @param session: the session given to L{contextBound}.
        @type session: L{mapiproxy.dcerpc.association.ContextSession}
        """


class ISecurityContext(Interface):
    """
    One authentication context of a DCE/RPC association (NTLMSSP or SPNEGO),
    in either role. Implemented in L{mapiproxy.auth.security}.
    """

    authType = Attribute("The auth_type it speaks (9 SPNEGO, 10 NTLMSSP).")
    complete = Attribute("True once the handshake is over.")
    username = Attribute("The authenticated (acceptor) or own (initiator) user.")
    domain = Attribute("The domain that goes with L{username}.")
    signatureSize = Attribute("Length of the verifier it writes (16).")

    def step(inToken):
        """
        Consume the peer's token and return the token to send.

        @param inToken: the peer's token, or L{None} for an initiator's first step.
        @type inToken: L{bytes} or L{None}
        @return: the token to send, or L{None} when nothing is to be sent.
        @rtype: L{bytes} or L{None}
        @raise mapiproxy.errors.AuthenticationError: the handshake failed.
        """

    def protectPDU(buf, dataStart, dataEnd, level):
        """
        Sign (and at privacy level, encrypt C{buf[dataStart:dataEnd]} of) an
        outgoing fragment in place; the verifier is written into the last
        L{signatureSize} bytes.
        """

    def unprotectPDU(buf, dataStart, dataEnd, level):
        """
        Decrypt (privacy level) and verify an incoming fragment in place.

        @raise mapiproxy.errors.SignatureError: the verifier does not match.
        """
