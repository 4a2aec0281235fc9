"""
Tests for L{mapiproxy.mapi.oxcdata}: [MS-OXCDATA] property values, rows,
names, identifiers, restrictions, sort orders, recipient rows and
[MS-OXORULE] rule actions.

Golden bytes are laid out by hand from the MS-OXCDATA field tables, with
L{struct} and L{uuid} as the independent packers.
"""

import datetime
import math
import struct
import uuid

from hypothesis import given, settings, strategies as st

from twisted.trial.unittest import SynchronousTestCase

from mapiproxy.errors import RopError
from mapiproxy.mapi import oxcdata as ox
from mapiproxy.mapi.oxcdata import (
    ActionBlock,
    AndRestriction,
    BitMaskRestriction,
    CommentRestriction,
    ComparePropertiesRestriction,
    ContentRestriction,
    CountRestriction,
    ExistRestriction,
    Float32NaN,
    FlaggedPropertyValue,
    FlaggedPropertyValueWithType,
    FolderEntryId,
    LongTermId,
    MessageEntryId,
    NotRestriction,
    OrRestriction,
    PropertyName,
    PropertyProblem,
    PropertyProblemArray,
    PropertyRestriction,
    PropertyRow,
    PropertyRowSet,
    PropertyTagArray,
    RecipientRow,
    RuleActions,
    SizeRestriction,
    SortOrder,
    SortOrderSet,
    SubObjectRestriction,
    TaggedPropertyValue,
    TypedPropertyValue,
    TypedString,
    datetimeToFiletime,
    filetimeToDatetime,
    makeId,
    makeTag,
    propertyId,
    propertyType,
    propertyTypeName,
    readPropertyValue,
    readRestriction,
    splitId,
    writePropertyValue,
    writeRestriction,
)
from mapiproxy.mapi.rops.base import Reader, Writer

_FAST = settings(max_examples=200, deadline=None)

_GUID = uuid.UUID("12345678-9abc-def0-0123-456789abcdef")
_GUID_LE = bytes.fromhex("78563412bc9af0de0123456789abcdef")


def _enc(writeFunction, *args):
    w = Writer()
    writeFunction(w, *args)
    return w.getvalue()


def _encValue(propType, value):
    return _enc(writePropertyValue, propType, value)


def _u16(v):
    return struct.pack("<H", v)


def _u32(v):
    return struct.pack("<I", v)


def _utf16z(s):
    return s.encode("utf-16-le") + b"\x00\x00"


# (type, value, wire bytes) for every single-valued type.
_SINGLE = [
    (ox.PtypNull, None, b""),
    (ox.PtypInteger16, 0x1234, b"\x34\x12"),
    (ox.PtypInteger32, 0xDEADBEEF, b"\xef\xbe\xad\xde"),
    (ox.PtypFloating32, 1.5, struct.pack("<f", 1.5)),
    (ox.PtypFloating64, -2.25, struct.pack("<d", -2.25)),
    (ox.PtypCurrency, -12345678, struct.pack("<q", -12345678)),
    (ox.PtypFloatingTime, 45000.5, struct.pack("<d", 45000.5)),
    (ox.PtypErrorCode, 0x8004010F, b"\x0f\x01\x04\x80"),
    (ox.PtypBoolean, True, b"\x01"),
    (ox.PtypBoolean, False, b"\x00"),
    (ox.PtypObject, b"\x01\x02", b"\x02\x00\x01\x02"),
    (ox.PtypInteger64, 0x0102030405060708, bytes.fromhex("0807060504030201")),
    (ox.PtypString8, "ab\xe9", b"ab\xe9\x00"),
    (ox.PtypString, "A\u20ac", b"A\x00\xac\x20\x00\x00"),
    (ox.PtypTime, 0x01D0000000000000, struct.pack("<Q", 0x01D0000000000000)),
    (ox.PtypGuid, _GUID, _GUID_LE),
    (ox.PtypServerId, b"\x01" + b"\x00" * 20, b"\x15\x00\x01" + b"\x00" * 20),
    (ox.PtypBinary, b"", b"\x00\x00"),
    (ox.PtypBinary, b"xyz", b"\x03\x00xyz"),
    (
        ox.PtypUnspecified,
        TypedPropertyValue(ox.PtypInteger32, 7),
        b"\x03\x00\x07\x00\x00\x00",
    ),
    (ox.PtypRestriction, ExistRestriction(0x0037001F), b"\x08\x1f\x00\x37\x00"),
    (
        ox.PtypRuleAction,
        RuleActions([ActionBlock(ox.OP_DELETE, 0, 0, b"")]),
        b"\x01\x00" + b"\x09\x00" + b"\x0a" + b"\x00" * 8,
    ),
]

# (type, value, wire bytes) for every multi-valued type.
_MULTI = [
    (ox.PtypMultipleInteger16, [1, 0xFFFF], _u32(2) + b"\x01\x00\xff\xff"),
    (ox.PtypMultipleInteger32, [7], _u32(1) + _u32(7)),
    (ox.PtypMultipleFloating32, [0.5, 2.0], _u32(2) + struct.pack("<ff", 0.5, 2.0)),
    (ox.PtypMultipleFloating64, [0.25], _u32(1) + struct.pack("<d", 0.25)),
    (ox.PtypMultipleCurrency, [-1, 2], _u32(2) + struct.pack("<qq", -1, 2)),
    (ox.PtypMultipleFloatingTime, [1.0], _u32(1) + struct.pack("<d", 1.0)),
    (ox.PtypMultipleInteger64, [1 << 63], _u32(1) + struct.pack("<Q", 1 << 63)),
    (ox.PtypMultipleString8, ["a", ""], _u32(2) + b"a\x00\x00"),
    (ox.PtypMultipleString, ["hi", "x"], _u32(2) + _utf16z("hi") + _utf16z("x")),
    (ox.PtypMultipleTime, [5, 6], _u32(2) + struct.pack("<QQ", 5, 6)),
    (ox.PtypMultipleGuid, [_GUID], _u32(1) + _GUID_LE),
    (ox.PtypMultipleBinary, [b"ab", b""], _u32(2) + b"\x02\x00ab\x00\x00"),
    (ox.PtypMultipleInteger32, [], _u32(0)),
]


class TagTests(SynchronousTestCase):
    """
    Tests for the PropertyTag helpers ([MS-OXCDATA] 2.9).
    """

    def test_splitAndMake(self):
        """
        A tag holds the type in its low and the id in its high 16 bits.
        """
        self.assertEqual(propertyType(0x0037001F), 0x001F)
        self.assertEqual(propertyId(0x0037001F), 0x0037)
        self.assertEqual(makeTag(0x0037, 0x001F), 0x0037001F)

    def test_typeNames(self):
        """
        Property types are named after MS-OXCDATA; MultipleInstance and
        unknown types are spelled out.
        """
        self.assertEqual(propertyTypeName(0x001F), "PtypString")
        self.assertEqual(propertyTypeName(0x1102), "PtypMultipleBinary")
        self.assertEqual(
            propertyTypeName(0x301F), "PtypMultipleString|MultipleInstance"
        )
        self.assertEqual(propertyTypeName(0x0099), "Ptyp0x0099")


class PropertyValueTests(SynchronousTestCase):
    """
    Tests for L{readPropertyValue} and L{writePropertyValue}.
    """

    def _check(self, cases):
        for propType, value, wire in cases:
            self.assertEqual(
                _encValue(propType, value), wire, propertyTypeName(propType)
            )
            r = Reader(wire + b"\xee")
            self.assertEqual(
                readPropertyValue(r, propType), value, propertyTypeName(propType)
            )
            self.assertEqual(r.remaining, 1, propertyTypeName(propType))

    def test_singleValued(self):
        """
        Every single-valued type has its MS-OXCDATA 2.11.1 wire form.
        """
        self._check(_SINGLE)

    def test_multiValued(self):
        """
        Every multi-valued type is a u32 count then the items; binary items
        are u16 length-prefixed.
        """
        self._check(_MULTI)

    def test_multipleInstance(self):
        """
        A MultipleInstance column type reads one value of the single-valued
        type.
        """
        self.assertEqual(readPropertyValue(Reader(b"h\x00\x00\x00"), 0x301F), "h")
        self.assertEqual(_encValue(0x3003, 9), _u32(9))

    def test_truncated(self):
        """
        Each type refuses a cut-off value with L{RopError}.
        """
        for propType, value, wire in _SINGLE + _MULTI:
            if wire:
                self.assertRaises(
                    RopError, readPropertyValue, Reader(wire[:-1]), propType
                )

    def test_unknownType(self):
        """
        An unknown property type raises L{RopError} both ways.
        """
        self.assertRaises(RopError, readPropertyValue, Reader(b"\x00" * 8), 0x0099)
        self.assertRaises(RopError, _encValue, 0x0099, 1)

    def test_hugeCount(self):
        """
        A multi-valued count larger than the bytes left is refused before
        reading.
        """
        self.assertRaises(
            RopError, readPropertyValue, Reader(b"\xff\xff\xff\xff\x00"), 0x101F
        )

    def test_oddBoolean(self):
        """
        A Boolean byte other than 0 or 1 is kept as an int and re-encoded as
        is.
        """
        value = readPropertyValue(Reader(b"\x07"), ox.PtypBoolean)
        self.assertEqual(value, 7)
        self.assertTrue(value)
        self.assertEqual(_encValue(ox.PtypBoolean, value), b"\x07")

    def test_float32NaNBits(self):
        """
        A signalling Floating32 NaN keeps its exact bits.
        """
        wire = b"\x01\x00\x80\x7f"
        value = readPropertyValue(Reader(wire), ox.PtypFloating32)
        self.assertIsInstance(value, Float32NaN)
        self.assertTrue(math.isnan(value))
        self.assertEqual(_encValue(ox.PtypFloating32, value), wire)

    def test_negativeIntegers(self):
        """
        Integer writers accept negative values in the signed range.
        """
        self.assertEqual(_encValue(ox.PtypInteger32, -1), b"\xff\xff\xff\xff")
        self.assertEqual(_encValue(ox.PtypInteger16, -2), b"\xfe\xff")
        self.assertEqual(
            _encValue(ox.PtypMultipleInteger16, [-1]), _u32(1) + b"\xff\xff"
        )
        self.assertRaises(RopError, _encValue, ox.PtypInteger32, 1 << 32)
        self.assertRaises(RopError, _encValue, ox.PtypInteger32, -(1 << 31) - 1)

    def test_badValues(self):
        """
        Values of the wrong Python type raise L{RopError}.
        """
        self.assertRaises(RopError, _encValue, ox.PtypInteger32, "x")
        self.assertRaises(RopError, _encValue, ox.PtypString, 5)
        self.assertRaises(RopError, _encValue, ox.PtypBinary, b"x" * 0x10000)
        self.assertRaises(RopError, _encValue, ox.PtypNull, 1)
        self.assertRaises(RopError, _encValue, ox.PtypUnspecified, 1)
        self.assertRaises(RopError, _encValue, ox.PtypMultipleBinary, [1])


class WrappedValueTests(SynchronousTestCase):
    """
    Tests for L{TaggedPropertyValue}, L{TypedPropertyValue},
    L{FlaggedPropertyValue}, L{FlaggedPropertyValueWithType} and
    L{TypedString}.
    """

    def test_tagged(self):
        """
        A TaggedPropertyValue is the u32 tag then the value of its type.
        """
        wire = b"\x1f\x00\x37\x00" + _utf16z("Hi")
        v = TaggedPropertyValue.read(Reader(wire))
        self.assertEqual(v, TaggedPropertyValue(0x0037001F, "Hi"))
        self.assertEqual(v.propertyType, 0x1F)
        self.assertEqual(_enc(lambda w: v.write(w)), wire)

    def test_typed(self):
        """
        A TypedPropertyValue is the u16 type then the value; the type
        cannot be PtypUnspecified.
        """
        wire = b"\x02\x01\x02\x00ab"
        v = TypedPropertyValue.read(Reader(wire))
        self.assertEqual(v, TypedPropertyValue(0x0102, b"ab"))
        self.assertEqual(_enc(lambda w: v.write(w)), wire)
        self.assertRaises(RopError, TypedPropertyValue.read, Reader(b"\x00\x00"))
        self.assertRaises(RopError, _enc, lambda w: TypedPropertyValue(0, 1).write(w))

    def test_flagged(self):
        """
        Flag 0 carries the value, 1 nothing and 0xA a u32 error code; any
        other flag is refused.
        """
        cases = [
            (FlaggedPropertyValue(0, 5), b"\x00\x05\x00\x00\x00"),
            (FlaggedPropertyValue(1, None), b"\x01"),
            (FlaggedPropertyValue(0x0A, 0x8004010F), b"\x0a\x0f\x01\x04\x80"),
        ]
        for value, wire in cases:
            self.assertEqual(
                FlaggedPropertyValue.read(Reader(wire), ox.PtypInteger32), value
            )
            self.assertEqual(_enc(lambda w: value.write(w, ox.PtypInteger32)), wire)
        self.assertRaises(RopError, FlaggedPropertyValue.read, Reader(b"\x02\x00"), 3)
        self.assertRaises(
            RopError, _enc, lambda w: FlaggedPropertyValue(2, 0).write(w, 3)
        )

    def test_flaggedWithType(self):
        """
        A FlaggedPropertyValueWithType is a u16 type, the flag and the value.
        """
        wire = b"\x1e\x00\x00ab\x00"
        v = FlaggedPropertyValueWithType.read(Reader(wire))
        self.assertEqual(v, FlaggedPropertyValueWithType(0x1E, 0, "ab"))
        self.assertEqual(_enc(lambda w: v.write(w)), wire)
        wire = b"\x03\x00\x0a\x05\x00\x00\x00"
        self.assertEqual(
            FlaggedPropertyValueWithType.read(Reader(wire)),
            FlaggedPropertyValueWithType(3, 0x0A, 5),
        )

    def test_typedString(self):
        """
        TypedString types 0 to 4 ([MS-OXCROPS] 2.2.6.1.2) and a bad type.
        """
        cases = [
            (TypedString(0, None), b"\x00"),
            (TypedString(1, ""), b"\x01"),
            (TypedString(2, "RE: "), b"\x02RE: \x00"),
            (TypedString(3, "FW: "), b"\x03FW: \x00"),
            (TypedString(4, "Hi"), b"\x04" + _utf16z("Hi")),
        ]
        for value, wire in cases:
            self.assertEqual(TypedString.read(Reader(wire)), value)
            self.assertEqual(_enc(lambda w: value.write(w)), wire)
        self.assertRaises(RopError, TypedString.read, Reader(b"\x05"))
        self.assertRaises(RopError, _enc, lambda w: TypedString(9, "").write(w))


_COLUMNS = [0x0037001F, 0x0E080003, 0x00000000, 0x3001001E]


class RowTests(SynchronousTestCase):
    """
    Tests for L{PropertyRow}, L{PropertyRowSet}, L{PropertyTagArray} and
    L{PropertyProblem}.
    """

    STANDARD = b"\x00" + _utf16z("S") + _u32(42) + b"\x0b\x00\x01" + b"n\x00"
    FLAGGED = (
        b"\x01"
        + b"\x00"
        + _utf16z("S")
        + b"\x0a"
        + _u32(0x8004010F)
        + b"\x14\x00\x01"
        + b"\x00n\x00"
    )

    def test_standardRow(self):
        """
        A StandardPropertyRow holds the values in column order; a
        PtypUnspecified column holds a TypedPropertyValue.
        """
        row = PropertyRow.read(Reader(self.STANDARD), _COLUMNS)
        self.assertEqual(
            row, PropertyRow(0, ["S", 42, TypedPropertyValue(0x0B, True), "n"])
        )
        self.assertEqual(_enc(lambda w: row.write(w, _COLUMNS)), self.STANDARD)

    def test_flaggedRow(self):
        """
        A FlaggedPropertyRow holds FlaggedPropertyValues; a PtypUnspecified
        column holds a FlaggedPropertyValueWithType.
        """
        row = PropertyRow.read(Reader(self.FLAGGED), _COLUMNS)
        self.assertEqual(
            row,
            PropertyRow(
                1,
                [
                    FlaggedPropertyValue(0, "S"),
                    FlaggedPropertyValue(0x0A, 0x8004010F),
                    FlaggedPropertyValueWithType(0x14, 1, None),
                    FlaggedPropertyValue(0, "n"),
                ],
            ),
        )
        self.assertEqual(_enc(lambda w: row.write(w, _COLUMNS)), self.FLAGGED)

    def test_fixedSizeRow(self):
        """
        A row of fixed-size columns only decodes like any other.
        """
        columns = [0x67480014, 0x0E070003, 0x30070040, 0x10000002]
        wire = b"\x00" + struct.pack("<QIQH", 1 << 60, 9, 77, 3)
        row = PropertyRow.read(Reader(wire), columns)
        self.assertEqual(row, PropertyRow(0, [1 << 60, 9, 77, 3]))
        self.assertEqual(_enc(lambda w: row.write(w, columns)), wire)
        self.assertRaises(RopError, PropertyRow.read, Reader(wire[:-1]), columns)

    def test_badRows(self):
        """
        An unknown row flag, or as many values as columns missing, raises
        L{RopError}.
        """
        self.assertRaises(RopError, PropertyRow.read, Reader(b"\x02"), _COLUMNS)
        self.assertRaises(
            RopError, _enc, lambda w: PropertyRow(0, [1]).write(w, _COLUMNS)
        )
        self.assertRaises(RopError, _enc, lambda w: PropertyRow(3, []).write(w, []))

    def test_rowSet(self):
        """
        A PropertyRowSet is a u16 count then the rows.
        """
        wire = b"\x02\x00" + self.STANDARD + self.FLAGGED
        rows = PropertyRowSet.read(Reader(wire), _COLUMNS)
        self.assertEqual([row.flag for row in rows.rows], [0, 1])
        self.assertEqual(_enc(lambda w: rows.write(w, _COLUMNS)), wire)
        self.assertRaises(
            RopError, PropertyRowSet.read, Reader(b"\xff\xff\x00"), _COLUMNS
        )

    def test_tagArray(self):
        """
        A PropertyTagArray is a u16 count then u32 tags.
        """
        wire = b"\x02\x00" + _u32(0x0037001F) + _u32(0x0E080003)
        self.assertEqual(PropertyTagArray.read(Reader(wire)), [0x0037001F, 0x0E080003])
        self.assertEqual(_enc(PropertyTagArray.write, [0x0037001F, 0x0E080003]), wire)

    def test_problems(self):
        """
        A PropertyProblem is Index u16, PropertyTag u32, ErrorCode u32.
        """
        wire = b"\x01\x00" + b"\x03\x00" + _u32(0x0037001F) + _u32(0x80040102)
        problems = PropertyProblemArray.read(Reader(wire))
        self.assertEqual(problems, [PropertyProblem(3, 0x0037001F, 0x80040102)])
        self.assertEqual(_enc(PropertyProblemArray.write, problems), wire)


class NameAndIdTests(SynchronousTestCase):
    """
    Tests for L{PropertyName}, L{LongTermId}, FolderID/MessageID helpers and
    EntryIDs.
    """

    def test_nameById(self):
        """
        Kind 0: the GUID then a u32 LID.
        """
        wire = b"\x00" + _GUID_LE + _u32(0x8233)
        name = PropertyName.read(Reader(wire))
        self.assertEqual(name, PropertyName(0, _GUID, lid=0x8233))
        self.assertEqual(_enc(lambda w: name.write(w)), wire)

    def test_nameByString(self):
        """
        Kind 1: the GUID, NameSize u8 (bytes, terminator included) and the
        UTF-16LE name.
        """
        wire = b"\x01" + _GUID_LE + b"\x06" + _utf16z("ab")
        name = PropertyName.read(Reader(wire))
        self.assertEqual(name, PropertyName(1, _GUID, name="ab"))
        self.assertEqual(_enc(lambda w: name.write(w)), wire)

    def test_nameUnterminated(self):
        """
        A name without its terminator is kept exact.
        """
        wire = b"\x01" + _GUID_LE + b"\x02" + b"a\x00"
        name = PropertyName.read(Reader(wire))
        self.assertEqual((name.name, name.terminated), ("a", False))
        self.assertEqual(_enc(lambda w: name.write(w)), wire)

    def test_nameNone(self):
        """
        Kind 0xFF: only the GUID.
        """
        wire = b"\xff" + _GUID_LE
        name = PropertyName.read(Reader(wire))
        self.assertEqual(name, PropertyName(0xFF, _GUID))
        self.assertEqual(_enc(lambda w: name.write(w)), wire)

    def test_badNames(self):
        """
        An unknown Kind, an odd NameSize or an overlong name raises
        L{RopError}.
        """
        self.assertRaises(RopError, PropertyName.read, Reader(b"\x02" + _GUID_LE))
        self.assertRaises(
            RopError, PropertyName.read, Reader(b"\x01" + _GUID_LE + b"\x03abc")
        )
        self.assertRaises(
            RopError, _enc, lambda w: PropertyName(1, _GUID, name="x" * 200).write(w)
        )

    def test_longTermId(self):
        """
        A LongTermID is the GUID, a big-endian 48-bit GlobalCounter and a
        u16 Pad.
        """
        wire = _GUID_LE + bytes.fromhex("000000001234") + b"\x00\x00"
        ltid = LongTermId.read(Reader(wire))
        self.assertEqual(ltid, LongTermId(_GUID, 0x1234, 0))
        self.assertEqual(_enc(lambda w: ltid.write(w)), wire)
        self.assertRaises(RopError, _enc, lambda w: LongTermId(_GUID, 1 << 48).write(w))

    def test_splitId(self):
        """
        A FolderID is a little-endian ReplicaId then a big-endian
        GlobalCounter.
        """
        wire = bytes.fromhex("0100" "000000001234")
        value = struct.unpack("<Q", wire)[0]
        self.assertEqual(splitId(value), (1, 0x1234))
        self.assertEqual(makeId(1, 0x1234), value)

    def test_folderEntryId(self):
        """
        A folder EntryID is 46 bytes and round-trips.
        """
        eid = FolderEntryId(0, b"p" * 16, 1, _GUID, 0x99, 0)
        raw = eid.toBytes()
        self.assertEqual(len(raw), 46)
        self.assertEqual(raw[22:38], _GUID_LE)
        self.assertEqual(raw[38:44], bytes.fromhex("000000000099"))
        self.assertEqual(FolderEntryId.fromBytes(raw), eid)
        self.assertRaises(RopError, FolderEntryId.fromBytes, raw[:-1])

    def test_messageEntryId(self):
        """
        A message EntryID is 70 bytes and round-trips.
        """
        eid = MessageEntryId(0, b"p" * 16, 7, _GUID, 1, 0, _GUID, 2, 0)
        raw = eid.toBytes()
        self.assertEqual(len(raw), 70)
        self.assertEqual(MessageEntryId.fromBytes(raw), eid)
        self.assertRaises(RopError, MessageEntryId.fromBytes, raw + b"x")

    def test_filetime(self):
        """
        PtypTime values convert to and from UTC datetimes.
        """
        dt = datetime.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=datetime.timezone.utc)
        # 2024-01-02T03:04:05.000006Z, computed from the Unix epoch offset.
        expected = (int(dt.timestamp()) + 11644473600) * 10_000_000 + 60
        self.assertEqual(datetimeToFiletime(dt), expected)
        self.assertEqual(filetimeToDatetime(expected), dt)


def _restrictionCases():
    tagged = TaggedPropertyValue(0x0037001F, "a")
    taggedWire = _u32(0x0037001F) + _utf16z("a")
    exist = ExistRestriction(0x0E080003)
    existWire = b"\x08" + _u32(0x0E080003)
    return [
        (AndRestriction([exist, exist]), b"\x00\x02\x00" + existWire * 2),
        (OrRestriction([]), b"\x01\x00\x00"),
        (NotRestriction(exist), b"\x02" + existWire),
        (
            ContentRestriction(0x0001, 0x0001, 0x0037001F, tagged),
            b"\x03\x01\x00\x01\x00" + _u32(0x0037001F) + taggedWire,
        ),
        (
            PropertyRestriction(4, 0x0037001F, tagged),
            b"\x04\x04" + _u32(0x0037001F) + taggedWire,
        ),
        (
            ComparePropertiesRestriction(1, 0x0E080003, 0x0E070003),
            b"\x05\x01" + _u32(0x0E080003) + _u32(0x0E070003),
        ),
        (
            BitMaskRestriction(1, 0x0E070003, 0x4),
            b"\x06\x01" + _u32(0x0E070003) + _u32(4),
        ),
        (
            SizeRestriction(2, 0x0E080003, 100),
            b"\x07\x02" + _u32(0x0E080003) + _u32(100),
        ),
        (exist, existWire),
        (
            SubObjectRestriction(0x0E12000D, exist),
            b"\x09" + _u32(0x0E12000D) + existWire,
        ),
        (
            CommentRestriction([tagged], exist),
            b"\x0a\x01" + taggedWire + b"\x01" + existWire,
        ),
        (CommentRestriction([], None), b"\x0a\x00\x00"),
        (CountRestriction(10, exist), b"\x0b" + _u32(10) + existWire),
    ]


class RestrictionTests(SynchronousTestCase):
    """
    Tests for the restriction classes ([MS-OXCDATA] 2.12).
    """

    def test_everyType(self):
        """
        Each of the twelve restriction types has its MS-OXCDATA wire form.
        """
        for restriction, wire in _restrictionCases():
            name = type(restriction).__name__
            self.assertEqual(readRestriction(Reader(wire)), restriction, name)
            self.assertEqual(_enc(writeRestriction, restriction), wire, name)

    def test_extendedCounts(self):
        """
        With C{countSize=4} (extended rules) And/Or counts are u32.
        """
        wire = b"\x00" + _u32(1) + b"\x01" + _u32(0)
        value = AndRestriction([OrRestriction([])])
        self.assertEqual(readRestriction(Reader(wire), 4), value)
        self.assertEqual(_enc(writeRestriction, value, 4), wire)

    def test_commentPresentByte(self):
        """
        A RestrictionPresent byte other than 1 is kept.
        """
        wire = b"\x0a\x00\x05\x08" + _u32(1)
        value = readRestriction(Reader(wire))
        self.assertEqual(value.restrictionPresent, 5)
        self.assertEqual(_enc(writeRestriction, value), wire)

    def test_asPropertyValue(self):
        """
        A PtypRestriction value nests a restriction.
        """
        wire = b"\x02\x08" + _u32(7)
        self.assertEqual(
            readPropertyValue(Reader(wire), ox.PtypRestriction),
            NotRestriction(ExistRestriction(7)),
        )

    def test_errors(self):
        """
        A bad RestrictType, nesting past the limit or a non-restriction
        raises L{RopError}.
        """
        self.assertRaises(RopError, readRestriction, Reader(b"\x0c"))
        self.assertRaises(RopError, readRestriction, Reader(b"\x02" * 10000))
        self.assertRaises(RopError, readRestriction, Reader(b"\x00\xff\xff"))
        self.assertRaises(RopError, _enc, writeRestriction, "x")
        # PtypRestriction values nested inside property restrictions.
        nested = (b"\x04\x00" + _u32(0x000100FD) * 2) * 2000 + b"\x08" + _u32(1)
        e = self.assertRaises(RopError, readRestriction, Reader(nested))
        self.assertIn("deep", str(e))
        e = self.assertRaises(RopError, readRestriction, Reader(b"\x02" * 10000))
        self.assertIn("deep", str(e))


class SortOrderTests(SynchronousTestCase):
    """
    Tests for L{SortOrder} and L{SortOrderSet} ([MS-OXCDATA] 2.13).
    """

    def test_sortOrderSet(self):
        """
        SortOrderCount, CategorizedCount and ExpandedCount (u16 each), then
        the SortOrders (type u16, id u16, order u8).
        """
        wire = (
            b"\x02\x00\x01\x00\x01\x00"
            + b"\x1f\x00\x37\x00\x00"
            + b"\x40\x00\x06\x0e\x01"
        )
        value = SortOrderSet(
            [SortOrder(0x1F, 0x37, 0), SortOrder(0x40, 0x0E06, 1)], 1, 1
        )
        self.assertEqual(SortOrderSet.read(Reader(wire)), value)
        self.assertEqual(_enc(lambda w: value.write(w)), wire)
        self.assertEqual(value.sortOrders[1].tag, 0x0E060040)

    def test_truncated(self):
        """
        A SortOrderCount larger than the data raises L{RopError}.
        """
        self.assertRaises(
            RopError, SortOrderSet.read, Reader(b"\x05\x00\x00\x00\x00\x00abcde")
        )


_RECIPIENT_COLUMNS = [0x0C150003, 0x3A40000B, 0x5FF6001F]


class RecipientRowTests(SynchronousTestCase):
    """
    Tests for L{RecipientRow} ([MS-OXCDATA] 2.8.3).
    """

    def _roundTrip(self, wire, expected, columns=_RECIPIENT_COLUMNS):
        row = RecipientRow.read(Reader(wire), columns)
        self.assertEqual(row, expected)
        self.assertEqual(_enc(lambda w: row.write(w, columns)), wire)

    def test_x500dn(self):
        """
        Type X500DN carries AddressPrefixUsed, DisplayType and the X500DN;
        the U bit makes the other strings UTF-16.
        """
        flags = 0x0001 | 0x0010 | 0x0008 | 0x0200 | 0x0400 | 0x0020
        wire = (
            _u16(flags)
            + b"\x05\x00/o=x\x00"
            + _utf16z("e@x")
            + _utf16z("Dn")
            + _utf16z("Sn")
            + _utf16z("Tn")
            + b"\x02\x00"
            + b"\x00"
            + _u32(1)
            + b"\x01"
        )
        self._roundTrip(
            wire,
            RecipientRow(
                flags,
                addressPrefixUsed=5,
                displayType=0,
                x500dn="/o=x",
                emailAddress="e@x",
                displayName="Dn",
                simpleDisplayName="Sn",
                transmittableDisplayName="Tn",
                recipientColumnCount=2,
                recipientProperties=PropertyRow(0, [1, True]),
            ),
        )

    def test_distributionList(self):
        """
        Personal distribution list types carry EntryId and SearchKey with
        u16 sizes.
        """
        flags = 0x0006 | 0x0010
        wire = (
            _u16(flags)
            + b"\x02\x00ab"
            + b"\x01\x00k"
            + b"D\x00"
            + b"\x00\x00"
            + b"\x00"
        )
        self._roundTrip(
            wire,
            RecipientRow(
                flags,
                entryId=b"ab",
                searchKey=b"k",
                displayName="D",
                recipientColumnCount=0,
                recipientProperties=PropertyRow(0, []),
            ),
        )

    def test_addressType(self):
        """
        NoType with the O bit carries an 8-bit AddressType; without U the
        strings are 8-bit.
        """
        flags = 0x8000 | 0x0008
        wire = (
            _u16(flags)
            + b"SMTP\x00"
            + b"a@b\x00"
            + b"\x02\x00"
            + (b"\x01" + b"\x00" + _u32(2) + b"\x01")
        )
        self._roundTrip(
            wire,
            RecipientRow(
                flags,
                addressType="SMTP",
                emailAddress="a@b",
                recipientColumnCount=2,
                recipientProperties=PropertyRow(
                    1, [FlaggedPropertyValue(0, 2), FlaggedPropertyValue(1, None)]
                ),
            ),
        )

    def test_smtpType(self):
        """
        Other types carry none of the type-specific fields.
        """
        flags = 0x0003
        wire = _u16(flags) + b"\x00\x00\x00"
        self._roundTrip(
            wire,
            RecipientRow(
                flags, recipientColumnCount=0, recipientProperties=PropertyRow(0, [])
            ),
        )
        self.assertEqual(RecipientRow.read(Reader(wire), []).recipientType, 3)

    def test_tooManyColumns(self):
        """
        A RecipientColumnCount beyond the columns raises L{RopError}.
        """
        wire = _u16(0x0003) + b"\x04\x00\x00"
        self.assertRaises(RopError, RecipientRow.read, Reader(wire), _RECIPIENT_COLUMNS)
        row = RecipientRow(
            3, recipientColumnCount=4, recipientProperties=PropertyRow(0, [])
        )
        self.assertRaises(RopError, _enc, lambda w: row.write(w, _RECIPIENT_COLUMNS))


class RuleActionTests(SynchronousTestCase):
    """
    Tests for L{RuleActions} and L{ActionBlock} ([MS-OXORULE] 2.2.5).
    """

    def test_actions(self):
        """
        NoOfActions, then blocks of ActionLength (the size of what follows),
        ActionType, ActionFlavor, ActionFlags and ActionData.
        """
        tag = _u32(0x10800003) + _u32(6)
        wire = (
            b"\x02\x00"
            + _u16(9 + len(tag))
            + b"\x09"
            + _u32(0)
            + _u32(0)
            + tag
            + _u16(13)
            + b"\x06"
            + _u32(0)
            + _u32(0)
            + _u32(0x26)
        )
        value = RuleActions.read(Reader(wire))
        self.assertEqual(
            value,
            RuleActions(
                [
                    ActionBlock(ox.OP_TAG, 0, 0, tag),
                    ActionBlock(ox.OP_BOUNCE, 0, 0, _u32(0x26)),
                ]
            ),
        )
        self.assertEqual(_enc(lambda w: value.write(w)), wire)
        self.assertEqual(
            value.actions[0].parsedData(), TaggedPropertyValue(0x10800003, 6)
        )
        self.assertEqual(value.actions[1].parsedData(), 0x26)
        self.assertIsNone(ActionBlock(ox.OP_DELETE).parsedData())
        self.assertEqual(
            ActionBlock(ox.OP_DEFER_ACTION, actionData=b"xy").parsedData(), b"xy"
        )
        self.assertEqual(ActionBlock(0x42, actionData=b"z").parsedData(), b"z")

    def test_moveCopyData(self):
        """
        OP_MOVE/OP_COPY data: FolderInThisStore, then the store and folder
        EntryIDs with u16 sizes.
        """
        data = b"\x01" + b"\x00\x00" + b"\x03\x00fid"
        value = ActionBlock(ox.OP_COPY, actionData=data).parsedData()
        self.assertEqual(value, ox.MoveCopyActionData(1, b"", b"fid"))
        self.assertEqual(_enc(lambda w: value.write(w)), data)
        bad = ActionBlock(ox.OP_MOVE, actionData=b"xy")
        self.assertRaises(RopError, bad.parsedData)

    def test_replyData(self):
        """
        OP_REPLY data: template FID u64, MID u64 and GUID.
        """
        data = struct.pack("<QQ", 1, 2) + _GUID_LE
        value = ActionBlock(ox.OP_REPLY, actionData=data).parsedData()
        self.assertEqual(value, ox.ReplyActionData(1, 2, _GUID))
        self.assertEqual(_enc(lambda w: value.write(w)), data)
        self.assertRaises(
            RopError, ActionBlock(ox.OP_OOF_REPLY, actionData=data + b"!").parsedData
        )

    def test_forwardData(self):
        """
        OP_FORWARD data: RecipientCount u16, then blocks of Reserved u8,
        NoOfProperties u32 and TaggedPropertyValues.
        """
        data = b"\x01\x00" + b"\x01" + _u32(1) + _u32(0x3001001F) + _utf16z("Bob")
        value = ActionBlock(ox.OP_FORWARD, actionData=data).parsedData()
        self.assertEqual(
            value,
            ox.ForwardDelegateActionData(
                [ox.RecipientBlock(1, [TaggedPropertyValue(0x3001001F, "Bob")])]
            ),
        )
        self.assertEqual(_enc(lambda w: value.write(w)), data)

    def test_extended(self):
        """
        Extended rules use u32 counts and lengths.
        """
        wire = _u32(1) + _u32(9) + b"\x0b" + _u32(0) + _u32(0)
        value = RuleActions.read(Reader(wire), 4)
        self.assertEqual(value, RuleActions([ActionBlock(ox.OP_MARK_AS_READ)]))
        self.assertEqual(_enc(lambda w: value.write(w, 4)), wire)

    def test_shortLength(self):
        """
        An ActionLength below 9 or past the data raises L{RopError}.
        """
        self.assertRaises(
            RopError, RuleActions.read, Reader(b"\x01\x00\x08\x00" + b"\x00" * 8)
        )
        self.assertRaises(
            RopError, RuleActions.read, Reader(b"\x01\x00\x20\x00" + b"\x00" * 9)
        )


# Hypothesis strategies of values per property type.
_u16s = st.integers(0, 0xFFFF)
_u32s = st.integers(0, 0xFFFFFFFF)
_u64s = st.integers(0, (1 << 64) - 1)
_i64s = st.integers(-(1 << 63), (1 << 63) - 1)
_f32s = st.floats(width=32, allow_nan=False)
_f64s = st.floats(allow_nan=False)
_str8 = st.text(st.characters(min_codepoint=1, max_codepoint=255), max_size=20)
_strW = st.text(st.characters(min_codepoint=1, exclude_categories=["Cs"]), max_size=20)
_bins = st.binary(max_size=40)

_VALUE_STRATEGIES = {
    ox.PtypInteger16: _u16s,
    ox.PtypInteger32: _u32s,
    ox.PtypFloating32: _f32s,
    ox.PtypFloating64: _f64s,
    ox.PtypCurrency: _i64s,
    ox.PtypFloatingTime: _f64s,
    ox.PtypErrorCode: _u32s,
    ox.PtypBoolean: st.booleans(),
    ox.PtypObject: _bins,
    ox.PtypInteger64: _u64s,
    ox.PtypString8: _str8,
    ox.PtypString: _strW,
    ox.PtypTime: _u64s,
    ox.PtypGuid: st.uuids(),
    ox.PtypServerId: _bins,
    ox.PtypBinary: _bins,
    ox.PtypMultipleInteger16: st.lists(_u16s, max_size=5),
    ox.PtypMultipleInteger32: st.lists(_u32s, max_size=5),
    ox.PtypMultipleFloating32: st.lists(_f32s, max_size=5),
    ox.PtypMultipleFloating64: st.lists(_f64s, max_size=5),
    ox.PtypMultipleCurrency: st.lists(_i64s, max_size=5),
    ox.PtypMultipleFloatingTime: st.lists(_f64s, max_size=5),
    ox.PtypMultipleInteger64: st.lists(_u64s, max_size=5),
    ox.PtypMultipleString8: st.lists(_str8, max_size=5),
    ox.PtypMultipleString: st.lists(_strW, max_size=5),
    ox.PtypMultipleTime: st.lists(_u64s, max_size=5),
    ox.PtypMultipleGuid: st.lists(st.uuids(), max_size=5),
    ox.PtypMultipleBinary: st.lists(_bins, max_size=5),
}

_typedValues = st.sampled_from(sorted(_VALUE_STRATEGIES)).flatmap(
    lambda t: st.tuples(st.just(t), _VALUE_STRATEGIES[t])
)

_tags = (
    st.sampled_from(sorted(_VALUE_STRATEGIES))
    .flatmap(
        lambda t: st.tuples(st.integers(1, 0xFFFF), st.just(t), _VALUE_STRATEGIES[t])
    )
    .map(lambda x: TaggedPropertyValue(makeTag(x[0], x[1]), x[2]))
)

_leaves = st.one_of(
    st.builds(ExistRestriction, _u32s),
    st.builds(SizeRestriction, st.integers(0, 6), _u32s, _u32s),
    st.builds(BitMaskRestriction, st.integers(0, 1), _u32s, _u32s),
    st.builds(ComparePropertiesRestriction, st.integers(0, 6), _u32s, _u32s),
    st.builds(
        lambda v, op: PropertyRestriction(op, v.tag, v), _tags, st.integers(0, 6)
    ),
    st.builds(
        lambda v, lo, hi: ContentRestriction(lo, hi, v.tag, v), _tags, _u16s, _u16s
    ),
)
_restrictions = st.recursive(
    _leaves,
    lambda children: st.one_of(
        st.builds(AndRestriction, st.lists(children, max_size=3)),
        st.builds(OrRestriction, st.lists(children, max_size=3)),
        st.builds(NotRestriction, children),
        st.builds(SubObjectRestriction, _u32s, children),
        st.builds(CountRestriction, _u32s, children),
        st.builds(
            CommentRestriction,
            st.lists(_tags, max_size=2),
            st.one_of(st.none(), children),
        ),
    ),
    max_leaves=8,
)


def _allTypes():
    return sorted(set(ox._READERS))


class PropertyTests(SynchronousTestCase):
    """
    Property tests: generated values round-trip; arbitrary bytes raise only
    L{RopError}.
    """

    @_FAST
    @given(_typedValues)
    def test_valueRoundTrip(self, typed):
        """
        Every generated value of every type survives a write and a read.
        """
        propType, value = typed
        wire = _encValue(propType, value)
        r = Reader(wire)
        self.assertEqual(readPropertyValue(r, propType), value)
        self.assertTrue(r.atEnd())

    @_FAST
    @given(_restrictions, st.sampled_from([2, 4]))
    def test_restrictionRoundTrip(self, restriction, countSize):
        """
        Generated restrictions survive a write and a read.
        """
        wire = _enc(writeRestriction, restriction, countSize)
        r = Reader(wire)
        self.assertEqual(readRestriction(r, countSize), restriction)
        self.assertTrue(r.atEnd())

    @_FAST
    @given(st.binary(max_size=64), st.sampled_from(_allTypes() + [0x0099, 0x301F]))
    def test_randomValueBytes(self, data, propType):
        """
        Reading a value of any type from arbitrary bytes either raises
        L{RopError} or re-encodes to exactly the bytes consumed.
        """
        r = Reader(data)
        try:
            value = readPropertyValue(r, propType)
        except RopError:
            return
        self.assertEqual(_encValue(propType, value), data[: r.offset])

    @_FAST
    @given(
        st.binary(max_size=64),
        st.sampled_from(
            [
                "restriction",
                "restriction4",
                "row",
                "recipient",
                "name",
                "sort",
                "actions",
                "typedString",
            ]
        ),
    )
    def test_randomStructureBytes(self, data, kind):
        """
        Reading any structure from arbitrary bytes either raises L{RopError}
        or re-encodes to exactly the bytes consumed.
        """
        columns = [0x0037001F, 0x0E080003, 0x00000000, 0x3001001E, 0x0FFF0102]
        readers = {
            "restriction": (
                lambda r: readRestriction(r),
                lambda w, v: writeRestriction(w, v),
            ),
            "restriction4": (
                lambda r: readRestriction(r, 4),
                lambda w, v: writeRestriction(w, v, 4),
            ),
            "row": (
                lambda r: PropertyRow.read(r, columns),
                lambda w, v: v.write(w, columns),
            ),
            "recipient": (
                lambda r: RecipientRow.read(r, columns),
                lambda w, v: v.write(w, columns),
            ),
            "name": (PropertyName.read, lambda w, v: v.write(w)),
            "sort": (SortOrderSet.read, lambda w, v: v.write(w)),
            "actions": (RuleActions.read, lambda w, v: v.write(w)),
            "typedString": (TypedString.read, lambda w, v: v.write(w)),
        }
        read, write = readers[kind]
        r = Reader(data)
        try:
            value = read(r)
        except RopError:
            return
        self.assertEqual(_enc(write, value), data[: r.offset])
