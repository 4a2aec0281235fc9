# -*- test-case-name: tests.modules.test_cache -*-
"""
C{cache} (OpenChange's C{mpm_cache}): keep message and attachment streams
on disk and answer ReadStream-only requests from the disk, on EcDoRpc
(opnum 2) and EcDoRpcExt2 (opnum 11).

The module follows the server object handles of each EMSMDB session (one
per CXH) through RopLogon, RopOpenMessage, RopOpenAttachment,
RopOpenStream, RopReadStream, RopSeekStream and RopRelease ([MS-OXCROPS]
2.2.3.1, 2.2.6.1, 2.2.6.12, 2.2.9.1, 2.2.9.2, 2.2.9.8, 2.2.15.3): the
input object of a ROP is the request's handle table at its
InputHandleIndex (or, for an object created earlier in the same buffer,
the response's table at that index); the object a ROP creates is the
response's table at its OutputHandleIndex.

Unlike the original:

  - entries are keyed by mailbox (RopLogon's MailboxGuid, else its DN, else
    the EcDoConnect(Ex) user DN) and object (FolderId, MessageId,
    AttachmentID, PropertyTag), see L{mapiproxy.modules.cachestore};
  - a stream is answered locally only to a session that opened it
    upstream, successfully, itself: a user the server refuses gets no
    handle, so nothing from the cache;
  - an entry exists only once complete (temporary file, fsync, atomic
    rename), files are 0600 in 0700 directories, and a size limit evicts
    the least recently used entries;
  - the module remembers, per stream, the client's position and the
    server's; before relaying anything that uses a stream whose two
    positions differ (after local answers), it sends a RopSeekStream
    upstream, so that falling back to the server never returns the wrong
    bytes;
  - OpenChange's rsync scheme (C{sync}, C{sync_min}, C{sync_cmd}) is
    replaced by a cache directory on a shared filesystem
    (C{mpm_cache:shared = yes}); the old options are accepted with a
    warning.

Options: C{mpm_cache:path} (required), C{mpm_cache:ahead} (on the first
ReadStream of a stream, download all of it before answering),
C{mpm_cache:max_size} (bytes, with an optional K/M/G/T suffix; default
1G), C{mpm_cache:shared}.
"""

import re

from twisted.internet.defer import inlineCallbacks, returnValue
from twisted.logger import Logger

from mapiproxy.dcerpc.constants import Status
from mapiproxy.errors import DCERPCFault, MapiProxyError
from mapiproxy.interfaces import emsmdb as E
from mapiproxy.mapi import extbuf
from mapiproxy.mapi.rops import RopContext, UnknownRop, decodeRequests, decodeResponses, encodeRequests, encodeResponses
from mapiproxy.mapi.rops.logon import LOGON_PRIVATE, LogonRequest, LogonResponse
from mapiproxy.mapi.rops.message import OpenAttachmentRequest, OpenMessageRequest
from mapiproxy.mapi.rops.notify import ReleaseRequest
from mapiproxy.mapi.rops.property import (
    READ_STREAM_USE_MAXIMUM,
    STREAM_READ_ONLY,
    OpenStreamRequest,
    ReadStreamRequest,
    ReadStreamResponse,
    SeekStreamRequest,
    SeekStreamResponse,
)
from mapiproxy.modules.base import Module
from mapiproxy.modules.cachestore import CacheStoreError, EntryKey, EntryStore

__all__ = ["CacheModule", "DEFAULT_MAX_SIZE", "parseSize"]

_log = Logger(namespace="mapiproxy.cache")

ECDOCONNECT = 0
ECDODISCONNECT = 1
ECDORPC = 2
ECDOCONNECTEX = 10
ECDORPCEXT2 = 11

#: C{mpm_cache:max_size} when absent: 1 GiB.
DEFAULT_MAX_SIZE = 1 << 30
#: The options of OpenChange's rsync scheme, accepted and ignored.
REPLACED_OPTIONS = ("sync", "sync_min", "sync_cmd")
#: RopSeekStream origin: from the start of the stream ([MS-OXCROPS] 2.2.9.8.1).
_SEEK_BEGINNING = 0
#: The RopReadStream response header: RopId, InputHandleIndex, ReturnValue,
#: DataSize ([MS-OXCROPS] 2.2.9.2.2).
_READ_RESPONSE_OVERHEAD = 8
#: The largest chunk asked for by a read-ahead RopReadStream.
_AHEAD_CHUNK = 0x7000
_STATE_KEY = "mpm_cache"
_NOTES_KEY = "mpm_cache"
_SIZE = re.compile(r"^\s*(\d+)\s*([kmgt]?)(i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parseSize(value):
    """
    Convert a C{mpm_cache:max_size} value: bytes, or a number with a K, M,
    G or T suffix (powers of 1024, an optional C{B} or C{iB} after it).

    @param value: The option.
    @type value: L{mapiproxy.config.ConfigValue}

    @rtype: L{int}
    @raise mapiproxy.errors.ConfigError: On anything else, or 0.
    """
    match = _SIZE.match(value.value)
    if match is None:
        raise value.error("%r is not a size (e.g. 1073741824, 512M, 1G)" % (value.value,))
    size = int(match.group(1)) * _UNITS[match.group(2).lower()]
    if size <= 0:
        raise value.error("the cache size must be positive")
    return size


class _Message:
    """
    A message this session opened: where its streams are kept.
    """

    def __init__(self, mailbox, folderId, messageId):
        self.mailbox = mailbox
        self.folderId = folderId
        self.messageId = messageId

    def keyFor(self, propertyTag):
        return EntryKey(self.mailbox, self.folderId, self.messageId, None, propertyTag)


class _Attachment:
    """
    An attachment this session opened.
    """

    def __init__(self, message, attachmentId):
        self.message = message
        self.attachmentId = attachmentId

    def keyFor(self, propertyTag):
        m = self.message
        return EntryKey(m.mailbox, m.folderId, m.messageId, self.attachmentId, propertyTag)


class _Stream:
    """
    A read-only stream this session opened upstream.

    @ivar position: The seek pointer as the client sees it.
    @ivar upstream: The seek pointer of the server's stream object.
    @ivar writer: The L{EntryWriter} downloading it, or L{None}.
    @ivar file: The open complete entry once answered locally, or L{None}.
    @ivar lost: True when a ROP the module does not follow used the stream
        (its position or content is unknown): never answered locally again.
    """

    def __init__(self, handle, logonId, key, size):
        self.handle = handle
        self.logonId = logonId
        self.key = key
        self.size = size
        self.position = 0
        self.upstream = 0
        self.writer = None
        self.file = None
        self.lost = False

    def dropWriter(self):
        if self.writer is not None:
            self.writer.abort()
            self.writer = None

    def close(self):
        self.dropWriter()
        if self.file is not None:
            self.file.close()
            self.file = None


class _Connection:
    """
    The state of one EMSMDB session (CXH): its logons and the objects the
    module follows, by server object handle.
    """

    def __init__(self):
        self.userDN = None
        self.logons = {}
        self.objects = {}
        self.ropContext = RopContext()

    def drop(self, handle):
        obj = self.objects.pop(handle, None)
        if isinstance(obj, _Stream):
            obj.close()

    def reset(self):
        """
        Forget every object (the module lost track of the handles).
        """
        for handle in list(self.objects):
            self.drop(handle)
        self.ropContext = RopContext()

    def stream(self, handle):
        obj = self.objects.get(handle)
        return obj if isinstance(obj, _Stream) else None


class _Batch:
    """
    One decoded EcDoRpc/EcDoRpcExt2 request: its ROPs and handle table.
    """

    def __init__(self, connection, request, handles, requests):
        self.connection = connection
        self.request = request
        self.handles = handles
        self.requests = requests


def _handleKey(handle):
    return (handle.attributes, handle.uuid)


def _handleAt(table, index):
    if table is not None and 0 <= index < len(table):
        return table[index]
    return None


class CacheModule(Module):
    """
    Cache message and attachment streams on disk; answer ReadStream-only
    requests from the cache.

    @ivar store: The L{EntryStore}.
    @ivar ahead: Whether to read the whole stream on its first ReadStream.
    """

    name = "cache"
    description = "Cache MAPI messages and attachments"
    endpoint = "exchange_emsmdb"

    def __init__(self):
        self.store = None
        self.ahead = False

    # -- start-up ------------------------------------------------------------

    def startModule(self, options):
        """
        Read C{mpm_cache:*} and open the cache directory.

        @param options: The module's options.
        @type options: L{mapiproxy.config.ModuleOptions}
        @raise mapiproxy.errors.ConfigError: C{path} is missing or unusable,
            or an option has a bad value.
        """
        pathValue = options.get("path")
        if pathValue is None:
            raise options.missingError("path", "required option is missing: the directory where streams are cached")
        path = options.getPath("path")
        self.ahead = options.getBool("ahead", False)
        sizeValue = options.get("max_size")
        maxSize = DEFAULT_MAX_SIZE if sizeValue is None else parseSize(sizeValue)
        shared = options.getBool("shared", False)
        for name in REPLACED_OPTIONS:
            value = options.get(name)
            if value is not None:
                _log.warn(
                    "{location}: 'mpm_cache:{option}' is ignored: the rsync scheme is replaced by "
                    "'mpm_cache:shared = yes' with a cache directory on a shared filesystem",
                    location=value.location,
                    option=name,
                )
        try:
            self.store = EntryStore(path, maxSize, shared=shared)
        except CacheStoreError as e:
            raise pathValue.error(str(e))

    # -- hooks ---------------------------------------------------------------

    def request(self, call):
        """
        Decode the ROPs of an EcDoRpc/EcDoRpcExt2 request for L{dispatch}
        and L{response}; a request that does not decode is relayed as it
        is and makes the module forget the session's objects.

        @type call: L{mapiproxy.calls.RelayedCall}
        """
        if call.opnum not in (ECDORPC, ECDORPCEXT2):
            return None
        try:
            request = call.request
        except MapiProxyError:
            # Not ours to judge: relayed as it came.
            return None
        connection = self._connection(call.session, request.handle)
        try:
            if call.opnum == ECDORPCEXT2:
                buffers = extbuf.decodeChain(request.rgbIn)
                if len(buffers) != 1:
                    raise MapiProxyError("rgbIn holds %d buffers" % (len(buffers),))
                ropBuffer = extbuf.RopBuffer.decode(buffers[0].payload)
            else:
                ropBuffer = extbuf.decodeEcDoRpcBlob(request.mapi_request)
            requests = decodeRequests(ropBuffer.rops, ropBuffer.handles, connection.ropContext)
        except MapiProxyError as e:
            _log.debug("mpm_cache: request not followed: {error}", error=str(e))
            connection.reset()
            return None
        if any(isinstance(r, UnknownRop) for r in requests):
            connection.reset()
            return None
        call.notes[_NOTES_KEY] = _Batch(connection, request, list(ropBuffer.handles), requests)
        return None

    def dispatch(self, call):
        """
        Answer a ReadStream-only request from the cache when every stream
        it reads is complete on disk (after reading it ahead, with
        C{mpm_cache:ahead}); otherwise bring the server's streams to the
        client's positions and relay.

        @type call: L{mapiproxy.calls.RelayedCall}
        @return: L{None}, a L{mapiproxy.modules.LocalReply}, or a Deferred
            of either.
        @raise mapiproxy.errors.DCERPCFault: The server's stream cannot be
            brought back to the client's position.
        """
        batch = call.notes.get(_NOTES_KEY)
        if batch is None or not batch.requests:
            return None
        if all(isinstance(r, ReadStreamRequest) for r in batch.requests):
            streams = [batch.connection.stream(_handleAt(batch.handles, r.inputHandleIndex)) for r in batch.requests]
            if None not in streams:
                if self.ahead:
                    return self._aheadThenAnswer(call, batch, streams)
                reply = self._answerLocally(call, batch, streams)
                if reply is not None:
                    return reply
        return self._resynchronize(call, batch)

    def response(self, call):
        """
        Follow what the server did: sessions (EcDoConnect(Ex),
        EcDoDisconnect), logons, opened objects, released handles, and the
        data of relayed RopReadStream, written to the cache.

        @type call: L{mapiproxy.calls.RelayedCall}
        """
        if call.answeredLocally:
            return None
        if call.opnum in (ECDOCONNECT, ECDOCONNECTEX):
            try:
                response = call.response
            except MapiProxyError:
                return None
            if response.result == 0:
                connection = self._connection(call.session, response.handle)
                connection.reset()
                connection.userDN = call.request.szUserDN
            return None
        if call.opnum == ECDODISCONNECT:
            state = call.session.state.get(_STATE_KEY)
            try:
                handle = call.request.handle
            except MapiProxyError:
                return None
            if state is not None:
                connection = state.pop(_handleKey(handle), None)
                if connection is not None:
                    connection.reset()
            return None
        batch = call.notes.get(_NOTES_KEY)
        if batch is None:
            return None
        connection = batch.connection
        try:
            buffers = self._responseBuffers(call.opnum, call.response)
            if buffers is not None:
                self._follow(connection, batch, buffers)
        except MapiProxyError as e:
            _log.debug("mpm_cache: response not followed: {error}", error=str(e))
            connection.reset()
        return None

    def unbind(self, session):
        """
        The client is gone: close its streams; unfinished entries are
        dropped.
        """
        state = session.state.pop(_STATE_KEY, None)
        if state:
            for connection in state.values():
                connection.reset()
        return None

    # -- per-session state -----------------------------------------------------

    def _connection(self, session, handle):
        state = session.state.setdefault(_STATE_KEY, {})
        key = _handleKey(handle)
        connection = state.get(key)
        if connection is None:
            connection = state[key] = _Connection()
        return connection

    # -- following responses ---------------------------------------------------

    def _responseBuffers(self, opnum, response):
        if response.result != 0:
            return None
        if opnum == ECDORPCEXT2:
            if not response.rgbOut:
                return None
            return [extbuf.RopBuffer.decode(b.payload) for b in extbuf.decodeChain(response.rgbOut)]
        return [extbuf.decodeEcDoRpcBlob(response.mapi_response)]

    def _follow(self, connection, batch, buffers):
        """
        Walk the requests and their responses in order, updating the
        objects the session has open.
        """
        first = buffers[0]
        current = list(batch.handles)
        responses = decodeResponses(
            first.rops, first.handles, batch.requests, connection.ropContext, requestHandles=batch.handles
        )
        pending = batch.requests
        nextRequest = 0
        for response in responses:
            if isinstance(response, UnknownRop):
                raise MapiProxyError("response %s does not decode" % (response.NAME,))
            if response.NO_HEADER:
                continue
            index = nextRequest
            while index < len(pending) and (pending[index].ROP_ID != response.ROP_ID or pending[index].NO_RESPONSE):
                index += 1
            if index == len(pending):
                raise MapiProxyError("response %s answers no request" % (response.NAME,))
            for skipped in pending[nextRequest:index]:
                self._unanswered(connection, skipped, current)
            self._answered(connection, pending[index], response, current, first.handles)
            nextRequest = index + 1
        for rest in pending[nextRequest:]:
            self._unanswered(connection, rest, current)
        for extra in buffers[1:]:
            # Chained buffers repeat the last ROPs ([MS-OXCRPC] 3.1.4.2.1.1):
            # only more RopReadStream data matters here.
            for response in decodeResponses(extra.rops, extra.handles, None, connection.ropContext, requestHandles=batch.handles):
                if isinstance(response, ReadStreamResponse):
                    self._readAnswered(connection.stream(_handleAt(current, response.handleIndex)), response)
                elif isinstance(response, UnknownRop):
                    raise MapiProxyError("chained response %s does not decode" % (response.NAME,))

    def _unanswered(self, connection, request, current):
        if isinstance(request, ReleaseRequest):
            handle = _handleAt(current, request.inputHandleIndex)
            if handle is not None:
                connection.drop(handle)
            return
        out = getattr(request, "outputHandleIndex", None)
        if out is not None and 0 <= out < len(current):
            current[out] = None

    def _answered(self, connection, request, response, current, responseHandles):
        inputHandle = None if isinstance(request, LogonRequest) else _handleAt(current, request.inputHandleIndex)
        if isinstance(request, ReadStreamRequest):
            self._readAnswered(connection.stream(inputHandle), response)
            return
        stream = connection.stream(inputHandle)
        if stream is not None:
            if isinstance(response, SeekStreamResponse):
                if response.returnValue == 0:
                    stream.position = stream.upstream = response.newPosition
                else:
                    stream.lost = True
                    stream.dropWriter()
            elif request.ROP_ID not in (0x5E,):  # RopGetStreamSize leaves it alone
                stream.lost = True
                stream.dropWriter()
        destination = getattr(request, "destHandleIndex", None)
        if destination is not None:
            other = connection.stream(_handleAt(current, destination))
            if other is not None:
                other.lost = True
                other.dropWriter()
        out = getattr(request, "outputHandleIndex", None)
        if out is None:
            return
        if response.returnValue != 0 or not 0 <= out < len(responseHandles) or out >= len(current):
            if 0 <= out < len(current):
                current[out] = None
            return
        handle = responseHandles[out]
        connection.drop(handle)
        current[out] = handle
        if isinstance(request, LogonRequest):
            connection.logons[request.logonId] = self._mailboxOf(connection, request, response)
        elif isinstance(request, OpenMessageRequest):
            mailbox = connection.logons.get(request.logonId)
            if mailbox is not None:
                connection.objects[handle] = _Message(mailbox, request.folderId, request.messageId)
        elif isinstance(request, OpenAttachmentRequest):
            parent = connection.objects.get(inputHandle)
            if isinstance(parent, _Message):
                connection.objects[handle] = _Attachment(parent, request.attachmentId)
        elif isinstance(request, OpenStreamRequest):
            parent = connection.objects.get(inputHandle)
            if isinstance(parent, (_Message, _Attachment)) and request.openModeFlags == STREAM_READ_ONLY:
                stream = _Stream(handle, request.logonId, parent.keyFor(request.propertyTag), response.streamSize)
                stream.writer = self.store.writer(stream.key, stream.size)
                connection.objects[handle] = stream

    def _mailboxOf(self, connection, request, response):
        if request.logonFlags & LOGON_PRIVATE:
            if isinstance(response, LogonResponse) and response.mailboxGuid.int:
                return "guid:%s" % (response.mailboxGuid,)
            dn = request.essdn or connection.userDN
            return "dn:%s" % (dn.lower(),) if dn else None
        if isinstance(response, LogonResponse) and response.replGuid.int:
            return "public:%s" % (response.replGuid,)
        return None

    def _readAnswered(self, stream, response):
        if stream is None or response.returnValue != 0:
            return
        data = response.data
        writer = stream.writer
        if writer is not None and not writer.done and writer.written == stream.position:
            writer.append(data)
        if writer is not None and writer.done:
            stream.writer = None
        stream.position += len(data)
        stream.upstream = stream.position

    # -- local answers -----------------------------------------------------------

    def _openLocal(self, stream):
        """
        Make C{stream} answerable from the cache, if it can be.
        """
        if stream.lost:
            return False
        if stream.file is None:
            stream.file = self.store.open(stream.key, stream.size)
            if stream.file is None:
                return False
            stream.dropWriter()
        return True

    def _answerLocally(self, call, batch, streams):
        """
        Answer a ReadStream-only request from the cache, or return L{None}
        when one of its streams is not complete on disk.
        """
        if not all(self._openLocal(s) for s in streams):
            return None
        request = batch.request
        tableSize = 2 + 4 * len(batch.handles)
        if call.opnum == ECDORPCEXT2:
            budget = min(request.pcbOut - extbuf.HEADER_SIZE, extbuf.MAX_PAYLOAD) - tableSize
        else:
            budget = min(request.max_data or extbuf.MAX_PAYLOAD, extbuf.MAX_PAYLOAD) - tableSize
        positions = {}
        plan = []
        for rop, stream in zip(batch.requests, streams):
            wanted = rop.maximumByteCount if rop.byteCount == READ_STREAM_USE_MAXIMUM else rop.byteCount
            position = positions.get(id(stream), stream.position)
            count = max(0, min(wanted, stream.size - position, budget - _READ_RESPONSE_OVERHEAD, 0xFFFF))
            if budget < _READ_RESPONSE_OVERHEAD:
                return None
            budget -= _READ_RESPONSE_OVERHEAD + count
            plan.append((rop, stream, position, count))
            positions[id(stream)] = position + count
        items = []
        try:
            for rop, stream, position, count in plan:
                stream.file.seek(position)
                data = stream.file.read(count)
                if len(data) != count:
                    return None
                items.append(ReadStreamResponse(handleIndex=rop.inputHandleIndex, returnValue=0, data=data))
        except OSError:
            return None
        for rop, stream, position, count in plan:
            stream.position = position + count
        rops = encodeResponses(items, batch.requests, RopContext(), handles=batch.handles, requestHandles=batch.handles)
        payload = extbuf.RopBuffer(rops, list(batch.handles)).encode()
        from mapiproxy.modules import LocalReply

        if call.opnum == ECDORPCEXT2:
            flags = request.pulFlags
            chain = extbuf.encodeChain(
                [
                    extbuf.ExtendedBuffer.make(
                        payload, compressed=not flags & E.NO_COMPRESSION, obfuscated=not flags & E.NO_XOR_MAGIC
                    )
                ]
            )
            response = E.EcDoRpcExt2Response(
                handle=request.handle, pulFlags=0, rgbOut=chain, rgbAuxOut=b"", pulTransTime=0, result=0
            )
        else:
            response = E.EcDoRpcResponse(
                handle=request.handle,
                size=request.size,
                offset=0,
                mapi_response=extbuf.encodeEcDoRpcBlob(extbuf.RopBuffer.decode(payload)),
                length=len(payload),
                result=0,
            )
        _log.debug("mpm_cache: {count} ReadStream answered locally", count=len(items))
        return LocalReply(stub=response.encode())

    # -- talking to the server ourselves ------------------------------------------

    def _stubFor(self, call, batch, requests, handles):
        """
        A request stub of the call's opnum carrying our own ROPs.
        """
        request = batch.request
        rops = encodeRequests(requests, RopContext(), handles)
        ropBuffer = extbuf.RopBuffer(rops, list(handles))
        if call.opnum == ECDORPCEXT2:
            rgbIn = extbuf.encodeChain([extbuf.ExtendedBuffer.make(ropBuffer.encode())])
            return E.EcDoRpcExt2Request(
                handle=request.handle,
                pulFlags=request.pulFlags,
                rgbIn=rgbIn,
                pcbOut=E.BIG_RANGE,
                rgbAuxIn=b"",
                pcbAuxOut=0,
            ).encode()
        blob = extbuf.encodeEcDoRpcBlob(ropBuffer)
        return E.EcDoRpcRequest(
            handle=request.handle,
            size=request.size,
            offset=0,
            mapi_request=blob,
            length=len(blob),
            max_data=request.max_data,
        ).encode()

    @inlineCallbacks
    def _roundTrip(self, call, batch, requests, handles):
        stub = yield call.relayAgain(self._stubFor(call, batch, requests, handles))
        response = call.codec.decodeResponse(call.opnum, stub)
        buffers = self._responseBuffers(call.opnum, response)
        if not buffers:
            raise MapiProxyError("the server answered result 0x%08x" % (response.result,))
        items = []
        for index, ropBuffer in enumerate(buffers):
            items.extend(
                decodeResponses(ropBuffer.rops, ropBuffer.handles, requests if index == 0 else None, RopContext(), requestHandles=handles)
            )
        returnValue(items)

    @inlineCallbacks
    def _resynchronize(self, call, batch):
        """
        Before a request is relayed: seek the server's stream objects that
        lag behind the client's positions (after local answers).
        """
        connection = batch.connection
        behind = []
        for rop in batch.requests:
            if isinstance(rop, ReleaseRequest):
                continue
            stream = connection.stream(_handleAt(batch.handles, rop.inputHandleIndex))
            if stream is not None and stream.position != stream.upstream and stream not in behind:
                behind.append(stream)
        if not behind:
            returnValue(None)
        seeks = [
            SeekStreamRequest(logonId=s.logonId, inputHandleIndex=i, origin=_SEEK_BEGINNING, offset=s.position)
            for i, s in enumerate(behind)
        ]
        try:
            items = yield self._roundTrip(call, batch, seeks, [s.handle for s in behind])
        except MapiProxyError as e:
            items = []
            _log.warn("mpm_cache: cannot resynchronise a stream upstream: {error}", error=str(e))
        answered = [i for i in items if isinstance(i, SeekStreamResponse)]
        for stream, item in zip(behind, answered):
            if item.returnValue == 0 and item.newPosition == stream.position:
                stream.upstream = stream.position
        for stream in behind:
            if stream.upstream != stream.position:
                stream.lost = True
                stream.close()
                raise DCERPCFault(Status.NCA_S_FAULT_UNSPEC, "mpm_cache: stream position lost")
        returnValue(None)

    @inlineCallbacks
    def _aheadThenAnswer(self, call, batch, streams):
        """
        Read-ahead: download each stream of the request that we are
        writing, then answer from the cache; relay when that fails.
        """
        for stream in dict.fromkeys(streams):
            if stream.writer is not None and not stream.lost and stream.writer.written == stream.upstream:
                yield self._readAhead(call, batch, stream)
        reply = self._answerLocally(call, batch, streams)
        if reply is not None:
            returnValue(reply)
        result = yield self._resynchronize(call, batch)
        returnValue(result)

    @inlineCallbacks
    def _readAhead(self, call, batch, stream):
        writer = stream.writer
        while not writer.done:
            wanted = min(_AHEAD_CHUNK, stream.size - stream.upstream)
            read = ReadStreamRequest(logonId=stream.logonId, inputHandleIndex=0, byteCount=wanted)
            try:
                items = yield self._roundTrip(call, batch, [read], [stream.handle])
            except MapiProxyError as e:
                _log.warn("mpm_cache: read-ahead failed: {error}", error=str(e))
                break
            got = 0
            for item in items:
                if not isinstance(item, ReadStreamResponse) or item.returnValue != 0:
                    continue
                if writer.done:
                    break
                writer.append(item.data)
                stream.upstream += len(item.data)
                got += len(item.data)
            if got == 0:
                break
        if not writer.done:
            writer.abort()
        stream.writer = None
        returnValue(None)

