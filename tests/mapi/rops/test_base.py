"""
Tests for L{mapiproxy.mapi.rops.base}: the packed reader and writer, the
ROP registry, the handle-following context and the buffer-level decoding
and encoding ([MS-OXCROPS] 2.2.1).

Golden bytes are laid out by hand from the MS-OXCROPS header layouts and
cross-checked with L{struct} and L{uuid} (an independent packer).
"""

import importlib
import struct
import uuid
from dataclasses import dataclass, field

from hypothesis import given, settings, strategies as st

from twisted.trial.unittest import SynchronousTestCase

from mapiproxy.errors import MapiBufferError, RopError
from mapiproxy.mapi.rops import base
from mapiproxy.mapi.rops.base import (
    NO_HEADER_IDS,
    ROP_IDS,
    ROP_NAMES,
    Reader,
    RopContext,
    RopRequest,
    RopResponse,
    UnknownRop,
    Writer,
    decodeRequests,
    decodeResponses,
    encodeRequests,
    encodeResponses,
    loadFamilies,
    ropName,
    ropRequest,
    ropResponse,
)

_FAST = settings(max_examples=200, deadline=None)


class ReaderTests(SynchronousTestCase):
    """
    Tests for L{Reader}.
    """

    def test_integers(self):
        """
        Every integer reader decodes little-endian values without alignment
        and advances by its size.
        """
        data = (
            b"\x7f"
            + struct.pack("<b", -2)
            + struct.pack("<H", 0xBEEF)
            + struct.pack("<h", -300)
            + struct.pack("<I", 0xDEADBEEF)
            + struct.pack("<i", -70000)
            + struct.pack("<Q", 0x0102030405060708)
            + struct.pack("<q", -(1 << 40))
        )
        r = Reader(data)
        self.assertEqual(
            [r.u8(), r.i8(), r.u16(), r.i16(), r.u32(), r.i32(), r.u64(), r.i64()],
            [
                0x7F,
                -2,
                0xBEEF,
                -300,
                0xDEADBEEF,
                -70000,
                0x0102030405060708,
                -(1 << 40),
            ],
        )
        self.assertEqual(r.offset, len(data))
        self.assertEqual(r.remaining, 0)
        self.assertTrue(r.atEnd())

    def test_floats(self):
        """
        C{f32} and C{f64} decode IEEE 754 singles and doubles.
        """
        r = Reader(struct.pack("<fd", 1.5, -2.25))
        self.assertEqual((r.f32(), r.f64()), (1.5, -2.25))

    def test_booleans(self):
        """
        Any nonzero byte or u16 is true, zero is false.
        """
        r = Reader(b"\x00\x05\x00\x00\x00\x01")
        self.assertEqual(
            [r.bool8(), r.bool8(), r.bool16(), r.bool16()], [False, True, False, True]
        )

    def test_truncatedIntegers(self):
        """
        Each fixed-size reader raises L{RopError} when fewer bytes are left
        than it needs, without moving.
        """
        for name, size in [
            ("u8", 1),
            ("i8", 1),
            ("u16", 2),
            ("i16", 2),
            ("u32", 4),
            ("i32", 4),
            ("u64", 8),
            ("i64", 8),
            ("f32", 4),
            ("f64", 8),
            ("bool8", 1),
            ("bool16", 2),
            ("guid", 16),
        ]:
            r = Reader(b"\x01" * (size + 2), offset=3)
            self.assertRaises(RopError, getattr(r, name))
            self.assertEqual(r.offset, 3, name)

    def test_endWindow(self):
        """
        A reader never reads past C{end}, even when the underlying bytes go
        on.
        """
        r = Reader(b"\x01\x02\x03\x04\x05", offset=1, end=3)
        self.assertEqual(r.remaining, 2)
        self.assertEqual(r.u16(), 0x0302)
        self.assertRaises(RopError, r.u8)

    def test_badOffset(self):
        """
        An offset outside the data is refused with L{RopError}.
        """
        self.assertRaises(RopError, Reader, b"ab", 3)
        self.assertRaises(RopError, Reader, b"ab", -1)

    def test_bytesAndRest(self):
        """
        C{bytes(n)} takes exactly C{n} bytes, C{rest} takes what is left.
        """
        r = Reader(memoryview(b"abcdef"))
        self.assertEqual(r.bytes(2), b"ab")
        self.assertEqual(r.bytes(0), b"")
        self.assertEqual(r.rest(), b"cdef")
        self.assertEqual(r.rest(), b"")
        self.assertRaises(RopError, r.bytes, 1)
        self.assertRaises(RopError, Reader(b"abc").bytes, -1)

    def test_peek(self):
        """
        C{peekU8} returns the next byte without consuming it.
        """
        r = Reader(b"\x09\x08")
        self.assertEqual((r.peekU8(), r.u8(), r.peekU8()), (9, 9, 8))

    def test_arrays(self):
        """
        The array readers decode C{n} items and refuse counts that do not
        fit.
        """
        r = Reader(struct.pack("<2H3I1Q", 1, 2, 3, 4, 5, 6))
        self.assertEqual(r.u16Array(2), [1, 2])
        self.assertEqual(r.u32Array(3), [3, 4, 5])
        self.assertEqual(r.u64Array(1), [6])
        self.assertEqual(r.u32Array(0), [])
        self.assertRaises(RopError, Reader(b"\x00" * 7).u32Array, 2)
        self.assertRaises(RopError, Reader(b"").u16Array, -1)

    def test_guid(self):
        """
        A GUID is read in its little-endian layout ([MS-DTYP] 2.3.4.2).
        """
        wire = bytes.fromhex("0000000000000000c000000000000046")
        self.assertEqual(
            Reader(wire).guid(), uuid.UUID("00000000-0000-0000-c000-000000000046")
        )
        wire = bytes.fromhex("78563412bc9af0de0123456789abcdef")
        self.assertEqual(
            Reader(wire).guid(), uuid.UUID("12345678-9abc-def0-0123-456789abcdef")
        )

    def test_asciiz(self):
        """
        An 8-bit string ends at the first NUL; every byte value survives
        (Latin-1).
        """
        r = Reader(b"ab\xe9\x00\x00x")
        self.assertEqual(r.asciiz(), "ab\xe9")
        self.assertEqual(r.asciiz(), "")
        self.assertRaises(RopError, r.asciiz)

    def test_asciizWindow(self):
        """
        A NUL after C{end} does not terminate an 8-bit string.
        """
        self.assertRaises(RopError, Reader(b"abc\x00", end=3).asciiz)

    def test_unicodez(self):
        """
        A UTF-16LE string ends at the first 2-byte NUL at an even distance
        from its start; a zero byte pair straddling two code units does not
        end it.
        """
        # "A" then U+0100: 41 00 | 00 01 -- "00 00" at an odd distance.
        data = "A\u0100".encode("utf-16-le") + b"\x00\x00" + b"\x01"
        r = Reader(b"\xff" + data, offset=1)
        self.assertEqual(r.unicodez(), "A\u0100")
        self.assertEqual(r.remaining, 1)

    def test_unicodezErrors(self):
        """
        A missing terminator raises L{RopError}; an unpaired surrogate is
        kept as is.
        """
        self.assertRaises(RopError, Reader(b"a\x00b\x00").unicodez)
        self.assertRaises(RopError, Reader(b"a\x00\x00").unicodez)
        self.assertEqual(Reader(b"\x00\xd8\x00\x00").unicodez(), "\ud800")

    def test_countedWithBoundMethod(self):
        """
        C{counted} calls a method of the same reader without arguments.
        """
        r = Reader(struct.pack("<3H", 7, 8, 9))
        self.assertEqual(r.counted(3, r.u16), [7, 8, 9])

    def test_countedWithFunction(self):
        """
        C{counted} calls any other item reader with the reader.
        """
        r = Reader(b"ab\x00c\x00")
        self.assertEqual(r.counted(2, Reader.asciiz), ["ab", "c"])

    def test_countedTooLarge(self):
        """
        A count that cannot fit in the bytes left is refused before any
        item is read.
        """
        calls = []
        r = Reader(b"\x00" * 10)
        self.assertRaises(RopError, r.counted, 0xFFFFFFFF, calls.append)
        self.assertRaises(RopError, r.counted, 3, calls.append, 4)
        self.assertEqual(calls, [])
        self.assertRaises(RopError, r.counted, -1, calls.append)

    def test_sub(self):
        """
        C{sub(n)} returns a reader over the next C{n} bytes and skips them.
        """
        r = Reader(b"\x01\x02\x03\x04")
        r.u8()
        s = r.sub(2)
        self.assertEqual(r.offset, 3)
        self.assertEqual((s.offset, s.end, s.u16()), (1, 3, 0x0302))
        self.assertRaises(RopError, s.u8)
        self.assertRaises(RopError, r.sub, 2)

    def test_ropErrorIsMapiBufferError(self):
        """
        L{RopError} is a L{MapiBufferError}.
        """
        self.assertTrue(issubclass(RopError, MapiBufferError))


class WriterTests(SynchronousTestCase):
    """
    Tests for L{Writer}.
    """

    def test_integers(self):
        """
        The integer writers pack little-endian values without padding.
        """
        w = Writer()
        w.u8(0x7F)
        w.i8(-2)
        w.u16(0xBEEF)
        w.i16(-300)
        w.u32(0xDEADBEEF)
        w.i32(-70000)
        w.u64(0x0102030405060708)
        w.i64(-(1 << 40))
        w.f32(1.5)
        w.f64(-2.25)
        self.assertEqual(
            w.getvalue(),
            struct.pack(
                "<BbHhIiQqfd",
                0x7F,
                -2,
                0xBEEF,
                -300,
                0xDEADBEEF,
                -70000,
                0x0102030405060708,
                -(1 << 40),
                1.5,
                -2.25,
            ),
        )
        self.assertEqual(len(w), 1 + 1 + 2 + 2 + 4 + 4 + 8 + 8 + 4 + 8)

    def test_outOfRange(self):
        """
        A value that does not fit its field raises L{RopError}.
        """
        w = Writer()
        self.assertRaises(RopError, w.u8, 256)
        self.assertRaises(RopError, w.u16, -1)
        self.assertRaises(RopError, w.u32, 1 << 32)
        self.assertRaises(RopError, w.u64, "x")
        self.assertRaises(RopError, w.u16Array, [1, 1 << 16])
        self.assertRaises(RopError, w.asciiz, "\u20ac")
        self.assertRaises(RopError, w.guid, "not a guid")
        self.assertRaises(RopError, w.bytes, 5)
        self.assertEqual(w.getvalue(), b"")

    def test_stringsAndGuid(self):
        """
        Strings get their NUL terminator; a GUID is written little-endian.
        """
        w = Writer()
        w.asciiz("a\xe9")
        w.unicodez("A\u0100")
        w.guid(uuid.UUID("12345678-9abc-def0-0123-456789abcdef"))
        self.assertEqual(
            w.getvalue(),
            b"a\xe9\x00"
            + b"A\x00\x00\x01\x00\x00"
            + bytes.fromhex("78563412bc9af0de0123456789abcdef"),
        )

    def test_booleans(self):
        """
        Booleans are written as 0 or 1; an integer is kept as decoded.
        """
        w = Writer()
        w.bool8(True)
        w.bool8(False)
        w.bool8(5)
        w.bool16(True)
        self.assertEqual(w.getvalue(), b"\x01\x00\x05\x01\x00")

    def test_arrays(self):
        """
        The array writers pack items without a count.
        """
        w = Writer()
        w.u16Array([1, 2])
        w.u32Array([3])
        w.u64Array([])
        w.u64Array([4])
        self.assertEqual(w.getvalue(), struct.pack("<HHIQ", 1, 2, 3, 4))

    def test_placeholders(self):
        """
        A reserved size can be filled in after what it measures.
        """
        w = Writer()
        w.u8(9)
        p16 = w.placeholderU16()
        p32 = w.placeholderU32()
        w.bytes(b"xyz")
        w.setU16(p16, len(w) - p16 - 2)
        w.setU32(p32, 0xAABBCCDD)
        self.assertEqual(w.getvalue(), b"\x09\x07\x00\xdd\xcc\xbb\xaaxyz")
        self.assertRaises(RopError, w.setU16, p16, 1 << 16)


_items = st.one_of(
    st.tuples(st.just("u8"), st.integers(0, 0xFF)),
    st.tuples(st.just("u16"), st.integers(0, 0xFFFF)),
    st.tuples(st.just("u32"), st.integers(0, 0xFFFFFFFF)),
    st.tuples(st.just("u64"), st.integers(0, (1 << 64) - 1)),
    st.tuples(st.just("i16"), st.integers(-(1 << 15), (1 << 15) - 1)),
    st.tuples(st.just("i32"), st.integers(-(1 << 31), (1 << 31) - 1)),
    st.tuples(st.just("i64"), st.integers(-(1 << 63), (1 << 63) - 1)),
    st.tuples(st.just("f64"), st.floats(allow_nan=False)),
    st.tuples(
        st.just("asciiz"), st.text(st.characters(min_codepoint=1, max_codepoint=255))
    ),
    st.tuples(
        st.just("unicodez"),
        st.text(st.characters(min_codepoint=1, exclude_categories=["Cs"])),
    ),
    st.tuples(st.just("guid"), st.uuids()),
)


class RoundTripTests(SynchronousTestCase):
    """
    Property tests: what L{Writer} writes, L{Reader} reads back.
    """

    @_FAST
    @given(st.lists(_items, max_size=20))
    def test_roundTrip(self, items):
        """
        A sequence of typed values survives a write and a read.
        """
        w = Writer()
        for kind, value in items:
            getattr(w, kind)(value)
        r = Reader(w.getvalue())
        self.assertEqual([(kind, getattr(r, kind)()) for kind, _ in items], items)
        self.assertTrue(r.atEnd())

    @_FAST
    @given(
        st.binary(max_size=64),
        st.lists(
            st.sampled_from(
                [
                    "u8",
                    "u16",
                    "u32",
                    "u64",
                    "i64",
                    "f32",
                    "guid",
                    "asciiz",
                    "unicodez",
                    "bool16",
                ]
            ),
            max_size=12,
        ),
    )
    def test_randomBytesOnlyRopError(self, data, kinds):
        """
        Reading anything from arbitrary bytes either succeeds or raises
        L{RopError}.
        """
        r = Reader(data)
        try:
            for kind in kinds:
                getattr(r, kind)()
        except RopError:
            pass
        self.assertLessEqual(r.offset, len(data))


class RegistryTests(SynchronousTestCase):
    """
    Tests for L{ROP_NAMES}, L{ropName}, L{ropRequest} and L{ropResponse}.
    """

    def setUp(self):
        loadFamilies()
        self.patch(base, "REQUEST_CLASSES", {})
        self.patch(base, "RESPONSE_CLASSES", {})

    def test_names(self):
        """
        L{ROP_NAMES} spells the MS-OXCROPS names and L{ROP_IDS} reverses it.
        """
        self.assertEqual(ROP_NAMES[0xFE], "RopLogon")
        self.assertEqual(ROP_NAMES[0x15], "RopQueryRows")
        self.assertEqual(ROP_NAMES[0xA5], "RopProxyPack")
        self.assertEqual(ROP_IDS["RopSynchronizationConfigure"], 0x70)
        self.assertEqual(len(ROP_IDS), len(ROP_NAMES))

    def test_namesComplete(self):
        """
        L{ROP_NAMES} holds the 132 RopIds of [MS-OXCROPS] 2.2.2 plus 0xA5,
        and none of the reserved ones.
        """
        self.assertEqual(len(ROP_NAMES), 133)
        for reserved in (
            0x00,
            0x28,
            0x3C,
            0x3D,
            0x62,
            0x65,
            0x6A,
            0x71,
            0x7C,
            0x7D,
            0x83,
            0x84,
            0x85,
            0x87,
            0x88,
            0x8A,
            0xFD,
        ):
            self.assertNotIn(reserved, ROP_NAMES)

    def test_ropName(self):
        """
        L{ropName} names known ids and formats unknown ones.
        """
        self.assertEqual(ropName(0x01), "RopRelease")
        self.assertEqual(ropName(0x28), "Rop0x28")

    def test_decoratorsSetIdAndName(self):
        """
        The decorators register a class and give it C{ROP_ID} and C{NAME}.
        """

        @ropRequest(0x02)
        @dataclass
        class Req(RopRequest):
            pass

        @ropResponse(0x02)
        @dataclass
        class Resp(RopResponse):
            pass

        self.assertIs(base.REQUEST_CLASSES[0x02], Req)
        self.assertIs(base.RESPONSE_CLASSES[0x02], Resp)
        self.assertEqual((Req.ROP_ID, Req.NAME), (0x02, "RopOpenFolder"))
        self.assertEqual(Req().ropId, 0x02)
        self.assertEqual(Resp().ropId, 0x02)
        self.assertFalse(Resp.NO_HEADER)
        self.assertFalse(Req.NO_RESPONSE)

    def test_specialIdsFlagged(self):
        """
        RopRelease requests are marked as unanswered and the four
        header-less responses as C{NO_HEADER}.
        """

        @ropRequest(0x01)
        @dataclass
        class Release(RopRequest):
            pass

        self.assertTrue(Release.NO_RESPONSE)
        for ropId in NO_HEADER_IDS:

            @ropResponse(ropId)
            @dataclass
            class Special(RopResponse):
                pass

            self.assertTrue(Special.NO_HEADER, ropName(ropId))

    def test_duplicateRefused(self):
        """
        Registering a second class for a RopId raises L{ValueError} naming
        both.
        """

        @ropRequest(0x03)
        @dataclass
        class First(RopRequest):
            pass

        class Second(RopRequest):
            pass

        e = self.assertRaises(ValueError, ropRequest(0x03), Second)
        self.assertIn("First", str(e))
        self.assertIn("Second", str(e))
        self.assertIs(base.REQUEST_CLASSES[0x03], First)

    def test_outOfRangeRefused(self):
        """
        A RopId outside one byte is refused.
        """
        self.assertRaises(ValueError, ropRequest(0x100), RopRequest)


def _registerTestRops():
    """
    Register small test ROPs in the (patched) registry: an OpenFolder-like
    0x02 creating an object, a SetColumns-like 0x12 recording columns, a
    QueryRows-like 0x15 whose response reads one u32 per column, Release
    0x01, and a Notify-like 0x2A.
    """

    @ropRequest(0x02)
    @dataclass
    class Open(RopRequest):
        outputHandleIndex: int = 0
        folderId: int = 0

        @classmethod
        def readBody(cls, r, ctx, header):
            return cls(**header, outputHandleIndex=r.u8(), folderId=r.u64())

        def writeBody(self, w, ctx):
            w.u8(self.outputHandleIndex)
            w.u64(self.folderId)

    @ropResponse(0x02)
    @dataclass
    class OpenResponse(RopResponse):
        hasRules: int = 0

        @classmethod
        def readBody(cls, r, ctx, request, header):
            if header["returnValue"]:
                return cls(**header)
            return cls(**header, hasRules=r.u8())

        def writeBody(self, w, ctx, request):
            if self.returnValue == 0:
                w.u8(self.hasRules)

    @ropRequest(0x12)
    @dataclass
    class SetColumns(RopRequest):
        tags: list = field(default_factory=list)

        @classmethod
        def readBody(cls, r, ctx, header):
            tags = r.u32Array(r.u16())
            ctx.columns[ctx.handleOf(header["inputHandleIndex"])] = tags
            return cls(**header, tags=tags)

        def writeBody(self, w, ctx):
            w.u16(len(self.tags))
            w.u32Array(self.tags)

    @ropRequest(0x15)
    @dataclass
    class QueryRows(RopRequest):
        pass

    @ropResponse(0x15)
    @dataclass
    class QueryRowsResponse(RopResponse):
        values: list = field(default_factory=list)

        @classmethod
        def readBody(cls, r, ctx, request, header):
            columns = ctx.columns[ctx.handleOf(request.inputHandleIndex)]
            return cls(**header, values=r.u32Array(len(columns)))

        def writeBody(self, w, ctx, request):
            w.u32Array(self.values)

    @ropRequest(0x01)
    @dataclass
    class Release(RopRequest):
        pass

    @ropResponse(0x2A)
    @dataclass
    class Notify(RopResponse):
        notificationHandle: int = 0

        @classmethod
        def readBody(cls, r, ctx, request, header):
            return cls(**header, notificationHandle=r.u32())

        def writeBody(self, w, ctx, request):
            w.u32(self.notificationHandle)

    return Open, OpenResponse, SetColumns, QueryRows, QueryRowsResponse, Release, Notify


class BufferTests(SynchronousTestCase):
    """
    Tests for L{decodeRequests}, L{decodeResponses}, L{encodeRequests} and
    L{encodeResponses} with small ROP classes defined here.
    """

    def setUp(self):
        loadFamilies()
        self.patch(base, "REQUEST_CLASSES", {})
        self.patch(base, "RESPONSE_CLASSES", {})
        (
            self.Open,
            self.OpenResponse,
            self.SetColumns,
            self.QueryRows,
            self.QueryRowsResponse,
            self.Release,
            self.Notify,
        ) = _registerTestRops()
        self.ctx = RopContext()

    # Open folder 0x1122 from handle 0 into index 1, set 2 columns on it,
    # query its rows, release it.
    REQUEST = (
        bytes.fromhex("020000" "01" "2211000000000000")
        + bytes.fromhex("120101" "0200" "1f003700" "03000710")
        + bytes.fromhex("150101")
        + bytes.fromhex("010101")
    )
    # Open succeeded (index 1, HasRules 0), QueryRows answered two u32,
    # then a RopNotify.
    RESPONSE = (
        bytes.fromhex("0201" "00000000" "00")
        + bytes.fromhex("1501" "00000000" "aaaaaaaa" "bbbbbbbb")
        + bytes.fromhex("2a" "44332211")
    )

    def test_decodeRequests(self):
        """
        Request headers and bodies are decoded in order.
        """
        items = decodeRequests(self.REQUEST, [0x100, 0xFFFFFFFF], self.ctx)
        self.assertEqual(
            items,
            [
                self.Open(0, 0, outputHandleIndex=1, folderId=0x1122),
                self.SetColumns(1, 1, tags=[0x0037001F, 0x10070003]),
                self.QueryRows(1, 1),
                self.Release(1, 1),
            ],
        )

    def test_encodeRequests(self):
        """
        Encoding decoded requests gives the same bytes back.
        """
        items = decodeRequests(self.REQUEST, [0x100, 0xFFFFFFFF], self.ctx)
        self.assertEqual(encodeRequests(items, self.ctx), self.REQUEST)

    def test_decodeResponsesPairing(self):
        """
        Responses are paired with their requests in order: QueryRows finds
        the columns set on the table opened in the same buffer, Release is
        skipped and RopNotify answers no request.
        """
        requests = decodeRequests(self.REQUEST, [0x100, 0xFFFFFFFF], self.ctx)
        items = decodeResponses(
            self.RESPONSE,
            [0x100, 0x777],
            requests,
            self.ctx,
            requestHandles=[0x100, 0xFFFFFFFF],
        )
        self.assertEqual(
            items,
            [
                self.OpenResponse(1, 0, hasRules=0),
                self.QueryRowsResponse(1, 0, values=[0xAAAAAAAA, 0xBBBBBBBB]),
                self.Notify(0, 0, notificationHandle=0x11223344),
            ],
        )
        self.assertEqual(
            encodeResponses(items, requests, self.ctx, handles=[0x100, 0x777]),
            self.RESPONSE,
        )

    def test_columnsFollowRealHandle(self):
        """
        Columns set on an object created in the same buffer move to its
        real handle once the response is decoded; a later buffer finds them
        there.
        """
        requests = decodeRequests(self.REQUEST[:-3], [0x100, 0xFFFFFFFF], self.ctx)
        self.assertEqual(list(self.ctx.columns), [-1])
        decodeResponses(
            self.RESPONSE[:-5],
            [0x100, 0x777],
            requests,
            self.ctx,
            requestHandles=[0x100, 0xFFFFFFFF],
        )
        self.assertEqual(self.ctx.columns, {0x777: [0x0037001F, 0x10070003]})

        later = bytes.fromhex("150000")
        requests = decodeRequests(later, [0x777], self.ctx)
        items = decodeResponses(
            bytes.fromhex("1500" "00000000" "01000000" "02000000"),
            [0x777],
            requests,
            self.ctx,
        )
        self.assertEqual(items[0].values, [1, 2])

    def test_releaseForgetsColumns(self):
        """
        A released handle's columns are forgotten once the responses of its
        buffer are decoded.
        """
        self.ctx.columns[0x777] = [1]
        self.ctx.handleState("table:x")[0x777] = "kept until release"
        requests = decodeRequests(bytes.fromhex("010000"), [0x777], self.ctx)
        self.assertEqual(self.ctx.columns, {0x777: [1]})
        decodeResponses(b"", [0x777], requests, self.ctx)
        self.assertEqual(self.ctx.columns, {})
        self.assertEqual(self.ctx.handleState("table:x"), {})

    def test_failedOpenDropsProvisional(self):
        """
        Columns set on an object whose creation failed are dropped.
        """
        requests = decodeRequests(self.REQUEST[:-6], [0x100, 0xFFFFFFFF], self.ctx)
        decodeResponses(
            bytes.fromhex("0201" "0f010480"), [0x100, 0xFFFFFFFF], requests, self.ctx
        )
        self.assertEqual(self.ctx.columns, {})

    def test_unknownRopId(self):
        """
        An unregistered RopId ends the list with an L{UnknownRop} holding
        every byte from it on, which encodes back verbatim.
        """
        data = bytes.fromhex("150000") + b"\x99\x01\x02\x15\x00\x00"
        items = decodeRequests(data, [], self.ctx)
        self.assertEqual(
            items,
            [
                self.QueryRows(0, 0),
                UnknownRop(0x99, b"\x99\x01\x02\x15\x00\x00", "unknown RopId 0x99"),
            ],
        )
        self.assertEqual(items[1].NAME, "Rop0x99")
        self.assertEqual(encodeRequests(items, self.ctx), data)

    def test_corruptBody(self):
        """
        A ROP whose body does not parse becomes an L{UnknownRop} carrying the
        error text.
        """
        data = bytes.fromhex("150000") + bytes.fromhex("020000" "01" "2211")
        items = decodeRequests(data, [], self.ctx)
        self.assertEqual(len(items), 2)
        self.assertIsInstance(items[1], UnknownRop)
        self.assertEqual((items[1].ropId, items[1].data), (0x02, data[3:]))
        self.assertIn("truncated", items[1].error)
        self.assertEqual(encodeRequests(items, self.ctx), data)

    def test_truncatedHeaders(self):
        """
        A request or response header cut short becomes an L{UnknownRop}.
        """
        self.assertEqual(
            decodeRequests(b"\x15\x00", [], self.ctx),
            [UnknownRop(0x15, b"\x15\x00", "truncated ROP request header")],
        )
        items = decodeResponses(b"\x02\x00\x00", [], None, self.ctx)
        self.assertEqual(items[0].data, b"\x02\x00\x00")
        self.assertIn("truncated", items[0].error)

    def test_bugInFamilyCodeContained(self):
        """
        An unexpected exception from a ROP class (here a missing request)
        is turned into an L{UnknownRop} naming the exception type.
        """
        items = decodeResponses(bytes.fromhex("1500" "00000000"), [], None, self.ctx)
        self.assertIsInstance(items[0], UnknownRop)
        self.assertIn("AttributeError", items[0].error)

    def test_failureResponse(self):
        """
        A failed response keeps its handle index and ReturnValue and has
        no body here.
        """
        data = bytes.fromhex("0203" "05040080")
        items = decodeResponses(data, [], None, self.ctx)
        self.assertEqual(items, [self.OpenResponse(3, 0x80000405)])
        self.assertEqual(encodeResponses(items, None, self.ctx), data)

    def test_mismatchedResponse(self):
        """
        A response is paired with the next request of its RopId, skipping
        requests the server did not answer.
        """
        requests = [self.QueryRows(0, 0), self.Open(0, 0, 1, 5)]
        seen = []

        @dataclass
        class Spy(RopResponse):
            @classmethod
            def readBody(cls, r, ctx, request, header):
                seen.append(request)
                return cls(**header)

        del base.RESPONSE_CLASSES[0x02]
        ropResponse(0x02)(Spy)
        decodeResponses(bytes.fromhex("0201" "00000000") * 2, [], requests, self.ctx)
        self.assertEqual(seen, [requests[1], None])

    def test_noRequests(self):
        """
        Without requests, responses that need none decode with C{None}.
        """
        data = self.RESPONSE[:7] + self.RESPONSE[-5:]
        items = decodeResponses(data, [], None, self.ctx)
        self.assertEqual(
            items, [self.OpenResponse(1, 0), self.Notify(0, 0, 0x11223344)]
        )

    def test_emptyBuffer(self):
        """
        An empty ROP list decodes to an empty list and back.
        """
        self.assertEqual(decodeRequests(b"", [], self.ctx), [])
        self.assertEqual(decodeResponses(b"", [], [], self.ctx), [])
        self.assertEqual(encodeRequests([], self.ctx), b"")
        self.assertEqual(encodeResponses([], [], self.ctx), b"")

    def test_encodeBadValue(self):
        """
        A field out of range raises L{RopError} on encoding.
        """
        self.assertRaises(RopError, encodeRequests, [self.Open(0, 0, 1, -1)], self.ctx)
        self.assertRaises(RopError, encodeRequests, [self.QueryRows(256, 0)], self.ctx)
        self.assertRaises(
            RopError, encodeResponses, [self.OpenResponse(0, 1 << 32)], None, self.ctx
        )

    def test_notBytes(self):
        """
        A ROP list that is not bytes-like raises L{RopError}.
        """
        self.assertRaises(RopError, decodeRequests, 5.0, [], self.ctx)

    @_FAST
    @given(st.binary(max_size=80))
    def test_randomBytes(self, data):
        """
        Arbitrary bytes decode to a list that encodes back to the same bytes.
        """
        ctx = RopContext()
        requests = decodeRequests(data, [1, 2, 3], ctx)
        self.assertEqual(encodeRequests(requests, ctx), data)
        responses = decodeResponses(data, [1, 2, 3], requests, ctx)
        self.assertEqual(encodeResponses(responses, requests, ctx), data)


class ContextTests(SynchronousTestCase):
    """
    Tests for L{RopContext}.
    """

    def test_handleOf(self):
        """
        C{handleOf} reads the current handle table and answers L{None}
        outside it.
        """
        ctx = RopContext()
        ctx._beginBuffer([5, 6])
        self.assertEqual([ctx.handleOf(i) for i in (0, 1, 2, -1)], [5, 6, None, None])

    def test_rememberRecall(self):
        """
        C{remember} keeps state that C{recall} returns and C{forget} drops.
        """
        ctx = RopContext()
        self.assertIsNone(ctx.recall("a:b"))
        self.assertEqual(ctx.recall("a:b", 3), 3)
        ctx.remember("a:b", 4)
        self.assertEqual(ctx.recall("a:b"), 4)
        ctx.forget("a:b")
        ctx.forget("a:b")
        self.assertIsNone(ctx.recall("a:b"))

    def test_handleStateIsShared(self):
        """
        C{handleState} returns the same dict for the same name.
        """
        ctx = RopContext()
        ctx.handleState("x:y")[1] = 2
        self.assertEqual(ctx.handleState("x:y"), {1: 2})
        self.assertEqual(ctx.handleState("x:z"), {})


_FAMILIES = ("logon", "table", "message", "property", "sync", "notify")


class FamilyTests(SynchronousTestCase):
    """
    Checks over the real family modules.
    """

    def _families(self):
        missing = []
        for name in _FAMILIES:
            try:
                importlib.import_module("mapiproxy.mapi.rops." + name)
            except ModuleNotFoundError as e:
                if e.name != "mapiproxy.mapi.rops." + name:
                    raise
                missing.append(name)
        if missing:
            raise self.skipTest(
                "family modules not written yet: "
                + ", ".join("mapiproxy/mapi/rops/%s.py" % (n,) for n in missing)
            )

    def test_everyRopRegistered(self):
        """
        Every RopId of L{ROP_NAMES} has a request and a response class
        (RopRelease only a request; RopNotify, RopPending, RopBackoff and
        RopBufferTooSmall only a response), and nothing else is registered.
        """
        self._families()
        loadFamilies()
        missing = []
        for ropId, name in sorted(ROP_NAMES.items()):
            if ropId not in NO_HEADER_IDS and ropId not in base.REQUEST_CLASSES:
                missing.append("%s (0x%02X) request" % (name, ropId))
            if ropId != 0x01 and ropId not in base.RESPONSE_CLASSES:
                missing.append("%s (0x%02X) response" % (name, ropId))
        self.assertEqual(missing, [])
        self.assertEqual(set(base.REQUEST_CLASSES) - set(ROP_NAMES), set())
        self.assertEqual(set(base.RESPONSE_CLASSES) - set(ROP_NAMES), set())
        for ropId in NO_HEADER_IDS:
            self.assertTrue(base.RESPONSE_CLASSES[ropId].NO_HEADER, ropName(ropId))
        self.assertTrue(base.REQUEST_CLASSES[0x01].NO_RESPONSE)

    @_FAST
    @given(st.binary(max_size=200))
    def test_randomBytesRealFamilies(self, data):
        """
        With the real ROP classes, arbitrary bytes decode without raising
        and encode back to the same bytes.
        """
        self._families()
        loadFamilies()
        ctx = RopContext()
        requests = decodeRequests(data, [1, 2, 3], ctx)
        self.assertEqual(encodeRequests(requests, ctx), data)
        responses = decodeResponses(data, [1, 2, 3], requests, ctx)
        self.assertEqual(encodeResponses(responses, requests, ctx), data)


class ResolutionTests(SynchronousTestCase):
    """
    Tests for the handle resolution of L{decodeResponses}.
    """

    def setUp(self):
        loadFamilies()
        self.patch(base, "REQUEST_CLASSES", {})
        self.patch(base, "RESPONSE_CLASSES", {})
        self.Open = _registerTestRops()[0]
        self.seen = []
        seen = self.seen

        @ropRequest(0x16)
        @dataclass
        class Status(RopRequest):
            pass

        @ropResponse(0x16)
        @dataclass
        class StatusResponse(RopResponse):
            @classmethod
            def readBody(cls, r, ctx, request, header):
                seen.append(ctx.handleOf(request.inputHandleIndex))
                return cls(**header)

    def test_provisionalThenReal(self):
        """
        A ROP on an object created earlier in the same buffer sees a
        provisional key while requests are decoded and the real handle once
        the creating response has been decoded.
        """
        ctx = RopContext()
        requests = decodeRequests(
            bytes.fromhex("020000" "01" "0100000000000000" "160101"),
            [0x100, 0xFFFFFFFF],
            ctx,
        )
        self.assertEqual(ctx.handleOf(1), -1)
        decodeResponses(
            bytes.fromhex("0201" "00000000" "00" "1601" "00000000"),
            [0x100, 0x555],
            requests,
            ctx,
            requestHandles=[0x100, 0xFFFFFFFF],
        )
        self.assertEqual(self.seen, [0x555])

    def test_failedCreationFallsBack(self):
        """
        When the creating ROP failed, later ROPs see the request's handle
        table value.
        """
        ctx = RopContext()
        requests = decodeRequests(
            bytes.fromhex("020000" "01" "0100000000000000" "160101"),
            [0x100, 0xFFFFFFFF],
            ctx,
        )
        decodeResponses(
            bytes.fromhex("0201" "0f010480" "1601" "b9040000"),
            [0x100, 0xFFFFFFFF],
            requests,
            ctx,
            requestHandles=[0x100, 0xFFFFFFFF],
        )
        self.assertEqual(self.seen, [0xFFFFFFFF])
