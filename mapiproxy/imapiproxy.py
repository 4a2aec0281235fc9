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


class IRequestForwarder(Interface):
    """
    What takes the request fragments of a context that forwards fragments
    one by one (the relay's cut-through path, see
    L{mapiproxy.dcerpc.association.ServerAssociation.forwardContext}).
    """

    def forwardRequest(session, callId, opnum, buf, dataStart, dataEnd, pfcFlags):
        """
        One verified request fragment, its stub region
        C{buf[dataStart:dataEnd]} unsealed in place, a sec_trailer and a
        verifier after it. Queue it; L{fragmentsDone} follows.

        @param session: the L{mapiproxy.dcerpc.association.ContextSession}.
        @param callId: the client's call id.
        @param opnum: the call's operation number.
        @param buf: the whole fragment (a L{bytearray} the forwarder may
            change).
        @param pfcFlags: the fragment's flags (FIRST/LAST).
        """

    def fragmentsDone():
        """
        The fragments of one read were handed over: send what they queued.
        """

    def forwardOrphaned(session, callId):
        """
        The client abandoned the forwarded call C{callId}.
        """


class IResponseForwarder(Interface):
    """
    What takes the answers of calls forwarded fragment by fragment (see
    L{mapiproxy.dcerpc.clientassociation.ClientAssociation.forwardRequest}).
    """

    def responseFragment(callId, buf, dataStart, dataEnd, pfcFlags):
        """
        One verified response fragment of the forwarded call C{callId} (our
        call id), unsealed in place, as in
        L{IRequestForwarder.forwardRequest}. Queue it; L{responsesDone}
        follows.
        """

    def forwardedFault(callId, status):
        """
        The server answered the forwarded call C{callId} with a fault.
        """

    def responsesDone():
        """
        The answers of one read were handed over: send what they queued.
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

    def fragmentProtection(level):
        """
        L{protectPDU} and L{unprotectPDU} for one level, as two functions
        of C{(buf, dataStart, dataEnd)} that run once per fragment with
        as little as possible in between (the handshake must be complete).
        The caller guarantees C{0 <= dataStart <= dataEnd} and a
        sec_trailer plus a L{signatureSize}-byte verifier after C{dataEnd}.

        @return: C{(protect, unprotect)}.
        @raise mapiproxy.errors.AuthenticationError: not established, or
            the level has no per-PDU protection.
        """


class IModule(Interface):
    """
    A stackable MAPIProxy module (OpenChange's C{struct mapiproxy_module}).

    Hooks run in C{dcerpc_mapiproxy:modules} order, for requests and for
    responses alike (as OpenChange does), and only for calls on the
    module's L{endpoint}. Each hook receives the call, a
    L{mapiproxy.calls.RelayedCall}: C{call.requestStub} (the bytes as they
    came), C{call.request} (decoded on first use; say
    C{call.requestChanged()} after changing it), and after the relay
    C{call.response} / C{call.responseChanged()}. For EMSMDB the MAPI
    framing is undone for modules by C{call.ropRequests} and friends when
    the ROP codec is available. Per-session state belongs in
    C{call.session.state}, never on the module.

    Every hook may return L{None} or a L{Deferred}; an exception or a failed
    Deferred becomes a DCE/RPC fault for that call only (logged once).
    """

    name = Attribute("The name used in 'dcerpc_mapiproxy:modules'.")
    description = Attribute("One line, printed when the module loads.")
    endpoint = Attribute("'any' or an interface name, e.g. 'exchange_emsmdb'.")

    def startModule(options):
        """
        Called once at start-up, in config order (OpenChange C{init}).

        @param options: the module's own C{<prefix>:<option>} settings, a
            L{mapiproxy.config.ModuleOptions} view whose typed getters
            raise L{mapiproxy.errors.ConfigError} with file and line.
        @raise mapiproxy.errors.ConfigError: start-up stops.
        """

    def rawRequest(call):
        """
        Before the request is decoded (OpenChange C{ndr_pull}); the module
        may replace C{call.requestStub}.
        """

    def request(call):
        """
        The decoded request (OpenChange C{pull}).
        """

    def dispatch(call):
        """
        Before the relay (OpenChange C{dispatch}, proxy mode).

        @return: L{None} to relay; a L{mapiproxy.modules.LocalReply} to
            answer locally without relaying (OpenChange C{norelay}); or a
            Deferred of either. To send more upstream first (OpenChange
            C{ahead}), use C{call.relayAgain()}, a Deferred of the upstream's
            response stub.
        """

    def response(call):
        """
        The decoded response, before it goes to the client (OpenChange
        C{push}); runs for relayed and for locally answered calls.
        """

    def unbind(session):
        """
        The client's presentation context is gone; called once per session.
        """


class IModuleFactory(Interface):
    """
    A plugin (found with C{twisted.plugin.getPlugins} in C{twisted.plugins},
    where a third-party package ships a drop-in file next to its own code)
    that makes a module: how third-party modules, installed as ordinary
    Python packages, are loaded by name. See C{examples/mapiproxy-stamp}.
    """

    name = Attribute("The module's name in 'dcerpc_mapiproxy:modules'.")
    description = Attribute("One line.")

    def makeModule():
        """
        @return: a new L{IModule} provider.
        """
