"""
Tests for L{mapiproxy.mapi.rops.table}: the table ROPs of [MS-OXCROPS]
2.2.5.

Golden bytes are laid out by hand from the MS-OXCROPS field tables; the
RopSetColumns/RopQueryRows exchange of [MS-OXORULE] 4.2.1-4.2.2 and the
RopQueryRows request and RopSortTable response of [MS-OXCTABL] 4.3.2 and
4.5.3.1 are Microsoft's own example bytes (an independent source).
"""

from hypothesis import given, settings, strategies as st

from twisted.trial.unittest import SynchronousTestCase

from mapiproxy.errors import RopError
from mapiproxy.mapi.oxcdata import (
    FLAG_ERROR,
    FLAG_NOT_FOUND,
    FLAG_VALUE,
    ROW_FLAGGED,
    ROW_STANDARD,
    AndRestriction,
    ExistRestriction,
    FlaggedPropertyValue,
    FlaggedPropertyValueWithType,
    PropertyRestriction,
    PropertyRow,
    SortOrder,
    TaggedPropertyValue,
    TypedPropertyValue,
)
from mapiproxy.mapi.rops import base, table
from mapiproxy.mapi.rops.base import (
    Reader,
    RopContext,
    UnknownRop,
    decodeRequests,
    decodeResponses,
    encodeRequests,
    encodeResponses,
    loadFamilies,
)
from mapiproxy.mapi.rops.table import (
    BOOKMARK_CURRENT,
    BOOKMARK_CUSTOM,
    BOOKMARK_END,
    FIND_ROW_BACKWARD,
    QUERY_ROWS_NO_ADVANCE,
    TBL_ASYNC,
    TBL_BATCH,
    TBLSTAT_COMPLETE,
    TBLSTAT_RESTRICT_ERROR,
    TBLSTAT_SETTING_COLS,
    TBLSTAT_SORTING,
    AbortRequest,
    AbortResponse,
    CollapseRowRequest,
    CollapseRowResponse,
    CreateBookmarkRequest,
    CreateBookmarkResponse,
    ExpandRowRequest,
    ExpandRowResponse,
    FindRowRequest,
    FindRowResponse,
    FreeBookmarkRequest,
    FreeBookmarkResponse,
    GetCollapseStateRequest,
    GetCollapseStateResponse,
    GetStatusRequest,
    GetStatusResponse,
    QueryColumnsAllRequest,
    QueryColumnsAllResponse,
    QueryPositionRequest,
    QueryPositionResponse,
    QueryRowsRequest,
    QueryRowsResponse,
    ResetTableRequest,
    ResetTableResponse,
    RestrictRequest,
    RestrictResponse,
    SeekRowBookmarkRequest,
    SeekRowBookmarkResponse,
    SeekRowFractionalRequest,
    SeekRowFractionalResponse,
    SeekRowRequest,
    SeekRowResponse,
    SetCollapseStateRequest,
    SetCollapseStateResponse,
    SetColumnsRequest,
    SetColumnsResponse,
    SortTableRequest,
    SortTableResponse,
    columnsOf,
)

_FAST = settings(max_examples=200, deadline=None)

#: The handle table of the golden buffers: index 1 is the table.
_HANDLES = [0x00000223, 0x0000ABCD]
_TABLE = 0x0000ABCD

# Property tags used by the golden rows.
_PidTagSubject = 0x0037001F
_PidTagMessageClass8 = 0x001A001E
_PidTagMessageSize = 0x0E080003
_PidTagFolderId = 0x67480014
_PidTagHasAttachments = 0x0E1B000B
_PidTagEntryId = 0x0FFF0102
_PidTagMessageFlags = 0x0E070003
_PidTagMessageDeliveryTime = 0x0E060040
_PidTagRuleId = 0x66740014
_PidTagRuleProviderData = 0x66840102
_PidTagRuleName = 0x6682001F
_PidTagAnyUnspecified = 0x7FFF0000

#: Failure ReturnValues used below ([MS-OXCDATA] 2.4).
_ecNotSupported = 0x80040102
_ecNotFound = 0x8004010F
_ecInvalidBookmark = 0x80040405


def _h(text):
    """
    Bytes from spaced hex.
    """
    return bytes.fromhex(text.replace("-", " "))


def _ctxWithColumns(columns, handle=_TABLE):
    ctx = RopContext()
    ctx.columns[handle] = list(columns)
    return ctx


class _GoldenMixin:
    """
    Helpers that check one ROP against golden bytes both ways.
    """

    def assertRequest(self, data, expected, ctx=None, handles=_HANDLES):
        """
        C{data} decodes to C{[expected]}, re-encodes to C{data}, and a
        freshly built C{expected} encodes to C{data}.
        """
        ctx = ctx if ctx is not None else RopContext()
        items = decodeRequests(data, handles, ctx)
        self.assertEqual(items, [expected])
        self.assertEqual(encodeRequests(items, RopContext(), handles), data)
        self.assertEqual(encodeRequests([expected], RopContext(), handles), data)
        return items[0]

    def assertResponse(self, data, expected, request, columns=None, handles=_HANDLES):
        """
        C{data} decodes to C{[expected]} when paired with C{request} (the
        table having C{columns}), re-encodes to C{data}, and a freshly
        built C{expected} encodes to C{data}.
        """

        def context():
            if columns is None:
                return RopContext()
            return _ctxWithColumns(columns)

        items = decodeResponses(
            data, handles, [request], context(), requestHandles=handles
        )
        self.assertEqual(items, [expected])
        self.assertEqual(
            encodeResponses(
                items, [request], context(), handles=handles, requestHandles=handles
            ),
            data,
        )
        self.assertEqual(
            encodeResponses(
                [expected],
                [request],
                context(),
                handles=handles,
                requestHandles=handles,
            ),
            data,
        )
        return items[0]


class RegistrationTests(SynchronousTestCase):
    """
    The module registers one request and one response class per table ROP.
    """

    def test_ids(self):
        """
        The RopIds are those of [MS-OXCROPS] 2.2.2 (RopAbort is 0x38, not
        RopAbortSubmit's 0x34 nor RopGetReceiveFolderTable's 0x68).
        """
        expected = {
            0x12: (SetColumnsRequest, SetColumnsResponse, "RopSetColumns"),
            0x13: (SortTableRequest, SortTableResponse, "RopSortTable"),
            0x14: (RestrictRequest, RestrictResponse, "RopRestrict"),
            0x15: (QueryRowsRequest, QueryRowsResponse, "RopQueryRows"),
            0x16: (GetStatusRequest, GetStatusResponse, "RopGetStatus"),
            0x17: (QueryPositionRequest, QueryPositionResponse, "RopQueryPosition"),
            0x18: (SeekRowRequest, SeekRowResponse, "RopSeekRow"),
            0x19: (
                SeekRowBookmarkRequest,
                SeekRowBookmarkResponse,
                "RopSeekRowBookmark",
            ),
            0x1A: (
                SeekRowFractionalRequest,
                SeekRowFractionalResponse,
                "RopSeekRowFractional",
            ),
            0x1B: (CreateBookmarkRequest, CreateBookmarkResponse, "RopCreateBookmark"),
            0x37: (
                QueryColumnsAllRequest,
                QueryColumnsAllResponse,
                "RopQueryColumnsAll",
            ),
            0x38: (AbortRequest, AbortResponse, "RopAbort"),
            0x4F: (FindRowRequest, FindRowResponse, "RopFindRow"),
            0x59: (ExpandRowRequest, ExpandRowResponse, "RopExpandRow"),
            0x5A: (CollapseRowRequest, CollapseRowResponse, "RopCollapseRow"),
            0x6B: (
                GetCollapseStateRequest,
                GetCollapseStateResponse,
                "RopGetCollapseState",
            ),
            0x6C: (
                SetCollapseStateRequest,
                SetCollapseStateResponse,
                "RopSetCollapseState",
            ),
            0x81: (ResetTableRequest, ResetTableResponse, "RopResetTable"),
            0x89: (FreeBookmarkRequest, FreeBookmarkResponse, "RopFreeBookmark"),
        }
        for ropId, (req, resp, name) in expected.items():
            self.assertIs(base.REQUEST_CLASSES[ropId], req)
            self.assertIs(base.RESPONSE_CLASSES[ropId], resp)
            self.assertEqual((req.ROP_ID, resp.ROP_ID), (ropId, ropId))
            self.assertEqual((req.NAME, resp.NAME), (name, name))
        registered = {
            ropId
            for ropId, cls in base.REQUEST_CLASSES.items()
            if cls.__module__ == table.__name__
        }
        self.assertEqual(registered, set(expected))


class SetColumnsTests(_GoldenMixin, SynchronousTestCase):
    """
    RopSetColumns ([MS-OXCROPS] 2.2.5.1).
    """

    # [MS-OXORULE] 4.2.1: PidTagRuleId, PidTagRuleProviderData,
    # PidTagRuleName on the table at index 1.
    REQUEST = _h("12 00 01 00 03 00 14 00-74 66 02 01 84 66 1f 00 82 66")

    def test_request(self):
        """
        The request carries SetColumnsFlags, a u16 count and u32 tags, and
        decoding it records the tags under the table's handle.
        """
        ctx = RopContext()
        rop = self.assertRequest(
            self.REQUEST,
            SetColumnsRequest(
                logonId=0,
                inputHandleIndex=1,
                setColumnsFlags=0,
                propertyTags=[_PidTagRuleId, _PidTagRuleProviderData, _PidTagRuleName],
            ),
            ctx=ctx,
        )
        self.assertEqual(rop.propertyTags[2], 0x6682001F)
        self.assertEqual(
            ctx.columns,
            {_TABLE: [_PidTagRuleId, _PidTagRuleProviderData, _PidTagRuleName]},
        )

    def test_requestAsync(self):
        """
        TBL_ASYNC and another logon are kept.
        """
        data = _h("12 03 00 01 01 00 03 00 08 0e")
        ctx = RopContext()
        self.assertRequest(
            data,
            SetColumnsRequest(
                logonId=3,
                inputHandleIndex=0,
                setColumnsFlags=TBL_ASYNC,
                propertyTags=[_PidTagMessageSize],
            ),
            ctx=ctx,
        )
        self.assertEqual(ctx.columns, {0x223: [_PidTagMessageSize]})

    def test_encodingRecordsColumns(self):
        """
        Encoding a request records its columns too, so that responses
        encoded afterwards can lay their rows out.
        """
        ctx = RopContext()
        encodeRequests(
            [SetColumnsRequest(inputHandleIndex=1, propertyTags=[_PidTagSubject])],
            ctx,
            _HANDLES,
        )
        self.assertEqual(ctx.columns, {_TABLE: [_PidTagSubject]})

    def test_latestWins(self):
        """
        A second RopSetColumns on the same table replaces the columns.
        """
        ctx = RopContext()
        decodeRequests(
            self.REQUEST + _h("12 00 01 00 01 00 03 00 08 0e"), _HANDLES, ctx
        )
        self.assertEqual(ctx.columns, {_TABLE: [_PidTagMessageSize]})

    def test_unknownHandleIndex(self):
        """
        An InputHandleIndex outside the handle table records nothing.
        """
        ctx = RopContext()
        [rop] = decodeRequests(_h("12 00 07 00 01 00 03 00 08 0e"), _HANDLES, ctx)
        self.assertEqual(rop.propertyTags, [_PidTagMessageSize])
        self.assertEqual(ctx.columns, {})

    def test_response(self):
        """
        The success response carries TableStatus ([MS-OXORULE] 4.2.2).
        """
        request = SetColumnsRequest(inputHandleIndex=1)
        self.assertResponse(
            _h("12 01 00 00 00 00 00"),
            SetColumnsResponse(handleIndex=1, tableStatus=TBLSTAT_COMPLETE),
            request,
        )
        self.assertResponse(
            _h("12 01 00 00 00 00 0b"),
            SetColumnsResponse(handleIndex=1, tableStatus=TBLSTAT_SETTING_COLS),
            request,
        )

    def test_failure(self):
        """
        The failure response has no TableStatus.
        """
        self.assertResponse(
            _h("12 01 02 01 04 80"),
            SetColumnsResponse(handleIndex=1, returnValue=_ecNotSupported),
            SetColumnsRequest(inputHandleIndex=1),
        )

    def test_truncated(self):
        """
        A request cut inside its tag array does not decode.
        """
        [rop] = decodeRequests(self.REQUEST[:-1], _HANDLES, RopContext())
        self.assertIsInstance(rop, UnknownRop)
        self.assertEqual(rop.data, self.REQUEST[:-1])


class SortTableTests(_GoldenMixin, SynchronousTestCase):
    """
    RopSortTable ([MS-OXCROPS] 2.2.5.2).
    """

    def test_request(self):
        """
        SortTableFlags, SortOrderCount, CategorizedCount, ExpandedCount and
        the SortOrders (type u16, id u16, order u8).
        """
        data = _h("13 00 01 02 02 00 01 00 01 00" " 1e 00 1a 00 00" " 40 00 06 0e 01")
        rop = self.assertRequest(
            data,
            SortTableRequest(
                inputHandleIndex=1,
                sortTableFlags=TBL_BATCH,
                categorizedCount=1,
                expandedCount=1,
                sortOrders=[
                    SortOrder(propertyType=0x001E, propertyId=0x001A, order=0),
                    SortOrder(propertyType=0x0040, propertyId=0x0E06, order=1),
                ],
            ),
        )
        self.assertEqual(
            [o.tag for o in rop.sortOrders],
            [_PidTagMessageClass8, _PidTagMessageDeliveryTime],
        )

    def test_requestEmpty(self):
        """
        No sort order at all.
        """
        self.assertRequest(
            _h("13 00 00 00 00 00 00 00 00 00"),
            SortTableRequest(inputHandleIndex=0),
        )

    def test_countTooLarge(self):
        """
        A SortOrderCount larger than the bytes left does not decode.
        """
        [rop] = decodeRequests(
            _h("13 00 01 00 09 00 00 00 00 00 1e 00 1a 00 00"), _HANDLES, RopContext()
        )
        self.assertIsInstance(rop, UnknownRop)

    def test_response(self):
        """
        TableStatus on success ([MS-OXCTABL] 4.3.2), nothing on failure.
        """
        request = SortTableRequest(inputHandleIndex=1)
        self.assertResponse(
            _h("13 01 00 00 00 00 00"), SortTableResponse(handleIndex=1), request
        )
        self.assertResponse(
            _h("13 01 00 00 00 00 09"),
            SortTableResponse(handleIndex=1, tableStatus=TBLSTAT_SORTING),
            request,
        )
        self.assertResponse(
            _h("13 01 02 01 04 80"),
            SortTableResponse(handleIndex=1, returnValue=_ecNotSupported),
            request,
        )


class RestrictTests(_GoldenMixin, SynchronousTestCase):
    """
    RopRestrict ([MS-OXCROPS] 2.2.5.3).
    """

    # And(Property(PidTagMessageFlags == 1), Exist(PidTagSubject)).
    RESTRICTION = _h(
        "00 02 00" " 04 04 03 00 07 0e 03 00 07 0e 01 00 00 00" " 08 1f 00 37 00"
    )

    def _restriction(self):
        return AndRestriction(
            [
                PropertyRestriction(
                    relOp=4,
                    propertyTag=_PidTagMessageFlags,
                    taggedValue=TaggedPropertyValue(_PidTagMessageFlags, 1),
                ),
                ExistRestriction(_PidTagSubject),
            ]
        )

    def test_request(self):
        """
        RestrictFlags, RestrictionDataSize and the restriction.
        """
        self.assertEqual(len(self.RESTRICTION), 0x16)
        data = _h("14 00 01 00 16 00") + self.RESTRICTION
        rop = self.assertRequest(
            data,
            RestrictRequest(inputHandleIndex=1, restriction=self._restriction()),
        )
        self.assertEqual(rop.restriction.restricts[1].propTag, _PidTagSubject)
        self.assertEqual(rop.restrictionTail, b"")

    def test_requestNoRestriction(self):
        """
        A RestrictionDataSize of 0 removes the restriction.
        """
        self.assertRequest(
            _h("14 00 01 01 00 00"),
            RestrictRequest(inputHandleIndex=1, restrictFlags=TBL_ASYNC),
        )

    def test_requestTail(self):
        """
        Bytes inside RestrictionDataSize after the restriction are kept.
        """
        self.assertRequest(
            _h("14 00 01 00 06 00 08 1f 00 37 00 ff"),
            RestrictRequest(
                inputHandleIndex=1,
                restriction=ExistRestriction(_PidTagSubject),
                restrictionTail=b"\xff",
            ),
        )

    def test_requestUndecodableRestriction(self):
        """
        A restriction that does not parse is kept as bytes, and the ROPs
        after it still decode (its size is known).
        """
        data = _h("14 00 01 00 02 00 ee ee") + _h("16 00 01")
        ctx = RopContext()
        items = decodeRequests(data, _HANDLES, ctx)
        self.assertEqual(
            items,
            [
                RestrictRequest(inputHandleIndex=1, restrictionTail=b"\xee\xee"),
                GetStatusRequest(inputHandleIndex=1),
            ],
        )
        self.assertEqual(encodeRequests(items, RopContext(), _HANDLES), data)

    def test_sizePastEnd(self):
        """
        A RestrictionDataSize past the end of the buffer does not decode.
        """
        [rop] = decodeRequests(_h("14 00 01 00 10 00 08 1f"), _HANDLES, RopContext())
        self.assertIsInstance(rop, UnknownRop)

    def test_encodeNotARestriction(self):
        """
        Encoding something that is not a Restriction raises L{RopError}.
        """
        self.assertRaises(
            RopError,
            encodeRequests,
            [RestrictRequest(restriction="x")],
            RopContext(),
        )

    def test_response(self):
        """
        TableStatus on success, nothing on failure.
        """
        request = RestrictRequest(inputHandleIndex=1)
        self.assertResponse(
            _h("14 01 00 00 00 00 0f"),
            RestrictResponse(handleIndex=1, tableStatus=TBLSTAT_RESTRICT_ERROR),
            request,
        )
        self.assertResponse(
            _h("14 01 02 01 04 80"),
            RestrictResponse(handleIndex=1, returnValue=_ecNotSupported),
            request,
        )


class QueryRowsTests(_GoldenMixin, SynchronousTestCase):
    """
    RopQueryRows ([MS-OXCROPS] 2.2.5.4).
    """

    # [MS-OXORULE] 4.2.2: one standard row of PidTagRuleId,
    # PidTagRuleProviderData and PidTagRuleName.
    RULES_RESPONSE = _h(
        "15 01 00 00 00 00 02 01-00 00 01 00 00 00 01 3f"
        "f8 56 10 00 01 00 00 00-01 00 00 00 55 55 55 55"
        "d1 44 e3 40 50 00 72 00-6f 00 6a 00 65 00 63 00"
        "74 00 20 00 58 00 00 00"
    )
    RULES_COLUMNS = [_PidTagRuleId, _PidTagRuleProviderData, _PidTagRuleName]

    COLUMNS = [
        _PidTagSubject,
        _PidTagMessageSize,
        _PidTagHasAttachments,
        _PidTagEntryId,
        _PidTagAnyUnspecified,
    ]

    def test_request(self):
        """
        QueryRowsFlags, ForwardRead and RowCount ([MS-OXCTABL] 4.5.3.1).
        """
        self.assertRequest(
            _h("15 00 00 00 01 32 00"),
            QueryRowsRequest(
                inputHandleIndex=0, queryRowsFlags=0, forwardRead=1, rowCount=50
            ),
        )
        self.assertRequest(
            _h("15 01 01 01 00 ff ff"),
            QueryRowsRequest(
                logonId=1,
                inputHandleIndex=1,
                queryRowsFlags=QUERY_ROWS_NO_ADVANCE,
                forwardRead=0,
                rowCount=0xFFFF,
            ),
        )

    def test_requestSnapshotsColumns(self):
        """
        A decoded request remembers the columns its table had then; they
        are not part of equality.
        """
        ctx = _ctxWithColumns([_PidTagSubject])
        [rop] = decodeRequests(_h("15 00 01 00 01 32 00"), _HANDLES, ctx)
        self.assertEqual(rop.columns, [_PidTagSubject])
        self.assertEqual(
            rop, QueryRowsRequest(inputHandleIndex=1, forwardRead=1, rowCount=50)
        )

    def test_rulesTableResponse(self):
        """
        The [MS-OXORULE] 4.2.2 response decodes with the columns of its
        RopSetColumns, and re-encodes to the same bytes.
        """
        row = PropertyRow(
            ROW_STANDARD,
            [
                0x56F83F0100000001,
                _h("01 00 00 00 01 00 00 00 55 55 55 55 d1 44 e3 40"),
                "Project X",
            ],
        )
        rop = self.assertResponse(
            self.RULES_RESPONSE,
            QueryRowsResponse(handleIndex=1, origin=BOOKMARK_END, rows=[row]),
            QueryRowsRequest(inputHandleIndex=1, forwardRead=1, rowCount=50),
            columns=self.RULES_COLUMNS,
        )
        self.assertEqual(rop.rows[0].values[2], "Project X")

    def test_rulesTableExchange(self):
        """
        The [MS-OXORULE] 4.2.1 requests (RopSetColumns then RopQueryRows)
        and the 4.2.2 responses decode as one exchange: the rows use the
        columns set in the same buffer.
        """
        requestBytes = SetColumnsTests.REQUEST + _h("15 00 01 00 01 32 00")
        responseBytes = _h("12 01 00 00 00 00 00") + self.RULES_RESPONSE
        handles = [0x00000223, 0xFFFFFFFF]
        ctx = RopContext()
        requests = decodeRequests(requestBytes, handles, ctx)
        responses = decodeResponses(
            responseBytes, [0x223, 0x451], requests, ctx, requestHandles=handles
        )
        self.assertEqual(
            [type(r) for r in responses], [SetColumnsResponse, QueryRowsResponse]
        )
        self.assertEqual(responses[1].rows[0].values[0], 0x56F83F0100000001)
        self.assertEqual(
            encodeResponses(
                responses,
                requests,
                RopContext(),
                handles=[0x223, 0x451],
                requestHandles=handles,
            ),
            responseBytes,
        )

    def test_rulesTableExchangeWithGetRulesTable(self):
        """
        The complete [MS-OXORULE] 4.2 exchange, whose table is created by
        RopGetRulesTable in the same buffer (placeholder 0xFFFFFFFF in the
        request's handle table), decodes; the columns end up under the real
        handle of the response's table.
        """
        loadFamilies()
        if 0x3F not in base.REQUEST_CLASSES or 0x3F not in base.RESPONSE_CLASSES:
            raise self.skipTest("RopGetRulesTable (logon family) not registered yet")
        requestBytes = (
            _h("3f 00 00 01 40") + SetColumnsTests.REQUEST + _h("15 00 01 00 01 32 00")
        )
        responseBytes = (
            _h("3f 01 00 00 00 00") + _h("12 01 00 00 00 00 00") + self.RULES_RESPONSE
        )
        handles = [0x00000223, 0xFFFFFFFF]
        responseHandles = [0x00000223, 0x00000451]
        ctx = RopContext()
        requests = decodeRequests(requestBytes, handles, ctx)
        self.assertEqual(
            [type(r) for r in requests[1:]], [SetColumnsRequest, QueryRowsRequest]
        )
        responses = decodeResponses(
            responseBytes, responseHandles, requests, ctx, requestHandles=handles
        )
        self.assertEqual(responses[2].rows[0].values[2], "Project X")
        self.assertEqual(ctx.columns[0x451], self.RULES_COLUMNS)

    def test_standardAndFlaggedRows(self):
        """
        Standard rows hold plain values (a PtypUnspecified column a
        TypedPropertyValue); flagged rows hold FlaggedPropertyValues (and a
        FlaggedPropertyValueWithType for PtypUnspecified).
        """
        data = _h(
            "15 01 00 00 00 00 01 02 00"
            # standard row
            " 00"
            " 48 00 69 00 00 00"  # "Hi"
            " 2a 00 00 00"  # 42
            " 01"  # TRUE
            " 02 00 ab cd"  # 2 bytes
            " 03 00 07 00 00 00"  # PtypInteger32 7
            # flagged row
            " 01"
            " 00 41 00 00 00"  # value "A"
            " 01"  # not found
            " 0a 0f 01 04 80"  # error ecNotFound
            " 00 00 00"  # empty binary
            " 1f 00 01"  # PtypString, not found
        )
        rows = [
            PropertyRow(
                ROW_STANDARD,
                ["Hi", 42, True, _h("ab cd"), TypedPropertyValue(0x0003, 7)],
            ),
            PropertyRow(
                ROW_FLAGGED,
                [
                    FlaggedPropertyValue(FLAG_VALUE, "A"),
                    FlaggedPropertyValue(FLAG_NOT_FOUND, None),
                    FlaggedPropertyValue(FLAG_ERROR, _ecNotFound),
                    FlaggedPropertyValue(FLAG_VALUE, b""),
                    FlaggedPropertyValueWithType(0x001F, FLAG_NOT_FOUND, None),
                ],
            ),
        ]
        self.assertResponse(
            data,
            QueryRowsResponse(handleIndex=1, origin=BOOKMARK_CURRENT, rows=rows),
            QueryRowsRequest(inputHandleIndex=1, rowCount=2),
            columns=self.COLUMNS,
        )

    def test_noRows(self):
        """
        Zero rows need no columns.
        """
        self.assertResponse(
            _h("15 01 00 00 00 00 02 00 00"),
            QueryRowsResponse(handleIndex=1, origin=BOOKMARK_END),
            QueryRowsRequest(inputHandleIndex=1),
        )

    def test_failure(self):
        """
        The failure response has no body.
        """
        self.assertResponse(
            _h("15 01 0f 01 04 80"),
            QueryRowsResponse(handleIndex=1, returnValue=_ecNotFound),
            QueryRowsRequest(inputHandleIndex=1),
        )

    def test_unknownColumns(self):
        """
        Rows of a table whose columns were never seen cannot be laid out:
        the response (and the rest of the buffer) is kept as bytes, with a
        reason.
        """
        data = _h("15 01 00 00 00 00 02 01 00 00 2a 00 00 00")
        [rop] = decodeResponses(
            data,
            _HANDLES,
            [QueryRowsRequest(inputHandleIndex=1)],
            RopContext(),
            requestHandles=_HANDLES,
        )
        self.assertIsInstance(rop, UnknownRop)
        self.assertEqual(rop.data, data)
        self.assertIn("RopSetColumns", rop.error)

    def test_encodeUnknownColumns(self):
        """
        Encoding rows for a table without known columns raises
        L{RopError}.
        """
        self.assertRaises(
            RopError,
            encodeResponses,
            [QueryRowsResponse(handleIndex=1, rows=[PropertyRow(0, [1])])],
            [QueryRowsRequest(inputHandleIndex=1)],
            RopContext(),
            handles=_HANDLES,
            requestHandles=_HANDLES,
        )

    def test_withoutRequest(self):
        """
        Without requests, the response's handle index names the table.
        """
        data = _h("15 01 00 00 00 00 02 01 00 00 2a 00 00 00")
        ctx = _ctxWithColumns([_PidTagMessageSize])
        [rop] = decodeResponses(data, _HANDLES, None, ctx)
        self.assertEqual(rop.rows, [PropertyRow(ROW_STANDARD, [42])])
        self.assertEqual(encodeResponses([rop], None, ctx, handles=_HANDLES), data)

    def test_columnsAsOfRequest(self):
        """
        A RopSetColumns after a RopQueryRows in the same buffer does not
        change the columns of that RopQueryRows' rows.
        """
        requestBytes = (
            _h("12 00 01 00 01 00 03 00 08 0e")  # PidTagMessageSize
            + _h("15 00 01 00 01 01 00")
            + _h("12 00 01 00 01 00 1f 00 37 00")  # PidTagSubject
        )
        responseBytes = (
            _h("12 01 00 00 00 00 00")
            + _h("15 01 00 00 00 00 02 01 00 00 2a 00 00 00")
            + _h("12 01 00 00 00 00 00")
        )
        ctx = RopContext()
        requests = decodeRequests(requestBytes, _HANDLES, ctx)
        responses = decodeResponses(
            responseBytes, _HANDLES, requests, ctx, requestHandles=_HANDLES
        )
        self.assertEqual(responses[1].rows, [PropertyRow(ROW_STANDARD, [42])])
        self.assertEqual(ctx.columns[_TABLE], [_PidTagSubject])

    def test_truncatedRow(self):
        """
        A row cut short does not decode.
        """
        data = _h("15 01 00 00 00 00 02 01 00 00 2a 00 00")
        [rop] = decodeResponses(
            data, _HANDLES, None, _ctxWithColumns([_PidTagMessageSize])
        )
        self.assertIsInstance(rop, UnknownRop)


class AbortTests(_GoldenMixin, SynchronousTestCase):
    """
    RopAbort ([MS-OXCROPS] 2.2.5.5).
    """

    def test_request(self):
        """
        The request is the header alone, RopId 0x38.
        """
        self.assertRequest(_h("38 00 01"), AbortRequest(inputHandleIndex=1))

    def test_response(self):
        """
        TableStatus on success, nothing on failure (ecUnableToAbort).
        """
        request = AbortRequest(inputHandleIndex=1)
        self.assertResponse(
            _h("38 01 00 00 00 00 0e"),
            AbortResponse(handleIndex=1, tableStatus=0x0E),
            request,
        )
        self.assertResponse(
            _h("38 01 14 01 04 80"),
            AbortResponse(handleIndex=1, returnValue=0x80040114),
            request,
        )


class GetStatusTests(_GoldenMixin, SynchronousTestCase):
    """
    RopGetStatus ([MS-OXCROPS] 2.2.5.6).
    """

    def test_request(self):
        """
        The request is the header alone.
        """
        self.assertRequest(
            _h("16 02 01"), GetStatusRequest(logonId=2, inputHandleIndex=1)
        )

    def test_response(self):
        """
        TableStatus on success, nothing on failure.
        """
        request = GetStatusRequest(inputHandleIndex=1)
        self.assertResponse(
            _h("16 01 00 00 00 00 09"),
            GetStatusResponse(handleIndex=1, tableStatus=TBLSTAT_SORTING),
            request,
        )
        self.assertResponse(
            _h("16 01 02 01 04 80"),
            GetStatusResponse(handleIndex=1, returnValue=_ecNotSupported),
            request,
        )


class QueryPositionTests(_GoldenMixin, SynchronousTestCase):
    """
    RopQueryPosition ([MS-OXCROPS] 2.2.5.7).
    """

    def test_request(self):
        """
        The request is the header alone.
        """
        self.assertRequest(_h("17 00 01"), QueryPositionRequest(inputHandleIndex=1))

    def test_response(self):
        """
        Numerator and Denominator on success, nothing on failure.
        """
        request = QueryPositionRequest(inputHandleIndex=1)
        self.assertResponse(
            _h("17 01 00 00 00 00 05 00 00 00 2a 00 00 00"),
            QueryPositionResponse(handleIndex=1, numerator=5, denominator=42),
            request,
        )
        self.assertResponse(
            _h("17 01 02 01 04 80"),
            QueryPositionResponse(handleIndex=1, returnValue=_ecNotSupported),
            request,
        )


class SeekRowTests(_GoldenMixin, SynchronousTestCase):
    """
    RopSeekRow ([MS-OXCROPS] 2.2.5.8).
    """

    def test_request(self):
        """
        Origin, a signed RowCount and WantRowMovedCount.
        """
        self.assertRequest(
            _h("18 00 01 01 fb ff ff ff 01"),
            SeekRowRequest(
                inputHandleIndex=1,
                origin=BOOKMARK_CURRENT,
                rowCount=-5,
                wantRowMovedCount=1,
            ),
        )

    def test_response(self):
        """
        HasSoughtLess and a signed RowsSought on success.
        """
        request = SeekRowRequest(inputHandleIndex=1)
        self.assertResponse(
            _h("18 01 00 00 00 00 01 fd ff ff ff"),
            SeekRowResponse(handleIndex=1, hasSoughtLess=1, rowsSought=-3),
            request,
        )
        self.assertResponse(
            _h("18 01 02 01 04 80"),
            SeekRowResponse(handleIndex=1, returnValue=_ecNotSupported),
            request,
        )

    def test_booleanKeptExact(self):
        """
        A Boolean byte other than 0 or 1 is kept as received.
        """
        data = _h("18 00 01 00 00 00 00 00 07")
        [rop] = decodeRequests(data, _HANDLES, RopContext())
        self.assertEqual(rop.wantRowMovedCount, 7)
        self.assertEqual(encodeRequests([rop], RopContext(), _HANDLES), data)


class SeekRowBookmarkTests(_GoldenMixin, SynchronousTestCase):
    """
    RopSeekRowBookmark ([MS-OXCROPS] 2.2.5.9).
    """

    def test_request(self):
        """
        A size-prefixed Bookmark, a signed RowCount and WantRowMovedCount.
        """
        self.assertRequest(
            _h("19 00 01 04 00 de ad be ef 0a 00 00 00 00"),
            SeekRowBookmarkRequest(
                inputHandleIndex=1, bookmark=_h("de ad be ef"), rowCount=10
            ),
        )

    def test_response(self):
        """
        RowNoLongerVisible, HasSoughtLess and RowsSought on success.
        """
        request = SeekRowBookmarkRequest(inputHandleIndex=1)
        self.assertResponse(
            _h("19 01 00 00 00 00 01 00 0a 00 00 00"),
            SeekRowBookmarkResponse(
                handleIndex=1, rowNoLongerVisible=1, hasSoughtLess=0, rowsSought=10
            ),
            request,
        )
        self.assertResponse(
            _h("19 01 05 04 04 80"),
            SeekRowBookmarkResponse(handleIndex=1, returnValue=_ecInvalidBookmark),
            request,
        )


class SeekRowFractionalTests(_GoldenMixin, SynchronousTestCase):
    """
    RopSeekRowFractional ([MS-OXCROPS] 2.2.5.10).
    """

    def test_request(self):
        """
        Numerator and Denominator.
        """
        self.assertRequest(
            _h("1a 00 01 01 00 00 00 02 00 00 00"),
            SeekRowFractionalRequest(inputHandleIndex=1, numerator=1, denominator=2),
        )

    def test_response(self):
        """
        The response is the header alone, success or failure.
        """
        request = SeekRowFractionalRequest(inputHandleIndex=1)
        self.assertResponse(
            _h("1a 01 00 00 00 00"), SeekRowFractionalResponse(handleIndex=1), request
        )
        self.assertResponse(
            _h("1a 01 57 00 07 80"),
            SeekRowFractionalResponse(handleIndex=1, returnValue=0x80070057),
            request,
        )


class CreateBookmarkTests(_GoldenMixin, SynchronousTestCase):
    """
    RopCreateBookmark ([MS-OXCROPS] 2.2.5.11).
    """

    def test_request(self):
        """
        The request is the header alone.
        """
        self.assertRequest(_h("1b 00 01"), CreateBookmarkRequest(inputHandleIndex=1))

    def test_response(self):
        """
        A size-prefixed Bookmark on success, nothing on failure.
        """
        request = CreateBookmarkRequest(inputHandleIndex=1)
        self.assertResponse(
            _h("1b 01 00 00 00 00 04 00 01 02 03 04"),
            CreateBookmarkResponse(handleIndex=1, bookmark=_h("01 02 03 04")),
            request,
        )
        self.assertResponse(
            _h("1b 01 02 01 04 80"),
            CreateBookmarkResponse(handleIndex=1, returnValue=_ecNotSupported),
            request,
        )


class QueryColumnsAllTests(_GoldenMixin, SynchronousTestCase):
    """
    RopQueryColumnsAll ([MS-OXCROPS] 2.2.5.12).
    """

    def test_request(self):
        """
        The request is the header alone.
        """
        self.assertRequest(_h("37 00 01"), QueryColumnsAllRequest(inputHandleIndex=1))

    def test_response(self):
        """
        A counted tag array on success; it records no columns.
        """
        request = QueryColumnsAllRequest(inputHandleIndex=1)
        ctx = RopContext()
        data = _h("37 01 00 00 00 00 02 00 1f 00 37 00 03 00 08 0e")
        [rop] = decodeResponses(data, _HANDLES, [request], ctx, requestHandles=_HANDLES)
        self.assertEqual(rop.propertyTags, [_PidTagSubject, _PidTagMessageSize])
        self.assertEqual(ctx.columns, {})
        self.assertResponse(
            data,
            QueryColumnsAllResponse(
                handleIndex=1, propertyTags=[_PidTagSubject, _PidTagMessageSize]
            ),
            request,
        )
        self.assertResponse(
            _h("37 01 02 01 04 80"),
            QueryColumnsAllResponse(handleIndex=1, returnValue=_ecNotSupported),
            request,
        )


class FindRowTests(_GoldenMixin, SynchronousTestCase):
    """
    RopFindRow ([MS-OXCROPS] 2.2.5.13).
    """

    def test_request(self):
        """
        FindRowFlags, a size-prefixed restriction, Origin and a
        size-prefixed Bookmark.
        """
        self.assertRequest(
            _h("4f 00 01 01 05 00 08 1f 00 37 00 03 02 00 aa bb"),
            FindRowRequest(
                inputHandleIndex=1,
                findRowFlags=FIND_ROW_BACKWARD,
                restriction=ExistRestriction(_PidTagSubject),
                origin=BOOKMARK_CUSTOM,
                bookmark=_h("aa bb"),
            ),
        )

    def test_requestNoRestrictionNoBookmark(self):
        """
        An empty restriction and an empty bookmark.
        """
        self.assertRequest(
            _h("4f 00 01 00 00 00 00 00 00"),
            FindRowRequest(inputHandleIndex=1),
        )

    def test_responseWithRow(self):
        """
        RowNoLongerVisible, HasRowData and the row in the table's columns.
        """
        columns = [_PidTagSubject, _PidTagMessageSize]
        self.assertResponse(
            _h("4f 01 00 00 00 00 01 01 00 41 00 00 00 2a 00 00 00"),
            FindRowResponse(
                handleIndex=1,
                rowNoLongerVisible=1,
                hasRowData=1,
                row=PropertyRow(ROW_STANDARD, ["A", 42]),
            ),
            FindRowRequest(inputHandleIndex=1),
            columns=columns,
        )

    def test_responseWithoutRow(self):
        """
        HasRowData 0: no row, no columns needed.
        """
        self.assertResponse(
            _h("4f 01 00 00 00 00 00 00"),
            FindRowResponse(handleIndex=1),
            FindRowRequest(inputHandleIndex=1),
        )

    def test_failure(self):
        """
        The failure response (ecNotFound) has no body.
        """
        self.assertResponse(
            _h("4f 01 0f 01 04 80"),
            FindRowResponse(handleIndex=1, returnValue=_ecNotFound),
            FindRowRequest(inputHandleIndex=1),
        )

    def test_hasRowDataWithoutRow(self):
        """
        Encoding HasRowData without a row raises L{RopError}.
        """
        self.assertRaises(
            RopError,
            encodeResponses,
            [FindRowResponse(handleIndex=1, hasRowData=1)],
            None,
            _ctxWithColumns([_PidTagSubject]),
            handles=_HANDLES,
        )


class FreeBookmarkTests(_GoldenMixin, SynchronousTestCase):
    """
    RopFreeBookmark ([MS-OXCROPS] 2.2.5.14).
    """

    def test_request(self):
        """
        A size-prefixed Bookmark.
        """
        self.assertRequest(
            _h("89 00 01 04 00 01 02 03 04"),
            FreeBookmarkRequest(inputHandleIndex=1, bookmark=_h("01 02 03 04")),
        )

    def test_response(self):
        """
        The response is the header alone.
        """
        request = FreeBookmarkRequest(inputHandleIndex=1)
        self.assertResponse(
            _h("89 01 00 00 00 00"), FreeBookmarkResponse(handleIndex=1), request
        )
        self.assertResponse(
            _h("89 01 05 04 04 80"),
            FreeBookmarkResponse(handleIndex=1, returnValue=_ecInvalidBookmark),
            request,
        )


class ResetTableTests(_GoldenMixin, SynchronousTestCase):
    """
    RopResetTable ([MS-OXCROPS] 2.2.5.15).
    """

    def test_request(self):
        """
        The request is the header alone.
        """
        self.assertRequest(_h("81 00 01"), ResetTableRequest(inputHandleIndex=1))

    def test_response(self):
        """
        The response is the header alone.
        """
        request = ResetTableRequest(inputHandleIndex=1)
        self.assertResponse(
            _h("81 01 00 00 00 00"), ResetTableResponse(handleIndex=1), request
        )
        self.assertResponse(
            _h("81 01 02 01 04 80"),
            ResetTableResponse(handleIndex=1, returnValue=_ecNotSupported),
            request,
        )


class ExpandRowTests(_GoldenMixin, SynchronousTestCase):
    """
    RopExpandRow ([MS-OXCROPS] 2.2.5.16).
    """

    def test_request(self):
        """
        MaxRowCount and CategoryId.
        """
        self.assertRequest(
            _h("59 00 01 0a 00 01 00 00 00 00 00 00 80"),
            ExpandRowRequest(
                inputHandleIndex=1, maxRowCount=10, categoryId=0x8000000000000001
            ),
        )

    def test_response(self):
        """
        ExpandedRowCount, RowCount and rows in the table's columns.
        """
        self.assertResponse(
            _h(
                "59 01 00 00 00 00 03 00 00 00 02 00"
                " 00 2a 00 00 00"
                " 01 0a 0f 01 04 80"
            ),
            ExpandRowResponse(
                handleIndex=1,
                expandedRowCount=3,
                rows=[
                    PropertyRow(ROW_STANDARD, [42]),
                    PropertyRow(
                        ROW_FLAGGED, [FlaggedPropertyValue(FLAG_ERROR, _ecNotFound)]
                    ),
                ],
            ),
            ExpandRowRequest(inputHandleIndex=1),
            columns=[_PidTagMessageSize],
        )

    def test_responseNoRows(self):
        """
        Zero rows need no columns; failure has no body.
        """
        request = ExpandRowRequest(inputHandleIndex=1)
        self.assertResponse(
            _h("59 01 00 00 00 00 05 00 00 00 00 00"),
            ExpandRowResponse(handleIndex=1, expandedRowCount=5),
            request,
        )
        self.assertResponse(
            _h("59 01 0f 01 04 80"),
            ExpandRowResponse(handleIndex=1, returnValue=_ecNotFound),
            request,
        )


class CollapseRowTests(_GoldenMixin, SynchronousTestCase):
    """
    RopCollapseRow ([MS-OXCROPS] 2.2.5.17).
    """

    def test_request(self):
        """
        CategoryId.
        """
        self.assertRequest(
            _h("5a 00 01 08 07 06 05 04 03 02 01"),
            CollapseRowRequest(inputHandleIndex=1, categoryId=0x0102030405060708),
        )

    def test_response(self):
        """
        CollapsedRowCount on success, nothing on failure.
        """
        request = CollapseRowRequest(inputHandleIndex=1)
        self.assertResponse(
            _h("5a 01 00 00 00 00 03 00 00 00"),
            CollapseRowResponse(handleIndex=1, collapsedRowCount=3),
            request,
        )
        self.assertResponse(
            _h("5a 01 0f 01 04 80"),
            CollapseRowResponse(handleIndex=1, returnValue=_ecNotFound),
            request,
        )


class GetCollapseStateTests(_GoldenMixin, SynchronousTestCase):
    """
    RopGetCollapseState ([MS-OXCROPS] 2.2.5.18).
    """

    def test_request(self):
        """
        RowId and RowInstanceNumber.
        """
        self.assertRequest(
            _h("6b 00 01 11 00 00 00 00 00 00 00 02 00 00 00"),
            GetCollapseStateRequest(
                inputHandleIndex=1, rowId=0x11, rowInstanceNumber=2
            ),
        )

    def test_response(self):
        """
        A size-prefixed CollapseState on success, nothing on failure.
        """
        request = GetCollapseStateRequest(inputHandleIndex=1)
        self.assertResponse(
            _h("6b 01 00 00 00 00 03 00 aa bb cc"),
            GetCollapseStateResponse(handleIndex=1, collapseState=_h("aa bb cc")),
            request,
        )
        self.assertResponse(
            _h("6b 01 0f 01 04 80"),
            GetCollapseStateResponse(handleIndex=1, returnValue=_ecNotFound),
            request,
        )


class SetCollapseStateTests(_GoldenMixin, SynchronousTestCase):
    """
    RopSetCollapseState ([MS-OXCROPS] 2.2.5.19).
    """

    def test_request(self):
        """
        A size-prefixed CollapseState.
        """
        self.assertRequest(
            _h("6c 00 01 03 00 aa bb cc"),
            SetCollapseStateRequest(inputHandleIndex=1, collapseState=_h("aa bb cc")),
        )

    def test_response(self):
        """
        A size-prefixed Bookmark on success, nothing on failure.
        """
        request = SetCollapseStateRequest(inputHandleIndex=1)
        self.assertResponse(
            _h("6c 01 00 00 00 00 02 00 11 22"),
            SetCollapseStateResponse(handleIndex=1, bookmark=_h("11 22")),
            request,
        )
        self.assertResponse(
            _h("6c 01 02 01 04 80"),
            SetCollapseStateResponse(handleIndex=1, returnValue=_ecNotSupported),
            request,
        )


class ColumnsOfTests(SynchronousTestCase):
    """
    Tests for L{columnsOf}.
    """

    def test_requestSnapshotFirst(self):
        """
        The request's snapshot wins over the context.
        """
        ctx = _ctxWithColumns([_PidTagSubject])
        request = QueryRowsRequest(inputHandleIndex=1, columns=[_PidTagMessageSize])
        ctx.handles = _HANDLES
        self.assertEqual(columnsOf(ctx, request), [_PidTagMessageSize])

    def test_contextByRequestIndex(self):
        """
        Without a snapshot, the request's InputHandleIndex names the table.
        """
        ctx = _ctxWithColumns([_PidTagSubject])
        ctx.handles = _HANDLES
        self.assertEqual(
            columnsOf(ctx, QueryRowsRequest(inputHandleIndex=1), 0), [_PidTagSubject]
        )

    def test_unknown(self):
        """
        An unknown table, or no way to name one, raises L{RopError}.
        """
        ctx = RopContext()
        ctx.handles = _HANDLES
        self.assertRaises(
            RopError, columnsOf, ctx, QueryRowsRequest(inputHandleIndex=1)
        )
        self.assertRaises(RopError, columnsOf, ctx, None, None)


# Property-based tests.

# Column types and value strategies that round-trip exactly.
_NO_NUL = st.characters(exclude_characters="\x00", exclude_categories=("Cs",))
_LATIN1 = st.characters(min_codepoint=1, max_codepoint=255)
_VALUES = {
    0x0002: st.integers(0, 0xFFFF),
    0x0003: st.integers(0, 0xFFFFFFFF),
    0x0005: st.floats(allow_nan=False),
    0x000A: st.integers(0, 0xFFFFFFFF),
    0x000B: st.booleans(),
    0x0014: st.integers(0, 0xFFFFFFFFFFFFFFFF),
    0x001E: st.text(_LATIN1, max_size=8),
    0x001F: st.text(_NO_NUL, max_size=8),
    0x0040: st.integers(0, 0xFFFFFFFFFFFFFFFF),
    0x0048: st.uuids(),
    0x0102: st.binary(max_size=12),
    0x1003: st.lists(st.integers(0, 0xFFFFFFFF), max_size=3),
    0x101F: st.lists(st.text(_NO_NUL, max_size=4), max_size=3),
}
_TYPES = sorted(_VALUES) + [0x0000]
_columnLists = st.lists(
    st.builds(
        lambda pid, ptype: (pid << 16) | ptype,
        st.integers(0x0001, 0xFFFE),
        st.sampled_from(_TYPES),
    ),
    min_size=1,
    max_size=4,
)
_u8 = st.integers(0, 0xFF)
_u16 = st.integers(0, 0xFFFF)
_u32 = st.integers(0, 0xFFFFFFFF)
_i32 = st.integers(-(1 << 31), (1 << 31) - 1)
_u64 = st.integers(0, (1 << 64) - 1)
_blob = st.binary(max_size=10)
_failure = st.integers(1, 0xFFFFFFFF)
_restrictions = st.one_of(
    st.none(),
    st.builds(ExistRestriction, _u32),
    st.builds(
        lambda tag, v: PropertyRestriction(4, tag, TaggedPropertyValue(tag, v)),
        st.just(_PidTagMessageFlags),
        _u32,
    ),
)


def _drawValue(draw, ptype):
    if ptype == 0x0000:
        inner = draw(st.sampled_from(sorted(_VALUES)))
        return TypedPropertyValue(inner, draw(_VALUES[inner]))
    return draw(_VALUES[ptype])


def _drawFlagged(draw, ptype):
    flag = draw(st.sampled_from([FLAG_VALUE, FLAG_NOT_FOUND, FLAG_ERROR]))
    if ptype == 0x0000:
        inner = draw(st.sampled_from(sorted(_VALUES)))
        value = None
        if flag == FLAG_VALUE:
            value = draw(_VALUES[inner])
        elif flag == FLAG_ERROR:
            value = draw(_u32)
        return FlaggedPropertyValueWithType(inner, flag, value)
    value = None
    if flag == FLAG_VALUE:
        value = draw(_VALUES[ptype])
    elif flag == FLAG_ERROR:
        value = draw(_u32)
    return FlaggedPropertyValue(flag, value)


def _drawRow(draw, columns):
    if draw(st.booleans()):
        return PropertyRow(
            ROW_STANDARD, [_drawValue(draw, t & 0xFFFF) for t in columns]
        )
    return PropertyRow(ROW_FLAGGED, [_drawFlagged(draw, t & 0xFFFF) for t in columns])


def _drawRows(draw, columns, maxSize=3):
    if columns is None:
        return []
    return [_drawRow(draw, columns) for _ in range(draw(st.integers(0, maxSize)))]


_KINDS = [
    0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B,
    0x37, 0x38, 0x4F, 0x59, 0x5A, 0x6B, 0x6C, 0x81, 0x89,
]  # fmt: skip


def _drawPair(draw, kind, index, columns):
    """
    A random request of RopId C{kind} on the table at C{index} and a
    matching response (success or failure); C{columns} are the table's
    columns before the request (L{None} if never set).

    @return: C{(request, response, columnsAfter)}
    """
    header = {"logonId": draw(_u8), "inputHandleIndex": index}
    ok = draw(st.booleans())
    rh = {"handleIndex": index, "returnValue": 0 if ok else draw(_failure)}
    if kind == 0x12:
        tags = draw(_columnLists)
        req = SetColumnsRequest(setColumnsFlags=draw(_u8), propertyTags=tags, **header)
        resp = SetColumnsResponse(tableStatus=draw(_u8) if ok else 0, **rh)
        return req, resp, tags
    if kind == 0x13:
        req = SortTableRequest(
            sortTableFlags=draw(_u8),
            categorizedCount=draw(_u16),
            expandedCount=draw(_u16),
            sortOrders=draw(
                st.lists(st.builds(SortOrder, _u16, _u16, _u8), max_size=3)
            ),
            **header,
        )
        resp = SortTableResponse(tableStatus=draw(_u8) if ok else 0, **rh)
    elif kind == 0x14:
        restriction = draw(_restrictions)
        req = RestrictRequest(
            restrictFlags=draw(_u8),
            restriction=restriction,
            restrictionTail=draw(_blob) if restriction is not None else b"",
            **header,
        )
        resp = RestrictResponse(tableStatus=draw(_u8) if ok else 0, **rh)
    elif kind == 0x15:
        req = QueryRowsRequest(
            queryRowsFlags=draw(_u8),
            forwardRead=draw(_u8),
            rowCount=draw(_u16),
            **header,
        )
        resp = QueryRowsResponse(**rh)
        if ok:
            resp.origin = draw(_u8)
            resp.rows = _drawRows(draw, columns)
    elif kind == 0x16:
        req = GetStatusRequest(**header)
        resp = GetStatusResponse(tableStatus=draw(_u8) if ok else 0, **rh)
    elif kind == 0x17:
        req = QueryPositionRequest(**header)
        resp = QueryPositionResponse(**rh)
        if ok:
            resp.numerator, resp.denominator = draw(_u32), draw(_u32)
    elif kind == 0x18:
        req = SeekRowRequest(
            origin=draw(_u8), rowCount=draw(_i32), wantRowMovedCount=draw(_u8), **header
        )
        resp = SeekRowResponse(**rh)
        if ok:
            resp.hasSoughtLess, resp.rowsSought = draw(_u8), draw(_i32)
    elif kind == 0x19:
        req = SeekRowBookmarkRequest(
            bookmark=draw(_blob),
            rowCount=draw(_i32),
            wantRowMovedCount=draw(_u8),
            **header,
        )
        resp = SeekRowBookmarkResponse(**rh)
        if ok:
            resp.rowNoLongerVisible = draw(_u8)
            resp.hasSoughtLess = draw(_u8)
            resp.rowsSought = draw(_i32)
    elif kind == 0x1A:
        req = SeekRowFractionalRequest(
            numerator=draw(_u32), denominator=draw(_u32), **header
        )
        resp = SeekRowFractionalResponse(**rh)
    elif kind == 0x1B:
        req = CreateBookmarkRequest(**header)
        resp = CreateBookmarkResponse(bookmark=draw(_blob) if ok else b"", **rh)
    elif kind == 0x37:
        req = QueryColumnsAllRequest(**header)
        resp = QueryColumnsAllResponse(
            propertyTags=draw(st.lists(_u32, max_size=4)) if ok else [], **rh
        )
    elif kind == 0x38:
        req = AbortRequest(**header)
        resp = AbortResponse(tableStatus=draw(_u8) if ok else 0, **rh)
    elif kind == 0x4F:
        restriction = draw(_restrictions)
        req = FindRowRequest(
            findRowFlags=draw(_u8),
            restriction=restriction,
            restrictionTail=draw(_blob) if restriction is not None else b"",
            origin=draw(_u8),
            bookmark=draw(_blob),
            **header,
        )
        resp = FindRowResponse(**rh)
        if ok:
            resp.rowNoLongerVisible = draw(_u8)
            if columns is not None and draw(st.booleans()):
                resp.hasRowData = draw(st.integers(1, 0xFF))
                resp.row = _drawRow(draw, columns)
    elif kind == 0x59:
        req = ExpandRowRequest(maxRowCount=draw(_u16), categoryId=draw(_u64), **header)
        resp = ExpandRowResponse(**rh)
        if ok:
            resp.expandedRowCount = draw(_u32)
            resp.rows = _drawRows(draw, columns)
    elif kind == 0x5A:
        req = CollapseRowRequest(categoryId=draw(_u64), **header)
        resp = CollapseRowResponse(collapsedRowCount=draw(_u32) if ok else 0, **rh)
    elif kind == 0x6B:
        req = GetCollapseStateRequest(
            rowId=draw(_u64), rowInstanceNumber=draw(_u32), **header
        )
        resp = GetCollapseStateResponse(collapseState=draw(_blob) if ok else b"", **rh)
    elif kind == 0x6C:
        req = SetCollapseStateRequest(collapseState=draw(_blob), **header)
        resp = SetCollapseStateResponse(bookmark=draw(_blob) if ok else b"", **rh)
    elif kind == 0x81:
        req = ResetTableRequest(**header)
        resp = ResetTableResponse(**rh)
    else:
        req = FreeBookmarkRequest(bookmark=draw(_blob), **header)
        resp = FreeBookmarkResponse(**rh)
    return req, resp, columns


#: Every table ROP, the row-carrying ones more often.
_kindsWeighted = st.sampled_from(_KINDS + [0x15, 0x4F, 0x59] * 4)


@st.composite
def _exchanges(draw):
    """
    A buffer's worth of table ROP requests on three tables and their
    responses.
    """
    columns = {0: None, 1: None, 2: None}
    requests, responses = [], []
    # Tables 0 and 1 get columns first; table 2 keeps none unless a random
    # RopSetColumns sets them.
    kinds = [0x12, 0x12] + draw(st.lists(_kindsWeighted, max_size=12))
    for position, kind in enumerate(kinds):
        index = position if position < 2 else draw(st.integers(0, 2))
        req, resp, columns[index] = _drawPair(draw, kind, index, columns[index])
        requests.append(req)
        responses.append(resp)
    return requests, responses


_STREAM_HANDLES = [0x1000, 0x2000, 0x3000]


class PropertyTests(SynchronousTestCase):
    """
    Property-based round trips and robustness.
    """

    @_FAST
    @given(_exchanges())
    def test_mixedStreamRoundTrip(self, exchange):
        """
        Random table ROP requests and responses encode, decode back to equal
        objects, and re-encode to the same bytes.
        """
        requests, responses = exchange
        handles = _STREAM_HANDLES
        sender = RopContext()
        requestBytes = encodeRequests(requests, sender, handles)
        responseBytes = encodeResponses(
            responses, requests, sender, handles=handles, requestHandles=handles
        )
        receiver = RopContext()
        decodedRequests = decodeRequests(requestBytes, handles, receiver)
        self.assertEqual(decodedRequests, requests)
        decodedResponses = decodeResponses(
            responseBytes, handles, decodedRequests, receiver, requestHandles=handles
        )
        self.assertEqual(decodedResponses, responses)
        again = RopContext()
        self.assertEqual(encodeRequests(decodedRequests, again, handles), requestBytes)
        self.assertEqual(
            encodeResponses(
                decodedResponses,
                decodedRequests,
                again,
                handles=handles,
                requestHandles=handles,
            ),
            responseBytes,
        )

    @_FAST
    @given(st.sampled_from(_KINDS), st.binary(max_size=40), _columnLists)
    def test_randomBodiesRaiseOnlyRopError(self, ropId, data, columns):
        """
        Random bytes as the body of any table ROP request or (successful)
        response either decode or raise L{RopError}, nothing else.
        """
        ctx = _ctxWithColumns(columns, handle=_STREAM_HANDLES[0])
        ctx.handles = _STREAM_HANDLES
        header = {"logonId": 0, "inputHandleIndex": 0}
        try:
            base.REQUEST_CLASSES[ropId].readBody(Reader(data), ctx, header)
        except RopError:
            pass
        request = base.REQUEST_CLASSES[ropId](inputHandleIndex=0)
        if hasattr(request, "columns"):
            request.columns = list(columns)
        try:
            base.RESPONSE_CLASSES[ropId].readBody(
                Reader(data), ctx, request, {"handleIndex": 0, "returnValue": 0}
            )
        except RopError:
            pass

    @_FAST
    @given(st.sampled_from(_KINDS), st.binary(max_size=40), _columnLists)
    def test_randomBuffers(self, ropId, data, columns):
        """
        Random ROP lists that start with a table ROP decode to ROPs and at
        most a final L{UnknownRop}, whose error comes from L{RopError}
        (never a leaked Python exception), and re-encode to the same bytes.
        """
        handles = _STREAM_HANDLES
        buf = bytes([ropId]) + data
        ctx = _ctxWithColumns(columns, handle=handles[0])
        requests = decodeRequests(buf, handles, ctx)
        responses = decodeResponses(buf, handles, requests, ctx, requestHandles=handles)
        for items in (requests, responses):
            for item in items[:-1]:
                self.assertNotIsInstance(item, UnknownRop)
            last = items[-1] if items else None
            if isinstance(last, UnknownRop) and last.ropId in _KINDS:
                self.assertFalse(last.error.split(":")[0].endswith("Error"), last.error)
        if all(
            isinstance(item, UnknownRop) or type(item).__module__ == table.__name__
            for item in requests
        ):
            self.assertEqual(encodeRequests(requests, RopContext(), handles), buf)
