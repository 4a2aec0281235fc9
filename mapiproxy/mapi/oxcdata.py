# -*- test-case-name: tests.mapi.test_oxcdata -*-
"""
The data structures of [MS-OXCDATA] as they travel in ROP buffers:
property tags and values (2.9, 2.11), rows (2.8), property names (2.6),
identifiers (2.2), restrictions (2.12), sort orders (2.13), recipient rows
(2.8.3) and, from [MS-OXORULE] 2.2.5, rule actions.

Readers take a L{mapiproxy.mapi.rops.base.Reader} and writers a
L{mapiproxy.mapi.rops.base.Writer}; every decoding error is a L{RopError}.
Whatever is decoded encodes back to the same bytes (reserved bytes and odd
flag values are kept).

Value representation of L{readPropertyValue}:
    - integers (PtypInteger16/32/64, ErrorCode, Time): unsigned L{int};
      PtypCurrency: signed L{int} (units of 1/10000); writers also accept
      negative values in the signed range;
    - PtypFloating32/64, PtypFloatingTime: L{float} (a Floating32 NaN is a
      L{Float32NaN} that keeps its bits);
    - PtypBoolean: L{bool} (an L{int} for a byte other than 0 or 1);
    - PtypString (UTF-16LE) and PtypString8 (Latin-1, so every byte
      round-trips): L{str}; PtypGuid: L{uuid.UUID};
    - PtypBinary, PtypServerId, PtypObject: L{bytes} (u16 length on the
      wire);
    - PtypRestriction: a L{Restriction}; PtypRuleAction: L{RuleActions};
    - PtypUnspecified: a L{TypedPropertyValue}; PtypNull: L{None};
    - multi-valued types: a L{list} (u32 count on the wire).

Sans-I/O; no Twisted.
"""

import codecs
import datetime
import struct
import uuid
from dataclasses import dataclass, field
from typing import Optional

from mapiproxy.errors import RopError
from mapiproxy.mapi.rops.base import Reader, Writer

# Property types ([MS-OXCDATA] 2.11.1).
PtypUnspecified = 0x0000
PtypNull = 0x0001
PtypInteger16 = 0x0002
PtypInteger32 = 0x0003
PtypFloating32 = 0x0004
PtypFloating64 = 0x0005
PtypCurrency = 0x0006
PtypFloatingTime = 0x0007
PtypErrorCode = 0x000A
PtypBoolean = 0x000B
PtypObject = 0x000D
PtypInteger64 = 0x0014
PtypString8 = 0x001E
PtypString = 0x001F
PtypTime = 0x0040
PtypGuid = 0x0048
PtypServerId = 0x00FB
PtypRestriction = 0x00FD
PtypRuleAction = 0x00FE
PtypBinary = 0x0102
PtypMultipleInteger16 = 0x1002
PtypMultipleInteger32 = 0x1003
PtypMultipleFloating32 = 0x1004
PtypMultipleFloating64 = 0x1005
PtypMultipleCurrency = 0x1006
PtypMultipleFloatingTime = 0x1007
PtypMultipleInteger64 = 0x1014
PtypMultipleString8 = 0x101E
PtypMultipleString = 0x101F
PtypMultipleTime = 0x1040
PtypMultipleGuid = 0x1048
PtypMultipleBinary = 0x1102

#: The multi-valued flag of a property type.
MV_FLAG = 0x1000
#: The MultipleInstance flag ([MS-OXCDATA] 2.11.1.2): a table column of a
#: multi-valued property that yields one row per value; its row values are
#: single-valued.
MV_INSTANCE = 0x2000

#: Property type -> its [MS-OXCDATA] name.
PROPERTY_TYPE_NAMES = {
    value: name
    for name, value in list(globals().items())
    if name.startswith("Ptyp") and isinstance(value, int)
}

# FlaggedPropertyValue flags ([MS-OXCDATA] 2.11.6).
FLAG_VALUE = 0x00
FLAG_NOT_FOUND = 0x01
FLAG_ERROR = 0x0A

# PropertyRow flags ([MS-OXCDATA] 2.8.1).
ROW_STANDARD = 0x00
ROW_FLAGGED = 0x01

# PropertyName kinds ([MS-OXCDATA] 2.6.1).
MNID_ID = 0x00
MNID_STRING = 0x01
MNID_NONE = 0xFF

# TypedString types ([MS-OXCROPS] 2.2.6.1.2).
STRING_NONE = 0x00
STRING_EMPTY = 0x01
STRING_8BIT = 0x02
STRING_REDUCED_UNICODE = 0x03
STRING_UNICODE = 0x04

__all__ = [
    "MV_FLAG",
    "MV_INSTANCE",
    "PROPERTY_TYPE_NAMES",
    "propertyType",
    "propertyId",
    "makeTag",
    "propertyTypeName",
    "Float32NaN",
    "readPropertyValue",
    "writePropertyValue",
    "TaggedPropertyValue",
    "TypedPropertyValue",
    "FlaggedPropertyValue",
    "FlaggedPropertyValueWithType",
    "TypedString",
    "PropertyRow",
    "PropertyRowSet",
    "PropertyTagArray",
    "PropertyProblem",
    "PropertyProblemArray",
    "PropertyName",
    "LongTermId",
    "splitId",
    "makeId",
    "FolderEntryId",
    "MessageEntryId",
    "filetimeToDatetime",
    "datetimeToFiletime",
    "Restriction",
    "AndRestriction",
    "OrRestriction",
    "NotRestriction",
    "ContentRestriction",
    "PropertyRestriction",
    "ComparePropertiesRestriction",
    "BitMaskRestriction",
    "SizeRestriction",
    "ExistRestriction",
    "SubObjectRestriction",
    "CommentRestriction",
    "CountRestriction",
    "readRestriction",
    "writeRestriction",
    "SortOrder",
    "SortOrderSet",
    "RecipientRow",
    "ActionBlock",
    "RuleActions",
    "MoveCopyActionData",
    "ReplyActionData",
    "RecipientBlock",
    "ForwardDelegateActionData",
]


def propertyType(tag):
    """
    @param tag: A PropertyTag ([MS-OXCDATA] 2.9): type in the low 16 bits,
        id in the high 16 bits.
    @type tag: L{int}
    @return: Its property type.
    @rtype: L{int}
    """
    return tag & 0xFFFF


def propertyId(tag):
    """
    @param tag: A PropertyTag.
    @type tag: L{int}
    @return: Its property id.
    @rtype: L{int}
    """
    return tag >> 16


def makeTag(propId, propType):
    """
    @param propId: A property id.
    @type propId: L{int}
    @param propType: A property type.
    @type propType: L{int}
    @return: The PropertyTag.
    @rtype: L{int}
    """
    return ((propId & 0xFFFF) << 16) | (propType & 0xFFFF)


def propertyTypeName(propType):
    """
    @param propType: A property type.
    @type propType: L{int}
    @return: Its [MS-OXCDATA] name, e.g. C{"PtypString"}, or a hex string.
    @rtype: L{str}
    """
    name = PROPERTY_TYPE_NAMES.get(propType)
    if name is not None:
        return name
    if propType & MV_INSTANCE:
        base = PROPERTY_TYPE_NAMES.get(propType & ~MV_INSTANCE)
        if base is not None:
            return base + "|MultipleInstance"
    return "Ptyp0x%04X" % (propType,)


class Float32NaN(float):
    """
    A PtypFloating32 NaN, carrying its exact 32 bits (a float conversion
    would turn a signalling NaN into a quiet one).

    @ivar bits: The IEEE 754 single-precision bits.
    """

    __slots__ = ("bits",)

    def __new__(cls, bits):
        self = float.__new__(cls, "nan")
        self.bits = bits
        return self

    def __repr__(self):
        return "Float32NaN(0x%08X)" % (self.bits,)


_utf16 = codecs.utf_16_le_decode
_F32 = struct.Struct("<f")
_U32 = struct.Struct("<I")


def _readF32(r):
    o = r.offset
    v = r.f32()
    if v != v:
        return Float32NaN(_U32.unpack_from(r.data, o)[0])
    return v


def _writeF32(w, v):
    if isinstance(v, Float32NaN):
        w.u32(v.bits)
    else:
        w.f32(v)


# Boolean bytes: 0 and 1 are bools, anything else stays an int.
_BOOL8 = (False, True) + tuple(range(2, 256))


def _readBool(r):
    return _BOOL8[r.u8()]


def _readBinary(r):
    return r.bytes(r.u16())


def _writeBinary(w, v):
    n = len(v)
    if n > 0xFFFF:
        raise RopError("binary value of %d bytes exceeds 65535" % (n,))
    w.u16(n)
    w.bytes(v)


def _readNull(r):
    return None


def _writeNull(w, v):
    if v is not None:
        raise RopError("PtypNull takes no value, got %r" % (v,))


def _signedWriter(write, bits):
    top = 1 << bits
    low = -(1 << (bits - 1))

    def writeInt(w, v):
        if v < 0 and v >= low:
            v += top
        write(w, v)

    return writeInt


_wU16 = _signedWriter(Writer.u16, 16)
_wU32 = _signedWriter(Writer.u32, 32)
_wU64 = _signedWriter(Writer.u64, 64)


def _readMV(itemReader, minSize):
    def readMV(r):
        return r.counted(r.u32(), itemReader, minSize)

    return readMV


def _readMVArray(arrayReader):
    def readMV(r):
        return arrayReader(r, r.u32())

    return readMV


def _writeMV(itemWriter):
    def writeMV(w, values):
        w.u32(len(values))
        for v in values:
            itemWriter(w, v)

    return writeMV


def _writeMVArray(arrayWriter, bits):
    top = 1 << bits

    def writeMV(w, values):
        w.u32(len(values))
        arrayWriter(w, [v + top if v < 0 else v for v in values])

    return writeMV


def _readTyped(r):
    return TypedPropertyValue.read(r)


def _writeTyped(w, v):
    if not isinstance(v, TypedPropertyValue):
        raise RopError("a PtypUnspecified value must be a TypedPropertyValue")
    v.write(w)


def _readRestrictionValue(r):
    return readRestriction(r)


def _writeRestrictionValue(w, v):
    writeRestriction(w, v)


def _readRuleActionsValue(r):
    return RuleActions.read(r)


def _writeRuleActionsValue(w, v):
    v.write(w)


_READERS = {
    PtypNull: _readNull,
    PtypInteger16: Reader.u16,
    PtypInteger32: Reader.u32,
    PtypFloating32: _readF32,
    PtypFloating64: Reader.f64,
    PtypCurrency: Reader.i64,
    PtypFloatingTime: Reader.f64,
    PtypErrorCode: Reader.u32,
    PtypBoolean: _readBool,
    PtypObject: _readBinary,
    PtypInteger64: Reader.u64,
    PtypString8: Reader.asciiz,
    PtypString: Reader.unicodez,
    PtypTime: Reader.u64,
    PtypGuid: Reader.guid,
    PtypServerId: _readBinary,
    PtypRestriction: _readRestrictionValue,
    PtypRuleAction: _readRuleActionsValue,
    PtypBinary: _readBinary,
    PtypMultipleInteger16: _readMVArray(Reader.u16Array),
    PtypMultipleInteger32: _readMVArray(Reader.u32Array),
    PtypMultipleFloating32: _readMV(_readF32, 4),
    PtypMultipleFloating64: _readMV(Reader.f64, 8),
    PtypMultipleCurrency: _readMV(Reader.i64, 8),
    PtypMultipleFloatingTime: _readMV(Reader.f64, 8),
    PtypMultipleInteger64: _readMVArray(Reader.u64Array),
    PtypMultipleString8: _readMV(Reader.asciiz, 1),
    PtypMultipleString: _readMV(Reader.unicodez, 2),
    PtypMultipleTime: _readMVArray(Reader.u64Array),
    PtypMultipleGuid: _readMV(Reader.guid, 16),
    PtypMultipleBinary: _readMV(_readBinary, 2),
    PtypUnspecified: _readTyped,
}

_WRITERS = {
    PtypNull: _writeNull,
    PtypInteger16: _wU16,
    PtypInteger32: _wU32,
    PtypFloating32: _writeF32,
    PtypFloating64: Writer.f64,
    PtypCurrency: Writer.i64,
    PtypFloatingTime: Writer.f64,
    PtypErrorCode: _wU32,
    PtypBoolean: Writer.bool8,
    PtypObject: _writeBinary,
    PtypInteger64: _wU64,
    PtypString8: Writer.asciiz,
    PtypString: Writer.unicodez,
    PtypTime: _wU64,
    PtypGuid: Writer.guid,
    PtypServerId: _writeBinary,
    PtypRestriction: _writeRestrictionValue,
    PtypRuleAction: _writeRuleActionsValue,
    PtypBinary: _writeBinary,
    PtypMultipleInteger16: _writeMVArray(Writer.u16Array, 16),
    PtypMultipleInteger32: _writeMVArray(Writer.u32Array, 32),
    PtypMultipleFloating32: _writeMV(_writeF32),
    PtypMultipleFloating64: _writeMV(Writer.f64),
    PtypMultipleCurrency: _writeMV(Writer.i64),
    PtypMultipleFloatingTime: _writeMV(Writer.f64),
    PtypMultipleInteger64: _writeMVArray(Writer.u64Array, 64),
    PtypMultipleString8: _writeMV(Writer.asciiz),
    PtypMultipleString: _writeMV(Writer.unicodez),
    PtypMultipleTime: _writeMVArray(Writer.u64Array, 64),
    PtypMultipleGuid: _writeMV(Writer.guid),
    PtypMultipleBinary: _writeMV(_writeBinary),
    PtypUnspecified: _writeTyped,
}


def _valueReader(propType):
    f = _READERS.get(propType)
    if f is None and propType & MV_INSTANCE:
        f = _READERS.get(propType & ~(MV_INSTANCE | MV_FLAG))
    if f is None:
        raise RopError("unknown property type 0x%04X" % (propType,))
    return f


def _valueWriter(propType):
    f = _WRITERS.get(propType)
    if f is None and propType & MV_INSTANCE:
        f = _WRITERS.get(propType & ~(MV_INSTANCE | MV_FLAG))
    if f is None:
        raise RopError("unknown property type 0x%04X" % (propType,))
    return f


def readPropertyValue(r, propType):
    """
    Read a PropertyValue ([MS-OXCDATA] 2.11.2) of a known type.

    @param r: The reader.
    @type r: L{Reader}
    @param propType: The property type (a MultipleInstance type reads one
        value of its single-valued type).
    @type propType: L{int}
    @return: The value (see the module docstring for the Python types).
    @raise RopError: On an unknown type or truncated data.
    """
    f = _READERS.get(propType)
    if f is None:
        f = _valueReader(propType)
    return f(r)


def writePropertyValue(w, propType, value):
    """
    Write a PropertyValue ([MS-OXCDATA] 2.11.2) of a known type.

    @param w: The writer.
    @type w: L{Writer}
    @param propType: The property type.
    @type propType: L{int}
    @param value: The value, as L{readPropertyValue} returns it.
    @raise RopError: On an unknown type or a value that does not fit.
    """
    f = _WRITERS.get(propType)
    if f is None:
        f = _valueWriter(propType)
    try:
        f(w, value)
    except RopError:
        raise
    except (TypeError, ValueError, AttributeError, OverflowError) as e:
        raise RopError(
            "cannot encode %r as %s: %s" % (value, propertyTypeName(propType), e)
        ) from None


@dataclass(slots=True)
class TaggedPropertyValue:
    """
    A PropertyTag followed by a value of its type ([MS-OXCDATA] 2.11.4).

    @ivar tag: The PropertyTag.
    @ivar value: The value.
    """

    tag: int = 0
    value: object = None

    @property
    def propertyType(self):
        """
        The type half of C{tag}.
        """
        return self.tag & 0xFFFF

    @classmethod
    def read(cls, r):
        """
        @type r: L{Reader}
        @rtype: L{TaggedPropertyValue}
        """
        tag = r.u32()
        return cls(tag, readPropertyValue(r, tag & 0xFFFF))

    def write(self, w):
        """
        @type w: L{Writer}
        """
        w.u32(self.tag)
        writePropertyValue(w, self.tag & 0xFFFF, self.value)


@dataclass(slots=True)
class TypedPropertyValue:
    """
    A u16 property type followed by a value of that type ([MS-OXCDATA]
    2.11.3).
    """

    propertyType: int = 0
    value: object = None

    @classmethod
    def read(cls, r):
        """
        @type r: L{Reader}
        @rtype: L{TypedPropertyValue}
        """
        t = r.u16()
        if t == PtypUnspecified:
            raise RopError("a TypedPropertyValue cannot be PtypUnspecified")
        return cls(t, readPropertyValue(r, t))

    def write(self, w):
        """
        @type w: L{Writer}
        """
        if self.propertyType == PtypUnspecified:
            raise RopError("a TypedPropertyValue cannot be PtypUnspecified")
        w.u16(self.propertyType)
        writePropertyValue(w, self.propertyType, self.value)


def _readFlagged(r, propType):
    flag = r.u8()
    if flag == FLAG_VALUE:
        return flag, readPropertyValue(r, propType)
    if flag == FLAG_NOT_FOUND:
        return flag, None
    if flag == FLAG_ERROR:
        return flag, r.u32()
    raise RopError("bad FlaggedPropertyValue flag 0x%02X" % (flag,))


def _writeFlagged(w, flag, propType, value):
    w.u8(flag)
    if flag == FLAG_VALUE:
        writePropertyValue(w, propType, value)
    elif flag == FLAG_ERROR:
        w.u32(value)
    elif flag != FLAG_NOT_FOUND:
        raise RopError("bad FlaggedPropertyValue flag 0x%02X" % (flag,))


@dataclass(slots=True)
class FlaggedPropertyValue:
    """
    A Flag byte, then the value (0x0), nothing (0x1: not found) or a u32
    error code (0xA) ([MS-OXCDATA] 2.11.6).

    @ivar flag: L{FLAG_VALUE}, L{FLAG_NOT_FOUND} or L{FLAG_ERROR}.
    @ivar value: The value, L{None}, or the error code.
    """

    flag: int = FLAG_VALUE
    value: object = None

    @classmethod
    def read(cls, r, propType):
        """
        @type r: L{Reader}
        @param propType: The type given by the column.
        @rtype: L{FlaggedPropertyValue}
        """
        flag, value = _readFlagged(r, propType)
        return cls(flag, value)

    def write(self, w, propType):
        """
        @type w: L{Writer}
        @param propType: The type given by the column.
        """
        _writeFlagged(w, self.flag, propType, self.value)


@dataclass(slots=True)
class FlaggedPropertyValueWithType:
    """
    A u16 property type, then a L{FlaggedPropertyValue} of it ([MS-OXCDATA]
    2.11.7).
    """

    propertyType: int = 0
    flag: int = FLAG_VALUE
    value: object = None

    @classmethod
    def read(cls, r):
        """
        @type r: L{Reader}
        @rtype: L{FlaggedPropertyValueWithType}
        """
        t = r.u16()
        flag, value = _readFlagged(r, t)
        return cls(t, flag, value)

    def write(self, w):
        """
        @type w: L{Writer}
        """
        w.u16(self.propertyType)
        _writeFlagged(w, self.flag, self.propertyType, self.value)


@dataclass(slots=True)
class TypedString:
    """
    A StringType byte and the string it announces ([MS-OXCROPS] 2.2.6.1.2:
    0 none, 1 empty, 2 8-bit, 3 reduced Unicode (8-bit), 4 UTF-16LE; all
    NUL-terminated).

    @ivar stringType: The StringType.
    @ivar value: L{None} (none), C{""} (empty) or the string.
    """

    stringType: int = STRING_NONE
    value: Optional[str] = None

    @classmethod
    def read(cls, r):
        """
        @type r: L{Reader}
        @rtype: L{TypedString}
        """
        t = r.u8()
        if t == STRING_NONE:
            return cls(t, None)
        if t == STRING_EMPTY:
            return cls(t, "")
        if t == STRING_8BIT or t == STRING_REDUCED_UNICODE:
            return cls(t, r.asciiz())
        if t == STRING_UNICODE:
            return cls(t, r.unicodez())
        raise RopError("bad TypedString type 0x%02X" % (t,))

    def write(self, w):
        """
        @type w: L{Writer}
        """
        t = self.stringType
        w.u8(t)
        if t == STRING_8BIT or t == STRING_REDUCED_UNICODE:
            w.asciiz(self.value)
        elif t == STRING_UNICODE:
            w.unicodez(self.value)
        elif t not in (STRING_NONE, STRING_EMPTY):
            raise RopError("bad TypedString type 0x%02X" % (t,))


# Fixed-size types whose values a single struct can unpack unchanged.
_FIXED_CODES = {
    PtypInteger16: "H",
    PtypInteger32: "I",
    PtypFloating64: "d",
    PtypCurrency: "q",
    PtypFloatingTime: "d",
    PtypErrorCode: "I",
    PtypInteger64: "Q",
    PtypTime: "Q",
}

# Cache of per-column-set row readers: a table is queried many times with
# the same columns.
_rowReaderCache = {}


def _fixedRowReader(s):
    unpack = s.unpack_from
    size = s.size

    def readRow(r):
        o = r.offset
        if o + size > r.end:
            raise RopError("truncated row: %d byte(s) wanted at offset %d" % (size, o))
        r.offset = o + size
        return list(unpack(r.data, o))

    return readRow


def _valuesRowReader(readers):
    def readRow(r):
        return [f(r) for f in readers]

    return readRow


def _rowReader(columns):
    key = tuple(columns)
    reader = _rowReaderCache.get(key)
    if reader is None:
        codes = [_FIXED_CODES.get(tag & 0xFFFF) for tag in key]
        if key and None not in codes:
            reader = _fixedRowReader(struct.Struct("<" + "".join(codes)))
        else:
            reader = _valuesRowReader([_valueReader(tag & 0xFFFF) for tag in key])
        if len(_rowReaderCache) > 256:
            _rowReaderCache.clear()
        _rowReaderCache[key] = reader
    return reader


@dataclass(slots=True)
class PropertyRow:
    """
    A row of property values in the order of the columns ([MS-OXCDATA]
    2.8.1): Flag 0 (StandardPropertyRow: plain values; a PtypUnspecified
    column holds a L{TypedPropertyValue}) or 1 (FlaggedPropertyRow: each a
    L{FlaggedPropertyValue}, or a L{FlaggedPropertyValueWithType} for a
    PtypUnspecified column).

    @ivar flag: L{ROW_STANDARD} or L{ROW_FLAGGED}.
    @ivar values: One per column.
    """

    flag: int = ROW_STANDARD
    values: list = field(default_factory=list)

    @classmethod
    def read(cls, r, columns):
        """
        @type r: L{Reader}
        @param columns: The property tags of the columns.
        @type columns: L{list} of L{int}
        @rtype: L{PropertyRow}
        """
        flag = r.u8()
        if flag == ROW_STANDARD:
            return cls(flag, _rowReader(columns)(r))
        if flag == ROW_FLAGGED:
            values = []
            for tag in columns:
                t = tag & 0xFFFF
                if t == PtypUnspecified:
                    values.append(FlaggedPropertyValueWithType.read(r))
                else:
                    values.append(FlaggedPropertyValue.read(r, t))
            return cls(flag, values)
        raise RopError("bad PropertyRow flag 0x%02X" % (flag,))

    def write(self, w, columns):
        """
        @type w: L{Writer}
        @param columns: The property tags of the columns.
        """
        if len(self.values) != len(columns):
            raise RopError(
                "row has %d values for %d columns" % (len(self.values), len(columns))
            )
        w.u8(self.flag)
        if self.flag == ROW_STANDARD:
            for tag, value in zip(columns, self.values):
                writePropertyValue(w, tag & 0xFFFF, value)
        elif self.flag == ROW_FLAGGED:
            for tag, value in zip(columns, self.values):
                if tag & 0xFFFF == PtypUnspecified:
                    value.write(w)
                else:
                    value.write(w, tag & 0xFFFF)
        else:
            raise RopError("bad PropertyRow flag 0x%02X" % (self.flag,))


@dataclass(slots=True)
class PropertyRowSet:
    """
    A u16 RowCount and that many L{PropertyRow}s ([MS-OXCDATA] 2.8.2).
    """

    rows: list = field(default_factory=list)

    @classmethod
    def read(cls, r, columns):
        """
        @type r: L{Reader}
        @param columns: The property tags of the columns.
        @rtype: L{PropertyRowSet}
        """
        count = r.u16()
        read = PropertyRow.read
        return cls(r.counted(count, lambda rr: read(rr, columns)))

    def write(self, w, columns):
        """
        @type w: L{Writer}
        @param columns: The property tags of the columns.
        """
        w.u16(len(self.rows))
        for row in self.rows:
            row.write(w, columns)


class PropertyTagArray:
    """
    A u16 count and that many u32 PropertyTags ([MS-OXCDATA] 2.10.1), as a
    plain L{list} of L{int}.
    """

    @staticmethod
    def read(r):
        """
        @type r: L{Reader}
        @rtype: L{list} of L{int}
        """
        return r.u32Array(r.u16())

    @staticmethod
    def write(w, tags):
        """
        @type w: L{Writer}
        @param tags: The PropertyTags.
        @type tags: L{list} of L{int}
        """
        w.u16(len(tags))
        w.u32Array(tags)


@dataclass(slots=True)
class PropertyProblem:
    """
    Index u16, PropertyTag u32, ErrorCode u32 ([MS-OXCDATA] 2.7).
    """

    index: int = 0
    propertyTag: int = 0
    errorCode: int = 0

    @classmethod
    def read(cls, r):
        """
        @type r: L{Reader}
        @rtype: L{PropertyProblem}
        """
        return cls(r.u16(), r.u32(), r.u32())

    def write(self, w):
        """
        @type w: L{Writer}
        """
        w.u16(self.index)
        w.u32(self.propertyTag)
        w.u32(self.errorCode)


class PropertyProblemArray:
    """
    A u16 count and that many L{PropertyProblem}s ([MS-OXCDATA] 2.7.1), as
    a plain L{list}.
    """

    @staticmethod
    def read(r):
        """
        @type r: L{Reader}
        @rtype: L{list} of L{PropertyProblem}
        """
        return r.counted(r.u16(), PropertyProblem.read, 10)

    @staticmethod
    def write(w, problems):
        """
        @type w: L{Writer}
        @type problems: L{list} of L{PropertyProblem}
        """
        w.u16(len(problems))
        for p in problems:
            p.write(w)


_NIL_GUID = uuid.UUID(int=0)


@dataclass(slots=True)
class PropertyName:
    """
    A named property ([MS-OXCDATA] 2.6.1): Kind u8, GUID, then a LID u32
    (Kind 0), or NameSize u8 and a UTF-16LE name of NameSize bytes ending
    with a NUL (Kind 1), or nothing (Kind 0xFF).

    @ivar kind: L{MNID_ID}, L{MNID_STRING} or L{MNID_NONE}.
    @ivar guid: The property set.
    @ivar lid: The LID (Kind 0).
    @ivar name: The name without its terminator (Kind 1).
    @ivar terminated: Whether the name's bytes ended with a NUL (kept for
        exact re-encoding).
    """

    kind: int = MNID_ID
    guid: uuid.UUID = _NIL_GUID
    lid: Optional[int] = None
    name: Optional[str] = None
    terminated: bool = True

    @classmethod
    def read(cls, r):
        """
        @type r: L{Reader}
        @rtype: L{PropertyName}
        """
        kind = r.u8()
        guid = r.guid()
        if kind == MNID_ID:
            return cls(kind, guid, lid=r.u32())
        if kind == MNID_STRING:
            size = r.u8()
            if size & 1:
                raise RopError("odd PropertyName NameSize %d" % (size,))
            raw = r.bytes(size)
            terminated = raw[-2:] == b"\x00\x00"
            if terminated:
                raw = raw[:-2]
            return cls(
                kind,
                guid,
                name=_utf16(raw, "surrogatepass", True)[0],
                terminated=terminated,
            )
        if kind == MNID_NONE:
            return cls(kind, guid)
        raise RopError("bad PropertyName Kind 0x%02X" % (kind,))

    def write(self, w):
        """
        @type w: L{Writer}
        """
        kind = self.kind
        w.u8(kind)
        w.guid(self.guid)
        if kind == MNID_ID:
            w.u32(self.lid)
        elif kind == MNID_STRING:
            try:
                raw = self.name.encode("utf-16-le", "surrogatepass")
            except (AttributeError, UnicodeEncodeError) as e:
                raise RopError("bad PropertyName name: %s" % (e,)) from None
            if self.terminated:
                raw += b"\x00\x00"
            if len(raw) > 0xFF:
                raise RopError(
                    "PropertyName name of %d bytes exceeds 255" % (len(raw),)
                )
            w.u8(len(raw))
            w.bytes(raw)
        elif kind != MNID_NONE:
            raise RopError("bad PropertyName Kind 0x%02X" % (kind,))


def _gcFromBytes(b):
    return int.from_bytes(b, "big")


def _gcToBytes(gc):
    try:
        return gc.to_bytes(6, "big")
    except (OverflowError, AttributeError) as e:
        raise RopError("bad GlobalCounter %r: %s" % (gc, e)) from None


@dataclass(slots=True)
class LongTermId:
    """
    A LongTermID ([MS-OXCDATA] 2.2.1.3.1): DatabaseGuid, a 48-bit
    GlobalCounter (big-endian on the wire) and a u16 Pad.
    """

    databaseGuid: uuid.UUID = _NIL_GUID
    globalCounter: int = 0
    pad: int = 0

    @classmethod
    def read(cls, r):
        """
        @type r: L{Reader}
        @rtype: L{LongTermId}
        """
        return cls(r.guid(), _gcFromBytes(r.bytes(6)), r.u16())

    def write(self, w):
        """
        @type w: L{Writer}
        """
        w.guid(self.databaseGuid)
        w.bytes(_gcToBytes(self.globalCounter))
        w.u16(self.pad)


def splitId(value):
    """
    Split a FolderID or MessageID ([MS-OXCDATA] 2.2.1.1, 2.2.1.2), read as
    a little-endian u64, into its ReplicaId (first two bytes, little-endian)
    and GlobalCounter (last six bytes, big-endian).

    @param value: The u64.
    @type value: L{int}
    @return: C{(replicaId, globalCounter)}.
    @rtype: L{tuple}
    """
    raw = value.to_bytes(8, "little")
    return raw[0] | (raw[1] << 8), int.from_bytes(raw[2:], "big")


def makeId(replicaId, globalCounter):
    """
    The inverse of L{splitId}.

    @rtype: L{int}
    """
    raw = replicaId.to_bytes(2, "little") + _gcToBytes(globalCounter)
    return int.from_bytes(raw, "little")


_FOLDER_EID = struct.Struct("<I16sH16s6sH")
_MESSAGE_EID = struct.Struct("<I16sH16s6sH16s6sH")


@dataclass(slots=True)
class FolderEntryId:
    """
    A Folder EntryID ([MS-OXCDATA] 2.2.4.1), 46 bytes.
    """

    flags: int = 0
    providerUid: bytes = b"\x00" * 16
    folderType: int = 0
    databaseGuid: uuid.UUID = _NIL_GUID
    globalCounter: int = 0
    pad: int = 0

    SIZE = _FOLDER_EID.size

    @classmethod
    def fromBytes(cls, data):
        """
        @param data: An EntryID blob.
        @type data: L{bytes}
        @rtype: L{FolderEntryId}
        @raise RopError: If the blob is not 46 bytes long.
        """
        if len(data) != _FOLDER_EID.size:
            raise RopError("a folder EntryID is 46 bytes, not %d" % (len(data),))
        f, p, t, g, gc, pad = _FOLDER_EID.unpack(data)
        return cls(f, p, t, uuid.UUID(bytes_le=g), _gcFromBytes(gc), pad)

    def toBytes(self):
        """
        @rtype: L{bytes}
        """
        try:
            return _FOLDER_EID.pack(
                self.flags,
                self.providerUid,
                self.folderType,
                self.databaseGuid.bytes_le,
                _gcToBytes(self.globalCounter),
                self.pad,
            )
        except (struct.error, AttributeError) as e:
            raise RopError("cannot encode folder EntryID: %s" % (e,)) from None


@dataclass(slots=True)
class MessageEntryId:
    """
    A Message EntryID ([MS-OXCDATA] 2.2.4.2), 70 bytes.
    """

    flags: int = 0
    providerUid: bytes = b"\x00" * 16
    messageType: int = 0
    folderDatabaseGuid: uuid.UUID = _NIL_GUID
    folderGlobalCounter: int = 0
    pad1: int = 0
    messageDatabaseGuid: uuid.UUID = _NIL_GUID
    messageGlobalCounter: int = 0
    pad2: int = 0

    SIZE = _MESSAGE_EID.size

    @classmethod
    def fromBytes(cls, data):
        """
        @param data: An EntryID blob.
        @type data: L{bytes}
        @rtype: L{MessageEntryId}
        @raise RopError: If the blob is not 70 bytes long.
        """
        if len(data) != _MESSAGE_EID.size:
            raise RopError("a message EntryID is 70 bytes, not %d" % (len(data),))
        f, p, t, fg, fgc, p1, mg, mgc, p2 = _MESSAGE_EID.unpack(data)
        return cls(
            f,
            p,
            t,
            uuid.UUID(bytes_le=fg),
            _gcFromBytes(fgc),
            p1,
            uuid.UUID(bytes_le=mg),
            _gcFromBytes(mgc),
            p2,
        )

    def toBytes(self):
        """
        @rtype: L{bytes}
        """
        try:
            return _MESSAGE_EID.pack(
                self.flags,
                self.providerUid,
                self.messageType,
                self.folderDatabaseGuid.bytes_le,
                _gcToBytes(self.folderGlobalCounter),
                self.pad1,
                self.messageDatabaseGuid.bytes_le,
                _gcToBytes(self.messageGlobalCounter),
                self.pad2,
            )
        except (struct.error, AttributeError) as e:
            raise RopError("cannot encode message EntryID: %s" % (e,)) from None


_FILETIME_EPOCH = datetime.datetime(1601, 1, 1, tzinfo=datetime.timezone.utc)


def filetimeToDatetime(value):
    """
    @param value: A PtypTime value (100 ns intervals since 1601-01-01 UTC).
    @type value: L{int}
    @rtype: L{datetime.datetime} (UTC; microsecond precision)
    """
    return _FILETIME_EPOCH + datetime.timedelta(microseconds=value // 10)


def datetimeToFiletime(dt):
    """
    @param dt: An aware L{datetime.datetime}.
    @return: The PtypTime value.
    @rtype: L{int}
    """
    delta = dt - _FILETIME_EPOCH
    return (delta.days * 86400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


# Restrictions ([MS-OXCDATA] 2.12).

#: Nesting deeper than this is refused (a guard against stack exhaustion).
MAX_RESTRICTION_DEPTH = 128

_RESTRICTIONS = {}


def _restriction(restrictType):
    def decorator(cls):
        cls.RESTRICT_TYPE = restrictType
        _RESTRICTIONS[restrictType] = cls
        return cls

    return decorator


class Restriction:
    """
    Base of the restriction classes ([MS-OXCDATA] 2.12): a RestrictType
    byte, then a body. C{countSize} is the width of the And/Or counts: 2 in
    ROP buffers, 4 in extended rules ([MS-OXORULE] 2.2.4).

    @cvar RESTRICT_TYPE: The RestrictType.
    """

    __slots__ = ()
    RESTRICT_TYPE = -1

    @classmethod
    def read(cls, r, countSize=2):
        """
        Read any restriction.

        @type r: L{Reader}
        @param countSize: 2 or 4.
        @rtype: L{Restriction}
        """
        return readRestriction(r, countSize)

    def write(self, w, countSize=2):
        """
        Write the RestrictType and the body.

        @type w: L{Writer}
        @param countSize: 2 or 4.
        """
        w.u8(self.RESTRICT_TYPE)
        self._writeBody(w, countSize)

    def _writeBody(self, w, countSize):
        raise NotImplementedError()


def _readCount(r, countSize):
    return r.u16() if countSize == 2 else r.u32()


def _writeCount(w, countSize, n):
    if countSize == 2:
        w.u16(n)
    else:
        w.u32(n)


def _readAny(r, countSize, depth):
    if depth > MAX_RESTRICTION_DEPTH:
        raise RopError("restriction nested deeper than %d" % (MAX_RESTRICTION_DEPTH,))
    t = r.u8()
    cls = _RESTRICTIONS.get(t)
    if cls is None:
        raise RopError("bad RestrictType 0x%02X" % (t,))
    return cls._readBody(r, countSize, depth)


def readRestriction(r, countSize=2):
    """
    Read a restriction ([MS-OXCDATA] 2.12).

    @param r: The reader.
    @type r: L{Reader}
    @param countSize: The width of And/Or counts: 2 in ROP buffers, 4 in
        extended rules.
    @type countSize: L{int}
    @rtype: L{Restriction}
    @raise RopError: On bad data.
    """
    try:
        return _readAny(r, countSize, 0)
    except RecursionError:
        raise RopError("restriction nested too deeply") from None


def writeRestriction(w, restriction, countSize=2):
    """
    Write a restriction.

    @type w: L{Writer}
    @type restriction: L{Restriction}
    @param countSize: 2 or 4.
    @raise RopError: If it cannot be encoded.
    """
    if not isinstance(restriction, Restriction):
        raise RopError("not a Restriction: %r" % (restriction,))
    try:
        restriction.write(w, countSize)
    except RecursionError:
        raise RopError("restriction nested too deeply") from None


class _Compound(Restriction):
    __slots__ = ()

    @classmethod
    def _readBody(cls, r, countSize, depth):
        n = _readCount(r, countSize)
        return cls(r.counted(n, lambda rr: _readAny(rr, countSize, depth + 1)))

    def _writeBody(self, w, countSize):
        _writeCount(w, countSize, len(self.restricts))
        for sub in self.restricts:
            sub.write(w, countSize)


@_restriction(0x00)
@dataclass(slots=True)
class AndRestriction(_Compound):
    """
    RestrictCount, then that many restrictions, all of which must match
    ([MS-OXCDATA] 2.12.1).
    """

    restricts: list = field(default_factory=list)


@_restriction(0x01)
@dataclass(slots=True)
class OrRestriction(_Compound):
    """
    RestrictCount, then that many restrictions, one of which must match
    ([MS-OXCDATA] 2.12.2).
    """

    restricts: list = field(default_factory=list)


@_restriction(0x02)
@dataclass(slots=True)
class NotRestriction(Restriction):
    """
    One restriction that must not match ([MS-OXCDATA] 2.12.3).
    """

    restriction: Restriction = None

    @classmethod
    def _readBody(cls, r, countSize, depth):
        return cls(_readAny(r, countSize, depth + 1))

    def _writeBody(self, w, countSize):
        self.restriction.write(w, countSize)


@_restriction(0x03)
@dataclass(slots=True)
class ContentRestriction(Restriction):
    """
    FuzzyLevelLow u16, FuzzyLevelHigh u16, PropertyTag u32, TaggedValue
    ([MS-OXCDATA] 2.12.4).
    """

    fuzzyLevelLow: int = 0
    fuzzyLevelHigh: int = 0
    propertyTag: int = 0
    taggedValue: TaggedPropertyValue = None

    @classmethod
    def _readBody(cls, r, countSize, depth):
        return cls(r.u16(), r.u16(), r.u32(), TaggedPropertyValue.read(r))

    def _writeBody(self, w, countSize):
        w.u16(self.fuzzyLevelLow)
        w.u16(self.fuzzyLevelHigh)
        w.u32(self.propertyTag)
        self.taggedValue.write(w)


@_restriction(0x04)
@dataclass(slots=True)
class PropertyRestriction(Restriction):
    """
    RelOp u8, PropertyTag u32, TaggedValue ([MS-OXCDATA] 2.12.5).
    """

    relOp: int = 0
    propertyTag: int = 0
    taggedValue: TaggedPropertyValue = None

    @classmethod
    def _readBody(cls, r, countSize, depth):
        return cls(r.u8(), r.u32(), TaggedPropertyValue.read(r))

    def _writeBody(self, w, countSize):
        w.u8(self.relOp)
        w.u32(self.propertyTag)
        self.taggedValue.write(w)


@_restriction(0x05)
@dataclass(slots=True)
class ComparePropertiesRestriction(Restriction):
    """
    RelOp u8, PropTag1 u32, PropTag2 u32 ([MS-OXCDATA] 2.12.6).
    """

    relOp: int = 0
    propTag1: int = 0
    propTag2: int = 0

    @classmethod
    def _readBody(cls, r, countSize, depth):
        return cls(r.u8(), r.u32(), r.u32())

    def _writeBody(self, w, countSize):
        w.u8(self.relOp)
        w.u32(self.propTag1)
        w.u32(self.propTag2)


@_restriction(0x06)
@dataclass(slots=True)
class BitMaskRestriction(Restriction):
    """
    BitmapRelOp u8, PropTag u32, Mask u32 ([MS-OXCDATA] 2.12.7).
    """

    bitmapRelOp: int = 0
    propTag: int = 0
    mask: int = 0

    @classmethod
    def _readBody(cls, r, countSize, depth):
        return cls(r.u8(), r.u32(), r.u32())

    def _writeBody(self, w, countSize):
        w.u8(self.bitmapRelOp)
        w.u32(self.propTag)
        w.u32(self.mask)


@_restriction(0x07)
@dataclass(slots=True)
class SizeRestriction(Restriction):
    """
    RelOp u8, PropTag u32, Size u32 ([MS-OXCDATA] 2.12.8).
    """

    relOp: int = 0
    propTag: int = 0
    size: int = 0

    @classmethod
    def _readBody(cls, r, countSize, depth):
        return cls(r.u8(), r.u32(), r.u32())

    def _writeBody(self, w, countSize):
        w.u8(self.relOp)
        w.u32(self.propTag)
        w.u32(self.size)


@_restriction(0x08)
@dataclass(slots=True)
class ExistRestriction(Restriction):
    """
    PropTag u32 ([MS-OXCDATA] 2.12.9).
    """

    propTag: int = 0

    @classmethod
    def _readBody(cls, r, countSize, depth):
        return cls(r.u32())

    def _writeBody(self, w, countSize):
        w.u32(self.propTag)


@_restriction(0x09)
@dataclass(slots=True)
class SubObjectRestriction(Restriction):
    """
    SubObject u32 (a property tag: recipients or attachments), then a
    restriction ([MS-OXCDATA] 2.12.10).
    """

    subObject: int = 0
    restriction: Restriction = None

    @classmethod
    def _readBody(cls, r, countSize, depth):
        return cls(r.u32(), _readAny(r, countSize, depth + 1))

    def _writeBody(self, w, countSize):
        w.u32(self.subObject)
        self.restriction.write(w, countSize)


@_restriction(0x0A)
@dataclass(slots=True)
class CommentRestriction(Restriction):
    """
    TaggedValuesCount u8, that many L{TaggedPropertyValue}s,
    RestrictionPresent u8 and, if nonzero, a restriction ([MS-OXCDATA]
    2.12.11).

    @ivar restrictionPresent: The RestrictionPresent byte written when
        C{restriction} is not L{None} (kept as decoded).
    """

    taggedValues: list = field(default_factory=list)
    restriction: Optional[Restriction] = None
    restrictionPresent: int = 1

    @classmethod
    def _readBody(cls, r, countSize, depth):
        values = r.counted(r.u8(), TaggedPropertyValue.read, 5)
        present = r.u8()
        if present:
            return cls(values, _readAny(r, countSize, depth + 1), present)
        return cls(values, None)

    def _writeBody(self, w, countSize):
        w.u8(len(self.taggedValues))
        for v in self.taggedValues:
            v.write(w)
        if self.restriction is None:
            w.u8(0)
        else:
            w.u8(self.restrictionPresent or 1)
            self.restriction.write(w, countSize)


@_restriction(0x0B)
@dataclass(slots=True)
class CountRestriction(Restriction):
    """
    Count u32, then a restriction applied to at most that many rows
    ([MS-OXCDATA] 2.12.12).
    """

    count: int = 0
    subRestriction: Restriction = None

    @classmethod
    def _readBody(cls, r, countSize, depth):
        return cls(r.u32(), _readAny(r, countSize, depth + 1))

    def _writeBody(self, w, countSize):
        w.u32(self.count)
        self.subRestriction.write(w, countSize)


# Sort orders ([MS-OXCDATA] 2.13).


@dataclass(slots=True)
class SortOrder:
    """
    PropertyType u16, PropertyId u16, Order u8 (0 ascending, 1 descending,
    4 maximum category, 8 minimum category) ([MS-OXCDATA] 2.13.1).
    """

    propertyType: int = 0
    propertyId: int = 0
    order: int = 0

    @property
    def tag(self):
        """
        The PropertyTag of the sorted column.
        """
        return (self.propertyId << 16) | self.propertyType

    @classmethod
    def read(cls, r):
        """
        @type r: L{Reader}
        @rtype: L{SortOrder}
        """
        return cls(r.u16(), r.u16(), r.u8())

    def write(self, w):
        """
        @type w: L{Writer}
        """
        w.u16(self.propertyType)
        w.u16(self.propertyId)
        w.u8(self.order)


@dataclass(slots=True)
class SortOrderSet:
    """
    SortOrderCount u16, CategorizedCount u16, ExpandedCount u16, then the
    L{SortOrder}s ([MS-OXCDATA] 2.13.2).
    """

    sortOrders: list = field(default_factory=list)
    categorizedCount: int = 0
    expandedCount: int = 0

    @classmethod
    def read(cls, r):
        """
        @type r: L{Reader}
        @rtype: L{SortOrderSet}
        """
        count = r.u16()
        categorized = r.u16()
        expanded = r.u16()
        return cls(r.counted(count, SortOrder.read, 5), categorized, expanded)

    def write(self, w):
        """
        @type w: L{Writer}
        """
        w.u16(len(self.sortOrders))
        w.u16(self.categorizedCount)
        w.u16(self.expandedCount)
        for s in self.sortOrders:
            s.write(w)


# Recipient rows ([MS-OXCDATA] 2.8.3).

#: RecipientFlags bits ([MS-OXCDATA] 2.8.3.1), as a little-endian u16.
RECIPIENT_R = 0x0080
RECIPIENT_S = 0x0040
RECIPIENT_T = 0x0020
RECIPIENT_D = 0x0010
RECIPIENT_E = 0x0008
RECIPIENT_TYPE_MASK = 0x0007
RECIPIENT_O = 0x8000
RECIPIENT_I = 0x0400
RECIPIENT_U = 0x0200
RECIPIENT_N = 0x0100

RECIPIENT_TYPE_NONE = 0x0
RECIPIENT_TYPE_X500DN = 0x1
RECIPIENT_TYPE_MSMAIL = 0x2
RECIPIENT_TYPE_SMTP = 0x3
RECIPIENT_TYPE_FAX = 0x4
RECIPIENT_TYPE_PROFESSIONAL_OFFICE_SYSTEM = 0x5
RECIPIENT_TYPE_PERSONAL_DL1 = 0x6
RECIPIENT_TYPE_PERSONAL_DL2 = 0x7


@dataclass(slots=True)
class RecipientRow:
    """
    A recipient ([MS-OXCDATA] 2.8.3.2): RecipientFlags u16, then the
    standard fields its bits announce, RecipientColumnCount u16 and a
    L{PropertyRow} over the first RecipientColumnCount columns.

    Presence rules: AddressPrefixUsed, DisplayType and X500DN (8-bit) when
    the Type is X500DN; EntryId and SearchKey (u16 sizes) when it is a
    personal distribution list (6 or 7); AddressType (8-bit) when it is
    NoType and the O bit is set; EmailAddress (E), DisplayName (D),
    SimpleDisplayName (I) and TransmittableDisplayName (T), UTF-16 when the
    U bit is set, 8-bit otherwise. Fields that are absent are L{None}.
    """

    recipientFlags: int = 0
    addressPrefixUsed: Optional[int] = None
    displayType: Optional[int] = None
    x500dn: Optional[str] = None
    entryId: Optional[bytes] = None
    searchKey: Optional[bytes] = None
    addressType: Optional[str] = None
    emailAddress: Optional[str] = None
    displayName: Optional[str] = None
    simpleDisplayName: Optional[str] = None
    transmittableDisplayName: Optional[str] = None
    recipientColumnCount: int = 0
    recipientProperties: PropertyRow = None

    @property
    def recipientType(self):
        """
        The Type bits of C{recipientFlags}.
        """
        return self.recipientFlags & RECIPIENT_TYPE_MASK

    @classmethod
    def read(cls, r, columns):
        """
        @type r: L{Reader}
        @param columns: The recipient columns of the enclosing ROP; the row
            uses the first RecipientColumnCount of them.
        @type columns: L{list} of L{int}
        @rtype: L{RecipientRow}
        """
        flags = r.u16()
        row = cls(flags)
        kind = flags & RECIPIENT_TYPE_MASK
        if kind == RECIPIENT_TYPE_X500DN:
            row.addressPrefixUsed = r.u8()
            row.displayType = r.u8()
            row.x500dn = r.asciiz()
        elif kind == RECIPIENT_TYPE_PERSONAL_DL1 or kind == RECIPIENT_TYPE_PERSONAL_DL2:
            row.entryId = r.bytes(r.u16())
            row.searchKey = r.bytes(r.u16())
        elif kind == RECIPIENT_TYPE_NONE and flags & RECIPIENT_O:
            row.addressType = r.asciiz()
        string = r.unicodez if flags & RECIPIENT_U else r.asciiz
        if flags & RECIPIENT_E:
            row.emailAddress = string()
        if flags & RECIPIENT_D:
            row.displayName = string()
        if flags & RECIPIENT_I:
            row.simpleDisplayName = string()
        if flags & RECIPIENT_T:
            row.transmittableDisplayName = string()
        count = r.u16()
        if count > len(columns):
            raise RopError(
                "RecipientColumnCount %d exceeds the %d columns" % (count, len(columns))
            )
        row.recipientColumnCount = count
        row.recipientProperties = PropertyRow.read(r, columns[:count])
        return row

    def write(self, w, columns):
        """
        @type w: L{Writer}
        @param columns: The recipient columns of the enclosing ROP.
        """
        flags = self.recipientFlags
        w.u16(flags)
        kind = flags & RECIPIENT_TYPE_MASK
        if kind == RECIPIENT_TYPE_X500DN:
            w.u8(self.addressPrefixUsed)
            w.u8(self.displayType)
            w.asciiz(self.x500dn)
        elif kind == RECIPIENT_TYPE_PERSONAL_DL1 or kind == RECIPIENT_TYPE_PERSONAL_DL2:
            _writeBinary(w, self.entryId)
            _writeBinary(w, self.searchKey)
        elif kind == RECIPIENT_TYPE_NONE and flags & RECIPIENT_O:
            w.asciiz(self.addressType)
        string = w.unicodez if flags & RECIPIENT_U else w.asciiz
        if flags & RECIPIENT_E:
            string(self.emailAddress)
        if flags & RECIPIENT_D:
            string(self.displayName)
        if flags & RECIPIENT_I:
            string(self.simpleDisplayName)
        if flags & RECIPIENT_T:
            string(self.transmittableDisplayName)
        count = self.recipientColumnCount
        if count > len(columns):
            raise RopError(
                "RecipientColumnCount %d exceeds the %d columns" % (count, len(columns))
            )
        w.u16(count)
        self.recipientProperties.write(w, columns[:count])


# Rule actions ([MS-OXORULE] 2.2.5).

OP_MOVE = 0x01
OP_COPY = 0x02
OP_REPLY = 0x03
OP_OOF_REPLY = 0x04
OP_DEFER_ACTION = 0x05
OP_BOUNCE = 0x06
OP_FORWARD = 0x07
OP_DELEGATE = 0x08
OP_TAG = 0x09
OP_DELETE = 0x0A
OP_MARK_AS_READ = 0x0B


@dataclass(slots=True)
class ActionBlock:
    """
    One rule action ([MS-OXORULE] 2.2.5.1): ActionLength (u16 in standard
    rules, u32 in extended rules; the size of what follows it), ActionType
    u8, ActionFlavor u32, ActionFlags u32 and ActionData.

    C{actionData} is kept as the exact bytes; L{parsedData} decodes the
    common forms.
    """

    actionType: int = 0
    actionFlavor: int = 0
    actionFlags: int = 0
    actionData: bytes = b""

    @classmethod
    def read(cls, r, countSize=2):
        """
        @type r: L{Reader}
        @param countSize: 2 (standard rules) or 4 (extended rules).
        @rtype: L{ActionBlock}
        """
        length = _readCount(r, countSize)
        if length < 9:
            raise RopError("ActionLength %d is shorter than 9" % (length,))
        s = r.sub(length)
        return cls(s.u8(), s.u32(), s.u32(), s.rest())

    def write(self, w, countSize=2):
        """
        @type w: L{Writer}
        @param countSize: 2 or 4.
        """
        _writeCount(w, countSize, 9 + len(self.actionData))
        w.u8(self.actionType)
        w.u32(self.actionFlavor)
        w.u32(self.actionFlags)
        w.bytes(self.actionData)

    def parsedData(self):
        """
        Decode the ActionData of a standard rule ([MS-OXORULE] 2.2.5.1.2):
        OP_MOVE/OP_COPY give a L{MoveCopyActionData}, OP_REPLY/OP_OOF_REPLY
        a L{ReplyActionData}, OP_FORWARD/OP_DELEGATE a
        L{ForwardDelegateActionData}, OP_TAG a L{TaggedPropertyValue},
        OP_BOUNCE a BounceCode L{int}, OP_DELETE and OP_MARK_AS_READ
        L{None}; OP_DEFER_ACTION (opaque to clients) and unknown types give
        the bytes unchanged. Extended rules lay some of these out
        differently and are not decoded here.

        @raise RopError: If the data does not parse or has bytes left over.
        """
        t = self.actionType
        parser = _ACTION_PARSERS.get(t)
        if parser is None:
            if t in (OP_DELETE, OP_MARK_AS_READ):
                return None
            return self.actionData
        r = Reader(self.actionData)
        value = parser(r)
        if not r.atEnd():
            raise RopError("%d byte(s) left after the ActionData" % (r.remaining,))
        return value


@dataclass(slots=True)
class MoveCopyActionData:
    """
    OP_MOVE/OP_COPY data of a standard rule ([MS-OXORULE] 2.2.5.1.2.1):
    FolderInThisStore u8, StoreEIDSize u16 + StoreEID, FolderEIDSize u16 +
    FolderEID.
    """

    folderInThisStore: int = 0
    storeEid: bytes = b""
    folderEid: bytes = b""

    @classmethod
    def read(cls, r):
        """
        @type r: L{Reader}
        @rtype: L{MoveCopyActionData}
        """
        return cls(r.u8(), _readBinary(r), _readBinary(r))

    def write(self, w):
        """
        @type w: L{Writer}
        """
        w.u8(self.folderInThisStore)
        _writeBinary(w, self.storeEid)
        _writeBinary(w, self.folderEid)


@dataclass(slots=True)
class ReplyActionData:
    """
    OP_REPLY/OP_OOF_REPLY data of a standard rule ([MS-OXORULE]
    2.2.5.1.2.2): ReplyTemplateFID u64, ReplyTemplateMID u64,
    ReplyTemplateGUID.
    """

    replyTemplateFid: int = 0
    replyTemplateMid: int = 0
    replyTemplateGuid: uuid.UUID = _NIL_GUID

    @classmethod
    def read(cls, r):
        """
        @type r: L{Reader}
        @rtype: L{ReplyActionData}
        """
        return cls(r.u64(), r.u64(), r.guid())

    def write(self, w):
        """
        @type w: L{Writer}
        """
        w.u64(self.replyTemplateFid)
        w.u64(self.replyTemplateMid)
        w.guid(self.replyTemplateGuid)


@dataclass(slots=True)
class RecipientBlock:
    """
    A RecipientBlockData ([MS-OXORULE] 2.2.5.1.2.4.1): Reserved u8,
    NoOfProperties u32 and that many L{TaggedPropertyValue}s.
    """

    reserved: int = 0
    propertyValues: list = field(default_factory=list)

    @classmethod
    def read(cls, r):
        """
        @type r: L{Reader}
        @rtype: L{RecipientBlock}
        """
        reserved = r.u8()
        return cls(reserved, r.counted(r.u32(), TaggedPropertyValue.read, 4))

    def write(self, w):
        """
        @type w: L{Writer}
        """
        w.u8(self.reserved)
        w.u32(len(self.propertyValues))
        for v in self.propertyValues:
            v.write(w)


@dataclass(slots=True)
class ForwardDelegateActionData:
    """
    OP_FORWARD/OP_DELEGATE data of a standard rule ([MS-OXORULE]
    2.2.5.1.2.4): RecipientCount u16 and that many L{RecipientBlock}s.
    """

    recipients: list = field(default_factory=list)

    @classmethod
    def read(cls, r):
        """
        @type r: L{Reader}
        @rtype: L{ForwardDelegateActionData}
        """
        return cls(r.counted(r.u16(), RecipientBlock.read, 5))

    def write(self, w):
        """
        @type w: L{Writer}
        """
        w.u16(len(self.recipients))
        for b in self.recipients:
            b.write(w)


_ACTION_PARSERS = {
    OP_MOVE: MoveCopyActionData.read,
    OP_COPY: MoveCopyActionData.read,
    OP_REPLY: ReplyActionData.read,
    OP_OOF_REPLY: ReplyActionData.read,
    OP_FORWARD: ForwardDelegateActionData.read,
    OP_DELEGATE: ForwardDelegateActionData.read,
    OP_TAG: TaggedPropertyValue.read,
    OP_BOUNCE: Reader.u32,
}


@dataclass(slots=True)
class RuleActions:
    """
    NoOfActions (u16 in standard rules, u32 in extended rules), then that
    many L{ActionBlock}s ([MS-OXORULE] 2.2.5).
    """

    actions: list = field(default_factory=list)

    @classmethod
    def read(cls, r, countSize=2):
        """
        @type r: L{Reader}
        @param countSize: 2 or 4.
        @rtype: L{RuleActions}
        """
        n = _readCount(r, countSize)
        return cls(
            r.counted(n, lambda rr: ActionBlock.read(rr, countSize), 9 + countSize)
        )

    def write(self, w, countSize=2):
        """
        @type w: L{Writer}
        @param countSize: 2 or 4.
        """
        _writeCount(w, countSize, len(self.actions))
        for a in self.actions:
            a.write(w, countSize)
