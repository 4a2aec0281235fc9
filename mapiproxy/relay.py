# -*- test-case-name: tests.test_relay -*-
"""
The relay (proxy mode): each client association gets one authenticated,
sealed upstream association, opened at the client's first authenticated
call; contexts the client adds are added upstream; stubs are forwarded
byte for byte; upstream faults come back as they are.
"""

from dataclasses import dataclass, field
from typing import Optional

from twisted.internet.defer import CancelledError, DeferredLock, TimeoutError, fail, maybeDeferred, succeed
from twisted.logger import Logger
from zope.interface import implementer

from mapiproxy.dcerpc.client import connectRPC
from mapiproxy.dcerpc.constants import DEFAULT_MAX_FRAGMENT, MIN_FRAGMENT_SIZE, PFC, AuthLevel, AuthType
from mapiproxy.endpoints import EPMAPPER_PORT, resolvePort
from mapiproxy.calls import RelayedCall
from mapiproxy.dcerpc.constants import Status
from mapiproxy.errors import DCERPCFault, ModuleError, ProtocolError, UpstreamError
from mapiproxy.imapiproxy import IRequestForwarder, IResponseForwarder, IRPCInterface

_log = Logger()

_FIRST = int(PFC.FIRST_FRAG)
_LAST = int(PFC.LAST_FRAG)

#: Seconds added to the longest hold of a held call (network and server
#: slack) before the relay gives up on it.
HELD_CALL_GRACE = 30


@dataclass
class UpstreamSettings:
    """
    Where and how to reach the upstream server.

    @ivar port: the upstream port, or L{None} to ask its endpoint mapper.
    @ivar groups: C{{our assoc_group_id: upstream assoc_group_id}}, shared by
        every client association, so that a client's associations in one
        group land in one group upstream (EMSMDB and AsyncEMSMDB).
    """

    host: str
    port: Optional[int] = None
    credentials: object = None
    authType: int = AuthType.NTLM
    authLevel: int = AuthLevel.PRIVACY
    connectTimeout: float = 10
    callTimeout: float = 60
    epmapperPort: int = EPMAPPER_PORT
    maxFragment: int = DEFAULT_MAX_FRAGMENT
    makeInitiator: object = None
    groups: dict = field(default_factory=dict)

    def describe(self):
        """
        The upstream as a binding string, for log lines.
        """
        if self.port is None:
            return "ncacn_ip_tcp:%s" % (self.host,)
        return "ncacn_ip_tcp:%s[%d]" % (self.host, self.port)


@implementer(IRPCInterface)
class RelayInterface:
    """
    One interface relayed to the upstream server.

    Each call becomes a L{RelayedCall}: the C{hooks} (rewrites, later the
    module stack) may look at and change its decoded request and response;
    the C{observers} (print mode, capture, call log) see it when it is over.

    When nothing looks at the calls (no module, hook or observer), a
    context switches to cut-through once its upstream context exists:
    each request fragment is unsealed, resealed for the upstream and sent
    at once, and each response fragment the same way back, with no
    reassembly and no per-call Deferred (L{UpstreamLink.startForwarding}).

    @param info: the L{mapiproxy.interfaces.registry.InterfaceInfo}.
    @param upstream: the L{UpstreamSettings}.
    @param codec: the interface's stub codec, or L{None}.
    @param hooks: objects with C{request(rc)} and C{response(rc)}.
    @param observers: objects with C{callCompleted(rc)}.
    """

    requireAuthentication = True

    def __init__(self, info, upstream, reactor, codec=None, hooks=(), observers=(), modules=()):
        self.info = info
        self.modules = [m for m in modules if m.endpoint in ("any", info.name)]
        self.name = info.name
        self.syntax = info.syntaxId
        self.upstream = upstream
        self.codec = codec
        self.hooks = list(hooks)
        self.observers = list(observers)
        self._reactor = reactor
        self.cutThrough = not (self.modules or self.hooks or self.observers)

    def callTimeout(self, opnum):
        """
        How long to wait for the upstream's answer to a call: the
        configured C{upstream_timeout}, or for an operation the server may
        hold (EcDoAsyncWaitEx: up to 5 minutes) that long plus
        L{HELD_CALL_GRACE} seconds, whichever is longer.

        @rtype: L{float}
        """
        held = self.info.longestHold(opnum)
        timeout = self.upstream.callTimeout
        return max(timeout, held + HELD_CALL_GRACE) if held else timeout

    def contextBound(self, session):
        # Nothing goes upstream before the client has authenticated: the
        # upstream association is opened by the first call.
        return None

    def contextReleased(self, session):
        link = session.association.state.get("upstream")
        if link is not None:
            link.releaseContext(session.contextId)
        for module in self.modules:
            try:
                module.unbind(session)
            except Exception:
                _log.failure("module '{module}' unbind failed", module=module.name)
        for observer in self.observers:
            released = getattr(observer, "sessionReleased", None)
            if released is not None:
                released(session)

    def handleCall(self, call):
        association = call.session.association
        link = association.state.get("upstream")
        if link is None:
            link = association.state["upstream"] = UpstreamLink(self.upstream, self._reactor, association)
        rc = RelayedCall(call, self.name, self.codec, self._reactor.seconds)
        if not self.modules and not self.hooks:
            # Nothing looks at the call: relay the bytes, fewer Deferreds.
            d = link.call(call, rc.requestStub)
            d.addCallbacks(self._answeredPlain, self._failed, callbackArgs=(rc,), errbackArgs=(rc,))
            return d
        rc.relayAgain = lambda stub=None: link.call(call, rc.outgoingRequest() if stub is None else stub)
        d = self._runModules("rawRequest", rc)
        d.addCallback(lambda _: self._runModules("request", rc))
        d.addCallback(self._runHooks, "request", rc)
        d.addCallback(lambda _: self._dispatch(rc))
        d.addCallback(self._relayUnlessAnswered, rc, link)
        d.addCallback(self._gotResponse, rc)
        d.addCallbacks(self._answered, self._failed, callbackArgs=(rc,), errbackArgs=(rc,))
        return d

    def _runModules(self, hook, rc):
        """
        Run one hook of every module, in config order, as a Deferred chain.
        """
        d = succeed(None)
        for module in self.modules:
            d.addCallback(_callModule, module, hook, rc)
        return d

    def _runHooks(self, ignored, name, rc):
        for hook in self.hooks:
            _runHook(hook, name, rc)

    def _dispatch(self, rc):
        """
        The modules' dispatch hooks; the first L{LocalReply} answers the call
        (the remaining dispatch hooks see it in C{rc.localReply}).
        """
        d = succeed(None)
        for module in self.modules:
            d.addCallback(self._dispatchOne, module, rc)
        return d

    def _dispatchOne(self, reply, module, rc):
        if reply is not None:
            rc.localReply = reply
        d = _callModule(None, module, "dispatch", rc)
        d.addCallback(lambda mine: reply if reply is not None else mine)
        return d

    def _relayUnlessAnswered(self, reply, rc, link):
        if reply is None:
            return link.call(rc.call, rc.outgoingRequest())
        from mapiproxy.modules import LocalReply

        if not isinstance(reply, LocalReply):
            raise ModuleError("dispatch returned %r, not a LocalReply or None" % (reply,))
        rc.answeredLocally = True
        if reply.response is not None:
            rc.answer(reply.response)
            return None
        return reply.stub

    def _gotResponse(self, stub, rc):
        if stub is not None:
            rc.responseStub = stub
        self._runHooks(None, "response", rc)
        return self._runModules("response", rc)

    def _answeredPlain(self, stub, rc):
        if self.cutThrough:
            rc.call.session.association.state["upstream"].startForwarding(rc.call.session)
        rc.responseStub = stub
        rc.finish()
        if self.observers:
            self._notify(rc)
        return stub

    def _answered(self, ignored, rc):
        rc.finish()
        self._notify(rc)
        return rc.outgoingResponse()

    def _failed(self, failure, rc):
        if failure.check(DCERPCFault):
            rc.faultStatus = failure.value.status
        else:
            rc.error = failure.getErrorMessage()
        rc.finish()
        self._notify(rc)
        return failure

    def _notify(self, rc):
        for observer in self.observers:
            try:
                observer.callCompleted(rc)
            except Exception:
                _log.failure("observer {observer!r} failed", observer=observer)


def _callModule(ignored, module, hook, rc):
    """
    Call one module hook; a failure becomes a fault for this call only,
    logged once.
    """
    d = maybeDeferred(getattr(module, hook), rc)

    def failed(failure):
        if failure.check(DCERPCFault):
            return failure
        _log.failure(
            "module '{module}' {hook} failed on {interface} {operation}",
            failure,
            module=module.name,
            hook=hook,
            interface=rc.interfaceName,
            operation=rc.opnumName,
        )
        raise DCERPCFault(Status.NCA_S_FAULT_UNSPEC, "module %s failed" % (module.name,))

    return d.addErrback(failed)


def _runHook(hook, name, rc):
    method = getattr(hook, name, None)
    if method is None:
        return
    try:
        method(rc)
    except Exception:
        # A rewrite that cannot handle a call leaves it as it was.
        _log.failure(
            "{hook!r} failed on {interface} {operation}: the call is relayed unchanged",
            hook=hook,
            interface=rc.interfaceName,
            operation=rc.opnumName,
        )


@dataclass(slots=True)
class _ForwardedCall:
    """
    A call forwarded fragment by fragment, waiting for its answer.
    """

    callId: int
    contextId: int
    deadline: float
    timeout: float
    interfaceName: str


@implementer(IRequestForwarder, IResponseForwarder)
class UpstreamLink:
    """
    The upstream association of one client association.

    Calls go either whole (L{call}: reassembled, then fragmented again)
    or, once L{startForwarding} switched their context over, fragment by
    fragment (L{forwardRequest}, and L{responseFragment} back).
    """

    def __init__(self, settings, reactor, association):
        self._settings = settings
        self._reactor = reactor
        self._association = association
        self._proto = None
        self._contexts = {}
        self._lock = DeferredLock()
        self.dead = None
        self._forwarding = set()
        #: client call id -> upstream call id, while its request is being sent
        self._requests = {}
        #: upstream call id -> L{_ForwardedCall}, until answered
        self._answers = {}
        self._watchdog = None
        self._watchdogAt = 0
        self._answering = False

    # -- cut-through ----------------------------------------------------------

    def startForwarding(self, session):
        """
        Switch a client context to cut-through, when its upstream context
        exists, both legs sign with verifiers of one size, and fragments fit
        both ways unchanged.
        """
        contextId = session.contextId
        proto = self._proto
        if contextId in self._forwarding or proto is None or self.dead is not None:
            return
        if contextId not in self._contexts:
            return
        upstream = proto.association
        client = self._association
        if not upstream.signatureSize or client.state.get("connection") is None:
            return
        if client.maxRecvFrag > upstream.maxXmitFrag or upstream.maxRecvFrag > client.maxXmitFrag:
            return
        self._forwarding.add(contextId)
        upstream.forwarder = self
        client.forwardContext(contextId, upstream.signatureSize, self)
        _log.debug(
            "mapiproxy: {peer} context {contextId} ({interface}): cut-through to upstream context {upstreamContext}",
            peer=_peer(client),
            contextId=contextId,
            interface=session.interface.name,
            upstreamContext=self._contexts[contextId],
        )

    def forwardRequest(self, session, callId, opnum, buf, dataStart, dataEnd, pfcFlags):
        """
        Queue one request fragment of a cut-through context upstream
        (L{fragmentsDone} sends).
        """
        contextId = session.contextId
        try:
            proto = self._proto
            if self.dead is not None or proto is None:
                raise UpstreamError(self.dead or "upstream association closed")
            if pfcFlags & _FIRST:
                upstreamId = proto.association.newCallId()
                interface = session.interface
                timeout = interface.callTimeout(opnum)
                deadline = self._reactor.seconds() + timeout
                self._answers[upstreamId] = _ForwardedCall(callId, contextId, deadline, timeout, interface.name)
                if self._watchdog is None or deadline < self._watchdogAt:
                    self._watch(deadline)
            else:
                upstreamId = self._requests[callId]
            if pfcFlags & _LAST:
                self._requests.pop(callId, None)
            else:
                self._requests[callId] = upstreamId
            proto.forward(upstreamId, self._contexts[contextId], buf, dataStart, dataEnd, pfcFlags)
        except (UpstreamError, ProtocolError) as e:
            self._kill(str(e))
        except Exception as e:
            # Whatever went wrong, the client gets faults and a close, not
            # a dropped connection.
            _log.failure("mapiproxy: cannot forward call {callId} upstream", callId=callId)
            self._kill("cannot forward a fragment: %s" % (e,))

    def fragmentsDone(self):
        """
        Send the request fragments queued upstream.
        """
        if self._proto is not None:
            self._proto.flush()

    def forwardOrphaned(self, session, callId):
        """
        The client orphaned a forwarded call: a request still being sent is
        orphaned upstream too; a whole one is answered and the answer
        dropped.
        """
        upstreamId = self._requests.pop(callId, None)
        if upstreamId is None:
            return
        self._answers.pop(upstreamId, None)
        if self._proto is not None:
            self._proto.association.forgetForwarded(upstreamId)
            self._proto.flush()

    def responseFragment(self, callId, buf, dataStart, dataEnd, pfcFlags):
        """
        One verified response fragment of a forwarded call, from upstream:
        reseal it for the client (queued; L{responsesDone} sends).
        """
        answers = self._answers
        if pfcFlags & _LAST:
            forwarded = answers.pop(callId, None)
        else:
            forwarded = answers.get(callId)
        if forwarded is None:
            return
        self._association.forwardResponse(forwarded.callId, buf, dataStart, dataEnd, pfcFlags)
        self._answering = True

    def forwardedFault(self, callId, status):
        """
        The upstream answered a forwarded call with a fault: pass it on.
        """
        forwarded = self._answers.pop(callId, None)
        if forwarded is None:
            return
        self._association.faultCall(forwarded.callId, forwarded.contextId, status)
        self._answering = True

    def responsesDone(self):
        """
        Send the answers queued for the client since the last read from
        upstream.
        """
        if self._answering:
            self._answering = False
            self._association.state["connection"].flush()

    def _watch(self, deadline):
        """
        (Re)arm the one timer of the forwarded calls for C{deadline}.
        """
        if self._watchdog is not None and self._watchdog.active():
            self._watchdog.cancel()
        self._watchdogAt = deadline
        self._watchdog = self._reactor.callLater(max(0, deadline - self._reactor.seconds()), self._checkOverdue)

    def _checkOverdue(self):
        """
        The call timeout of forwarded calls: one timer, for the earliest
        deadline.
        """
        self._watchdog = None
        if not self._answers or self.dead is not None:
            return
        first = min(self._answers.values(), key=lambda forwarded: forwarded.deadline)
        if first.deadline > self._reactor.seconds():
            self._watch(first.deadline)
            return
        self._kill("upstream call timed out after %ss" % (_seconds(first.timeout),))

    def _failForwarded(self, reason):
        """
        The upstream is gone: every forwarded call gets a fault and its
        client connection is closed, as for whole calls.
        """
        answers = self._forgetForwarded()
        if not answers:
            return
        client = self._association
        for forwarded in answers.values():
            _log.warn(
                "{name} call {callId}: upstream failure: {reason}",
                name=forwarded.interfaceName,
                callId=forwarded.callId,
                reason=reason,
            )
            client.faultCall(forwarded.callId, forwarded.contextId, Status.NCA_S_COMM_FAILURE)
        client.close("upstream failure")
        connection = client.state.get("connection")
        if connection is not None:
            connection.flush()

    def _forgetForwarded(self):
        """
        Drop every forwarded call and stop the timer.

        @return: the calls that were waiting for an answer.
        """
        answers, self._answers = self._answers, {}
        self._requests.clear()
        if self._watchdog is not None:
            if self._watchdog.active():
                self._watchdog.cancel()
            self._watchdog = None
        return answers

    # -- whole calls ---------------------------------------------------------

    def call(self, call, stub):
        """
        Relay one call with the given request stub.

        @return: a L{Deferred} firing with the upstream's response stub, or
            failing with the upstream's L{mapiproxy.errors.DCERPCFault} or an
            L{UpstreamError}.
        """
        if self.dead is not None:
            raise UpstreamError(self.dead)
        contextId = self._contexts.get(call.contextId)
        if contextId is not None and self._proto is not None:
            # The context is mapped: send now, without a Deferred layer.
            try:
                return self._send(contextId, call, stub)
            except Exception:
                return fail()
        d = self._lock.run(self._ensureContext, call.session)
        d.addCallback(self._send, call, stub)
        return d

    def _send(self, upstreamContext, call, stub):
        timeout = call.session.interface.callTimeout(call.opnum)
        d = self._proto.call(call.opnum, stub, upstreamContext, call.object)
        d.addTimeout(timeout, self._reactor)
        d.addErrback(self._callFailed, call, timeout)
        return d

    def _callFailed(self, failure, call, timeout):
        if failure.check(TimeoutError, CancelledError):
            self._kill("upstream call timed out after %ss" % (_seconds(timeout),))
            raise UpstreamError(self.dead)
        if failure.check(UpstreamError):
            self._kill(failure.getErrorMessage())
        return failure

    def _kill(self, reason):
        if self.dead is None:
            self.dead = reason
            _log.warn(
                "mapiproxy: upstream {upstream} for {peer} lost: {reason}",
                upstream=self._settings.describe(),
                peer=_peer(self._association),
                reason=reason,
            )
        self._failForwarded(self.dead)
        if self._proto is not None:
            self._proto.transport.abortConnection()

    def _ensureContext(self, session):
        contextId = self._contexts.get(session.contextId)
        if contextId is not None:
            return contextId
        if self.dead is not None:
            raise UpstreamError(self.dead)
        if self._proto is None:
            d = self._connect(session.interface.syntax)
            d.addCallback(self._mapFirst, session.contextId)
            return d
        d = self._proto.alterContext(session.interface.syntax)
        d.addCallback(self._map, session.contextId)
        return d

    def _mapFirst(self, proto, clientContext):
        self._proto = proto
        return self._map(0, clientContext)

    def _map(self, upstreamContext, clientContext):
        self._contexts[clientContext] = upstreamContext
        return upstreamContext

    def _connect(self, syntax):
        settings = self._settings
        port = settings.port
        d = succeed(port) if port is not None else resolvePort(
            self._reactor, settings.host, syntax, settings.epmapperPort, settings.connectTimeout
        )
        d.addCallback(self._bind, syntax)
        d.addErrback(self._connectFailed)
        return d

    def _bind(self, port, syntax):
        settings = self._settings
        makeInitiator = settings.makeInitiator
        if makeInitiator is None:
            from mapiproxy.auth.security import makeInitiator
        security = None
        if settings.credentials is not None and settings.authLevel > AuthLevel.NONE:
            security = makeInitiator(settings.authType, settings.credentials)
        localGroup = self._association.assocGroupId
        upstreamGroup = settings.groups.get(localGroup, 0)
        _log.info(
            "mapiproxy: {peer} ({user}) -> upstream ncacn_ip_tcp:{host}[{port}] as {account}",
            peer=_peer(self._association),
            user=_user(self._association),
            host=settings.host,
            port=port,
            account=_account(settings.credentials),
        )
        d = connectRPC(
            self._reactor,
            settings.host,
            port,
            [syntax],
            security=security,
            authLevel=settings.authLevel,
            assocGroupId=upstreamGroup,
            timeout=settings.connectTimeout,
            # No larger than the client takes, so that response fragments
            # can be passed on as they come (cut-through).
            maxFragment=max(MIN_FRAGMENT_SIZE, min(settings.maxFragment, self._association.maxXmitFrag)),
        )

        def bound(proto):
            if localGroup:
                settings.groups[localGroup] = proto.assocGroupId
            proto.onLost = self._lost
            return proto

        return d.addCallback(bound)

    def _connectFailed(self, failure):
        failure.trap(UpstreamError)
        self._kill("cannot reach upstream: %s" % (failure.getErrorMessage(),))
        raise UpstreamError(self.dead)

    def _lost(self, reason):
        self._kill(reason)

    def releaseContext(self, clientContext):
        """
        The client's context is gone; when none is left, close upstream.
        """
        self._contexts.pop(clientContext, None)
        self._forwarding.discard(clientContext)
        if not self._contexts and self._proto is not None:
            self._proto.onLost = None
            self._proto.association.forwarder = None
            self._forgetForwarded()
            self._proto.disconnect()
            self._proto = None


def _seconds(value):
    """
    A number of seconds for a log line: C{60}, C{330}, C{0.5}.
    """
    return "%d" % (value,) if value == int(value) else "%g" % (value,)


def _peer(association):
    peer = association.peer
    host = getattr(peer, "host", None)
    return "%s:%s" % (host, getattr(peer, "port", "?")) if host else str(peer)


def _user(association):
    info = association.authInfo
    return "%s\\%s" % (info.domain, info.username) if info else "anonymous"


def _account(credentials):
    if credentials is None:
        return "anonymous"
    return "%s\\%s" % (credentials.domain, credentials.username)
