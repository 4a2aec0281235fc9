# -*- test-case-name: tests.mapi.rops.test_table -*-
"""
Table ROPs ([MS-OXCROPS] 2.2.5, semantics in [MS-OXCTABL] 2.2.2): set the
columns, sort, restrict, read rows, move the cursor, bookmarks and the
expand/collapse state of categorized tables.

The rows of RopQueryRows, RopFindRow and RopExpandRow carry no property
tags: they are laid out in the column order set by the last RopSetColumns
on the same table ([MS-OXCDATA] 2.8.1). Decoding a RopSetColumns request
therefore records its tags in L{RopContext.columns} under the table's
server object handle, and the row-carrying responses read them back from
there.

Every response here has a body only on success (ReturnValue 0), except
RopSeekRowFractional, RopFreeBookmark and RopResetTable, which never have
one ([MS-OXCROPS] 2.2.5.10.2, 2.2.5.14.2, 2.2.5.15.2).

One-byte Booleans are kept as the byte received (nonzero is TRUE) so that
re-encoding is exact.

Sans-I/O; no Twisted.
"""

from dataclasses import dataclass, field
from typing import Optional

from mapiproxy.errors import RopError
from mapiproxy.mapi.oxcdata import (
    PropertyRow,
    Restriction,
    SortOrder,
    readRestriction,
    writeRestriction,
)
from mapiproxy.mapi.rops.base import (
    RopRequest,
    RopResponse,
    Writer,
    ropRequest,
    ropResponse,
)

__all__ = [
    "TBLSTAT_COMPLETE",
    "TBLSTAT_SORTING",
    "TBLSTAT_SORT_ERROR",
    "TBLSTAT_SETTING_COLS",
    "TBLSTAT_SETCOL_ERROR",
    "TBLSTAT_RESTRICTING",
    "TBLSTAT_RESTRICT_ERROR",
    "BOOKMARK_BEGINNING",
    "BOOKMARK_CURRENT",
    "BOOKMARK_END",
    "BOOKMARK_CUSTOM",
    "TBL_SYNC",
    "TBL_ASYNC",
    "TBL_BATCH",
    "QUERY_ROWS_ADVANCE",
    "QUERY_ROWS_NO_ADVANCE",
    "QUERY_ROWS_ENABLE_PACKED_BUFFERS",
    "FIND_ROW_FORWARD",
    "FIND_ROW_BACKWARD",
    "columnsOf",
    "SetColumnsRequest",
    "SetColumnsResponse",
    "SortTableRequest",
    "SortTableResponse",
    "RestrictRequest",
    "RestrictResponse",
    "QueryRowsRequest",
    "QueryRowsResponse",
    "AbortRequest",
    "AbortResponse",
    "GetStatusRequest",
    "GetStatusResponse",
    "QueryPositionRequest",
    "QueryPositionResponse",
    "SeekRowRequest",
    "SeekRowResponse",
    "SeekRowBookmarkRequest",
    "SeekRowBookmarkResponse",
    "SeekRowFractionalRequest",
    "SeekRowFractionalResponse",
    "CreateBookmarkRequest",
    "CreateBookmarkResponse",
    "QueryColumnsAllRequest",
    "QueryColumnsAllResponse",
    "FindRowRequest",
    "FindRowResponse",
    "FreeBookmarkRequest",
    "FreeBookmarkResponse",
    "ResetTableRequest",
    "ResetTableResponse",
    "ExpandRowRequest",
    "ExpandRowResponse",
    "CollapseRowRequest",
    "CollapseRowResponse",
    "GetCollapseStateRequest",
    "GetCollapseStateResponse",
    "SetCollapseStateRequest",
    "SetCollapseStateResponse",
]

# TableStatus values ([MS-OXCTABL] 2.2.2.1.3).
#: No operation is in progress.
TBLSTAT_COMPLETE = 0x00
#: An asynchronous RopSortTable is in progress.
TBLSTAT_SORTING = 0x09
#: The last RopSortTable failed.
TBLSTAT_SORT_ERROR = 0x0A
#: An asynchronous RopSetColumns is in progress.
TBLSTAT_SETTING_COLS = 0x0B
#: The last RopSetColumns failed.
TBLSTAT_SETCOL_ERROR = 0x0D
#: An asynchronous RopRestrict is in progress.
TBLSTAT_RESTRICTING = 0x0E
#: The last RopRestrict failed.
TBLSTAT_RESTRICT_ERROR = 0x0F

# Predefined bookmarks, the Origin fields ([MS-OXCTABL] 2.2.2.1.1, 2.2.2.1.2).
#: The first row.
BOOKMARK_BEGINNING = 0x00
#: The current cursor position.
BOOKMARK_CURRENT = 0x01
#: After the last row.
BOOKMARK_END = 0x02
#: The bookmark given in the request (RopFindRow only).
BOOKMARK_CUSTOM = 0x03

# Asynchronous flags of RopSetColumns, RopSortTable and RopRestrict
# ([MS-OXCTABL] 2.2.2.1.4).
#: Complete the operation before answering.
TBL_SYNC = 0x00
#: The server may complete the operation later.
TBL_ASYNC = 0x01
#: The server may defer the operation until it is needed (RopSortTable).
TBL_BATCH = 0x02

# QueryRowsFlags ([MS-OXCTABL] 2.2.2.5.1).
#: Move the cursor past the rows read.
QUERY_ROWS_ADVANCE = 0x00
#: Leave the cursor where it is.
QUERY_ROWS_NO_ADVANCE = 0x01
#: Allow the response to use extended-buffer packing.
QUERY_ROWS_ENABLE_PACKED_BUFFERS = 0x02

# FindRowFlags ([MS-OXCTABL] 2.2.2.14.1).
#: Search forward from the origin.
FIND_ROW_FORWARD = 0x00
#: Search backward from the origin.
FIND_ROW_BACKWARD = 0x01


def columnsOf(ctx, request, handleIndex=None):
    """
    The columns of the rows of a RopQueryRows, RopFindRow or RopExpandRow
    response.

    They are the columns its request saw when it was decoded (or encoded),
    so that a RopSetColumns later in the same buffer does not change them;
    failing that, the columns now recorded for the table at the request's
    InputHandleIndex; without a request, the response's own handle index
    (which echoes the InputHandleIndex for every ROP of this module) stands
    in for it.

    @param ctx: The session state.
    @type ctx: L{RopContext}

    @param request: The matching request, or L{None}.
    @type request: L{RopRequest} or L{None}

    @param handleIndex: The response's handle index, used when C{request}
        is L{None}.
    @type handleIndex: L{int} or L{None}

    @return: The property tags of the last RopSetColumns on that table.
    @rtype: L{list} of L{int}

    @raise RopError: If no RopSetColumns was seen for that table: the rows
        cannot be laid out.
    """
    if request is not None:
        tags = getattr(request, "columns", None)
        if tags is not None:
            return tags
        handleIndex = request.inputHandleIndex
    if handleIndex is None:
        raise RopError("no request and no handle index: the table is unknown")
    handle = ctx.handleOf(handleIndex)
    tags = ctx.columns.get(handle)
    if tags is None:
        raise RopError(
            "no RopSetColumns seen for the table at handle index %d "
            "(handle %r): its rows cannot be decoded" % (handleIndex, handle)
        )
    return tags


def _snapshot(ctx, inputHandleIndex):
    """
    The columns set on the table at C{inputHandleIndex} right now, or
    L{None}.
    """
    tags = ctx.columns.get(ctx.handleOf(inputHandleIndex))
    if tags is None:
        return None
    return list(tags)


def _readRows(r, count, columns):
    # Each PropertyRow takes at least its Flag byte.
    return r.counted(count, lambda rr: PropertyRow.read(rr, columns), minSize=1)


def _writeRows(w, rows, columns):
    for row in rows:
        row.write(w, columns)


def _readRestriction(r):
    """
    A RestrictionDataSize (u16) and the restriction it measures
    ([MS-OXCROPS] 2.2.5.3.1, 2.2.5.13.1).

    The size is known, so a restriction that does not parse (or would not
    encode back to the same bytes) does not stop the decoding of the
    buffer: its bytes are kept as they are.

    @return: C{(restriction, tail)}: the decoded L{Restriction} (L{None}
        when the size is 0 or the bytes are kept raw) and the bytes of the
        window left undecoded (after the restriction, or all of them).
    """
    size = r.u16()
    window = r.sub(size)
    if size == 0:
        return None, b""
    start = window.offset
    try:
        restriction = readRestriction(window)
        check = Writer()
        writeRestriction(check, restriction)
    except RopError:
        restriction = None
    if restriction is None or check.getvalue() != window.data[start : window.offset]:
        window.offset = start
        return None, window.rest()
    return restriction, window.rest()


def _writeRestriction(w, restriction, tail):
    pos = w.placeholderU16()
    before = len(w)
    if restriction is not None:
        writeRestriction(w, restriction)
    w.bytes(tail)
    w.setU16(pos, len(w) - before)


def _readBinary(r):
    # A u16 size and that many bytes (bookmarks, collapse states).
    return r.bytes(r.u16())


def _writeBinary(w, data):
    w.u16(len(data))
    w.bytes(data)


class _SuccessBody:
    """
    Mixin of responses whose body is present only when ReturnValue is 0
    (the "success response buffer" of [MS-OXCROPS]; the failure response
    buffer is the header alone). Subclasses implement C{_readSuccess} and
    C{_writeSuccess}.
    """

    __slots__ = ()

    @classmethod
    def readBody(cls, r, ctx, request, header):
        if header["returnValue"] != 0:
            return cls(**header)
        return cls._readSuccess(r, ctx, request, header)

    def writeBody(self, w, ctx, request):
        if self.returnValue == 0:
            self._writeSuccess(w, ctx, request)


class _TableStatusResponse(_SuccessBody):
    """
    A success body of one TableStatus byte ([MS-OXCTABL] 2.2.2.1.3).
    """

    __slots__ = ()

    @classmethod
    def _readSuccess(cls, r, ctx, request, header):
        return cls(tableStatus=r.u8(), **header)

    def _writeSuccess(self, w, ctx, request):
        w.u8(self.tableStatus)


# RopSetColumns ([MS-OXCROPS] 2.2.5.1)


@ropRequest(0x12)
@dataclass(slots=True)
class SetColumnsRequest(RopRequest):
    """
    RopSetColumns request ([MS-OXCROPS] 2.2.5.1.1): the columns of the
    rows later returned by RopQueryRows, RopFindRow and RopExpandRow.

    Decoding (and encoding) it records C{propertyTags} in
    L{RopContext.columns} under the table's handle.

    @ivar setColumnsFlags: L{TBL_SYNC} or L{TBL_ASYNC}.
    @ivar propertyTags: The property tags (u16 count, then u32 each).
    """

    setColumnsFlags: int = 0
    propertyTags: list = field(default_factory=list)

    @classmethod
    def readBody(cls, r, ctx, header):
        flags = r.u8()
        tags = r.u32Array(r.u16())
        rop = cls(setColumnsFlags=flags, propertyTags=tags, **header)
        rop._record(ctx)
        return rop

    def writeBody(self, w, ctx):
        w.u8(self.setColumnsFlags)
        w.u16(len(self.propertyTags))
        w.u32Array(self.propertyTags)
        self._record(ctx)

    def _record(self, ctx):
        handle = ctx.handleOf(self.inputHandleIndex)
        if handle is not None:
            ctx.columns[handle] = list(self.propertyTags)


@ropResponse(0x12)
@dataclass(slots=True)
class SetColumnsResponse(_TableStatusResponse, RopResponse):
    """
    RopSetColumns response ([MS-OXCROPS] 2.2.5.1.2): TableStatus on
    success.

    @ivar tableStatus: A C{TBLSTAT_*} value.
    """

    tableStatus: int = 0


# RopSortTable ([MS-OXCROPS] 2.2.5.2)


@ropRequest(0x13)
@dataclass(slots=True)
class SortTableRequest(RopRequest):
    """
    RopSortTable request ([MS-OXCROPS] 2.2.5.2.1).

    SortOrderCount is the length of C{sortOrders}; CategorizedCount and
    ExpandedCount are kept as sent ([MS-OXCTABL] 2.2.2.3.1).

    @ivar sortTableFlags: L{TBL_SYNC}, L{TBL_ASYNC} or L{TBL_BATCH}.
    @ivar categorizedCount: How many of the sort orders are categories.
    @ivar expandedCount: How many of the categories start expanded.
    @ivar sortOrders: L{SortOrder} items ([MS-OXCDATA] 2.13.1).
    """

    sortTableFlags: int = 0
    categorizedCount: int = 0
    expandedCount: int = 0
    sortOrders: list = field(default_factory=list)

    @classmethod
    def readBody(cls, r, ctx, header):
        flags = r.u8()
        count = r.u16()
        categorized = r.u16()
        expanded = r.u16()
        orders = r.counted(count, SortOrder.read, minSize=5)
        return cls(
            sortTableFlags=flags,
            categorizedCount=categorized,
            expandedCount=expanded,
            sortOrders=orders,
            **header,
        )

    def writeBody(self, w, ctx):
        w.u8(self.sortTableFlags)
        w.u16(len(self.sortOrders))
        w.u16(self.categorizedCount)
        w.u16(self.expandedCount)
        for order in self.sortOrders:
            order.write(w)


@ropResponse(0x13)
@dataclass(slots=True)
class SortTableResponse(_TableStatusResponse, RopResponse):
    """
    RopSortTable response ([MS-OXCROPS] 2.2.5.2.2): TableStatus on success.

    @ivar tableStatus: A C{TBLSTAT_*} value.
    """

    tableStatus: int = 0


# RopRestrict ([MS-OXCROPS] 2.2.5.3)


@ropRequest(0x14)
@dataclass(slots=True)
class RestrictRequest(RopRequest):
    """
    RopRestrict request ([MS-OXCROPS] 2.2.5.3.1): RestrictFlags, then a
    u16 RestrictionDataSize and the restriction ([MS-OXCDATA] 2.12). A
    size of 0 removes the restriction.

    @ivar restrictFlags: L{TBL_SYNC} or L{TBL_ASYNC}.
    @ivar restriction: A L{Restriction}, or L{None} (size 0, or bytes that
        do not parse: they are then all in C{restrictionTail}).
    @ivar restrictionTail: Bytes inside RestrictionDataSize that are not
        part of C{restriction}, kept for exact re-encoding.
    """

    restrictFlags: int = 0
    restriction: Optional[Restriction] = None
    restrictionTail: bytes = b""

    @classmethod
    def readBody(cls, r, ctx, header):
        flags = r.u8()
        restriction, tail = _readRestriction(r)
        return cls(
            restrictFlags=flags,
            restriction=restriction,
            restrictionTail=tail,
            **header,
        )

    def writeBody(self, w, ctx):
        w.u8(self.restrictFlags)
        _writeRestriction(w, self.restriction, self.restrictionTail)


@ropResponse(0x14)
@dataclass(slots=True)
class RestrictResponse(_TableStatusResponse, RopResponse):
    """
    RopRestrict response ([MS-OXCROPS] 2.2.5.3.2): TableStatus on success.

    @ivar tableStatus: A C{TBLSTAT_*} value.
    """

    tableStatus: int = 0


# RopQueryRows ([MS-OXCROPS] 2.2.5.4)


@ropRequest(0x15)
@dataclass(slots=True)
class QueryRowsRequest(RopRequest):
    """
    RopQueryRows request ([MS-OXCROPS] 2.2.5.4.1).

    @ivar queryRowsFlags: L{QUERY_ROWS_ADVANCE}, L{QUERY_ROWS_NO_ADVANCE},
        L{QUERY_ROWS_ENABLE_PACKED_BUFFERS}.
    @ivar forwardRead: Nonzero to read forward.
    @ivar rowCount: The most rows wanted.
    @ivar columns: Not on the wire: the table's columns when this request
        was decoded or encoded (L{columnsOf}), or L{None}.
    """

    queryRowsFlags: int = 0
    forwardRead: int = 1
    rowCount: int = 0
    columns: Optional[list] = field(default=None, compare=False, repr=False)

    @classmethod
    def readBody(cls, r, ctx, header):
        rop = cls(queryRowsFlags=r.u8(), forwardRead=r.u8(), rowCount=r.u16(), **header)
        rop.columns = _snapshot(ctx, rop.inputHandleIndex)
        return rop

    def writeBody(self, w, ctx):
        w.u8(self.queryRowsFlags)
        w.u8(self.forwardRead)
        w.u16(self.rowCount)
        self.columns = _snapshot(ctx, self.inputHandleIndex)


@ropResponse(0x15)
@dataclass(slots=True)
class QueryRowsResponse(_SuccessBody, RopResponse):
    """
    RopQueryRows response ([MS-OXCROPS] 2.2.5.4.2): on success Origin, a
    u16 RowCount and that many L{PropertyRow}s in the table's columns
    (L{columnsOf}).

    @ivar origin: L{BOOKMARK_BEGINNING}, L{BOOKMARK_CURRENT} or
        L{BOOKMARK_END}.
    @ivar rows: L{PropertyRow} items.
    """

    origin: int = 0
    rows: list = field(default_factory=list)

    @classmethod
    def _readSuccess(cls, r, ctx, request, header):
        origin = r.u8()
        count = r.u16()
        rows = []
        if count:
            columns = columnsOf(ctx, request, header["handleIndex"])
            rows = _readRows(r, count, columns)
        return cls(origin=origin, rows=rows, **header)

    def _writeSuccess(self, w, ctx, request):
        w.u8(self.origin)
        w.u16(len(self.rows))
        if self.rows:
            _writeRows(w, self.rows, columnsOf(ctx, request, self.handleIndex))


# RopAbort ([MS-OXCROPS] 2.2.5.5)


@ropRequest(0x38)
@dataclass(slots=True)
class AbortRequest(RopRequest):
    """
    RopAbort request ([MS-OXCROPS] 2.2.5.5.1): the header alone.
    """


@ropResponse(0x38)
@dataclass(slots=True)
class AbortResponse(_TableStatusResponse, RopResponse):
    """
    RopAbort response ([MS-OXCROPS] 2.2.5.5.2): TableStatus on success.

    @ivar tableStatus: A C{TBLSTAT_*} value.
    """

    tableStatus: int = 0


# RopGetStatus ([MS-OXCROPS] 2.2.5.6)


@ropRequest(0x16)
@dataclass(slots=True)
class GetStatusRequest(RopRequest):
    """
    RopGetStatus request ([MS-OXCROPS] 2.2.5.6.1): the header alone.
    """


@ropResponse(0x16)
@dataclass(slots=True)
class GetStatusResponse(_TableStatusResponse, RopResponse):
    """
    RopGetStatus response ([MS-OXCROPS] 2.2.5.6.2): TableStatus on success.

    @ivar tableStatus: A C{TBLSTAT_*} value.
    """

    tableStatus: int = 0


# RopQueryPosition ([MS-OXCROPS] 2.2.5.7)


@ropRequest(0x17)
@dataclass(slots=True)
class QueryPositionRequest(RopRequest):
    """
    RopQueryPosition request ([MS-OXCROPS] 2.2.5.7.1): the header alone.
    """


@ropResponse(0x17)
@dataclass(slots=True)
class QueryPositionResponse(_SuccessBody, RopResponse):
    """
    RopQueryPosition response ([MS-OXCROPS] 2.2.5.7.2): on success the
    cursor position as a fraction.

    @ivar numerator: The index of the current row.
    @ivar denominator: The number of rows.
    """

    numerator: int = 0
    denominator: int = 0

    @classmethod
    def _readSuccess(cls, r, ctx, request, header):
        return cls(numerator=r.u32(), denominator=r.u32(), **header)

    def _writeSuccess(self, w, ctx, request):
        w.u32(self.numerator)
        w.u32(self.denominator)


# RopSeekRow ([MS-OXCROPS] 2.2.5.8)


@ropRequest(0x18)
@dataclass(slots=True)
class SeekRowRequest(RopRequest):
    """
    RopSeekRow request ([MS-OXCROPS] 2.2.5.8.1).

    @ivar origin: L{BOOKMARK_BEGINNING}, L{BOOKMARK_CURRENT} or
        L{BOOKMARK_END}.
    @ivar rowCount: Rows to move (signed; negative moves backward).
    @ivar wantRowMovedCount: Nonzero if the server is to report the move.
    """

    origin: int = 0
    rowCount: int = 0
    wantRowMovedCount: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(origin=r.u8(), rowCount=r.i32(), wantRowMovedCount=r.u8(), **header)

    def writeBody(self, w, ctx):
        w.u8(self.origin)
        w.i32(self.rowCount)
        w.u8(self.wantRowMovedCount)


@ropResponse(0x18)
@dataclass(slots=True)
class SeekRowResponse(_SuccessBody, RopResponse):
    """
    RopSeekRow response ([MS-OXCROPS] 2.2.5.8.2).

    @ivar hasSoughtLess: Nonzero if fewer rows than asked were passed.
    @ivar rowsSought: Rows actually moved (signed).
    """

    hasSoughtLess: int = 0
    rowsSought: int = 0

    @classmethod
    def _readSuccess(cls, r, ctx, request, header):
        return cls(hasSoughtLess=r.u8(), rowsSought=r.i32(), **header)

    def _writeSuccess(self, w, ctx, request):
        w.u8(self.hasSoughtLess)
        w.i32(self.rowsSought)


# RopSeekRowBookmark ([MS-OXCROPS] 2.2.5.9)


@ropRequest(0x19)
@dataclass(slots=True)
class SeekRowBookmarkRequest(RopRequest):
    """
    RopSeekRowBookmark request ([MS-OXCROPS] 2.2.5.9.1).

    @ivar bookmark: The bookmark (u16 BookmarkSize, then the bytes).
    @ivar rowCount: Rows to move from it (signed).
    @ivar wantRowMovedCount: Nonzero if the server is to report the move.
    """

    bookmark: bytes = b""
    rowCount: int = 0
    wantRowMovedCount: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(
            bookmark=_readBinary(r),
            rowCount=r.i32(),
            wantRowMovedCount=r.u8(),
            **header,
        )

    def writeBody(self, w, ctx):
        _writeBinary(w, self.bookmark)
        w.i32(self.rowCount)
        w.u8(self.wantRowMovedCount)


@ropResponse(0x19)
@dataclass(slots=True)
class SeekRowBookmarkResponse(_SuccessBody, RopResponse):
    """
    RopSeekRowBookmark response ([MS-OXCROPS] 2.2.5.9.2).

    MS-OXCROPS calls RowsSought unsigned, but it carries the same signed
    count as RopSeekRow's ([MS-OXCTABL] 2.2.2.10.2); it is read as signed
    (the bytes are the same either way).

    @ivar rowNoLongerVisible: Nonzero if the bookmarked row is gone.
    @ivar hasSoughtLess: Nonzero if fewer rows than asked were passed.
    @ivar rowsSought: Rows actually moved (signed).
    """

    rowNoLongerVisible: int = 0
    hasSoughtLess: int = 0
    rowsSought: int = 0

    @classmethod
    def _readSuccess(cls, r, ctx, request, header):
        return cls(
            rowNoLongerVisible=r.u8(),
            hasSoughtLess=r.u8(),
            rowsSought=r.i32(),
            **header,
        )

    def _writeSuccess(self, w, ctx, request):
        w.u8(self.rowNoLongerVisible)
        w.u8(self.hasSoughtLess)
        w.i32(self.rowsSought)


# RopSeekRowFractional ([MS-OXCROPS] 2.2.5.10)


@ropRequest(0x1A)
@dataclass(slots=True)
class SeekRowFractionalRequest(RopRequest):
    """
    RopSeekRowFractional request ([MS-OXCROPS] 2.2.5.10.1): move to the
    row at C{numerator / denominator} of the table.

    @ivar numerator: The numerator of the fraction.
    @ivar denominator: The denominator of the fraction.
    """

    numerator: int = 0
    denominator: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(numerator=r.u32(), denominator=r.u32(), **header)

    def writeBody(self, w, ctx):
        w.u32(self.numerator)
        w.u32(self.denominator)


@ropResponse(0x1A)
@dataclass(slots=True)
class SeekRowFractionalResponse(RopResponse):
    """
    RopSeekRowFractional response ([MS-OXCROPS] 2.2.5.10.2): the header
    alone, success or not.
    """


# RopCreateBookmark ([MS-OXCROPS] 2.2.5.11)


@ropRequest(0x1B)
@dataclass(slots=True)
class CreateBookmarkRequest(RopRequest):
    """
    RopCreateBookmark request ([MS-OXCROPS] 2.2.5.11.1): the header alone.
    """


@ropResponse(0x1B)
@dataclass(slots=True)
class CreateBookmarkResponse(_SuccessBody, RopResponse):
    """
    RopCreateBookmark response ([MS-OXCROPS] 2.2.5.11.2).

    @ivar bookmark: The new bookmark (u16 BookmarkSize, then the bytes).
    """

    bookmark: bytes = b""

    @classmethod
    def _readSuccess(cls, r, ctx, request, header):
        return cls(bookmark=_readBinary(r), **header)

    def _writeSuccess(self, w, ctx, request):
        _writeBinary(w, self.bookmark)


# RopQueryColumnsAll ([MS-OXCROPS] 2.2.5.12)


@ropRequest(0x37)
@dataclass(slots=True)
class QueryColumnsAllRequest(RopRequest):
    """
    RopQueryColumnsAll request ([MS-OXCROPS] 2.2.5.12.1): the header
    alone.
    """


@ropResponse(0x37)
@dataclass(slots=True)
class QueryColumnsAllResponse(_SuccessBody, RopResponse):
    """
    RopQueryColumnsAll response ([MS-OXCROPS] 2.2.5.12.2): every column the
    table has (not the columns set; nothing is recorded).

    @ivar propertyTags: The property tags (u16 count, then u32 each).
    """

    propertyTags: list = field(default_factory=list)

    @classmethod
    def _readSuccess(cls, r, ctx, request, header):
        return cls(propertyTags=r.u32Array(r.u16()), **header)

    def _writeSuccess(self, w, ctx, request):
        w.u16(len(self.propertyTags))
        w.u32Array(self.propertyTags)


# RopFindRow ([MS-OXCROPS] 2.2.5.13)


@ropRequest(0x4F)
@dataclass(slots=True)
class FindRowRequest(RopRequest):
    """
    RopFindRow request ([MS-OXCROPS] 2.2.5.13.1): FindRowFlags, a
    size-prefixed restriction, Origin and a size-prefixed bookmark (used
    when Origin is L{BOOKMARK_CUSTOM}, present and usually empty
    otherwise).

    @ivar findRowFlags: L{FIND_ROW_FORWARD} or L{FIND_ROW_BACKWARD}.
    @ivar restriction: A L{Restriction}, or L{None} (see
        L{RestrictRequest}).
    @ivar restrictionTail: Undecoded bytes inside RestrictionDataSize.
    @ivar origin: A C{BOOKMARK_*} value.
    @ivar bookmark: The custom bookmark bytes.
    @ivar columns: Not on the wire: the table's columns when this request
        was decoded or encoded (L{columnsOf}), or L{None}.
    """

    findRowFlags: int = 0
    restriction: Optional[Restriction] = None
    restrictionTail: bytes = b""
    origin: int = 0
    bookmark: bytes = b""
    columns: Optional[list] = field(default=None, compare=False, repr=False)

    @classmethod
    def readBody(cls, r, ctx, header):
        flags = r.u8()
        restriction, tail = _readRestriction(r)
        origin = r.u8()
        bookmark = _readBinary(r)
        rop = cls(
            findRowFlags=flags,
            restriction=restriction,
            restrictionTail=tail,
            origin=origin,
            bookmark=bookmark,
            **header,
        )
        rop.columns = _snapshot(ctx, rop.inputHandleIndex)
        return rop

    def writeBody(self, w, ctx):
        w.u8(self.findRowFlags)
        _writeRestriction(w, self.restriction, self.restrictionTail)
        w.u8(self.origin)
        _writeBinary(w, self.bookmark)
        self.columns = _snapshot(ctx, self.inputHandleIndex)


@ropResponse(0x4F)
@dataclass(slots=True)
class FindRowResponse(_SuccessBody, RopResponse):
    """
    RopFindRow response ([MS-OXCROPS] 2.2.5.13.2): RowNoLongerVisible,
    HasRowData and, when HasRowData is nonzero, one L{PropertyRow} in the
    table's columns.

    @ivar rowNoLongerVisible: Nonzero if the bookmarked row is gone.
    @ivar hasRowData: Nonzero if C{row} follows.
    @ivar row: The L{PropertyRow} found, or L{None}.
    """

    rowNoLongerVisible: int = 0
    hasRowData: int = 0
    row: Optional[PropertyRow] = None

    @classmethod
    def _readSuccess(cls, r, ctx, request, header):
        invisible = r.u8()
        hasRow = r.u8()
        row = None
        if hasRow:
            row = PropertyRow.read(r, columnsOf(ctx, request, header["handleIndex"]))
        return cls(rowNoLongerVisible=invisible, hasRowData=hasRow, row=row, **header)

    def _writeSuccess(self, w, ctx, request):
        w.u8(self.rowNoLongerVisible)
        w.u8(self.hasRowData)
        if self.hasRowData:
            if self.row is None:
                raise RopError("RopFindRow: HasRowData is set but there is no row")
            self.row.write(w, columnsOf(ctx, request, self.handleIndex))


# RopFreeBookmark ([MS-OXCROPS] 2.2.5.14)


@ropRequest(0x89)
@dataclass(slots=True)
class FreeBookmarkRequest(RopRequest):
    """
    RopFreeBookmark request ([MS-OXCROPS] 2.2.5.14.1).

    @ivar bookmark: The bookmark to free (u16 BookmarkSize, then the
        bytes).
    """

    bookmark: bytes = b""

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(bookmark=_readBinary(r), **header)

    def writeBody(self, w, ctx):
        _writeBinary(w, self.bookmark)


@ropResponse(0x89)
@dataclass(slots=True)
class FreeBookmarkResponse(RopResponse):
    """
    RopFreeBookmark response ([MS-OXCROPS] 2.2.5.14.2): the header alone.
    """


# RopResetTable ([MS-OXCROPS] 2.2.5.15)


@ropRequest(0x81)
@dataclass(slots=True)
class ResetTableRequest(RopRequest):
    """
    RopResetTable request ([MS-OXCROPS] 2.2.5.15.1): the header alone.

    The server drops the columns, sort order and restriction of the
    table; the columns recorded in L{RopContext.columns} are kept (a client
    sends RopSetColumns again before reading rows, [MS-OXCTABL] 3.1.5).
    """


@ropResponse(0x81)
@dataclass(slots=True)
class ResetTableResponse(RopResponse):
    """
    RopResetTable response ([MS-OXCROPS] 2.2.5.15.2): the header alone.
    """


# RopExpandRow ([MS-OXCROPS] 2.2.5.16)


@ropRequest(0x59)
@dataclass(slots=True)
class ExpandRowRequest(RopRequest):
    """
    RopExpandRow request ([MS-OXCROPS] 2.2.5.16.1).

    @ivar maxRowCount: The most rows of the category to return.
    @ivar categoryId: The Cid of the category header row.
    @ivar columns: Not on the wire: the table's columns when this request
        was decoded or encoded (L{columnsOf}), or L{None}.
    """

    maxRowCount: int = 0
    categoryId: int = 0
    columns: Optional[list] = field(default=None, compare=False, repr=False)

    @classmethod
    def readBody(cls, r, ctx, header):
        rop = cls(maxRowCount=r.u16(), categoryId=r.u64(), **header)
        rop.columns = _snapshot(ctx, rop.inputHandleIndex)
        return rop

    def writeBody(self, w, ctx):
        w.u16(self.maxRowCount)
        w.u64(self.categoryId)
        self.columns = _snapshot(ctx, self.inputHandleIndex)


@ropResponse(0x59)
@dataclass(slots=True)
class ExpandRowResponse(_SuccessBody, RopResponse):
    """
    RopExpandRow response ([MS-OXCROPS] 2.2.5.16.2): ExpandedRowCount, a
    u16 RowCount and that many L{PropertyRow}s in the table's columns.

    @ivar expandedRowCount: Rows in the expanded category.
    @ivar rows: L{PropertyRow} items.
    """

    expandedRowCount: int = 0
    rows: list = field(default_factory=list)

    @classmethod
    def _readSuccess(cls, r, ctx, request, header):
        expanded = r.u32()
        count = r.u16()
        rows = []
        if count:
            rows = _readRows(r, count, columnsOf(ctx, request, header["handleIndex"]))
        return cls(expandedRowCount=expanded, rows=rows, **header)

    def _writeSuccess(self, w, ctx, request):
        w.u32(self.expandedRowCount)
        w.u16(len(self.rows))
        if self.rows:
            _writeRows(w, self.rows, columnsOf(ctx, request, self.handleIndex))


# RopCollapseRow ([MS-OXCROPS] 2.2.5.17)


@ropRequest(0x5A)
@dataclass(slots=True)
class CollapseRowRequest(RopRequest):
    """
    RopCollapseRow request ([MS-OXCROPS] 2.2.5.17.1).

    @ivar categoryId: The Cid of the category header row.
    """

    categoryId: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(categoryId=r.u64(), **header)

    def writeBody(self, w, ctx):
        w.u64(self.categoryId)


@ropResponse(0x5A)
@dataclass(slots=True)
class CollapseRowResponse(_SuccessBody, RopResponse):
    """
    RopCollapseRow response ([MS-OXCROPS] 2.2.5.17.2).

    @ivar collapsedRowCount: Rows hidden by the collapse.
    """

    collapsedRowCount: int = 0

    @classmethod
    def _readSuccess(cls, r, ctx, request, header):
        return cls(collapsedRowCount=r.u32(), **header)

    def _writeSuccess(self, w, ctx, request):
        w.u32(self.collapsedRowCount)


# RopGetCollapseState ([MS-OXCROPS] 2.2.5.18)


@ropRequest(0x6B)
@dataclass(slots=True)
class GetCollapseStateRequest(RopRequest):
    """
    RopGetCollapseState request ([MS-OXCROPS] 2.2.5.18.1).

    @ivar rowId: The Id of the row whose position the state remembers.
    @ivar rowInstanceNumber: Its instance number (multivalued columns).
    """

    rowId: int = 0
    rowInstanceNumber: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(rowId=r.u64(), rowInstanceNumber=r.u32(), **header)

    def writeBody(self, w, ctx):
        w.u64(self.rowId)
        w.u32(self.rowInstanceNumber)


@ropResponse(0x6B)
@dataclass(slots=True)
class GetCollapseStateResponse(_SuccessBody, RopResponse):
    """
    RopGetCollapseState response ([MS-OXCROPS] 2.2.5.18.2).

    @ivar collapseState: The opaque state (u16 CollapseStateSize, then the
        bytes).
    """

    collapseState: bytes = b""

    @classmethod
    def _readSuccess(cls, r, ctx, request, header):
        return cls(collapseState=_readBinary(r), **header)

    def _writeSuccess(self, w, ctx, request):
        _writeBinary(w, self.collapseState)


# RopSetCollapseState ([MS-OXCROPS] 2.2.5.19)


@ropRequest(0x6C)
@dataclass(slots=True)
class SetCollapseStateRequest(RopRequest):
    """
    RopSetCollapseState request ([MS-OXCROPS] 2.2.5.19.1).

    @ivar collapseState: A state from RopGetCollapseState (u16
        CollapseStateSize, then the bytes).
    """

    collapseState: bytes = b""

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(collapseState=_readBinary(r), **header)

    def writeBody(self, w, ctx):
        _writeBinary(w, self.collapseState)


@ropResponse(0x6C)
@dataclass(slots=True)
class SetCollapseStateResponse(_SuccessBody, RopResponse):
    """
    RopSetCollapseState response ([MS-OXCROPS] 2.2.5.19.2).

    @ivar bookmark: A bookmark to the row named in RopGetCollapseState (u16
        BookmarkSize, then the bytes).
    """

    bookmark: bytes = b""

    @classmethod
    def _readSuccess(cls, r, ctx, request, header):
        return cls(bookmark=_readBinary(r), **header)

    def _writeSuccess(self, w, ctx, request):
        _writeBinary(w, self.bookmark)
