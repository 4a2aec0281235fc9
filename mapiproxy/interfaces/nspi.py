# -*- test-case-name: tests.interfaces.test_nspi -*-
"""
The stub codec of the Exchange address book interface, NSPI
(C{exchange_nsp}, [MS-OXNSPI], UUID C{f5cc5a18-4264-101a-8c59-08002b2f8426}
version 56.0): a request and a response class for each of its 21 opnums,
and L{CODEC}, the L{InterfaceCodec} that dispatches on opnum.

Field names are the IDL parameter names of [MS-OXNSPI] 3.1.4 (appendix A);
every response ends with C{result}, the u32 return value (an NSPI error
code). Parameter directions and pointer kinds follow the IDL, not
impacket: C{NspiGetProps.pStat}, C{NspiGetSpecialTable.pStat} and
C{lpVersion} are top-level C{[ref]} pointers, hence inline;
C{NspiSeekEntries.lpETable} and C{pPropTags} are C{[unique]};
C{NspiGetIDsFromNames.pNames} is a conformant array of C{[unique]}
pointers ([MS-RPCE] 2.2.5 / [C706] 14.3.12 for the pointer rules).

Top-level C{[unique]} parameters are L{None} when NULL. A C{[ref]} to a
C{[unique]} pointer (the C{[out] X **ppX} parameters) is the referent id
followed by the pointee. The types are in L{mapiproxy.interfaces.nspi_types}.

Sans-I/O; no Twisted.
"""

from dataclasses import dataclass, field
from typing import List, Optional

from mapiproxy.errors import NDRError
from mapiproxy.interfaces.base import InterfaceCodec, Operation, Stub
from mapiproxy.interfaces.ndr import ContextHandle, checkRange
from mapiproxy.interfaces.nspi_types import (
    MAX_COUNT,
    STAT,
    BinaryArray_r,
    PropertyName_r,
    PropertyNameSet_r,
    PropertyRow_r,
    PropertyRowSet_r,
    PropertyTagArray_r,
    PropertyValue_r,
    Restriction_r,
    StringsArray_r,
    StringsArrayW_r,
    _conformance,
    _itemReferent,
    _readGuid,
    _referent,
    _writeGuid,
)

__all__ = ["CODEC", "INTERFACE_NAME", "OPERATIONS"]

INTERFACE_NAME = "exchange_nsp"

# Flags ([MS-OXNSPI] 2.2.x).
fAnonymousLogin = 0x00000020
fSkipObjects = 0x00000001
fEphID = 0x00000002
NspiAddressCreationTemplates = 0x00000002
NspiUnicodeStrings = 0x00000004
NspiUnicodeProptypes = 0x80000000
NspiVerifyNames = 0x00000002
fDelete = 0x00000001
TI_TEMPLATE = 0x00000001
TI_SCRIPT = 0x00000004
TI_EMT = 0x00000010
TI_HELPFILE_NAME = 0x00000020
TI_HELPFILE_CONTENTS = 0x00000040


def _wire():
    return field(default_factory=dict, compare=False, repr=False)


# -- parameter kinds ------------------------------------------------------
#
# A kind reads or writes one top-level parameter. ``wire`` is the message's
# memory of referent ids, keyed by parameter name.


class _U32:
    @staticmethod
    def pull(reader, wire, name):
        return reader.u32()

    @staticmethod
    def push(writer, value, wire, name):
        writer.u32(value)


class _I32:
    @staticmethod
    def pull(reader, wire, name):
        return reader.i32()

    @staticmethod
    def push(writer, value, wire, name):
        writer.i32(value)


class _Handle:
    @staticmethod
    def pull(reader, wire, name):
        return reader.contextHandle()

    @staticmethod
    def push(writer, value, wire, name):
        if not isinstance(value, (ContextHandle, bytes)):
            raise NDRError("%s = %r is not a context handle" % (name, value))
        writer.contextHandle(value)


class _Inline:
    """
    A C{[ref]} pointer to a type: the type, inline.
    """

    def __init__(self, type):
        self.type = type

    def pull(self, reader, wire, name):
        return self.type.pull(reader)

    def push(self, writer, value, wire, name):
        if not isinstance(value, self.type):
            raise NDRError(
                "%s = %r is not a %s (a [ref] pointer cannot be NULL)"
                % (name, value, self.type.__name__)
            )
        value.push(writer)


class _Unique:
    """
    A C{[unique]} pointer (or the C{[unique]} half of a C{[ref]
    [unique]} pointer pair): the referent id, then the pointee.
    """

    def __init__(self, pull, push):
        self._pull = pull
        self._push = push

    def pull(self, reader, wire, name):
        referent = reader.pointer()
        wire[name] = referent
        if not referent:
            return None
        return self._pull(reader)

    def push(self, writer, value, wire, name):
        writer.pointer(_referent(writer, wire, name, value is not None))
        if value is not None:
            self._push(writer, value, name)


def _uniqueOf(type):
    def push(writer, value, name):
        if not isinstance(value, type):
            raise NDRError("%s = %r is not a %s" % (name, value, type.__name__))
        value.push(writer)

    return _Unique(type.pull, push)


def _pushI32(writer, value, name):
    writer.i32(value)


def _pushString(writer, value, name):
    if not isinstance(value, str):
        raise NDRError("%s = %r is not a str" % (name, value))
    writer.string(value)


_UNIQUE_GUID = _Unique(_readGuid, _writeGuid)
_UNIQUE_LONG = _Unique(lambda reader: reader.i32(), _pushI32)
_UNIQUE_STRING = _Unique(lambda reader: reader.string(name="pDN"), _pushString)
_UNIQUE_TAGS = _uniqueOf(PropertyTagArray_r)
_UNIQUE_ROWSET = _uniqueOf(PropertyRowSet_r)
_UNIQUE_ROW = _uniqueOf(PropertyRow_r)
_UNIQUE_NAMESET = _uniqueOf(PropertyNameSet_r)
_UNIQUE_RESTRICTION = _uniqueOf(Restriction_r)
_UNIQUE_NAME = _uniqueOf(PropertyName_r)


class _SizedTable:
    """
    C{[in, range(0,100000)] DWORD dwETableCount, [in, unique,
    size_is(dwETableCount)] DWORD *lpETable} of NspiQueryRows: the count,
    the referent id, then C{max_count} (equal to the count) and the MIds.
    A count sent with a NULL pointer is remembered.
    """

    @staticmethod
    def pull(reader, wire, name):
        count = checkRange("dwETableCount", reader.u32(), 0, MAX_COUNT)
        referent = reader.pointer()
        wire[name] = referent
        if not referent:
            if count:
                wire["dwETableCount"] = count
            return None
        _conformance(reader, name, count, MAX_COUNT, 4)
        return list(reader.u32Array(count))

    @staticmethod
    def push(writer, value, wire, name):
        if value is None:
            writer.u32(wire.get("dwETableCount", 0))
            writer.pointer(0)
            return
        if not isinstance(value, (list, tuple)) or len(value) > MAX_COUNT:
            raise NDRError("%s = %r is not a list of at most %d MIds" % (name, value, MAX_COUNT))
        writer.u32(len(value))
        writer.pointer(_referent(writer, wire, name, True))
        writer.conformance(len(value))
        writer.u32Array(value)


class _NameArray:
    """
    C{[in, range(0,100000)] DWORD cPropNames, [in, size_is(cPropNames)]
    PropertyName_r **pNames} of NspiGetIDsFromNames: the count, then (the
    top-level pointer being C{[ref]}) a conformant array of C{[unique]}
    pointers, then each L{PropertyName_r} in full.
    """

    @staticmethod
    def pull(reader, wire, name):
        count = checkRange("cPropNames", reader.u32(), 0, MAX_COUNT)
        _conformance(reader, name, count, MAX_COUNT, 4)
        ids = reader.u32Array(count)
        wire["items"] = list(ids)
        return [PropertyName_r.pull(reader) if rid else None for rid in ids]

    @staticmethod
    def push(writer, value, wire, name):
        if not isinstance(value, (list, tuple)) or len(value) > MAX_COUNT:
            raise NDRError("%s = %r is not a list of at most %d names" % (name, value, MAX_COUNT))
        writer.u32(len(value))
        writer.conformance(len(value))
        for index, item in enumerate(value):
            if item is not None and not isinstance(item, PropertyName_r):
                raise NDRError("%s element %r is not a PropertyName_r" % (name, item))
            writer.pointer(_itemReferent(writer, wire, index, item is not None))
        for item in value:
            if item is not None:
                item.push(writer)


_STAT = _Inline(STAT)


# -- the message base -----------------------------------------------------


class _Message(Stub):
    """
    A request or response whose parameters are listed, in wire order, in
    C{_params}: C{(field name, kind)} pairs.
    """

    _params = ()
    opnum = None

    @classmethod
    def _read(cls, reader):
        message = cls()
        for name, kind in cls._params:
            setattr(message, name, kind.pull(reader, message.wire, name))
        return message

    def _write(self, writer):
        for name, kind in self._params:
            kind.push(writer, getattr(self, name), self.wire, name)


def _stat():
    return field(default_factory=STAT)


# -- 0 NspiBind -----------------------------------------------------------


@dataclass
class NspiBindRequest(_Message):
    """
    NspiBind ([MS-OXNSPI] 3.1.4.1), opnum 0: C{dwFlags}, C{pStat}
    (inline), C{pServerGuid} (C{[in, out, unique] FlatUID_r *}, 16 bytes or
    L{None}).
    """

    opnum = 0
    dwFlags: int = 0
    pStat: STAT = _stat()
    pServerGuid: Optional[bytes] = None
    wire: dict = _wire()
    _params = (("dwFlags", _U32), ("pStat", _STAT), ("pServerGuid", _UNIQUE_GUID))


@dataclass
class NspiBindResponse(_Message):
    """
    NspiBind response: C{pServerGuid}, C{contextHandle}, C{result}.
    """

    opnum = 0
    pServerGuid: Optional[bytes] = None
    contextHandle: ContextHandle = ContextHandle()
    result: int = 0
    wire: dict = _wire()
    _params = (
        ("pServerGuid", _UNIQUE_GUID),
        ("contextHandle", _Handle),
        ("result", _U32),
    )


# -- 1 NspiUnbind ---------------------------------------------------------


@dataclass
class NspiUnbindRequest(_Message):
    """
    NspiUnbind ([MS-OXNSPI] 3.1.4.2), opnum 1: C{contextHandle},
    C{Reserved}.
    """

    opnum = 1
    contextHandle: ContextHandle = ContextHandle()
    Reserved: int = 0
    wire: dict = _wire()
    _params = (("contextHandle", _Handle), ("Reserved", _U32))


@dataclass
class NspiUnbindResponse(_Message):
    """
    NspiUnbind response: C{contextHandle} (zeroed), C{result}.
    """

    opnum = 1
    contextHandle: ContextHandle = ContextHandle()
    result: int = 0
    wire: dict = _wire()
    _params = (("contextHandle", _Handle), ("result", _U32))


# -- 2 NspiUpdateStat -----------------------------------------------------


@dataclass
class NspiUpdateStatRequest(_Message):
    """
    NspiUpdateStat ([MS-OXNSPI] 3.1.4.4), opnum 2: C{hRpc}, C{Reserved},
    C{pStat}, C{plDelta} (C{[in, out, unique] long *}).
    """

    opnum = 2
    hRpc: ContextHandle = ContextHandle()
    Reserved: int = 0
    pStat: STAT = _stat()
    plDelta: Optional[int] = None
    wire: dict = _wire()
    _params = (
        ("hRpc", _Handle),
        ("Reserved", _U32),
        ("pStat", _STAT),
        ("plDelta", _UNIQUE_LONG),
    )


@dataclass
class NspiUpdateStatResponse(_Message):
    """
    NspiUpdateStat response: C{pStat}, C{plDelta}, C{result}.
    """

    opnum = 2
    pStat: STAT = _stat()
    plDelta: Optional[int] = None
    result: int = 0
    wire: dict = _wire()
    _params = (("pStat", _STAT), ("plDelta", _UNIQUE_LONG), ("result", _U32))


# -- 3 NspiQueryRows ------------------------------------------------------


@dataclass
class NspiQueryRowsRequest(_Message):
    """
    NspiQueryRows ([MS-OXNSPI] 3.1.4.8), opnum 3: C{hRpc}, C{dwFlags},
    C{pStat}, C{dwETableCount} (the length of C{lpETable}), C{lpETable}
    (unique, a list of MIds or L{None}), C{Count}, C{pPropTags} (unique).
    """

    opnum = 3
    hRpc: ContextHandle = ContextHandle()
    dwFlags: int = 0
    pStat: STAT = _stat()
    lpETable: Optional[List[int]] = None
    Count: int = 0
    pPropTags: Optional[PropertyTagArray_r] = None
    wire: dict = _wire()
    _params = (
        ("hRpc", _Handle),
        ("dwFlags", _U32),
        ("pStat", _STAT),
        ("lpETable", _SizedTable),
        ("Count", _U32),
        ("pPropTags", _UNIQUE_TAGS),
    )

    @property
    def dwETableCount(self):
        """
        The C{dwETableCount} sent with C{lpETable}.

        @rtype: L{int}
        """
        if self.lpETable is None:
            return self.wire.get("dwETableCount", 0)
        return len(self.lpETable)


@dataclass
class NspiQueryRowsResponse(_Message):
    """
    NspiQueryRows response: C{pStat}, C{ppRows} (a L{PropertyRowSet_r} or
    L{None}), C{result}.
    """

    opnum = 3
    pStat: STAT = _stat()
    ppRows: Optional[PropertyRowSet_r] = None
    result: int = 0
    wire: dict = _wire()
    _params = (("pStat", _STAT), ("ppRows", _UNIQUE_ROWSET), ("result", _U32))


# -- 4 NspiSeekEntries ----------------------------------------------------


@dataclass
class NspiSeekEntriesRequest(_Message):
    """
    NspiSeekEntries ([MS-OXNSPI] 3.1.4.9), opnum 4: C{hRpc}, C{Reserved},
    C{pStat}, C{pTarget} (a L{PropertyValue_r}, inline), C{lpETable} and
    C{pPropTags} (both C{[unique]} L{PropertyTagArray_r}; impacket has them
    inline).
    """

    opnum = 4
    hRpc: ContextHandle = ContextHandle()
    Reserved: int = 0
    pStat: STAT = _stat()
    pTarget: PropertyValue_r = field(default_factory=lambda: PropertyValue_r(0x00000001, 0))
    lpETable: Optional[PropertyTagArray_r] = None
    pPropTags: Optional[PropertyTagArray_r] = None
    wire: dict = _wire()
    _params = (
        ("hRpc", _Handle),
        ("Reserved", _U32),
        ("pStat", _STAT),
        ("pTarget", _Inline(PropertyValue_r)),
        ("lpETable", _UNIQUE_TAGS),
        ("pPropTags", _UNIQUE_TAGS),
    )


@dataclass
class NspiSeekEntriesResponse(_Message):
    """
    NspiSeekEntries response: C{pStat}, C{ppRows}, C{result}.
    """

    opnum = 4
    pStat: STAT = _stat()
    ppRows: Optional[PropertyRowSet_r] = None
    result: int = 0
    wire: dict = _wire()
    _params = (("pStat", _STAT), ("ppRows", _UNIQUE_ROWSET), ("result", _U32))


# -- 5 NspiGetMatches -----------------------------------------------------


@dataclass
class NspiGetMatchesRequest(_Message):
    """
    NspiGetMatches ([MS-OXNSPI] 3.1.4.10), opnum 5: C{hRpc}, C{Reserved1},
    C{pStat}, C{pReserved} (unique tags), C{Reserved2}, C{Filter} (unique
    L{Restriction_r}), C{lpPropName} (unique L{PropertyName_r}),
    C{ulRequested}, C{pPropTags} (unique tags).
    """

    opnum = 5
    hRpc: ContextHandle = ContextHandle()
    Reserved1: int = 0
    pStat: STAT = _stat()
    pReserved: Optional[PropertyTagArray_r] = None
    Reserved2: int = 0
    Filter: Optional[Restriction_r] = None
    lpPropName: Optional[PropertyName_r] = None
    ulRequested: int = 0
    pPropTags: Optional[PropertyTagArray_r] = None
    wire: dict = _wire()
    _params = (
        ("hRpc", _Handle),
        ("Reserved1", _U32),
        ("pStat", _STAT),
        ("pReserved", _UNIQUE_TAGS),
        ("Reserved2", _U32),
        ("Filter", _UNIQUE_RESTRICTION),
        ("lpPropName", _UNIQUE_NAME),
        ("ulRequested", _U32),
        ("pPropTags", _UNIQUE_TAGS),
    )


@dataclass
class NspiGetMatchesResponse(_Message):
    """
    NspiGetMatches response: C{pStat}, C{ppOutMIds}, C{ppRows},
    C{result}.
    """

    opnum = 5
    pStat: STAT = _stat()
    ppOutMIds: Optional[PropertyTagArray_r] = None
    ppRows: Optional[PropertyRowSet_r] = None
    result: int = 0
    wire: dict = _wire()
    _params = (
        ("pStat", _STAT),
        ("ppOutMIds", _UNIQUE_TAGS),
        ("ppRows", _UNIQUE_ROWSET),
        ("result", _U32),
    )


# -- 6 NspiResortRestriction ----------------------------------------------


@dataclass
class NspiResortRestrictionRequest(_Message):
    """
    NspiResortRestriction ([MS-OXNSPI] 3.1.4.11), opnum 6: C{hRpc},
    C{Reserved}, C{pStat}, C{pInMIds} (inline tags), C{ppOutMIds}
    (C{[in, out]}, unique tags).
    """

    opnum = 6
    hRpc: ContextHandle = ContextHandle()
    Reserved: int = 0
    pStat: STAT = _stat()
    pInMIds: PropertyTagArray_r = field(default_factory=PropertyTagArray_r)
    ppOutMIds: Optional[PropertyTagArray_r] = None
    wire: dict = _wire()
    _params = (
        ("hRpc", _Handle),
        ("Reserved", _U32),
        ("pStat", _STAT),
        ("pInMIds", _Inline(PropertyTagArray_r)),
        ("ppOutMIds", _UNIQUE_TAGS),
    )


@dataclass
class NspiResortRestrictionResponse(_Message):
    """
    NspiResortRestriction response: C{pStat}, C{ppOutMIds}, C{result}.
    """

    opnum = 6
    pStat: STAT = _stat()
    ppOutMIds: Optional[PropertyTagArray_r] = None
    result: int = 0
    wire: dict = _wire()
    _params = (("pStat", _STAT), ("ppOutMIds", _UNIQUE_TAGS), ("result", _U32))


# -- 7 NspiDNToMId --------------------------------------------------------


@dataclass
class NspiDNToMIdRequest(_Message):
    """
    NspiDNToMId ([MS-OXNSPI] 3.1.4.13), opnum 7: C{hRpc}, C{Reserved},
    C{pNames} (a L{StringsArray_r}, inline).
    """

    opnum = 7
    hRpc: ContextHandle = ContextHandle()
    Reserved: int = 0
    pNames: StringsArray_r = field(default_factory=StringsArray_r)
    wire: dict = _wire()
    _params = (
        ("hRpc", _Handle),
        ("Reserved", _U32),
        ("pNames", _Inline(StringsArray_r)),
    )


@dataclass
class NspiDNToMIdResponse(_Message):
    """
    NspiDNToMId response: C{ppOutMIds}, C{result}.
    """

    opnum = 7
    ppOutMIds: Optional[PropertyTagArray_r] = None
    result: int = 0
    wire: dict = _wire()
    _params = (("ppOutMIds", _UNIQUE_TAGS), ("result", _U32))


# -- 8 NspiGetPropList ----------------------------------------------------


@dataclass
class NspiGetPropListRequest(_Message):
    """
    NspiGetPropList ([MS-OXNSPI] 3.1.4.6), opnum 8: C{hRpc}, C{dwFlags},
    C{dwMId}, C{CodePage}.
    """

    opnum = 8
    hRpc: ContextHandle = ContextHandle()
    dwFlags: int = 0
    dwMId: int = 0
    CodePage: int = 0
    wire: dict = _wire()
    _params = (
        ("hRpc", _Handle),
        ("dwFlags", _U32),
        ("dwMId", _U32),
        ("CodePage", _U32),
    )


@dataclass
class NspiGetPropListResponse(_Message):
    """
    NspiGetPropList response: C{ppPropTags}, C{result}.
    """

    opnum = 8
    ppPropTags: Optional[PropertyTagArray_r] = None
    result: int = 0
    wire: dict = _wire()
    _params = (("ppPropTags", _UNIQUE_TAGS), ("result", _U32))


# -- 9 NspiGetProps -------------------------------------------------------


@dataclass
class NspiGetPropsRequest(_Message):
    """
    NspiGetProps ([MS-OXNSPI] 3.1.4.7), opnum 9: C{hRpc}, C{dwFlags},
    C{pStat} (C{[in] STAT *}: inline, where impacket sends a unique
    pointer), C{pPropTags} (unique).
    """

    opnum = 9
    hRpc: ContextHandle = ContextHandle()
    dwFlags: int = 0
    pStat: STAT = _stat()
    pPropTags: Optional[PropertyTagArray_r] = None
    wire: dict = _wire()
    _params = (
        ("hRpc", _Handle),
        ("dwFlags", _U32),
        ("pStat", _STAT),
        ("pPropTags", _UNIQUE_TAGS),
    )


@dataclass
class NspiGetPropsResponse(_Message):
    """
    NspiGetProps response: C{ppRows} (one L{PropertyRow_r} or L{None}),
    C{result}.
    """

    opnum = 9
    ppRows: Optional[PropertyRow_r] = None
    result: int = 0
    wire: dict = _wire()
    _params = (("ppRows", _UNIQUE_ROW), ("result", _U32))


# -- 10 NspiCompareMIds ---------------------------------------------------


@dataclass
class NspiCompareMIdsRequest(_Message):
    """
    NspiCompareMIds ([MS-OXNSPI] 3.1.4.12), opnum 10: C{hRpc},
    C{Reserved}, C{pStat}, C{MId1}, C{MId2}.
    """

    opnum = 10
    hRpc: ContextHandle = ContextHandle()
    Reserved: int = 0
    pStat: STAT = _stat()
    MId1: int = 0
    MId2: int = 0
    wire: dict = _wire()
    _params = (
        ("hRpc", _Handle),
        ("Reserved", _U32),
        ("pStat", _STAT),
        ("MId1", _U32),
        ("MId2", _U32),
    )


@dataclass
class NspiCompareMIdsResponse(_Message):
    """
    NspiCompareMIds response: C{plResult} (signed), C{result}.
    """

    opnum = 10
    plResult: int = 0
    result: int = 0
    wire: dict = _wire()
    _params = (("plResult", _I32), ("result", _U32))


# -- 11 NspiModProps ------------------------------------------------------


@dataclass
class NspiModPropsRequest(_Message):
    """
    NspiModProps ([MS-OXNSPI] 3.1.4.14), opnum 11: C{hRpc}, C{Reserved},
    C{pStat}, C{pPropTags} (unique), C{pRow} (a L{PropertyRow_r}, inline).
    """

    opnum = 11
    hRpc: ContextHandle = ContextHandle()
    Reserved: int = 0
    pStat: STAT = _stat()
    pPropTags: Optional[PropertyTagArray_r] = None
    pRow: PropertyRow_r = field(default_factory=PropertyRow_r)
    wire: dict = _wire()
    _params = (
        ("hRpc", _Handle),
        ("Reserved", _U32),
        ("pStat", _STAT),
        ("pPropTags", _UNIQUE_TAGS),
        ("pRow", _Inline(PropertyRow_r)),
    )


@dataclass
class NspiModPropsResponse(_Message):
    """
    NspiModProps response: C{result} only.
    """

    opnum = 11
    result: int = 0
    wire: dict = _wire()
    _params = (("result", _U32),)


# -- 12 NspiGetSpecialTable -----------------------------------------------


@dataclass
class NspiGetSpecialTableRequest(_Message):
    """
    NspiGetSpecialTable ([MS-OXNSPI] 3.1.4.3), opnum 12: C{hRpc},
    C{dwFlags}, C{pStat} and C{lpVersion} (both C{[ref]}: inline, where
    impacket sends unique pointers).
    """

    opnum = 12
    hRpc: ContextHandle = ContextHandle()
    dwFlags: int = 0
    pStat: STAT = _stat()
    lpVersion: int = 0
    wire: dict = _wire()
    _params = (
        ("hRpc", _Handle),
        ("dwFlags", _U32),
        ("pStat", _STAT),
        ("lpVersion", _U32),
    )


@dataclass
class NspiGetSpecialTableResponse(_Message):
    """
    NspiGetSpecialTable response: C{lpVersion}, C{ppRows}, C{result}.
    """

    opnum = 12
    lpVersion: int = 0
    ppRows: Optional[PropertyRowSet_r] = None
    result: int = 0
    wire: dict = _wire()
    _params = (("lpVersion", _U32), ("ppRows", _UNIQUE_ROWSET), ("result", _U32))


# -- 13 NspiGetTemplateInfo -----------------------------------------------


@dataclass
class NspiGetTemplateInfoRequest(_Message):
    """
    NspiGetTemplateInfo ([MS-OXNSPI] 3.1.4.20), opnum 13: C{hRpc},
    C{dwFlags}, C{ulType}, C{pDN} (C{[string, unique] char *}),
    C{dwCodePage}, C{dwLocaleID}.
    """

    opnum = 13
    hRpc: ContextHandle = ContextHandle()
    dwFlags: int = 0
    ulType: int = 0
    pDN: Optional[str] = None
    dwCodePage: int = 0
    dwLocaleID: int = 0
    wire: dict = _wire()
    _params = (
        ("hRpc", _Handle),
        ("dwFlags", _U32),
        ("ulType", _U32),
        ("pDN", _UNIQUE_STRING),
        ("dwCodePage", _U32),
        ("dwLocaleID", _U32),
    )


@dataclass
class NspiGetTemplateInfoResponse(_Message):
    """
    NspiGetTemplateInfo response: C{ppData} (a L{PropertyRow_r} or
    L{None}), C{result}.
    """

    opnum = 13
    ppData: Optional[PropertyRow_r] = None
    result: int = 0
    wire: dict = _wire()
    _params = (("ppData", _UNIQUE_ROW), ("result", _U32))


# -- 14 NspiModLinkAtt, 15 NspiDeleteEntries ------------------------------


@dataclass
class NspiModLinkAttRequest(_Message):
    """
    NspiModLinkAtt ([MS-OXNSPI] 3.1.4.15), opnum 14: C{hRpc}, C{dwFlags},
    C{ulPropTag}, C{dwMId}, C{lpEntryIds} (a L{BinaryArray_r}, inline).
    """

    opnum = 14
    hRpc: ContextHandle = ContextHandle()
    dwFlags: int = 0
    ulPropTag: int = 0
    dwMId: int = 0
    lpEntryIds: BinaryArray_r = field(default_factory=BinaryArray_r)
    wire: dict = _wire()
    _params = (
        ("hRpc", _Handle),
        ("dwFlags", _U32),
        ("ulPropTag", _U32),
        ("dwMId", _U32),
        ("lpEntryIds", _Inline(BinaryArray_r)),
    )


@dataclass
class NspiModLinkAttResponse(_Message):
    """
    NspiModLinkAtt response: C{result} only.
    """

    opnum = 14
    result: int = 0
    wire: dict = _wire()
    _params = (("result", _U32),)


@dataclass
class NspiDeleteEntriesRequest(_Message):
    """
    NspiDeleteEntries, opnum 15 ([MS-NSPI]; [MS-OXNSPI] reserves the opnum
    and Exchange does not use it): C{hRpc}, C{dwFlags}, C{dwMId},
    C{lpEntryIds} (a L{BinaryArray_r}, inline). OpenChange's IDL calls the
    same four parameters C{Reserved1} to C{Reserved4}.
    """

    opnum = 15
    hRpc: ContextHandle = ContextHandle()
    dwFlags: int = 0
    dwMId: int = 0
    lpEntryIds: BinaryArray_r = field(default_factory=BinaryArray_r)
    wire: dict = _wire()
    _params = (
        ("hRpc", _Handle),
        ("dwFlags", _U32),
        ("dwMId", _U32),
        ("lpEntryIds", _Inline(BinaryArray_r)),
    )


@dataclass
class NspiDeleteEntriesResponse(_Message):
    """
    NspiDeleteEntries response: C{result} only.
    """

    opnum = 15
    result: int = 0
    wire: dict = _wire()
    _params = (("result", _U32),)


# -- 16 NspiQueryColumns --------------------------------------------------


@dataclass
class NspiQueryColumnsRequest(_Message):
    """
    NspiQueryColumns ([MS-OXNSPI] 3.1.4.5), opnum 16: C{hRpc},
    C{Reserved}, C{dwFlags}.
    """

    opnum = 16
    hRpc: ContextHandle = ContextHandle()
    Reserved: int = 0
    dwFlags: int = 0
    wire: dict = _wire()
    _params = (("hRpc", _Handle), ("Reserved", _U32), ("dwFlags", _U32))


@dataclass
class NspiQueryColumnsResponse(_Message):
    """
    NspiQueryColumns response: C{ppColumns}, C{result}.
    """

    opnum = 16
    ppColumns: Optional[PropertyTagArray_r] = None
    result: int = 0
    wire: dict = _wire()
    _params = (("ppColumns", _UNIQUE_TAGS), ("result", _U32))


# -- 17 NspiGetNamesFromIDs -----------------------------------------------


@dataclass
class NspiGetNamesFromIDsRequest(_Message):
    """
    NspiGetNamesFromIDs ([MS-OXNSPI] 3.1.4.16), opnum 17: C{hRpc},
    C{Reserved}, C{lpguid} (unique, 16 bytes), C{pPropTags} (unique).
    """

    opnum = 17
    hRpc: ContextHandle = ContextHandle()
    Reserved: int = 0
    lpguid: Optional[bytes] = None
    pPropTags: Optional[PropertyTagArray_r] = None
    wire: dict = _wire()
    _params = (
        ("hRpc", _Handle),
        ("Reserved", _U32),
        ("lpguid", _UNIQUE_GUID),
        ("pPropTags", _UNIQUE_TAGS),
    )


@dataclass
class NspiGetNamesFromIDsResponse(_Message):
    """
    NspiGetNamesFromIDs response: C{ppReturnedPropTags}, C{ppNames} (a
    L{PropertyNameSet_r} or L{None}), C{result}.
    """

    opnum = 17
    ppReturnedPropTags: Optional[PropertyTagArray_r] = None
    ppNames: Optional[PropertyNameSet_r] = None
    result: int = 0
    wire: dict = _wire()
    _params = (
        ("ppReturnedPropTags", _UNIQUE_TAGS),
        ("ppNames", _UNIQUE_NAMESET),
        ("result", _U32),
    )


# -- 18 NspiGetIDsFromNames -----------------------------------------------


@dataclass
class NspiGetIDsFromNamesRequest(_Message):
    """
    NspiGetIDsFromNames ([MS-OXNSPI] 3.1.4.17), opnum 18: C{hRpc},
    C{Reserved}, C{dwFlags}, C{cPropNames} (the length of C{pNames}),
    C{pNames} (a list of L{PropertyName_r}, L{None} for a NULL element;
    impacket sends a conformant varying array of inline structures
    instead).
    """

    opnum = 18
    hRpc: ContextHandle = ContextHandle()
    Reserved: int = 0
    dwFlags: int = 0
    pNames: List[Optional[PropertyName_r]] = field(default_factory=list)
    wire: dict = _wire()
    _params = (
        ("hRpc", _Handle),
        ("Reserved", _U32),
        ("dwFlags", _U32),
        ("pNames", _NameArray),
    )

    @property
    def cPropNames(self):
        """
        The number of names.

        @rtype: L{int}
        """
        return len(self.pNames)


@dataclass
class NspiGetIDsFromNamesResponse(_Message):
    """
    NspiGetIDsFromNames response: C{ppPropTags}, C{result}.
    """

    opnum = 18
    ppPropTags: Optional[PropertyTagArray_r] = None
    result: int = 0
    wire: dict = _wire()
    _params = (("ppPropTags", _UNIQUE_TAGS), ("result", _U32))


# -- 19 NspiResolveNames, 20 NspiResolveNamesW ----------------------------


@dataclass
class NspiResolveNamesRequest(_Message):
    """
    NspiResolveNames ([MS-OXNSPI] 3.1.4.18), opnum 19: C{hRpc},
    C{Reserved}, C{pStat}, C{pPropTags} (unique), C{paStr} (a
    L{StringsArray_r}, inline).
    """

    opnum = 19
    hRpc: ContextHandle = ContextHandle()
    Reserved: int = 0
    pStat: STAT = _stat()
    pPropTags: Optional[PropertyTagArray_r] = None
    paStr: StringsArray_r = field(default_factory=StringsArray_r)
    wire: dict = _wire()
    _params = (
        ("hRpc", _Handle),
        ("Reserved", _U32),
        ("pStat", _STAT),
        ("pPropTags", _UNIQUE_TAGS),
        ("paStr", _Inline(StringsArray_r)),
    )


@dataclass
class NspiResolveNamesResponse(_Message):
    """
    NspiResolveNames response: C{ppMIds}, C{ppRows}, C{result}.
    """

    opnum = 19
    ppMIds: Optional[PropertyTagArray_r] = None
    ppRows: Optional[PropertyRowSet_r] = None
    result: int = 0
    wire: dict = _wire()
    _params = (
        ("ppMIds", _UNIQUE_TAGS),
        ("ppRows", _UNIQUE_ROWSET),
        ("result", _U32),
    )


@dataclass
class NspiResolveNamesWRequest(_Message):
    """
    NspiResolveNamesW ([MS-OXNSPI] 3.1.4.19), opnum 20: as
    L{NspiResolveNamesRequest} with C{paWStr} (a L{StringsArrayW_r}).
    """

    opnum = 20
    hRpc: ContextHandle = ContextHandle()
    Reserved: int = 0
    pStat: STAT = _stat()
    pPropTags: Optional[PropertyTagArray_r] = None
    paWStr: StringsArrayW_r = field(default_factory=StringsArrayW_r)
    wire: dict = _wire()
    _params = (
        ("hRpc", _Handle),
        ("Reserved", _U32),
        ("pStat", _STAT),
        ("pPropTags", _UNIQUE_TAGS),
        ("paWStr", _Inline(StringsArrayW_r)),
    )


@dataclass
class NspiResolveNamesWResponse(NspiResolveNamesResponse):
    """
    NspiResolveNamesW response: C{ppMIds}, C{ppRows}, C{result}.
    """

    opnum = 20


# -- the codec ------------------------------------------------------------

_PAIRS = (
    (NspiBindRequest, NspiBindResponse),
    (NspiUnbindRequest, NspiUnbindResponse),
    (NspiUpdateStatRequest, NspiUpdateStatResponse),
    (NspiQueryRowsRequest, NspiQueryRowsResponse),
    (NspiSeekEntriesRequest, NspiSeekEntriesResponse),
    (NspiGetMatchesRequest, NspiGetMatchesResponse),
    (NspiResortRestrictionRequest, NspiResortRestrictionResponse),
    (NspiDNToMIdRequest, NspiDNToMIdResponse),
    (NspiGetPropListRequest, NspiGetPropListResponse),
    (NspiGetPropsRequest, NspiGetPropsResponse),
    (NspiCompareMIdsRequest, NspiCompareMIdsResponse),
    (NspiModPropsRequest, NspiModPropsResponse),
    (NspiGetSpecialTableRequest, NspiGetSpecialTableResponse),
    (NspiGetTemplateInfoRequest, NspiGetTemplateInfoResponse),
    (NspiModLinkAttRequest, NspiModLinkAttResponse),
    (NspiDeleteEntriesRequest, NspiDeleteEntriesResponse),
    (NspiQueryColumnsRequest, NspiQueryColumnsResponse),
    (NspiGetNamesFromIDsRequest, NspiGetNamesFromIDsResponse),
    (NspiGetIDsFromNamesRequest, NspiGetIDsFromNamesResponse),
    (NspiResolveNamesRequest, NspiResolveNamesResponse),
    (NspiResolveNamesWRequest, NspiResolveNamesWResponse),
)

#: The 21 operations of C{exchange_nsp}, in opnum order.
OPERATIONS = tuple(
    Operation(request.opnum, request.__name__[: -len("Request")], request, response)
    for request, response in _PAIRS
)

#: The NSPI stub codec.
CODEC = InterfaceCodec(INTERFACE_NAME, OPERATIONS)

__all__ += [request.__name__ for request, _ in _PAIRS]
__all__ += [response.__name__ for _, response in _PAIRS]
