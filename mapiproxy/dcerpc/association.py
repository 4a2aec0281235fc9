# -*- test-case-name: tests.dcerpc.test_association -*-
"""
The server side of a connection-oriented association, sans I/O
(C706 12.5-12.6, [MS-RPCE] 3.3.1.5): bind and alter_context negotiation,
the three- and four-leg authentication handshakes, request reassembly and
verification, response fragmentation and faults.

Feed it bytes with L{ServerAssociation.receiveData}; it returns events
(L{CallReceived}, L{ContextsBound}) and queues bytes to send, which
L{ServerAssociation.dataToSend} hands over. It never touches a socket.
"""

import itertools
import os
import struct
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Optional

from twisted.logger import Logger

from mapiproxy.dcerpc import pdu as _pdu
from mapiproxy.dcerpc.constants import (
    DEFAULT_MAX_FRAGMENT,
    MIN_FRAGMENT_SIZE,
    PFC,
    AuthLevel,
    AuthType,
    BindNakReason,
    BindTimeFeature,
    ContextResult,
    ProviderReason,
    Status,
    statusName,
)
from mapiproxy.dcerpc.framing import Framer, Reassembler
from mapiproxy.dcerpc.secure import REQUEST_HEADER, SEC_TRAILER, AuthState, protectedFragments
from mapiproxy.errors import (
    AuthenticationError,
    FragmentTooLarge,
    MalformedPDU,
    ProtocolError,
    UnsupportedAuthType,
)

_log = Logger()

# Plain ints on the per-fragment path (IntFlag arithmetic is slow).
_FIRST = int(PFC.FIRST_FRAG)
_LAST = int(PFC.LAST_FRAG)
_OBJECT = int(PFC.OBJECT_UUID)

#: Bind time features we grant when asked.
SUPPORTED_FEATURES = (
    BindTimeFeature.SECURITY_CONTEXT_MULTIPLEXING | BindTimeFeature.KEEP_CONNECTION_ON_ORPHAN
)


@dataclass
class ServerSettings:
    """
    Limits and policy of the server side.

    @ivar maxFragment: the largest fragment we send or accept.
    @ivar maxStub: the largest reassembled request stub.
    @ivar maxCalls: requests that may be in reassembly at once.
    """

    maxFragment: int = DEFAULT_MAX_FRAGMENT
    maxStub: int = 16 * 1024 * 1024
    maxCalls: int = 64


class AssociationGroups:
    """
    The association groups of one server ([MS-RPCE] 3.3.1.1.2): a client
    asking for group 0 gets a new one; a client naming a group joins it.

    @ivar checking: refuse unknown group ids (Samba's
        C{dcesrv:assoc group checking}); when false an unknown id is created.
    """

    def __init__(self, checking=True, randomBytes=os.urandom):
        self.checking = checking
        self._members = {}
        base = struct.unpack("<I", randomBytes(4))[0] & 0x00FFFFF0
        self._ids = itertools.count(base + 0x10000)

    def join(self, requested):
        """
        Join (or create) a group.

        @param requested: the client's assoc_group_id (0 for a new group).
        @return: the group id to acknowledge, or L{None} to refuse.
        """
        if requested == 0:
            groupId = next(self._ids) & 0xFFFFFFFF or next(self._ids)
        elif requested in self._members or not self.checking:
            groupId = requested
        else:
            return None
        self._members[groupId] = self._members.get(groupId, 0) + 1
        return groupId

    def leave(self, groupId):
        """
        One association of the group is gone.
        """
        count = self._members.get(groupId, 0) - 1
        if count <= 0:
            self._members.pop(groupId, None)
        else:
            self._members[groupId] = count

    def __contains__(self, groupId):
        return groupId in self._members


@dataclass
class ContextSession:
    """
    A presentation context one client bound: the unit of per-client state
    (OpenChange keys its sessions by connection and context id).

    @ivar state: free-form per-session state for the interface and modules.
    """

    contextId: int
    interface: Any
    association: "ServerAssociation"
    transferSyntax: Any
    state: dict = field(default_factory=dict)

    @property
    def peer(self):
        """
        The client's address.
        """
        return self.association.peer

    @property
    def authInfo(self):
        """
        The association's authenticated identity, or L{None}.
        """
        return self.association.authInfo


@dataclass(frozen=True)
class AuthInfo:
    """
    Who is on the other end of an authenticated association.
    """

    authType: int
    authLevel: int
    username: str
    domain: str


@dataclass
class Call:
    """
    One complete, verified and unsealed request.
    """

    callId: int
    contextId: int
    opnum: int
    stub: bytes
    session: ContextSession
    object: Optional[Any] = None
    auth: Optional[AuthInfo] = None

    @property
    def interface(self):
        """
        The interface the call is for.
        """
        return self.session.interface


@dataclass
class CallReceived:
    """
    Event: a request is ready for its interface.
    """

    call: Call


@dataclass
class ContextsBound:
    """
    Event: a bind or alter_context created these sessions; the caller runs
    each interface's C{contextBound} and then calls
    L{ServerAssociation.completeBind}.
    """

    sessions: list


@dataclass
class _PendingBind:
    reply: Any
    sessions: list
    isBind: bool


@dataclass
class _CallInProgress:
    session: Optional[ContextSession]
    opnum: int
    object: Any
    authState: Optional[AuthState]
    rejected: int = 0
    forwarder: Any = None


class ServerAssociation:
    """
    One client connection's association.

    @param lookupInterface: C{(SyntaxId) -> IRPCInterface or None}.
    @param makeAcceptor: C{(authType) -> ISecurityContext}; raises
        L{UnsupportedAuthType}.
    @param groups: the server's L{AssociationGroups}.
    @param settings: L{ServerSettings}.
    @param peer: the client address (for logs).
    @param localPort: our port, sent as the bind_ack secondary address.
    @param localHost: the address the client connected to.
    @ivar state: free-form per-association state (the relay keeps its
        upstream association here; the Twisted protocol puts itself under
        C{"connection"}, for answers sent outside a call's Deferred).
    @ivar requestedAssocGroupId: the assoc_group_id the client's bind asked for.
    """

    def __init__(self, lookupInterface, makeAcceptor, groups, settings=None, peer=None, localPort=0, localHost=None):
        self.settings = settings or ServerSettings()
        self.peer = peer
        self.localPort = localPort
        self.localHost = localHost
        self.state = {}
        self.requestedAssocGroupId = 0
        self._lookupInterface = lookupInterface
        self._makeAcceptor = makeAcceptor
        self._groups = groups
        self._framer = Framer(self.settings.maxFragment)
        self._reassembler = Reassembler(self.settings.maxStub, self.settings.maxCalls)
        self._inbox = deque()
        self._out = []
        self._contexts = {}
        self._auth = {}
        self._calls = {}
        self._orphaned = set()
        self._pending = None
        self.bound = False
        self.assocGroupId = 0
        self.maxXmitFrag = MIN_FRAGMENT_SIZE
        self.maxRecvFrag = self.settings.maxFragment
        self.closing = None
        self.features = 0
        self._forwarding = {}
        self._forwardedTo = None
        #: forwarded calls whose last request fragment has not come yet
        self._partialForwarded = set()

    # -- public API ---------------------------------------------------------

    @property
    def authInfo(self):
        """
        The first completed security context's identity, or L{None}.
        """
        for state in self._auth.values():
            if state.complete:
                return AuthInfo(state.authType, state.requestedLevel, state.context.username, state.context.domain)
        return None

    @property
    def sessions(self):
        """
        The bound presentation contexts.
        """
        return list(self._contexts.values())

    def receiveData(self, data):
        """
        Process bytes from the client.

        @return: a list of events.
        """
        if self.closing is not None:
            return []
        try:
            self._inbox.extend(self._framer.feed(data))
        except FragmentTooLarge as e:
            return self._abort("fragment too large: %s" % (e,), Status.NCA_S_PROTO_ERROR)
        except MalformedPDU as e:
            return self._abort("malformed PDU: %s" % (e,), Status.NCA_S_PROTO_ERROR, nak=BindNakReason.PROTOCOL_VERSION_NOT_SUPPORTED)
        return self._drain()

    def dataToSend(self):
        """
        Bytes queued for the client since the last call.
        """
        out, self._out = self._out, []
        return b"".join(out)

    def completeBind(self, failure=None, assocGroupId=None):
        """
        Finish a bind or alter_context after L{ContextsBound}.

        @param failure: a reason string when an interface refused its
            context (the bind is refused with a bind_nak, an alter_context
            with a fault).
        @param assocGroupId: replaces the acknowledged association group
            (the proxy hands out its upstream's group).
        @return: further events (requests queued meanwhile).
        """
        pending, self._pending = self._pending, None
        if pending is None or self.closing is not None:
            return []
        if failure is not None:
            for session in pending.sessions:
                self._contexts.pop(session.contextId, None)
            if pending.isBind:
                self._bindNak(pending.reply.callId, BindNakReason.REASON_NOT_SPECIFIED)
                self._close("bind refused: %s" % (failure,))
            else:
                self._fault(pending.reply.callId, 0, Status.NCA_S_PROTO_ERROR)
            return []
        if assocGroupId is not None and pending.isBind:
            self._groups.leave(self.assocGroupId)
            self.assocGroupId = self._groups.join(assocGroupId) or assocGroupId
            pending.reply.assocGroupId = self.assocGroupId
        self._send(pending.reply)
        return self._drain()

    def respond(self, call, stub):
        """
        Send the response to a call, fragmented to the client's limit and
        protected as the call's security context says.
        """
        if self._dropCallId(call.callId):
            return
        state = self._callAuthState(call)
        self._out.extend(
            protectedFragments(
                _pdu.Response, stub, self.maxXmitFrag, state, callId=call.callId, contextId=call.contextId, cancelCount=0
            )
        )

    def fault(self, call, status):
        """
        Answer a call with a fault PDU.
        """
        self.faultCall(call.callId, call.contextId, status)

    def faultCall(self, callId, contextId, status):
        """
        Answer the call C{callId} (of context C{contextId}) with a fault PDU.
        """
        self._calls.pop(callId, None)
        if self._dropCallId(callId):
            return
        self._fault(callId, contextId, status, didNotExecute=False)

    def forwardContext(self, contextId, authLength, forwarder):
        """
        From now on, hand the request fragments of calls on C{contextId}
        to C{forwarder} one by one, verified and unsealed in place, instead
        of reassembling them into a L{CallReceived}; their answers come
        back through L{forwardResponse} (or L{faultCall}).

        Only fragments whose verifier is C{authLength} bytes long (the
        size the forwarder's own security context produces) are forwarded;
        any other request takes the usual path.

        @type forwarder: L{mapiproxy.imapiproxy.IRequestForwarder}
        """
        self._forwarding[contextId] = (authLength, forwarder)

    def forwardResponse(self, callId, buf, dataStart, dataEnd, pfcFlags):
        """
        Send one response fragment of a forwarded call: C{buf} holds a whole
        response fragment from elsewhere (another association) whose stub
        region C{buf[dataStart:dataEnd]} is plaintext, with a verifier of
        the length given to L{forwardContext}. Its call id, context id and
        sec_trailer are made ours, and it is signed or sealed in place with
        the call's security context.

        The fragment must fit L{maxXmitFrag}; the forwarder arranges that.
        """
        progress = self._calls.get(callId)
        if pfcFlags & _LAST:
            self._calls.pop(callId, None)
            self._orphaned.discard(callId)
        if progress is None or self.closing is not None:
            return
        progress.authState.reseal(buf, callId, progress.session.contextId, dataStart, dataEnd)
        self._out.append(buf)

    def close(self, reason):
        """
        Close the connection once what is queued has been sent; later
        answers are dropped.
        """
        self._close(reason)

    def connectionLost(self):
        """
        The transport is gone: release the group and forget the contexts.

        @return: the sessions that were bound (for C{contextReleased}).
        """
        sessions = list(self._contexts.values())
        self._contexts.clear()
        if self.assocGroupId:
            self._groups.leave(self.assocGroupId)
            self.assocGroupId = 0
        self.closing = self.closing or "connection lost"
        return sessions

    # -- internals ------------------------------------------------------------

    def _drain(self):
        events = []
        forwarding = self._forwarding
        while self._inbox and self._pending is None and self.closing is None:
            fragment = self._inbox.popleft()
            if forwarding and fragment[2] == 0 and self._forward(fragment):
                continue
            try:
                message = _pdu.decode(fragment)
            except MalformedPDU as e:
                events.extend(self._abort("malformed PDU: %s" % (e,), Status.NCA_S_PROTO_ERROR))
                break
            handler = getattr(self, "pdu_" + _ptypeName(message.PTYPE), None)
            if handler is None:
                events.extend(self._abort("unexpected %s PDU" % (_ptypeName(message.PTYPE),), Status.NCA_S_PROTO_ERROR, callId=message.callId))
                break
            try:
                handler(message, fragment, events)
            except ProtocolError as e:
                events.extend(self._abort(str(e), Status.NCA_S_PROTO_ERROR, callId=message.callId))
        forwarder = self._forwardedTo
        if forwarder is not None:
            self._forwardedTo = None
            forwarder.fragmentsDone()
        return events

    def _send(self, message):
        self._out.append(_pdu.encode(message))

    def _close(self, reason):
        if self.closing is None:
            self.closing = reason
            _log.info(
                "dcesrv: closing connection from {peer}: {reason}",
                peer=_peerText(self.peer),
                reason=reason,
            )

    def _abort(self, reason, status, callId=0, nak=None):
        if not self.bound and nak is not None:
            self._bindNak(callId, nak)
        elif self.bound:
            self._fault(callId, 0, status)
        self._close(reason)
        return []

    def _bindNak(self, callId, reason):
        self._send(_pdu.BindNak(callId=callId, rejectReason=reason))

    def _fault(self, callId, contextId, status, didNotExecute=True):
        flags = PFC.FIRST_FRAG | PFC.LAST_FRAG
        if didNotExecute:
            flags |= PFC.DID_NOT_EXECUTE
        self._send(
            _pdu.Fault(
                callId=callId,
                pfcFlags=flags,
                allocHint=32,
                contextId=contextId,
                cancelCount=0,
                status=status,
            )
        )

    def _dropCallId(self, callId):
        if self.closing is not None:
            return True
        if callId in self._orphaned:
            self._orphaned.discard(callId)
            return True
        return False

    def _callAuthState(self, call):
        auth = self._calls.pop(call.callId, None)
        if auth is not None:
            return auth.authState
        return self._defaultAuthState()

    def _defaultAuthState(self):
        for state in self._auth.values():
            if state.complete:
                return state
        return None

    # Presentation context negotiation ------------------------------------------

    def _negotiate(self, contexts, sessions):
        results = []
        for context in contexts:
            results.append(self._negotiateOne(context, sessions))
        return results

    def _negotiateOne(self, context, sessions):
        features = context.abstractSyntax.bindTimeFeatures
        if features is None:
            for syntax in context.transferSyntaxes:
                features = syntax.bindTimeFeatures
                if features is not None:
                    break
        if features is not None:
            self.features = features & SUPPORTED_FEATURES
            return _pdu.ContextResult(ContextResult.NEGOTIATE_ACK, self.features, _pdu.NULL_SYNTAX)
        existing = self._contexts.get(context.contextId)
        if existing is not None:
            if existing.interface.syntax == context.abstractSyntax and any(s.isNDR for s in context.transferSyntaxes):
                return _pdu.ContextResult(ContextResult.ACCEPTANCE, 0, _pdu.NDR_SYNTAX)
            return _pdu.ContextResult(
                ContextResult.PROVIDER_REJECTION, ProviderReason.REASON_NOT_SPECIFIED, _pdu.NULL_SYNTAX
            )
        interface = self._lookupInterface(context.abstractSyntax)
        if interface is None:
            _log.info(
                "dcesrv_bind: interface {uuid} v{major}.{minor} not registered (client {peer})",
                uuid=str(context.abstractSyntax.uuid),
                major=context.abstractSyntax.version,
                minor=context.abstractSyntax.versionMinor,
                peer=_peerText(self.peer),
            )
            return _pdu.ContextResult(
                ContextResult.PROVIDER_REJECTION, ProviderReason.ABSTRACT_SYNTAX_NOT_SUPPORTED, _pdu.NULL_SYNTAX
            )
        for syntax in context.transferSyntaxes:
            if syntax.isNDR:
                session = ContextSession(context.contextId, interface, self, syntax)
                self._contexts[context.contextId] = session
                sessions.append(session)
                return _pdu.ContextResult(ContextResult.ACCEPTANCE, 0, syntax)
        return _pdu.ContextResult(
            ContextResult.PROVIDER_REJECTION,
            ProviderReason.PROPOSED_TRANSFER_SYNTAXES_NOT_SUPPORTED,
            _pdu.NULL_SYNTAX,
        )

    def _startAuth(self, auth):
        """
        Create a security context for the first leg of a handshake.

        @return: the token for the acknowledgement.
        @raise AuthenticationError: unknown type, bad level or bad token.
        """
        if auth.authLevel < AuthLevel.CONNECT or auth.authLevel > AuthLevel.PRIVACY:
            raise AuthenticationError("auth level %d not supported" % (auth.authLevel,))
        context = self._makeAcceptor(auth.authType)
        state = AuthState(context, auth.authType, auth.authLevel, auth.authContextId)
        self._auth[auth.authContextId] = state
        return state.step(auth.authValue)

    # PDU handlers -----------------------------------------------------------------

    def pdu_BIND(self, message, fragment, events):
        if self.bound:
            self._bindNak(message.callId, BindNakReason.REASON_NOT_SPECIFIED)
            self._close("second bind on an association")
            return
        if message.maxXmitFrag < MIN_FRAGMENT_SIZE or message.maxRecvFrag < MIN_FRAGMENT_SIZE:
            self._bindNak(message.callId, BindNakReason.REASON_NOT_SPECIFIED)
            self._close("fragment sizes below %d" % (MIN_FRAGMENT_SIZE,))
            return
        if message.drep[0] & 0x10 == 0 or message.drep[0] & 0x0F or message.drep[1]:
            # Stubs in another data representation cannot be relayed to an
            # NDR little-endian peer, nor decoded by our codecs.
            self._bindNak(message.callId, BindNakReason.REASON_NOT_SPECIFIED)
            self._close("unsupported data representation %s" % (bytes(message.drep).hex(),))
            return
        self.requestedAssocGroupId = message.assocGroupId
        groupId = self._groups.join(message.assocGroupId)
        if groupId is None:
            self._bindNak(message.callId, BindNakReason.REASON_NOT_SPECIFIED)
            self._close("unknown association group 0x%08x" % (message.assocGroupId,))
            return
        self.assocGroupId = groupId
        token = None
        if message.auth is not None:
            try:
                token = self._startAuth(message.auth)
            except UnsupportedAuthType as e:
                self._bindNak(message.callId, BindNakReason.AUTHENTICATION_TYPE_NOT_RECOGNIZED)
                self._close(str(e))
                return
            except AuthenticationError as e:
                self._bindNak(message.callId, BindNakReason.REASON_NOT_SPECIFIED)
                self._close("bind authentication failed: %s" % (e,))
                return
        self.bound = True
        self.maxXmitFrag = max(MIN_FRAGMENT_SIZE, min(message.maxRecvFrag, self.settings.maxFragment))
        self.maxRecvFrag = max(MIN_FRAGMENT_SIZE, min(message.maxXmitFrag, self.settings.maxFragment))
        self._framer.maxFragmentSize = self.maxRecvFrag
        sessions = []
        results = self._negotiate(message.contexts, sessions)
        reply = _pdu.BindAck(
            callId=message.callId,
            pfcFlags=PFC.FIRST_FRAG | PFC.LAST_FRAG | (message.pfcFlags & (PFC.CONC_MPX | PFC.SUPPORT_HEADER_SIGN)),
            maxXmitFrag=self.maxXmitFrag,
            maxRecvFrag=self.maxRecvFrag,
            assocGroupId=self.assocGroupId,
            secondaryAddress=str(self.localPort).encode("ascii"),
            results=results,
        )
        if message.auth is not None:
            reply.auth = self._auth[message.auth.authContextId].verifier(token or b"")
        self._queueReply(reply, sessions, True, events)

    def pdu_ALTER_CONTEXT(self, message, fragment, events):
        if not self.bound:
            raise ProtocolError("alter_context before bind")
        token = None
        if message.auth is not None:
            state = self._auth.get(message.auth.authContextId)
            try:
                if state is None:
                    token = self._startAuth(message.auth)
                elif state.context.complete or state.failed:
                    raise ProtocolError("alter_context for a finished security context")
                else:
                    token = state.step(message.auth.authValue)
            except AuthenticationError as e:
                _log.info(
                    "dcesrv: authentication failed for {peer}: {reason}",
                    peer=_peerText(self.peer),
                    reason=str(e),
                )
                # Samba answers a refused alter_context leg this way.
                self._fault(message.callId, 0, Status.SEC_PKG_ERROR)
                self._close("authentication failed")
                return
        sessions = []
        results = self._negotiate(message.contexts, sessions)
        reply = _pdu.AlterContextResp(
            callId=message.callId,
            maxXmitFrag=self.maxXmitFrag,
            maxRecvFrag=self.maxRecvFrag,
            assocGroupId=self.assocGroupId,
            secondaryAddress=b"",
            results=results,
        )
        if message.auth is not None:
            reply.auth = self._auth[message.auth.authContextId].verifier(token or b"")
        self._queueReply(reply, sessions, False, events)
        self._logAuthenticated(message.auth)

    def pdu_AUTH3(self, message, fragment, events):
        auth = message.auth
        state = self._auth.get(auth.authContextId) if auth is not None else None
        if state is None or state.context.complete or state.failed:
            raise ProtocolError("auth3 without a handshake in progress")
        try:
            state.step(auth.authValue)
        except AuthenticationError as e:
            # No PDU answers an auth3: the next request gets the fault.
            _log.info(
                "dcesrv: authentication failed for {peer}: {reason}",
                peer=_peerText(self.peer),
                reason=str(e),
            )
            return
        self._logAuthenticated(auth)

    def pdu_REQUEST(self, message, fragment, events):
        if not self.bound:
            raise ProtocolError("request before bind")
        callId = message.callId
        first = message.pfcFlags & _FIRST
        if first:
            progress = self._startCall(message)
            if progress is None:
                return
        else:
            progress = self._calls.get(callId)
            if progress is None:
                raise ProtocolError("fragment of unknown call %d" % (callId,))
        state = progress.authState
        try:
            # Verify every fragment, even of a call that will be refused: the
            # sequence numbers must stay in step with the client's.
            stub = state.unprotect(fragment, message) if state is not None else message.stub
        except AuthenticationError as e:
            self._badVerifier(callId, message.contextId, e)
            return
        if first:
            self._checkCall(message, progress)
        if progress.rejected:
            if message.pfcFlags & _LAST:
                self._calls.pop(callId, None)
            return
        whole = self._reassembler.add(callId, stub, message.pfcFlags)
        if whole is None:
            return
        call = Call(
            callId=callId,
            contextId=progress.session.contextId,
            opnum=progress.opnum,
            stub=whole,
            session=progress.session,
            object=progress.object,
            auth=self.authInfo if state is not None else None,
        )
        events.append(CallReceived(call))

    def _forward(self, fragment):
        """
        Hand a request fragment of a forwarding context to its forwarder,
        verified and unsealed in place.

        @return: C{False}, having changed nothing, when the fragment is not
            one to forward (another context, a call that is being
            reassembled, a trailer the forwarder cannot reuse): the usual
            path then takes it, with its checks and errors.
        """
        if len(fragment) < 24:
            return False
        pfcFlags, drep, fragLength, authLength, callId, contextId, opnum = REQUEST_HEADER.unpack_from(fragment)
        if not authLength or drep & 0xF0 != 0x10:
            return False
        secStart = fragLength - authLength - 8
        dataStart = 40 if pfcFlags & _OBJECT else 24
        if secStart < dataStart:
            return False
        authType, authLevel, padLength, _reserved, authContextId = SEC_TRAILER.unpack_from(fragment, secStart)
        if pfcFlags & _FIRST:
            forwarding = self._forwarding.get(contextId)
            if forwarding is None or forwarding[0] != authLength or callId in self._calls:
                return False
            forwarder = forwarding[1]
            session = self._contexts.get(contextId)
            state = self._auth.get(authContextId)
            if session is None or state is None or not state.complete or not state.signs:
                return False
            progress = None
        else:
            progress = self._calls.get(callId)
            if progress is None or progress.forwarder is None:
                return False
            if callId not in self._partialForwarded:
                self._abort("fragment for call %d after its last one" % (callId,), Status.NCA_S_PROTO_ERROR, callId=callId)
                return True
            state = progress.authState
            session = progress.session
            forwarder = progress.forwarder
        if (
            not state.matches(authType, authLevel, authContextId)
            or authLength != state.signatureSize
            or secStart - padLength < dataStart
        ):
            if progress is None:
                return False
            # A later fragment of a forwarded call cannot take the usual
            # path (its first fragment did not): the call is broken.
            self._abort("fragment of call %d changed its sec_trailer" % (callId,), Status.NCA_S_PROTO_ERROR, callId=callId)
            return True
        if progress is None:
            if not pfcFlags & _LAST:
                if len(self._partialForwarded) >= self.settings.maxCalls:
                    # As for requests being reassembled.
                    self._abort(
                        "more than %d fragmented calls in progress" % (self.settings.maxCalls,),
                        Status.NCA_S_PROTO_ERROR,
                        callId=callId,
                    )
                    return True
                self._partialForwarded.add(callId)
            progress = _CallInProgress(session, opnum, None, state, forwarder=forwarder)
            self._calls[callId] = progress
        elif pfcFlags & _LAST:
            self._partialForwarded.discard(callId)
        buf = bytearray(fragment)
        try:
            state.unprotectFragment(buf, dataStart, secStart)
        except AuthenticationError as e:
            self._badVerifier(callId, session.contextId, e)
            return True
        forwarder.forwardRequest(session, callId, progress.opnum, buf, dataStart, secStart, pfcFlags)
        if self._forwardedTo is not forwarder:
            if self._forwardedTo is not None:
                self._forwardedTo.fragmentsDone()
            self._forwardedTo = forwarder
        return True

    def _badVerifier(self, callId, contextId, error):
        """
        A request fragment failed verification: fault SEC_PKG_ERROR and
        close (the sequence numbers are out of step from now on).
        """
        _log.warn(
            "dcesrv: bad verifier from {peer} (call {callId}): {reason}",
            peer=_peerText(self.peer),
            callId=callId,
            reason=str(error),
        )
        self._calls.pop(callId, None)
        self._fault(callId, contextId, Status.SEC_PKG_ERROR)
        self._close("bad verifier")

    def _startCall(self, message):
        """
        Find the security context of a request's first fragment.

        @return: a L{_CallInProgress}, or L{None} when the association was
            closed with a fault.
        """
        callId = message.callId
        if callId in self._calls:
            raise ProtocolError("call id %d already in progress" % (callId,))
        state, failure = self._requestAuthState(message)
        if failure is not None:
            status, reason = failure
            self._fault(callId, message.contextId, status)
            self._close(reason)
            return None
        session = self._contexts.get(message.contextId)
        progress = _CallInProgress(session, message.opnum, message.object, state)
        self._calls[callId] = progress
        return progress

    def _checkCall(self, message, progress):
        """
        Refuse (with a fault) a verified request for a context that is not
        bound, or from a client that did not authenticate to an interface
        that wants it.
        """
        status = None
        if progress.session is None:
            status = Status.NCA_S_UNK_IF
        elif progress.session.interface.requireAuthentication and progress.authState is None:
            status = Status.ACCESS_DENIED
        if status is not None:
            progress.rejected = status
            self._fault(message.callId, message.contextId, status)

    def _requestAuthState(self, message):
        """
        The security context a request is under.

        @return: C{(state or None, None)} or C{(None, (status, reason))}.
        """
        auth = message.auth
        if auth is not None:
            state = self._auth.get(auth.authContextId)
            if state is None:
                return None, (Status.ACCESS_DENIED, "request for an unknown security context")
        else:
            state = self._defaultAuthState() or next(iter(self._auth.values()), None)
            if state is None:
                return None, None
        if state.failed is not None:
            # What Samba answers after a refused AUTH3 (and then it closes).
            return None, (Status.NCA_S_PROTO_ERROR, "request after failed authentication")
        if not state.context.complete:
            return None, (Status.ACCESS_DENIED, "request before the authentication finished")
        if state.signs and auth is None:
            return None, (Status.ACCESS_DENIED, "unsigned request on a signed association")
        return state, None

    def pdu_CO_CANCEL(self, message, fragment, events):
        # Calls run to completion; a cancel changes nothing (C706 allows it).
        return

    def pdu_ORPHANED(self, message, fragment, events):
        self._reassembler.discard(message.callId)
        progress = self._calls.pop(message.callId, None)
        self._partialForwarded.discard(message.callId)
        if progress is not None:
            self._orphaned.add(message.callId)
            if progress.forwarder is not None:
                progress.forwarder.forwardOrphaned(progress.session, message.callId)

    def pdu_SHUTDOWN(self, message, fragment, events):
        return

    def _queueReply(self, reply, sessions, isBind, events):
        if sessions:
            self._pending = _PendingBind(reply, sessions, isBind)
            events.append(ContextsBound(sessions))
        else:
            self._send(reply)

    def _logAuthenticated(self, auth):
        if auth is None:
            return
        state = self._auth.get(auth.authContextId)
        if state is not None and state.complete:
            _log.info(
                "dcesrv: {peer} authenticated as {domain}\\{user} ({authType}, level {authLevel})",
                peer=_peerText(self.peer),
                domain=state.context.domain,
                user=state.context.username,
                authType=_authTypeName(state.authType),
                authLevel=state.requestedLevel,
            )


def _ptypeName(ptype):
    name = _PTYPE_NAMES.get(ptype)
    if name is None:
        name = "ptype_%d" % (ptype,)
    return name


def _ptypeNames():
    from mapiproxy.dcerpc.constants import PType

    return {int(p): p.name for p in PType}


_PTYPE_NAMES = _ptypeNames()


def _authTypeName(authType):
    try:
        return AuthType(authType).name
    except ValueError:
        return str(authType)


def _peerText(peer):
    if peer is None:
        return "?"
    host = getattr(peer, "host", None)
    if host is not None:
        return "%s:%s" % (host, getattr(peer, "port", "?"))
    return str(peer)


__all__ = [
    "AssociationGroups",
    "AuthInfo",
    "Call",
    "CallReceived",
    "ContextSession",
    "ContextsBound",
    "ServerAssociation",
    "ServerSettings",
    "statusName",
]
