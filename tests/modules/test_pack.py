"""
Tests for L{mapiproxy.modules.pack}: the options, the pack and unpack steps
on ROP buffers (golden bytes and properties over random ROP lists), the
request hook on EcDoRpc and EcDoRpcExt2, and chains of real proxies over
loopback sockets in front of the scripted Exchange.
"""

import string
from struct import pack

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks
from twisted.internet.task import deferLater
from twisted.logger import formatEvent, globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface.verify import verifyObject

import mapiproxy.modules as modulesPackage
import tests.fakeexchange as fakeexchange
from mapiproxy.auth.credentials import Credentials
from mapiproxy.auth.passdb import addUser
from mapiproxy.auth.security import makeInitiator
from mapiproxy.calls import RelayedCall
from mapiproxy.config import ConfigValue, ModuleOptions
from mapiproxy.dcerpc.client import connectRPC
from mapiproxy.dcerpc.constants import AuthType
from mapiproxy.dcerpc.server import RPCServerProtocol
from mapiproxy.errors import ConfigError, MapiBufferError, RopError
from mapiproxy.imapiproxy import IModule
from mapiproxy.interfaces import emsmdb as E
from mapiproxy.interfaces.codecs import codecFor
from mapiproxy.interfaces.registry import lookupByName
from mapiproxy.mapi import extbuf
from mapiproxy.mapi.oxcdata import TaggedPropertyValue
from mapiproxy.mapi.rops import RopContext, decodeRequests, encodeRequests
from mapiproxy.mapi.rops.notify import ProxyPackRequest, ReleaseRequest
from mapiproxy.mapi.rops.property import (
    GetPropertiesAllRequest,
    GetPropertiesSpecificRequest,
    SetPropertiesRequest,
)
from mapiproxy.mapi.rops.sync import (
    SynchronizationConfigureRequest,
    SynchronizationUploadStateStreamBeginRequest,
    SynchronizationUploadStateStreamContinueRequest,
    SynchronizationUploadStateStreamEndRequest,
)
from mapiproxy.modules.base import Module
from mapiproxy.modules.pack import (
    PackModule,
    packRops,
    parseOpnums,
    repackRopBuffer,
    splitRequests,
    unpackRops,
)
from mapiproxy.service import MapiProxyService
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

PR_DISPLAY_NAME_W = 0x3001001F
PR_MESSAGE_FLAGS = 0x0E070003
PR_BINARY = 0x0FFF0102

# -- golden ROP requests ([MS-OXCROPS] 2.2.8.3.1, 2.2.8.6.1, 2.2.15.3.1),
# written out by hand.

#: RopGetPropertiesSpecific: RopId 07, LogonId 0, InputHandleIndex 0,
#: PropertySizeLimit 0, WantUnicode 0, one tag PR_DISPLAY_NAME_W.
GOLDEN_GET = bytes.fromhex("070000" "0000" "0000" "0100" "1f000130")
#: RopSetProperties: RopId 0A, LogonId 0, InputHandleIndex 1,
#: PropertyValueSize 10, count 1, PR_MESSAGE_FLAGS = 1.
GOLDEN_SET = bytes.fromhex("0a0001" "0a00" "0100" "0300070e" "01000000")
#: RopRelease: RopId 01, LogonId 0, InputHandleIndex 2.
GOLDEN_RELEASE = bytes.fromhex("010002")
GOLDEN_HANDLES = [1, 2, 3]
_TABLE = pack("<3I", *GOLDEN_HANDLES)
#: The client's ROP buffer: RopSize 2 + 31, the ROPs, the handle table.
GOLDEN_BUFFER = pack("<H", 33) + GOLDEN_GET + GOLDEN_SET + GOLDEN_RELEASE + _TABLE
#: The same with RopSetProperties (index 1) moved into RopProxyPack:
#: A5 00 00, cb = 16 (the position byte and the 15-byte ROP), 01, the ROP.
GOLDEN_PACKED = (
    pack("<H", 2 + 13 + 3 + 5 + 16)
    + GOLDEN_GET
    + GOLDEN_RELEASE
    + bytes.fromhex("a50000" "1000" "01")
    + GOLDEN_SET
    + _TABLE
)


def _options(text=None, lasthop=None, path="/etc/samba/smb.conf"):
    """
    The C{mpm_pack} view of module options, as L{loadModules} hands it in.
    """
    values = []
    if text is not None:
        values.append(ConfigValue("mpm_pack:opnums", text, path, 12))
    if lasthop is not None:
        values.append(ConfigValue("mpm_pack:lasthop", lasthop, path, 13))
    return ModuleOptions(values, (path, 10)).forModule("mpm_pack")


def _module(text=None, lasthop=None):
    module = PackModule()
    module.startModule(_options(text, lasthop))
    return module


def _ropBuffer(items, handles=(0x11, 0x22)):
    """
    A ROP input buffer holding C{items}, encoded by the ROP codec.
    """
    handles = list(handles)
    return extbuf.RopBuffer(encodeRequests(items, RopContext(), handles), handles).encode()


def _ropIds(payload):
    buffer = extbuf.RopBuffer.decode(payload)
    return [item.ROP_ID for item in decodeRequests(buffer.rops, buffer.handles, RopContext())]


class OptionTests(SynchronousTestCase):
    """
    C{mpm_pack:opnums} and C{mpm_pack:lasthop}.
    """

    def test_provides(self):
        """
        The module provides L{IModule} with OpenChange's name, description
        and endpoint.
        """
        module = _module()
        verifyObject(IModule, module)
        self.assertEqual(
            (module.name, module.description, module.endpoint),
            ("pack", "Pack specified MAPI calls into a custom MAPI call", "exchange_emsmdb"),
        )

    def test_hexadecimal(self):
        """
        Every item is hexadecimal, with or without C{0x}, in any case.
        """
        module = _module("0x0A, 70;0X75 77 2c")
        self.assertEqual(module.opnums, frozenset({0x0A, 0x70, 0x75, 0x77, 0x2C}))
        self.assertEqual(parseOpnums(ConfigValue("mpm_pack:opnums", "0x70 0a 7F", "f", 1)), (0x70, 0x0A, 0x7F))

    def test_defaults(self):
        """
        Without options nothing is packed and this is a last hop.
        """
        module = _module()
        self.assertEqual((module.opnums, module.lasthop), (frozenset(), True))

    def test_lasthop(self):
        """
        C{lasthop = no} makes a middle hop.
        """
        self.assertFalse(_module("0x70", "no").lasthop)
        self.assertTrue(_module("0x70", "yes").lasthop)

    def _error(self, text, lasthop=None):
        error = self.assertRaises(ConfigError, _module, text, lasthop)
        return str(error)

    def test_outOfRange(self):
        """
        0, 0xFF and anything larger are refused with file, line and option.
        """
        for text, shown in (("0x0", "0x0"), ("ff", "0xFF"), ("0x100", "0x100"), ("0x70,00", "0x0")):
            message = self._error(text)
            self.assertIn("/etc/samba/smb.conf:12: 'mpm_pack:opnums': ", message)
            self.assertIn("ROP id %s is out of range (0x01..0xFE)" % (shown,), message)

    def test_notHexadecimal(self):
        """
        A word that is not a hexadecimal number is refused.
        """
        for word in ("0xZZ", "-1", "0x", "g1", "+7", "1_0"):
            message = self._error("0x70 " + word)
            self.assertEqual(
                message, "/etc/samba/smb.conf:12: 'mpm_pack:opnums': %r is not a hexadecimal ROP id" % (word,)
            )

    def test_duplicate(self):
        """
        The same id twice (whatever its spelling) is refused.
        """
        self.assertEqual(
            self._error("0x70, 0a, 70"),
            "/etc/samba/smb.conf:12: 'mpm_pack:opnums': ROP id 0x70 is listed twice",
        )

    def test_proxyPackItself(self):
        """
        0xA5, the pack ROP, cannot be packed.
        """
        self.assertIn("0xA5 is the pack ROP itself", self._error("0xa5"))

    def test_badLasthop(self):
        """
        A lasthop that is not a boolean is refused at its own line.
        """
        message = self._error("0x70", "maybe")
        self.assertIn("/etc/samba/smb.conf:13: 'mpm_pack:lasthop': ", message)

    def test_errorFromConfigFile(self):
        """
        Loaded from an smb.conf, a bad list stops start-up with the file and
        the line where C{mpm_pack:opnums} is written.
        """
        _registerPack(self)
        config = proxyConfig(
            self,
            "ncacn_ip_tcp:127.0.0.1[1,seal]",
            interfaces="exchange_emsmdb",
            extra="    dcerpc_mapiproxy:modules = pack\n    mpm_pack:opnums = 0x70, 0x1FF\n",
        )
        error = self.assertRaises(
            ConfigError, modulesPackage.loadModules, config.modules, config.moduleOptions, config.errorFor
        )
        self.assertEqual(error.option, "mpm_pack:opnums")
        with open(error.path) as f:
            line = f.read().splitlines()[error.line - 1]
        self.assertEqual(line.strip(), "mpm_pack:opnums = 0x70, 0x1FF")
        self.assertIn("ROP id 0x1FF is out of range", str(error))


class GoldenTests(SynchronousTestCase):
    """
    The pack and unpack steps on hand-written buffers.
    """

    def test_golden(self):
        """
        The hand-written request and the codec agree.
        """
        items = [
            GetPropertiesSpecificRequest(0, 0, 0, 0, [PR_DISPLAY_NAME_W]),
            SetPropertiesRequest(0, 1, [TaggedPropertyValue(PR_MESSAGE_FLAGS, 1)]),
            ReleaseRequest(0, 2),
        ]
        self.assertEqual(_ropBuffer(items, GOLDEN_HANDLES), GOLDEN_BUFFER)

    def test_pack(self):
        """
        RopSetProperties moves, after its index byte, into a RopProxyPack
        appended after the others; RopSize grows by 5 + 1; the handle
        table stays.
        """
        packed, action = repackRopBuffer(GOLDEN_BUFFER, RopContext(), {0x0A, 0x70})
        self.assertEqual((packed, action), (GOLDEN_PACKED, "pack"))

    def test_unpack(self):
        """
        The last hop puts RopSetProperties back at index 1.
        """
        restored, action = repackRopBuffer(GOLDEN_PACKED, RopContext(), frozenset())
        self.assertEqual((restored, action), (GOLDEN_BUFFER, "unpack"))

    def test_packedDecodes(self):
        """
        The packed buffer decodes as a RopProxyPack holding the original
        ROP at its position.
        """
        buffer = extbuf.RopBuffer.decode(GOLDEN_PACKED)
        items = decodeRequests(buffer.rops, buffer.handles, RopContext())
        self.assertEqual([i.ROP_ID for i in items], [0x07, 0x01, 0xA5])
        self.assertEqual([(p.position, p.request.ROP_ID) for p in items[-1].packed], [(1, 0x0A)])
        self.assertEqual(items[-1].packed[0].request.propertyValues, [TaggedPropertyValue(PR_MESSAGE_FLAGS, 1)])

    def test_nothingToPack(self):
        """
        A buffer without a listed ROP stays as it is.
        """
        self.assertEqual(repackRopBuffer(GOLDEN_BUFFER, RopContext(), {0x70}), (None, "nothing"))

    def test_idle(self):
        """
        An idle buffer (RopSize 2) is never touched.
        """
        self.assertEqual(repackRopBuffer(pack("<HI", 2, 7), RopContext(), {0x0A}), (None, "idle"))

    def test_undelimited(self):
        """
        A buffer whose ROPs cannot all be delimited (here an unknown RopId
        after the listed one) is not packed.
        """
        payload = pack("<H", 2 + len(GOLDEN_SET) + 4) + GOLDEN_SET + b"\x28\x00\x00\x00"
        result, reason = repackRopBuffer(payload, RopContext(), {0x0A})
        self.assertIsNone(result)
        self.assertIn("cannot be delimited", reason)

    def test_notRopBuffer(self):
        """
        Bytes that are not a ROP buffer raise L{MapiBufferError}.
        """
        self.assertRaises(MapiBufferError, repackRopBuffer, b"\x01", RopContext(), {0x0A})
        self.assertRaises(MapiBufferError, repackRopBuffer, pack("<H", 9) + b"\x00", RopContext(), {0x0A})

    def _proxyPack(self, blob, before=GOLDEN_GET):
        rops = before + bytes.fromhex("a50000") + pack("<H", len(blob)) + blob
        return pack("<H", 2 + len(rops)) + rops

    def test_positionPastEnd(self):
        """
        A packed position past the restored list is an error.
        """
        payload = self._proxyPack(b"\x02" + GOLDEN_SET)
        error = self.assertRaises(RopError, repackRopBuffer, payload, RopContext(), ())
        self.assertEqual(str(error), "packed ROP position 2 is past the end of a 2-ROP list")

    def test_positionTwice(self):
        """
        Two packed ROPs at one position are an error.
        """
        payload = self._proxyPack(b"\x00" + GOLDEN_SET + b"\x00" + GOLDEN_RELEASE, before=b"")
        error = self.assertRaises(RopError, repackRopBuffer, payload, RopContext(), ())
        self.assertEqual(str(error), "packed ROP position 0 is used twice")

    def test_corruptBlob(self):
        """
        A RopProxyPack blob that does not decode into ROPs is an error,
        never forwarded.
        """
        payload = self._proxyPack(b"\x00\x28\x00\x00")
        error = self.assertRaises(RopError, repackRopBuffer, payload, RopContext(), ())
        self.assertIn("does not decode", str(error))

    def test_twoProxyPacks(self):
        """
        ROPs from two RopProxyPacks all go back to their positions.
        """
        rops = (
            GOLDEN_GET
            + bytes.fromhex("a50000") + pack("<H", 1 + len(GOLDEN_SET)) + b"\x02" + GOLDEN_SET
            + bytes.fromhex("a50000") + pack("<H", 1 + len(GOLDEN_RELEASE)) + b"\x00" + GOLDEN_RELEASE
        )
        pieces = splitRequests(rops, [], RopContext())
        self.assertEqual(unpackRops(pieces), GOLDEN_RELEASE + GOLDEN_GET + GOLDEN_SET)

    def test_packIndexTooLarge(self):
        """
        A ROP past index 255 cannot carry its position: packing refuses.
        """
        rops = GOLDEN_RELEASE * 256 + GOLDEN_SET
        pieces = splitRequests(rops, [], RopContext())
        self.assertRaises(RopError, packRops, pieces, {0x0A})
        self.assertIsNone(packRops(pieces, {0x70}))


# -- random ROP lists built from real ROP classes

_u8 = st.integers(0, 0xFF)
_u16 = st.integers(0, 0xFFFF)
_u32 = st.integers(0, 0xFFFFFFFF)
_tags = st.lists(_u32, max_size=4)
_values = st.one_of(
    st.builds(TaggedPropertyValue, st.just(PR_MESSAGE_FLAGS), _u32),
    st.builds(TaggedPropertyValue, st.just(PR_DISPLAY_NAME_W), st.text(string.ascii_letters + " éü", max_size=12)),
    st.builds(TaggedPropertyValue, st.just(PR_BINARY), st.binary(max_size=16)),
)
_header = dict(logonId=_u8, inputHandleIndex=_u8)
_requests = st.one_of(
    st.builds(ReleaseRequest, **_header),
    st.builds(GetPropertiesSpecificRequest, propertySizeLimit=_u16, wantUnicode=_u16, propertyTags=_tags, **_header),
    st.builds(GetPropertiesAllRequest, propertySizeLimit=_u16, wantUnicode=_u16, **_header),
    st.builds(SetPropertiesRequest, propertyValues=st.lists(_values, max_size=3), **_header),
    st.builds(
        SynchronizationConfigureRequest,
        outputHandleIndex=_u8,
        synchronizationType=st.sampled_from([1, 2]),
        sendOptions=_u8,
        synchronizationFlags=_u16,
        synchronizationExtraFlags=_u32,
        propertyTags=_tags,
        **_header,
    ),
    st.builds(SynchronizationUploadStateStreamBeginRequest, statePropertyTag=_u32, transferBufferSize=_u32, **_header),
    st.builds(SynchronizationUploadStateStreamContinueRequest, streamData=st.binary(max_size=24), **_header),
    st.builds(SynchronizationUploadStateStreamEndRequest, **_header),
)
_ids = [0x01, 0x07, 0x08, 0x0A, 0x70, 0x75, 0x76, 0x77]


class PropertyTests(SynchronousTestCase):
    """
    Pack then unpack over random ROP lists.
    """

    @settings(max_examples=200, deadline=None)
    @given(
        st.lists(_requests, min_size=1, max_size=20),
        st.sets(st.sampled_from(_ids)),
        st.lists(_u32, max_size=4),
    )
    def test_roundTrip(self, items, opnums, handles):
        """
        The last hop restores the first hop's input byte for byte; between
        them the listed ROPs travel in one RopProxyPack at the end, each
        with its original index, and the others keep their order.
        """
        payload = _ropBuffer(items, handles)
        packed, action = repackRopBuffer(payload, RopContext(), opnums)
        wanted = [i for i, item in enumerate(items) if item.ROP_ID in opnums]
        if not wanted:
            self.assertEqual((packed, action), (None, "nothing"))
            return
        self.assertEqual(action, "pack")
        buffer = extbuf.RopBuffer.decode(packed)
        self.assertEqual(buffer.handles, handles)
        decoded = decodeRequests(buffer.rops, buffer.handles, RopContext())
        proxyPack = decoded[-1]
        self.assertIsInstance(proxyPack, ProxyPackRequest)
        self.assertEqual((proxyPack.logonId, proxyPack.inputHandleIndex), (0, 0))
        self.assertEqual([p.position for p in proxyPack.packed], wanted)
        self.assertEqual([p.request for p in proxyPack.packed], [items[i] for i in wanted])
        self.assertEqual(decoded[:-1], [item for item in items if item.ROP_ID not in opnums])
        self.assertEqual(buffer.ropSize, extbuf.RopBuffer.decode(payload).ropSize + 5 + len(wanted))
        restored, action = repackRopBuffer(packed, RopContext(), opnums)
        self.assertEqual((restored, action), (payload, "unpack"))


# -- the request hook on relayed calls


class _Session:
    def __init__(self):
        self.state = {}


class _Call:
    def __init__(self, opnum, stub, session):
        self.opnum = opnum
        self.stub = stub
        self.session = session


def _relayed(opnum, request, session=None):
    call = _Call(opnum, request.encode(), session or _Session())
    return RelayedCall(call, "exchange_emsmdb", codecFor("exchange_emsmdb"), lambda: 0.0)


def _compressible():
    """
    ROPs with a long repeated string, so that compression keeps paying
    after packing.
    """
    return [
        GetPropertiesSpecificRequest(0, 0, 0, 1, [PR_DISPLAY_NAME_W] * 8),
        SetPropertiesRequest(0, 1, [TaggedPropertyValue(PR_DISPLAY_NAME_W, "packed " * 40)]),
        SynchronizationConfigureRequest(0, 1, outputHandleIndex=2, synchronizationType=1, propertyTags=[PR_MESSAGE_FLAGS]),
        ReleaseRequest(0, 2),
    ]


def _ext2(payload, compressed, obfuscated):
    rgbIn = extbuf.encodeChain([extbuf.ExtendedBuffer.make(payload, compressed=compressed, obfuscated=obfuscated)])
    return E.EcDoRpcExt2Request(pulFlags=0, rgbIn=rgbIn, pcbOut=0x40000, pcbAuxOut=0x1008)


def _ecDoRpc(payload, length=None, size=0x8000):
    blob = bytes(b ^ 0xA5 for b in payload)
    return E.EcDoRpcRequest(size=size, offset=0, mapi_request=blob, length=len(blob) if length is None else length, max_data=0x8000)


def _flagsOf(rgbIn):
    return [b.flags for b in extbuf.decodeChain(rgbIn)]


class HookTests(SynchronousTestCase):
    """
    L{PackModule.request} on EcDoRpcExt2 and EcDoRpc.
    """

    def test_ext2KeepsFlags(self):
        """
        EcDoRpcExt2's rgbIn is packed and framed again with the flags it
        came with (compressed and XOR, XOR, plain); the last hop gives back
        the client's rgbIn exactly.
        """
        payload = _ropBuffer(_compressible())
        first, last = _module("0x0A,0x70"), _module()
        for compressed, obfuscated, flags in ((True, True, 7), (False, True, 6), (False, False, 4)):
            original = _ext2(payload, compressed, obfuscated)
            self.assertEqual(_flagsOf(original.rgbIn), [flags])
            call = _relayed(11, original)
            first.request(call)
            outgoing = call.outgoingRequest()
            self.assertNotEqual(outgoing, call.requestStub)
            packed = E.EcDoRpcExt2Request.decode(outgoing)
            self.assertEqual(_flagsOf(packed.rgbIn), [flags])
            self.assertEqual(_ropIds(extbuf.decodeChain(packed.rgbIn)[0].payload), [0x07, 0x01, 0xA5])
            self.assertEqual((packed.pcbOut, packed.pcbAuxOut, packed.handle), (original.pcbOut, original.pcbAuxOut, original.handle))
            call = _relayed(11, packed)
            last.request(call)
            self.assertEqual(call.outgoingRequest(), original.encode())

    def test_ecDoRpcLength(self):
        """
        EcDoRpc's blob is packed, and C{length} follows it whether it held
        the whole blob (libmapi) or RopSize; a C{size} above the blob (a
        capacity) stays.
        """
        payload = _ropBuffer(_compressible())
        ropSize = extbuf.RopBuffer.decode(payload).ropSize
        for length, grown in ((len(payload), len(payload) + 7), (ropSize, ropSize + 7), (3, 3)):
            original = _ecDoRpc(payload, length=length)
            call = _relayed(2, original)
            _module("0a, 70").request(call)
            packed = E.EcDoRpcRequest.decode(call.outgoingRequest())
            self.assertEqual(len(packed.mapi_request), len(payload) + 7)
            self.assertEqual((packed.length, packed.size, packed.max_data), (grown, 0x8000, 0x8000))
            self.assertEqual(_ropIds(bytes(b ^ 0xA5 for b in packed.mapi_request)), [0x07, 0x01, 0xA5])
            call = _relayed(2, packed)
            _module().request(call)
            self.assertEqual(call.outgoingRequest(), original.encode())

    def test_ecDoRpcSize(self):
        """
        A C{size} equal to the blob length follows it, and one that would be
        below the new blob is raised to it.
        """
        payload = _ropBuffer(_compressible())
        for size in (len(payload), len(payload) + 3):
            call = _relayed(2, _ecDoRpc(payload, size=size))
            _module("0a").request(call)
            packed = E.EcDoRpcRequest.decode(call.outgoingRequest())
            self.assertEqual(packed.size, len(payload) + 6)
            self.assertEqual(len(packed.mapi_request), len(payload) + 6)

    def test_middleHop(self):
        """
        With C{lasthop = no} the request is neither decoded nor changed,
        packed or not.
        """
        payload = _ropBuffer(_compressible())
        packed, _ = repackRopBuffer(payload, RopContext(), {0x0A})
        for opnum, request in ((11, _ext2(payload, True, True)), (11, _ext2(packed, True, True)), (2, _ecDoRpc(packed))):
            call = _relayed(opnum, request)
            _module("0x0A", "no").request(call)
            self.assertFalse(call.requestDecoded)
            self.assertIs(call.outgoingRequest(), call.requestStub)

    def test_otherOpnums(self):
        """
        Calls other than EcDoRpc and EcDoRpcExt2 are not decoded.
        """
        call = _relayed(10, E.EcDoConnectExRequest(szUserDN="/o=x/cn=alice", pcbAuxOut=0x1008))
        _module("0x0A").request(call)
        self.assertFalse(call.requestDecoded)
        self.assertIs(call.outgoingRequest(), call.requestStub)

    def test_idleAndUnlisted(self):
        """
        Idle requests and requests without a listed ROP go out as they came.
        """
        for payload in (pack("<HI", 2, 0x11), _ropBuffer([ReleaseRequest(0, 0)])):
            for call in (_relayed(11, _ext2(payload, True, True)), _relayed(2, _ecDoRpc(payload))):
                _module("0x0A").request(call)
                self.assertIs(call.outgoingRequest(), call.requestStub)

    def test_undecodableLeftAlone(self):
        """
        A stub or rgbIn that does not decode is relayed as it is: the
        upstream judges it.
        """
        garbage = _relayed(11, E.EcDoRpcExt2Request())
        garbage.call.stub = garbage.requestStub = b"\x00\x01"
        badChain = _relayed(11, E.EcDoRpcExt2Request(rgbIn=b"\x00\x00\x09\x00\x01\x00\x01\x00\xff"))
        badBlob = _relayed(2, E.EcDoRpcRequest(mapi_request=b"\xa5"))
        for call in (garbage, badChain, badBlob):
            _module("0x0A").request(call)
            self.assertIs(call.outgoingRequest(), call.requestStub)

    def test_corruptProxyPackFails(self):
        """
        A RopProxyPack that cannot be unpacked fails the call instead of
        reaching Exchange.
        """
        rops = bytes.fromhex("a50000") + pack("<H", 4) + b"\x00\x28\x00\x00"
        payload = pack("<H", 2 + len(rops)) + rops
        call = _relayed(11, _ext2(payload, False, True))
        self.assertRaises(RopError, _module().request, call)

    def test_tooLargeLeftAlone(self):
        """
        A buffer that packing would push past 32 KB is relayed unpacked.
        """
        items = [SetPropertiesRequest(0, 0, [TaggedPropertyValue(PR_BINARY, bytes(8175))])] * 4
        payload = _ropBuffer(items)
        self.assertEqual(len(payload), extbuf.MAX_PAYLOAD - 6)
        call = _relayed(11, _ext2(payload, True, True))
        _module("0x0A").request(call)
        self.assertIs(call.outgoingRequest(), call.requestStub)

    def test_sessionContext(self):
        """
        The ROP context lives with the session, not the module.
        """
        session = _Session()
        module = _module("0x0A")
        module.request(_relayed(11, _ext2(_ropBuffer(_compressible()), True, True), session))
        self.assertIsInstance(session.state["mpm_pack:rops"], RopContext)
        self.assertEqual(vars(module), {"opnums": frozenset({0x0A}), "lasthop": True})


# -- proxies chained over loopback sockets


def _registerPack(testCase):
    """
    Make C{pack} a built-in module for this test (until the lead registers
    it in L{mapiproxy.modules}).
    """
    builtins = modulesPackage._builtins

    def withPack():
        found = dict(builtins())
        found["pack"] = PackModule
        return found

    testCase.patch(modulesPackage, "_builtins", withPack)
    testCase.patch(
        modulesPackage,
        "NOT_YET_IMPLEMENTED",
        tuple(n for n in modulesPackage.NOT_YET_IMPLEMENTED if n != "pack"),
    )


class TrackingProtocol(RPCServerProtocol):
    """
    Keeps the connections the scripted Exchange accepts in its factory's
    C{connections}.
    """

    def connectionMade(self):
        super().connectionMade()
        self.factory.connections.append(self)


class RecordingEmsmdb(fakeexchange.FakeEmsmdb):
    """
    The scripted EMSMDB, also serving EcDoRpc (opnum 2) with an answer
    built from the request's handle table.
    """

    def op_2(self, request):
        buffer = extbuf.decodeEcDoRpcBlob(request.mapi_request)
        reply = extbuf.encodeEcDoRpcBlob(extbuf.RopBuffer(b"", buffer.handles))
        return E.EcDoRpcResponse(
            handle=request.handle, size=request.size, offset=0, mapi_response=reply, length=len(reply), result=0
        )


class Recorder(Module):
    """
    Records the stubs of EcDoRpc/EcDoRpcExt2 requests as they reach it and
    as they would leave, without decoding anything.
    """

    endpoint = "exchange_emsmdb"

    def __init__(self, name):
        self.name = name
        self.seen = []

    def request(self, call):
        if call.opnum in (2, 11):
            self.seen.append((call.opnum, call.requestStub, call.requestDecoded, call.outgoingRequest()))


def _payloadOf(opnum, stub):
    """
    The plain ROP buffer of an EcDoRpc or EcDoRpcExt2 request stub, and its
    RPC_HEADER_EXT flags.
    """
    if opnum == 11:
        (buf,) = extbuf.decodeChain(E.EcDoRpcExt2Request.decode(stub).rgbIn)
        return buf.payload, buf.flags
    return bytes(b ^ 0xA5 for b in E.EcDoRpcRequest.decode(stub).mapi_request), None


class ChainTests(TestCase):
    """
    client -> proxy A (packs) [-> proxy C (middle)] -> proxy B (unpacks)
    -> scripted Exchange.
    """

    timeout = 60

    def setUp(self):
        _registerPack(self)
        self.patch(fakeexchange, "FakeEmsmdb", RecordingEmsmdb)
        self.exchange = fakeexchange.FakeExchange(self)
        self.exchange.factory.protocol = TrackingProtocol
        self.exchange.factory.connections = []
        self.addCleanup(self._drained)

    @inlineCallbacks
    def _drained(self):
        """
        Wait until every connection Exchange accepted is closed: closing the
        client closes each hop's upstream in turn.
        """
        for _ in range(500):
            if all(proto.transport.disconnected for proto in self.exchange.factory.connections):
                return
            yield deferLater(reactor, 0.01, lambda: None)
        self.fail("connections to Exchange still open")

    def _proxy(self, host, port, modules, extra="", recorders=(), binding="seal"):
        """
        A proxy of EMSMDB relaying to C{host:port}, its own passdb also
        holding the account the previous hop logs on with (in the next
        proxy's workgroup), and recorders around its modules.
        """
        if host == PROXY_HOST:
            # The next hop is a proxy: log on to it as one of its own users.
            extra += "    dcerpc_mapiproxy:domain = %s\n" % (CLIENT_DOMAIN,)
        config = proxyConfig(
            self,
            "ncacn_ip_tcp:%s[%d,%s]" % (host, port, binding),
            interfaces="exchange_emsmdb",
            extra="    dcerpc_mapiproxy:modules = %s\n%s" % (modules, extra),
        )
        addUser(config.passdbPath, UPSTREAM_USER, UPSTREAM_PASSWORD)
        service = MapiProxyService(config, reactor)
        (interface,) = [i for i in service.interfaces if i.name == "exchange_emsmdb"]
        self.assertEqual([m.name for m in interface.modules], ["pack"])
        before, after = (list(recorders) + [None, None])[:2]
        if before is not None:
            interface.modules.insert(0, before)
        if after is not None:
            interface.modules.append(after)
        service.startService()
        self.addCleanup(service.stopService)
        return service.ports["exchange_emsmdb"]

    @inlineCallbacks
    def _connect(self, host, port, credentials):
        proto = yield connectRPC(
            reactor, host, port, [lookupByName("exchange_emsmdb").syntaxId], security=makeInitiator(AuthType.NTLM, credentials), timeout=10
        )
        self.addCleanup(proto.disconnect)
        return proto

    @inlineCallbacks
    def _session(self, proto):
        """
        EcDoConnectEx, then EcDoRpcExt2 (compressed and XORed) and EcDoRpc
        with ROPs to pack; the answers and the requests sent.
        """
        answer = yield proto.call(10, E.EcDoConnectExRequest(szUserDN="/o=x/cn=alice", pcbAuxOut=0x1008).encode())
        handle = E.EcDoConnectExResponse.decode(answer).handle
        payload = _ropBuffer(_compressible(), handles=[0x0BADF00D, 0xFFFFFFFF, 0xFFFFFFFF])
        ext2 = _ext2(payload, True, True)
        ext2.handle = handle
        rpc = _ecDoRpc(payload)
        rpc.handle = handle
        answers = []
        for opnum, request in ((11, ext2), (2, rpc)):
            answers.append((yield proto.call(opnum, request.encode())))
        return answers, [(11, ext2.encode()), (2, rpc.encode())], payload

    def _upstreamStubs(self):
        return [(opnum, request.encode()) for opnum, request in self.exchange.emsmdb.requests if opnum in (2, 11)]

    @inlineCallbacks
    def test_twoHops(self):
        """
        Exchange receives exactly the client's requests (and the client gets
        what a direct client gets), while between A and B the listed ROPs
        travel in a RopProxyPack, with the same RPC_HEADER_EXT flags and
        consistent EcDoRpc lengths.
        """
        seenAtB = Recorder("at-B")
        portB = self._proxy(UPSTREAM_HOST, self.exchange.port, "pack", recorders=[seenAtB])
        portA = self._proxy(PROXY_HOST, portB, "pack", "    mpm_pack:opnums = 0x0A,0x70\n    mpm_pack:lasthop = yes\n")
        proto = yield self._connect(PROXY_HOST, portA, Credentials(CLIENT_USER, CLIENT_PASSWORD, CLIENT_DOMAIN))
        answers, sent, payload = yield self._session(proto)

        self.assertEqual(self._upstreamStubs(), sent)

        between = [(opnum, _payloadOf(opnum, stub)) for opnum, stub, _, _ in seenAtB.seen]
        self.assertEqual([opnum for opnum, _ in between], [11, 2])
        for opnum, (packed, flags) in between:
            self.assertEqual(_ropIds(packed), [0x07, 0x01, 0xA5])
            self.assertEqual(len(packed), len(payload) + 5 + 2)
        self.assertEqual(between[0][1][1], extbuf.COMPRESSED | extbuf.XOR_MAGIC | extbuf.LAST)
        rpc = E.EcDoRpcRequest.decode(seenAtB.seen[1][1])
        self.assertEqual(rpc.length, len(rpc.mapi_request))

        del self.exchange.emsmdb.requests[:]
        direct = yield self._connect(UPSTREAM_HOST, self.exchange.port, Credentials(UPSTREAM_USER, UPSTREAM_PASSWORD, UPSTREAM_DOMAIN))
        directAnswers, _, _ = yield self._session(direct)
        self.assertEqual(answers, directAnswers)
        self.assertEqual(self._upstreamStubs(), sent)

    @inlineCallbacks
    def test_middleHopPassesThrough(self):
        """
        With A -> C (lasthop no, print mode) -> B, C forwards the packed
        requests byte for byte without its module decoding them, its print
        log shows the RopProxyPack, and Exchange still gets the client's
        requests.
        """
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        seenAtB = Recorder("at-B")
        seenAtC = Recorder("at-C")
        portB = self._proxy(UPSTREAM_HOST, self.exchange.port, "pack", recorders=[seenAtB])
        portC = self._proxy(
            PROXY_HOST,
            portB,
            "pack",
            "    mpm_pack:opnums = 0x0A\n    mpm_pack:lasthop = no\n",
            recorders=[None, seenAtC],
            binding="seal,print",
        )
        portA = self._proxy(PROXY_HOST, portC, "pack", "    mpm_pack:opnums = 0x0A,0x70\n")
        proto = yield self._connect(PROXY_HOST, portA, Credentials(CLIENT_USER, CLIENT_PASSWORD, CLIENT_DOMAIN))
        answers, sent, payload = yield self._session(proto)

        self.assertEqual(self._upstreamStubs(), sent)
        self.assertEqual(len(seenAtC.seen), 2)
        for (opnum, stub, decoded, outgoing), (opnumB, stubB, _, _) in zip(seenAtC.seen, seenAtB.seen):
            self.assertFalse(decoded)
            self.assertIs(outgoing, stub)
            self.assertEqual((opnum, stub), (opnumB, stubB))
            self.assertEqual(_ropIds(_payloadOf(opnum, stub)[0]), [0x07, 0x01, 0xA5])
        printed = "\n".join(formatEvent(e) for e in events if e.get("log_namespace") == "mapiproxy.ndrdump")
        self.assertEqual(printed.count("RopProxyPack (0xa5)"), 2)
        self.assertIn("exchange_emsmdb EcDoRpcExt2 (opnum 11)", printed)
        self.assertEqual([E.EcDoRpcExt2Response.decode(answers[0]).result, E.EcDoRpcResponse.decode(answers[1]).result], [0, 0])
