"""
Tests for L{mapiproxy.interfaces.ndr}: the NDR20 reader and writer.

The C{SAMBA_VECTORS} were produced by Samba's pidl-generated NDR
(python3-samba, C{ndr_pack_in}/C{ndr_pack_out}); L{SambaCrossCheckTests}
regenerates them when the bindings are installed.
"""

import json
import subprocess
from struct import pack
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from mapiproxy.errors import MalformedStub, MapiProxyError, NDRError
from mapiproxy.interfaces.ndr import (
    FIRST_REFERENT_ID,
    NULL_REFERENT,
    ContextHandle,
    NDRReader,
    NDRWriter,
    checkRange,
    decodeString,
    encodeString,
)
from tests.peers import requireSambaPython

_GUID = UUID("12345678-9abc-def0-1234-56789abcdef0")

# name -> hex, from Samba 4 (Debian python3-samba).
SAMBA_VECTORS = {
    # rpcecho EchoData [in]: uint32 len; [size_is(len)] uint8 in_data[].
    "EchoData.in": "050000000500000068656c6c6f",
    # rpcecho EchoData [out]: [size_is(len)] uint8 out_data[].
    "EchoData.out": "0500000048454c4c4f",
    # rpcecho TestCall [in]: [string, charset(UTF16)] uint16 *s1.
    "TestCall.in": "0900000000000000090000004f00750074006c006f006f006b00e9000000",
    # rpcecho TestCall [out]: [string, charset(UTF16)] uint16 **s2.
    "TestCall.out": "00000200030000000000000003000000780079000000",
    # srvsvc NetRemoteTOD [in]: [unique, string, charset(UTF16)] uint16 *server_unc.
    "NetRemoteTOD.in": "000002000400000000000000040000007300720076000000",
    "NetRemoteTOD.in.null": "00000000",
    # policy_handle {handle_type 1, uuid _GUID}.
    "policy_handle": "0100000078563412bc9af0de123456789abcdef0",
}

_SAMBA_SCRIPT = r"""
import json
from samba import ndr
from samba.dcerpc import echo, misc, srvsvc
out = {}
e = echo.EchoData(); e.in_len = 5; e.in_in_data = list(b'hello')
out['EchoData.in'] = ndr.ndr_pack_in(e).hex()
e.out_out_data = list(b'HELLO')
out['EchoData.out'] = ndr.ndr_pack_out(e).hex()
t = echo.TestCall(); t.in_s1 = 'Outlook\u00e9'
out['TestCall.in'] = ndr.ndr_pack_in(t).hex()
t.out_s2 = 'xy'
out['TestCall.out'] = ndr.ndr_pack_out(t).hex()
n = srvsvc.NetRemoteTOD(); n.in_server_unc = 'srv'
out['NetRemoteTOD.in'] = ndr.ndr_pack_in(n).hex()
n.in_server_unc = None
out['NetRemoteTOD.in.null'] = ndr.ndr_pack_in(n).hex()
h = misc.policy_handle(); h.handle_type = 1
h.uuid = misc.GUID('12345678-9abc-def0-1234-56789abcdef0')
out['policy_handle'] = ndr.ndr_pack(h).hex()
print(json.dumps(out))
"""


def _vector(name):
    return bytes.fromhex(SAMBA_VECTORS[name])


class ErrorTests(SynchronousTestCase):
    """
    Tests for L{NDRError}.
    """

    def test_isMalformedStub(self):
        """
        L{NDRError} is a L{MalformedStub}, so the server answers it with an
        NDR fault like any other undecodable stub.
        """
        self.assertTrue(issubclass(NDRError, MalformedStub))
        self.assertTrue(issubclass(NDRError, MapiProxyError))


class ReaderPrimitiveTests(SynchronousTestCase):
    """
    Tests for the primitive reads of L{NDRReader}.
    """

    def test_alignedIntegers(self):
        """
        Each integer is aligned to its own size relative to the stub start;
        pad bytes are skipped whatever their value.
        """
        data = (
            b"\x01"
            + b"\xaa"
            + pack("<H", 0x0203)
            + pack("<I", 0x04050607)
            + b"\x08"
            + b"\xbb" * 7
            + pack("<Q", 0x1122334455667788)
            + pack("<i", -2)
        )
        r = NDRReader(data)
        self.assertEqual(
            (r.u8(), r.u16(), r.u32(), r.u8(), r.u64(), r.i32()),
            (1, 0x0203, 0x04050607, 8, 0x1122334455667788, -2),
        )
        r.finish()

    def test_u16Array(self):
        """
        L{NDRReader.u16Array} reads a fixed array of u16 as a tuple.
        """
        r = NDRReader(b"\x00\x00" + pack("<3H", 0x000C, 0x183E, 0x03E8))
        r.u8()
        self.assertEqual(r.u16Array(3), (0x000C, 0x183E, 0x03E8))
        self.assertEqual(r.offset, 8)

    def test_u32ArrayHugeCount(self):
        """
        A huge element count raises L{NDRError} without building a huge
        structure.
        """
        r = NDRReader(b"\x00" * 8)
        self.assertRaises(NDRError, r.u32Array, 0x40000000)
        self.assertRaises(NDRError, r.u32Array, -1)

    def test_contextHandle(self):
        """
        A context handle is a u32 and a little-endian GUID.
        """
        r = NDRReader(_vector("policy_handle"))
        self.assertEqual(r.contextHandle(), ContextHandle(1, _GUID))
        r.finish()

    def test_guid(self):
        """
        L{NDRReader.guid} reads the [MS-DTYP] mixed-endian GUID layout.
        """
        r = NDRReader(_GUID.bytes_le)
        self.assertEqual(r.guid(), _GUID)

    def test_truncated(self):
        """
        Reading past the end raises L{NDRError} naming the offset.
        """
        r = NDRReader(b"\x01\x02\x03")
        error = self.assertRaises(NDRError, r.u32)
        self.assertIn("offset 0", str(error))

    def test_alignmentPastEnd(self):
        """
        Padding that runs past the end of the stub raises L{NDRError}.
        """
        r = NDRReader(b"\x01\x02")
        r.u8()
        self.assertRaises(NDRError, r.u32)

    def test_rawNegative(self):
        """
        A negative length raises L{NDRError}.
        """
        self.assertRaises(NDRError, NDRReader(b"abc").raw, -1)

    def test_finishTrailing(self):
        """
        L{NDRReader.finish} raises L{NDRError} when bytes are left.
        """
        r = NDRReader(b"\x00" * 5)
        r.u32()
        error = self.assertRaises(NDRError, r.finish)
        self.assertIn("1 trailing", str(error))

    def test_acceptsMemoryview(self):
        """
        The reader accepts a memoryview and returns L{bytes} slices.
        """
        r = NDRReader(memoryview(_vector("EchoData.out")))
        data = r.conformantArray()
        self.assertEqual((type(data), data), (bytes, b"HELLO"))


class ReaderConstructedTests(SynchronousTestCase):
    """
    Tests for arrays, strings and pointers in L{NDRReader}, against Samba's
    encodings.
    """

    def test_conformantArray(self):
        """
        A conformant array is max_count then the elements.
        """
        r = NDRReader(_vector("EchoData.in"))
        self.assertEqual(r.u32(), 5)
        self.assertEqual(r.conformantArray(), b"hello")
        r.finish()

    def test_conformantArrayLimit(self):
        """
        A max_count above C{limit} raises L{NDRError}.
        """
        r = NDRReader(_vector("EchoData.out"))
        self.assertRaises(NDRError, r.conformantArray, 4)

    def test_conformantArrayShort(self):
        """
        A max_count larger than what is left raises L{NDRError}.
        """
        r = NDRReader(_vector("EchoData.out")[:-1])
        self.assertRaises(NDRError, r.conformantArray)

    def test_wideString(self):
        """
        A UTF-16 [string] is max_count, offset 0, actual_count and the
        characters with their NUL.
        """
        r = NDRReader(_vector("TestCall.in"))
        self.assertEqual(r.wideString(), "Outlook\u00e9")
        r.finish()

    def test_uniqueString(self):
        """
        A [unique] pointer to a string is a referent id then the string.
        """
        r = NDRReader(_vector("NetRemoteTOD.in"))
        self.assertEqual(r.pointer(), FIRST_REFERENT_ID)
        self.assertEqual(r.wideString(), "srv")
        r.finish()

    def test_nullPointer(self):
        """
        A NULL pointer is referent id 0.
        """
        r = NDRReader(_vector("NetRemoteTOD.in.null"))
        self.assertEqual(r.pointer(), NULL_REFERENT)
        r.finish()

    def test_dosString(self):
        """
        An 8-bit [string] decodes as latin-1, without its NUL.
        """
        r = NDRReader(pack("<III", 4, 0, 4) + b"J\xfcr\x00")
        self.assertEqual(r.string(), "J\u00fcr")

    def test_stringWithoutNul(self):
        """
        A [string] whose last character is not NUL raises L{NDRError}.
        """
        r = NDRReader(pack("<III", 3, 0, 3) + b"abc")
        self.assertRaises(NDRError, r.string)

    def test_emptyString(self):
        """
        A [string] with no character at all (not even the NUL) raises
        L{NDRError}.
        """
        r = NDRReader(pack("<III", 0, 0, 0))
        self.assertRaises(NDRError, r.string)

    def test_stringCountsDisagree(self):
        """
        A [string] whose max_count differs from its actual_count raises
        L{NDRError}; so does an actual_count above max_count.
        """
        self.assertRaises(NDRError, NDRReader(pack("<III", 5, 0, 4) + b"abc\x00").string)
        self.assertRaises(
            NDRError, NDRReader(pack("<III", 3, 0, 4) + b"abc\x00").conformantVaryingArray
        )

    def test_varyingOffset(self):
        """
        A non-zero varying-array offset raises L{NDRError}.
        """
        r = NDRReader(pack("<III", 4, 1, 3) + b"bc\x00")
        self.assertRaises(NDRError, r.conformantVaryingArray)

    def test_conformantVaryingKeepsMaxCount(self):
        """
        L{NDRReader.conformantVaryingArray} returns max_count and the
        actual elements separately.
        """
        r = NDRReader(pack("<III", 0x10, 0, 3) + b"ab\x00")
        self.assertEqual(r.conformantVaryingArray(), (0x10, b"ab\x00"))

    def test_wideStringBadSurrogate(self):
        """
        A lone UTF-16 surrogate survives a decode/encode round trip.
        """
        raw = pack("<III", 2, 0, 2) + b"\x00\xd8\x00\x00"
        text = NDRReader(raw).wideString()
        w = NDRWriter()
        w.wideString(text)
        self.assertEqual(w.getvalue(), raw)


class WriterTests(SynchronousTestCase):
    """
    Tests for L{NDRWriter}, against Samba's encodings.
    """

    def test_conformantArray(self):
        """
        L{NDRWriter.conformantArray} writes what Samba writes.
        """
        w = NDRWriter()
        w.u32(5)
        w.conformantArray(b"hello")
        self.assertEqual(w.getvalue(), _vector("EchoData.in"))

    def test_wideString(self):
        """
        L{NDRWriter.wideString} writes what Samba writes.
        """
        w = NDRWriter()
        w.wideString("Outlook\u00e9")
        self.assertEqual(w.getvalue(), _vector("TestCall.in"))

    def test_referentIds(self):
        """
        L{NDRWriter.nextReferentId} numbers pointers as Samba does.
        """
        w = NDRWriter()
        w.pointer(w.nextReferentId())
        w.wideString("xy")
        self.assertEqual(w.getvalue(), _vector("TestCall.out"))
        self.assertEqual(w.nextReferentId(), FIRST_REFERENT_ID + 4)

    def test_contextHandle(self):
        """
        L{NDRWriter.contextHandle} writes a L{ContextHandle} or 20 raw bytes.
        """
        w = NDRWriter()
        w.contextHandle(ContextHandle(1, _GUID))
        w.contextHandle(_vector("policy_handle"))
        self.assertEqual(w.getvalue(), _vector("policy_handle") * 2)

    def test_contextHandleWrongSize(self):
        """
        Raw handle bytes that are not 20 long raise L{NDRError}.
        """
        self.assertRaises(NDRError, NDRWriter().contextHandle, b"\x00" * 19)

    def test_zeroPadding(self):
        """
        Pad bytes are zeros.
        """
        w = NDRWriter()
        w.u8(0xFF)
        w.u64(1)
        w.u8(0xFF)
        w.u16(2)
        self.assertEqual(w.getvalue(), b"\xff" + b"\x00" * 7 + pack("<Q", 1) + b"\xff\x00\x02\x00")

    def test_valueOutOfRange(self):
        """
        A value that does not fit its wire type raises L{NDRError}.
        """
        w = NDRWriter()
        self.assertRaises(NDRError, w.u16, 0x10000)
        self.assertRaises(NDRError, w.u32, -1)
        self.assertRaises(NDRError, w.u8, "x")

    def test_maxCountTooSmall(self):
        """
        A C{maxCount} below the actual count raises L{NDRError}.
        """
        self.assertRaises(NDRError, NDRWriter().string, "abc", maxCount=3)

    def test_stringMaxCount(self):
        """
        A C{maxCount} larger than the string is sent as max_count.
        """
        w = NDRWriter()
        w.string("ab", maxCount=10)
        self.assertEqual(w.getvalue(), pack("<III", 10, 0, 3) + b"ab\x00")

    def test_unencodable(self):
        """
        A character the charset cannot carry raises L{NDRError}.
        """
        self.assertRaises(NDRError, NDRWriter().string, "\u20ac")
        self.assertRaises(NDRError, encodeString, None)


class HelperTests(SynchronousTestCase):
    """
    Tests for L{checkRange}, L{decodeString}, L{ContextHandle}.
    """

    def test_checkRange(self):
        """
        L{checkRange} returns an in-range value and raises L{NDRError} naming
        the parameter otherwise.
        """
        self.assertEqual(checkRange("cb", 0x1008, 0, 0x1008), 0x1008)
        error = self.assertRaises(NDRError, checkRange, "cbAuxIn", 0x1009, 0, 0x1008)
        self.assertIn("cbAuxIn", str(error))

    def test_decodeStringCharset(self):
        """
        L{decodeString} honours another charset and turns decode failures
        into L{NDRError}.
        """
        self.assertEqual(decodeString(b"\x80\x00", encoding="cp1252"), "\u20ac")
        self.assertRaises(NDRError, decodeString, b"\x81\x00", encoding="cp1252")

    def test_contextHandleBytes(self):
        """
        L{ContextHandle.fromBytes} and L{ContextHandle.toBytes} are inverse.
        """
        raw = _vector("policy_handle")
        self.assertEqual(ContextHandle.fromBytes(raw).toBytes(), raw)
        self.assertRaises(NDRError, ContextHandle.fromBytes, raw[:-1])

    def test_contextHandleNull(self):
        """
        Only the all-zero handle is null.
        """
        self.assertTrue(ContextHandle().isNull)
        self.assertFalse(ContextHandle(0, _GUID).isNull)
        self.assertFalse(ContextHandle(1).isNull)


class PropertyTests(SynchronousTestCase):
    """
    Property tests of the reader and writer.
    """

    @settings(max_examples=200, deadline=None)
    @given(st.binary(max_size=64), st.integers(0, 7))
    def test_roundTripArrays(self, data, lead):
        """
        Any bytes written as conformant and conformant varying arrays after
        any misalignment read back the same.
        """
        w = NDRWriter()
        w.raw(b"\x00" * lead)
        w.conformantArray(data)
        w.conformantVaryingArray(data)
        r = NDRReader(w.getvalue())
        r.raw(lead)
        self.assertEqual(r.conformantArray(), data)
        self.assertEqual(r.conformantVaryingArray(), (len(data), data))
        r.finish()

    @settings(max_examples=200, deadline=None)
    @given(st.binary(max_size=48))
    def test_randomBytesOnlyNDRError(self, data):
        """
        Reading anything from random bytes raises nothing but L{NDRError}.
        """
        r = NDRReader(data)
        try:
            r.u8()
            r.string()
            r.wideString()
            r.contextHandle()
            r.u32Array(r.u32())
            r.conformantVaryingArray(itemSize=2)
            r.finish()
        except NDRError:
            pass


class SambaCrossCheckTests(SynchronousTestCase):
    """
    Regenerate L{SAMBA_VECTORS} with Samba's own NDR.
    """

    def test_vectorsMatchSamba(self):
        """
        Samba's pidl-generated NDR produces exactly the recorded vectors.
        """
        python = requireSambaPython()
        result = subprocess.run(
            [python, "-c", _SAMBA_SCRIPT], capture_output=True, timeout=60, check=True
        )
        self.assertEqual(json.loads(result.stdout), SAMBA_VECTORS)
