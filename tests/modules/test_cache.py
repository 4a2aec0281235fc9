"""
The C{cache} module: its options, its on-disk store, and downloads through
the proxy from a scripted Exchange that serves a mailbox and counts the
RopReadStream it answers.
"""

import hashlib
import os
import random
import stat
import uuid
from collections import Counter

from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks, returnValue
from twisted.logger import formatEvent, globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface import implementer
from zope.interface.verify import verifyObject

from mapiproxy.auth.credentials import Credentials, ServerIdentity
from mapiproxy.auth.passdb import PassDB, addUser
from mapiproxy.auth.security import makeInitiator
from mapiproxy.config import ConfigValue, ModuleOptions
from mapiproxy.dcerpc.client import connectRPC
from mapiproxy.dcerpc.constants import AuthType
from mapiproxy.dcerpc.server import RPCServerFactory
from mapiproxy.errors import ConfigError
from mapiproxy.imapiproxy import IModule, IRPCInterface
from mapiproxy.interfaces import emsmdb as E
from mapiproxy.interfaces.ndr import ContextHandle
from mapiproxy.interfaces.registry import lookupByName
from mapiproxy.mapi import extbuf
from mapiproxy.mapi.obfuscation import xorMagic
from mapiproxy.mapi.rops import RopContext, decodeRequests, decodeResponses, encodeRequests, encodeResponses
from mapiproxy.mapi.rops.logon import LOGON_PRIVATE, LogonRequest, LogonResponse
from mapiproxy.mapi.rops.message import (
    OpenAttachmentRequest,
    OpenAttachmentResponse,
    OpenMessageRequest,
    OpenMessageResponse,
)
from mapiproxy.mapi.rops.notify import ReleaseRequest
from mapiproxy.mapi.rops.property import (
    OpenStreamRequest,
    OpenStreamResponse,
    ReadStreamRequest,
    ReadStreamResponse,
    SeekStreamRequest,
    SeekStreamResponse,
)
from mapiproxy.modules.cache import CacheModule, parseSize
from mapiproxy.modules.cachestore import EntryKey, EntryStore
from mapiproxy.service import MapiProxyService
from tests.fakeexchange import EXCHANGE, FakeExchange, FakeNspi, FakeRfr
from tests.relaysupport import (
    CLIENT_DOMAIN,
    CLIENT_PASSWORD,
    CLIENT_USER,
    PROXY_HOST,
    UPSTREAM_DOMAIN,
    UPSTREAM_HOST,
    UPSTREAM_PASSWORD,
    UPSTREAM_USER,
    proxyConfig,
)

ORG_DN = "/o=First Organization/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn="
ALICE_DN = ORG_DN + "alice"
BOB_DN = ORG_DN + "bob"
ALICE_GUID = uuid.UUID("a11ce000-0000-4000-8000-000000000001")
INBOX = 0x0001000000000123
MESSAGE = 0x0001000000004567
ATTACHMENT = 1
PR_ATTACH_DATA_BIN = 0x37010102
PR_BODY_W = 0x1000001F
ATTACHMENT_SIZE = 5 * 1024 * 1024 + 321
ATTACHMENT_DATA = random.Random(7).randbytes(ATTACHMENT_SIZE)
BODY = ("Meeting notes. " * 300).encode("utf-16-le")
CHUNK = 0x7000
PLACEHOLDER = 0xFFFFFFFF
EC_ACCESS_DENIED = 0x80070005
EC_NOT_FOUND = 0x8004010F
EC_NULL_OBJECT = 0x000004B9
PLAIN = E.NO_COMPRESSION | E.NO_XOR_MAGIC
CONNECT = dict(
    ulCpid=1252,
    ulLcidString=1033,
    ulLcidSort=1033,
    ulIcxrLink=0xFFFFFFFF,
    usFCanConvertCodePages=1,
    rgwClientVersion=(0x000C, 0x183E, 0x03E8),
)


def options(**values):
    """
    A module options view as the config would build it (each option on its
    own line of C{cache.conf}).
    """
    lines = [ConfigValue("mpm_cache:%s" % (k,), v, "cache.conf", n) for n, (k, v) in enumerate(values.items(), 3)]
    return ModuleOptions(lines, ("cache.conf", 2)).forModule("mpm_cache")


# -- a scripted Exchange serving a mailbox ---------------------------------------


class _ServerSession:
    def __init__(self, userDN):
        self.user = userDN.rsplit("=", 1)[-1].lower()
        self.objects = {}
        self.nextHandle = 0x100
        self.ctx = RopContext()

    def add(self, obj):
        handle = self.nextHandle
        self.nextHandle += 1
        self.objects[handle] = obj
        return handle


@implementer(IRPCInterface)
class MailboxEmsmdb:
    """
    EcDoConnect(Ex), EcDoRpc and EcDoRpcExt2 over an in-memory mailbox:
    alice owns one message with a 5 MB attachment and a body; only alice
    may open it. C{reads} counts the successful RopReadStream per stream.
    """

    requireAuthentication = True

    def __init__(self):
        self.info = lookupByName("exchange_emsmdb")
        self.name = "exchange_emsmdb"
        self.syntax = self.info.syntaxId
        self.codec = E.EMSMDB
        self.sessions = {}
        self.reads = Counter()
        self.calls = []
        self.mailboxes = {"alice": ALICE_GUID}
        self.messages = {
            ("alice", INBOX, MESSAGE): {
                None: {PR_BODY_W: BODY},
                ATTACHMENT: {PR_ATTACH_DATA_BIN: ATTACHMENT_DATA},
            }
        }

    def contextBound(self, session):
        return None

    def contextReleased(self, session):
        return None

    def handleCall(self, call):
        request = self.codec.decodeRequest(call.opnum, call.stub)
        self.calls.append(call.opnum)
        return getattr(self, "op_%d" % (call.opnum,))(request).encode()

    def _connect(self, request):
        handle = ContextHandle(0, uuid.uuid4())
        self.sessions[handle.uuid] = _ServerSession(request.szUserDN)
        return handle

    def op_0(self, request):
        return E.EcDoConnectResponse(
            handle=self._connect(request), szDNPrefix="/o=First Organization", szDisplayName=EXCHANGE,
            rgwServerVersion=(0x000E, 0, 0x0308), rgwClientVersion=request.rgwClientVersion,
        )

    def op_1(self, request):
        self.sessions.pop(request.handle.uuid, None)
        return E.EcDoDisconnectResponse(handle=ContextHandle(), result=0)

    def op_10(self, request):
        return E.EcDoConnectExResponse(
            handle=self._connect(request), szDNPrefix="/o=First Organization", szDisplayName=EXCHANGE,
            rgwServerVersion=(0x000E, 0, 0x0308), rgwBestVersion=request.rgwClientVersion,
        )

    def op_11(self, request):
        session = self.sessions[request.handle.uuid]
        (buffer,) = extbuf.decodeChain(request.rgbIn)
        payload = self._execute(session, extbuf.RopBuffer.decode(buffer.payload))
        rgbOut = extbuf.encodeChain(
            [
                extbuf.ExtendedBuffer.make(
                    payload,
                    compressed=not request.pulFlags & E.NO_COMPRESSION,
                    obfuscated=not request.pulFlags & E.NO_XOR_MAGIC,
                )
            ]
        )
        return E.EcDoRpcExt2Response(handle=request.handle, rgbOut=rgbOut, pulTransTime=1, result=0)

    def op_2(self, request):
        session = self.sessions[request.handle.uuid]
        payload = self._execute(session, extbuf.decodeEcDoRpcBlob(request.mapi_request))
        blob = extbuf.encodeEcDoRpcBlob(extbuf.RopBuffer.decode(payload))
        return E.EcDoRpcResponse(handle=request.handle, size=request.size, mapi_response=blob, length=len(payload), result=0)

    def _execute(self, session, ropBuffer):
        requests = decodeRequests(ropBuffer.rops, ropBuffer.handles, session.ctx)
        handles = list(ropBuffer.handles)
        responses = []
        for rop in requests:
            answer = getattr(self, "_rop_%s" % (type(rop).__name__,))(session, rop, handles)
            if answer is not None:
                responses.append(answer)
        rops = encodeResponses(responses, requests, session.ctx, handles=handles, requestHandles=list(ropBuffer.handles))
        return extbuf.RopBuffer(rops, handles).encode()

    def _object(self, session, handles, index):
        if 0 <= index < len(handles):
            return session.objects.get(handles[index])
        return None

    def _created(self, session, handles, index, obj):
        handles[index] = session.add(obj)

    def _rop_LogonRequest(self, session, rop, handles):
        owner = rop.essdn.rsplit("=", 1)[-1].lower() if rop.essdn else None
        if owner not in self.mailboxes:
            return LogonResponse(handleIndex=rop.outputHandleIndex, returnValue=EC_NOT_FOUND)
        self._created(session, handles, rop.outputHandleIndex, ("logon", owner))
        return LogonResponse(
            handleIndex=rop.outputHandleIndex, returnValue=0, logonFlags=rop.logonFlags,
            folderIds=[INBOX] * 13, mailboxGuid=self.mailboxes[owner], replId=1, replGuid=uuid.UUID(int=7),
        )

    def _rop_OpenMessageRequest(self, session, rop, handles):
        parent = self._object(session, handles, rop.inputHandleIndex)
        if parent is None or parent[0] != "logon":
            return OpenMessageResponse(handleIndex=rop.outputHandleIndex, returnValue=EC_NULL_OBJECT)
        owner = parent[1]
        if session.user != owner:
            return OpenMessageResponse(handleIndex=rop.outputHandleIndex, returnValue=EC_ACCESS_DENIED)
        key = (owner, rop.folderId, rop.messageId)
        if key not in self.messages:
            return OpenMessageResponse(handleIndex=rop.outputHandleIndex, returnValue=EC_NOT_FOUND)
        self._created(session, handles, rop.outputHandleIndex, ("message", key, None))
        return OpenMessageResponse(handleIndex=rop.outputHandleIndex, returnValue=0)

    def _rop_OpenAttachmentRequest(self, session, rop, handles):
        parent = self._object(session, handles, rop.inputHandleIndex)
        if parent is None or parent[0] != "message" or rop.attachmentId not in self.messages[parent[1]]:
            return OpenAttachmentResponse(handleIndex=rop.outputHandleIndex, returnValue=EC_NOT_FOUND)
        self._created(session, handles, rop.outputHandleIndex, ("message", parent[1], rop.attachmentId))
        return OpenAttachmentResponse(handleIndex=rop.outputHandleIndex, returnValue=0)

    def _rop_OpenStreamRequest(self, session, rop, handles):
        parent = self._object(session, handles, rop.inputHandleIndex)
        if parent is None or parent[0] != "message":
            return OpenStreamResponse(handleIndex=rop.outputHandleIndex, returnValue=EC_NULL_OBJECT)
        data = self.messages[parent[1]][parent[2]].get(rop.propertyTag)
        if data is None:
            return OpenStreamResponse(handleIndex=rop.outputHandleIndex, returnValue=EC_NOT_FOUND)
        stream = {"key": (parent[1], parent[2], rop.propertyTag), "data": data, "position": 0}
        self._created(session, handles, rop.outputHandleIndex, ("stream", stream))
        return OpenStreamResponse(handleIndex=rop.outputHandleIndex, returnValue=0, streamSize=len(data))

    def _rop_ReadStreamRequest(self, session, rop, handles):
        obj = self._object(session, handles, rop.inputHandleIndex)
        if obj is None or obj[0] != "stream":
            return ReadStreamResponse(handleIndex=rop.inputHandleIndex, returnValue=EC_NULL_OBJECT)
        stream = obj[1]
        wanted = rop.maximumByteCount if rop.byteCount == 0xBABE else rop.byteCount
        start = stream["position"]
        data = stream["data"][start : start + min(wanted, CHUNK)]
        stream["position"] += len(data)
        self.reads[stream["key"]] += 1
        return ReadStreamResponse(handleIndex=rop.inputHandleIndex, returnValue=0, data=data)

    def _rop_SeekStreamRequest(self, session, rop, handles):
        obj = self._object(session, handles, rop.inputHandleIndex)
        if obj is None or obj[0] != "stream":
            return SeekStreamResponse(handleIndex=rop.inputHandleIndex, returnValue=EC_NULL_OBJECT)
        stream = obj[1]
        base = {0: 0, 1: stream["position"], 2: len(stream["data"])}[rop.origin]
        stream["position"] = base + rop.offset
        return SeekStreamResponse(handleIndex=rop.inputHandleIndex, returnValue=0, newPosition=stream["position"])

    def _rop_ReleaseRequest(self, session, rop, handles):
        if 0 <= rop.inputHandleIndex < len(handles):
            session.objects.pop(handles[rop.inputHandleIndex], None)
        return None

    def readsOf(self, attachment=ATTACHMENT, tag=PR_ATTACH_DATA_BIN):
        """
        How many RopReadStream of alice's message stream were answered.
        """
        return self.reads[(("alice", INBOX, MESSAGE), attachment, tag)]


class MailboxExchange(FakeExchange):
    """
    The scripted Exchange of L{tests.fakeexchange} with L{MailboxEmsmdb}
    in place of its EMSMDB.
    """

    def __init__(self, testCase):
        path = testCase.mktemp()
        addUser(path, UPSTREAM_USER, UPSTREAM_PASSWORD)
        identity = ServerIdentity(EXCHANGE, UPSTREAM_DOMAIN)
        self.nspi = FakeNspi()
        self.rfr = FakeRfr()
        self.emsmdb = MailboxEmsmdb()
        self.factory = RPCServerFactory(
            [self.nspi, self.rfr, self.emsmdb], passdb=PassDB.fromFile(path, identity), identity=identity
        )
        self.listener = reactor.listenTCP(0, self.factory, interface=UPSTREAM_HOST)
        testCase.addCleanup(self.listener.stopListening)
        self.port = self.listener.getHost().port


# -- an Outlook-like client built from the codecs -------------------------------


class MailClient:
    """
    Talks EcDoConnectEx/EcDoRpcExt2 (or EcDoConnect/EcDoRpc) to the proxy.
    """

    def __init__(self, proto, opnum=11, flags=PLAIN):
        self.proto = proto
        self.opnum = opnum
        self.flags = flags
        self.ctx = RopContext()
        self.cxh = None
        self.lastFlags = None

    @inlineCallbacks
    def connect(self, userDN):
        if self.opnum == 11:
            answer = yield self.proto.call(10, E.EcDoConnectExRequest(szUserDN=userDN, pcbAuxOut=0x1008, **CONNECT).encode())
            self.cxh = E.EcDoConnectExResponse.decode(answer).handle
        else:
            answer = yield self.proto.call(0, E.EcDoConnectRequest(szUserDN=userDN, **CONNECT).encode())
            self.cxh = E.EcDoConnectResponse.decode(answer).handle

    @inlineCallbacks
    def rops(self, requests, handles):
        """
        Send ROPs; return the responses and the response's handle table.
        """
        payload = extbuf.RopBuffer(encodeRequests(requests, self.ctx, handles), list(handles)).encode()
        if self.opnum == 11:
            rgbIn = extbuf.encodeChain([extbuf.ExtendedBuffer.make(payload, obfuscated=True)])
            stub = E.EcDoRpcExt2Request(handle=self.cxh, pulFlags=self.flags, rgbIn=rgbIn, pcbOut=E.BIG_RANGE, pcbAuxOut=0x1008)
            answer = yield self.proto.call(11, stub.encode())
            response = E.EcDoRpcExt2Response.decode(answer)
            (buffer,) = extbuf.decodeChain(response.rgbOut)
            self.lastFlags = buffer.flags
            ropBuffer = extbuf.RopBuffer.decode(buffer.payload)
        else:
            blob = xorMagic(payload)
            stub = E.EcDoRpcRequest(handle=self.cxh, size=0x8000, mapi_request=blob, length=len(payload), max_data=0x8000)
            answer = yield self.proto.call(2, stub.encode())
            ropBuffer = extbuf.decodeEcDoRpcBlob(E.EcDoRpcResponse.decode(answer).mapi_response)
        responses = decodeResponses(ropBuffer.rops, ropBuffer.handles, requests, self.ctx, requestHandles=list(handles))
        returnValue((responses, ropBuffer.handles))

    @inlineCallbacks
    def logon(self, mailboxDN):
        responses, handles = yield self.rops(
            [LogonRequest(logonId=0, inputHandleIndex=0, logonFlags=LOGON_PRIVATE, openFlags=0x01000000, essdn=mailboxDN)],
            [PLACEHOLDER],
        )
        self.assertOk(responses[0])
        returnValue(handles[0])

    @staticmethod
    def assertOk(response):
        if response.returnValue != 0:
            raise AssertionError("%s failed: 0x%08x" % (response.NAME, response.returnValue))

    @inlineCallbacks
    def openStream(self, logon, attachment=ATTACHMENT, tag=PR_ATTACH_DATA_BIN):
        """
        OpenMessage, OpenAttachment and OpenStream in one buffer (the
        objects are created and used in the same request).

        @return: C{(stream handle, size, [handles to release])} or the
            failed response.
        """
        requests = [OpenMessageRequest(inputHandleIndex=0, outputHandleIndex=1, folderId=INBOX, messageId=MESSAGE)]
        if attachment is not None:
            requests.append(OpenAttachmentRequest(inputHandleIndex=1, outputHandleIndex=2, attachmentId=attachment))
            requests.append(OpenStreamRequest(inputHandleIndex=2, outputHandleIndex=3, propertyTag=tag))
            table = [logon, PLACEHOLDER, PLACEHOLDER, PLACEHOLDER]
        else:
            requests.append(OpenStreamRequest(inputHandleIndex=1, outputHandleIndex=2, propertyTag=tag))
            table = [logon, PLACEHOLDER, PLACEHOLDER]
        responses, handles = yield self.rops(requests, table)
        for response in responses:
            if response.returnValue != 0:
                returnValue(response)
        returnValue((handles[len(table) - 1], responses[-1].streamSize, list(handles[1:])[::-1]))

    @inlineCallbacks
    def read(self, stream, count=CHUNK, maximum=None):
        rop = ReadStreamRequest(inputHandleIndex=0, byteCount=count, maximumByteCount=maximum)
        responses, handles = yield self.rops([rop], [stream])
        (response,) = responses
        self.assertOk(response)
        returnValue(response.data)

    @inlineCallbacks
    def readAll(self, stream, size, stopAfter=None):
        data = bytearray()
        calls = 0
        while len(data) < size:
            chunk = yield self.read(stream)
            if not chunk:
                break
            data += chunk
            calls += 1
            if stopAfter is not None and calls >= stopAfter:
                break
        returnValue(bytes(data))

    @inlineCallbacks
    def release(self, handles):
        responses, _ = yield self.rops([ReleaseRequest(inputHandleIndex=i) for i in range(len(handles))], handles)
        returnValue(responses)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


# -- tests ------------------------------------------------------------------------


class OptionTests(SynchronousTestCase):
    """
    mpm_cache options at start-up.
    """

    def test_providesIModule(self):
        """
        The module provides IModule with OpenChange's name and description.
        """
        module = CacheModule()
        self.assertTrue(verifyObject(IModule, module))
        self.assertEqual((module.name, module.description, module.endpoint), ("cache", "Cache MAPI messages and attachments", "exchange_emsmdb"))

    def test_missingPath(self):
        """
        Without mpm_cache:path start-up stops with the file and line of the
        modules option.
        """
        e = self.assertRaises(ConfigError, CacheModule().startModule, options(ahead="yes"))
        self.assertEqual((e.path, e.line, e.option), ("cache.conf", 2, "mpm_cache:path"))

    def test_unusablePath(self):
        """
        A path below a regular file cannot be created: a ConfigError names
        the option and its line.
        """
        parent = self.mktemp()
        with open(parent, "w") as f:
            f.write("not a directory")
        e = self.assertRaises(ConfigError, CacheModule().startModule, options(path=os.path.join(parent, "cache")))
        self.assertEqual((e.path, e.line, e.option), ("cache.conf", 3, "mpm_cache:path"))
        self.assertIn("cannot use cache directory", str(e))

    def test_options(self):
        """
        ahead, max_size (with a unit) and shared are read; the directory is
        created with mode 0700.
        """
        path = os.path.abspath(self.mktemp())
        module = CacheModule()
        module.startModule(options(path=path, ahead="yes", max_size="512M", shared="yes"))
        self.assertEqual((module.ahead, module.store.maxSize, module.store.shared), (True, 512 << 20, True))
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o700)

    def test_parseSize(self):
        """
        Sizes are bytes or K/M/G/T (powers of 1024); junk and 0 are refused.
        """
        value = lambda text: ConfigValue("mpm_cache:max_size", text, "cache.conf", 9)
        self.assertEqual([parseSize(value(t)) for t in ("1000", "4k", "1G", "2 MiB", "3TB")], [1000, 4096, 1 << 30, 2 << 20, 3 << 40])
        for bad in ("abc", "0", "-5", "1.5G"):
            e = self.assertRaises(ConfigError, parseSize, value(bad))
            self.assertEqual(e.line, 9)

    def test_replacedSyncOptions(self):
        """
        OpenChange's sync, sync_min and sync_cmd are accepted with a warning
        each, naming where they are.
        """
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        CacheModule().startModule(options(path=os.path.abspath(self.mktemp()), sync="yes", sync_min="1000", sync_cmd="/usr/bin/rsync __FILE__"))
        texts = [formatEvent(e) for e in events if e.get("log_namespace") == "mapiproxy.cache"]
        self.assertEqual(len(texts), 3)
        self.assertIn("cache.conf:6: 'mpm_cache:sync_cmd' is ignored", texts[2])


class StoreTests(SynchronousTestCase):
    """
    The on-disk store: atomic complete entries, permissions, eviction.
    """

    def _store(self, maxSize=1 << 20, **kw):
        return EntryStore(os.path.abspath(self.mktemp()), maxSize, **kw)

    def _write(self, store, key, data):
        writer = store.writer(key, len(data))
        self.assertIsNotNone(writer)
        self.assertTrue(writer.append(data))
        return store.lookup(key, len(data))

    def test_keyPath(self):
        """
        The mailbox is hashed into the path; ids and tags are hex; a message
        stream and an attachment stream of the same tag differ.
        """
        message = EntryKey("dn:/o=x/cn=alice", 0x12, 0xAB, None, PR_BODY_W)
        attachment = EntryKey("dn:/o=x/cn=alice", 0x12, 0xAB, 3, PR_BODY_W)
        other = EntryKey("dn:/o=x/cn=bob", 0x12, 0xAB, None, PR_BODY_W)
        mailbox = "m-" + hashlib.sha256(b"dn:/o=x/cn=alice").hexdigest()[:32]
        self.assertEqual(message.relativePath(), os.path.join(mailbox, "0x12", "0xab", "0x1000001f.stream"))
        self.assertEqual(attachment.relativePath(), os.path.join(mailbox, "0x12", "0xab", "a3", "0x1000001f.stream"))
        self.assertNotEqual(other.relativePath().split(os.sep)[0], mailbox)

    def test_partialNeverVisible(self):
        """
        Until the last byte is written the entry does not exist; an aborted
        writer leaves no file behind, not even its temporary one.
        """
        store = self._store()
        key = EntryKey("guid:1", 1, 2, None, 3)
        writer = store.writer(key, 10)
        self.assertFalse(writer.append(b"01234"))
        self.assertIsNone(store.lookup(key, 10))
        self.assertIsNone(store.open(key, 10))
        writer.abort()
        files = [f for _, _, fs in os.walk(store.path) for f in fs]
        self.assertEqual(files, [])

    def test_completeEntry(self):
        """
        The last byte makes the entry appear with its content; a lookup with
        another size (the stream changed upstream) misses.
        """
        store = self._store()
        key = EntryKey("guid:1", 1, 2, None, 3)
        path = self._write(store, key, b"0123456789")
        with open(path, "rb") as f:
            self.assertEqual(f.read(), b"0123456789")
        self.assertIsNone(store.lookup(key, 11))

    def test_tooManyBytes(self):
        """
        A writer given more bytes than the stream's size aborts.
        """
        store = self._store()
        key = EntryKey("guid:1", 1, 2, None, 3)
        writer = store.writer(key, 4)
        self.assertFalse(writer.append(b"12345"))
        self.assertTrue(writer.done)
        self.assertIsNone(store.lookup(key, 4))

    def test_permissions(self):
        """
        Entries are 0600, every directory 0700.
        """
        store = self._store()
        path = self._write(store, EntryKey("guid:1", 1, 2, 5, 3), b"secret")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        directory = os.path.dirname(path)
        while len(directory) >= len(store.path):
            self.assertEqual(stat.S_IMODE(os.stat(directory).st_mode), 0o700, directory)
            directory = os.path.dirname(directory)

    def test_oneWriterPerEntry(self):
        """
        While an entry is being written (its lock file held), a second
        writer of the same entry is refused; after the first aborts, a new
        one is accepted.
        """
        store = self._store()
        key = EntryKey("guid:1", 1, 2, None, 3)
        first = store.writer(key, 4)
        self.assertIsNone(store.writer(key, 4))
        self.assertIsNone(EntryStore(store.path, 1 << 20, shared=True).writer(key, 4))
        first.abort()
        self.assertIsNotNone(store.writer(key, 4))

    def test_eviction(self):
        """
        Over max_size the least recently used entries go first; a lookup
        counts as a use; an entry larger than the limit is never written.
        """
        store = self._store(maxSize=250)
        keys = [EntryKey("guid:1", 1, n, None, 3) for n in range(3)]
        paths = [self._write(store, k, bytes([n]) * 100) for n, k in enumerate(keys[:2])]
        os.utime(paths[0], (1000, 1000))
        os.utime(paths[1], (2000, 2000))
        store.lookup(keys[0], 100)  # used now: the most recent
        self._write(store, keys[2], b"\x02" * 100)
        self.assertEqual([store.lookup(k, 100) is not None for k in keys], [True, False, True])
        self.assertIsNone(store.writer(EntryKey("guid:1", 1, 9, None, 3), 251))

    def test_staleTemporaryRemoved(self):
        """
        At start-up a non-shared store removes every temporary file; a
        shared one removes only those older than an hour.
        """
        path = os.path.abspath(self.mktemp())
        os.makedirs(path)
        old, fresh = os.path.join(path, ".a.stream.1.tmp"), os.path.join(path, ".b.stream.2.tmp")
        for name in (old, fresh):
            open(name, "w").close()
        os.utime(old, (1, 1))
        EntryStore(path, 100, shared=True)
        self.assertEqual((os.path.exists(old), os.path.exists(fresh)), (False, True))
        EntryStore(path, 100)
        self.assertFalse(os.path.exists(fresh))


class _Session:
    def __init__(self):
        self.state = {}


class _Call:
    """
    The parts of a L{mapiproxy.calls.RelayedCall} the module reads.
    """

    answeredLocally = False

    def __init__(self, opnum, request, session):
        self.opnum = opnum
        self.request = request
        self.session = session
        self.notes = {}


class BadInputTests(SynchronousTestCase):
    """
    Requests the module cannot follow are left alone.
    """

    def test_undecodableBuffer(self):
        """
        A corrupt rgbIn raises nothing: the call is relayed untouched and
        the session's followed objects are forgotten.
        """
        module = CacheModule()
        module.startModule(options(path=os.path.abspath(self.mktemp())))
        session = _Session()
        handle = ContextHandle(0, uuid.uuid4())
        good = _Call(11, E.EcDoRpcExt2Request(handle=handle, rgbIn=extbuf.encodeChain([extbuf.ExtendedBuffer.make(b"\x02\x00")])), session)
        self.assertIsNone(module.request(good))
        self.assertIsNone(module.dispatch(good))
        (connection,) = session.state["mpm_cache"].values()
        connection.objects[0x42] = object()
        for rgbIn in (b"\x00\x00\x07", b"\x00\x00\x04\x00\x03\x00\x03\x00\x05\x00\x2c"):
            bad = _Call(11, E.EcDoRpcExt2Request(handle=handle, rgbIn=rgbIn), session)
            self.assertIsNone(module.request(bad))
            self.assertNotIn("mpm_cache", bad.notes)
            self.assertIsNone(module.dispatch(bad))
            self.assertEqual(connection.objects, {})
            connection.objects[0x42] = object()


class CacheProxyTests(TestCase):
    """
    Downloads through the proxy with the cache module, from the scripted
    mailbox server.
    """

    timeout = 120

    def setUp(self):
        self.exchange = MailboxExchange(self)
        self.cachePath = os.path.abspath(self.mktemp())

    def _start(self, **values):
        values.setdefault("path", self.cachePath)
        self.module = CacheModule()
        self.module.startModule(options(**values))
        config = proxyConfig(self, "ncacn_ip_tcp:127.0.0.1[%d,seal]" % (self.exchange.port,), interfaces="exchange_emsmdb")
        self.service = MapiProxyService(config, reactor)
        for interface in self.service.interfaces:
            interface.modules = [self.module] if interface.name == "exchange_emsmdb" else []
        self.service.startService()
        self.addCleanup(self.service.stopService)

    @inlineCallbacks
    def _client(self, userDN=ALICE_DN, opnum=11, flags=PLAIN):
        security = makeInitiator(AuthType.NTLM, Credentials(CLIENT_USER, CLIENT_PASSWORD, CLIENT_DOMAIN))
        proto = yield connectRPC(
            reactor, PROXY_HOST, self.service.ports["exchange_emsmdb"], [lookupByName("exchange_emsmdb").syntaxId], security=security
        )
        self.addCleanup(proto.disconnect)
        client = MailClient(proto, opnum, flags)
        yield client.connect(userDN)
        returnValue(client)

    @inlineCallbacks
    def _download(self, client, attachment=ATTACHMENT, tag=PR_ATTACH_DATA_BIN):
        logon = yield client.logon(ALICE_DN)
        stream, size, owned = yield client.openStream(logon, attachment, tag)
        data = yield client.readAll(stream, size)
        yield client.release(owned)
        returnValue((size, data))

    def _entries(self):
        return sorted(os.path.join(d, f) for d, _, fs in os.walk(self.cachePath) for f in fs if not f.startswith("."))

    @inlineCallbacks
    def test_secondDownloadAnsweredLocally(self):
        """
        The 5 MB attachment downloaded twice: the second time the server
        answers no RopReadStream, and both copies hash like the original.
        """
        self._start()
        client = yield self._client()
        size, first = yield self._download(client)
        self.assertEqual(size, ATTACHMENT_SIZE)
        upstreamReads = self.exchange.emsmdb.readsOf()
        self.assertEqual(upstreamReads, -(-ATTACHMENT_SIZE // CHUNK))
        other = yield self._client()
        size, second = yield self._download(other)
        self.assertEqual(self.exchange.emsmdb.readsOf(), upstreamReads)
        self.assertEqual((sha256(first), sha256(second)), (sha256(ATTACHMENT_DATA), sha256(ATTACHMENT_DATA)))
        (entry,) = self._entries()
        self.assertEqual(os.path.getsize(entry), ATTACHMENT_SIZE)

    @inlineCallbacks
    def test_concurrentReaders(self):
        """
        Two sessions reading the same cached stream in turns each get the
        whole attachment, with their own positions, from the disk.
        """
        self._start()
        client = yield self._client()
        yield self._download(client)
        reads = self.exchange.emsmdb.readsOf()
        readers = []
        for n in range(2):
            reader = yield self._client()
            logon = yield reader.logon(ALICE_DN)
            stream, size, owned = yield reader.openStream(logon)
            readers.append([reader, stream, bytearray()])
        while any(len(data) < ATTACHMENT_SIZE for _, _, data in readers):
            for reader, stream, data in readers:
                if len(data) < ATTACHMENT_SIZE:
                    chunk = yield reader.read(stream, 0x5000 if reader is readers[0][0] else 0x3000)
                    data += chunk
        self.assertEqual([sha256(bytes(d)) for _, _, d in readers], [sha256(ATTACHMENT_DATA)] * 2)
        self.assertEqual(self.exchange.emsmdb.readsOf(), reads)

    @inlineCallbacks
    def test_ecDoRpcPath(self):
        """
        EcDoConnect/EcDoRpc (the downgraded path) is cached too: the message
        body read a second time never reaches the server.
        """
        self._start()
        client = yield self._client(opnum=2)
        size, first = yield self._download(client, attachment=None, tag=PR_BODY_W)
        reads = self.exchange.emsmdb.readsOf(None, PR_BODY_W)
        self.assertGreater(reads, 0)
        client = yield self._client(opnum=2)
        size, second = yield self._download(client, attachment=None, tag=PR_BODY_W)
        self.assertEqual((first, second), (BODY, BODY))
        self.assertEqual(self.exchange.emsmdb.readsOf(None, PR_BODY_W), reads)
        self.assertEqual(self.exchange.emsmdb.calls.count(2), (3 + reads) + 3)

    @inlineCallbacks
    def test_refusedUserNotServed(self):
        """
        bob, whom the server refuses alice's message, gets nothing from the
        cache: his OpenMessage fails, and a RopReadStream on the handle
        value alice's stream had is relayed and refused upstream.
        """
        self._start()
        alice = yield self._client()
        logon = yield alice.logon(ALICE_DN)
        stream, size, owned = yield alice.openStream(logon)
        yield alice.readAll(stream, size)
        reads = self.exchange.emsmdb.readsOf()
        bob = yield self._client(BOB_DN)
        bobLogon = yield bob.logon(ALICE_DN)
        refused = yield bob.openStream(bobLogon)
        self.assertEqual((refused.NAME, refused.returnValue), ("RopOpenMessage", EC_ACCESS_DENIED))
        responses, _ = yield bob.rops([ReadStreamRequest(inputHandleIndex=0, byteCount=CHUNK)], [stream])
        self.assertEqual((responses[0].returnValue, responses[0].data), (EC_NULL_OBJECT, b""))
        self.assertEqual(self.exchange.emsmdb.readsOf(), reads)
        self.assertEqual(self.exchange.emsmdb.calls[-1], 11)
        self.assertEqual(len(self._entries()), 1)

    @inlineCallbacks
    def test_readAhead(self):
        """
        With ahead, the first RopReadStream makes the proxy fetch the whole
        stream; every later one is answered from the disk.
        """
        self._start(ahead="yes")
        client = yield self._client()
        logon = yield client.logon(ALICE_DN)
        stream, size, owned = yield client.openStream(logon)
        first = yield client.read(stream)
        self.assertEqual(first, ATTACHMENT_DATA[:CHUNK])
        reads = self.exchange.emsmdb.readsOf()
        self.assertEqual(reads, -(-ATTACHMENT_SIZE // CHUNK))
        self.assertEqual(len(self._entries()), 1)
        rest = yield client.readAll(stream, size - len(first))
        self.assertEqual(sha256(first + rest), sha256(ATTACHMENT_DATA))
        self.assertEqual(self.exchange.emsmdb.readsOf(), reads)

    @inlineCallbacks
    def test_abortedDownloadNotCached(self):
        """
        A client that goes away mid-download leaves no entry (nor temporary
        file); the next download is served entirely by the server.
        """
        self._start()
        client = yield self._client()
        logon = yield client.logon(ALICE_DN)
        stream, size, owned = yield client.openStream(logon)
        part = yield client.readAll(stream, size, stopAfter=10)
        self.assertEqual(part, ATTACHMENT_DATA[: 10 * CHUNK])
        client.proto.disconnect()
        yield _sleep(0.3)
        self.assertEqual([d for d, _, fs in os.walk(self.cachePath) for f in fs], [])
        other = yield self._client()
        size, data = yield self._download(other)
        self.assertEqual(sha256(data), sha256(ATTACHMENT_DATA))
        self.assertEqual(self.exchange.emsmdb.readsOf(), 10 + -(-ATTACHMENT_SIZE // CHUNK))

    @inlineCallbacks
    def test_localAnswerFraming(self):
        """
        A local answer follows the request's flags (XOR and compression
        when not refused, none with NO_COMPRESSION|NO_XOR_MAGIC), honours
        0xBABE's MaximumByteCount, and reads past the end give 0 bytes.
        """
        self._start()
        client = yield self._client()
        yield self._download(client, attachment=None, tag=PR_BODY_W)
        reads = self.exchange.emsmdb.readsOf(None, PR_BODY_W)
        client = yield self._client(flags=0)
        logon = yield client.logon(ALICE_DN)
        stream, size, owned = yield client.openStream(logon, None, PR_BODY_W)
        data = yield client.read(stream, 0xBABE, 1000)
        self.assertEqual(data, BODY[:1000])
        self.assertEqual(client.lastFlags & (extbuf.XOR_MAGIC | extbuf.COMPRESSED), extbuf.XOR_MAGIC | extbuf.COMPRESSED)
        client.flags = PLAIN
        rest = yield client.read(stream, 0xFFFF)
        self.assertEqual(client.lastFlags, extbuf.LAST)
        self.assertEqual(data + rest, BODY)
        after = yield client.read(stream)
        self.assertEqual(after, b"")
        self.assertEqual(self.exchange.emsmdb.readsOf(None, PR_BODY_W), reads)

    @inlineCallbacks
    def test_fallbackSeeksUpstream(self):
        """
        After local answers, a request the cache cannot answer alone is
        relayed only once the server's stream is at the client's position,
        so the client still gets the right bytes.
        """
        self._start()
        client = yield self._client()
        yield self._download(client)
        reads = self.exchange.emsmdb.readsOf()
        logon = yield client.logon(ALICE_DN)
        stream, size, owned = yield client.openStream(logon)
        head = yield client.readAll(stream, size, stopAfter=2)
        self.assertEqual(self.exchange.emsmdb.readsOf(), reads)
        responses, _ = yield client.rops(
            [ReadStreamRequest(inputHandleIndex=0, byteCount=100), SeekStreamRequest(inputHandleIndex=0, origin=1, offset=0)], [stream]
        )
        self.assertEqual(responses[0].data, ATTACHMENT_DATA[len(head) : len(head) + 100])
        self.assertEqual(responses[1].newPosition, len(head) + 100)
        self.assertEqual(self.exchange.emsmdb.readsOf(), reads + 1)


def _sleep(seconds):
    from twisted.internet.task import deferLater

    return deferLater(reactor, seconds, lambda: None)
