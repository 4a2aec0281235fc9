"""
Tests for L{mapiproxy.mapi.lz77}: MS-XCA Plain LZ77.

Golden streams come from [MS-XCA] 3.1 or are laid out by hand from the
format of [MS-XCA] 2.3/2.4 (each one is spelled out next to it); the
cross-checks run an independent decoder and encoder: Samba's C
C{lzxpress_compress}/C{lzxpress_decompress} (through ctypes, from Debian's
samba libraries) and the pure-Python decoder of C{dissect.util}.
"""

import ctypes
import glob
import random
import struct

from hypothesis import given, settings, strategies as st

from twisted.trial.unittest import SynchronousTestCase

from mapiproxy.errors import CompressionError, MapiBufferError
from mapiproxy.mapi.lz77 import DEFAULT_MAX_SIZE, compress, decompress
from tests.peers import unavailable

try:
    from dissect.util.compression import lzxpress as _dissect
except ImportError:  # pragma: no cover - depends on the test extra
    _dissect = None

# Debian's samba-libs ships lib/compression/lzxpress.c inside libndr-samba.
_SAMBA_LIBRARIES = "/usr/lib/*/samba/libndr-samba-samba4.so.0"


def _loadSamba():
    """
    Load Samba's LZ77 functions (lib/compression/lzxpress.c, exported by
    libndr-samba).

    @return: C{(compress, decompress)} callables, or L{None}.
    """
    paths = sorted(glob.glob(_SAMBA_LIBRARIES))
    if not paths:
        return None
    try:
        library = ctypes.CDLL(paths[0])
        sambaCompress = library.lzxpress_compress
        sambaDecompress = library.lzxpress_decompress
    except (OSError, AttributeError):
        return None
    for function in (sambaCompress, sambaDecompress):
        function.restype = ctypes.c_ssize_t
        function.argtypes = [
            ctypes.c_char_p,
            ctypes.c_uint32,
            ctypes.c_char_p,
            ctypes.c_uint32,
        ]

    def callCompress(data):
        room = len(data) + len(data) // 8 + 64
        output = ctypes.create_string_buffer(room)
        size = sambaCompress(data, len(data), output, room)
        if size < 0:
            raise RuntimeError("Samba lzxpress_compress failed")
        return output.raw[:size]

    def callDecompress(data, expectedSize):
        output = ctypes.create_string_buffer(expectedSize + 16)
        size = sambaDecompress(data, len(data), output, expectedSize + 16)
        if size < 0:
            raise RuntimeError("Samba lzxpress_decompress failed")
        return output.raw[:size]

    return callCompress, callDecompress


_SAMBA = _loadSamba()


def _mapiLike(size, seed):
    """
    Build MAPI-looking bytes: property tags, UTF-16 strings, entry IDs and
    some random binary.

    @rtype: L{bytes}
    """
    rng = random.Random(seed)
    words = ["Subject", "Meeting", "Re:", "Budget", "Alice", "Bob", "IPM.Note"]
    prefix = rng.randbytes(24)
    parts = []
    total = 0
    while total < size:
        text = " ".join(rng.choice(words) for _ in range(rng.randrange(1, 5)))
        chunk = (
            struct.pack("<I", 0x0037001F)
            + text.encode("utf-16-le")
            + b"\x00\x00"
            + struct.pack("<IH", 0x0FFF0102, 46)
            + prefix
            + rng.randbytes(22)
            + struct.pack("<IQ", 0x0E060040, 133000000000000000 + rng.randrange(10**9))
            + rng.randbytes(rng.randrange(0, 24))
        )
        parts.append(chunk)
        total += len(chunk)
    return b"".join(parts)[:size]


def _samples():
    """
    Inputs that exercise literals, short, nibble, byte, u16 and u32 matches.

    @rtype: L{list} of L{bytes}
    """
    rng = random.Random(7)
    return [
        b"",
        b"a",
        b"abcdefghijklmnopqrstuvwxyz",
        b"abc" * 100,
        bytes(range(256)) * 3,
        rng.randbytes(3000),
        b"\x00" * 70001,
        ("Hello, wörld " * 40).encode("utf-16-le"),
        _mapiLike(20000, 1),
        _mapiLike(0x8000, 2),
    ]


class SpecExampleTests(SynchronousTestCase):
    """
    The Plain LZ77 examples of [MS-XCA] 3.1.
    """

    alphabet = b"abcdefghijklmnopqrstuvwxyz"
    # 26 literal flags (0) then 6 unused flags (1): 0x0000003F.
    alphabetStream = bytes.fromhex("3f000000") + alphabet

    # Flags 0,0,0 (literals a, b, c), 1 (a match), then ones: 0x1FFFFFFF.
    # Token 0x0017: offset (0x17 >> 3) + 1 = 3, length field 7 (long);
    # nibble byte 0x0F: 15 (longer still); byte 0xFF: a u16 follows;
    # u16 0x0126 = 294 = length - 3, so the match is 297 bytes long.
    abcStream = bytes.fromhex("ffffff1f" "616263" "1700" "0f" "ff" "2601")

    def test_alphabetDecodes(self):
        """
        The 26-letter example decodes to the alphabet.
        """
        self.assertEqual(decompress(self.alphabetStream, 26), self.alphabet)

    def test_alphabetEncodes(self):
        """
        The alphabet compresses to the example's bytes: all literals, the
        unused flag bits set to 1.
        """
        self.assertEqual(compress(self.alphabet), self.alphabetStream)

    def test_repeatedAbcDecodes(self):
        """
        The "abc" x 100 example decodes to 300 bytes: three literals and one
        overlapping match of 297 bytes at offset 3.
        """
        self.assertEqual(decompress(self.abcStream, 300), b"abc" * 100)

    def test_repeatedAbcEncodes(self):
        """
        A greedy encoder produces exactly the example's 13 bytes for
        "abc" x 100.
        """
        self.assertEqual(compress(b"abc" * 100), self.abcStream)


class HandMadeStreamTests(SynchronousTestCase):
    """
    Streams laid out by hand from [MS-XCA] 2.4, one per length encoding.
    """

    def test_emptyInput(self):
        """
        Empty input compresses to one flag word of ones, which decodes to
        nothing; an empty stream also decodes to nothing.
        """
        self.assertEqual(compress(b""), b"\xff\xff\xff\xff")
        self.assertEqual(decompress(b"\xff\xff\xff\xff", 0), b"")
        self.assertEqual(decompress(b""), b"")

    def test_fullGroupGetsTrailingFlagWord(self):
        """
        When the last group holds exactly 32 items, the compressor reserves
        and writes one more flag word, all ones.
        """
        data = bytes(range(32))
        expected = b"\x00\x00\x00\x00" + data + b"\xff\xff\xff\xff"
        self.assertEqual(compress(data), expected)
        self.assertEqual(decompress(expected, 32), data)

    def test_secondGroup(self):
        """
        The 33rd literal starts a second group whose flag word is one 0 bit
        and 31 one bits (0x7FFFFFFF).
        """
        data = bytes(range(33))
        expected = b"\x00\x00\x00\x00" + data[:32] + b"\xff\xff\xff\x7f" + data[32:]
        self.assertEqual(compress(data), expected)
        self.assertEqual(decompress(expected, 33), data)

    def test_shortMatch(self):
        """
        A match of 3..9 bytes fits the token: length - 3 in its low three
        bits.
        """
        # Flags 0,0,0,1 then ones = 0x1FFFFFFF; token offset 3 ((3-1)<<3)
        # with length field 6 - 3 = 3 -> 0x0013.
        stream = bytes.fromhex("ffffff1f" "78797a" "1300")
        self.assertEqual(decompress(stream, 9), b"xyzxyzxyz")
        self.assertEqual(compress(b"xyzxyzxyz"), stream)

    def test_sharedNibble(self):
        """
        Two long matches share one byte for their length nibble: the first
        uses its low half, the second its high half, and the byte sits right
        after the first match's token.
        """
        # Items: a b c d, match(offset 4, length 12), x, match(offset 5,
        # length 20). Flags 0000 1 0 1 + 25 ones = 0x0BFFFFFF.
        # Token 1: ((4-1)<<3)|7 = 0x1F; nibble 12-10 = 2 (low half).
        # Token 2: ((5-1)<<3)|7 = 0x27; nibble 20-10 = 10 (high half),
        # so the shared byte is 0xA2.
        stream = bytes.fromhex("ffffff0b" "61626364" "1f00" "a2" "78" "2700")
        expected = b"abcd" + b"abcd" * 3 + b"x" + b"abcdx" * 4
        self.assertEqual(decompress(stream, 37), expected)

    def test_byteLength(self):
        """
        Lengths 25..279 take nibble 15 and one byte holding length - 25.
        """
        # Flags 0,0,1 + ones = 0x3FFFFFFF; token ((2-1)<<3)|7 = 0x000F;
        # nibble 15; byte 30 - 25 = 5.
        stream = bytes.fromhex("ffffff3f" "6162" "0f00" "0f" "05")
        self.assertEqual(decompress(stream, 32), b"ab" * 16)
        self.assertEqual(compress(b"ab" * 16), stream)

    def test_u32Length(self):
        """
        A u16 of 0 after the 255 byte announces a u32 holding length - 3,
        for matches longer than 0xFFFF + 3 bytes.
        """
        # 'a', then match(offset 1, length 70000): token 0x0007, nibble
        # 15, byte 255, u16 0, u32 69997 = 0x0001116D.
        stream = bytes.fromhex("ffffff7f" "61" "0700" "0f" "ff" "0000" "6d110100")
        self.assertEqual(decompress(stream, 70001), b"a" * 70001)
        self.assertEqual(compress(b"a" * 70001), stream)

    def test_overlappingCopyIsPeriodic(self):
        """
        A match longer than its offset repeats the last C{offset} bytes, as
        a byte-by-byte copy would.
        """
        # 'a','b','c', then match(offset 2, length 7): "bcbcbcb".
        stream = bytes.fromhex("ffffff1f" "616263" "0c00")
        self.assertEqual(decompress(stream), b"abcbcbcbcb")

    def test_acceptsBytesLikeInput(self):
        """
        bytearray and memoryview inputs decode and encode like bytes.
        """
        stream = compress(b"abc" * 10)
        self.assertEqual(decompress(bytearray(stream)), b"abc" * 10)
        self.assertEqual(decompress(memoryview(stream), 30), b"abc" * 10)
        self.assertEqual(compress(bytearray(b"abc" * 10)), stream)


class MalformedStreamTests(SynchronousTestCase):
    """
    Bad streams raise L{CompressionError} and nothing else.
    """

    def assertRejected(self, stream, expectedSize=None, **kwargs):
        """
        Assert that decoding C{stream} raises L{CompressionError}.
        """
        error = self.assertRaises(
            CompressionError, decompress, stream, expectedSize, **kwargs
        )
        self.assertIsInstance(error, MapiBufferError)
        return error

    def test_offsetBeforeStart(self):
        """
        A match reaching before the first output byte is refused.
        """
        error = self.assertRejected(bytes.fromhex("ffffff7f" "61" "0800"))
        self.assertIn("offset 2", str(error))

    def test_matchFirst(self):
        """
        A match as the very first item has nothing to copy from.
        """
        self.assertRejected(bytes.fromhex("ffffffff" "0000"))

    def test_truncatedFlagWord(self):
        """
        A flag word cut short is refused.
        """
        self.assertRejected(b"\x00\x00")
        self.assertRejected(compress(b"abc") + b"\x00")

    def test_truncatedToken(self):
        """
        A match flag followed by a single byte is refused.
        """
        self.assertRejected(bytes.fromhex("ffffff7f" "61" "07"))

    def test_literalWithoutInput(self):
        """
        A literal flag with no byte left is refused.
        """
        self.assertRejected(bytes.fromhex("00000000" "61"))

    def test_truncatedNibble(self):
        """
        A long match whose nibble byte is missing is refused.
        """
        self.assertRejected(bytes.fromhex("ffffff7f" "61" "0700"))

    def test_truncatedLengthByte(self):
        """
        A nibble of 15 with no byte after it is refused.
        """
        self.assertRejected(bytes.fromhex("ffffff7f" "61" "0700" "0f"))

    def test_truncatedU16Length(self):
        """
        A 255 length byte with half a u16 after it is refused.
        """
        self.assertRejected(bytes.fromhex("ffffff7f" "61" "0700" "0f" "ff" "00"))

    def test_truncatedU32Length(self):
        """
        A zero u16 with half a u32 after it is refused.
        """
        self.assertRejected(bytes.fromhex("ffffff7f" "61" "0700" "0f" "ff" "0000" "6d11"))

    def test_extendedLengthTooSmall(self):
        """
        A u16 length below 22 cannot be produced by the format and is
        refused.
        """
        error = self.assertRejected(bytes.fromhex("ffffff7f" "61" "0700" "0f" "ff" "1000"))
        self.assertIn("below 22", str(error))

    def test_outputLongerThanExpected(self):
        """
        A stream producing more than C{expectedSize} bytes is refused.
        """
        self.assertRejected(compress(b"abcdef"), 5)
        self.assertRejected(compress(b"abc" * 100), 299)

    def test_outputShorterThanExpected(self):
        """
        A stream producing fewer than C{expectedSize} bytes is refused.
        """
        error = self.assertRejected(compress(b"abc" * 100), 301)
        self.assertIn("300", str(error))

    def test_zipBombStopsAtLimit(self):
        """
        A 4 GB match is refused from its length alone, against
        C{expectedSize} or the default C{maxSize}, before anything grows.
        """
        bomb = bytes.fromhex("ffffff7f" "61" "0700" "0f" "ff" "0000" "f0ffffff")
        self.assertRejected(bomb, 100)
        error = self.assertRejected(bomb)
        self.assertIn(str(DEFAULT_MAX_SIZE), str(error))
        self.assertRejected(compress(b"\x00" * 5000), maxSize=4096)

    def test_expectedAboveMaximum(self):
        """
        An C{expectedSize} above C{maxSize} is refused up front.
        """
        self.assertRejected(compress(b"abc"), 3, maxSize=2)
        self.assertRejected(compress(b"abc"), -1)


class CrossCheckTests(SynchronousTestCase):
    """
    Our codec against independent implementations of Plain LZ77.
    """

    def setUp(self):
        self.samples = _samples()

    def samba(self):
        """
        Samba's codec, or a skip (a failure in CI, which installs Samba).

        @return: C{(compress, decompress)}.
        """
        if _SAMBA is None:
            unavailable("Samba's libndr-samba (lzxpress_compress) is not installed")
        return _SAMBA

    def test_sambaDecodesOurStreams(self):
        """
        Samba's C decoder turns our streams back into the input.
        """
        sambaCompress, sambaDecompress = self.samba()
        for data in self.samples:
            self.assertEqual(sambaDecompress(compress(data), len(data)), data)

    def test_weDecodeSambaStreams(self):
        """
        We decode what Samba's C encoder produces, to exactly its input.
        """
        sambaCompress, sambaDecompress = self.samba()
        for data in self.samples:
            if len(data) > 0xFFFF:
                # Samba 4.17's compressor is exhaustive (slow) and caps
                # matches at 0xFFFF + 3; keep the run short.
                continue
            self.assertEqual(decompress(sambaCompress(data), len(data)), data)

    def test_sambaAgreesOnSpecExamples(self):
        """
        Samba's encoder produces the same bytes as ours for the [MS-XCA]
        examples.
        """
        sambaCompress, _ = self.samba()
        for data in (b"abcdefghijklmnopqrstuvwxyz", b"abc" * 100):
            self.assertEqual(sambaCompress(data), compress(data))

    def test_sambaDecodesHandMadeStreams(self):
        """
        Samba's decoder reads the hand-laid shared-nibble and u32 streams the
        way we do.
        """
        _, sambaDecompress = self.samba()
        for stream, size in [
            (bytes.fromhex("ffffff0b" "61626364" "1f00" "a2" "78" "2700"), 37),
            (bytes.fromhex("ffffff7f" "61" "0700" "0f" "ff" "0000" "6d110100"), 70001),
        ]:
            self.assertEqual(sambaDecompress(stream, size), decompress(stream, size))

    def test_dissectDecodesOurStreams(self):
        """
        dissect.util's pure-Python LZXPRESS decoder turns our streams back
        into the input.
        """
        if _dissect is None:
            unavailable("dissect.util (the test extra) is not installed")
        for data in self.samples:
            self.assertEqual(_dissect.decompress(compress(data)), data)


class PropertyTests(SynchronousTestCase):
    """
    Round trips over generated inputs.
    """

    @settings(max_examples=200, deadline=None)
    @given(
        st.lists(
            st.one_of(
                st.binary(max_size=40),
                st.builds(
                    lambda b, n: b * n,
                    st.binary(min_size=1, max_size=6),
                    st.integers(1, 80),
                ),
                st.sampled_from([b"\x1f\x00\x37\x00", "Ab".encode("utf-16-le"), b"\x00" * 300]),
            ),
            max_size=40,
        )
    )
    def test_roundTrip(self, pieces):
        """
        Whatever goes in comes back out, and the output never grows by more
        than one flag word per 32 bytes plus one.
        """
        data = b"".join(pieces)
        stream = compress(data)
        self.assertEqual(decompress(stream, len(data)), data)
        self.assertLessEqual(len(stream), len(data) + 4 * (len(data) // 32 + 1))

    @settings(max_examples=200, deadline=None)
    @given(st.binary(max_size=200), st.integers(0, 400))
    def test_arbitraryBytesNeverLeakOtherErrors(self, stream, expectedSize):
        """
        Arbitrary bytes either decode or raise L{CompressionError}, never
        an IndexError or struct.error.
        """
        try:
            result = decompress(stream, expectedSize)
        except CompressionError:
            return
        self.assertEqual(len(result), expectedSize)

    def test_compressesRepetitiveData(self):
        """
        MAPI-looking data shrinks to well under its size, and long runs to
        almost nothing.
        """
        data = _mapiLike(0x8000, 3)
        self.assertLess(len(compress(data)), len(data) * 0.7)
        self.assertLess(len(compress(b"\x00" * 0x8000)), 20)
