"""
Tests for L{mapiproxy.mapi.rops.property}: the property and stream ROPs of
[MS-OXCROPS] 2.2.8 and 2.2.9.

Golden bytes are laid out by hand from the MS-OXCROPS field tables, except
Microsoft's own example bytes from [MS-OXCPRPT] 4 (an independent source):
the RopGetPropertyIdsFromNames response of 4.1.2, the RopSetProperties
request and response of 4.2.1-4.2.2, the RopGetPropertiesSpecific request
of 4.3.1 and the RopOpenStream request of 4.4.1.1.

Every golden test checks three things: the bytes decode to the expected
object, that object re-encodes to the same bytes, and a freshly built
object encodes to them too.
"""

import re
import uuid

from hypothesis import given, settings, strategies as st

from twisted.trial.unittest import SynchronousTestCase

from mapiproxy.errors import RopError
from mapiproxy.mapi.oxcdata import (
    FLAG_ERROR,
    FLAG_NOT_FOUND,
    FLAG_VALUE,
    MNID_ID,
    MNID_NONE,
    MNID_STRING,
    ROW_FLAGGED,
    ROW_STANDARD,
    FlaggedPropertyValue,
    FlaggedPropertyValueWithType,
    PropertyName,
    PropertyProblem,
    PropertyRow,
    TaggedPropertyValue,
    TypedPropertyValue,
)
from mapiproxy.mapi.rops import property as prop
from mapiproxy.mapi.rops.base import (
    REQUEST_CLASSES,
    RESPONSE_CLASSES,
    Reader,
    RopContext,
    RopRequest,
    RopResponse,
    UnknownRop,
    decodeRequests,
    decodeResponses,
    encodeRequests,
    encodeResponses,
)
from mapiproxy.mapi.rops.property import (
    COPY_MOVE,
    COPY_NO_OVERWRITE,
    CREATE_NAMED_PROPERTIES,
    EC_DST_NULL_OBJECT,
    LOCK_EXCLUSIVE,
    MAPI_W_ERRORS_RETURNED,
    QUERY_NO_IDS,
    QUERY_NO_STRINGS,
    READ_STREAM_USE_MAXIMUM,
    SEEK_CURRENT,
    STREAM_BEST_ACCESS,
    STREAM_READ_WRITE,
    CloneStreamRequest,
    CloneStreamResponse,
    CommitStreamRequest,
    CommitStreamResponse,
    CopyPropertiesRequest,
    CopyPropertiesResponse,
    CopyToRequest,
    CopyToResponse,
    CopyToStreamRequest,
    CopyToStreamResponse,
    DeletePropertiesNoReplicateRequest,
    DeletePropertiesNoReplicateResponse,
    DeletePropertiesRequest,
    DeletePropertiesResponse,
    GetNamesFromPropertyIdsRequest,
    GetNamesFromPropertyIdsResponse,
    GetPropertiesAllRequest,
    GetPropertiesAllResponse,
    GetPropertiesListRequest,
    GetPropertiesListResponse,
    GetPropertiesSpecificRequest,
    GetPropertiesSpecificResponse,
    GetPropertyIdsFromNamesRequest,
    GetPropertyIdsFromNamesResponse,
    GetStreamSizeRequest,
    GetStreamSizeResponse,
    LockRegionStreamRequest,
    LockRegionStreamResponse,
    OpenStreamRequest,
    OpenStreamResponse,
    ProgressRequest,
    ProgressResponse,
    QueryNamedPropertiesRequest,
    QueryNamedPropertiesResponse,
    ReadStreamRequest,
    ReadStreamResponse,
    SeekStreamRequest,
    SeekStreamResponse,
    SetPropertiesNoReplicateRequest,
    SetPropertiesNoReplicateResponse,
    SetPropertiesRequest,
    SetPropertiesResponse,
    SetStreamSizeRequest,
    SetStreamSizeResponse,
    UnlockRegionStreamRequest,
    UnlockRegionStreamResponse,
    WriteAndCommitStreamRequest,
    WriteAndCommitStreamResponse,
    WriteStreamExtendedRequest,
    WriteStreamExtendedResponse,
    WriteStreamRequest,
    WriteStreamResponse,
)

_FAST = settings(max_examples=200, deadline=None)

#: Every RopId this module owns.
_OWN_IDS = [
    0x56, 0x55, 0x07, 0x08, 0x09, 0x0A, 0x79, 0x0B, 0x7A, 0x5F, 0x67, 0x39,
    0x50, 0x2B, 0x2C, 0x2D, 0xA3, 0x5D, 0x5E, 0x2F, 0x2E, 0x3A, 0x5B, 0x5C,
    0x90, 0x3B,
]  # fmt: skip

_HANDLES = [0x00000101, 0x00000102, 0x00000103]

# Property sets, and their GUID wire layout (little-endian first three
# fields, [MS-OXCDATA] 2.6.1).
PS_PUBLIC_STRINGS = uuid.UUID("00020329-0000-0000-c000-000000000046")
PS_PUBLIC_STRINGS_LE = "29030200 0000 0000 c000000000000046"
PSETID_COMMON = uuid.UUID("00062008-0000-0000-c000-000000000046")
PSETID_COMMON_LE = "08200600 0000 0000 c000000000000046"

# Property tags used below ([MS-OXPROPS]).
TAG_SUBJECT = 0x0037001F
TAG_SUBJECT_UNSPECIFIED = 0x00370000
TAG_SUBJECT_PREFIX = 0x003D001F
TAG_NORMALIZED_SUBJECT = 0x0E1D001F
TAG_MESSAGE_FLAGS = 0x0E070003
TAG_BODY = 0x1000001F
TAG_BODY_ERROR = 0x1000000A
TAG_TEST_PROP1 = 0x863E000B
TAG_TEST_PROP2 = 0x863F0003
TAG_CHANGE_KEY = 0x65E20102
TAG_EXTENDED_RULE_CONDITION = 0x0E9A0102

# ReturnValues ([MS-OXCDATA] 2.4).
EC_NOT_FOUND = 0x8004010F
EC_ACCESS_DENIED = 0x80070005
EC_TOO_BIG = 0x80040305
EC_MAPI_OOM = 0x8007000E

# A LID name, a string name (NameSize 0x0A covers "Test" and its NUL) and
# a name-less entry.
_NAME_LID = PropertyName(MNID_ID, PS_PUBLIC_STRINGS, lid=0x8501)
_NAME_LID_HEX = "00" + PS_PUBLIC_STRINGS_LE + "01850000"
_NAME_STRING = PropertyName(MNID_STRING, PSETID_COMMON, name="Test")
_NAME_STRING_HEX = "01" + PSETID_COMMON_LE + "0a 5400 6500 7300 7400 0000"
_NAME_NONE = PropertyName(MNID_NONE, PS_PUBLIC_STRINGS)
_NAME_NONE_HEX = "ff" + PS_PUBLIC_STRINGS_LE


class _GoldenMixin:
    """
    Round-trip assertions shared by the golden tests.
    """

    def assertRequest(self, hexData, expected):
        """
        C{hexData} decodes to exactly C{[expected]}, which re-encodes to
        the same bytes, as does the freshly built C{expected}.
        """
        data = bytes.fromhex(hexData)
        decoded = decodeRequests(data, list(_HANDLES), RopContext())
        self.assertEqual(decoded, [expected])
        self.assertEqual(encodeRequests(decoded, RopContext()), data)
        self.assertEqual(encodeRequests([expected], RopContext()), data)
        return decoded[0]

    def assertResponse(self, hexData, expected, request=None):
        """
        C{hexData} decodes (paired with C{request}) to exactly
        C{[expected]}, which re-encodes to the same bytes, as does the
        freshly built C{expected}.
        """
        data = bytes.fromhex(hexData)
        requests = None if request is None else [request]
        decoded = decodeResponses(data, list(_HANDLES), requests, RopContext())
        self.assertEqual(decoded, [expected])
        self.assertEqual(encodeResponses(decoded, requests, RopContext()), data)
        self.assertEqual(encodeResponses([expected], requests, RopContext()), data)
        return decoded[0]

    def assertUndecodableRequest(self, hexData):
        """
        C{hexData} yields a single L{UnknownRop} holding every byte.
        """
        data = bytes.fromhex(hexData)
        decoded = decodeRequests(data, list(_HANDLES), RopContext())
        self.assertEqual(len(decoded), 1)
        self.assertIsInstance(decoded[0], UnknownRop)
        self.assertEqual(decoded[0].data, data)
        return decoded[0]


class RegistrationTests(SynchronousTestCase):
    """
    The module registers a request and a response class for each of its
    RopIds.
    """

    def test_everyOwnRopRegistered(self):
        """
        Each RopId of the family maps to a request class and a response
        class defined in L{mapiproxy.mapi.rops.property}.
        """
        for ropId in _OWN_IDS:
            self.assertEqual(REQUEST_CLASSES[ropId].__module__, prop.__name__)
            self.assertEqual(RESPONSE_CLASSES[ropId].__module__, prop.__name__)
            self.assertTrue(issubclass(REQUEST_CLASSES[ropId], RopRequest))
            self.assertTrue(issubclass(RESPONSE_CLASSES[ropId], RopResponse))

    def test_names(self):
        """
        The classes carry their [MS-OXCROPS] names.
        """
        self.assertEqual(ReadStreamRequest.NAME, "RopReadStream")
        self.assertEqual(
            GetPropertyIdsFromNamesResponse.NAME, "RopGetPropertyIdsFromNames"
        )
        self.assertEqual(WriteStreamExtendedRequest.ROP_ID, 0xA3)


class NamedPropertyTests(_GoldenMixin, SynchronousTestCase):
    """
    RopGetPropertyIdsFromNames, RopGetNamesFromPropertyIds and
    RopQueryNamedProperties ([MS-OXCROPS] 2.2.8.1, 2.2.8.2, 2.2.8.10).
    """

    def test_getPropertyIdsFromNamesRequest(self):
        """
        Flags, a u16 count and the PropertyNames (a LID name and a string
        name).
        """
        rop = self.assertRequest(
            "56 00 01 02 0200" + _NAME_LID_HEX + _NAME_STRING_HEX,
            GetPropertyIdsFromNamesRequest(
                logonId=0,
                inputHandleIndex=1,
                flags=CREATE_NAMED_PROPERTIES,
                propertyNames=[_NAME_LID, _NAME_STRING],
            ),
        )
        self.assertEqual(rop.propertyNames[1].name, "Test")
        self.assertEqual(rop.propertyNames[0].lid, 0x8501)

    def test_getPropertyIdsFromNamesRequestEmpty(self):
        """
        A count of zero (asking for every registered name) has no names.
        """
        self.assertRequest(
            "56 03 00 00 0000",
            GetPropertyIdsFromNamesRequest(logonId=3, flags=0, propertyNames=[]),
        )

    def test_getPropertyIdsFromNamesResponseMicrosoftExample(self):
        """
        [MS-OXCPRPT] 4.1.2: two IDs, 0x863E and 0x863F.
        """
        self.assertResponse(
            "56 00 00000000 0200 3e86 3f86",
            GetPropertyIdsFromNamesResponse(propertyIds=[0x863E, 0x863F]),
        )

    def test_getPropertyIdsFromNamesResponseWarning(self):
        """
        With MAPI_W_ERRORS_RETURNED the IDs are still there (0 for a name
        that could not be mapped).
        """
        self.assertResponse(
            "56 01 80030400 0200 0185 0000",
            GetPropertyIdsFromNamesResponse(
                handleIndex=1,
                returnValue=MAPI_W_ERRORS_RETURNED,
                propertyIds=[0x8501, 0],
            ),
        )

    def test_getPropertyIdsFromNamesResponseFailure(self):
        """
        A failure has no body.
        """
        self.assertResponse(
            "56 01 0f010480",
            GetPropertyIdsFromNamesResponse(handleIndex=1, returnValue=EC_NOT_FOUND),
        )

    def test_getNamesFromPropertyIdsRequest(self):
        """
        A u16 count and the u16 property IDs.
        """
        self.assertRequest(
            "55 00 01 0300 0185 3e86 0080",
            GetNamesFromPropertyIdsRequest(
                inputHandleIndex=1, propertyIds=[0x8501, 0x863E, 0x8000]
            ),
        )

    def test_getNamesFromPropertyIdsResponse(self):
        """
        One PropertyName of each Kind: LID, string, and none (GUID only).
        """
        self.assertResponse(
            "55 01 00000000 0300" + _NAME_LID_HEX + _NAME_STRING_HEX + _NAME_NONE_HEX,
            GetNamesFromPropertyIdsResponse(
                handleIndex=1, propertyNames=[_NAME_LID, _NAME_STRING, _NAME_NONE]
            ),
        )

    def test_getNamesFromPropertyIdsResponseWarning(self):
        """
        With MAPI_W_ERRORS_RETURNED the names are still there.
        """
        self.assertResponse(
            "55 01 80030400 0100" + _NAME_NONE_HEX,
            GetNamesFromPropertyIdsResponse(
                handleIndex=1,
                returnValue=MAPI_W_ERRORS_RETURNED,
                propertyNames=[_NAME_NONE],
            ),
        )

    def test_getNamesFromPropertyIdsResponseFailure(self):
        """
        A failure has no body.
        """
        self.assertResponse(
            "55 01 05000780",
            GetNamesFromPropertyIdsResponse(
                handleIndex=1, returnValue=EC_ACCESS_DENIED
            ),
        )

    def test_queryNamedPropertiesRequestWithGuid(self):
        """
        QueryFlags, HasGuid nonzero, then the PropertyGuid.
        """
        self.assertRequest(
            "5f 00 01 01 01" + PSETID_COMMON_LE,
            QueryNamedPropertiesRequest(
                inputHandleIndex=1,
                queryFlags=QUERY_NO_STRINGS,
                hasGuid=1,
                propertyGuid=PSETID_COMMON,
            ),
        )

    def test_queryNamedPropertiesRequestOddHasGuid(self):
        """
        Any nonzero HasGuid announces the GUID, and is kept as sent.
        """
        rop = self.assertRequest(
            "5f 00 01 00 05" + PS_PUBLIC_STRINGS_LE,
            QueryNamedPropertiesRequest(
                inputHandleIndex=1, hasGuid=5, propertyGuid=PS_PUBLIC_STRINGS
            ),
        )
        self.assertEqual(rop.hasGuid, 5)

    def test_queryNamedPropertiesRequestWithoutGuid(self):
        """
        HasGuid zero: no PropertyGuid follows.
        """
        self.assertRequest(
            "5f 00 01 02 00",
            QueryNamedPropertiesRequest(
                inputHandleIndex=1, queryFlags=QUERY_NO_IDS, hasGuid=0
            ),
        )

    def test_queryNamedPropertiesRequestGuidMissing(self):
        """
        Encoding HasGuid without a GUID is refused.
        """
        self.assertRaises(
            RopError,
            encodeRequests,
            [QueryNamedPropertiesRequest(hasGuid=1)],
            RopContext(),
        )

    def test_queryNamedPropertiesResponse(self):
        """
        IdCount, the IDs, then as many PropertyNames.
        """
        self.assertResponse(
            "5f 01 00000000 0200 0185 3e86" + _NAME_LID_HEX + _NAME_STRING_HEX,
            QueryNamedPropertiesResponse(
                handleIndex=1,
                propertyIds=[0x8501, 0x863E],
                propertyNames=[_NAME_LID, _NAME_STRING],
            ),
        )

    def test_queryNamedPropertiesResponseFailure(self):
        """
        A failure has no body.
        """
        self.assertResponse(
            "5f 01 0f010480",
            QueryNamedPropertiesResponse(handleIndex=1, returnValue=EC_NOT_FOUND),
        )

    def test_queryNamedPropertiesResponseMismatch(self):
        """
        Encoding more IDs than names is refused.
        """
        self.assertRaises(
            RopError,
            encodeResponses,
            [QueryNamedPropertiesResponse(propertyIds=[1, 2], propertyNames=[])],
            None,
            RopContext(),
        )


class GetPropertiesTests(_GoldenMixin, SynchronousTestCase):
    """
    RopGetPropertiesSpecific, RopGetPropertiesAll and RopGetPropertiesList
    ([MS-OXCROPS] 2.2.8.3-2.2.8.5).
    """

    # [MS-OXCPRPT] 4.3.1: a Boolean, an Integer32 and a Binary.
    _request = GetPropertiesSpecificRequest(
        propertySizeLimit=0,
        wantUnicode=1,
        propertyTags=[TAG_TEST_PROP1, TAG_TEST_PROP2, TAG_CHANGE_KEY],
    )

    # Two PtypUnspecified columns and a typed one.
    _unspecifiedRequest = GetPropertiesSpecificRequest(
        logonId=1,
        inputHandleIndex=2,
        propertySizeLimit=0x1000,
        wantUnicode=0,
        propertyTags=[TAG_SUBJECT_UNSPECIFIED, TAG_MESSAGE_FLAGS, 0x0E1D0000],
    )

    def test_getPropertiesSpecificRequestMicrosoftExample(self):
        """
        [MS-OXCPRPT] 4.3.1: PropertySizeLimit, WantUnicode, three tags.
        """
        rop = self.assertRequest(
            "07 00 00 0000 0100 0300 0b003e86 03003f86 0201e265", self._request
        )
        self.assertEqual(rop.wantUnicode, 1)
        self.assertEqual(rop.propertyTags[2], TAG_CHANGE_KEY)

    def test_getPropertiesSpecificResponseStandardRow(self):
        """
        A StandardPropertyRow laid out with the request's tags: Boolean
        (1 byte), Integer32, Binary (u16 length).
        """
        rop = self.assertResponse(
            "07 00 00000000 00 01 2a000000 0300 aabbcc",
            GetPropertiesSpecificResponse(
                rowData=PropertyRow(ROW_STANDARD, [True, 42, b"\xaa\xbb\xcc"])
            ),
            self._request,
        )
        self.assertEqual(rop.rowData.values[1], 42)

    def test_getPropertiesSpecificResponseFlaggedRow(self):
        """
        A FlaggedPropertyRow: a value, a not-found, and an error code.
        """
        self.assertResponse(
            "07 00 00000000 01 00 01 01 0a 0f010480",
            GetPropertiesSpecificResponse(
                rowData=PropertyRow(
                    ROW_FLAGGED,
                    [
                        FlaggedPropertyValue(FLAG_VALUE, True),
                        FlaggedPropertyValue(FLAG_NOT_FOUND, None),
                        FlaggedPropertyValue(FLAG_ERROR, EC_NOT_FOUND),
                    ],
                )
            ),
            self._request,
        )

    def test_getPropertiesSpecificResponseUnspecifiedStandard(self):
        """
        A PtypUnspecified column carries a TypedPropertyValue in a
        StandardPropertyRow (here a UTF-16 and an 8-bit string).
        """
        self.assertResponse(
            "07 02 00000000 00 1f00 480069000000 09000000 1e00 486900",
            GetPropertiesSpecificResponse(
                handleIndex=2,
                rowData=PropertyRow(
                    ROW_STANDARD,
                    [
                        TypedPropertyValue(0x001F, "Hi"),
                        9,
                        TypedPropertyValue(0x001E, "Hi"),
                    ],
                ),
            ),
            self._unspecifiedRequest,
        )

    def test_getPropertiesSpecificResponseUnspecifiedFlagged(self):
        """
        A PtypUnspecified column carries a FlaggedPropertyValueWithType in
        a FlaggedPropertyRow.
        """
        self.assertResponse(
            "07 02 00000000 01 1e00 00 486900 00 09000000 1f00 0a 0f010480",
            GetPropertiesSpecificResponse(
                handleIndex=2,
                rowData=PropertyRow(
                    ROW_FLAGGED,
                    [
                        FlaggedPropertyValueWithType(0x001E, FLAG_VALUE, "Hi"),
                        FlaggedPropertyValue(FLAG_VALUE, 9),
                        FlaggedPropertyValueWithType(0x001F, FLAG_ERROR, EC_NOT_FOUND),
                    ],
                ),
            ),
            self._unspecifiedRequest,
        )

    def test_getPropertiesSpecificResponseFailure(self):
        """
        A failure has no row.
        """
        self.assertResponse(
            "07 00 0e000780",
            GetPropertiesSpecificResponse(returnValue=EC_MAPI_OOM),
            self._request,
        )

    def test_getPropertiesSpecificResponseFailureWithoutRequest(self):
        """
        A failure decodes even without the request (it has no row).
        """
        data = bytes.fromhex("07 00 0e000780")
        decoded = decodeResponses(data, [], None, RopContext())
        self.assertEqual(
            decoded, [GetPropertiesSpecificResponse(returnValue=EC_MAPI_OOM)]
        )

    def test_getPropertiesSpecificResponseNeedsRequest(self):
        """
        Without its request a successful row cannot be laid out: the
        response (and the rest of the buffer) becomes an L{UnknownRop}
        that keeps every byte.
        """
        data = bytes.fromhex("07 00 00000000 00 01 2a000000 0300 aabbcc 5d 00 00000000")
        decoded = decodeResponses(data, [], None, RopContext())
        self.assertEqual(len(decoded), 1)
        self.assertIsInstance(decoded[0], UnknownRop)
        self.assertEqual(decoded[0].data, data)
        self.assertIn("property tags", decoded[0].error)
        self.assertEqual(encodeResponses(decoded, None, RopContext()), data)

    def test_getPropertiesSpecificResponseEncodeNeedsRequest(self):
        """
        Encoding a successful row without the request is refused.
        """
        self.assertRaises(
            RopError,
            encodeResponses,
            [GetPropertiesSpecificResponse(rowData=PropertyRow(ROW_STANDARD, []))],
            None,
            RopContext(),
        )

    def test_getPropertiesSpecificResponsePairedInBuffer(self):
        """
        In a buffer, the row is read with the tags of the matching request
        even when other ROPs come in between.
        """
        requests = [
            GetPropertiesListRequest(inputHandleIndex=0),
            self._request,
            CommitStreamRequest(inputHandleIndex=1),
        ]
        data = bytes.fromhex(
            "09 00 00000000 0100 1f003700"
            "07 00 00000000 00 00 07000000 0100 ff"
            "5d 01 00000000"
        )
        decoded = decodeResponses(data, [], requests, RopContext())
        self.assertEqual(
            decoded,
            [
                GetPropertiesListResponse(propertyTags=[TAG_SUBJECT]),
                GetPropertiesSpecificResponse(
                    rowData=PropertyRow(ROW_STANDARD, [False, 7, b"\xff"])
                ),
                CommitStreamResponse(handleIndex=1),
            ],
        )
        self.assertEqual(encodeResponses(decoded, requests, RopContext()), data)

    def test_getPropertiesAllRequest(self):
        """
        PropertySizeLimit and WantUnicode, both u16.
        """
        self.assertRequest(
            "08 00 02 0010 0100",
            GetPropertiesAllRequest(
                inputHandleIndex=2, propertySizeLimit=0x1000, wantUnicode=1
            ),
        )

    def test_getPropertiesAllResponse(self):
        """
        A u16 count and TaggedPropertyValues, an error-typed one included.
        """
        self.assertResponse(
            "08 02 00000000 0300"
            "1f003700 480069000000"
            "0300070e 09000000"
            "0a000010 0e000780",
            GetPropertiesAllResponse(
                handleIndex=2,
                propertyValues=[
                    TaggedPropertyValue(TAG_SUBJECT, "Hi"),
                    TaggedPropertyValue(TAG_MESSAGE_FLAGS, 9),
                    TaggedPropertyValue(TAG_BODY_ERROR, EC_MAPI_OOM),
                ],
            ),
        )

    def test_getPropertiesAllResponseFailure(self):
        """
        A failure has no body.
        """
        self.assertResponse(
            "08 02 0e000780",
            GetPropertiesAllResponse(handleIndex=2, returnValue=EC_MAPI_OOM),
        )

    def test_getPropertiesListRequest(self):
        """
        No body after the header.
        """
        self.assertRequest(
            "09 01 03", GetPropertiesListRequest(logonId=1, inputHandleIndex=3)
        )

    def test_getPropertiesListResponse(self):
        """
        A u16 count and u32 tags.
        """
        self.assertResponse(
            "09 03 00000000 0200 1f003700 03000710",
            GetPropertiesListResponse(
                handleIndex=3, propertyTags=[TAG_SUBJECT, 0x10070003]
            ),
        )

    def test_getPropertiesListResponseFailure(self):
        """
        A failure has no body.
        """
        self.assertResponse(
            "09 03 0e000780",
            GetPropertiesListResponse(handleIndex=3, returnValue=EC_MAPI_OOM),
        )


class SetDeletePropertiesTests(_GoldenMixin, SynchronousTestCase):
    """
    RopSetProperties, RopSetPropertiesNoReplicate, RopDeleteProperties and
    RopDeletePropertiesNoReplicate ([MS-OXCROPS] 2.2.8.6-2.2.8.9).
    """

    def test_setPropertiesRequestMicrosoftExample(self):
        """
        [MS-OXCPRPT] 4.2.1: PropertyValueSize 0x24 covers the count and
        two PtypString values.
        """
        self.assertRequest(
            "0a 00 00 2400 0200"
            "1f003d00 0000"
            "1f001d0e 480065006c006c006f00200057006f0072006c0064000000",
            SetPropertiesRequest(
                propertyValues=[
                    TaggedPropertyValue(TAG_SUBJECT_PREFIX, ""),
                    TaggedPropertyValue(TAG_NORMALIZED_SUBJECT, "Hello World"),
                ]
            ),
        )

    def test_setPropertiesRequestTrailing(self):
        """
        Bytes that PropertyValueSize covers after the last value are kept
        and re-encoded.
        """
        rop = self.assertRequest(
            "0a 00 01 0c00 0100 03000710 09000000 eeff",
            SetPropertiesRequest(
                inputHandleIndex=1,
                propertyValues=[TaggedPropertyValue(0x10070003, 9)],
                trailing=b"\xee\xff",
            ),
        )
        self.assertEqual(rop.trailing, b"\xee\xff")

    def test_setPropertiesRequestSizeTooSmall(self):
        """
        A PropertyValueSize that cannot hold the count does not decode.
        """
        unknown = self.assertUndecodableRequest("0a 00 00 0100 00")
        self.assertIn("PropertyValueSize", unknown.error)

    def test_setPropertiesRequestValuesOverrunSize(self):
        """
        Values that run past PropertyValueSize do not decode.
        """
        self.assertUndecodableRequest("0a 00 00 0600 0100 03000710 09000000")

    def test_setPropertiesResponseMicrosoftExample(self):
        """
        [MS-OXCPRPT] 4.2.2: success, no problems.
        """
        self.assertResponse("0a 00 00000000 0000", SetPropertiesResponse())

    def test_setPropertiesResponseProblems(self):
        """
        A PropertyProblem: Index u16, PropertyTag u32, ErrorCode u32.
        """
        rop = self.assertResponse(
            "0a 00 00000000 0100 0100 1f001d0e 05000780",
            SetPropertiesResponse(
                propertyProblems=[
                    PropertyProblem(1, TAG_NORMALIZED_SUBJECT, EC_ACCESS_DENIED)
                ]
            ),
        )
        self.assertEqual(rop.propertyProblems[0].errorCode, EC_ACCESS_DENIED)

    def test_setPropertiesResponseWarning(self):
        """
        With MAPI_W_ERRORS_RETURNED the problems are still there.
        """
        self.assertResponse(
            "0a 00 80030400 0100 0000 1f003700 05000780",
            SetPropertiesResponse(
                returnValue=MAPI_W_ERRORS_RETURNED,
                propertyProblems=[PropertyProblem(0, TAG_SUBJECT, EC_ACCESS_DENIED)],
            ),
        )

    def test_setPropertiesResponseFailure(self):
        """
        A failure has no body.
        """
        self.assertResponse(
            "0a 00 05000780", SetPropertiesResponse(returnValue=EC_ACCESS_DENIED)
        )

    def test_setPropertiesNoReplicateRequest(self):
        """
        Laid out as RopSetProperties.
        """
        self.assertRequest(
            "79 00 01 0a00 0100 03000710 09000000",
            SetPropertiesNoReplicateRequest(
                inputHandleIndex=1,
                propertyValues=[TaggedPropertyValue(0x10070003, 9)],
            ),
        )

    def test_setPropertiesNoReplicateResponse(self):
        """
        PropertyProblems on success and with the warning, nothing on
        failure.
        """
        self.assertResponse(
            "79 01 00000000 0000", SetPropertiesNoReplicateResponse(handleIndex=1)
        )
        self.assertResponse(
            "79 01 80030400 0100 0000 03000710 0e000780",
            SetPropertiesNoReplicateResponse(
                handleIndex=1,
                returnValue=MAPI_W_ERRORS_RETURNED,
                propertyProblems=[PropertyProblem(0, 0x10070003, EC_MAPI_OOM)],
            ),
        )
        self.assertResponse(
            "79 01 05000780",
            SetPropertiesNoReplicateResponse(
                handleIndex=1, returnValue=EC_ACCESS_DENIED
            ),
        )

    def test_deletePropertiesRequest(self):
        """
        A u16 count and the tags to delete.
        """
        self.assertRequest(
            "0b 00 02 0200 1f003700 1f000010",
            DeletePropertiesRequest(
                inputHandleIndex=2, propertyTags=[TAG_SUBJECT, TAG_BODY]
            ),
        )

    def test_deletePropertiesResponse(self):
        """
        PropertyProblems on success.
        """
        self.assertResponse(
            "0b 02 00000000 0100 0100 1f000010 0f010480",
            DeletePropertiesResponse(
                handleIndex=2,
                propertyProblems=[PropertyProblem(1, TAG_BODY, EC_NOT_FOUND)],
            ),
        )

    def test_deletePropertiesResponseWarningHasNoBody(self):
        """
        Only success carries the problems of RopDeleteProperties
        ([MS-OXCROPS] 2.2.8.8.3): a warning is a failure form.
        """
        self.assertResponse(
            "0b 02 80030400",
            DeletePropertiesResponse(handleIndex=2, returnValue=MAPI_W_ERRORS_RETURNED),
        )

    def test_deletePropertiesNoReplicate(self):
        """
        Laid out as RopDeleteProperties.
        """
        self.assertRequest(
            "7a 00 01 0100 1f000010",
            DeletePropertiesNoReplicateRequest(
                inputHandleIndex=1, propertyTags=[TAG_BODY]
            ),
        )
        self.assertResponse(
            "7a 01 00000000 0000", DeletePropertiesNoReplicateResponse(handleIndex=1)
        )
        self.assertResponse(
            "7a 01 05000780",
            DeletePropertiesNoReplicateResponse(
                handleIndex=1, returnValue=EC_ACCESS_DENIED
            ),
        )


class CopyAndProgressTests(_GoldenMixin, SynchronousTestCase):
    """
    RopCopyProperties, RopCopyTo and RopProgress ([MS-OXCROPS] 2.2.8.11 -
    2.2.8.13).
    """

    def test_copyPropertiesRequest(self):
        """
        SourceHandleIndex (the header's), DestHandleIndex,
        WantAsynchronous, CopyFlags, then the tags.
        """
        rop = self.assertRequest(
            "67 00 01 02 01 03 0200 1f003700 03000710",
            CopyPropertiesRequest(
                inputHandleIndex=1,
                destHandleIndex=2,
                wantAsynchronous=1,
                copyFlags=COPY_MOVE | COPY_NO_OVERWRITE,
                propertyTags=[TAG_SUBJECT, 0x10070003],
            ),
        )
        self.assertEqual(rop.destHandleIndex, 2)

    def test_copyPropertiesResponse(self):
        """
        PropertyProblems on success.
        """
        self.assertResponse(
            "67 01 00000000 0100 0000 1f003700 05000780",
            CopyPropertiesResponse(
                handleIndex=1,
                propertyProblems=[PropertyProblem(0, TAG_SUBJECT, EC_ACCESS_DENIED)],
            ),
        )

    def test_copyPropertiesResponseNullDestination(self):
        """
        ecDstNullObject carries the DestHandleIndex as a u32.
        """
        rop = self.assertResponse(
            "67 01 03050000 02000000",
            CopyPropertiesResponse(
                handleIndex=1, returnValue=EC_DST_NULL_OBJECT, destHandleIndex=2
            ),
        )
        self.assertEqual(rop.propertyProblems, [])

    def test_copyPropertiesResponseFailure(self):
        """
        Any other failure has no body.
        """
        self.assertResponse(
            "67 01 05000780",
            CopyPropertiesResponse(handleIndex=1, returnValue=EC_ACCESS_DENIED),
        )

    def test_copyNullDestinationNeedsIndex(self):
        """
        Encoding ecDstNullObject without the index is refused.
        """
        self.assertRaises(
            RopError,
            encodeResponses,
            [CopyToResponse(returnValue=EC_DST_NULL_OBJECT)],
            None,
            RopContext(),
        )

    def test_copyToRequest(self):
        """
        DestHandleIndex, WantAsynchronous, WantSubObjects, CopyFlags, then
        the excluded tags.
        """
        self.assertRequest(
            "39 00 01 02 00 01 01 0100 1f001d0e",
            CopyToRequest(
                inputHandleIndex=1,
                destHandleIndex=2,
                wantAsynchronous=0,
                wantSubObjects=1,
                copyFlags=COPY_MOVE,
                excludedTags=[TAG_NORMALIZED_SUBJECT],
            ),
        )

    def test_copyToResponse(self):
        """
        PropertyProblems on success, DestHandleIndex u32 on
        ecDstNullObject, nothing on another failure.
        """
        self.assertResponse("39 01 00000000 0000", CopyToResponse(handleIndex=1))
        self.assertResponse(
            "39 01 03050000 07000000",
            CopyToResponse(
                handleIndex=1, returnValue=EC_DST_NULL_OBJECT, destHandleIndex=7
            ),
        )
        self.assertResponse(
            "39 01 05000780",
            CopyToResponse(handleIndex=1, returnValue=EC_ACCESS_DENIED),
        )

    def test_progressRequest(self):
        """
        WantCancel, one byte.
        """
        self.assertRequest(
            "50 00 01 01", ProgressRequest(inputHandleIndex=1, wantCancel=1)
        )

    def test_progressResponse(self):
        """
        LogonId, CompletedTaskCount and TotalTaskCount on success.
        """
        rop = self.assertResponse(
            "50 01 00000000 02 03000000 0a000000",
            ProgressResponse(
                handleIndex=1, logonId=2, completedTaskCount=3, totalTaskCount=10
            ),
        )
        self.assertEqual(rop.totalTaskCount, 10)

    def test_progressResponseFailure(self):
        """
        A failure has no body.
        """
        self.assertResponse(
            "50 01 05000780",
            ProgressResponse(handleIndex=1, returnValue=EC_ACCESS_DENIED),
        )


class StreamTests(_GoldenMixin, SynchronousTestCase):
    """
    The stream ROPs ([MS-OXCROPS] 2.2.9).
    """

    def test_openStreamRequestMicrosoftExample(self):
        """
        [MS-OXCPRPT] 4.4.1.1: OutputHandleIndex, PropertyTag,
        OpenModeFlags.
        """
        self.assertRequest(
            "2b 01 00 01 02019a0e 01",
            OpenStreamRequest(
                logonId=1,
                inputHandleIndex=0,
                outputHandleIndex=1,
                propertyTag=TAG_EXTENDED_RULE_CONDITION,
                openModeFlags=STREAM_READ_WRITE,
            ),
        )

    def test_openStreamResponse(self):
        """
        StreamSize u32 on success; the handle index is the output one.
        """
        self.assertResponse(
            "2b 01 00000000 00100000",
            OpenStreamResponse(handleIndex=1, streamSize=0x1000),
        )

    def test_openStreamResponseFailure(self):
        """
        A failure has no body.
        """
        self.assertResponse(
            "2b 01 0f010480",
            OpenStreamResponse(handleIndex=1, returnValue=EC_NOT_FOUND),
        )

    def test_readStreamRequest(self):
        """
        A plain ByteCount has no MaximumByteCount.
        """
        rop = self.assertRequest(
            "2c 00 01 0010", ReadStreamRequest(inputHandleIndex=1, byteCount=0x1000)
        )
        self.assertIsNone(rop.maximumByteCount)

    def test_readStreamRequestMaximum(self):
        """
        ByteCount 0xBABE is followed by MaximumByteCount u32.
        """
        rop = self.assertRequest(
            "2c 00 01 beba 00000100",
            ReadStreamRequest(
                inputHandleIndex=1,
                byteCount=READ_STREAM_USE_MAXIMUM,
                maximumByteCount=0x10000,
            ),
        )
        self.assertEqual(rop.maximumByteCount, 0x10000)

    def test_readStreamRequestMaximumMissing(self):
        """
        Encoding ByteCount 0xBABE without MaximumByteCount is refused, and
        a truncated MaximumByteCount does not decode.
        """
        self.assertRaises(
            RopError,
            encodeRequests,
            [ReadStreamRequest(byteCount=READ_STREAM_USE_MAXIMUM)],
            RopContext(),
        )
        self.assertUndecodableRequest("2c 00 01 beba 0000")

    def test_readStreamResponse(self):
        """
        DataSize u16 and the data.
        """
        self.assertResponse(
            "2c 01 00000000 0500 48656c6c6f",
            ReadStreamResponse(handleIndex=1, data=b"Hello"),
        )

    def test_readStreamResponseFailureKeepsData(self):
        """
        The response has one layout: a failure still carries DataSize (and
        whatever was read).
        """
        self.assertResponse(
            "2c 01 05000780 0000",
            ReadStreamResponse(handleIndex=1, returnValue=EC_ACCESS_DENIED, data=b""),
        )
        self.assertResponse(
            "2c 01 05030480 0200 4142",
            ReadStreamResponse(handleIndex=1, returnValue=EC_TOO_BIG, data=b"AB"),
        )

    def test_writeStreamRequest(self):
        """
        DataSize u16 and the data.
        """
        self.assertRequest(
            "2d 00 01 0500 48656c6c6f",
            WriteStreamRequest(inputHandleIndex=1, data=b"Hello"),
        )

    def test_writeStreamRequestTooLong(self):
        """
        More than 0xFFFF bytes do not fit DataSize.
        """
        self.assertRaises(
            RopError,
            encodeRequests,
            [WriteStreamRequest(data=b"\x00" * 0x10000)],
            RopContext(),
        )

    def test_writeStreamResponse(self):
        """
        WrittenSize u16, on success and on failure alike.
        """
        self.assertResponse(
            "2d 01 00000000 0500", WriteStreamResponse(handleIndex=1, writtenSize=5)
        )
        self.assertResponse(
            "2d 01 05030480 0300",
            WriteStreamResponse(handleIndex=1, returnValue=EC_TOO_BIG, writtenSize=3),
        )

    def test_writeStreamExtended(self):
        """
        The request is laid out as RopWriteStream; the response's
        WrittenSize is a u32, present whatever the ReturnValue.
        """
        self.assertRequest(
            "a3 00 01 0300 414243",
            WriteStreamExtendedRequest(inputHandleIndex=1, data=b"ABC"),
        )
        self.assertResponse(
            "a3 01 00000000 03000100",
            WriteStreamExtendedResponse(handleIndex=1, writtenSize=0x10003),
        )
        self.assertResponse(
            "a3 01 05030480 01000000",
            WriteStreamExtendedResponse(
                handleIndex=1, returnValue=EC_TOO_BIG, writtenSize=1
            ),
        )

    def test_commitStream(self):
        """
        Neither the request nor the response has a body.
        """
        self.assertRequest("5d 00 01", CommitStreamRequest(inputHandleIndex=1))
        self.assertResponse("5d 01 00000000", CommitStreamResponse(handleIndex=1))
        self.assertResponse(
            "5d 01 05000780",
            CommitStreamResponse(handleIndex=1, returnValue=EC_ACCESS_DENIED),
        )

    def test_getStreamSize(self):
        """
        No request body; StreamSize u32 on success only.
        """
        self.assertRequest("5e 00 01", GetStreamSizeRequest(inputHandleIndex=1))
        self.assertResponse(
            "5e 01 00000000 00200000",
            GetStreamSizeResponse(handleIndex=1, streamSize=0x2000),
        )
        self.assertResponse(
            "5e 01 05000780",
            GetStreamSizeResponse(handleIndex=1, returnValue=EC_ACCESS_DENIED),
        )

    def test_setStreamSize(self):
        """
        StreamSize u64 in the request; no response body.
        """
        self.assertRequest(
            "2f 00 01 00000000 01000000",
            SetStreamSizeRequest(inputHandleIndex=1, streamSize=0x100000000),
        )
        self.assertResponse("2f 01 00000000", SetStreamSizeResponse(handleIndex=1))
        self.assertResponse(
            "2f 01 05030480",
            SetStreamSizeResponse(handleIndex=1, returnValue=EC_TOO_BIG),
        )

    def test_seekStreamRequest(self):
        """
        Origin u8 and a signed Offset i64.
        """
        rop = self.assertRequest(
            "2e 00 01 01 f6ffffffffffffff",
            SeekStreamRequest(inputHandleIndex=1, origin=SEEK_CURRENT, offset=-10),
        )
        self.assertEqual(rop.offset, -10)

    def test_seekStreamResponse(self):
        """
        NewPosition u64 on success only.
        """
        self.assertResponse(
            "2e 01 00000000 0a00000001000000",
            SeekStreamResponse(handleIndex=1, newPosition=0x10000000A),
        )
        self.assertResponse(
            "2e 01 05000780",
            SeekStreamResponse(handleIndex=1, returnValue=EC_ACCESS_DENIED),
        )

    def test_copyToStreamRequest(self):
        """
        DestHandleIndex u8 and ByteCount u64.
        """
        self.assertRequest(
            "3a 00 01 02 0000100000000000",
            CopyToStreamRequest(
                inputHandleIndex=1, destHandleIndex=2, byteCount=0x100000
            ),
        )

    def test_copyToStreamResponse(self):
        """
        ReadByteCount and WrittenByteCount, on success and on a failure
        other than ecDstNullObject.
        """
        self.assertResponse(
            "3a 01 00000000 0010000000000000 0010000000000000",
            CopyToStreamResponse(
                handleIndex=1, readByteCount=0x1000, writtenByteCount=0x1000
            ),
        )
        self.assertResponse(
            "3a 01 05000780 1000000000000000 0000000000000000",
            CopyToStreamResponse(
                handleIndex=1,
                returnValue=EC_ACCESS_DENIED,
                readByteCount=0x10,
                writtenByteCount=0,
            ),
        )

    def test_copyToStreamResponseNullDestination(self):
        """
        ecDstNullObject puts DestHandleIndex u32 before the counts.
        """
        rop = self.assertResponse(
            "3a 01 03050000 02000000 0000000000000000 0000000000000000",
            CopyToStreamResponse(
                handleIndex=1, returnValue=EC_DST_NULL_OBJECT, destHandleIndex=2
            ),
        )
        self.assertEqual(rop.destHandleIndex, 2)

    def test_lockRegionStream(self):
        """
        RegionOffset u64, RegionSize u64, LockFlags u32; no response body.
        """
        self.assertRequest(
            "5b 00 01 0000000000000000 0010000000000000 01000000",
            LockRegionStreamRequest(
                inputHandleIndex=1,
                regionOffset=0,
                regionSize=0x1000,
                lockFlags=LOCK_EXCLUSIVE,
            ),
        )
        self.assertResponse("5b 01 00000000", LockRegionStreamResponse(handleIndex=1))
        self.assertResponse(
            "5b 01 05000780",
            LockRegionStreamResponse(handleIndex=1, returnValue=EC_ACCESS_DENIED),
        )

    def test_unlockRegionStream(self):
        """
        Laid out as RopLockRegionStream.
        """
        self.assertRequest(
            "5c 00 01 0010000000000000 0020000000000000 00000000",
            UnlockRegionStreamRequest(
                inputHandleIndex=1, regionOffset=0x1000, regionSize=0x2000
            ),
        )
        self.assertResponse("5c 01 00000000", UnlockRegionStreamResponse(handleIndex=1))

    def test_writeAndCommitStream(self):
        """
        DataSize u16 and the data; WrittenSize u16 whatever the
        ReturnValue.
        """
        self.assertRequest(
            "90 00 01 0200 6869",
            WriteAndCommitStreamRequest(inputHandleIndex=1, data=b"hi"),
        )
        self.assertResponse(
            "90 01 00000000 0200",
            WriteAndCommitStreamResponse(handleIndex=1, writtenSize=2),
        )
        self.assertResponse(
            "90 01 05000780 0000",
            WriteAndCommitStreamResponse(handleIndex=1, returnValue=EC_ACCESS_DENIED),
        )

    def test_cloneStream(self):
        """
        OutputHandleIndex in the request; the response (on that index) has
        no body.
        """
        self.assertRequest(
            "3b 00 01 02", CloneStreamRequest(inputHandleIndex=1, outputHandleIndex=2)
        )
        self.assertResponse("3b 02 00000000", CloneStreamResponse(handleIndex=2))
        self.assertResponse(
            "3b 02 05000780",
            CloneStreamResponse(handleIndex=2, returnValue=EC_ACCESS_DENIED),
        )

    def test_streamSession(self):
        """
        A whole exchange in one buffer pair: open a stream (best access),
        read with 0xBABE, write, commit, get its size, release.
        """
        requests = [
            OpenStreamRequest(
                inputHandleIndex=0,
                outputHandleIndex=1,
                propertyTag=TAG_BODY,
                openModeFlags=STREAM_BEST_ACCESS,
            ),
            ReadStreamRequest(
                inputHandleIndex=1,
                byteCount=READ_STREAM_USE_MAXIMUM,
                maximumByteCount=0x8000,
            ),
            WriteStreamRequest(inputHandleIndex=1, data=b"xyz"),
            CommitStreamRequest(inputHandleIndex=1),
            GetStreamSizeRequest(inputHandleIndex=1),
            REQUEST_CLASSES[0x01](inputHandleIndex=1),
        ]
        requestBytes = bytes.fromhex(
            "2b 00 00 01 1f000010 03"
            "2c 00 01 beba 00800000"
            "2d 00 01 0300 78797a"
            "5d 00 01"
            "5e 00 01"
            "01 00 01"
        )
        self.assertEqual(encodeRequests(requests, RopContext()), requestBytes)
        self.assertEqual(
            decodeRequests(requestBytes, [0x40, 0xFFFFFFFF], RopContext()), requests
        )
        responses = [
            OpenStreamResponse(handleIndex=1, streamSize=2),
            ReadStreamResponse(handleIndex=1, data=b"ab"),
            WriteStreamResponse(handleIndex=1, writtenSize=3),
            CommitStreamResponse(handleIndex=1),
            GetStreamSizeResponse(handleIndex=1, streamSize=5),
        ]
        responseBytes = bytes.fromhex(
            "2b 01 00000000 02000000"
            "2c 01 00000000 0200 6162"
            "2d 01 00000000 0300"
            "5d 01 00000000"
            "5e 01 00000000 05000000"
        )
        self.assertEqual(
            encodeResponses(responses, requests, RopContext()), responseBytes
        )
        self.assertEqual(
            decodeResponses(responseBytes, [0x40, 0x41], requests, RopContext()),
            responses,
        )


# -- property-based tests ------------------------------------------------------

_u8 = st.integers(0, 0xFF)
_u16 = st.integers(0, 0xFFFF)
_u32 = st.integers(0, 0xFFFFFFFF)
_u64 = st.integers(0, 0xFFFFFFFFFFFFFFFF)
_i64 = st.integers(-(1 << 63), (1 << 63) - 1)
_guids = st.builds(uuid.UUID, int=st.integers(0, (1 << 128) - 1))
_failures = st.sampled_from([0x80004005, EC_NOT_FOUND, EC_ACCESS_DENIED, EC_MAPI_OOM])
# Strings without NUL (a NUL would end them) and without lone surrogates.
_text = st.text(
    st.characters(min_codepoint=1, blacklist_categories=("Cs",)), max_size=12
)
_text8 = st.text(st.characters(min_codepoint=1, max_codepoint=0xFF), max_size=12)

# Property type -> strategy of a value of that type (as oxcdata decodes it).
_VALUES = {
    0x0002: _u16,
    0x0003: _u32,
    0x0005: st.floats(allow_nan=False),
    0x000A: _u32,
    0x000B: st.booleans(),
    0x0014: _u64,
    0x001E: _text8,
    0x001F: _text,
    0x0040: _u64,
    0x0048: _guids,
    0x0102: st.binary(max_size=20),
    0x1003: st.lists(_u32, max_size=4),
    0x101F: st.lists(_text, max_size=3),
    0x1102: st.lists(st.binary(max_size=6), max_size=3),
}
_types = st.sampled_from(sorted(_VALUES))


@st.composite
def _taggedValues(draw):
    t = draw(_types)
    return TaggedPropertyValue((draw(_u16) << 16) | t, draw(_VALUES[t]))


@st.composite
def _names(draw):
    kind = draw(st.sampled_from([MNID_ID, MNID_STRING, MNID_NONE]))
    guid = draw(_guids)
    if kind == MNID_ID:
        return PropertyName(kind, guid, lid=draw(_u32))
    if kind == MNID_STRING:
        return PropertyName(kind, guid, name=draw(_text))
    return PropertyName(kind, guid)


_problems = st.builds(PropertyProblem, _u16, _u32, _u32)
_tags = st.lists(_u32, max_size=5)
_data = st.binary(max_size=40)


@st.composite
def _row(draw, tags):
    """
    A PropertyRow for the columns C{tags}, standard or flagged.
    """
    flagged = draw(st.booleans())
    values = []
    for tag in tags:
        t = tag & 0xFFFF
        if t == 0:
            valueType = draw(_types)
            value = draw(_VALUES[valueType])
        else:
            valueType, value = t, draw(_VALUES[t])
        if not flagged:
            values.append(TypedPropertyValue(valueType, value) if t == 0 else value)
            continue
        flag = draw(st.sampled_from([FLAG_VALUE, FLAG_NOT_FOUND, FLAG_ERROR]))
        if flag == FLAG_NOT_FOUND:
            value = None
        elif flag == FLAG_ERROR:
            value = draw(_u32)
        if t == 0:
            values.append(FlaggedPropertyValueWithType(valueType, flag, value))
        else:
            values.append(FlaggedPropertyValue(flag, value))
    return PropertyRow(ROW_FLAGGED if flagged else ROW_STANDARD, values)


def _head(draw):
    return {"logonId": draw(_u8), "inputHandleIndex": draw(_u8)}


def _status(draw, *special):
    """
    A ReturnValue: success, one of C{special}, or a plain failure.
    """
    return draw(st.sampled_from([0, *special]) | _failures)


@st.composite
def _exchange(draw):
    """
    A (request, response) pair of one of the family's ROPs, with every
    optional field consistent with its flags and ReturnValue.
    """
    ropId = draw(st.sampled_from(_OWN_IDS))
    head = _head(draw)
    hi = draw(_u8)
    reqCls = REQUEST_CLASSES[ropId]
    respCls = RESPONSE_CLASSES[ropId]
    warn = MAPI_W_ERRORS_RETURNED
    null = EC_DST_NULL_OBJECT

    if ropId == 0x56:
        rv = _status(draw, warn)
        ids = draw(st.lists(_u16, max_size=5)) if rv in (0, warn) else []
        return (
            reqCls(
                flags=draw(_u8),
                propertyNames=draw(st.lists(_names(), max_size=3)),
                **head,
            ),
            respCls(handleIndex=hi, returnValue=rv, propertyIds=ids),
        )
    if ropId == 0x55:
        rv = _status(draw, warn)
        names = draw(st.lists(_names(), max_size=3)) if rv in (0, warn) else []
        return (
            reqCls(propertyIds=draw(st.lists(_u16, max_size=5)), **head),
            respCls(handleIndex=hi, returnValue=rv, propertyNames=names),
        )
    if ropId == 0x07:
        tags = draw(
            st.lists(
                st.builds(
                    lambda i, t: (i << 16) | t,
                    _u16,
                    st.sampled_from([0, *sorted(_VALUES)]),
                ),
                max_size=4,
            )
        )
        rv = _status(draw)
        row = draw(_row(tags)) if rv == 0 else None
        return (
            reqCls(
                propertySizeLimit=draw(_u16),
                wantUnicode=draw(_u16),
                propertyTags=tags,
                **head,
            ),
            respCls(handleIndex=hi, returnValue=rv, rowData=row),
        )
    if ropId == 0x08:
        rv = _status(draw)
        values = draw(st.lists(_taggedValues(), max_size=4)) if rv == 0 else []
        return (
            reqCls(propertySizeLimit=draw(_u16), wantUnicode=draw(_u16), **head),
            respCls(handleIndex=hi, returnValue=rv, propertyValues=values),
        )
    if ropId == 0x09:
        rv = _status(draw)
        return (
            reqCls(**head),
            respCls(
                handleIndex=hi,
                returnValue=rv,
                propertyTags=draw(_tags) if rv == 0 else [],
            ),
        )
    if ropId in (0x0A, 0x79, 0x0B, 0x7A):
        if ropId in (0x0A, 0x79):
            request = reqCls(
                propertyValues=draw(st.lists(_taggedValues(), max_size=4)),
                trailing=draw(st.binary(max_size=3)),
                **head,
            )
            rv = _status(draw, warn)
            withBody = (0, warn)
        else:
            request = reqCls(propertyTags=draw(_tags), **head)
            rv = _status(draw)
            withBody = (0,)
        problems = draw(st.lists(_problems, max_size=3)) if rv in withBody else []
        return request, respCls(
            handleIndex=hi, returnValue=rv, propertyProblems=problems
        )
    if ropId == 0x5F:
        hasGuid = draw(_u8)
        rv = _status(draw)
        ids, names = [], []
        if rv == 0:
            names = draw(st.lists(_names(), max_size=3))
            ids = draw(st.lists(_u16, min_size=len(names), max_size=len(names)))
        return (
            reqCls(
                queryFlags=draw(_u8),
                hasGuid=hasGuid,
                propertyGuid=draw(_guids) if hasGuid else None,
                **head,
            ),
            respCls(
                handleIndex=hi, returnValue=rv, propertyIds=ids, propertyNames=names
            ),
        )
    if ropId in (0x67, 0x39):
        if ropId == 0x67:
            request = reqCls(
                destHandleIndex=draw(_u8),
                wantAsynchronous=draw(_u8),
                copyFlags=draw(_u8),
                propertyTags=draw(_tags),
                **head,
            )
        else:
            request = reqCls(
                destHandleIndex=draw(_u8),
                wantAsynchronous=draw(_u8),
                wantSubObjects=draw(_u8),
                copyFlags=draw(_u8),
                excludedTags=draw(_tags),
                **head,
            )
        rv = _status(draw, null)
        return request, respCls(
            handleIndex=hi,
            returnValue=rv,
            propertyProblems=draw(st.lists(_problems, max_size=3)) if rv == 0 else [],
            destHandleIndex=draw(_u32) if rv == null else None,
        )
    if ropId == 0x50:
        rv = _status(draw)
        fields = {}
        if rv == 0:
            fields = dict(
                logonId=draw(_u8),
                completedTaskCount=draw(_u32),
                totalTaskCount=draw(_u32),
            )
        return (
            reqCls(wantCancel=draw(_u8), **head),
            respCls(handleIndex=hi, returnValue=rv, **fields),
        )
    if ropId == 0x2B:
        rv = _status(draw)
        return (
            reqCls(
                outputHandleIndex=draw(_u8),
                propertyTag=draw(_u32),
                openModeFlags=draw(_u8),
                **head,
            ),
            respCls(
                handleIndex=hi, returnValue=rv, streamSize=draw(_u32) if rv == 0 else 0
            ),
        )
    if ropId == 0x2C:
        count = draw(st.sampled_from([READ_STREAM_USE_MAXIMUM]) | _u16)
        return (
            reqCls(
                byteCount=count,
                maximumByteCount=(
                    draw(_u32) if count == READ_STREAM_USE_MAXIMUM else None
                ),
                **head,
            ),
            respCls(handleIndex=hi, returnValue=_status(draw), data=draw(_data)),
        )
    if ropId in (0x2D, 0x90):
        return (
            reqCls(data=draw(_data), **head),
            respCls(handleIndex=hi, returnValue=_status(draw), writtenSize=draw(_u16)),
        )
    if ropId == 0xA3:
        return (
            reqCls(data=draw(_data), **head),
            respCls(handleIndex=hi, returnValue=_status(draw), writtenSize=draw(_u32)),
        )
    if ropId in (0x5D, 0x5B, 0x5C, 0x2F, 0x3B):
        if ropId == 0x2F:
            request = reqCls(streamSize=draw(_u64), **head)
        elif ropId == 0x3B:
            request = reqCls(outputHandleIndex=draw(_u8), **head)
        elif ropId == 0x5D:
            request = reqCls(**head)
        else:
            request = reqCls(
                regionOffset=draw(_u64),
                regionSize=draw(_u64),
                lockFlags=draw(_u32),
                **head,
            )
        return request, respCls(handleIndex=hi, returnValue=_status(draw))
    if ropId == 0x5E:
        rv = _status(draw)
        return (
            reqCls(**head),
            respCls(
                handleIndex=hi, returnValue=rv, streamSize=draw(_u32) if rv == 0 else 0
            ),
        )
    if ropId == 0x2E:
        rv = _status(draw)
        return (
            reqCls(origin=draw(_u8), offset=draw(_i64), **head),
            respCls(
                handleIndex=hi, returnValue=rv, newPosition=draw(_u64) if rv == 0 else 0
            ),
        )
    assert ropId == 0x3A, ropId
    rv = _status(draw, null)
    return (
        reqCls(destHandleIndex=draw(_u8), byteCount=draw(_u64), **head),
        respCls(
            handleIndex=hi,
            returnValue=rv,
            destHandleIndex=draw(_u32) if rv == null else None,
            readByteCount=draw(_u64),
            writtenByteCount=draw(_u64),
        ),
    )


# An UnknownRop's error names the exception type when it is not RopError.
_FOREIGN_ERROR = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b: ")


class PropertyBasedTests(SynchronousTestCase):
    """
    Random valid ROPs round-trip through the buffer codec; random bytes
    raise nothing but L{RopError}.
    """

    @_FAST
    @given(st.lists(_exchange(), min_size=1, max_size=6))
    def test_roundTripMixedBuffer(self, exchanges):
        """
        A buffer of random requests, and the buffer of their responses,
        encode and decode back to the same objects and bytes.
        """
        requests = [q for q, _ in exchanges]
        responses = [p for _, p in exchanges]
        requestBytes = encodeRequests(requests, RopContext())
        decodedRequests = decodeRequests(requestBytes, list(_HANDLES), RopContext())
        self.assertEqual(decodedRequests, requests)
        self.assertEqual(encodeRequests(decodedRequests, RopContext()), requestBytes)
        responseBytes = encodeResponses(responses, requests, RopContext())
        decodedResponses = decodeResponses(
            responseBytes, list(_HANDLES), decodedRequests, RopContext()
        )
        self.assertEqual(decodedResponses, responses)
        self.assertEqual(
            encodeResponses(decodedResponses, decodedRequests, RopContext()),
            responseBytes,
        )

    @_FAST
    @given(st.sampled_from(_OWN_IDS), st.binary(max_size=48))
    def test_randomRequestBodies(self, ropId, body):
        """
        A request class fed random bytes returns an instance or raises
        L{RopError}, nothing else; what it returns re-encodes to the bytes
        it consumed.
        """
        r = Reader(body)
        try:
            rop = REQUEST_CLASSES[ropId].readBody(
                r, RopContext(), {"logonId": 0, "inputHandleIndex": 0}
            )
        except RopError:
            return
        self.assertEqual(encodeRequests([rop], RopContext())[3:], body[: r.offset])

    @_FAST
    @given(
        st.sampled_from(_OWN_IDS),
        st.sampled_from([0, MAPI_W_ERRORS_RETURNED, EC_DST_NULL_OBJECT, EC_NOT_FOUND]),
        st.binary(max_size=48),
        _tags,
    )
    def test_randomResponseBodies(self, ropId, returnValue, body, tags):
        """
        A response class fed random bytes, with or without a request,
        returns an instance or raises L{RopError}, nothing else; what it
        returns re-encodes to the bytes it consumed.
        """
        request = GetPropertiesSpecificRequest(propertyTags=tags)
        for req in (None, request):
            r = Reader(body)
            header = {"handleIndex": 0, "returnValue": returnValue}
            try:
                rop = RESPONSE_CLASSES[ropId].readBody(r, RopContext(), req, header)
            except RopError:
                continue
            reqs = None if req is None else [req]
            self.assertEqual(
                encodeResponses([rop], reqs if ropId == 0x07 else None, RopContext())[
                    6:
                ],
                body[: r.offset],
            )

    @_FAST
    @given(st.sampled_from(_OWN_IDS), st.binary(max_size=64))
    def test_randomRequestBuffer(self, ropId, tail):
        """
        decodeRequests on random bytes starting with one of the family's
        RopIds yields ROPs and at most a final L{UnknownRop} (never a
        foreign exception), and re-encodes to the same bytes.
        """
        data = bytes([ropId]) + tail
        items = decodeRequests(data, list(_HANDLES), RopContext())
        for item in items[:-1]:
            self.assertIsInstance(item, RopRequest)
        if isinstance(items[-1], UnknownRop):
            self.assertIsNone(_FOREIGN_ERROR.match(items[-1].error), items[-1].error)
        self.assertEqual(encodeRequests(items, RopContext()), data)

    @_FAST
    @given(st.sampled_from(_OWN_IDS), st.binary(max_size=64))
    def test_randomResponseBuffer(self, ropId, tail):
        """
        decodeResponses on random bytes starting with one of the family's
        RopIds (and no requests) yields ROPs and at most a final
        L{UnknownRop}, and re-encodes to the same bytes.
        """
        data = bytes([ropId]) + tail
        items = decodeResponses(data, [], None, RopContext())
        for item in items[:-1]:
            self.assertIsInstance(item, RopResponse)
        if items and isinstance(items[-1], UnknownRop):
            self.assertIsNone(_FOREIGN_ERROR.match(items[-1].error), items[-1].error)
        self.assertEqual(encodeResponses(items, None, RopContext()), data)
