# -*- test-case-name: tests.interfaces.test_ndr -*-
"""
A small NDR20 reader and writer for hand-written stub codecs.

NDR20 is the DCE 1.1 transfer syntax ([C706] chapter 14) as profiled by
[MS-RPCE] 2.2.5 (little-endian, ASCII, IEEE floats: the only data
representation mapiproxy accepts). Everything here is built on L{struct}:
byte arrays are sliced in one piece, never element by element, so a
256 KiB C{rgbOut} costs one copy.

Conventions, all from [C706] 14.2-14.3:
  - Primitives are aligned to their own size. Alignment is relative to the
    start of the stub (the first byte after the request/response PDU
    header), which is offset 0 of an L{NDRReader} or L{NDRWriter}.
  - A conformant array ([C706] 14.3.3.2, C{[size_is(n)] T a[]}) is a u32
    C{max_count} (aligned to 4) followed by the elements.
  - A conformant varying array ([C706] 14.3.3.4, C{[size_is(n),
    length_is(m)]}) is C{max_count}, C{offset}, C{actual_count} (three u32)
    followed by C{actual_count} elements.
  - A C{[string]} ([C706] 14.3.4.3) is a conformant varying array of
    characters whose last character is a NUL; C{max_count} and
    C{actual_count} both count that NUL.
  - A C{[unique]} or C{[ptr]} pointer is a u32 referent id (0 for NULL)
    ([C706] 14.3.10-14.3.11); the pointee follows, at the place the
    caller's layout dictates. A top-level C{[ref]} pointer has no wire
    representation of its own. L{NDRWriter.nextReferentId} hands out ids
    the way MIDL and Samba do (0x00020000, then +4).
  - A context handle ([C706] 14.3.12, [MS-RPCE] 2.2.5.3.2.1) is 20 bytes: a
    u32 attributes word and a 16-byte GUID (aligned to 4).

The reader never trusts a count: every read is bounds-checked against the
stub and counts may be capped with C{limit}; every failure raises
L{NDRError}, never L{IndexError}, L{struct.error} or
L{UnicodeDecodeError}. Pad bytes are skipped unread on decode (some
encoders, impacket among them, fill them with non-zero bytes) and written
as zeros on encode.

Sans-I/O; no Twisted.
"""

from dataclasses import dataclass
from struct import Struct
from struct import error as StructError
from uuid import UUID

from mapiproxy.errors import NDRError

__all__ = [
    "NULL_REFERENT",
    "FIRST_REFERENT_ID",
    "REFERENT_ID_STEP",
    "ContextHandle",
    "NDRReader",
    "NDRWriter",
    "checkRange",
    "decodeString",
    "encodeString",
]

#: The referent id of a NULL pointer.
NULL_REFERENT = 0
#: The first referent id MIDL and Samba's pidl hand out in a stub.
FIRST_REFERENT_ID = 0x00020000
#: The step between referent ids MIDL and pidl hand out.
REFERENT_ID_STEP = 4

#: The default 8-bit charset of C{[string, charset(DOS)]} strings. Latin-1
#: maps every byte to one code point and back, so any string decodes and
#: re-encodes to the same bytes (Windows-1252 would reject five bytes).
DOS_CHARSET = "latin-1"

_U8 = Struct("<B")
_U16 = Struct("<H")
_U32 = Struct("<I")
_I32 = Struct("<i")
_U64 = Struct("<Q")
_VARIANCE = Struct("<II")
_CONFORMANT_VARYING = Struct("<III")
_HANDLE = Struct("<I16s")

_PAD = b"\x00" * 8


def checkRange(name, value, low, high):
    """
    Enforce an IDL C{range(low, high)} attribute ([MS-RPCE] 2.2.4.2: a
    value outside the range makes the stub invalid).

    @param name: the parameter name, for the error message.
    @type name: L{str}
    @param value: the decoded value.
    @type value: L{int}
    @param low: the smallest allowed value.
    @type low: L{int}
    @param high: the largest allowed value.
    @type high: L{int}
    @return: C{value}.
    @rtype: L{int}
    @raise NDRError: C{value} is outside C{[low, high]}.
    """
    if not low <= value <= high:
        raise NDRError(
            "%s = 0x%x is outside the IDL range 0x%x..0x%x" % (name, value, low, high)
        )
    return value


def decodeString(raw, itemSize=1, encoding=DOS_CHARSET):
    """
    Turn the characters of an NDR C{[string]} into a Python string.

    @param raw: the C{actual_count} characters as received, terminator
        included.
    @type raw: L{bytes}
    @param itemSize: 1 for C{char}/C{uint8} strings, 2 for C{wchar_t}.
    @type itemSize: L{int}
    @param encoding: the charset; UTF-16 strings always use C{utf-16-le}.
    @type encoding: L{str}
    @return: the text without its terminator.
    @rtype: L{str}
    @raise NDRError: the string is empty, has no NUL terminator, or does
        not decode.
    """
    if len(raw) < itemSize or raw[-itemSize:] != _PAD[:itemSize]:
        raise NDRError("[string] of %d bytes is not NUL-terminated" % (len(raw),))
    body = raw[:-itemSize]
    try:
        if itemSize == 2:
            return body.decode("utf-16-le", "surrogatepass")
        return body.decode(encoding)
    except UnicodeDecodeError as e:
        raise NDRError("[string] does not decode as %s: %s" % (encoding, e)) from None


def encodeString(text, itemSize=1, encoding=DOS_CHARSET):
    """
    Turn a Python string into the characters of an NDR C{[string]}, NUL
    terminator included.

    @param text: the text.
    @type text: L{str}
    @param itemSize: 1 for C{char}/C{uint8} strings, 2 for C{wchar_t}.
    @type itemSize: L{int}
    @param encoding: the charset of 8-bit strings.
    @type encoding: L{str}
    @rtype: L{bytes}
    @raise NDRError: C{text} has a character the charset cannot carry.
    """
    try:
        if itemSize == 2:
            return text.encode("utf-16-le", "surrogatepass") + b"\x00\x00"
        return text.encode(encoding) + b"\x00"
    except (UnicodeEncodeError, AttributeError) as e:
        raise NDRError("cannot encode %r as %s: %s" % (text, encoding, e)) from None


@dataclass(frozen=True)
class ContextHandle:
    """
    An RPC context handle ([MS-RPCE] 2.2.5.3.2.1, C706 14.3.12), e.g. an
    EMSMDB CXH/ACXH or an NSPI_HANDLE: 20 opaque bytes on the wire.

    @ivar attributes: the first u32 (0 for a handle the server created; a
        handle of all zeros means "no handle").
    @type attributes: L{int}
    @ivar uuid: the GUID part.
    @type uuid: L{UUID}
    """

    attributes: int = 0
    uuid: UUID = UUID(int=0)

    #: Size of a context handle on the wire.
    SIZE = 20

    @classmethod
    def fromBytes(cls, data):
        """
        Parse a 20-byte context handle.

        @param data: exactly 20 bytes.
        @type data: L{bytes}
        @rtype: L{ContextHandle}
        @raise NDRError: C{data} is not 20 bytes long.
        """
        if len(data) != cls.SIZE:
            raise NDRError("context handle of %d bytes, not 20" % (len(data),))
        attributes, guid = _HANDLE.unpack(data)
        return cls(attributes, UUID(bytes_le=guid))

    def toBytes(self):
        """
        The 20 bytes of this handle on the wire.

        @rtype: L{bytes}
        """
        return _HANDLE.pack(self.attributes, self.uuid.bytes_le)

    @property
    def isNull(self):
        """
        Whether this is the all-zero handle (no context; also what a
        server sends back when it closes one).

        @rtype: L{bool}
        """
        return self.attributes == 0 and self.uuid.int == 0


class NDRReader:
    """
    Reads NDR20 primitives from one stub, front to back.

    @ivar offset: the position of the next read, from the stub start.
    @type offset: L{int}
    """

    def __init__(self, data):
        """
        @param data: the whole stub (L{bytes}, L{bytearray} or
            L{memoryview}; copied once if not L{bytes}).
        """
        if not isinstance(data, bytes):
            data = bytes(data)
        self._data = data
        self._end = len(data)
        self.offset = 0

    @property
    def remaining(self):
        """
        How many bytes are left after L{offset}.

        @rtype: L{int}
        """
        return self._end - self.offset

    def _need(self, size, what):
        if self.offset + size > self._end:
            raise NDRError(
                "stub truncated: %s needs %d bytes at offset %d, %d left"
                % (what, size, self.offset, self._end - self.offset)
            )

    def align(self, n):
        """
        Skip the pad bytes before a value aligned to C{n} (1, 2, 4 or 8).
        Pad bytes are not checked: some encoders do not zero them.

        @raise NDRError: the padding runs past the end of the stub.
        """
        offset = (self.offset + n - 1) & -n
        if offset > self._end:
            raise NDRError("stub truncated: alignment to %d at offset %d" % (n, self.offset))
        self.offset = offset

    def _unpack(self, packer, align, what):
        if align > 1:
            self.align(align)
        self._need(packer.size, what)
        value = packer.unpack_from(self._data, self.offset)
        self.offset += packer.size
        return value

    def u8(self):
        """
        Read an unsigned 8-bit integer (C{uint8}, C{small}, C{boolean}).

        @rtype: L{int}
        @raise NDRError: the stub is too short.
        """
        return self._unpack(_U8, 1, "u8")[0]

    def u16(self):
        """
        Read an unsigned 16-bit integer, aligned to 2.

        @rtype: L{int}
        @raise NDRError: the stub is too short.
        """
        return self._unpack(_U16, 2, "u16")[0]

    def u32(self):
        """
        Read an unsigned 32-bit integer, aligned to 4.

        @rtype: L{int}
        @raise NDRError: the stub is too short.
        """
        return self._unpack(_U32, 4, "u32")[0]

    def i32(self):
        """
        Read a signed 32-bit integer (C{long}), aligned to 4.

        @rtype: L{int}
        @raise NDRError: the stub is too short.
        """
        return self._unpack(_I32, 4, "i32")[0]

    def u64(self):
        """
        Read an unsigned 64-bit integer (C{hyper}, C{dlong}), aligned to 8.
        A C{FILETIME} is not one: it is a structure of two u32, aligned to 4.

        @rtype: L{int}
        @raise NDRError: the stub is too short.
        """
        return self._unpack(_U64, 8, "u64")[0]

    def u16Array(self, count):
        """
        Read C{count} u16 (a fixed array such as C{uint16 a[3]}, or the
        elements of a conformant one), aligned to 2.

        @type count: L{int}
        @rtype: L{tuple} of L{int}
        @raise NDRError: the stub is too short.
        """
        return self._array("H", 2, count)

    def u32Array(self, count):
        """
        Read C{count} u32, aligned to 4.

        @type count: L{int}
        @rtype: L{tuple} of L{int}
        @raise NDRError: the stub is too short.
        """
        return self._array("I", 4, count)

    def _array(self, code, size, count):
        # Check the count before building a Struct for it: a hostile count
        # must not cost memory or raise struct.error.
        if count < 0 or count * size > self._end - self.offset:
            self.align(size)
            self._need(count * size if count >= 0 else self._end + 1, "%s[%d]" % (code, count))
        return self._unpack(Struct("<%d%s" % (count, code)), size, "%s[%d]" % (code, count))

    def raw(self, size):
        """
        Read C{size} bytes as they are (no alignment).

        @type size: L{int}
        @rtype: L{bytes}
        @raise NDRError: the stub is too short.
        """
        if size < 0:
            raise NDRError("negative length %d" % (size,))
        self._need(size, "%d bytes" % (size,))
        start = self.offset
        self.offset = start + size
        return self._data[start : self.offset]

    def pointer(self):
        """
        Read the referent id of a C{[unique]} or C{[ptr]} pointer.

        @return: the referent id, L{NULL_REFERENT} (0) for NULL.
        @rtype: L{int}
        @raise NDRError: the stub is too short.
        """
        return self._unpack(_U32, 4, "referent id")[0]

    def contextHandle(self):
        """
        Read a 20-byte context handle, aligned to 4.

        @rtype: L{ContextHandle}
        @raise NDRError: the stub is too short.
        """
        attributes, guid = self._unpack(_HANDLE, 4, "context handle")
        return ContextHandle(attributes, UUID(bytes_le=guid))

    def guid(self):
        """
        Read a GUID ([MS-DTYP] 2.3.4.2: u32, u16, u16, 8 bytes), aligned
        to 4.

        @rtype: L{UUID}
        @raise NDRError: the stub is too short.
        """
        self.align(4)
        return UUID(bytes_le=self.raw(16))

    def conformance(self, limit=None, name="max_count"):
        """
        Read the C{max_count} of a conformant array (or the hoisted one of a
        conformant structure), aligned to 4.

        @param limit: the largest count accepted, or L{None}.
        @type limit: L{int} or L{None}
        @param name: what the count is, for error messages.
        @type name: L{str}
        @rtype: L{int}
        @raise NDRError: the stub is too short or the count exceeds
            C{limit}.
        """
        count = self._unpack(_U32, 4, name)[0]
        if limit is not None and count > limit:
            raise NDRError("%s %d exceeds the limit %d" % (name, count, limit))
        return count

    def variance(self, maxCount=None, name="actual_count"):
        """
        Read the C{offset} and C{actual_count} of a varying array, aligned
        to 4. The offset must be 0: no Exchange IDL uses C{first_is}.

        @param maxCount: the array's C{max_count}; C{actual_count} may not
            exceed it.
        @type maxCount: L{int} or L{None}
        @param name: what the count is, for error messages.
        @type name: L{str}
        @return: C{actual_count}.
        @rtype: L{int}
        @raise NDRError: the stub is too short, the offset is not 0 or the
            count exceeds C{maxCount}.
        """
        offset, actual = self._unpack(_VARIANCE, 4, name)
        if offset != 0:
            raise NDRError("varying array offset %d (only 0 is valid here)" % (offset,))
        if maxCount is not None and actual > maxCount:
            raise NDRError("%s %d exceeds max_count %d" % (name, actual, maxCount))
        return actual

    def conformantArray(self, limit=None, itemSize=1, name="array"):
        """
        Read a conformant array of fixed-size elements as raw bytes:
        C{max_count}, then C{max_count * itemSize} bytes.

        @param limit: the largest element count accepted, or L{None}.
        @type limit: L{int} or L{None}
        @param itemSize: the size of one element (elements wider than one
            byte are aligned to C{itemSize} first).
        @type itemSize: L{int}
        @param name: the parameter name, for error messages.
        @type name: L{str}
        @return: the element bytes.
        @rtype: L{bytes}
        @raise NDRError: the stub is too short or the count exceeds
            C{limit}.
        """
        count = self.conformance(limit, name + " max_count")
        if itemSize > 1:
            self.align(itemSize)
        return self.raw(count * itemSize)

    def conformantVaryingArray(self, limit=None, itemSize=1, name="array"):
        """
        Read a conformant varying array of fixed-size elements:
        C{max_count}, C{offset} (must be 0), C{actual_count}, then
        C{actual_count * itemSize} bytes.

        @param limit: the largest C{max_count} accepted, or L{None}.
        @type limit: L{int} or L{None}
        @param itemSize: the size of one element.
        @type itemSize: L{int}
        @param name: the parameter name, for error messages.
        @type name: L{str}
        @return: C{(max_count, element bytes)}.
        @rtype: L{tuple} of (L{int}, L{bytes})
        @raise NDRError: the stub is too short, the offset is not 0, the
            actual count exceeds the max count or the max count exceeds
            C{limit}.
        """
        maxCount, offset, actual = self._unpack(_CONFORMANT_VARYING, 4, name + " counts")
        if limit is not None and maxCount > limit:
            raise NDRError("%s max_count %d exceeds the limit %d" % (name, maxCount, limit))
        if offset != 0:
            raise NDRError("%s offset %d (only 0 is valid here)" % (name, offset))
        if actual > maxCount:
            raise NDRError("%s actual_count %d exceeds max_count %d" % (name, actual, maxCount))
        if itemSize > 1:
            self.align(itemSize)
        return maxCount, self.raw(actual * itemSize)

    def string(self, limit=None, encoding=DOS_CHARSET, name="string"):
        """
        Read a conformant varying C{[string]} of 8-bit characters (e.g.
        C{[string, charset(DOS)] uint8 *}) whose C{max_count} equals its
        C{actual_count}, as MIDL, pidl and impacket send every string
        without C{size_is}.

        @param limit: the largest character count accepted (terminator
            included), or L{None}.
        @type limit: L{int} or L{None}
        @param encoding: the charset (latin-1 by default: lossless).
        @type encoding: L{str}
        @param name: the parameter name, for error messages.
        @type name: L{str}
        @return: the text without its NUL terminator.
        @rtype: L{str}
        @raise NDRError: the stub is too short, the counts disagree, the
            string is not NUL-terminated or exceeds C{limit}.
        """
        return self._string(limit, 1, encoding, name)

    def wideString(self, limit=None, name="string"):
        """
        Read a conformant varying C{[string]} of UTF-16 characters (C{wchar_t
        *}, C{[string, charset(UTF16)] uint16 *}) whose C{max_count} equals
        its C{actual_count}.

        @param limit: the largest character count accepted (terminator
            included), or L{None}.
        @type limit: L{int} or L{None}
        @param name: the parameter name, for error messages.
        @type name: L{str}
        @return: the text without its NUL terminator.
        @rtype: L{str}
        @raise NDRError: as L{string}.
        """
        return self._string(limit, 2, "utf-16-le", name)

    def _string(self, limit, itemSize, encoding, name):
        maxCount, raw = self.conformantVaryingArray(limit, itemSize, name)
        if maxCount * itemSize != len(raw):
            raise NDRError(
                "%s max_count %d != actual_count %d" % (name, maxCount, len(raw) // itemSize)
            )
        return decodeString(raw, itemSize, encoding)

    def finish(self):
        """
        Check that the whole stub was consumed.

        @raise NDRError: bytes are left after the last parameter.
        """
        if self.offset != self._end:
            raise NDRError(
                "%d trailing bytes after the stub's last parameter" % (self._end - self.offset,)
            )


class NDRWriter:
    """
    Builds one NDR20 stub, front to back. Pad bytes are zeros.
    """

    def __init__(self):
        self._buf = bytearray()
        self._nextReferent = FIRST_REFERENT_ID

    @property
    def offset(self):
        """
        The position of the next write, from the stub start.

        @rtype: L{int}
        """
        return len(self._buf)

    def getvalue(self):
        """
        The stub written so far.

        @rtype: L{bytes}
        """
        return bytes(self._buf)

    def nextReferentId(self):
        """
        Hand out a fresh referent id for a non-NULL pointer: 0x00020000,
        0x00020004, ... as MIDL and pidl number them.

        @rtype: L{int}
        """
        referent = self._nextReferent
        self._nextReferent += REFERENT_ID_STEP
        return referent

    def align(self, n):
        """
        Write the zero pad bytes needed to align the next value to C{n}.
        """
        pad = -len(self._buf) & (n - 1)
        if pad:
            self._buf += _PAD[:pad]

    def _pack(self, packer, align, *values):
        if align > 1:
            pad = -len(self._buf) & (align - 1)
            if pad:
                self._buf += _PAD[:pad]
        try:
            self._buf += packer.pack(*values)
        except (StructError, TypeError) as e:
            raise NDRError("cannot encode %r: %s" % (values, e)) from None

    def u8(self, value):
        """
        Write an unsigned 8-bit integer.

        @raise NDRError: C{value} does not fit.
        """
        self._pack(_U8, 1, value)

    def u16(self, value):
        """
        Write an unsigned 16-bit integer, aligned to 2.

        @raise NDRError: C{value} does not fit.
        """
        self._pack(_U16, 2, value)

    def u32(self, value):
        """
        Write an unsigned 32-bit integer, aligned to 4.

        @raise NDRError: C{value} does not fit.
        """
        self._pack(_U32, 4, value)

    def i32(self, value):
        """
        Write a signed 32-bit integer, aligned to 4.

        @raise NDRError: C{value} does not fit.
        """
        self._pack(_I32, 4, value)

    def u64(self, value):
        """
        Write an unsigned 64-bit integer, aligned to 8.

        @raise NDRError: C{value} does not fit.
        """
        self._pack(_U64, 8, value)

    def u16Array(self, values):
        """
        Write u16 values back to back, aligned to 2.

        @type values: sequence of L{int}
        @raise NDRError: a value does not fit.
        """
        self._pack(Struct("<%dH" % (len(values),)), 2, *values)

    def u32Array(self, values):
        """
        Write u32 values back to back, aligned to 4.

        @type values: sequence of L{int}
        @raise NDRError: a value does not fit.
        """
        self._pack(Struct("<%dI" % (len(values),)), 4, *values)

    def raw(self, data):
        """
        Write bytes as they are (no alignment).

        @type data: L{bytes}-like
        """
        self._buf += data

    def pointer(self, referentId):
        """
        Write the referent id of a C{[unique]} or C{[ptr]} pointer, aligned
        to 4 (L{NULL_REFERENT} for NULL).

        @type referentId: L{int}
        @raise NDRError: C{referentId} does not fit in a u32.
        """
        self._pack(_U32, 4, referentId)

    def contextHandle(self, handle):
        """
        Write a 20-byte context handle, aligned to 4.

        @param handle: the handle, or its 20 bytes.
        @type handle: L{ContextHandle} or L{bytes}
        @raise NDRError: raw bytes that are not 20 long.
        """
        if isinstance(handle, ContextHandle):
            data = handle.toBytes()
        else:
            data = bytes(handle)
            if len(data) != ContextHandle.SIZE:
                raise NDRError("context handle of %d bytes, not 20" % (len(data),))
        self.align(4)
        self._buf += data

    def guid(self, value):
        """
        Write a GUID, aligned to 4.

        @type value: L{UUID}
        """
        self.align(4)
        self._buf += value.bytes_le

    def conformance(self, count):
        """
        Write a C{max_count}, aligned to 4.

        @type count: L{int}
        @raise NDRError: C{count} does not fit in a u32.
        """
        self._pack(_U32, 4, count)

    def variance(self, actual):
        """
        Write the C{offset} (0) and C{actual_count} of a varying array,
        aligned to 4.

        @type actual: L{int}
        """
        self._pack(_VARIANCE, 4, 0, actual)

    def conformantArray(self, data, itemSize=1, maxCount=None):
        """
        Write a conformant array of fixed-size elements given as raw bytes.

        @param data: the element bytes.
        @type data: L{bytes}
        @param itemSize: the size of one element.
        @type itemSize: L{int}
        @param maxCount: the C{max_count} to send; by default
            C{len(data) // itemSize}.
        @type maxCount: L{int} or L{None}
        @raise NDRError: C{maxCount} does not fit in a u32.
        """
        if maxCount is None:
            maxCount = len(data) // itemSize
        self.conformance(maxCount)
        if itemSize > 1:
            self.align(itemSize)
        self._buf += data

    def conformantVaryingArray(self, data, itemSize=1, maxCount=None):
        """
        Write a conformant varying array of fixed-size elements given as
        raw bytes: C{max_count}, offset 0, C{actual_count}, elements.

        @param data: the element bytes.
        @type data: L{bytes}
        @param itemSize: the size of one element.
        @type itemSize: L{int}
        @param maxCount: the C{max_count} to send; by default the actual
            count.
        @type maxCount: L{int} or L{None}
        @raise NDRError: the counts do not fit in a u32, or C{maxCount} is
            smaller than the actual count.
        """
        actual = len(data) // itemSize
        if maxCount is None:
            maxCount = actual
        elif maxCount < actual:
            raise NDRError("max_count %d < actual_count %d" % (maxCount, actual))
        self._pack(_CONFORMANT_VARYING, 4, maxCount, 0, actual)
        if itemSize > 1:
            self.align(itemSize)
        self._buf += data

    def string(self, text, encoding=DOS_CHARSET, maxCount=None):
        """
        Write a C{[string]} of 8-bit characters, NUL terminator included.

        @type text: L{str}
        @param encoding: the charset (latin-1 by default).
        @type encoding: L{str}
        @param maxCount: the C{max_count} to send (for C{[string,
            size_is(n)]}); by default the actual count.
        @type maxCount: L{int} or L{None}
        @raise NDRError: C{text} does not encode, or C{maxCount} is too
            small.
        """
        self.conformantVaryingArray(encodeString(text, 1, encoding), 1, maxCount)

    def wideString(self, text, maxCount=None):
        """
        Write a C{[string]} of UTF-16 characters, NUL terminator included.

        @type text: L{str}
        @param maxCount: the C{max_count} to send; by default the actual
            count.
        @type maxCount: L{int} or L{None}
        @raise NDRError: C{maxCount} is too small.
        """
        self.conformantVaryingArray(encodeString(text, 2), 2, maxCount)
