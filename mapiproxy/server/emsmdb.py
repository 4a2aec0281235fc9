# -*- test-case-name: tests.server.test_emsmdb -*-
"""
The lab Exchange's EMSMDB server (C{exchange_emsmdb}, [MS-OXCRPC] 3.1.4):
session context handles (CXH) for the authenticated user's mailbox, ROP
buffers run by L{mapiproxy.server.mailbox.MailboxSession}, on the current
path (EcDoConnectEx, EcDoRpcExt2 with LZ77 compression and XOR
obfuscation) and the old one (EcDoConnect, EcDoRpc, as used after the
C{downgrade} module).

New messages are found by rescanning the mailboxes of the connected users
with a L{LoopingCall} on the reactor given to L{EmsmdbInterface} (it runs
only while sessions exist); each one becomes RopNotify responses for the
sessions that registered for it, and wakes their parked EcDoAsyncWaitEx
(L{mapiproxy.server.asyncemsmdb}).
"""

import time
import uuid
from collections import Counter

from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from zope.interface import implementer

from mapiproxy.dcerpc.constants import Status
from mapiproxy.errors import DCERPCFault, MapiBufferError, NDRError
from mapiproxy.imapiproxy import IRPCInterface
from mapiproxy.interfaces import emsmdb as E
from mapiproxy.interfaces import registry
from mapiproxy.interfaces.ndr import ContextHandle
from mapiproxy.mapi import extbuf
from mapiproxy.mapi.obfuscation import xorMagic
from mapiproxy.server.mailbox import (
    EC_ACCESS_DENIED,
    EC_NOT_SUPPORTED,
    EC_RPC_FORMAT,
    EC_UNKNOWN_USER,
    MailboxSession,
    NamedPropertyMap,
)

__all__ = [
    "EC_BUFFER_TOO_SMALL",
    "SERVER_VERSION",
    "EmsmdbSession",
    "EmsmdbInterface",
]

#: ecBufferTooSmall: C{pcbOut} cannot hold even an empty answer.
EC_BUFFER_TOO_SMALL = 0x0000047D
#: ecRejected: e.g. EcDoAsyncWaitEx on an unknown ACXH.
EC_REJECTED = 0x000007EE
#: The server version of EcDoConnectEx, an Exchange 2010 build
#: ([MS-OXCRPC] 3.1.4.1.3).
SERVER_VERSION = (0x000E, 0x0000, 0x02C8)
#: pcmsPollsMax, pcRetry, pcmsRetryDelay of EcDoConnectEx.
POLLS_MAX = 60000
RETRY_COUNT = 6
RETRY_DELAY = 10000

_NO_HANDLE = ContextHandle()
_STATE_KEY = "mapiproxy.server.emsmdb.sessions"


class EmsmdbSession:
    """
    One EMSMDB session: what a CXH stands for.

    @ivar handle: the CXH.
    @ivar account: the mailbox owner (the authenticated user).
    @ivar mailbox: the L{MailboxSession} running its ROPs.
    @ivar index: the session index (C{picxr}).
    @ivar asyncHandle: the ACXH of EcDoAsyncConnectEx, or L{None}.
    @ivar waiters: parked EcDoAsyncWaitEx calls (see
        L{mapiproxy.server.asyncemsmdb}).
    """

    def __init__(self, handle, account, mailbox, index, owner):
        self.handle = handle
        self.account = account
        self.mailbox = mailbox
        self.index = index
        self.owner = owner
        self.asyncHandle = None
        self.waiters = []

    def wake(self, flags):
        """
        Complete every parked EcDoAsyncWaitEx with C{pulFlagsOut = flags}.

        @type flags: L{int}
        """
        waiters, self.waiters = self.waiters, []
        for waiter in waiters:
            waiter.fire(flags)


@implementer(IRPCInterface)
class EmsmdbInterface:
    """
    EMSMDB served from a store.

    @ivar sessions: CXH uuid -> L{EmsmdbSession}.
    @ivar streamReads: L{mapiproxy.server.mailbox.StreamKey} -> how many
        RopReadStream were served on that stream (every session, since
        the start).
    @ivar streamBytes: L{mapiproxy.server.mailbox.StreamKey} -> how many
        bytes those RopReadStream returned.
    """

    name = "exchange_emsmdb"
    requireAuthentication = True
    _log = Logger()

    def __init__(self, store, reactor, identity=None, pollInterval=2.0):
        """
        @param store: the lab Exchange's store.
        @type store: L{mapiproxy.server.store.Store}
        @param reactor: the reactor (an L{IReactorTime}) driving the
            new-mail scan.
        @param identity: the server identity (unused; for symmetry with
            the other server interfaces).
        @param pollInterval: seconds between two scans for new messages.
        @type pollInterval: L{float}
        """
        self.store = store
        self.reactor = reactor
        self.identity = identity
        self.pollInterval = pollInterval
        self.syntax = registry.lookupByName(self.name).syntaxId
        self.codec = E.EMSMDB
        self.sessions = {}
        self.streamReads = Counter()
        self.streamBytes = Counter()
        self._asyncSessions = {}
        self._named = {}
        self._nextIndex = 1
        self._poller = None
        self._unsubscribe = None

    # -- IRPCInterface ------------------------------------------------------

    def contextBound(self, session):
        """
        Nothing to prepare when a client binds.
        """
        return None

    def contextReleased(self, session):
        """
        The connection is gone: run its context handles down.
        """
        for handle in list(session.state.get(_STATE_KEY, ())):
            self._close(handle)
        session.state.pop(_STATE_KEY, None)

    def handleCall(self, call):
        """
        Answer one call (see L{IRPCInterface.handleCall}).

        @raise DCERPCFault: a stub that does not decode (FAULT_NDR), a
            reserved opnum (nca_op_rng_error), an unknown context handle
            (nca_s_fault_context_mismatch).
        """
        try:
            request = self.codec.decodeRequest(call.opnum, call.stub)
        except NDRError as e:
            self._log.info("EMSMDB opnum {opnum} from {peer}: bad stub: {error}", opnum=call.opnum, peer=call.session.peer, error=str(e))
            raise DCERPCFault(Status.FAULT_NDR, str(e))
        handler = getattr(self, "_op%d" % (call.opnum,), None)
        if handler is None:
            raise DCERPCFault(Status.NCA_S_OP_RNG_ERROR, "EMSMDB opnum %d is not served" % (call.opnum,))
        response = handler(call, request)
        return self.codec.encodeResponse(call.opnum, response)

    # -- public helpers -----------------------------------------------------

    def sessionForAsyncHandle(self, handle):
        """
        The session of an ACXH.

        @type handle: L{ContextHandle}
        @rtype: L{EmsmdbSession} or L{None}
        """
        return self._asyncSessions.get(handle.uuid)

    def pollNow(self):
        """
        Rescan the mailboxes of the connected users for new messages now.

        @return: how many new messages were found.
        @rtype: L{int}
        """
        found = 0
        for account in sorted({s.account for s in self.sessions.values()}):
            try:
                found += len(self.store.newMessages(account))
            except Exception:
                self._log.failure("new-mail scan of {account} failed", account=account)
        return found

    def readStreamCount(self, account, messageId, attachmentNumber=None):
        """
        How many RopReadStream the lab served on the streams of one message
        (C{attachmentNumber} L{None}) or of one of its attachments, in
        C{account}'s mailbox.

        @type account: L{str}
        @type messageId: L{int}
        @type attachmentNumber: L{int} or L{None}
        @rtype: L{int}
        """
        account = account.lower()
        return sum(
            count
            for key, count in self.streamReads.items()
            if key.account.lower() == account and key.messageId == messageId and key.attachmentNumber == attachmentNumber
        )

    def stop(self):
        """
        Close every session and stop the new-mail scan.
        """
        for handle in list(self.sessions):
            self._close(handle)
        self._stopPolling()

    # -- sessions -----------------------------------------------------------

    def _session(self, handle):
        session = self.sessions.get(handle.uuid)
        if session is None:
            raise DCERPCFault(Status.NCA_S_FAULT_CONTEXT_MISMATCH, "unknown EMSMDB context handle")
        return session

    def _connect(self, call, userDN):
        """
        Check C{szUserDN} against the authenticated user.

        @return: C{(result, session or None)}.
        """
        username = call.auth.username if call.auth is not None else None
        user = self.store.user(username) if username else None
        if user is None or self.store.mailbox(user.account) is None:
            self._refused(call, userDN, EC_UNKNOWN_USER)
            return EC_UNKNOWN_USER, None
        wanted = (userDN or "").strip().lower()
        if wanted != user.legacyDN.lower():
            known = any(u.legacyDN.lower() == wanted for u in self.store.users)
            result = EC_ACCESS_DENIED if known else EC_UNKNOWN_USER
            self._refused(call, userDN, result)
            return result, None
        handle = ContextHandle(0, uuid.uuid4())
        index = self._nextIndex
        self._nextIndex = index + 1 if index < 0xFFFE else 1
        named = self._named.setdefault(user.account.lower(), NamedPropertyMap())
        mailbox = MailboxSession(self.store, user.account, named, sessionIndex=index)
        session = EmsmdbSession(handle, user.account, mailbox, index, call.session)
        mailbox.onNotification = lambda: session.wake(1)
        mailbox.onStreamRead = self._streamRead
        self.sessions[handle.uuid] = session
        call.session.state.setdefault(_STATE_KEY, set()).add(handle.uuid)
        self._startPolling()
        return 0, session

    def _refused(self, call, userDN, result):
        username = call.auth.username if call.auth is not None else None
        self._log.info(
            "EMSMDB logon of {username} to {userDN} refused: {result:#010x}",
            username=username,
            userDN=userDN,
            result=result,
            peer=call.session.peer,
        )

    def _streamRead(self, key, size):
        self.streamReads[key] += 1
        self.streamBytes[key] += size

    def _close(self, handleUuid):
        session = self.sessions.pop(handleUuid, None)
        if session is None:
            return
        if session.asyncHandle is not None:
            self._asyncSessions.pop(session.asyncHandle.uuid, None)
        session.mailbox.close()
        session.wake(0)
        if not self.sessions:
            self._stopPolling()

    def _startPolling(self):
        if self._poller is not None or not self.pollInterval:
            return
        self._unsubscribe = self.store.subscribe(self._newMessage)
        self._poller = LoopingCall(self.pollNow)
        self._poller.clock = self.reactor
        self._poller.start(self.pollInterval, now=False).addErrback(
            lambda f: self._log.failure("new-mail scan stopped", f)
        )

    def _stopPolling(self):
        if self._poller is not None:
            if self._poller.running:
                self._poller.stop()
            self._poller = None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _newMessage(self, account, message):
        for session in list(self.sessions.values()):
            if session.account.lower() == account.lower():
                session.mailbox.deliver(message)

    # -- ROP buffers --------------------------------------------------------

    def _runChain(self, session, rgbIn, pcbOut, flags):
        """
        Run an rgbIn chain.

        @return: C{(result, rgbOut)}.
        """
        try:
            buffers = extbuf.decodeChain(rgbIn)
        except MapiBufferError:
            return EC_RPC_FORMAT, b""
        room = pcbOut
        outs = []
        for buf in buffers:
            budget = min(extbuf.MAX_PAYLOAD, room - extbuf.HEADER_SIZE)
            if budget < 2:
                return EC_BUFFER_TOO_SMALL, b""
            try:
                out = session.mailbox.execute(buf.payload, budget)
            except MapiBufferError:
                return EC_RPC_FORMAT, b""
            outs.append(out)
            room -= extbuf.HEADER_SIZE + len(out)
        compressed = not flags & E.NO_COMPRESSION
        obfuscated = not flags & E.NO_XOR_MAGIC
        chain = extbuf.encodeChain(
            [extbuf.ExtendedBuffer.make(out, compressed=compressed, obfuscated=obfuscated) for out in outs]
        )
        return 0, chain

    # -- operations ([MS-OXCRPC] 3.1.4) --------------------------------------

    def _op0(self, call, request):
        # EcDoConnect: the Exchange 2003 logon.
        result, session = self._connect(call, request.szUserDN)
        if session is None:
            return E.EcDoConnectResponse(result=result, rgwClientVersion=request.rgwClientVersion)
        return E.EcDoConnectResponse(
            handle=session.handle,
            pcmsPollsMax=POLLS_MAX,
            pcRetry=RETRY_COUNT,
            pcmsRetryDelay=RETRY_DELAY,
            picxr=session.index,
            szDNPrefix=self.store.organization.serverDN,
            szDisplayName=self.store.user(session.account).displayName,
            rgwServerVersion=SERVER_VERSION,
            rgwClientVersion=request.rgwClientVersion,
            pullTimeStamp=request.pullTimeStamp,
            result=0,
        )

    def _op1(self, call, request):
        # EcDoDisconnect.
        self._session(request.handle)
        self._close(request.handle.uuid)
        call.session.state.get(_STATE_KEY, set()).discard(request.handle.uuid)
        return E.EcDoDisconnectResponse(handle=_NO_HANDLE, result=0)

    def _op2(self, call, request):
        # EcDoRpc: one XOR-obfuscated ROP buffer, no RPC_HEADER_EXT.
        session = self._session(request.handle)
        budget = min(request.max_data or extbuf.MAX_PAYLOAD, extbuf.MAX_PAYLOAD)
        try:
            out = session.mailbox.execute(xorMagic(request.mapi_request), budget)
        except MapiBufferError:
            return E.EcDoRpcResponse(handle=request.handle, size=request.size, result=EC_RPC_FORMAT)
        blob = xorMagic(out)
        return E.EcDoRpcResponse(
            handle=request.handle, size=request.size, offset=0, mapi_response=blob, length=len(blob), result=0
        )

    def _op4(self, call, request):
        # EcRRegisterPushNotification: accepted, no UDP datagram is sent.
        session = self._session(request.handle)
        return E.EcRRegisterPushNotificationResponse(handle=request.handle, hNotification=session.index, result=0)

    def _op5(self, call, request):
        # EcRUnregisterPushNotification.
        self._session(request.handle)
        return E.EcRUnregisterPushNotificationResponse(handle=request.handle, result=0)

    def _op6(self, call, request):
        # EcDummyRpc.
        return E.EcDummyRpcResponse(result=0)

    def _op9(self, call, request):
        # EcDoRpcExt: not served (clients use EcDoRpcExt2).
        self._session(request.handle)
        return E.EcDoRpcExtResponse(handle=request.handle, Reserved0=request.Reserved0, result=EC_NOT_SUPPORTED)

    def _op10(self, call, request):
        # EcDoConnectEx.
        result, session = self._connect(call, request.szUserDN)
        if session is None:
            return E.EcDoConnectExResponse(result=result, rgwBestVersion=request.rgwClientVersion)
        return E.EcDoConnectExResponse(
            handle=session.handle,
            pcmsPollsMax=POLLS_MAX,
            pcRetry=RETRY_COUNT,
            pcmsRetryDelay=RETRY_DELAY,
            picxr=session.index,
            szDNPrefix=self.store.organization.serverDN,
            szDisplayName=self.store.user(session.account).displayName,
            rgwServerVersion=SERVER_VERSION,
            rgwBestVersion=request.rgwClientVersion,
            pulTimeStamp=request.pulTimeStamp,
            rgbAuxOut=b"",
            result=0,
        )

    def _op11(self, call, request):
        # EcDoRpcExt2.
        session = self._session(request.handle)
        started = time.monotonic()
        if request.pcbOut < extbuf.HEADER_SIZE + 2:
            result, rgbOut = EC_BUFFER_TOO_SMALL, b""
        else:
            result, rgbOut = self._runChain(session, request.rgbIn, request.pcbOut, request.pulFlags)
        elapsed = int((time.monotonic() - started) * 1000)
        return E.EcDoRpcExt2Response(
            handle=request.handle, pulFlags=0, rgbOut=rgbOut, rgbAuxOut=b"", pulTransTime=elapsed, result=result
        )

    def _op14(self, call, request):
        # EcDoAsyncConnectEx: the ACXH for AsyncEMSMDB.
        session = self._session(request.handle)
        if session.asyncHandle is None:
            session.asyncHandle = ContextHandle(0, uuid.uuid4())
            self._asyncSessions[session.asyncHandle.uuid] = session
        return E.EcDoAsyncConnectExResponse(async_handle=session.asyncHandle, result=0)
