"""
Tests for L{mapiproxy.interfaces.emsmdb}, L{mapiproxy.interfaces.asyncemsmdb}
and L{mapiproxy.interfaces.base}.

Golden stubs are assembled field by field from the [MS-OXCRPC] 3.1.4 /
OpenChange C{exchange.idl} parameter tables (with C{struct.pack}, not with
the code under test); the comments give the offset each field ends at.
"""

import time
from struct import pack
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from mapiproxy.dcerpc.constants import Status
from mapiproxy.errors import DCERPCFault, NDRError
from mapiproxy.interfaces import emsmdb
from mapiproxy.interfaces.asyncemsmdb import (
    ASYNC_EMSMDB,
    NOTIFICATION_PENDING,
    EcDoAsyncWaitExRequest,
    EcDoAsyncWaitExResponse,
)
from mapiproxy.interfaces.base import InterfaceCodec, OpaqueRequest, OpaqueResponse, Operation
from mapiproxy.interfaces.emsmdb import (
    BIG_RANGE,
    EMSMDB,
    SMALL_RANGE,
    EcDoAsyncConnectExRequest,
    EcDoAsyncConnectExResponse,
    EcDoConnectExRequest,
    EcDoConnectExResponse,
    EcDoConnectRequest,
    EcDoConnectResponse,
    EcDoDisconnectRequest,
    EcDoDisconnectResponse,
    EcDoRpcExt2Request,
    EcDoRpcExt2Response,
    EcDoRpcExtRequest,
    EcDoRpcExtResponse,
    EcDoRpcRequest,
    EcDoRpcResponse,
    EcDummyRpcRequest,
    EcDummyRpcResponse,
    EcRRegisterPushNotificationRequest,
    EcRRegisterPushNotificationResponse,
    EcRUnregisterPushNotificationRequest,
    EcRUnregisterPushNotificationResponse,
)
from mapiproxy.interfaces.ndr import ContextHandle
from mapiproxy.interfaces.registry import EXCHANGE_ASYNC_EMSMDB, EXCHANGE_EMSMDB

USER_DN = (
    "/o=First Organization/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)"
    "/cn=Recipients/cn=jdoe"
)
DN_PREFIX = "/o=First Organization/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)"
DISPLAY_NAME = "John Doe"
CLIENT_VERSION = (0x000C, 0x183E, 0x03E8)
SERVER_VERSION = (0x000F, 0x0001, 0x0847)

CXH = ContextHandle(0, UUID("6f1c0a3e-28d4-4b57-9a1e-3c5b7d9e0f21"))
ACXH = ContextHandle(0, UUID("b2e4c6a8-1357-4d9b-8f0e-a1c3e5f70246"))
CXH_BYTES = pack("<I", 0) + CXH.uuid.bytes_le
ACXH_BYTES = pack("<I", 0) + ACXH.uuid.bytes_le
NULL_HANDLE_BYTES = b"\x00" * 20

# An rgbAuxIn: RPC_HEADER_EXT {Version 0, Flags Last, Size 42, SizeActual 42}
# and 42 bytes of AUX blocks.
AUX_IN = pack("<HHHH", 0, 0x0004, 42, 42) + bytes(range(42))
# An rgbAuxOut: header and 16 bytes.
AUX_OUT = pack("<HHHH", 0, 0x0004, 16, 16) + bytes(range(100, 116))

# A ROP buffer {RopSize 5, RopRelease(logon 0, handle index 0), handles
# 0x00000001 0xFFFFFFFF}, XOR 0xA5 as EcDoRpc carries it.
_PLAIN_ROPS = pack("<H", 5) + b"\x01\x00\x00" + pack("<II", 1, 0xFFFFFFFF)
MAPI_REQUEST = bytes(b ^ 0xA5 for b in _PLAIN_ROPS)
# A 21-byte response blob {RopSize 9, 7 bytes of ROP response, three
# handles}, XOR 0xA5.
_PLAIN_RESPONSE = pack("<H", 9) + b"\x01\x00" + pack("<I", 0) + b"\x00" + b"\x00" * 12
MAPI_RESPONSE = bytes(b ^ 0xA5 for b in _PLAIN_RESPONSE)


def _cvString(text):
    """
    A [string] uint8 as NDR sends it: max_count, offset 0, actual_count,
    the characters and a NUL.
    """
    raw = text.encode("latin-1") + b"\x00"
    return pack("<III", len(raw), 0, len(raw)) + raw


# -- golden stubs --------------------------------------------------------------

GOLDEN_CONNECT_EX_REQUEST = (
    _cvString(USER_DN)  # 107
    + b"\x00"  # 108
    + pack("<7I", 0, 0, 0, 1252, 0x409, 0x409, 0xFFFFFFFF)  # 136
    + pack("<H", 1)  # usFCanConvertCodePages, 138
    + pack("<3H", *CLIENT_VERSION)  # 144
    + pack("<I", 0)  # pulTimeStamp, 148
    + pack("<I", 50)  # rgbAuxIn max_count, 152
    + AUX_IN  # 202
    + b"\x00\x00"  # 204
    + pack("<I", 50)  # cbAuxIn, 208
    + pack("<I", 0x1008)  # pcbAuxOut, 212
)

GOLDEN_CONNECT_EX_RESPONSE = (
    CXH_BYTES  # 20
    + pack("<3I", 60000, 6, 10000)  # 32
    + pack("<H", 0x0007)  # picxr, 34
    + b"\x00\x00"  # 36
    + pack("<I", 0x00020000)  # szDNPrefix referent, 40
    + _cvString(DN_PREFIX)  # 125
    + b"\x00" * 3  # 128
    + pack("<I", 0x00020004)  # szDisplayName referent, 132
    + _cvString(DISPLAY_NAME)  # 153
    + b"\x00"  # 154
    + pack("<3H", *SERVER_VERSION)  # 160
    + pack("<3H", *CLIENT_VERSION)  # rgwBestVersion, 166
    + b"\x00\x00"  # 168
    + pack("<I", 0x12345678)  # pulTimeStamp, 172
    + pack("<III", 24, 0, 24)  # rgbAuxOut, 184
    + AUX_OUT  # 208
    + pack("<I", 24)  # pcbAuxOut, 212
    + pack("<I", 0)  # result, 216
)

GOLDEN_CONNECT_REQUEST = GOLDEN_CONNECT_EX_REQUEST[:148]

GOLDEN_CONNECT_RESPONSE = (
    CXH_BYTES  # 20
    + pack("<3I", 60000, 6, 10000)  # 32
    + pack("<I", 0x0007)  # picxr (u32 in OpenChange), 36
    + pack("<I", 0x00020000)  # 40
    + _cvString(DN_PREFIX)  # 125
    + b"\x00" * 3  # 128
    + pack("<I", 0x00020004)  # 132
    + _cvString(DISPLAY_NAME)  # 153
    + b"\x00"  # 154
    + pack("<3H", *SERVER_VERSION)  # 160
    + pack("<3H", *CLIENT_VERSION)  # 166
    + b"\x00\x00"  # 168
    + pack("<I", 0x12345678)  # pullTimeStamp, 172
    + pack("<I", 0)  # result, 176
)

GOLDEN_DISCONNECT_REQUEST = CXH_BYTES
GOLDEN_DISCONNECT_RESPONSE = NULL_HANDLE_BYTES + pack("<I", 0)

GOLDEN_RPC_REQUEST = (
    CXH_BYTES  # 20
    + pack("<II", 0xFFF0, 0)  # size, offset, 28
    + pack("<I", 13)  # 32
    + MAPI_REQUEST  # 45
    + b"\x00"  # 46
    + pack("<HH", 5, 0xFFF0)  # length, max_data, 50
)

GOLDEN_RPC_RESPONSE = (
    CXH_BYTES
    + pack("<II", 0xFFF0, 0)  # 28
    + pack("<I", 21)  # 32
    + MAPI_RESPONSE  # 53
    + b"\x00"  # 54
    + pack("<H", 9)  # length, 56
    + pack("<I", 0)  # result, 60
)

SOCKADDR = pack(">HH4s8x", 0x0200, 0x1234, bytes([127, 0, 0, 1]))
GOLDEN_REGISTER_REQUEST = (
    CXH_BYTES  # 20
    + pack("<I", 0)  # iRpc, 24
    + pack("<I", 7)  # rgbContext max_count, 28
    + b"context"  # 35
    + b"\x00"  # 36
    + pack("<H", 7)  # cbContext, 38
    + b"\x00\x00"  # 40
    + pack("<I", 0x00000001)  # grbitAdviseBits, 44
    + pack("<I", 16)  # 48
    + SOCKADDR  # 64
    + pack("<H", 16)  # 66
)
GOLDEN_REGISTER_RESPONSE = CXH_BYTES + pack("<II", 0x00000011, 0)

GOLDEN_UNREGISTER_REQUEST = CXH_BYTES + pack("<II", 0x11, 0)
GOLDEN_UNREGISTER_RESPONSE = CXH_BYTES + pack("<I", 0)

GOLDEN_RPC_EXT_REQUEST = (
    CXH_BYTES  # 20
    + pack("<I", 0)  # pulFlags, 24
    + pack("<I", 10)  # 28
    + b"0123456789"  # 38
    + b"\x00\x00"  # 40
    + pack("<II", 10, 0x8007)  # cbIn, pcbOut, 48
    + pack("<III", 0, 0, 0)  # Reserved0, 60
    + pack("<I", 0)  # Reserved1, 64
)
GOLDEN_RPC_EXT_RESPONSE = (
    CXH_BYTES
    + pack("<I", 0)  # 24
    + pack("<III", 6, 0, 6)  # 36
    + b"abcdef"  # 42
    + b"\x00\x00"  # 44
    + pack("<I", 6)  # pcbOut, 48
    + pack("<III", 0, 0, 0)  # 60
    + pack("<III", 0, 15, 0)  # Reserved1, pulTransTime, result, 72
)

RGB_IN_40K = pack("<HHHH", 0, 0x0006, 40952, 40952) + bytes(
    (i * 7 + 3) & 0xFF for i in range(40952)
)
AUX_IN_30 = pack("<HHHH", 0, 0x0004, 22, 22) + bytes(range(22))
GOLDEN_RPC_EXT2_REQUEST = (
    CXH_BYTES  # 20
    + pack("<I", 0)  # pulFlags, 24
    + pack("<I", 40960)  # 28
    + RGB_IN_40K  # 40988
    + pack("<I", 40960)  # cbIn, 40992
    + pack("<I", BIG_RANGE)  # pcbOut, 40996
    + pack("<I", 30)  # 41000
    + AUX_IN_30  # 41030
    + b"\x00\x00"  # 41032
    + pack("<I", 30)  # cbAuxIn, 41036
    + pack("<I", SMALL_RANGE)  # pcbAuxOut, 41040
)

RGB_OUT = pack("<HHHH", 0, 0x0006, 1226, 1226) + bytes((i * 13) & 0xFF for i in range(1226))
GOLDEN_RPC_EXT2_RESPONSE = (
    CXH_BYTES
    + pack("<I", 0)  # pulFlags, 24
    + pack("<III", 1234, 0, 1234)  # 36
    + RGB_OUT  # 1270
    + b"\x00\x00"  # 1272
    + pack("<I", 1234)  # pcbOut, 1276
    + pack("<III", 0, 0, 0)  # rgbAuxOut, 1288
    + pack("<I", 0)  # pcbAuxOut, 1292
    + pack("<I", 31)  # pulTransTime, 1296
    + pack("<I", 0)  # result, 1300
)

GOLDEN_ASYNC_CONNECT_REQUEST = CXH_BYTES
GOLDEN_ASYNC_CONNECT_RESPONSE = ACXH_BYTES + pack("<I", 0)

GOLDEN_WAIT_REQUEST = ACXH_BYTES + pack("<I", 0)
GOLDEN_WAIT_RESPONSE = pack("<II", NOTIFICATION_PENDING, 0)

# (opnum, request stub, response stub) of every modelled EMSMDB opnum.
GOLDEN = [
    (0, GOLDEN_CONNECT_REQUEST, GOLDEN_CONNECT_RESPONSE),
    (1, GOLDEN_DISCONNECT_REQUEST, GOLDEN_DISCONNECT_RESPONSE),
    (2, GOLDEN_RPC_REQUEST, GOLDEN_RPC_RESPONSE),
    (4, GOLDEN_REGISTER_REQUEST, GOLDEN_REGISTER_RESPONSE),
    (5, GOLDEN_UNREGISTER_REQUEST, GOLDEN_UNREGISTER_RESPONSE),
    (6, b"", pack("<I", 0)),
    (9, GOLDEN_RPC_EXT_REQUEST, GOLDEN_RPC_EXT_RESPONSE),
    (10, GOLDEN_CONNECT_EX_REQUEST, GOLDEN_CONNECT_EX_RESPONSE),
    (11, GOLDEN_RPC_EXT2_REQUEST, GOLDEN_RPC_EXT2_RESPONSE),
    (14, GOLDEN_ASYNC_CONNECT_REQUEST, GOLDEN_ASYNC_CONNECT_RESPONSE),
]


class GoldenLengthTests(SynchronousTestCase):
    """
    The golden stubs themselves have the lengths the field tables give.
    """

    def test_lengths(self):
        """
        Each golden stub ends where the offsets in its comments say.
        """
        self.assertEqual(
            [
                len(GOLDEN_CONNECT_EX_REQUEST),
                len(GOLDEN_CONNECT_EX_RESPONSE),
                len(GOLDEN_CONNECT_RESPONSE),
                len(GOLDEN_RPC_REQUEST),
                len(GOLDEN_RPC_RESPONSE),
                len(GOLDEN_REGISTER_REQUEST),
                len(GOLDEN_RPC_EXT_REQUEST),
                len(GOLDEN_RPC_EXT_RESPONSE),
                len(GOLDEN_RPC_EXT2_REQUEST),
                len(GOLDEN_RPC_EXT2_RESPONSE),
            ],
            [212, 216, 176, 50, 60, 66, 64, 72, 41040, 1300],
        )


class EcDoConnectExTests(SynchronousTestCase):
    """
    Tests for EcDoConnectEx (opnum 10).
    """

    def test_decodeRequest(self):
        """
        The request decodes to the values it was assembled from.
        """
        self.assertEqual(
            EcDoConnectExRequest.decode(GOLDEN_CONNECT_EX_REQUEST),
            EcDoConnectExRequest(
                szUserDN=USER_DN,
                ulCpid=1252,
                ulLcidString=0x409,
                ulLcidSort=0x409,
                ulIcxrLink=0xFFFFFFFF,
                usFCanConvertCodePages=1,
                rgwClientVersion=CLIENT_VERSION,
                rgbAuxIn=AUX_IN,
                pcbAuxOut=0x1008,
            ),
        )

    def test_encodeRequest(self):
        """
        A request built from values encodes to the golden stub.
        """
        request = EcDoConnectExRequest(
            szUserDN=USER_DN,
            ulCpid=1252,
            ulLcidString=0x409,
            ulLcidSort=0x409,
            ulIcxrLink=0xFFFFFFFF,
            usFCanConvertCodePages=1,
            rgwClientVersion=CLIENT_VERSION,
            rgbAuxIn=AUX_IN,
            pcbAuxOut=0x1008,
        )
        self.assertEqual(request.encode(), GOLDEN_CONNECT_EX_REQUEST)
        self.assertEqual(request.cbAuxIn, 50)

    def test_decodeResponse(self):
        """
        The response decodes to its values, and remembers the referent ids.
        """
        response = EcDoConnectExResponse.decode(GOLDEN_CONNECT_EX_RESPONSE)
        self.assertEqual(
            response,
            EcDoConnectExResponse(
                handle=CXH,
                pcmsPollsMax=60000,
                pcRetry=6,
                pcmsRetryDelay=10000,
                picxr=7,
                szDNPrefix=DN_PREFIX,
                szDisplayName=DISPLAY_NAME,
                rgwServerVersion=SERVER_VERSION,
                rgwBestVersion=CLIENT_VERSION,
                pulTimeStamp=0x12345678,
                rgbAuxOut=AUX_OUT,
                result=0,
            ),
        )
        self.assertEqual(
            (response.szDNPrefixReferent, response.szDisplayNameReferent, response.pcbAuxOut),
            (0x00020000, 0x00020004, 24),
        )

    def test_encodeResponseFreshReferents(self):
        """
        A response built from values numbers its pointers 0x00020000,
        0x00020004 as MIDL and Samba do.
        """
        response = EcDoConnectExResponse(
            handle=CXH,
            pcmsPollsMax=60000,
            pcRetry=6,
            pcmsRetryDelay=10000,
            picxr=7,
            szDNPrefix=DN_PREFIX,
            szDisplayName=DISPLAY_NAME,
            rgwServerVersion=SERVER_VERSION,
            rgwBestVersion=CLIENT_VERSION,
            pulTimeStamp=0x12345678,
            rgbAuxOut=AUX_OUT,
        )
        self.assertEqual(response.encode(), GOLDEN_CONNECT_EX_RESPONSE)

    def test_referentIdsReEmitted(self):
        """
        Referent ids other than MIDL's are re-sent as decoded, so the stub
        round-trips byte for byte.
        """
        stub = bytearray(GOLDEN_CONNECT_EX_RESPONSE)
        stub[36:40] = pack("<I", 0x0000C8A4)
        stub[128:132] = pack("<I", 0x00007A1C)
        stub = bytes(stub)
        response = EcDoConnectExResponse.decode(stub)
        self.assertEqual(response.szDNPrefixReferent, 0x0000C8A4)
        self.assertEqual(response.encode(), stub)

    def test_nullStrings(self):
        """
        NULL string pointers decode to L{None}, and L{None} encodes as a
        zero referent without a string.
        """
        stub = (
            CXH_BYTES
            + pack("<3I", 60000, 6, 10000)
            + pack("<HH", 7, 0)
            + pack("<II", 0, 0)  # two NULL pointers, 44
            + pack("<3H", *SERVER_VERSION)
            + pack("<3H", *CLIENT_VERSION)  # 56
            + pack("<I", 0)  # 60
            + pack("<III", 0, 0, 0)  # 72
            + pack("<II", 0, 0x000004B6)  # 80
        )
        response = EcDoConnectExResponse.decode(stub)
        self.assertEqual(
            (response.szDNPrefix, response.szDisplayName, response.result),
            (None, None, 0x4B6),
        )
        self.assertEqual(response.encode(), stub)

    def test_picxrAsOpenChangeU32(self):
        """
        OpenChange's u32 picxr and Microsoft's u16 plus zero pad are the same
        bytes.
        """
        stub = (
            GOLDEN_CONNECT_EX_RESPONSE[:32] + pack("<I", 7) + GOLDEN_CONNECT_EX_RESPONSE[36:]
        )
        self.assertEqual(stub, GOLDEN_CONNECT_EX_RESPONSE)
        self.assertEqual(EcDoConnectExResponse.decode(stub).picxr, 7)

    def test_nonZeroPadding(self):
        """
        Pad bytes are not interpreted: a stub with non-zero padding decodes
        to the same values (and re-encodes with zero padding).
        """
        stub = bytearray(GOLDEN_CONNECT_EX_REQUEST)
        stub[107] = 0xAB
        stub[202:204] = b"\xcc\xcc"
        decoded = EcDoConnectExRequest.decode(bytes(stub))
        self.assertEqual(decoded, EcDoConnectExRequest.decode(GOLDEN_CONNECT_EX_REQUEST))
        self.assertEqual(decoded.encode(), GOLDEN_CONNECT_EX_REQUEST)

    def test_cbAuxInRange(self):
        """
        C{cbAuxIn} above 0x1008 raises L{NDRError}.
        """
        aux = b"\x00" * (SMALL_RANGE + 1)
        stub = GOLDEN_CONNECT_EX_REQUEST[:148] + pack("<I", len(aux)) + aux
        stub += b"\x00" * (-len(stub) % 4) + pack("<II", len(aux), 0x1008)
        error = self.assertRaises(NDRError, EcDoConnectExRequest.decode, stub)
        self.assertIn("AuxIn", str(error))

    def test_cbAuxInMismatch(self):
        """
        A C{cbAuxIn} different from the array's max_count raises L{NDRError}.
        """
        stub = GOLDEN_CONNECT_EX_REQUEST[:204] + pack("<II", 49, 0x1008)
        self.assertRaises(NDRError, EcDoConnectExRequest.decode, stub)

    def test_pcbAuxOutRange(self):
        """
        C{pcbAuxOut} above 0x1008 raises L{NDRError}.
        """
        stub = GOLDEN_CONNECT_EX_REQUEST[:208] + pack("<I", 0x1009)
        self.assertRaises(NDRError, EcDoConnectExRequest.decode, stub)

    def test_rgbAuxOutCountsMustAgree(self):
        """
        An rgbAuxOut whose max_count, actual_count and C{*pcbAuxOut}
        disagree raises L{NDRError}.
        """
        stub = bytearray(GOLDEN_CONNECT_EX_RESPONSE)
        stub[172:176] = pack("<I", 25)  # max_count 25, actual 24
        self.assertRaises(NDRError, EcDoConnectExResponse.decode, bytes(stub))
        stub = bytearray(GOLDEN_CONNECT_EX_RESPONSE)
        stub[208:212] = pack("<I", 23)  # pcbAuxOut 23
        self.assertRaises(NDRError, EcDoConnectExResponse.decode, bytes(stub))

    def test_encodeAuxOutTooLarge(self):
        """
        Encoding an rgbAuxOut larger than 0x1008 raises L{NDRError}.
        """
        response = EcDoConnectExResponse(rgbAuxOut=b"\x00" * (SMALL_RANGE + 1))
        self.assertRaises(NDRError, response.encode)

    def test_encodeBadVersion(self):
        """
        A version that is not three u16 raises L{NDRError} on encode.
        """
        self.assertRaises(NDRError, EcDoConnectExRequest(rgwClientVersion=(1, 2)).encode)
        self.assertRaises(
            NDRError, EcDoConnectExRequest(rgwClientVersion=(1, 2, 0x10000)).encode
        )


class EcDoRpcExt2Tests(SynchronousTestCase):
    """
    Tests for EcDoRpcExt2 (opnum 11).
    """

    def test_decodeRequest(self):
        """
        A request with a 40 KB rgbIn decodes to its values.
        """
        request = EcDoRpcExt2Request.decode(GOLDEN_RPC_EXT2_REQUEST)
        self.assertEqual(
            request,
            EcDoRpcExt2Request(
                handle=CXH,
                pulFlags=0,
                rgbIn=RGB_IN_40K,
                pcbOut=BIG_RANGE,
                rgbAuxIn=AUX_IN_30,
                pcbAuxOut=SMALL_RANGE,
            ),
        )
        self.assertEqual((request.cbIn, request.cbAuxIn), (40960, 30))

    def test_encodeRequest(self):
        """
        The request built from values encodes to the golden stub.
        """
        request = EcDoRpcExt2Request(CXH, 0, RGB_IN_40K, BIG_RANGE, AUX_IN_30, SMALL_RANGE)
        self.assertEqual(request.encode(), GOLDEN_RPC_EXT2_REQUEST)

    def test_decodeResponse(self):
        """
        The response decodes to its values; C{pcbOut} is the rgbOut length.
        """
        response = EcDoRpcExt2Response.decode(GOLDEN_RPC_EXT2_RESPONSE)
        self.assertEqual(response, EcDoRpcExt2Response(CXH, 0, RGB_OUT, b"", 31, 0))
        self.assertEqual((response.pcbOut, response.pcbAuxOut), (1234, 0))

    def test_encodeResponse(self):
        """
        rgbOut is sent with max_count = actual_count = C{*pcbOut}, as gromox
        and Exchange send it.
        """
        self.assertEqual(
            EcDoRpcExt2Response(CXH, 0, RGB_OUT, b"", 31, 0).encode(), GOLDEN_RPC_EXT2_RESPONSE
        )

    def test_changedPayloadKeepsCountsConsistent(self):
        """
        Replacing rgbIn re-derives C{cbIn} on encode.
        """
        request = EcDoRpcExt2Request.decode(GOLDEN_RPC_EXT2_REQUEST)
        request.rgbIn = b"\x00\x00\x04\x00\x02\x00\x02\x00ab"
        again = EcDoRpcExt2Request.decode(request.encode())
        self.assertEqual((again.rgbIn, again.cbIn), (request.rgbIn, 10))

    def test_pcbOutRange(self):
        """
        C{pcbOut} above 0x40000 raises L{NDRError}.
        """
        stub = bytearray(GOLDEN_RPC_EXT2_REQUEST)
        stub[40992:40996] = pack("<I", BIG_RANGE + 1)
        error = self.assertRaises(NDRError, EcDoRpcExt2Request.decode, bytes(stub))
        self.assertIn("pcbOut", str(error))

    def test_pcbAuxOutRange(self):
        """
        C{pcbAuxOut} above 0x1008 raises L{NDRError}.
        """
        stub = GOLDEN_RPC_EXT2_REQUEST[:-4] + pack("<I", SMALL_RANGE + 1)
        self.assertRaises(NDRError, EcDoRpcExt2Request.decode, stub)

    def test_cbInRange(self):
        """
        An rgbIn over 0x40000 bytes raises L{NDRError} before it is copied.
        """
        stub = CXH_BYTES + pack("<II", 0, BIG_RANGE + 1) + b"\x00" * 16
        self.assertRaises(NDRError, EcDoRpcExt2Request.decode, stub)

    def test_cbInMismatch(self):
        """
        A C{cbIn} that differs from rgbIn's max_count raises L{NDRError}.
        """
        stub = bytearray(GOLDEN_RPC_EXT2_REQUEST)
        stub[40988:40992] = pack("<I", 40956)
        self.assertRaises(NDRError, EcDoRpcExt2Request.decode, bytes(stub))

    def test_rgbOutRange(self):
        """
        An rgbOut over 0x40000 bytes raises L{NDRError}.
        """
        size = BIG_RANGE + 4
        stub = CXH_BYTES + pack("<IIII", 0, size, 0, size) + b"\x00" * size + pack("<I", size)
        stub += pack("<IIII", 0, 0, 0, 0) + pack("<II", 0, 0)
        self.assertRaises(NDRError, EcDoRpcExt2Response.decode, stub)

    def test_rgbOutVaryingMismatch(self):
        """
        An rgbOut whose max_count differs from its actual_count raises
        L{NDRError}.
        """
        stub = bytearray(GOLDEN_RPC_EXT2_RESPONSE)
        stub[24:28] = pack("<I", BIG_RANGE)
        self.assertRaises(NDRError, EcDoRpcExt2Response.decode, bytes(stub))

    def test_largeResponseRoundTrip(self):
        """
        A 256 KB rgbOut decodes and re-encodes byte for byte.
        """
        payload = bytes(range(256)) * 1024
        stub = EcDoRpcExt2Response(CXH, 0, payload, AUX_OUT, 5, 0).encode()
        self.assertEqual(len(stub), 20 + 4 + 12 + BIG_RANGE + 4 + 12 + 24 + 4 + 4 + 4)
        decoded = EcDoRpcExt2Response.decode(stub)
        self.assertEqual((decoded.rgbOut, decoded.encode()), (payload, stub))


class OtherOperationTests(SynchronousTestCase):
    """
    Tests for the remaining EMSMDB opnums and AsyncEMSMDB.
    """

    def test_ecDoConnect(self):
        """
        EcDoConnect (opnum 0) has the EcDoConnectEx request without the aux
        buffers, and a u32 picxr and [in,out] rgwClientVersion in its reply.
        """
        request = EcDoConnectRequest.decode(GOLDEN_CONNECT_REQUEST)
        self.assertEqual(
            (request.szUserDN, request.rgwClientVersion, request.ulIcxrLink),
            (USER_DN, CLIENT_VERSION, 0xFFFFFFFF),
        )
        response = EcDoConnectResponse.decode(GOLDEN_CONNECT_RESPONSE)
        self.assertEqual(
            response,
            EcDoConnectResponse(
                CXH,
                60000,
                6,
                10000,
                7,
                DN_PREFIX,
                DISPLAY_NAME,
                SERVER_VERSION,
                CLIENT_VERSION,
                0x12345678,
                0,
            ),
        )
        self.assertEqual(response.encode(), GOLDEN_CONNECT_RESPONSE)

    def test_ecDoDisconnect(self):
        """
        EcDoDisconnect (opnum 1) carries the handle in, and the zeroed handle
        and result out.
        """
        self.assertEqual(EcDoDisconnectRequest.decode(CXH_BYTES), EcDoDisconnectRequest(CXH))
        response = EcDoDisconnectResponse.decode(GOLDEN_DISCONNECT_RESPONSE)
        self.assertTrue(response.handle.isNull)
        self.assertEqual(EcDoDisconnectResponse().encode(), GOLDEN_DISCONNECT_RESPONSE)

    def test_ecDoRpc(self):
        """
        EcDoRpc (opnum 2) keeps the XOR-obfuscated blob as it is and aligns
        C{length} to 2 and the result to 4 after it.
        """
        request = EcDoRpcRequest.decode(GOLDEN_RPC_REQUEST)
        self.assertEqual(
            request, EcDoRpcRequest(CXH, 0xFFF0, 0, MAPI_REQUEST, 5, 0xFFF0)
        )
        self.assertEqual(bytes(b ^ 0xA5 for b in request.mapi_request), _PLAIN_ROPS)
        response = EcDoRpcResponse.decode(GOLDEN_RPC_RESPONSE)
        self.assertEqual(response, EcDoRpcResponse(CXH, 0xFFF0, 0, MAPI_RESPONSE, 9, 0))
        self.assertEqual(response.encode(), GOLDEN_RPC_RESPONSE)

    def test_ecRRegisterPushNotification(self):
        """
        EcRRegisterPushNotification (opnum 4) pads the u16 lengths after the
        byte arrays.
        """
        request = EcRRegisterPushNotificationRequest.decode(GOLDEN_REGISTER_REQUEST)
        self.assertEqual(
            request, EcRRegisterPushNotificationRequest(CXH, 0, b"context", 1, SOCKADDR)
        )
        self.assertEqual((request.cbContext, request.cbCallbackAddress), (7, 16))
        self.assertEqual(request.encode(), GOLDEN_REGISTER_REQUEST)
        self.assertEqual(
            EcRRegisterPushNotificationResponse.decode(GOLDEN_REGISTER_RESPONSE),
            EcRRegisterPushNotificationResponse(CXH, 0x11, 0),
        )

    def test_ecRRegisterPushNotificationMismatch(self):
        """
        A C{cbContext} that differs from rgbContext's max_count raises
        L{NDRError}.
        """
        stub = bytearray(GOLDEN_REGISTER_REQUEST)
        stub[36:38] = pack("<H", 6)
        self.assertRaises(NDRError, EcRRegisterPushNotificationRequest.decode, bytes(stub))

    def test_ecRUnregisterPushNotification(self):
        """
        EcRUnregisterPushNotification (opnum 5) carries two u32 after the
        handle.
        """
        request = EcRUnregisterPushNotificationRequest.decode(GOLDEN_UNREGISTER_REQUEST)
        self.assertEqual(request.unknown, (0x11, 0))
        self.assertEqual(request.encode(), GOLDEN_UNREGISTER_REQUEST)
        self.assertEqual(
            EcRUnregisterPushNotificationResponse.decode(GOLDEN_UNREGISTER_RESPONSE).handle, CXH
        )

    def test_ecDummyRpc(self):
        """
        EcDummyRpc (opnum 6) has an empty request stub and a result-only
        response; a non-empty request raises L{NDRError}.
        """
        self.assertEqual(EcDummyRpcRequest.decode(b"").encode(), b"")
        self.assertEqual(EcDummyRpcResponse.decode(pack("<I", 0x80040115)).result, 0x80040115)
        self.assertRaises(NDRError, EcDummyRpcRequest.decode, b"\x00")

    def test_ecDoRpcExt(self):
        """
        EcDoRpcExt (opnum 9) carries rgbIn, pcbOut and the conformant varying
        Reserved0.
        """
        request = EcDoRpcExtRequest.decode(GOLDEN_RPC_EXT_REQUEST)
        self.assertEqual(request, EcDoRpcExtRequest(CXH, 0, b"0123456789", 0x8007, b""))
        self.assertEqual((request.cbIn, request.Reserved1), (10, 0))
        response = EcDoRpcExtResponse.decode(GOLDEN_RPC_EXT_RESPONSE)
        self.assertEqual(response, EcDoRpcExtResponse(CXH, 0, b"abcdef", b"", 15, 0))
        self.assertEqual(response.encode(), GOLDEN_RPC_EXT_RESPONSE)

    def test_ecDoAsyncConnectEx(self):
        """
        EcDoAsyncConnectEx (opnum 14) turns a CXH into an ACXH.
        """
        self.assertEqual(
            EcDoAsyncConnectExRequest.decode(GOLDEN_ASYNC_CONNECT_REQUEST).handle, CXH
        )
        response = EcDoAsyncConnectExResponse.decode(GOLDEN_ASYNC_CONNECT_RESPONSE)
        self.assertEqual(response, EcDoAsyncConnectExResponse(ACXH, 0))

    def test_ecDoAsyncWaitEx(self):
        """
        AsyncEMSMDB EcDoAsyncWaitEx (opnum 0) carries the ACXH and a flag in,
        the flags and the result out.
        """
        request = ASYNC_EMSMDB.decodeRequest(0, GOLDEN_WAIT_REQUEST)
        self.assertEqual(request, EcDoAsyncWaitExRequest(ACXH, 0))
        self.assertEqual(request.encode(), GOLDEN_WAIT_REQUEST)
        response = ASYNC_EMSMDB.decodeResponse(0, GOLDEN_WAIT_RESPONSE)
        self.assertEqual(response, EcDoAsyncWaitExResponse(NOTIFICATION_PENDING, 0))
        self.assertEqual(ASYNC_EMSMDB.encodeResponse(0, response), GOLDEN_WAIT_RESPONSE)


class CodecTests(SynchronousTestCase):
    """
    Tests for L{InterfaceCodec} as used by L{EMSMDB}.
    """

    def test_namesMatchRegistry(self):
        """
        The codecs name every opnum as the interface registry does.
        """
        self.assertEqual(
            tuple(EMSMDB.opnumName(n) for n in range(15)), EXCHANGE_EMSMDB.opnums
        )
        self.assertEqual(EMSMDB.name, EXCHANGE_EMSMDB.name)
        self.assertEqual(ASYNC_EMSMDB.name, EXCHANGE_ASYNC_EMSMDB.name)
        self.assertEqual(ASYNC_EMSMDB.opnumName(0), EXCHANGE_ASYNC_EMSMDB.opnums[0])

    def test_goldenRoundTrip(self):
        """
        Every golden request and response decodes through the codec and
        re-encodes to the same bytes.
        """
        for opnum, request, response in GOLDEN:
            decodedRequest = EMSMDB.decodeRequest(opnum, request)
            decodedResponse = EMSMDB.decodeResponse(opnum, response)
            self.assertIsInstance(decodedRequest, EMSMDB.operations[opnum].request)
            self.assertEqual(
                (EMSMDB.encodeRequest(opnum, decodedRequest), opnum), (request, opnum)
            )
            self.assertEqual(
                (EMSMDB.encodeResponse(opnum, decodedResponse), opnum), (response, opnum)
            )

    def test_placeholderOpnumsOpaque(self):
        """
        The placeholder opnums keep their stubs as bytes.
        """
        for opnum in (3, 7, 8, 12, 13):
            request = EMSMDB.decodeRequest(opnum, b"\x01\x02\x03")
            response = EMSMDB.decodeResponse(opnum, b"\x04")
            self.assertEqual(
                (request, response), (OpaqueRequest(b"\x01\x02\x03"), OpaqueResponse(b"\x04"))
            )
            self.assertEqual(EMSMDB.encodeRequest(opnum, request), b"\x01\x02\x03")

    def test_unknownOpnum(self):
        """
        An opnum outside the table raises L{DCERPCFault} with
        C{nca_s_op_rng_error}; its name is C{"opnum N"}.
        """
        error = self.assertRaises(DCERPCFault, EMSMDB.decodeRequest, 15, b"")
        self.assertEqual(error.status, Status.NCA_S_OP_RNG_ERROR)
        self.assertEqual(EMSMDB.opnumName(15), "opnum 15")

    def test_encodeWrongClass(self):
        """
        Encoding an object of another operation's class raises L{NDRError}.
        """
        self.assertRaises(NDRError, EMSMDB.encodeRequest, 1, EcDoAsyncConnectExRequest(CXH))
        self.assertRaises(NDRError, EMSMDB.encodeResponse, 1, EcDoDisconnectRequest(CXH))

    def test_customCodec(self):
        """
        L{InterfaceCodec} takes any list of L{Operation}.
        """
        codec = InterfaceCodec("test", [Operation(3, "Op", OpaqueRequest, OpaqueResponse)])
        self.assertEqual((codec.opnumName(3), list(codec.operations)), ("Op", [3]))
        self.assertIn("test", repr(codec))

    def test_trailingBytes(self):
        """
        A byte after the last parameter raises L{NDRError}.
        """
        for opnum, request, response in GOLDEN:
            self.assertRaises(NDRError, EMSMDB.decodeRequest, opnum, request + b"\x00")
            self.assertRaises(NDRError, EMSMDB.decodeResponse, opnum, response + b"\x00")

    def test_truncated(self):
        """
        Every proper prefix of every small golden stub raises L{NDRError}.
        """
        for opnum, request, response in GOLDEN:
            for decode, stub in (
                (EMSMDB.decodeRequest, request),
                (EMSMDB.decodeResponse, response),
            ):
                if len(stub) > 2000:
                    cuts = list(range(0, 64)) + list(range(len(stub) - 64, len(stub)))
                else:
                    cuts = range(len(stub))
                for cut in cuts:
                    self.assertRaises(NDRError, decode, opnum, stub[:cut])


_MODELLED = sorted(
    (opnum, op)
    for opnum, op in EMSMDB.operations.items()
    if op.request is not OpaqueRequest
)


class FuzzTests(SynchronousTestCase):
    """
    Property tests: hostile bytes raise nothing but L{NDRError}.
    """

    @settings(max_examples=200, deadline=None)
    @given(st.sampled_from(_MODELLED), st.booleans(), st.binary(max_size=160))
    def test_randomBytes(self, entry, isRequest, data):
        """
        Random bytes decode or raise L{NDRError}, for every modelled opnum;
        what decodes re-encodes to a stub that decodes to the same value.
        """
        opnum, op = entry
        cls = op.request if isRequest else op.response
        try:
            value = cls.decode(data)
        except NDRError:
            return
        self.assertEqual(cls.decode(value.encode()), value)

    @settings(max_examples=200, deadline=None)
    @given(
        st.sampled_from(GOLDEN),
        st.booleans(),
        st.integers(0, 10**6),
        st.integers(0, 255),
    )
    def test_mutatedGolden(self, entry, isRequest, position, value):
        """
        A golden stub with one byte changed decodes (to a value that
        survives a round trip) or raises L{NDRError}.
        """
        opnum, request, response = entry
        stub = bytearray(request if isRequest else response)
        if not stub:
            return
        stub[position % len(stub)] = value
        decode = EMSMDB.decodeRequest if isRequest else EMSMDB.decodeResponse
        try:
            value = decode(opnum, bytes(stub))
        except NDRError:
            return
        self.assertEqual(decode(opnum, value.encode()), value)

    @settings(max_examples=200, deadline=None)
    @given(
        st.binary(max_size=600),
        st.integers(0, BIG_RANGE),
        st.binary(max_size=SMALL_RANGE),
        st.integers(0, 0xFFFFFFFF),
    )
    def test_rpcExt2RoundTrip(self, rgbIn, pcbOut, aux, flags):
        """
        Any EcDoRpcExt2 request within the IDL ranges survives encode then
        decode.
        """
        request = EcDoRpcExt2Request(CXH, flags, rgbIn, pcbOut, aux, len(aux) % SMALL_RANGE)
        self.assertEqual(EcDoRpcExt2Request.decode(request.encode()), request)


class BenchmarkTests(SynchronousTestCase):
    """
    Timings of the fast path (printed, never asserted).
    """

    def test_printTimings(self):
        """
        Decoding and encoding a 256 KB EcDoRpcExt2 response, and decoding a
        40 KB request; prints microseconds per call.
        """
        payload = bytes(range(256)) * 1024
        stub = EcDoRpcExt2Response(CXH, 0, payload, AUX_OUT, 5, 0).encode()
        rounds = 200
        start = time.perf_counter()
        for _ in range(rounds):
            response = EcDoRpcExt2Response.decode(stub)
        decodeTime = (time.perf_counter() - start) / rounds
        start = time.perf_counter()
        for _ in range(rounds):
            response.encode()
        encodeTime = (time.perf_counter() - start) / rounds
        start = time.perf_counter()
        for _ in range(rounds):
            EcDoRpcExt2Request.decode(GOLDEN_RPC_EXT2_REQUEST)
        requestTime = (time.perf_counter() - start) / rounds
        print(
            "\nEcDoRpcExt2 256 KB response: decode %.1f us, encode %.1f us; "
            "40 KB request decode %.1f us"
            % (decodeTime * 1e6, encodeTime * 1e6, requestTime * 1e6)
        )
        self.assertEqual(response.rgbOut, payload)
