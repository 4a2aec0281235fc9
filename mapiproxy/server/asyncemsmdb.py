# -*- test-case-name: tests.server.test_emsmdb -*-
"""
The lab Exchange's AsyncEMSMDB server (C{exchange_async_emsmdb},
[MS-OXCRPC] 3.3.4): EcDoAsyncWaitEx parks the call (a L{Deferred}; the
reactor keeps serving) until the session of its ACXH has a notification
pending, then answers C{pulFlagsOut = NotificationPending}; after
L{AsyncEmsmdbInterface.timeout} seconds without one it answers 0. The
client then calls EcDoRpcExt2, whose answer carries the RopNotify
responses.
"""

from twisted.internet.defer import Deferred
from twisted.logger import Logger
from zope.interface import implementer

from mapiproxy.dcerpc.constants import Status
from mapiproxy.errors import DCERPCFault, NDRError
from mapiproxy.imapiproxy import IRPCInterface
from mapiproxy.interfaces import asyncemsmdb as A
from mapiproxy.interfaces import registry
from mapiproxy.server.emsmdb import EC_REJECTED

__all__ = ["DEFAULT_TIMEOUT", "AsyncEmsmdbInterface"]

#: Seconds an EcDoAsyncWaitEx stays parked without a notification.
DEFAULT_TIMEOUT = 300.0
_STATE_KEY = "mapiproxy.server.asyncemsmdb.waiters"


class _Waiter:
    """
    One parked EcDoAsyncWaitEx.
    """

    def __init__(self, deferred, owner):
        self.deferred = deferred
        self.owner = owner
        self.timer = None
        self.done = False

    def fire(self, flags):
        if self.done:
            return
        self.done = True
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        self.owner.state.get(_STATE_KEY, set()).discard(self)
        self.deferred.callback(A.EcDoAsyncWaitExResponse(pulFlagsOut=flags, result=0).encode())

    def drop(self):
        self.done = True
        if self.timer is not None and self.timer.active():
            self.timer.cancel()


@implementer(IRPCInterface)
class AsyncEmsmdbInterface:
    """
    AsyncEMSMDB over the sessions of an L{EmsmdbInterface}.
    """

    name = "exchange_async_emsmdb"
    requireAuthentication = True
    _log = Logger()

    def __init__(self, emsmdb, reactor, timeout=DEFAULT_TIMEOUT):
        """
        @param emsmdb: the EMSMDB server whose ACXHs this serves.
        @type emsmdb: L{mapiproxy.server.emsmdb.EmsmdbInterface}
        @param reactor: an L{IReactorTime} for the timeouts.
        @param timeout: seconds before a parked call answers 0.
        @type timeout: L{float}
        """
        self.emsmdb = emsmdb
        self.reactor = reactor
        self.timeout = timeout
        self.syntax = registry.lookupByName(self.name).syntaxId
        self.codec = A.ASYNC_EMSMDB

    def contextBound(self, session):
        """
        Nothing to prepare when a client binds.
        """
        return None

    def contextReleased(self, session):
        """
        The connection is gone: forget its parked calls.
        """
        for waiter in list(session.state.pop(_STATE_KEY, ())):
            waiter.drop()
            for emsmdbSession in self.emsmdb.sessions.values():
                if waiter in emsmdbSession.waiters:
                    emsmdbSession.waiters.remove(waiter)

    def handleCall(self, call):
        """
        Answer one call (see L{IRPCInterface.handleCall}).

        @return: the response stub, or a L{Deferred} (the parked call);
            an unknown ACXH, or one of another user, gets ecRejected.
        @raise DCERPCFault: a stub that does not decode (FAULT_NDR).
        """
        try:
            request = self.codec.decodeRequest(call.opnum, call.stub)
        except NDRError as e:
            raise DCERPCFault(Status.FAULT_NDR, str(e))
        session = self.emsmdb.sessionForAsyncHandle(request.async_handle)
        if session is None or session.account.lower() != (call.auth.username if call.auth else "").lower():
            return A.EcDoAsyncWaitExResponse(pulFlagsOut=0, result=EC_REJECTED).encode()
        if session.mailbox.notificationsPending:
            return A.EcDoAsyncWaitExResponse(pulFlagsOut=A.NOTIFICATION_PENDING, result=0).encode()
        # One parked call per session ([MS-OXCRPC] 3.3.4.1): an earlier one
        # completes now.
        session.wake(0)
        waiter = _Waiter(Deferred(), call.session)
        waiter.timer = self.reactor.callLater(self.timeout, self._expire, session, waiter)
        session.waiters.append(waiter)
        call.session.state.setdefault(_STATE_KEY, set()).add(waiter)
        return waiter.deferred

    def _expire(self, session, waiter):
        if waiter in session.waiters:
            session.waiters.remove(waiter)
        waiter.timer = None
        waiter.fire(0)
