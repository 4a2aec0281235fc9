# -*- test-case-name: tests.dcerpc.test_server -*-
"""
The Twisted server side: a thin L{Protocol} over
L{mapiproxy.dcerpc.association.ServerAssociation}, and the factory that holds
what every connection shares (interfaces, passdb, association groups).
"""

from twisted.internet.defer import CancelledError, gatherResults, maybeDeferred
from twisted.internet.protocol import Protocol, ServerFactory
from twisted.logger import Logger
from zope.interface.verify import verifyObject

from mapiproxy.dcerpc.association import (
    AssociationGroups,
    CallReceived,
    ContextsBound,
    ServerAssociation,
    ServerSettings,
)
from mapiproxy.dcerpc.constants import Status, statusName
from mapiproxy.dcerpc.sending import DirectWriter, noDelay
from mapiproxy.errors import AuthenticationError, DCERPCFault, UnsupportedAuthType, UpstreamError
from mapiproxy.imapiproxy import IRPCInterface


class RPCServerProtocol(Protocol):
    """
    One client connection. Each complete request goes to its interface's
    C{handleCall}; the Deferred's result is fragmented and protected back.
    """

    _log = Logger()

    def __init__(self, factory):
        self.factory = factory
        self.association = None

    def connectionMade(self):
        self._writer = DirectWriter(self.transport)
        noDelay(self.transport)
        host = self.transport.getHost()
        self.association = ServerAssociation(
            self.factory.lookupInterface,
            self.factory.makeAcceptor,
            self.factory.groups,
            self.factory.settings,
            peer=self.transport.getPeer(),
            localPort=getattr(host, "port", 0),
            localHost=getattr(host, "host", None),
        )
        self.association.state["connection"] = self

    def dataReceived(self, data):
        self._process(self.association.receiveData(data))

    def connectionLost(self, reason):
        for session in self.association.connectionLost():
            try:
                session.interface.contextReleased(session)
            except Exception:
                self._log.failure("contextReleased failed for {name}", name=session.interface.name)

    def _process(self, events):
        for event in events:
            if isinstance(event, CallReceived):
                self._dispatch(event.call)
            elif isinstance(event, ContextsBound):
                self._bindContexts(event.sessions)
        self.flush()

    def flush(self):
        """
        Write what the association queued (also answers given to it outside
        a call's Deferred, as the relay's cut-through does), and close if
        it is closing.
        """
        data = self.association.dataToSend()
        if data:
            self._writer.write(data)
        if self.association.closing is not None:
            self.transport.loseConnection()

    def _bindContexts(self, sessions):
        d = gatherResults(
            [maybeDeferred(session.interface.contextBound, session) for session in sessions],
            consumeErrors=True,
        )
        d.addCallbacks(self._bound, self._bindFailed)

    def _bound(self, results):
        groupIds = [r for r in results if isinstance(r, int)]
        self._process(self.association.completeBind(assocGroupId=groupIds[0] if groupIds else None))

    def _bindFailed(self, failure):
        reason = failure.value.subFailure.getErrorMessage() if hasattr(failure.value, "subFailure") else failure.getErrorMessage()
        self._log.warn(
            "dcesrv_bind: refusing bind from {peer}: {reason}",
            peer=self.transport.getPeer(),
            reason=reason,
        )
        self._process(self.association.completeBind(failure=reason))

    def _dispatch(self, call):
        d = maybeDeferred(call.interface.handleCall, call)
        d.addCallbacks(self._respond, self._callFailed, callbackArgs=(call,), errbackArgs=(call,))

    def _respond(self, stub, call):
        if not isinstance(stub, (bytes, bytearray, memoryview)):
            self._log.error(
                "{name} opnum {opnum} returned {type!r}, not bytes",
                name=call.interface.name,
                opnum=call.opnum,
                type=type(stub),
            )
            self.association.fault(call, Status.NCA_S_FAULT_UNSPEC)
        else:
            self.association.respond(call, bytes(stub))
        self.flush()

    def _callFailed(self, failure, call):
        if failure.check(DCERPCFault):
            status = failure.value.status
        elif failure.check(CancelledError):
            status = Status.NCA_S_FAULT_CANCEL
        elif failure.check(UpstreamError):
            status = Status.NCA_S_COMM_FAILURE
            self._log.warn(
                "{name} opnum {opnum}: upstream failure: {reason}",
                name=call.interface.name,
                opnum=call.opnum,
                reason=failure.getErrorMessage(),
            )
        else:
            status = Status.NCA_S_FAULT_UNSPEC
            self._log.failure(
                "{name} opnum {opnum} failed",
                failure,
                name=call.interface.name,
                opnum=call.opnum,
            )
        self._log.debug(
            "{name} call {callId} opnum {opnum}: fault {status}",
            name=call.interface.name,
            callId=call.callId,
            opnum=call.opnum,
            status=statusName(status),
        )
        self.association.fault(call, status)
        if failure.check(UpstreamError):
            # The upstream association (and every context handle on it) is
            # gone: close so that the client starts afresh.
            self.association.close("upstream failure")
        self.flush()


class RPCServerFactory(ServerFactory):
    """
    Shared state of every connection to one (or several) listeners.

    @ivar groups: the L{AssociationGroups}.
    @ivar settings: the L{ServerSettings}.
    """

    protocol = RPCServerProtocol
    noisy = False
    _log = Logger()

    def __init__(self, interfaces=(), passdb=None, identity=None, settings=None, groups=None, makeAcceptor=None):
        self.passdb = passdb
        self.identity = identity
        self.settings = settings or ServerSettings()
        self.groups = groups if groups is not None else AssociationGroups()
        self._makeAcceptor = makeAcceptor
        self._interfaces = {}
        for interface in interfaces:
            self.register(interface)

    def buildProtocol(self, addr):
        return self.protocol(self)

    def register(self, interface):
        """
        Serve an interface on this factory's listeners.

        @type interface: L{IRPCInterface}
        """
        verifyObject(IRPCInterface, interface)
        syntax = interface.syntax
        self._interfaces[(syntax.uuid, syntax.version)] = interface

    @property
    def interfaces(self):
        """
        The registered interfaces.
        """
        return list(self._interfaces.values())

    def lookupInterface(self, syntax):
        """
        The interface serving an abstract syntax: same UUID and major
        version, and a minor version no newer than ours ([MS-RPCE] 3.3.1.5.3).
        """
        interface = self._interfaces.get((syntax.uuid, syntax.version))
        if interface is None or syntax.versionMinor > interface.syntax.versionMinor:
            return None
        return interface

    def makeAcceptor(self, authType):
        """
        A fresh acceptor security context for a client's bind.

        @raise UnsupportedAuthType: not NTLM or SPNEGO.
        @raise AuthenticationError: no passdb is configured.
        """
        if self._makeAcceptor is not None:
            return self._makeAcceptor(authType)
        from mapiproxy.auth.security import makeAcceptor

        if authType not in (9, 10):
            raise UnsupportedAuthType("auth type %d not supported" % (authType,))
        if self.passdb is None:
            raise AuthenticationError("no passdb configured: every client is refused")
        return makeAcceptor(authType, self.passdb, self.identity)
