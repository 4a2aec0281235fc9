# -*- test-case-name: tests.dcerpc.test_client -*-
"""
The Twisted client side: a thin L{Protocol} over
L{mapiproxy.dcerpc.clientassociation.ClientAssociation} that binds and then
returns a L{Deferred} per call.
"""

from twisted.internet.defer import Deferred, fail
from twisted.internet.endpoints import HostnameEndpoint
from twisted.internet.protocol import ClientFactory, Protocol
from twisted.logger import Logger

from mapiproxy.dcerpc.clientassociation import (
    AssociationFailed,
    BindRefused,
    Bound,
    ClientAssociation,
    ContextAltered,
    FaultReceived,
    ResponseReceived,
)
from mapiproxy.dcerpc.sending import DirectWriter, noDelay
from mapiproxy.dcerpc.constants import AuthLevel, AuthType, DEFAULT_MAX_FRAGMENT
from mapiproxy.errors import DCERPCFault, UpstreamError


class BindError(UpstreamError):
    """
    The server refused our bind (bind_nak, rejected context, failed
    authentication).

    @ivar status: the bind_nak reason or fault status, when there was one.
    """

    def __init__(self, reason, status=None):
        super().__init__(reason)
        self.status = status


class RPCClientProtocol(Protocol):
    """
    One association to a server.

    @ivar bound: a L{Deferred} that fires with this protocol once bound, or
        fails with L{BindError}/L{UpstreamError}.
    """

    _log = Logger()

    def __init__(self, association):
        self.association = association
        self.bound = Deferred()
        self._calls = {}
        self._alters = {}
        self.connected = False
        self.onLost = None

    @property
    def assocGroupId(self):
        """
        The association group the server acknowledged.
        """
        return self.association.assocGroupId

    def connectionMade(self):
        self.connected = True
        self._writer = DirectWriter(self.transport)
        noDelay(self.transport)
        self.association.start()
        self.flush()

    def call(self, opnum, stub, contextId=0, object=None):
        """
        Make a call.

        @return: a L{Deferred} firing with the response stub, or failing
            with L{DCERPCFault} (the server's fault) or L{UpstreamError}
            (connection or association lost).
        """
        if not self.connected or self.association.failed is not None:
            return fail(UpstreamError("association closed: %s" % (self.association.failed or "not connected",)))
        callId = self.association.request(opnum, stub, contextId, object)
        d = self._calls[callId] = Deferred()
        self.flush()
        return d

    def forward(self, callId, contextId, buf, dataStart, dataEnd, pfcFlags):
        """
        Queue a request fragment that came from another association (see
        L{ClientAssociation.forwardRequest}); L{flush} sends what is
        queued. Its answer goes to the association's C{forwarder}.

        @raise UpstreamError: the association is closed.
        @raise mapiproxy.errors.ProtocolError: the fragment cannot be
            forwarded here.
        """
        if not self.connected or self.association.failed is not None:
            raise UpstreamError("association closed: %s" % (self.association.failed or "not connected",))
        self.association.forwardRequest(callId, contextId, buf, dataStart, dataEnd, pfcFlags)

    def alterContext(self, syntax):
        """
        Add a presentation context.

        @return: a L{Deferred} firing with the new context id, or failing
            with L{BindError} when the server rejects it.
        """
        contextId = self.association.alterContext(syntax)
        d = self._alters[contextId] = Deferred()
        self.flush()
        return d

    def dataReceived(self, data):
        for event in self.association.receiveData(data):
            self._handle(event)
        self.flush()

    def _handle(self, event):
        if isinstance(event, ResponseReceived):
            self._calls.pop(event.callId).callback(event.stub)
        elif isinstance(event, FaultReceived):
            self._calls.pop(event.callId).errback(DCERPCFault(event.status))
        elif isinstance(event, Bound):
            self.bound.callback(self)
        elif isinstance(event, ContextAltered):
            d = self._alters.pop(event.contextId, None)
            if d is not None:
                if event.accepted:
                    d.callback(event.contextId)
                else:
                    d.errback(BindError("context %d rejected" % (event.contextId,)))
        elif isinstance(event, BindRefused):
            self._failAll(BindError(event.reason, event.status))
            self.transport.loseConnection()
        elif isinstance(event, AssociationFailed):
            self._failAll(UpstreamError(event.reason))
            self.transport.loseConnection()

    def flush(self):
        """
        Send what is queued.
        """
        data = self.association.dataToSend()
        if data:
            self._writer.write(data)

    def _failAll(self, error):
        if not self.bound.called:
            self.bound.errback(error)
        calls, self._calls = self._calls, {}
        alters, self._alters = self._alters, {}
        for d in list(calls.values()) + list(alters.values()):
            d.errback(error)

    def connectionLost(self, reason):
        self.connected = False
        if self.association.failed is None:
            self.association.failed = "connection lost"
        self._failAll(UpstreamError("connection lost: %s" % (reason.getErrorMessage(),)))
        if self.onLost is not None:
            self.onLost("connection lost: %s" % (reason.getErrorMessage(),))

    def disconnect(self):
        """
        Close the connection.
        """
        if self.transport is not None:
            self.transport.loseConnection()


def connectRPC(
    reactor,
    host,
    port,
    syntaxes,
    security=None,
    authLevel=AuthLevel.PRIVACY,
    assocGroupId=0,
    timeout=30,
    maxFragment=DEFAULT_MAX_FRAGMENT,
):
    """
    Connect, bind and (with C{security}) authenticate.

    @param syntaxes: abstract syntaxes (context ids 0, 1, ...).
    @param security: an initiator security context (see
        L{mapiproxy.auth.security.makeInitiator}) or L{None}.
    @return: a L{Deferred} firing with the bound L{RPCClientProtocol}, or
        failing with L{UpstreamError} (unreachable, refused, timed out).
    """
    association = ClientAssociation(
        syntaxes,
        security=security,
        authLevel=authLevel,
        maxFragment=maxFragment,
        assocGroupId=assocGroupId,
    )
    proto = RPCClientProtocol(association)
    endpoint = HostnameEndpoint(reactor, host, port, timeout=timeout)
    connecting = endpoint.connect(_OneShotFactory(proto))

    def connectFailed(failure):
        raise UpstreamError("cannot connect to %s[%s]: %s" % (host, port, failure.getErrorMessage()))

    connecting.addErrback(connectFailed)
    connecting.addCallback(lambda _: proto.bound)
    timer = reactor.callLater(timeout, _timeOut, proto, connecting, host, port, timeout)

    def done(result):
        if timer.active():
            timer.cancel()
        return result

    connecting.addBoth(done)
    return connecting


class _OneShotFactory(ClientFactory):
    """
    Hands out one protocol, quietly (no "Starting factory" log lines).
    """

    noisy = False

    def __init__(self, proto):
        self._proto = proto

    def buildProtocol(self, addr):
        return self._proto


def _timeOut(proto, connecting, host, port, timeout):
    if not connecting.called:
        proto._failAll(UpstreamError("bind to %s[%s] timed out after %ss" % (host, port, timeout)))
        if proto.transport is not None:
            proto.transport.abortConnection()
        else:
            connecting.cancel()


__all__ = ["BindError", "RPCClientProtocol", "connectRPC", "AuthType"]
