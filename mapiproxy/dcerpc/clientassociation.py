# -*- test-case-name: tests.dcerpc.test_clientassociation -*-
"""
The client side of a connection-oriented association, sans I/O: bind (with
the three-leg NTLM or four-leg SPNEGO handshake), alter_context, requests
fragmented to the server's limit and protected, responses reassembled and
verified.
"""

import itertools
from dataclasses import dataclass
from typing import Optional

from mapiproxy.dcerpc import pdu as _pdu
from mapiproxy.dcerpc.constants import (
    DEFAULT_MAX_FRAGMENT,
    MIN_FRAGMENT_SIZE,
    PFC,
    AuthLevel,
    ContextResult,
    Status,
)
from mapiproxy.dcerpc.framing import Framer, Reassembler
from mapiproxy.dcerpc.secure import FRAG_AUTH_CALL, SEC_TRAILER, AuthState, protectedFragments
from mapiproxy.errors import (
    AuthenticationError,
    MalformedPDU,
    ProtocolError,
    SignatureError,
)

#: The auth_context_id we use (any value works; Windows starts at 0).
DEFAULT_AUTH_CONTEXT_ID = 1

_LAST = int(PFC.LAST_FRAG)
_FIRST = int(PFC.FIRST_FRAG)


@dataclass
class Bound:
    """
    Event: the association is ready for requests.

    @ivar results: C{{contextId: ContextResult}} of the bind.
    """

    assocGroupId: int
    results: dict


@dataclass
class BindRefused:
    """
    Event: the server refused the bind (bind_nak, rejected contexts, or a
    failed handshake); the connection should be closed.
    """

    reason: str
    status: Optional[int] = None


@dataclass
class ContextAltered:
    """
    Event: an alter_context that added a presentation context was answered.
    """

    contextId: int
    accepted: bool


@dataclass
class ResponseReceived:
    """
    Event: the whole, verified response stub of a call.
    """

    callId: int
    stub: bytes


@dataclass
class FaultReceived:
    """
    Event: the server answered a call with a fault.
    """

    callId: int
    status: int


@dataclass
class AssociationFailed:
    """
    Event: the association is unusable (protocol error, bad verifier,
    shutdown); every outstanding call has failed.
    """

    reason: str
    status: Optional[int] = None


class ClientAssociation:
    """
    One association to a server.

    @param syntaxes: the abstract syntaxes to bind, context ids 0, 1, ...
    @param security: an initiator L{mapiproxy.imapiproxy.ISecurityContext}, or
        L{None} for an unauthenticated association.
    @param authLevel: the L{AuthLevel} to ask for (ignored without security).
    @ivar forwarder: the L{mapiproxy.imapiproxy.IResponseForwarder} that
        receives the answers of forwarded calls (L{forwardRequest}).
    """

    def __init__(
        self,
        syntaxes,
        security=None,
        authLevel=AuthLevel.PRIVACY,
        maxFragment=DEFAULT_MAX_FRAGMENT,
        maxStub=64 * 1024 * 1024,
        assocGroupId=0,
        authContextId=DEFAULT_AUTH_CONTEXT_ID,
    ):
        self._syntaxes = {i: s for i, s in enumerate(syntaxes)}
        self._auth = None
        if security is not None:
            self._auth = AuthState(security, security.authType, authLevel, authContextId)
        self._maxFragment = maxFragment
        self._framer = Framer(maxFragment)
        self._reassembler = Reassembler(maxStub, maxCalls=1024)
        self._callIds = itertools.count(1)
        self._out = []
        self._bindCallId = None
        self._pendingAlters = {}
        self._outstanding = set()
        self._forwarded = set()
        self._answeredForwarded = False
        self.forwarder = None
        self.assocGroupId = assocGroupId
        self.maxXmitFrag = MIN_FRAGMENT_SIZE
        self.ready = False
        self.failed = None
        self.accepted = set()

    # -- public API -------------------------------------------------------------

    def start(self):
        """
        Queue the bind PDU.
        """
        callId = self._bindCallId = next(self._callIds)
        message = _pdu.Bind(
            callId=callId,
            pfcFlags=PFC.FIRST_FRAG | PFC.LAST_FRAG | PFC.CONC_MPX | PFC.SUPPORT_HEADER_SIGN,
            maxXmitFrag=self._maxFragment,
            maxRecvFrag=self._maxFragment,
            assocGroupId=self.assocGroupId,
            contexts=[
                _pdu.PresentationContext(contextId, syntax, [_pdu.NDR_SYNTAX])
                for contextId, syntax in self._syntaxes.items()
            ],
        )
        if self._auth is not None:
            message.auth = self._auth.verifier(self._auth.step(None) or b"")
        self._send(message)

    def request(self, opnum, stub, contextId=0, object=None):
        """
        Queue a request.

        @return: its call id.
        """
        if not self.ready:
            raise ProtocolError("association not ready")
        callId = next(self._callIds) & 0xFFFFFFFF
        self._out.extend(
            protectedFragments(
                _pdu.Request, stub, self.maxXmitFrag, self._auth, callId=callId, contextId=contextId, opnum=opnum, object=object
            )
        )
        self._outstanding.add(callId)
        return callId

    @property
    def signatureSize(self):
        """
        Bytes of verifier our request fragments carry (0 when unsigned).
        """
        return self._auth.signatureSize if self._auth is not None else 0

    @property
    def maxRecvFrag(self):
        """
        The largest fragment the server may send us (what our bind offered).
        """
        return self._maxFragment

    def newCallId(self):
        """
        Allocate a call id (for L{forwardRequest}).
        """
        return next(self._callIds) & 0xFFFFFFFF

    def forwardRequest(self, callId, contextId, buf, dataStart, dataEnd, pfcFlags):
        """
        Queue a request fragment that came from elsewhere (another
        association): C{buf} is a whole request fragment whose stub region
        C{buf[dataStart:dataEnd]} is plaintext and whose verifier is
        L{signatureSize} bytes. Its call id, context id and sec_trailer are
        made ours and it is signed or sealed in place. The answer goes to
        L{forwarder}, fragment by fragment.

        @param callId: from L{newCallId}, the same for every fragment of
            one call.
        @raise ProtocolError: not ready, unsigned, or the fragment does
            not fit the server's limit.
        """
        state = self._auth
        if not self.ready or state is None or not state.signs:
            raise ProtocolError("cannot forward a fragment on this association")
        if len(buf) > self.maxXmitFrag:
            raise ProtocolError("fragment of %d bytes over the server's limit of %d" % (len(buf), self.maxXmitFrag))
        state.reseal(buf, callId, contextId, dataStart, dataEnd)
        if pfcFlags & _FIRST:
            self._forwarded.add(callId)
        self._out.append(buf)

    def forgetForwarded(self, callId):
        """
        Stop expecting the answer of a forwarded call (after an orphaned
        PDU, which is queued here for the server).
        """
        if callId in self._forwarded:
            self._forwarded.discard(callId)
            self._send(_pdu.Orphaned(callId=callId))

    def alterContext(self, syntax):
        """
        Queue an alter_context adding a presentation context.

        @return: the new context id (usable once L{ContextAltered} says so).
        """
        contextId = max(self._syntaxes, default=-1) + 1
        self._syntaxes[contextId] = syntax
        callId = next(self._callIds)
        self._pendingAlters[callId] = contextId
        self._send(
            _pdu.AlterContext(
                callId=callId,
                maxXmitFrag=self._maxFragment,
                maxRecvFrag=self._maxFragment,
                assocGroupId=self.assocGroupId,
                contexts=[_pdu.PresentationContext(contextId, syntax, [_pdu.NDR_SYNTAX])],
            )
        )
        return contextId

    def syntaxOf(self, contextId):
        """
        The abstract syntax bound to a context id.
        """
        return self._syntaxes.get(contextId)

    def dataToSend(self):
        """
        Bytes queued for the server since the last call.
        """
        out, self._out = self._out, []
        return b"".join(out)

    def receiveData(self, data):
        """
        Process bytes from the server.

        @return: a list of events.
        """
        if self.failed is not None:
            return []
        events = []
        try:
            fragments = self._framer.feed(data)
            forwarded = self._forwarded
            for fragment in fragments:
                if forwarded and fragment[2] == 2 and self._forwardedResponse(fragment):
                    continue
                self._handle(fragment, events)
                if self.failed is not None:
                    break
        except (ProtocolError, MalformedPDU) as e:
            events.append(self._fail("protocol error from server: %s" % (e,)))
        except AuthenticationError as e:
            # A bad verifier, or protection the handshake did not negotiate.
            events.append(self._fail("bad verifier from server: %s" % (e,), Status.SEC_PKG_ERROR))
        if self._answeredForwarded:
            self._answeredForwarded = False
            self.forwarder.responsesDone()
        return events

    # -- internals --------------------------------------------------------------

    def _send(self, message):
        self._out.append(_pdu.encode(message))

    def _fail(self, reason, status=None):
        self.failed = reason
        self.ready = False
        return AssociationFailed(reason, status)

    def _handle(self, fragment, events):
        message = _pdu.decode(fragment)
        handler = getattr(self, "_pdu_%d" % (message.PTYPE,), None)
        if handler is None:
            raise ProtocolError("unexpected PDU type %d" % (message.PTYPE,))
        handler(message, fragment, events)

    def _pdu_12(self, message, fragment, events):  # bind_ack
        if message.callId != self._bindCallId or self.ready:
            raise ProtocolError("unexpected bind_ack")
        results = {}
        for contextId, result in zip(sorted(self._syntaxes), message.results):
            results[contextId] = result
            if result.result == ContextResult.ACCEPTANCE:
                self.accepted.add(contextId)
        if not self.accepted:
            reasons = ", ".join("%d/%d" % (r.result, r.reason) for r in message.results)
            self.failed = "no presentation context accepted (%s)" % (reasons,)
            events.append(BindRefused(self.failed))
            return
        self.assocGroupId = message.assocGroupId
        self.maxXmitFrag = max(MIN_FRAGMENT_SIZE, min(message.maxRecvFrag, self._maxFragment))
        self._bindResults = results
        if self._auth is None:
            self._ready(events)
            return
        if message.auth is None:
            self.failed = "server did not answer the authentication"
            events.append(BindRefused(self.failed))
            return
        self._continueAuth(message.auth.authValue, message.callId, events)

    def _continueAuth(self, token, callId, events):
        try:
            out = self._auth.step(token)
        except AuthenticationError as e:
            self.failed = "authentication failed: %s" % (e,)
            events.append(BindRefused(self.failed))
            return
        if self._auth.context.complete:
            if out:
                self._send(_pdu.Auth3(callId=callId, auth=self._auth.verifier(out)))
            self._ready(events)
            return
        if out is None:
            self.failed = "authentication stalled"
            events.append(BindRefused(self.failed))
            return
        alterId = next(self._callIds)
        self._pendingAlters[alterId] = None
        self._send(
            _pdu.AlterContext(
                callId=alterId,
                maxXmitFrag=self._maxFragment,
                maxRecvFrag=self._maxFragment,
                assocGroupId=self.assocGroupId,
                contexts=[
                    _pdu.PresentationContext(contextId, self._syntaxes[contextId], [_pdu.NDR_SYNTAX])
                    for contextId in sorted(self.accepted)[:1]
                ],
                auth=self._auth.verifier(out),
            )
        )

    def _ready(self, events):
        self.ready = True
        events.append(Bound(self.assocGroupId, self._bindResults))

    def _pdu_13(self, message, fragment, events):  # bind_nak
        self.failed = "bind_nak reason %d" % (message.rejectReason,)
        events.append(BindRefused(self.failed, message.rejectReason))

    def _pdu_15(self, message, fragment, events):  # alter_context_resp
        if message.callId not in self._pendingAlters:
            raise ProtocolError("unexpected alter_context_resp")
        contextId = self._pendingAlters.pop(message.callId)
        if contextId is None:
            if message.auth is None:
                self.failed = "server ended the handshake without a token"
                events.append(BindRefused(self.failed))
                return
            self._continueAuth(message.auth.authValue, message.callId, events)
            return
        accepted = bool(message.results) and message.results[0].result == ContextResult.ACCEPTANCE
        if accepted:
            self.accepted.add(contextId)
        events.append(ContextAltered(contextId, accepted))

    def _pdu_2(self, message, fragment, events):  # response
        callId = message.callId
        if callId not in self._outstanding:
            raise ProtocolError("response to unknown call %d" % (callId,))
        stub = self._auth.unprotect(fragment, message) if self._auth is not None else message.stub
        whole = self._reassembler.add(callId, stub, message.pfcFlags)
        if whole is not None:
            self._outstanding.discard(callId)
            events.append(ResponseReceived(callId, whole))

    def _forwardedResponse(self, fragment):
        """
        Verify and unseal in place a response fragment of a forwarded call
        and hand it to L{forwarder}.

        @return: C{False} for a response to a call we did not forward.
        @raise SignatureError: no verifier or a bad one.
        @raise ProtocolError: a malformed fragment.
        """
        if len(fragment) < 24:
            return False
        fragLength, authLength, callId = FRAG_AUTH_CALL.unpack_from(fragment, 8)
        if callId not in self._forwarded:
            return False
        if fragment[4] & 0xF0 != 0x10:
            raise ProtocolError("big-endian response on a little-endian association")
        state = self._auth
        if authLength != state.signatureSize:
            raise SignatureError("response fragment without the expected verifier")
        secStart = fragLength - authLength - 8
        if secStart < 24:
            raise ProtocolError("response fragment too short for its verifier")
        authType, authLevel, padLength, _reserved, authContextId = SEC_TRAILER.unpack_from(fragment, secStart)
        if not state.matches(authType, authLevel, authContextId):
            raise SignatureError("response signed by another security context")
        if secStart - padLength < 24:
            raise ProtocolError("auth_pad_length %d does not fit the response" % (padLength,))
        buf = bytearray(fragment)
        state.unprotectFragment(buf, 24, secStart)
        pfcFlags = fragment[3]
        if pfcFlags & _LAST:
            self._forwarded.discard(callId)
        self._answeredForwarded = True
        self.forwarder.responseFragment(callId, buf, 24, secStart, pfcFlags)
        return True

    def _pdu_3(self, message, fragment, events):  # fault
        callId = message.callId
        if callId in self._forwarded:
            self._forwarded.discard(callId)
            self._answeredForwarded = True
            self.forwarder.forwardedFault(callId, message.status)
            return
        if not self.ready and (callId == self._bindCallId or callId in self._pendingAlters):
            self.failed = "fault 0x%08x during bind" % (message.status,)
            events.append(BindRefused(self.failed, message.status))
            return
        if callId in self._outstanding:
            self._outstanding.discard(callId)
            self._reassembler.discard(callId)
            events.append(FaultReceived(callId, message.status))
            return
        if callId in self._pendingAlters:
            contextId = self._pendingAlters.pop(callId)
            events.append(ContextAltered(contextId, False))
            return
        events.append(self._fail("fault 0x%08x on the association" % (message.status,), message.status))

    def _pdu_17(self, message, fragment, events):  # shutdown
        events.append(self._fail("server sent shutdown"))

    @property
    def outstanding(self):
        """
        Call ids still waiting for an answer.
        """
        return set(self._outstanding)


__all__ = [
    "AssociationFailed",
    "BindRefused",
    "Bound",
    "ClientAssociation",
    "ContextAltered",
    "FaultReceived",
    "ResponseReceived",
]
