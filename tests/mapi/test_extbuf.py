"""
Tests for L{mapiproxy.mapi.extbuf} (RPC_HEADER_EXT chains, ROP buffer
envelope, EcDoRpc blobs) and L{mapiproxy.mapi.obfuscation} (XOR 0xA5).

Golden chains are laid out by hand from [MS-OXCRPC] 2.2.2.1: four
little-endian u16 (Version, Flags, Size, SizeActual), then the payload.
"""

import struct

from hypothesis import given, settings, strategies as st

from twisted.trial.unittest import SynchronousTestCase

from mapiproxy.errors import CompressionError, MapiBufferError
from mapiproxy.mapi.extbuf import (
    COMPRESSED,
    LAST,
    MAX_PAYLOAD,
    XOR_MAGIC,
    ExtendedBuffer,
    RopBuffer,
    decodeChain,
    decodeEcDoRpcBlob,
    encodeChain,
    encodeEcDoRpcBlob,
    splitPayload,
)
from mapiproxy.mapi.obfuscation import xorMagic

# [MS-XCA] 3.1: "abc" x 100 as Plain LZ77.
_ABC_STREAM = bytes.fromhex("ffffff1f61626317000fff2601")


def _header(version, flags, size, sizeActual):
    return struct.pack("<HHHH", version, flags, size, sizeActual)


def _xor(data):
    """
    An independent, byte-at-a-time XOR 0xA5.
    """
    return bytes(b ^ 0xA5 for b in data)


class XorMagicTests(SynchronousTestCase):
    """
    Tests for L{xorMagic}.
    """

    def test_everyByteValue(self):
        """
        Each of the 256 byte values is XORed with 0xA5.
        """
        data = bytes(range(256))
        self.assertEqual(xorMagic(data), _xor(data))

    def test_knownBytes(self):
        """
        0x00 becomes 0xA5, 0xA5 becomes 0x00 and 0xFF becomes 0x5A.
        """
        self.assertEqual(xorMagic(b"\x00\xa5\xff"), b"\xa5\x00\x5a")

    def test_involution(self):
        """
        Applying it twice gives the input back, for bytes-like inputs too.
        """
        data = bytes(range(256)) * 1000
        self.assertEqual(xorMagic(xorMagic(data)), data)
        self.assertEqual(xorMagic(bytearray(b"abc")), _xor(b"abc"))
        self.assertEqual(xorMagic(memoryview(b"abc")), _xor(b"abc"))
        self.assertIsInstance(xorMagic(bytearray(b"abc")), bytes)


class DecodeChainTests(SynchronousTestCase):
    """
    Tests for L{decodeChain}.
    """

    def test_plainLast(self):
        """
        A plain payload with Last decodes to one buffer carrying it.
        """
        chain = _header(0, LAST, 5, 5) + b"hello"
        self.assertEqual(
            decodeChain(chain), [ExtendedBuffer(LAST, b"hello", False, False)]
        )

    def test_xorMagic(self):
        """
        An XorMagic payload is un-XORed.
        """
        chain = _header(0, XOR_MAGIC | LAST, 5, 5) + _xor(b"hello")
        [buf] = decodeChain(chain)
        self.assertEqual(buf.payload, b"hello")
        self.assertTrue(buf.obfuscated)
        self.assertFalse(buf.compressed)
        self.assertEqual(buf.flags, XOR_MAGIC | LAST)

    def test_compressedThenXored(self):
        """
        The receiver un-XORs first, then decompresses to SizeActual.
        """
        chain = _header(0, COMPRESSED | XOR_MAGIC | LAST, 13, 300) + _xor(_ABC_STREAM)
        [buf] = decodeChain(chain)
        self.assertEqual(buf.payload, b"abc" * 100)
        self.assertTrue(buf.compressed)
        self.assertTrue(buf.obfuscated)

    def test_compressedOnly(self):
        """
        A compressed payload without XorMagic is decompressed as is.
        """
        chain = _header(0, COMPRESSED | LAST, 13, 300) + _ABC_STREAM
        self.assertEqual(decodeChain(chain)[0].payload, b"abc" * 100)

    def test_chain(self):
        """
        Several header+payload pairs decode in order, up to the one with
        Last.
        """
        chain = (
            _header(0, XOR_MAGIC, 3, 3)
            + _xor(b"one")
            + _header(0, COMPRESSED, 13, 300)
            + _ABC_STREAM
            + _header(0, LAST, 5, 5)
            + b"three"
        )
        buffers = decodeChain(chain)
        self.assertEqual(
            [buf.payload for buf in buffers], [b"one", b"abc" * 100, b"three"]
        )
        self.assertEqual([buf.last for buf in buffers], [False, False, True])

    def test_emptyPayload(self):
        """
        A header announcing 0 bytes carries an empty payload.
        """
        self.assertEqual(decodeChain(_header(0, LAST, 0, 0))[0].payload, b"")

    def test_badVersion(self):
        """
        A Version other than 0 is refused.
        """
        error = self.assertRaises(
            MapiBufferError, decodeChain, _header(1, LAST, 0, 0)
        )
        self.assertIn("Version 1", str(error))

    def test_unknownFlag(self):
        """
        A flag bit outside Compressed|XorMagic|Last is refused.
        """
        self.assertRaises(MapiBufferError, decodeChain, _header(0, LAST | 0x8, 0, 0))

    def test_truncatedHeader(self):
        """
        Fewer than 8 bytes where a header should start are refused.
        """
        self.assertRaises(MapiBufferError, decodeChain, b"\x00\x00\x04\x00")
        self.assertRaises(
            MapiBufferError, decodeChain, _header(0, 0, 1, 1) + b"x" + b"\x00\x00"
        )

    def test_payloadPastEnd(self):
        """
        A Size larger than what is left is refused.
        """
        error = self.assertRaises(
            MapiBufferError, decodeChain, _header(0, LAST, 6, 6) + b"hello"
        )
        self.assertIn("6 payload bytes", str(error))

    def test_missingLast(self):
        """
        Data ending after a header without Last is refused.
        """
        error = self.assertRaises(
            MapiBufferError, decodeChain, _header(0, XOR_MAGIC, 1, 1) + b"x"
        )
        self.assertIn("without a Last flag", str(error))

    def test_emptyInput(self):
        """
        An empty buffer has no Last header and is refused.
        """
        self.assertRaises(MapiBufferError, decodeChain, b"")

    def test_trailingBytes(self):
        """
        Bytes after the Last header's payload are refused.
        """
        error = self.assertRaises(
            MapiBufferError, decodeChain, _header(0, LAST, 1, 1) + b"xy"
        )
        self.assertIn("1 byte(s) after", str(error))

    def test_sizeMismatchUncompressed(self):
        """
        Size must equal SizeActual when the payload is not compressed.
        """
        self.assertRaises(MapiBufferError, decodeChain, _header(0, LAST, 1, 2) + b"x")

    def test_compressedWrongActualSize(self):
        """
        A compressed payload that does not decode to exactly SizeActual
        bytes raises L{CompressionError}, naming the header's offset.
        """
        error = self.assertRaises(
            CompressionError,
            decodeChain,
            _header(0, COMPRESSED | LAST, 13, 299) + _ABC_STREAM,
        )
        self.assertIn("offset 0", str(error))

    @settings(max_examples=200, deadline=None)
    @given(
        st.one_of(
            st.binary(max_size=64),
            st.builds(
                lambda flags, body, extra: _header(0, flags, len(body), len(body) + extra) + body,
                st.integers(0, 7),
                st.binary(max_size=40),
                st.integers(0, 50),
            ),
        )
    )
    def test_arbitraryBytesRaiseOnlyMapiBufferError(self, data):
        """
        Arbitrary bytes either decode or raise L{MapiBufferError}, never an
        IndexError, struct.error or other stray exception.
        """
        try:
            buffers = decodeChain(data)
        except MapiBufferError:
            return
        self.assertTrue(buffers[-1].last)

    def test_maxSize(self):
        """
        A chain whose SizeActual values add up past C{maxSize} is refused
        before decompressing.
        """
        chain = _header(0, COMPRESSED | LAST, 13, 300) + _ABC_STREAM
        self.assertRaises(MapiBufferError, decodeChain, chain, maxSize=299)
        self.assertEqual(len(decodeChain(chain, maxSize=300)[0].payload), 300)


class EncodeChainTests(SynchronousTestCase):
    """
    Tests for L{encodeChain}.
    """

    def test_plain(self):
        """
        A plain buffer gets Version 0, Last, Size == SizeActual.
        """
        self.assertEqual(
            encodeChain([ExtendedBuffer.make(b"hello")]),
            _header(0, LAST, 5, 5) + b"hello",
        )

    def test_xorMagic(self):
        """
        An obfuscated buffer is XORed, its header is not.
        """
        self.assertEqual(
            encodeChain([ExtendedBuffer.make(b"hello", obfuscated=True)]),
            _header(0, XOR_MAGIC | LAST, 5, 5) + _xor(b"hello"),
        )

    def test_compressThenXor(self):
        """
        The sender compresses first, then XORs the compressed bytes.
        """
        self.assertEqual(
            encodeChain([ExtendedBuffer.make(b"abc" * 100, compressed=True, obfuscated=True)]),
            _header(0, COMPRESSED | XOR_MAGIC | LAST, 13, 300) + _xor(_ABC_STREAM),
        )

    def test_incompressibleSentPlain(self):
        """
        When compression does not shrink the payload, the Compressed flag is
        cleared and the payload travels plain.
        """
        payload = bytes(range(100))
        self.assertEqual(
            encodeChain([ExtendedBuffer.make(payload, compressed=True)]),
            _header(0, LAST, 100, 100) + payload,
        )

    def test_lastOnFinalOnly(self):
        """
        In a chain only the final header has Last; the input flags are
        ignored.
        """
        chain = encodeChain(
            [
                ExtendedBuffer(LAST, b"a", False, False),
                ExtendedBuffer(0, b"b", False, False),
            ]
        )
        self.assertEqual(chain, _header(0, 0, 1, 1) + b"a" + _header(0, LAST, 1, 1) + b"b")

    def test_emptyChain(self):
        """
        A chain needs a buffer.
        """
        self.assertRaises(MapiBufferError, encodeChain, [])

    def test_payloadTooLarge(self):
        """
        A payload past 32 KB is refused ([MS-OXCRPC] 3.1.4.2.1).
        """
        encodeChain([ExtendedBuffer.make(b"x" * MAX_PAYLOAD)])
        self.assertRaises(
            MapiBufferError, encodeChain, [ExtendedBuffer.make(b"x" * (MAX_PAYLOAD + 1))]
        )

    def test_badVersion(self):
        """
        A version other than 0 cannot be encoded.
        """
        self.assertRaises(
            MapiBufferError, encodeChain, [ExtendedBuffer(LAST, b"", False, False, 3)]
        )

    @settings(max_examples=200, deadline=None)
    @given(
        st.lists(
            st.tuples(
                st.one_of(
                    st.binary(max_size=300),
                    st.builds(
                        lambda b, n: b * n,
                        st.binary(min_size=1, max_size=8),
                        st.integers(1, 200),
                    ),
                ),
                st.booleans(),
                st.booleans(),
            ),
            min_size=1,
            max_size=5,
        )
    )
    def test_roundTrip(self, items):
        """
        decodeChain(encodeChain(x)) gives the payloads and the obfuscation
        back, compressed only where it shrank, Last only at the end.
        """
        buffers = [ExtendedBuffer.make(p, compressed=c, obfuscated=o) for p, c, o in items]
        decoded = decodeChain(encodeChain(buffers))
        self.assertEqual([b.payload for b in decoded], [p for p, _, _ in items])
        self.assertEqual([b.obfuscated for b in decoded], [o for _, _, o in items])
        for buf, (_, asked, _) in zip(decoded, items):
            if buf.compressed:
                self.assertTrue(asked)
        self.assertEqual([b.last for b in decoded], [False] * (len(items) - 1) + [True])


class SplitPayloadTests(SynchronousTestCase):
    """
    Tests for L{splitPayload}.
    """

    def test_split(self):
        """
        A payload is cut into chunks of at most 32 KB, Last on the final
        one, the asked flags on each.
        """
        payload = bytes(range(256)) * 280
        buffers = splitPayload(payload, COMPRESSED | XOR_MAGIC)
        self.assertEqual([len(b.payload) for b in buffers], [0x8000, 0x8000, 71680 - 0x10000])
        self.assertEqual(b"".join(b.payload for b in buffers), payload)
        self.assertEqual(
            [b.flags for b in buffers],
            [COMPRESSED | XOR_MAGIC, COMPRESSED | XOR_MAGIC, COMPRESSED | XOR_MAGIC | LAST],
        )
        self.assertTrue(all(b.compressed and b.obfuscated for b in buffers))

    def test_exactMultiple(self):
        """
        A payload of exactly two chunks gives two buffers.
        """
        self.assertEqual(len(splitPayload(b"x" * 20, 0, maxChunk=10)), 2)

    def test_empty(self):
        """
        An empty payload gives one empty buffer with Last.
        """
        self.assertEqual(
            splitPayload(b"", XOR_MAGIC), [ExtendedBuffer(XOR_MAGIC | LAST, b"", False, True)]
        )

    def test_chainRoundTrip(self):
        """
        A split payload encodes to a chain that decodes back to it.
        """
        payload = b"property row " * 6000
        chain = encodeChain(splitPayload(payload, COMPRESSED | XOR_MAGIC))
        self.assertEqual(b"".join(b.payload for b in decodeChain(chain)), payload)

    def test_badChunk(self):
        """
        A chunk size of 0 is refused.
        """
        self.assertRaises(MapiBufferError, splitPayload, b"x", 0, 0)


class RopBufferTests(SynchronousTestCase):
    """
    Tests for L{RopBuffer} ([MS-OXCROPS] 2.2.1).
    """

    # RopSize 5 (2 + 3 ROP bytes: RopRelease, logon 0, handle index 0),
    # then two handles.
    golden = b"\x05\x00" + b"\x01\x00\x00" + struct.pack("<II", 0x11223344, 0xFFFFFFFF)

    def test_decode(self):
        """
        RopSize splits the ROPs from the handle table.
        """
        buf = RopBuffer.decode(self.golden)
        self.assertEqual(buf.rops, b"\x01\x00\x00")
        self.assertEqual(buf.handles, [0x11223344, 0xFFFFFFFF])
        self.assertEqual(buf.ropSize, 5)
        self.assertFalse(buf.idle)

    def test_encode(self):
        """
        Encoding writes RopSize, the ROPs and the handles.
        """
        buf = RopBuffer(b"\x01\x00\x00", [0x11223344, 0xFFFFFFFF])
        self.assertEqual(buf.encode(), self.golden)

    def test_idle(self):
        """
        RopSize 2 is an idle buffer with no ROP.
        """
        buf = RopBuffer.decode(b"\x02\x00")
        self.assertTrue(buf.idle)
        self.assertEqual(buf.handles, [])
        self.assertEqual(RopBuffer().encode(), b"\x02\x00")

    def test_ropSizePastEnd(self):
        """
        A RopSize larger than the buffer is refused.
        """
        self.assertRaises(MapiBufferError, RopBuffer.decode, b"\x06\x00\x01\x00\x00")

    def test_ropSizeTooSmall(self):
        """
        A RopSize below 2 is refused, as is a buffer without one.
        """
        self.assertRaises(MapiBufferError, RopBuffer.decode, b"\x01\x00\x00")
        self.assertRaises(MapiBufferError, RopBuffer.decode, b"\x02")

    def test_handleTableNotWhole(self):
        """
        A handle table that is not a multiple of 4 bytes is refused.
        """
        self.assertRaises(MapiBufferError, RopBuffer.decode, b"\x02\x00\x01\x02\x03")

    def test_encodeTooLarge(self):
        """
        ROPs that overflow RopSize, and handles that are not u32, are
        refused.
        """
        self.assertRaises(MapiBufferError, RopBuffer(b"x" * 0xFFFE).encode)
        self.assertRaises(MapiBufferError, RopBuffer(b"", [1 << 32]).encode)


class EcDoRpcBlobTests(SynchronousTestCase):
    """
    Tests for the EcDoRpc whole-blob XOR ([MS-OXCRPC] opnum 2, as OpenChange
    and Wireshark read it).
    """

    def test_decode(self):
        """
        The blob is un-XORed, then read as a ROP buffer.
        """
        buf = decodeEcDoRpcBlob(_xor(RopBufferTests.golden))
        self.assertEqual(buf.handles, [0x11223344, 0xFFFFFFFF])

    def test_encode(self):
        """
        The ROP buffer is XORed whole, RopSize included.
        """
        self.assertEqual(
            encodeEcDoRpcBlob(RopBuffer(b"\x01\x00\x00", [0x11223344, 0xFFFFFFFF])),
            _xor(RopBufferTests.golden),
        )

    def test_malformed(self):
        """
        A blob that is not a ROP buffer once un-XORed is refused.
        """
        self.assertRaises(MapiBufferError, decodeEcDoRpcBlob, _xor(b"\x09\x00"))
