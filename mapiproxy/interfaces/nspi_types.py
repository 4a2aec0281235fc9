# -*- test-case-name: tests.interfaces.test_nspi -*-
"""
The NDR types of the Exchange address book interface (NSPI,
C{exchange_nsp}), as [MS-OXNSPI] 2.2 and its IDL (appendix A) define them:
L{STAT}, L{PropertyTagArray_r}, L{PropertyValue_r} and its union
C{PROP_VAL_UNION}, L{PropertyRow_r}, L{PropertyRowSet_r}, the
L{Restriction_r} family, L{PropertyName_r}, L{PropertyNameSet_r},
L{StringsArray_r}, L{StringsArrayW_r} and L{BinaryArray_r}.

Every type is a mutable dataclass. Count fields (C{cValues}, C{cRows},
C{Count}, ...) are not stored: they are the lengths of the Python lists. A
pointer the IDL makes C{[unique]} is L{None} when NULL. Values:
  - C{FlatUID_r} (16 opaque bytes, [MS-OXNSPI] 2.3.1.1) is L{bytes};
  - C{FILETIME} is one L{int} (C{dwHighDateTime << 32 | dwLowDateTime});
  - 8-bit strings (C{[string] char *}) are L{str} holding the bytes as
    Latin-1 characters, lossless whatever the code page of the session
    (C{value.encode("latin-1")} gives the bytes back);
  - C{wchar_t} strings are L{str} (UTF-16LE, lone surrogates kept).

Decoding remembers what the values alone cannot say: the referent ids of
pointers and the C{max_count} of C{PropertyTagArray_r}. Encoding re-emits
them, so a stub with zeroed padding decodes and re-encodes to the same
bytes; a pointer without a remembered id gets the next one of
L{NDRWriter.nextReferentId} (0x00020000, 0x00020004, ...: MIDL and Samba
number them so). That memory lives in the C{wire} attribute of each
object; it never takes part in comparisons.

NDR layout rules applied throughout ([C706] 14.3): the pointees of
pointers embedded in a structure or an array follow the whole structure or
array (all scalars first, then each pointee complete with its own
pointees, in order); a conformant structure starts with the C{max_count}
of its trailing array; a union is its u32 discriminant followed by the
arm. Every count is checked against its IDL C{range()} and against the
bytes left before anything is allocated for it.

Two layouts where implementations disagree, settled by the IDL: a
C{FlatUID_r} is C{BYTE ab[16]}, aligned to 1 (gromox agrees; impacket and
Wireshark align it to 4 like a GUID, which only shows after a pointee of
odd length); the PtypBoolean arm is C{unsigned short} (gromox writes one
byte, the same bytes once the pad is zero).

Section numbers are those of the [MS-OXNSPI] edition impacket's C{nspi}
module cites (2.3.x structures, 3.1.4.x methods).

Sans-I/O; no Twisted.
"""

from dataclasses import dataclass, field
from typing import List, Optional

from mapiproxy.errors import NDRError
from mapiproxy.interfaces.ndr import NULL_REFERENT, checkRange

__all__ = [
    "MAX_COUNT",
    "MAX_BINARY",
    "MAX_PROPTAGS",
    "PropType",
    "RestrictionType",
    "STAT",
    "PropertyTagArray_r",
    "SPropTagArray",
    "PropertyValue_r",
    "PropertyRow_r",
    "PropertyRowSet_r",
    "Restriction_r",
    "AndRestriction_r",
    "OrRestriction_r",
    "NotRestriction_r",
    "ContentRestriction_r",
    "PropertyRestriction_r",
    "ComparePropsRestriction_r",
    "BitMaskRestriction_r",
    "SubRestriction_r",
    "SizeRestriction_r",
    "ExistRestriction_r",
    "PropertyName_r",
    "PropertyNameSet_r",
    "StringsArray_r",
    "StringsArrayW_r",
    "BinaryArray_r",
    "iterPropertyValues",
    "rewriteStrings",
]

#: The IDL C{range(0, 100000)} of most NSPI counts ([MS-OXNSPI] 2.3).
MAX_COUNT = 100000
#: The IDL C{range(0, 100001)} of C{PropertyTagArray_r.cValues}
#: ([MS-OXNSPI] 2.3.1.2).
MAX_PROPTAGS = 100001
#: The IDL C{range(0, 2097152)} of C{Binary_r.cb} ([MS-OXNSPI] 2.3.1.3).
MAX_BINARY = 2097152
#: How deeply restrictions may nest before a stub counts as hostile.
MAX_RESTRICTION_DEPTH = 64

_GUID_SIZE = 16


class PropType:
    """
    The property types C{PROP_VAL_UNION} has an arm for ([MS-OXNSPI]
    2.3.1.11; [MS-OXCDATA] 2.11.1 names them). The arm is chosen by
    C{ulPropTag & 0xFFFF}.
    """

    Unspecified = 0x0000
    Null = 0x0001
    Integer16 = 0x0002
    Integer32 = 0x0003
    ErrorCode = 0x000A
    Boolean = 0x000B
    Object = 0x000D
    EmbeddedTable = 0x000D
    String8 = 0x001E
    String = 0x001F
    Time = 0x0040
    Guid = 0x0048
    Binary = 0x0102
    MultipleInteger16 = 0x1002
    MultipleInteger32 = 0x1003
    MultipleString8 = 0x101E
    MultipleString = 0x101F
    MultipleTime = 0x1040
    MultipleGuid = 0x1048
    MultipleBinary = 0x1102


class RestrictionType:
    """
    The C{rt} values of L{Restriction_r} ([MS-OXNSPI] 2.3.4.10,
    C{RestrictionUnion_r}).
    """

    AND = 0x0
    OR = 0x1
    NOT = 0x2
    CONTENT = 0x3
    PROPERTY = 0x4
    COMPARE_PROPS = 0x5
    BITMASK = 0x6
    SIZE = 0x7
    EXIST = 0x8
    SUBRESTRICTION = 0x9


def _wire():
    return field(default_factory=dict, compare=False, repr=False)


# -- small helpers shared by the types ------------------------------------


def _count(reader, name, value, limit, minSize):
    """
    Check a count read from the stub: its IDL range, and that the bytes it
    announces (at least C{minSize} per element) are there.

    @return: C{value}.
    @raise NDRError: either check fails.
    """
    checkRange(name, value, 0, limit)
    if value * minSize > reader.remaining:
        raise NDRError(
            "%s = %d needs at least %d bytes, %d left"
            % (name, value, value * minSize, reader.remaining)
        )
    return value


def _conformance(reader, name, expected, limit, minSize):
    """
    Read the C{max_count} of a C{[size_is(expected)]} array and check that
    it equals C{expected} ([C706] 14.3.3.2), fits C{limit} and the bytes
    left.

    @raise NDRError: when it does not.
    """
    maxCount = reader.conformance(limit, name + " max_count")
    if maxCount != expected:
        raise NDRError(
            "%s max_count %d disagrees with its size_is %d" % (name, maxCount, expected)
        )
    return _count(reader, name, maxCount, limit, minSize)


def _referent(writer, wire, key, present):
    """
    The referent id to write for a pointer: 0 for NULL, the one decoded
    earlier if any, else the writer's next one.

    @rtype: L{int}
    """
    if not present:
        return NULL_REFERENT
    remembered = wire.get(key)
    if remembered:
        return remembered
    return writer.nextReferentId()


def _itemReferent(writer, wire, index, present):
    """
    As L{_referent} for element C{index} of an array of pointers.

    @rtype: L{int}
    """
    if not present:
        return NULL_REFERENT
    items = wire.get("items", ())
    if index < len(items) and items[index]:
        return items[index]
    return writer.nextReferentId()


def _i16(value):
    return value - 0x10000 if value & 0x8000 else value


def _u16FromI16(value, name):
    if not isinstance(value, int) or not -0x8000 <= value <= 0x7FFF:
        raise NDRError("%s = %r does not fit a short" % (name, value))
    return value & 0xFFFF


def _expect(value, kinds, name):
    if not isinstance(value, kinds):
        raise NDRError("%s = %r is not a %s" % (name, value, kinds))
    return value


def _list(value, name):
    if not isinstance(value, (list, tuple)):
        raise NDRError("%s = %r is not a list" % (name, value))
    if len(value) > MAX_COUNT:
        raise NDRError("%s has %d elements, more than %d" % (name, len(value), MAX_COUNT))
    return value


def _readFileTime(reader):
    low = reader.u32()
    high = reader.u32()
    return (high << 32) | low


def _writeFileTime(writer, value, name):
    if not isinstance(value, int) or not 0 <= value < 1 << 64:
        raise NDRError("%s = %r is not a FILETIME" % (name, value))
    writer.u32(value & 0xFFFFFFFF)
    writer.u32(value >> 32)


def _readGuid(reader):
    return reader.raw(_GUID_SIZE)


def _writeGuid(writer, value, name):
    if not isinstance(value, (bytes, bytearray)) or len(value) != _GUID_SIZE:
        raise NDRError("%s = %r is not a 16-byte FlatUID_r" % (name, value))
    writer.raw(value)


def _readString(reader, wide, name):
    if wide:
        return reader.wideString(name=name)
    return reader.string(name=name)


def _writeString(writer, value, wide, name):
    _expect(value, str, name)
    if wide:
        writer.wideString(value)
    else:
        writer.string(value)


# -- STAT -----------------------------------------------------------------


@dataclass
class STAT:
    """
    The table position of an NSPI session ([MS-OXNSPI] 2.3.7, C{STAT}):
    nine 32-bit fields, 36 bytes, no pointers.

    @ivar Delta: the only signed field (C{long}).
    """

    SortType: int = 0
    ContainerID: int = 0
    CurrentRec: int = 0
    Delta: int = 0
    NumPos: int = 0
    TotalRecs: int = 0
    CodePage: int = 0
    TemplateLocale: int = 0
    SortLocale: int = 0

    @classmethod
    def pull(cls, reader):
        """
        Read a C{STAT}.

        @type reader: L{mapiproxy.interfaces.ndr.NDRReader}
        @rtype: L{STAT}
        @raise NDRError: the stub is too short.
        """
        values = reader.u32Array(9)
        stat = cls(*values)
        stat.Delta = values[3] - (1 << 32) if values[3] & 0x80000000 else values[3]
        return stat

    def push(self, writer):
        """
        Write this C{STAT}.

        @type writer: L{mapiproxy.interfaces.ndr.NDRWriter}
        @raise NDRError: a field does not fit.
        """
        writer.u32(self.SortType)
        writer.u32(self.ContainerID)
        writer.u32(self.CurrentRec)
        writer.i32(self.Delta)
        writer.u32(self.NumPos)
        writer.u32(self.TotalRecs)
        writer.u32(self.CodePage)
        writer.u32(self.TemplateLocale)
        writer.u32(self.SortLocale)


# -- PropertyTagArray_r ---------------------------------------------------


@dataclass
class PropertyTagArray_r:
    """
    A list of property tags or of Minimal Entry IDs ([MS-OXNSPI] 2.3.1.2,
    C{PropertyTagArray_r}, also called C{SPropTagArray}).

    On the wire a conformant varying structure: C{max_count} (the IDL says
    C{cValues + 1}), C{cValues}, offset 0, C{actual_count} (= C{cValues}),
    the tags. A decoded C{max_count} is remembered (impacket sends
    C{cValues}) and re-sent while it still covers the list.

    @ivar aulPropTag: the tags (or MIds).
    @type aulPropTag: L{list} of L{int}
    """

    aulPropTag: List[int] = field(default_factory=list)
    wire: dict = _wire()

    @property
    def cValues(self):
        """
        The number of tags.

        @rtype: L{int}
        """
        return len(self.aulPropTag)

    @classmethod
    def pull(cls, reader):
        """
        Read a C{PropertyTagArray_r} (its hoisted C{max_count} first).

        @type reader: L{mapiproxy.interfaces.ndr.NDRReader}
        @rtype: L{PropertyTagArray_r}
        @raise NDRError: bad counts or a short stub.
        """
        maxCount = reader.conformance(MAX_PROPTAGS, "PropertyTagArray_r max_count")
        cValues = checkRange("PropertyTagArray_r.cValues", reader.u32(), 0, MAX_PROPTAGS)
        actual = reader.variance(maxCount, "PropertyTagArray_r actual_count")
        if actual != cValues:
            raise NDRError(
                "PropertyTagArray_r actual_count %d disagrees with cValues %d" % (actual, cValues)
            )
        value = cls(list(reader.u32Array(actual)))
        if maxCount != cValues + 1:
            value.wire["max_count"] = maxCount
        return value

    def push(self, writer):
        """
        Write this C{PropertyTagArray_r}.

        @type writer: L{mapiproxy.interfaces.ndr.NDRWriter}
        @raise NDRError: a tag does not fit in a u32, or too many tags.
        """
        tags = self.aulPropTag
        if not isinstance(tags, (list, tuple)) or len(tags) > MAX_PROPTAGS:
            raise NDRError(
                "aulPropTag = %r is not a list of at most %d tags" % (tags, MAX_PROPTAGS)
            )
        count = len(tags)
        maxCount = self.wire.get("max_count", count + 1)
        if maxCount < count:
            maxCount = count + 1
        writer.conformance(maxCount)
        writer.u32(count)
        writer.variance(count)
        writer.u32Array(tags)


SPropTagArray = PropertyTagArray_r


# -- PROP_VAL_UNION arms --------------------------------------------------
#
# Each arm reads/writes its scalars (inline in the PropertyValue_r) and its
# buffers (the pointees, after the enclosing array or structure).


class _Arm:
    """
    One arm of C{PROP_VAL_UNION} with no pointer: its value is inline.
    """

    def __init__(self, name, read, write):
        self.name = name
        self._read = read
        self._write = write

    def pullScalars(self, reader, prop):
        prop.value = self._read(reader)

    def pullBuffers(self, reader, prop):
        pass

    def pushScalars(self, writer, prop):
        self._write(writer, prop.value, self.name)

    def pushBuffers(self, writer, prop):
        pass


def _writeU32(writer, value, name):
    _expect(value, int, name)
    writer.u32(value)


def _writeI32(writer, value, name):
    _expect(value, int, name)
    writer.i32(value)


def _writeU16(writer, value, name):
    _expect(value, int, name)
    writer.u16(value)


class _PointerArm:
    """
    An arm that is one pointer: C{lpszA}, C{lpszW}, C{lpguid}.
    """

    def __init__(self, name, read, write):
        self.name = name
        self._read = read
        self._write = write

    def pullScalars(self, reader, prop):
        prop.wire["ptr"] = reader.pointer()

    def pullBuffers(self, reader, prop):
        if prop.wire["ptr"]:
            prop.value = self._read(reader, self.name)
        else:
            prop.value = None

    def pushScalars(self, writer, prop):
        writer.pointer(_referent(writer, prop.wire, "ptr", prop.value is not None))

    def pushBuffers(self, writer, prop):
        if prop.value is not None:
            self._write(writer, prop.value, self.name)


class _CountedArm:
    """
    An arm that is a count and a pointer to a conformant array:
    C{Binary_r} and the C{*Array_r} of the multi-valued types. A NULL array
    is L{None}; a count sent with a NULL pointer is remembered.

    @ivar limit: the IDL range of the count.
    @ivar minSize: the fewest bytes one element takes in the stub.
    """

    def __init__(self, name, limit, minSize, readItems, writeItems, kinds=(list, tuple)):
        self.name = name
        self.limit = limit
        self.minSize = minSize
        self._readItems = readItems
        self._writeItems = writeItems
        self._kinds = kinds

    def pullScalars(self, reader, prop):
        prop.wire["count"] = checkRange(self.name + " count", reader.u32(), 0, self.limit)
        prop.wire["ptr"] = reader.pointer()

    def pullBuffers(self, reader, prop):
        count = prop.wire["count"]
        if not prop.wire["ptr"]:
            prop.value = None
            if not count:
                del prop.wire["count"]
            return
        del prop.wire["count"]
        _conformance(reader, self.name, count, self.limit, self.minSize)
        prop.value = self._readItems(reader, count, prop.wire, self.name)

    def pushScalars(self, writer, prop):
        value = prop.value
        if value is None:
            count = prop.wire.get("count", 0)
        else:
            count = len(_expect(value, self._kinds, self.name))
            if count > self.limit:
                raise NDRError("%s has %d elements, more than %d" % (self.name, count, self.limit))
        writer.u32(count)
        writer.pointer(_referent(writer, prop.wire, "ptr", value is not None))

    def pushBuffers(self, writer, prop):
        if prop.value is not None:
            writer.conformance(len(prop.value))
            self._writeItems(writer, prop.value, prop.wire, self.name)


def _readBinaryItems(reader, count, wire, name):
    return reader.raw(count)


def _writeBinaryItems(writer, value, wire, name):
    _expect(value, (bytes, bytearray), name)
    writer.raw(value)


def _readShorts(reader, count, wire, name):
    return [_i16(v) for v in reader.u16Array(count)]


def _writeShorts(writer, value, wire, name):
    writer.u16Array([_u16FromI16(v, name) for v in _list(value, name)])


def _readLongs(reader, count, wire, name):
    return [v - (1 << 32) if v & 0x80000000 else v for v in reader.u32Array(count)]


def _writeLongs(writer, value, wire, name):
    for v in _list(value, name):
        if not isinstance(v, int) or not -(1 << 31) <= v < 1 << 31:
            raise NDRError("%s element %r does not fit a long" % (name, v))
    writer.u32Array([v & 0xFFFFFFFF for v in value])


def _readFileTimes(reader, count, wire, name):
    values = reader.u32Array(2 * count)
    return [values[i] | (values[i + 1] << 32) for i in range(0, 2 * count, 2)]


def _writeFileTimes(writer, value, wire, name):
    for v in _list(value, name):
        _writeFileTime(writer, v, name)


def _pointerItems(read):
    """
    Element readers/writers for a conformant array of pointers (C{char
    **}, C{wchar_t **}, C{FlatUID_r **}): the ids first, then each pointee.
    """

    def readItems(reader, count, wire, name):
        ids = reader.u32Array(count)
        wire["items"] = list(ids)
        return [read(reader, name) if rid else None for rid in ids]

    return readItems


def _pointerItemsWriter(write):
    def writeItems(writer, value, wire, name):
        value = _list(value, name)
        for index, item in enumerate(value):
            writer.pointer(_itemReferent(writer, wire, index, item is not None))
        for item in value:
            if item is not None:
                write(writer, item, name)

    return writeItems


def _readBinaryArrayItems(reader, count, wire, name):
    """
    The elements of a C{Binary_r} array: C{(cb, lpb)} pairs, then each
    byte array.
    """
    pairs = reader.u32Array(2 * count)
    ids = []
    counts = {}
    values = []
    for index in range(count):
        cb = checkRange(name + ".cb", pairs[2 * index], 0, MAX_BINARY)
        ids.append(pairs[2 * index + 1])
        if ids[-1]:
            _conformance(reader, name + ".lpb", cb, MAX_BINARY, 1)
            values.append(reader.raw(cb))
        else:
            if cb:
                counts[index] = cb
            values.append(None)
    wire["items"] = ids
    if counts:
        wire["itemCounts"] = counts
    return values


def _writeBinaryArrayItems(writer, value, wire, name):
    value = _list(value, name)
    counts = wire.get("itemCounts", {})
    for index, item in enumerate(value):
        if item is None:
            writer.u32(counts.get(index, 0))
        else:
            _expect(item, (bytes, bytearray), name)
            if len(item) > MAX_BINARY:
                raise NDRError("%s element of %d bytes is too long" % (name, len(item)))
            writer.u32(len(item))
        writer.pointer(_itemReferent(writer, wire, index, item is not None))
    for item in value:
        if item is not None:
            writer.conformance(len(item))
            writer.raw(item)


_ARMS = {
    PropType.Integer16: _Arm(
        "i", lambda r: _i16(r.u16()), lambda w, v, n: w.u16(_u16FromI16(v, n))
    ),
    PropType.Integer32: _Arm("l", lambda r: r.i32(), _writeI32),
    PropType.Boolean: _Arm("b", lambda r: r.u16(), _writeU16),
    PropType.String8: _PointerArm(
        "lpszA",
        lambda r, n: _readString(r, False, n),
        lambda w, v, n: _writeString(w, v, False, n),
    ),
    PropType.Binary: _CountedArm(
        "bin", MAX_BINARY, 1, _readBinaryItems, _writeBinaryItems, (bytes, bytearray)
    ),
    PropType.String: _PointerArm(
        "lpszW",
        lambda r, n: _readString(r, True, n),
        lambda w, v, n: _writeString(w, v, True, n),
    ),
    PropType.Guid: _PointerArm("lpguid", lambda r, n: _readGuid(r), _writeGuid),
    PropType.Time: _Arm("ft", _readFileTime, _writeFileTime),
    PropType.ErrorCode: _Arm("err", lambda r: r.u32(), _writeU32),
    PropType.MultipleInteger16: _CountedArm("MVi", MAX_COUNT, 2, _readShorts, _writeShorts),
    PropType.MultipleInteger32: _CountedArm("MVl", MAX_COUNT, 4, _readLongs, _writeLongs),
    PropType.MultipleString8: _CountedArm(
        "MVszA",
        MAX_COUNT,
        4,
        _pointerItems(lambda r, n: _readString(r, False, n)),
        _pointerItemsWriter(lambda w, v, n: _writeString(w, v, False, n)),
    ),
    PropType.MultipleBinary: _CountedArm(
        "MVbin", MAX_COUNT, 8, _readBinaryArrayItems, _writeBinaryArrayItems
    ),
    PropType.MultipleGuid: _CountedArm(
        "MVguid",
        MAX_COUNT,
        4,
        _pointerItems(lambda r, n: _readGuid(r)),
        _pointerItemsWriter(_writeGuid),
    ),
    PropType.MultipleString: _CountedArm(
        "MVszW",
        MAX_COUNT,
        4,
        _pointerItems(lambda r, n: _readString(r, True, n)),
        _pointerItemsWriter(lambda w, v, n: _writeString(w, v, True, n)),
    ),
    PropType.MultipleTime: _CountedArm("MVft", MAX_COUNT, 8, _readFileTimes, _writeFileTimes),
    PropType.Null: _Arm("lReserved", lambda r: r.u32(), _writeU32),
    PropType.EmbeddedTable: _Arm("lReserved", lambda r: r.u32(), _writeU32),
    PropType.Unspecified: _Arm("lReserved", lambda r: r.u32(), _writeU32),
}


def _arm(propType):
    try:
        return _ARMS[propType]
    except KeyError:
        raise NDRError(
            "PROP_VAL_UNION has no arm for property type 0x%04x" % (propType,)
        ) from None


# -- PropertyValue_r ------------------------------------------------------


@dataclass
class PropertyValue_r:
    """
    One property value ([MS-OXNSPI] 2.3.1.12, C{PropertyValue_r}):
    C{ulPropTag}, C{ulReserved} (C{dwAlignPad}), then C{PROP_VAL_UNION}
    switched on C{ulPropTag & 0xFFFF}: the u32 discriminant, then the arm.

    L{value} by property type: C{int} for Integer16/Integer32 (signed),
    Boolean (the u16 as sent), ErrorCode, Time (a FILETIME) and
    Null/EmbeddedTable/Unspecified (C{lReserved}); C{str} for String8 and
    String; C{bytes} for Binary and Guid (16 bytes); a C{list} of those for
    the multi-valued types. L{None} stands for a NULL pointer (a string,
    binary, GUID or multi-valued array that is not there).

    @ivar ulPropTag: the property tag ([MS-OXCDATA] 2.9).
    @type ulPropTag: L{int}
    @ivar value: the value, typed as above.
    @ivar ulReserved: the pad word, sent as it came.
    @type ulReserved: L{int}
    """

    ulPropTag: int
    value: object = None
    ulReserved: int = 0
    wire: dict = _wire()

    @property
    def propType(self):
        """
        The property type, C{ulPropTag & 0xFFFF}: the union discriminant.

        @rtype: L{int}
        """
        return self.ulPropTag & 0xFFFF

    @property
    def propId(self):
        """
        The property id, C{ulPropTag >> 16}.

        @rtype: L{int}
        """
        return self.ulPropTag >> 16

    @property
    def armName(self):
        """
        The IDL name of the union arm in use (C{"lpszA"}, C{"MVbin"}, ...).

        @rtype: L{str}
        @raise NDRError: the property type has no arm.
        """
        return _arm(self.propType).name

    @classmethod
    def pullScalars(cls, reader):
        """
        Read the inline part (tag, pad word, discriminant, arm scalars).

        @type reader: L{mapiproxy.interfaces.ndr.NDRReader}
        @rtype: L{PropertyValue_r}
        @raise NDRError: an unknown property type, a discriminant that is
            not C{ulPropTag & 0xFFFF}, or a short stub.
        """
        prop = cls(reader.u32())
        prop.ulReserved = reader.u32()
        discriminant = reader.u32()
        if discriminant != prop.propType:
            raise NDRError(
                "PROP_VAL_UNION discriminant 0x%x for property tag 0x%08x"
                % (discriminant, prop.ulPropTag)
            )
        _arm(discriminant).pullScalars(reader, prop)
        return prop

    def pullBuffers(self, reader):
        """
        Read the pointees of this value's arm.

        @type reader: L{mapiproxy.interfaces.ndr.NDRReader}
        @raise NDRError: bad counts or a short stub.
        """
        _arm(self.propType).pullBuffers(reader, self)

    @classmethod
    def pull(cls, reader):
        """
        Read a whole C{PropertyValue_r} (the pointee of a top-level or
        restriction pointer).

        @rtype: L{PropertyValue_r}
        @raise NDRError: as L{pullScalars}.
        """
        prop = cls.pullScalars(reader)
        prop.pullBuffers(reader)
        return prop

    def pushScalars(self, writer):
        """
        Write the inline part.

        @type writer: L{mapiproxy.interfaces.ndr.NDRWriter}
        @raise NDRError: an unknown property type or a value of the wrong
            type.
        """
        _expect(self.ulPropTag, int, "ulPropTag")
        arm = _arm(self.propType)
        writer.u32(self.ulPropTag)
        writer.u32(self.ulReserved)
        writer.u32(self.propType)
        arm.pushScalars(writer, self)

    def pushBuffers(self, writer):
        """
        Write the pointees of this value's arm.

        @type writer: L{mapiproxy.interfaces.ndr.NDRWriter}
        @raise NDRError: a value of the wrong type.
        """
        _arm(self.propType).pushBuffers(writer, self)

    def push(self, writer):
        """
        Write a whole C{PropertyValue_r}.

        @raise NDRError: as L{pushScalars}.
        """
        self.pushScalars(writer)
        self.pushBuffers(writer)


def _pullValues(reader, count, name):
    """
    A conformant array of C{PropertyValue_r}: all inline parts, then all
    pointees.
    """
    # 16 bytes each but the last, which may end after a 2-byte arm.
    _conformance(reader, name, count, MAX_COUNT, 14)
    values = [PropertyValue_r.pullScalars(reader) for _ in range(count)]
    for value in values:
        value.pullBuffers(reader)
    return values


def _pushValues(writer, values, name):
    values = _list(values, name)
    writer.conformance(len(values))
    for value in values:
        _expect(value, PropertyValue_r, name)
        value.pushScalars(writer)
    for value in values:
        value.pushBuffers(writer)


# -- PropertyRow_r, PropertyRowSet_r --------------------------------------


@dataclass
class PropertyRow_r:
    """
    One row ([MS-OXNSPI] 2.3.2, C{PropertyRow_r}): C{Reserved}
    (C{ulAdrEntryPad}), C{cValues}, and a unique pointer to C{cValues}
    L{PropertyValue_r}.

    @ivar lpProps: the values, L{None} for a NULL pointer.
    @type lpProps: L{list} of L{PropertyValue_r} or L{None}
    @ivar Reserved: the pad word, sent as it came.
    @type Reserved: L{int}
    """

    lpProps: Optional[List[PropertyValue_r]] = field(default_factory=list)
    Reserved: int = 0
    wire: dict = _wire()

    @property
    def cValues(self):
        """
        The number of values (0 for a NULL C{lpProps}).

        @rtype: L{int}
        """
        return len(self.lpProps) if self.lpProps is not None else 0

    @classmethod
    def pullScalars(cls, reader):
        """
        Read C{Reserved}, C{cValues} and the referent id of C{lpProps}.

        @rtype: L{PropertyRow_r}
        @raise NDRError: a count out of range or a short stub.
        """
        row = cls(None, reader.u32())
        row.wire["count"] = checkRange("PropertyRow_r.cValues", reader.u32(), 0, MAX_COUNT)
        row.wire["ptr"] = reader.pointer()
        return row

    def pullBuffers(self, reader):
        """
        Read the values C{lpProps} points to.

        @raise NDRError: bad counts, bad values or a short stub.
        """
        count = self.wire.pop("count")
        if self.wire["ptr"]:
            self.lpProps = _pullValues(reader, count, "PropertyRow_r.lpProps")
        elif count:
            self.wire["count"] = count

    @classmethod
    def pull(cls, reader):
        """
        Read a whole C{PropertyRow_r}.

        @rtype: L{PropertyRow_r}
        @raise NDRError: as L{pullBuffers}.
        """
        row = cls.pullScalars(reader)
        row.pullBuffers(reader)
        return row

    def pushScalars(self, writer):
        """
        Write C{Reserved}, C{cValues} and the referent id of C{lpProps}.

        @raise NDRError: a field does not fit.
        """
        writer.u32(self.Reserved)
        if self.lpProps is None:
            writer.u32(self.wire.get("count", 0))
        else:
            writer.u32(len(_list(self.lpProps, "lpProps")))
        writer.pointer(_referent(writer, self.wire, "ptr", self.lpProps is not None))

    def pushBuffers(self, writer):
        """
        Write the values.

        @raise NDRError: a value does not fit.
        """
        if self.lpProps is not None:
            _pushValues(writer, self.lpProps, "PropertyRow_r.lpProps")

    def push(self, writer):
        """
        Write a whole C{PropertyRow_r}.

        @raise NDRError: a value does not fit.
        """
        self.pushScalars(writer)
        self.pushBuffers(writer)


@dataclass
class PropertyRowSet_r:
    """
    A set of rows ([MS-OXNSPI] 2.3.3, C{PropertyRowSet_r}): a conformant
    structure, C{max_count} hoisted in front of C{cRows}, then the rows'
    inline parts, then each row's values.

    @ivar aRow: the rows.
    @type aRow: L{list} of L{PropertyRow_r}
    """

    aRow: List[PropertyRow_r] = field(default_factory=list)
    wire: dict = _wire()

    @property
    def cRows(self):
        """
        The number of rows.

        @rtype: L{int}
        """
        return len(self.aRow)

    @classmethod
    def pull(cls, reader):
        """
        Read a C{PropertyRowSet_r}.

        @rtype: L{PropertyRowSet_r}
        @raise NDRError: bad counts, bad values or a short stub.
        """
        maxCount = reader.conformance(MAX_COUNT, "PropertyRowSet_r max_count")
        cRows = reader.u32()
        if cRows != maxCount:
            raise NDRError(
                "PropertyRowSet_r max_count %d disagrees with cRows %d" % (maxCount, cRows)
            )
        _count(reader, "PropertyRowSet_r.cRows", cRows, MAX_COUNT, 12)
        rows = [PropertyRow_r.pullScalars(reader) for _ in range(cRows)]
        for row in rows:
            row.pullBuffers(reader)
        return cls(rows)

    def push(self, writer):
        """
        Write this C{PropertyRowSet_r}.

        @raise NDRError: a value does not fit.
        """
        rows = _list(self.aRow, "aRow")
        writer.conformance(len(rows))
        writer.u32(len(rows))
        for row in rows:
            _expect(row, PropertyRow_r, "aRow")
            row.pushScalars(writer)
        for row in rows:
            row.pushBuffers(writer)


# -- Restrictions ---------------------------------------------------------


def _pullRestrictionPointee(reader, prop, key, depth):
    if prop.wire[key]:
        return Restriction_r.pull(reader, depth + 1)
    return None


@dataclass
class AndRestriction_r:
    """
    C{AndRestriction_r} ([MS-OXNSPI] 2.3.4.1): C{cRes} and a unique pointer
    to C{cRes} L{Restriction_r}.

    @ivar lpRes: the sub-restrictions, L{None} for NULL.
    @type lpRes: L{list} of L{Restriction_r} or L{None}
    """

    lpRes: Optional[List["Restriction_r"]] = field(default_factory=list)
    wire: dict = _wire()

    def pullScalars(self, reader):
        """
        Read the inline part of this arm.

        @raise NDRError: a count out of range or a short stub.
        """
        self.wire["count"] = checkRange("cRes", reader.u32(), 0, MAX_COUNT)
        self.wire["ptr"] = reader.pointer()

    def pullBuffers(self, reader, depth):
        """
        Read the pointees of this arm.

        @param depth: the nesting depth of the enclosing restriction.
        @raise NDRError: bad counts, nesting too deep or a short stub.
        """
        count = self.wire.pop("count")
        if not self.wire["ptr"]:
            self.lpRes = None
            if count:
                self.wire["count"] = count
            return
        _conformance(reader, "lpRes", count, MAX_COUNT, 8)
        items = []
        for _ in range(count):
            item = Restriction_r()
            item.pullScalars(reader, depth + 1)
            items.append(item)
        for item in items:
            item.pullBuffers(reader, depth + 1)
        self.lpRes = items

    def pushScalars(self, writer):
        """
        Write the inline part of this arm.

        @raise NDRError: a field does not fit.
        """
        if self.lpRes is None:
            writer.u32(self.wire.get("count", 0))
        else:
            writer.u32(len(_list(self.lpRes, "lpRes")))
        writer.pointer(_referent(writer, self.wire, "ptr", self.lpRes is not None))

    def pushBuffers(self, writer):
        """
        Write the pointees of this arm.

        @raise NDRError: a field does not fit.
        """
        if self.lpRes is None:
            return
        writer.conformance(len(self.lpRes))
        for item in self.lpRes:
            _expect(item, Restriction_r, "lpRes")
            item.pushScalars(writer)
        for item in self.lpRes:
            item.pushBuffers(writer)


@dataclass
class OrRestriction_r(AndRestriction_r):
    """
    C{OrRestriction_r} ([MS-OXNSPI] 2.3.4.1): laid out as
    L{AndRestriction_r}.
    """


@dataclass
class NotRestriction_r:
    """
    C{NotRestriction_r}: a unique pointer to one L{Restriction_r}.

    @ivar lpRes: the negated restriction, L{None} for NULL.
    """

    lpRes: Optional["Restriction_r"] = None
    wire: dict = _wire()

    def pullScalars(self, reader):
        """
        Read the inline part of this arm.

        @raise NDRError: a count out of range or a short stub.
        """
        self.wire["ptr"] = reader.pointer()

    def pullBuffers(self, reader, depth):
        """
        Read the pointees of this arm.

        @param depth: the nesting depth of the enclosing restriction.
        @raise NDRError: bad counts, nesting too deep or a short stub.
        """
        self.lpRes = _pullRestrictionPointee(reader, self, "ptr", depth)

    def pushScalars(self, writer):
        """
        Write the inline part of this arm.

        @raise NDRError: a field does not fit.
        """
        writer.pointer(_referent(writer, self.wire, "ptr", self.lpRes is not None))

    def pushBuffers(self, writer):
        """
        Write the pointees of this arm.

        @raise NDRError: a field does not fit.
        """
        if self.lpRes is not None:
            _expect(self.lpRes, Restriction_r, "lpRes").push(writer)


@dataclass
class SubRestriction_r:
    """
    C{SubRestriction_r}: C{ulSubObject} and a unique pointer to one
    L{Restriction_r}.
    """

    ulSubObject: int = 0
    lpRes: Optional["Restriction_r"] = None
    wire: dict = _wire()

    def pullScalars(self, reader):
        """
        Read the inline part of this arm.

        @raise NDRError: a count out of range or a short stub.
        """
        self.ulSubObject = reader.u32()
        self.wire["ptr"] = reader.pointer()

    def pullBuffers(self, reader, depth):
        """
        Read the pointees of this arm.

        @param depth: the nesting depth of the enclosing restriction.
        @raise NDRError: bad counts, nesting too deep or a short stub.
        """
        self.lpRes = _pullRestrictionPointee(reader, self, "ptr", depth)

    def pushScalars(self, writer):
        """
        Write the inline part of this arm.

        @raise NDRError: a field does not fit.
        """
        writer.u32(self.ulSubObject)
        writer.pointer(_referent(writer, self.wire, "ptr", self.lpRes is not None))

    def pushBuffers(self, writer):
        """
        Write the pointees of this arm.

        @raise NDRError: a field does not fit.
        """
        if self.lpRes is not None:
            _expect(self.lpRes, Restriction_r, "lpRes").push(writer)


class _PropValueRestriction:
    """
    The shape shared by C{ContentRestriction_r} and
    C{PropertyRestriction_r}: two u32 then a unique pointer to a
    L{PropertyValue_r} (C{lpProp}).
    """

    _first = ""

    def pullScalars(self, reader):
        """
        Read the inline part of this arm.

        @raise NDRError: a count out of range or a short stub.
        """
        setattr(self, self._first, reader.u32())
        self.ulPropTag = reader.u32()
        self.wire["ptr"] = reader.pointer()

    def pullBuffers(self, reader, depth):
        """
        Read the pointees of this arm.

        @param depth: the nesting depth of the enclosing restriction.
        @raise NDRError: bad counts, nesting too deep or a short stub.
        """
        self.lpProp = PropertyValue_r.pull(reader) if self.wire["ptr"] else None

    def pushScalars(self, writer):
        """
        Write the inline part of this arm.

        @raise NDRError: a field does not fit.
        """
        writer.u32(getattr(self, self._first))
        writer.u32(self.ulPropTag)
        writer.pointer(_referent(writer, self.wire, "ptr", self.lpProp is not None))

    def pushBuffers(self, writer):
        """
        Write the pointees of this arm.

        @raise NDRError: a field does not fit.
        """
        if self.lpProp is not None:
            _expect(self.lpProp, PropertyValue_r, "lpProp").push(writer)


@dataclass
class ContentRestriction_r(_PropValueRestriction):
    """
    C{ContentRestriction_r}: C{ulFuzzyLevel}, C{ulPropTag}, C{lpProp}.
    """

    ulFuzzyLevel: int = 0
    ulPropTag: int = 0
    lpProp: Optional[PropertyValue_r] = None
    wire: dict = _wire()
    _first = "ulFuzzyLevel"


@dataclass
class PropertyRestriction_r(_PropValueRestriction):
    """
    C{PropertyRestriction_r}: C{relop}, C{ulPropTag}, C{lpProp}.
    """

    relop: int = 0
    ulPropTag: int = 0
    lpProp: Optional[PropertyValue_r] = None
    wire: dict = _wire()
    _first = "relop"


class _ThreeWords:
    """
    A restriction of three u32 and no pointer.
    """

    _fields = ()

    def pullScalars(self, reader):
        """
        Read the inline part of this arm.

        @raise NDRError: a count out of range or a short stub.
        """
        for name in self._fields:
            setattr(self, name, reader.u32())

    def pullBuffers(self, reader, depth):
        """
        Read the pointees of this arm.

        @param depth: the nesting depth of the enclosing restriction.
        @raise NDRError: bad counts, nesting too deep or a short stub.
        """
        pass

    def pushScalars(self, writer):
        """
        Write the inline part of this arm.

        @raise NDRError: a field does not fit.
        """
        for name in self._fields:
            writer.u32(getattr(self, name))

    def pushBuffers(self, writer):
        """
        Write the pointees of this arm.

        @raise NDRError: a field does not fit.
        """
        pass


@dataclass
class ComparePropsRestriction_r(_ThreeWords):
    """
    C{ComparePropsRestriction_r}: C{relop}, C{ulPropTag1}, C{ulPropTag2}.
    """

    relop: int = 0
    ulPropTag1: int = 0
    ulPropTag2: int = 0
    _fields = ("relop", "ulPropTag1", "ulPropTag2")


@dataclass
class BitMaskRestriction_r(_ThreeWords):
    """
    C{BitMaskRestriction_r}: C{relBMR}, C{ulPropTag}, C{ulMask}.
    """

    relBMR: int = 0
    ulPropTag: int = 0
    ulMask: int = 0
    _fields = ("relBMR", "ulPropTag", "ulMask")


@dataclass
class SizeRestriction_r(_ThreeWords):
    """
    C{SizeRestriction_r}: C{relop}, C{ulPropTag}, C{cb}.
    """

    relop: int = 0
    ulPropTag: int = 0
    cb: int = 0
    _fields = ("relop", "ulPropTag", "cb")


@dataclass
class ExistRestriction_r(_ThreeWords):
    """
    C{ExistRestriction_r}: C{ulReserved1}, C{ulPropTag}, C{ulReserved2}.
    """

    ulReserved1: int = 0
    ulPropTag: int = 0
    ulReserved2: int = 0
    _fields = ("ulReserved1", "ulPropTag", "ulReserved2")


_RESTRICTIONS = {
    RestrictionType.AND: AndRestriction_r,
    RestrictionType.OR: OrRestriction_r,
    RestrictionType.NOT: NotRestriction_r,
    RestrictionType.CONTENT: ContentRestriction_r,
    RestrictionType.PROPERTY: PropertyRestriction_r,
    RestrictionType.COMPARE_PROPS: ComparePropsRestriction_r,
    RestrictionType.BITMASK: BitMaskRestriction_r,
    RestrictionType.SIZE: SizeRestriction_r,
    RestrictionType.EXIST: ExistRestriction_r,
    RestrictionType.SUBRESTRICTION: SubRestriction_r,
}


@dataclass
class Restriction_r:
    """
    A restriction ([MS-OXNSPI] 2.3.4.11, C{Restriction_r}): C{rt} and the
    C{RestrictionUnion_r} switched on it (the u32 discriminant again, then
    the arm).

    @ivar rt: the restriction type (L{RestrictionType}); L{None} takes it
        from the class of L{res}.
    @type rt: L{int}
    @ivar res: the arm: an L{AndRestriction_r}, L{OrRestriction_r}, ...
        matching C{rt}.
    """

    rt: Optional[int] = None
    res: object = None

    def __post_init__(self):
        if self.rt is None and self.res is not None:
            for rt, cls in _RESTRICTIONS.items():
                if type(self.res) is cls:
                    self.rt = rt

    @classmethod
    def pull(cls, reader, depth=0):
        """
        Read a whole C{Restriction_r}.

        @param depth: how deep inside other restrictions this one is.
        @rtype: L{Restriction_r}
        @raise NDRError: an unknown type, a nesting deeper than
            L{MAX_RESTRICTION_DEPTH}, bad counts or a short stub.
        """
        restriction = cls()
        restriction.pullScalars(reader, depth)
        restriction.pullBuffers(reader, depth)
        return restriction

    def pullScalars(self, reader, depth):
        """
        Read C{rt}, the discriminant and the arm's inline part.

        @raise NDRError: as L{pull}.
        """
        if depth > MAX_RESTRICTION_DEPTH:
            raise NDRError("restrictions nested deeper than %d" % (MAX_RESTRICTION_DEPTH,))
        self.rt = reader.u32()
        discriminant = reader.u32()
        if discriminant != self.rt:
            raise NDRError(
                "RestrictionUnion_r discriminant %d for rt %d" % (discriminant, self.rt)
            )
        try:
            self.res = _RESTRICTIONS[self.rt]()
        except KeyError:
            raise NDRError("RestrictionUnion_r has no arm %d" % (self.rt,)) from None
        self.res.pullScalars(reader)

    def pullBuffers(self, reader, depth):
        """
        Read the arm's pointees.

        @raise NDRError: as L{pull}.
        """
        self.res.pullBuffers(reader, depth)

    def _checked(self):
        cls = _RESTRICTIONS.get(self.rt)
        if cls is None or type(self.res) is not cls:
            raise NDRError("restriction rt=%r does not match %r" % (self.rt, self.res))
        return self.res

    def pushScalars(self, writer):
        """
        Write C{rt}, the discriminant and the arm's inline part.

        @raise NDRError: C{rt} does not match the class of C{res}.
        """
        res = self._checked()
        writer.u32(self.rt)
        writer.u32(self.rt)
        res.pushScalars(writer)

    def pushBuffers(self, writer):
        """
        Write the arm's pointees.
        """
        self.res.pushBuffers(writer)

    def push(self, writer):
        """
        Write a whole C{Restriction_r}.

        @raise NDRError: as L{pushScalars}.
        """
        self.pushScalars(writer)
        self.pushBuffers(writer)


# -- Named properties -----------------------------------------------------


@dataclass
class PropertyName_r:
    """
    A named property ([MS-OXNSPI] 2.3.5.1, C{PropertyName_r}): a unique
    pointer to the property set GUID, C{ulReserved}, C{lID}.

    @ivar lpguid: the 16 bytes of the GUID (a C{FlatUID_r}), or L{None}.
    @ivar lID: the signed property id.
    """

    lpguid: Optional[bytes] = None
    ulReserved: int = 0
    lID: int = 0
    wire: dict = _wire()

    @classmethod
    def pullScalars(cls, reader):
        """
        Read the inline part.

        @rtype: L{PropertyName_r}
        @raise NDRError: a short stub.
        """
        name = cls()
        name.wire["ptr"] = reader.pointer()
        name.ulReserved = reader.u32()
        name.lID = reader.i32()
        return name

    def pullBuffers(self, reader):
        """
        Read the GUID.

        @raise NDRError: a short stub.
        """
        self.lpguid = _readGuid(reader) if self.wire["ptr"] else None

    @classmethod
    def pull(cls, reader):
        """
        Read a whole C{PropertyName_r}.

        @rtype: L{PropertyName_r}
        @raise NDRError: a short stub.
        """
        name = cls.pullScalars(reader)
        name.pullBuffers(reader)
        return name

    def pushScalars(self, writer):
        """
        Write the inline part.
        """
        writer.pointer(_referent(writer, self.wire, "ptr", self.lpguid is not None))
        writer.u32(self.ulReserved)
        writer.i32(self.lID)

    def pushBuffers(self, writer):
        """
        Write the GUID.
        """
        if self.lpguid is not None:
            _writeGuid(writer, self.lpguid, "lpguid")

    def push(self, writer):
        """
        Write a whole C{PropertyName_r}.
        """
        self.pushScalars(writer)
        self.pushBuffers(writer)


@dataclass
class PropertyNameSet_r:
    """
    A set of named properties ([MS-OXNSPI] 2.3.5.2, C{PropertyNameSet_r}):
    a conformant structure, C{max_count} hoisted before C{cNames}.

    @ivar aNames: the names.
    @type aNames: L{list} of L{PropertyName_r}
    """

    aNames: List[PropertyName_r] = field(default_factory=list)

    @classmethod
    def pull(cls, reader):
        """
        Read a C{PropertyNameSet_r}.

        @rtype: L{PropertyNameSet_r}
        @raise NDRError: bad counts or a short stub.
        """
        maxCount = reader.conformance(MAX_COUNT, "PropertyNameSet_r max_count")
        cNames = reader.u32()
        if cNames != maxCount:
            raise NDRError(
                "PropertyNameSet_r max_count %d disagrees with cNames %d" % (maxCount, cNames)
            )
        _count(reader, "PropertyNameSet_r.cNames", cNames, MAX_COUNT, 12)
        names = [PropertyName_r.pullScalars(reader) for _ in range(cNames)]
        for name in names:
            name.pullBuffers(reader)
        return cls(names)

    def push(self, writer):
        """
        Write this C{PropertyNameSet_r}.

        @raise NDRError: a field does not fit.
        """
        names = _list(self.aNames, "aNames")
        writer.conformance(len(names))
        writer.u32(len(names))
        for name in names:
            _expect(name, PropertyName_r, "aNames").pushScalars(writer)
        for name in names:
            name.pushBuffers(writer)


# -- Strings and binaries -------------------------------------------------


@dataclass
class StringsArray_r:
    """
    A list of 8-bit strings ([MS-OXNSPI] 2.3.6.1, C{StringsArray_r}): a
    conformant structure, C{max_count} and C{Count}, C{Count} unique
    pointers, then the strings.

    @ivar Strings: the strings (L{None} for a NULL pointer).
    @type Strings: L{list} of L{str} or L{None}
    """

    Strings: List[Optional[str]] = field(default_factory=list)
    wire: dict = _wire()

    _wide = False

    @property
    def Count(self):
        """
        The number of strings.

        @rtype: L{int}
        """
        return len(self.Strings)

    @classmethod
    def pull(cls, reader):
        """
        Read the structure.

        @rtype: L{StringsArray_r} or L{StringsArrayW_r}
        @raise NDRError: bad counts, a string without its terminator or a
            short stub.
        """
        name = cls.__name__
        maxCount = reader.conformance(MAX_COUNT, name + " max_count")
        count = reader.u32()
        if count != maxCount:
            raise NDRError("%s max_count %d disagrees with Count %d" % (name, maxCount, count))
        _count(reader, name + ".Count", count, MAX_COUNT, 4)
        value = cls()
        value.Strings = _pointerItems(lambda r, n: _readString(r, cls._wide, n))(
            reader, count, value.wire, name
        )
        return value

    def push(self, writer):
        """
        Write the structure.

        @raise NDRError: a string does not encode.
        """
        strings = _list(self.Strings, "Strings")
        writer.conformance(len(strings))
        writer.u32(len(strings))
        _pointerItemsWriter(lambda w, v, n: _writeString(w, v, self._wide, n))(
            writer, strings, self.wire, type(self).__name__
        )


@dataclass
class StringsArrayW_r(StringsArray_r):
    """
    A list of UTF-16 strings ([MS-OXNSPI] 2.3.6.2, C{StringsArrayW_r}):
    laid out as L{StringsArray_r}, with C{wchar_t} strings.
    """

    _wide = True


@dataclass
class BinaryArray_r:
    """
    A list of byte strings ([MS-OXNSPI] 2.3.1.7, C{BinaryArray_r}):
    C{cValues}, a unique pointer to C{cValues} C{Binary_r} (C{cb} and a
    unique pointer to the bytes).

    @ivar lpbin: the byte strings (L{None} elements for NULL C{lpb}), or
        L{None} for a NULL array.
    @type lpbin: L{list} of L{bytes} or L{None}
    """

    lpbin: Optional[List[Optional[bytes]]] = field(default_factory=list)
    wire: dict = _wire()

    @property
    def cValues(self):
        """
        The number of byte strings.

        @rtype: L{int}
        """
        return len(self.lpbin) if self.lpbin is not None else 0

    @classmethod
    def pull(cls, reader):
        """
        Read a whole C{BinaryArray_r}.

        @rtype: L{BinaryArray_r}
        @raise NDRError: bad counts or a short stub.
        """
        # Reuse the MVbin arm of PROP_VAL_UNION: the layout is the same.
        holder = PropertyValue_r(PropType.MultipleBinary)
        arm = _ARMS[PropType.MultipleBinary]
        arm.pullScalars(reader, holder)
        arm.pullBuffers(reader, holder)
        return cls(holder.value, holder.wire)

    def push(self, writer):
        """
        Write a whole C{BinaryArray_r}.

        @raise NDRError: an element is not bytes.
        """
        holder = PropertyValue_r(PropType.MultipleBinary, self.lpbin, 0, self.wire)
        arm = _ARMS[PropType.MultipleBinary]
        arm.pushScalars(writer, holder)
        arm.pushBuffers(writer, holder)


# -- Conveniences for rewriting -------------------------------------------


def iterPropertyValues(container):
    """
    Every L{PropertyValue_r} of a row, a row set, or a list of them, in
    wire order; the objects themselves, so that changing C{value} changes
    what L{encode} will send.

    @param container: a L{PropertyRowSet_r}, L{PropertyRow_r},
        L{PropertyValue_r}, a list of those, or L{None} (nothing).
    @rtype: iterator of L{PropertyValue_r}
    @raise TypeError: C{container} is none of these.
    """
    if container is None:
        return
    if isinstance(container, PropertyValue_r):
        yield container
    elif isinstance(container, PropertyRowSet_r):
        for row in container.aRow:
            yield from iterPropertyValues(row)
    elif isinstance(container, PropertyRow_r):
        yield from container.lpProps or ()
    elif isinstance(container, (list, tuple)):
        for item in container:
            yield from iterPropertyValues(item)
    else:
        raise TypeError("no property values in %r" % (type(container).__name__,))


_STRING_TYPES = (
    PropType.String8,
    PropType.String,
    PropType.MultipleString8,
    PropType.MultipleString,
)


def rewriteStrings(container, propTag, rewrite):
    """
    Replace string values in place: for each value of C{container} whose
    property id is that of C{propTag} and whose type is a string type
    (String8, String, or their multi-valued forms; the type half of
    C{propTag} is ignored, so C{PR_EMS_AB_NETWORK_ADDRESS} matches both
    0x8170101E and 0x8170101F), call C{rewrite(old)} on every string and
    store what it returns.

    This is how the proxy keeps Outlook talking to itself
    (C{PR_EMS_AB_HOME_MDB}, C{PR_EMS_AB_NETWORK_ADDRESS}); encode the
    message again afterwards.

    @param container: anything L{iterPropertyValues} takes.
    @param propTag: the property tag (or id in the upper half).
    @type propTag: L{int}
    @param rewrite: C{str -> str}.
    @return: how many strings changed.
    @rtype: L{int}
    """
    wanted = propTag >> 16
    changed = 0
    for prop in iterPropertyValues(container):
        if prop.propId != wanted or prop.propType not in _STRING_TYPES:
            continue
        if prop.value is None:
            continue
        if isinstance(prop.value, str):
            new = rewrite(prop.value)
            if new != prop.value:
                prop.value = new
                changed += 1
        else:
            values = list(prop.value)
            for index, old in enumerate(values):
                if old is None:
                    continue
                new = rewrite(old)
                if new != old:
                    values[index] = new
                    changed += 1
            prop.value = values
    return changed
