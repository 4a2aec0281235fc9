"""
Tests for L{mapiproxy.mapi.aux}: AUX_HEADER blocks ([MS-OXCRPC] 2.2.2.2).

Golden blocks are laid out by hand from the field lists of [MS-OXCRPC]
2.2.2.2.x (also in OpenChange's exchange.idl): little-endian integers, GUIDs
in their little-endian wire form, strings reached through offsets counted
from the start of the AUX_HEADER, null-terminated UTF-16LE.
"""

import struct
import uuid

from hypothesis import given, settings, strategies as st

from twisted.trial.unittest import SynchronousTestCase

from mapiproxy.errors import MapiBufferError
from mapiproxy.mapi.aux import (
    AUX_VERSION_1,
    AUX_VERSION_2,
    AuxClientConnectionInfo,
    AuxClientControl,
    AuxExOrgInfo,
    AuxHeader,
    AuxOsVersionInfo,
    AuxPerfClientInfo,
    AuxPerfFailureV2,
    AuxPerfMdbSuccess,
    AuxPerfMdbSuccessV2,
    AuxPerfProcessInfo,
    AuxPerfRequestId,
    AuxPerfServerInfo,
    AuxPerfSessionInfo,
    AuxPerfSessionInfoV2,
    AuxProtocolDeviceIdentification,
    AuxServerSessionInfo,
    AuxType,
    RawAuxBlock,
    decodeAux,
    decodeAuxBlocks,
    encodeAux,
    encodeAuxBlocks,
)
from mapiproxy.mapi.extbuf import COMPRESSED, LAST, XOR_MAGIC

_GUID = uuid.UUID("01234567-89ab-cdef-0123-456789abcdef")
# The same GUID as it travels: Data1..Data3 little-endian, Data4 as is.
_GUID_WIRE = bytes.fromhex("67452301ab89efcd0123456789abcdef")


def _w(text):
    """
    A null-terminated UTF-16LE string.
    """
    return text.encode("utf-16-le") + b"\x00\x00"


def _block(version, type_, body):
    """
    An AUX_HEADER (Size counts its own 4 bytes) followed by C{body}.
    """
    return struct.pack("<HBB", 4 + len(body), version, type_) + body


# AUX_PERF_CLIENTINFO laid out by hand, variable parts in an order of our
# own (UserName before MachineName) and 4 bytes of trailing padding:
#   32: UserName "alice"  (12 bytes)
#   44: MachineName "WS01" (10 bytes)
#   54: ClientIP 127.0.0.1
#   58: ClientIPMask 255.0.0.0
#   62: MacAddress 00:11:22:33:44:55
#   68: padding
_CLIENTINFO_BODY = (
    struct.pack(
        "<IHHHHHHHHHHHH",
        1000000,  # AdapterSpeed
        7,  # ClientID
        44,  # MachineNameOffset
        32,  # UserNameOffset
        4,  # ClientIPSize
        54,  # ClientIPOffset
        4,  # ClientIPMaskSize
        58,  # ClientIPMaskOffset
        0,  # AdapterNameOffset
        6,  # MacAddressSize
        62,  # MacAddressOffset
        2,  # ClientMode: cached
        0,  # Reserved
    )
    + _w("alice")
    + _w("WS01")
    + bytes([127, 0, 0, 1])
    + bytes([255, 0, 0, 0])
    + bytes.fromhex("001122334455")
    + b"\x00" * 4
)
_CLIENTINFO = _block(AUX_VERSION_1, 0x02, _CLIENTINFO_BODY)

_SERVER_DN = "/o=Org/ou=Exchange/cn=Configuration/cn=Servers/cn=EX1"
_SERVERINFO = _block(
    AUX_VERSION_1,
    0x03,
    struct.pack("<HHHH", 1, 1, 12, 12 + len(_w(_SERVER_DN))) + _w(_SERVER_DN) + _w("EX1"),
)
_REQUESTID = _block(AUX_VERSION_1, 0x01, struct.pack("<HH", 1, 5))
_SESSIONINFO = _block(AUX_VERSION_1, 0x04, struct.pack("<HH", 3, 0) + _GUID_WIRE)
_SESSIONINFO_V2 = _block(
    AUX_VERSION_2, 0x04, struct.pack("<HH", 3, 0) + _GUID_WIRE + struct.pack("<I", 42)
)
_PROCESSINFO = _block(
    AUX_VERSION_2,
    0x0B,
    struct.pack("<HH", 9, 0) + _GUID_WIRE + struct.pack("<HH", 28, 0) + _w("OUTLOOK.EXE"),
)
_OSVERSIONINFO = _block(
    AUX_VERSION_1,
    0x16,
    struct.pack("<IIII", 148, 10, 0, 19045) + b"\x00" * 132 + struct.pack("<HHI", 1, 2, 0),
)
_EXORGINFO = _block(AUX_VERSION_1, 0x17, struct.pack("<I", 1))
_CLIENT_CONTROL = _block(AUX_VERSION_1, 0x0A, struct.pack("<II", 0x15, 600000))
_BG_MDB_SUCCESS = _block(AUX_VERSION_1, 0x0E, struct.pack("<HHHHII", 1, 2, 3, 4, 50, 60))
_FG_MDB_SUCCESS_V2 = _block(
    AUX_VERSION_2, 0x13, struct.pack("<HHHHHHII", 9, 1, 2, 3, 4, 0, 50, 60)
)
_FAILURE_V2 = _block(
    AUX_VERSION_2,
    0x09,
    struct.pack("<HHHHHHIII", 9, 1, 2, 3, 4, 0, 50, 60, 0x80040115) + b"\x07\x00\x00\x00",
)
_UNKNOWN = _block(AUX_VERSION_1, 0x52, b"\xde\xad\xbe\xef")

_ALL = (
    _CLIENTINFO
    + _SERVERINFO
    + _REQUESTID
    + _SESSIONINFO
    + _SESSIONINFO_V2
    + _PROCESSINFO
    + _OSVERSIONINFO
    + _EXORGINFO
    + _CLIENT_CONTROL
    + _BG_MDB_SUCCESS
    + _FG_MDB_SUCCESS_V2
    + _FAILURE_V2
    + _UNKNOWN
)


class AuxHeaderTests(SynchronousTestCase):
    """
    Tests for L{AuxHeader}.
    """

    def test_decode(self):
        """
        Size, Version and Type are read little-endian.
        """
        self.assertEqual(AuxHeader.decode(b"\x08\x00\x01\x02"), AuxHeader(8, 1, 2))

    def test_encode(self):
        """
        Encoding gives the 4 header bytes back.
        """
        self.assertEqual(AuxHeader(0x108, 2, 0x4A).encode(), b"\x08\x01\x02\x4a")

    def test_sizeBelowHeader(self):
        """
        A Size below 4 is refused.
        """
        self.assertRaises(MapiBufferError, AuxHeader.decode, b"\x03\x00\x01\x01")

    def test_truncated(self):
        """
        Fewer than 4 bytes are refused.
        """
        self.assertRaises(MapiBufferError, AuxHeader.decode, b"\x04\x00\x01")


class KnownBlockTests(SynchronousTestCase):
    """
    Known blocks decode into their fields.
    """

    def test_clientInfo(self):
        """
        AUX_PERF_CLIENTINFO strings and byte fields are read at their
        offsets, wherever they sit.
        """
        [block] = decodeAuxBlocks(_CLIENTINFO)
        self.assertEqual(
            block,
            AuxPerfClientInfo(
                adapterSpeed=1000000,
                clientId=7,
                clientMode=2,
                machineName="WS01",
                userName="alice",
                clientIp=b"\x7f\x00\x00\x01",
                clientIpMask=b"\xff\x00\x00\x00",
                adapterName=None,
                macAddress=bytes.fromhex("001122334455"),
            ),
        )
        self.assertEqual((block.version, block.type), (1, AuxType.PERF_CLIENTINFO))

    def test_serverInfo(self):
        """
        AUX_PERF_SERVERINFO carries the server DN and name.
        """
        [block] = decodeAuxBlocks(_SERVERINFO)
        self.assertIsInstance(block, AuxPerfServerInfo)
        self.assertEqual(
            (block.serverId, block.serverType, block.serverDn, block.serverName),
            (1, 1, _SERVER_DN, "EX1"),
        )

    def test_requestId(self):
        """
        AUX_PERF_REQUESTID is two u16.
        """
        self.assertEqual(
            decodeAuxBlocks(_REQUESTID), [AuxPerfRequestId(sessionId=1, requestId=5)]
        )

    def test_sessionInfoVersions(self):
        """
        Type 0x04 is AUX_PERF_SESSIONINFO in version 1 and
        AUX_PERF_SESSIONINFO_V2 (with a ConnectionID) in version 2; the
        GUID is read in its little-endian wire form.
        """
        [v1] = decodeAuxBlocks(_SESSIONINFO)
        [v2] = decodeAuxBlocks(_SESSIONINFO_V2)
        self.assertEqual(v1, AuxPerfSessionInfo(sessionId=3, sessionGuid=_GUID))
        self.assertEqual(
            v2, AuxPerfSessionInfoV2(sessionId=3, sessionGuid=_GUID, connectionId=42)
        )
        self.assertEqual(v2.version, AUX_VERSION_2)

    def test_processInfo(self):
        """
        AUX_PERF_PROCESSINFO carries the process GUID and name.
        """
        [block] = decodeAuxBlocks(_PROCESSINFO)
        self.assertEqual(
            block, AuxPerfProcessInfo(processId=9, processGuid=_GUID, processName="OUTLOOK.EXE")
        )

    def test_osVersionInfo(self):
        """
        AUX_OSVERSIONINFO is 156 bytes of body around a 132-byte reserved
        area.
        """
        [block] = decodeAuxBlocks(_OSVERSIONINFO)
        self.assertIsInstance(block, AuxOsVersionInfo)
        self.assertEqual(
            (block.osVersionInfoSize, block.majorVersion, block.buildNumber),
            (148, 10, 19045),
        )
        self.assertEqual((block.servicePackMajor, block.servicePackMinor), (1, 2))
        self.assertEqual(len(_OSVERSIONINFO), 160)

    def test_exOrgInfoAndClientControl(self):
        """
        AUX_EXORGINFO and AUX_CLIENT_CONTROL are flag words.
        """
        self.assertEqual(decodeAuxBlocks(_EXORGINFO), [AuxExOrgInfo(orgFlags=1)])
        self.assertEqual(
            decodeAuxBlocks(_CLIENT_CONTROL),
            [AuxClientControl(enableFlags=0x15, expiryTime=600000)],
        )

    def test_backgroundAndForegroundTypes(self):
        """
        The BG/FG variants share the structure of their base type and keep
        their own Type; version 2 selects the V2 structure.
        """
        [bg] = decodeAuxBlocks(_BG_MDB_SUCCESS)
        [fg] = decodeAuxBlocks(_FG_MDB_SUCCESS_V2)
        self.assertEqual(
            bg,
            AuxPerfMdbSuccess(
                clientId=1,
                serverId=2,
                sessionId=3,
                requestId=4,
                timeSinceRequest=50,
                timeToCompleteRequest=60,
                type=AuxType.PERF_BG_MDB_SUCCESS,
            ),
        )
        self.assertIsInstance(fg, AuxPerfMdbSuccessV2)
        self.assertEqual((fg.type, fg.processId, fg.requestId), (0x13, 9, 4))

    def test_failureV2(self):
        """
        AUX_PERF_FAILURE_V2 carries the result code and the operation.
        """
        [block] = decodeAuxBlocks(_FAILURE_V2)
        self.assertIsInstance(block, AuxPerfFailureV2)
        self.assertEqual((block.resultCode, block.requestOperation), (0x80040115, 7))

    def test_unknownTypeIsRaw(self):
        """
        An unknown type stays raw bytes.
        """
        self.assertEqual(decodeAuxBlocks(_UNKNOWN), [RawAuxBlock(1, 0x52, b"\xde\xad\xbe\xef")])

    def test_unknownVersionIsRaw(self):
        """
        A known type in a version without a structure stays raw.
        """
        self.assertEqual(
            decodeAuxBlocks(_block(3, 0x01, b"\x01\x00\x05\x00")),
            [RawAuxBlock(3, 0x01, b"\x01\x00\x05\x00")],
        )
        self.assertIsInstance(
            decodeAuxBlocks(_block(AUX_VERSION_2, 0x01, b"\x01\x00\x05\x00"))[0], RawAuxBlock
        )

    def test_sequence(self):
        """
        A payload of many blocks decodes in order.
        """
        blocks = decodeAuxBlocks(_ALL)
        self.assertEqual(
            [type(b).__name__ for b in blocks],
            [
                "AuxPerfClientInfo",
                "AuxPerfServerInfo",
                "AuxPerfRequestId",
                "AuxPerfSessionInfo",
                "AuxPerfSessionInfoV2",
                "AuxPerfProcessInfo",
                "AuxOsVersionInfo",
                "AuxExOrgInfo",
                "AuxClientControl",
                "AuxPerfMdbSuccess",
                "AuxPerfMdbSuccessV2",
                "AuxPerfFailureV2",
                "RawAuxBlock",
            ],
        )

    def test_oddUtf16Terminator(self):
        """
        A terminator is two zero bytes at an even distance from the string's
        start: "\\u0100A" (00 01 41 00) is not cut at its inner 00 00.
        """
        body = struct.pack("<H", 6) + _w("\u0100A")
        [block] = decodeAuxBlocks(_block(AUX_VERSION_1, 0x4B, body))
        self.assertEqual(block, AuxServerSessionInfo(serverSessionContextInfo="\u0100A"))


class ReencodeTests(SynchronousTestCase):
    """
    Re-encoding keeps unchanged blocks byte-identical and lays out changed
    ones afresh.
    """

    def test_unchangedIsByteIdentical(self):
        """
        Decoding then encoding gives the exact input back, padding and
        field order included.
        """
        self.assertEqual(encodeAuxBlocks(decodeAuxBlocks(_ALL)), _ALL)

    def test_changedClientInfo(self):
        """
        A changed AUX_PERF_CLIENTINFO is laid out in field order after the
        fixed part, offsets recomputed, padded to 4 bytes.
        """
        [block] = decodeAuxBlocks(_CLIENTINFO)
        block.userName = "bob"
        # 32: "WS01" (10), 42: "bob" (8), 50: IP, 54: mask, 58: MAC (6), 64.
        expected = _block(
            AUX_VERSION_1,
            0x02,
            struct.pack(
                "<IHHHHHHHHHHHH", 1000000, 7, 32, 42, 4, 50, 4, 54, 0, 6, 58, 2, 0
            )
            + _w("WS01")
            + _w("bob")
            + bytes([127, 0, 0, 1, 255, 0, 0, 0])
            + bytes.fromhex("001122334455"),
        )
        self.assertEqual(encodeAuxBlocks([block]), expected)

    def test_freshServerInfoPadded(self):
        """
        A new AUX_PERF_SERVERINFO puts its strings at offset 12 and pads the
        block to a multiple of 4.
        """
        block = AuxPerfServerInfo(serverId=2, serverType=3, serverDn="XY", serverName=None)
        # 4 + 8 + 6 = 18 bytes, padded to 20.
        self.assertEqual(
            encodeAuxBlocks([block]),
            struct.pack("<HBBHHHH", 20, 1, 3, 2, 3, 12, 0) + _w("XY") + b"\x00\x00",
        )
        block.serverDn = "X"
        # 4 + 8 + 4 = 16 bytes: no padding.
        self.assertEqual(
            encodeAuxBlocks([block]),
            struct.pack("<HBBHHHH", 16, 1, 3, 2, 3, 12, 0) + _w("X"),
        )

    def test_freshFixedBlock(self):
        """
        A new fixed-size block gets its class's usual type and version.
        """
        self.assertEqual(
            encodeAuxBlocks(
                [AuxPerfSessionInfoV2(sessionId=3, sessionGuid=_GUID, connectionId=42)]
            ),
            _SESSIONINFO_V2,
        )
        self.assertEqual(encodeAuxBlocks([AuxPerfRequestId(sessionId=1, requestId=5)]), _REQUESTID)

    def test_newerBlocksRoundTrip(self):
        """
        AUX_CLIENT_CONNECTION_INFO and AUX_PROTOCOL_DEVICE_IDENTIFICATION
        encode and decode back to equal values.
        """
        blocks = [
            AuxClientConnectionInfo(
                connectionGuid=_GUID,
                connectionAttempts=2,
                connectionFlags=1,
                connectionContextInfo="ctx",
            ),
            AuxProtocolDeviceIdentification(
                deviceManufacturer="Contoso", deviceModel=None, deviceVersion="1.0"
            ),
        ]
        encoded = encodeAuxBlocks(blocks)
        self.assertEqual(decodeAuxBlocks(encoded), blocks)
        # The connection-info string sits right after the 28-byte fixed part.
        self.assertEqual(encoded[4 + 16 : 4 + 18], b"\x20\x00")

    def test_surrogatesSurvive(self):
        """
        Strings with non-BMP characters and lone surrogates round-trip.
        """
        block = AuxPerfProcessInfo(processName="\U0001f600 caf\u00e9 \udc00")
        [back] = decodeAuxBlocks(encodeAuxBlocks([block]))
        self.assertEqual(back.processName, block.processName)


class MalformedBlockTests(SynchronousTestCase):
    """
    Malformed aux payloads raise L{MapiBufferError}.
    """

    def test_sizePastEnd(self):
        """
        A Size larger than the payload is refused.
        """
        self.assertRaises(MapiBufferError, decodeAuxBlocks, _REQUESTID[:-1])

    def test_shortKnownBody(self):
        """
        A known block shorter than its fixed part is refused, or kept raw
        when not strict.
        """
        short = _block(AUX_VERSION_1, 0x01, b"\x01\x00")
        error = self.assertRaises(MapiBufferError, decodeAuxBlocks, short)
        self.assertIn("AuxPerfRequestId", str(error))
        self.assertEqual(decodeAuxBlocks(short, strict=False), [RawAuxBlock(1, 1, b"\x01\x00")])

    def test_stringOffsetOutside(self):
        """
        A string offset past the block is refused.
        """
        body = struct.pack("<HHHH", 1, 1, 200, 0)
        self.assertRaises(MapiBufferError, decodeAuxBlocks, _block(AUX_VERSION_1, 0x03, body))

    def test_stringOffsetInsideHeader(self):
        """
        A string offset pointing into the AUX_HEADER itself is refused.
        """
        body = struct.pack("<HHHH", 1, 1, 2, 0) + _w("x")
        self.assertRaises(MapiBufferError, decodeAuxBlocks, _block(AUX_VERSION_1, 0x03, body))

    def test_unterminatedString(self):
        """
        A string with no terminator inside the block is refused.
        """
        body = struct.pack("<HHHH", 1, 1, 12, 0) + "abc".encode("utf-16-le")
        error = self.assertRaises(
            MapiBufferError, decodeAuxBlocks, _block(AUX_VERSION_1, 0x03, body)
        )
        self.assertIn("ServerDN", str(error))

    def test_bytesOutside(self):
        """
        A byte field running past the block is refused.
        """
        body = bytearray(_CLIENTINFO_BODY)
        struct.pack_into("<H", body, 20, 60)  # MacAddressSize
        self.assertRaises(MapiBufferError, decodeAuxBlocks, _block(1, 0x02, bytes(body)))

    @settings(max_examples=200, deadline=None)
    @given(
        st.lists(
            st.tuples(
                st.sampled_from(
                    [0x01, 0x02, 0x03, 0x04, 0x07, 0x0B, 0x16, 0x4A, 0x4B, 0x4E, 0x99]
                ),
                st.integers(1, 2),
                st.binary(max_size=48),
            ),
            max_size=4,
        ),
        st.binary(max_size=6),
    )
    def test_arbitraryBodiesRaiseOnlyMapiBufferError(self, blocks, tail):
        """
        Blocks with arbitrary bodies (and arbitrary trailing bytes) either
        decode, and then re-encode byte-identically, or raise
        L{MapiBufferError}; nothing else escapes.
        """
        payload = b"".join(_block(v, t, body) for t, v, body in blocks) + tail
        try:
            decoded = decodeAuxBlocks(payload)
        except MapiBufferError:
            return
        self.assertEqual(encodeAuxBlocks(decoded), payload)

    def test_unencodable(self):
        """
        A block past the u16 Size, or a version that is not a byte, is
        refused on encode.
        """
        self.assertRaises(
            MapiBufferError, encodeAuxBlocks, [AuxPerfProcessInfo(processName="x" * 40000)]
        )
        self.assertRaises(MapiBufferError, encodeAuxBlocks, [RawAuxBlock(256, 1, b"")])
        self.assertRaises(
            MapiBufferError, encodeAuxBlocks, [AuxPerfRequestId(sessionId=1 << 16)]
        )


class DecodeAuxTests(SynchronousTestCase):
    """
    Tests for L{decodeAux} and L{encodeAux}: RPC_HEADER_EXT plus blocks.
    """

    def test_plain(self):
        """
        rgbAuxIn with a plain Last header decodes to its blocks.
        """
        rgb = struct.pack("<HHHH", 0, LAST, len(_ALL), len(_ALL)) + _ALL
        buffers, blocks = decodeAux(rgb)
        self.assertEqual(len(buffers), 1)
        self.assertEqual(len(blocks), 13)
        self.assertEqual(blocks[2], AuxPerfRequestId(sessionId=1, requestId=5))

    def test_obfuscated(self):
        """
        An XORed aux payload is un-XORed before the blocks are read.
        """
        rgb = struct.pack("<HHHH", 0, XOR_MAGIC | LAST, 8, 8) + bytes(
            b ^ 0xA5 for b in _REQUESTID
        )
        self.assertEqual(decodeAux(rgb)[1], [AuxPerfRequestId(sessionId=1, requestId=5)])

    def test_empty(self):
        """
        An empty aux buffer (cbAuxIn 0) has no buffer and no block.
        """
        self.assertEqual(decodeAux(b""), ([], []))

    def test_encodeRoundTrip(self):
        """
        encodeAux compresses and XORs as asked, and decodeAux reads it back
        byte-identically.
        """
        blocks = decodeAuxBlocks(_ALL)
        rgb = encodeAux(blocks, compressed=True, obfuscated=True)
        version, flags, size, sizeActual = struct.unpack_from("<HHHH", rgb)
        self.assertEqual(flags, COMPRESSED | XOR_MAGIC | LAST)
        self.assertEqual(sizeActual, len(_ALL))
        self.assertLess(size, sizeActual)
        buffers, back = decodeAux(rgb)
        self.assertEqual(back, blocks)
        self.assertEqual(buffers[0].payload, _ALL)

    def test_badBlockInsideChain(self):
        """
        A malformed block behind a valid header is refused.
        """
        rgb = struct.pack("<HHHH", 0, LAST, 3, 3) + b"\x08\x00\x01"
        self.assertRaises(MapiBufferError, decodeAux, rgb)
