# -*- test-case-name: tests.mapi.rops.test_logon -*-
"""
Logon, store, folder, permission and rule ROPs: RopLogon and the other
store ROPs ([MS-OXCROPS] 2.2.3, semantics in [MS-OXCSTOR] 2.2.1), the
folder ROPs ([MS-OXCROPS] 2.2.4, [MS-OXCFOLD] 2.2.1), the permission ROPs
([MS-OXCROPS] 2.2.10.1-2.2.10.2, [MS-OXCPERM] 2.2) and the rule ROPs
([MS-OXCROPS] 2.2.11, [MS-OXORULE] 2.2).

Two layouts here depend on the logon a ROP belongs to, which is why
decoding a RopLogon request records its LogonFlags in
L{RopContext.logons<mapiproxy.mapi.rops.base.RopContext.logons>} under its
LogonId:

  - the success response of RopLogon has a private-mailbox form and a
    public-folders form, chosen by the C{LOGON_PRIVATE} bit of the
    request's LogonFlags ([MS-OXCROPS] 2.2.3.1.2, 2.2.3.1.3);
  - the request of RopWritePerUserInformation carries a ReplGuid only when
    its DataOffset is 0 and its logon is a private-mailbox logon
    ([MS-OXCROPS] 2.2.3.13.1).

Most responses carry a body only on success (ReturnValue 0). The
exceptions ([MS-OXCROPS] 2.2.3.1.4, 2.2.4.3.2, 2.2.4.6-2.2.4.11):

  - RopLogon failing with ecWrongServer (0x478) carries a redirect body
    (LogonFlags, the name of the server to use);
  - RopDeleteFolder, RopDeleteMessages, RopHardDeleteMessages,
    RopEmptyFolder and RopHardDeleteMessagesAndSubfolders always carry
    PartialCompletion;
  - RopMoveCopyMessages, RopMoveFolder and RopCopyFolder always carry
    PartialCompletion, preceded by a DestHandleIndex u32 when they fail
    with ecDstNullObject (0x503).

One-byte Booleans and flag bytes are kept as the byte received (nonzero is
TRUE) so that re-encoding is exact. Strings announced as 8-bit are decoded
as Latin-1 for the same reason.

Sans-I/O; no Twisted.
"""

import uuid
from dataclasses import dataclass, field
from typing import Optional

from mapiproxy.errors import RopError
from mapiproxy.mapi.oxcdata import (
    LongTermId,
    PropertyRow,
    Restriction,
    TaggedPropertyValue,
)
from mapiproxy.mapi.rops.base import RopRequest, RopResponse, ropRequest, ropResponse

__all__ = [
    "LOGON_PRIVATE",
    "LOGON_UNDERCOVER",
    "LOGON_GHOSTED",
    "EC_WRONG_SERVER",
    "EC_DST_NULL_OBJECT",
    "RECEIVE_FOLDER_TABLE_COLUMNS",
    "LogonTime",
    "PermissionData",
    "RuleData",
    "LogonRequest",
    "LogonResponse",
    "GetReceiveFolderRequest",
    "GetReceiveFolderResponse",
    "SetReceiveFolderRequest",
    "SetReceiveFolderResponse",
    "GetReceiveFolderTableRequest",
    "GetReceiveFolderTableResponse",
    "GetStoreStateRequest",
    "GetStoreStateResponse",
    "GetOwningServersRequest",
    "GetOwningServersResponse",
    "PublicFolderIsGhostedRequest",
    "PublicFolderIsGhostedResponse",
    "LongTermIdFromIdRequest",
    "LongTermIdFromIdResponse",
    "IdFromLongTermIdRequest",
    "IdFromLongTermIdResponse",
    "GetPerUserLongTermIdsRequest",
    "GetPerUserLongTermIdsResponse",
    "GetPerUserGuidRequest",
    "GetPerUserGuidResponse",
    "ReadPerUserInformationRequest",
    "ReadPerUserInformationResponse",
    "WritePerUserInformationRequest",
    "WritePerUserInformationResponse",
    "OpenFolderRequest",
    "OpenFolderResponse",
    "CreateFolderRequest",
    "CreateFolderResponse",
    "DeleteFolderRequest",
    "DeleteFolderResponse",
    "SetSearchCriteriaRequest",
    "SetSearchCriteriaResponse",
    "GetSearchCriteriaRequest",
    "GetSearchCriteriaResponse",
    "MoveCopyMessagesRequest",
    "MoveCopyMessagesResponse",
    "MoveFolderRequest",
    "MoveFolderResponse",
    "CopyFolderRequest",
    "CopyFolderResponse",
    "EmptyFolderRequest",
    "EmptyFolderResponse",
    "HardDeleteMessagesAndSubfoldersRequest",
    "HardDeleteMessagesAndSubfoldersResponse",
    "DeleteMessagesRequest",
    "DeleteMessagesResponse",
    "HardDeleteMessagesRequest",
    "HardDeleteMessagesResponse",
    "GetHierarchyTableRequest",
    "GetHierarchyTableResponse",
    "GetContentsTableRequest",
    "GetContentsTableResponse",
    "ModifyPermissionsRequest",
    "ModifyPermissionsResponse",
    "GetPermissionsTableRequest",
    "GetPermissionsTableResponse",
    "ModifyRulesRequest",
    "ModifyRulesResponse",
    "GetRulesTableRequest",
    "GetRulesTableResponse",
    "UpdateDeferredActionMessagesRequest",
    "UpdateDeferredActionMessagesResponse",
]

# LogonFlags ([MS-OXCSTOR] 2.2.1.1.1).
#: A private-mailbox logon (clear: public folders).
LOGON_PRIVATE = 0x01
#: Undercover logon (the server skips logging the access).
LOGON_UNDERCOVER = 0x02
#: Public folders: log on to the ghosted replica server.
LOGON_GHOSTED = 0x04

#: ReturnValue of a RopLogon the client must redo on another server
#: ([MS-OXCDATA] 2.4.1).
EC_WRONG_SERVER = 0x00000478
#: ReturnValue of a move or copy whose destination handle is not an object
#: ([MS-OXCDATA] 2.4.1).
EC_DST_NULL_OBJECT = 0x00000503

#: The columns of the rows of RopGetReceiveFolderTable: PidTagFolderId,
#: PidTagMessageClass (8-bit) and PidTagLastModificationTime
#: ([MS-OXCROPS] 2.2.3.4.2, [MS-OXCSTOR] 2.2.1.4.2).
RECEIVE_FOLDER_TABLE_COLUMNS = (0x67480014, 0x001A001E, 0x30080040)

#: RopLogon carries the IDs of 13 special folders ([MS-OXCSTOR] 2.2.1.1.3).
_FOLDER_ID_COUNT = 13

_NIL = uuid.UUID(int=0)


def _checkSuccess(header):
    """
    @return: Whether the response header says success.
    """
    return header["returnValue"] == 0


def _readSizedAsciiz(r, size):
    """
    Read a NUL-terminated 8-bit string whose size (terminator included) is
    given by a preceding field.

    @return: The string, or L{None} when C{size} is 0.
    @raise RopError: If the last byte is not NUL.
    """
    if size == 0:
        return None
    raw = r.bytes(size)
    if raw[-1] != 0:
        raise RopError("sized 8-bit string is not NUL-terminated")
    return raw[:-1].decode("latin-1")


def _sizedAsciiz(s):
    """
    @return: The bytes of a sized NUL-terminated 8-bit string (empty for
        L{None}).
    """
    if s is None:
        return b""
    try:
        return s.encode("latin-1") + b"\x00"
    except (UnicodeEncodeError, AttributeError) as e:
        raise RopError("cannot encode 8-bit string: %s" % (e,)) from None


def _readString(r, unicode):
    """
    Read a NUL-terminated string: UTF-16LE if C{unicode} is nonzero, else
    8-bit.
    """
    if unicode:
        return r.unicodez()
    return r.asciiz()


def _writeString(w, unicode, s):
    """
    Write a NUL-terminated string: UTF-16LE if C{unicode} is nonzero, else
    8-bit.
    """
    if unicode:
        w.unicodez(s)
    else:
        w.asciiz(s)


def _readServers(r):
    """
    Read the replica server list shared by RopOpenFolder, RopCreateFolder,
    RopGetOwningServers and RopPublicFolderIsGhosted: ServerCount u16,
    CheapServerCount u16, then ServerCount NUL-terminated 8-bit names
    ([MS-OXCROPS] 2.2.4.1.2).

    @return: C{(cheapServerCount, servers)}.
    """
    count = r.u16()
    cheap = r.u16()
    return cheap, r.counted(count, r.asciiz)


def _writeServers(w, cheap, servers):
    """
    Write the replica server list read by L{_readServers}.
    """
    w.u16(len(servers))
    w.u16(cheap)
    for name in servers:
        w.asciiz(name)


def _readIds(r):
    """
    @return: A u16 count followed by that many u64 IDs.
    """
    return r.u64Array(r.u16())


def _writeIds(w, ids):
    """
    Write a u16 count followed by the u64 IDs.
    """
    w.u16(len(ids))
    w.u64Array(ids)


def _readBinary(r):
    """
    @return: A u16 size followed by that many bytes.
    """
    return r.bytes(r.u16())


def _writeBinary(w, data):
    """
    Write a u16 size followed by the bytes.
    """
    w.u16(len(data))
    w.bytes(data)


def _readRestriction(r):
    """
    Read RestrictionDataSize u16 and RestrictionData ([MS-OXCROPS]
    2.2.4.4.1): L{None} for size 0, else a L{Restriction}; a restriction
    that does not parse, or does not fill its size exactly, is kept as its
    raw bytes so that the rest of the buffer stays readable.
    """
    size = r.u16()
    if size == 0:
        return None
    sub = r.sub(size)
    start = sub.offset
    try:
        restriction = Restriction.read(sub)
    except RopError:
        restriction = None
    if restriction is None or sub.remaining:
        sub.offset = start
        return sub.rest()
    return restriction


def _writeRestriction(w, restriction):
    """
    Write what L{_readRestriction} reads.
    """
    if restriction is None:
        w.u16(0)
        return
    if isinstance(restriction, (bytes, bytearray)):
        _writeBinary(w, bytes(restriction))
        return
    pos = w.placeholderU16()
    start = len(w)
    restriction.write(w)
    w.setU16(pos, len(w) - start)


def _readTaggedValues(r):
    """
    @return: A u16 count followed by that many TaggedPropertyValue
        ([MS-OXCDATA] 2.11.4).
    """
    return r.counted(r.u16(), TaggedPropertyValue.read, 4)


def _writeTaggedValues(w, values):
    """
    Write a u16 count followed by the TaggedPropertyValues.
    """
    w.u16(len(values))
    for value in values:
        value.write(w)


@dataclass(slots=True)
class LogonTime:
    """
    The LogonTime of a private-mailbox RopLogon response: the server's
    local time, field by field ([MS-OXCROPS] 2.2.3.1.2).

    @ivar seconds: 0-59.
    @ivar minutes: 0-59.
    @ivar hour: 0-23.
    @ivar dayOfWeek: 0 (Sunday) to 6.
    @ivar day: 1-31.
    @ivar month: 1-12.
    @ivar year: e.g. 2024.
    """

    seconds: int = 0
    minutes: int = 0
    hour: int = 0
    dayOfWeek: int = 0
    day: int = 0
    month: int = 0
    year: int = 0

    @classmethod
    def read(cls, r):
        """
        @param r: The reader.
        @type r: L{Reader<mapiproxy.mapi.rops.base.Reader>}
        @rtype: L{LogonTime}
        """
        return cls(r.u8(), r.u8(), r.u8(), r.u8(), r.u8(), r.u8(), r.u16())

    def write(self, w):
        """
        @param w: The writer.
        @type w: L{Writer<mapiproxy.mapi.rops.base.Writer>}
        """
        for v in (
            self.seconds,
            self.minutes,
            self.hour,
            self.dayOfWeek,
            self.day,
            self.month,
        ):
            w.u8(v)
        w.u16(self.year)


@dataclass(slots=True)
class PermissionData:
    """
    One entry of RopModifyPermissions ([MS-OXCROPS] 2.2.10.1.1.1,
    [MS-OXCPERM] 2.2.2): PermissionDataFlags u8 (0x01 AddRow, 0x02
    ModifyRow, 0x04 RemoveRow) and its property values.

    @ivar permissionDataFlags: The flags byte.
    @ivar propertyValues: L{TaggedPropertyValue}s (PidTagEntryId,
        PidTagMemberId, PidTagMemberRights).
    """

    permissionDataFlags: int = 0
    propertyValues: list = field(default_factory=list)

    @classmethod
    def read(cls, r):
        """
        @type r: L{Reader<mapiproxy.mapi.rops.base.Reader>}
        @rtype: L{PermissionData}
        """
        return cls(r.u8(), _readTaggedValues(r))

    def write(self, w):
        """
        @type w: L{Writer<mapiproxy.mapi.rops.base.Writer>}
        """
        w.u8(self.permissionDataFlags)
        _writeTaggedValues(w, self.propertyValues)


@dataclass(slots=True)
class RuleData:
    """
    One entry of RopModifyRules ([MS-OXCROPS] 2.2.11.1.1.1, [MS-OXORULE]
    2.2.1.3.1): RuleDataFlags u8 (0x01 ROW_ADD, 0x02 ROW_MODIFY, 0x04
    ROW_REMOVE) and the rule's property values (PidTagRuleCondition is a
    PtypRestriction, PidTagRuleActions a PtypRuleAction).

    @ivar ruleDataFlags: The flags byte.
    @ivar propertyValues: L{TaggedPropertyValue}s.
    """

    ruleDataFlags: int = 0
    propertyValues: list = field(default_factory=list)

    @classmethod
    def read(cls, r):
        """
        @type r: L{Reader<mapiproxy.mapi.rops.base.Reader>}
        @rtype: L{RuleData}
        """
        return cls(r.u8(), _readTaggedValues(r))

    def write(self, w):
        """
        @type w: L{Writer<mapiproxy.mapi.rops.base.Writer>}
        """
        w.u8(self.ruleDataFlags)
        _writeTaggedValues(w, self.propertyValues)


@dataclass(slots=True)
class _SuccessBodyResponse(RopResponse):
    """
    A response whose body is present only on success: subclasses read and
    write it in L{_readFields} and L{_writeFields}.
    """

    @classmethod
    def readBody(cls, r, ctx, request, header):
        if not _checkSuccess(header):
            return cls(**header)
        return cls(**header, **cls._readFields(r, ctx, request))

    def writeBody(self, w, ctx, request):
        if self.returnValue == 0:
            self._writeFields(w, ctx, request)

    @classmethod
    def _readFields(cls, r, ctx, request):
        return {}

    def _writeFields(self, w, ctx, request):
        pass


@dataclass(slots=True)
class _PartialCompletionResponse(RopResponse):
    """
    A response that always carries PartialCompletion u8, success or not
    ([MS-OXCROPS] 2.2.4.3.2, 2.2.4.9.2, 2.2.4.10.2, 2.2.4.11.2).

    @ivar partialCompletion: Nonzero if the operation failed for some of
        its targets.
    """

    partialCompletion: int = 0

    @classmethod
    def readBody(cls, r, ctx, request, header):
        return cls(**header, partialCompletion=r.u8())

    def writeBody(self, w, ctx, request):
        w.u8(self.partialCompletion)


@dataclass(slots=True)
class _NullDestinationResponse(RopResponse):
    """
    A move or copy response: PartialCompletion u8, preceded by
    DestHandleIndex u32 when ReturnValue is ecDstNullObject (0x503)
    ([MS-OXCROPS] 2.2.4.6.3, 2.2.4.7.3, 2.2.4.8.3).

    @ivar destHandleIndex: The request's DestHandleIndex, echoed in the
        null-destination failure (L{None} otherwise).
    @ivar partialCompletion: Nonzero if the operation failed for some of
        its targets.
    """

    destHandleIndex: Optional[int] = None
    partialCompletion: int = 0

    @classmethod
    def readBody(cls, r, ctx, request, header):
        dest = None
        if header["returnValue"] == EC_DST_NULL_OBJECT:
            dest = r.u32()
        return cls(**header, destHandleIndex=dest, partialCompletion=r.u8())

    def writeBody(self, w, ctx, request):
        if self.returnValue == EC_DST_NULL_OBJECT:
            w.u32(self.destHandleIndex or 0)
        w.u8(self.partialCompletion)


@dataclass(slots=True)
class _TableRequest(RopRequest):
    """
    A request that opens a table: OutputHandleIndex u8, TableFlags u8
    ([MS-OXCROPS] 2.2.4.13.1, 2.2.4.14.1, 2.2.10.2.1, 2.2.11.2.1).

    @ivar outputHandleIndex: Where the table's handle goes.
    @ivar tableFlags: The TableFlags byte ([MS-OXCFOLD] 2.2.1.13.1,
        [MS-OXCPERM] 2.2.1.1, [MS-OXORULE] 2.2.2.1).
    """

    outputHandleIndex: int = 0
    tableFlags: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(**header, outputHandleIndex=r.u8(), tableFlags=r.u8())

    def writeBody(self, w, ctx):
        w.u8(self.outputHandleIndex)
        w.u8(self.tableFlags)


# -- RopLogon [MS-OXCROPS] 2.2.3.1 ------------------------------------------


@ropRequest(0xFE)
@dataclass(slots=True)
class LogonRequest(RopRequest):
    """
    RopLogon request ([MS-OXCROPS] 2.2.3.1.1, [MS-OXCSTOR] 2.2.1.1.1).

    RopLogon has no InputHandleIndex: the third header byte is its
    OutputHandleIndex, kept in C{inputHandleIndex} and also readable and
    writable as L{outputHandleIndex}.

    Decoding or encoding it records C{logonFlags} in
    C{ctx.logons[logonId]}.

    @ivar logonFlags: L{LOGON_PRIVATE}, L{LOGON_UNDERCOVER},
        L{LOGON_GHOSTED}.
    @ivar openFlags: The OpenFlags u32 ([MS-OXCSTOR] 2.2.1.1.1).
    @ivar storeState: StoreState u32 (SHOULD be 0).
    @ivar essdn: The mailbox's DN (L{None} when EssdnSize is 0, as for a
        public-folders logon).
    """

    logonFlags: int = 0
    openFlags: int = 0
    storeState: int = 0
    essdn: Optional[str] = None

    @property
    def outputHandleIndex(self):
        """
        The OutputHandleIndex (the header byte after LogonId).
        """
        return self.inputHandleIndex

    @outputHandleIndex.setter
    def outputHandleIndex(self, value):
        self.inputHandleIndex = value

    @classmethod
    def readBody(cls, r, ctx, header):
        logonFlags = r.u8()
        openFlags = r.u32()
        storeState = r.u32()
        essdn = _readSizedAsciiz(r, r.u16())
        ctx.logons[header["logonId"]] = logonFlags
        return cls(
            **header,
            logonFlags=logonFlags,
            openFlags=openFlags,
            storeState=storeState,
            essdn=essdn,
        )

    def writeBody(self, w, ctx):
        w.u8(self.logonFlags)
        w.u32(self.openFlags)
        w.u32(self.storeState)
        _writeBinary(w, _sizedAsciiz(self.essdn))
        ctx.logons[self.logonId] = self.logonFlags


@ropResponse(0xFE)
@dataclass(slots=True)
class LogonResponse(RopResponse):
    """
    RopLogon response ([MS-OXCROPS] 2.2.3.1.2-2.2.3.1.4, [MS-OXCSTOR]
    2.2.1.1.3-2.2.1.1.5). C{handleIndex} is the OutputHandleIndex.

    The success body has two forms, chosen by the C{LOGON_PRIVATE} bit of
    the request's LogonFlags (of the response's own LogonFlags when the
    request is unknown; the server echoes them):

      - private mailbox: C{logonFlags}, C{folderIds}, C{responseFlags},
        C{mailboxGuid}, C{replId}, C{replGuid}, C{logonTime},
        C{gwartTime}, C{storeState};
      - public folders: C{logonFlags}, C{folderIds}, C{replId},
        C{replGuid}, C{perUserGuid}.

    ReturnValue L{EC_WRONG_SERVER} carries C{logonFlags} and
    C{serverName}; any other failure has no body. Fields of the other
    forms keep their defaults.

    @ivar logonFlags: LogonFlags u8, echoed from the request.
    @ivar folderIds: The 13 special folder IDs (u64; [MS-OXCSTOR]
        2.2.1.1.3 and 2.2.1.1.4 give their order).
    @ivar responseFlags: ResponseFlags u8 (0x01 Reserved, 0x02 OwnerRight,
        0x04 SendAsRight, 0x10 OOF).
    @ivar mailboxGuid: MailboxGuid.
    @ivar replId: ReplId u16, the replica ID of the logon's store.
    @ivar replGuid: ReplGuid, the replica GUID mapped to C{replId}.
    @ivar logonTime: A L{LogonTime}.
    @ivar gwartTime: GwartTime u64 (a FILETIME).
    @ivar storeState: StoreState u32.
    @ivar perUserGuid: PerUserGuid (public folders).
    @ivar serverName: The server to redirect to (ecWrongServer), L{None}
        when its ServerNameSize is 0.
    """

    logonFlags: int = 0
    folderIds: list = field(default_factory=lambda: [0] * _FOLDER_ID_COUNT)
    responseFlags: int = 0
    mailboxGuid: uuid.UUID = _NIL
    replId: int = 0
    replGuid: uuid.UUID = _NIL
    logonTime: LogonTime = field(default_factory=LogonTime)
    gwartTime: int = 0
    storeState: int = 0
    perUserGuid: uuid.UUID = _NIL
    serverName: Optional[str] = None

    @staticmethod
    def _isPrivate(request, logonFlags):
        if request is not None and hasattr(request, "logonFlags"):
            logonFlags = request.logonFlags
        return bool(logonFlags & LOGON_PRIVATE)

    @classmethod
    def readBody(cls, r, ctx, request, header):
        returnValue = header["returnValue"]
        if returnValue == EC_WRONG_SERVER:
            logonFlags = r.u8()
            serverName = _readSizedAsciiz(r, r.u8())
            return cls(**header, logonFlags=logonFlags, serverName=serverName)
        if returnValue != 0:
            return cls(**header)
        logonFlags = r.u8()
        folderIds = r.u64Array(_FOLDER_ID_COUNT)
        if not cls._isPrivate(request, logonFlags):
            return cls(
                **header,
                logonFlags=logonFlags,
                folderIds=folderIds,
                replId=r.u16(),
                replGuid=r.guid(),
                perUserGuid=r.guid(),
            )
        return cls(
            **header,
            logonFlags=logonFlags,
            folderIds=folderIds,
            responseFlags=r.u8(),
            mailboxGuid=r.guid(),
            replId=r.u16(),
            replGuid=r.guid(),
            logonTime=LogonTime.read(r),
            gwartTime=r.u64(),
            storeState=r.u32(),
        )

    def writeBody(self, w, ctx, request):
        if self.returnValue == EC_WRONG_SERVER:
            w.u8(self.logonFlags)
            name = _sizedAsciiz(self.serverName)
            w.u8(len(name))
            w.bytes(name)
            return
        if self.returnValue != 0:
            return
        if len(self.folderIds) != _FOLDER_ID_COUNT:
            raise RopError(
                "RopLogon carries %d folder IDs, not %d"
                % (_FOLDER_ID_COUNT, len(self.folderIds))
            )
        w.u8(self.logonFlags)
        w.u64Array(self.folderIds)
        if not self._isPrivate(request, self.logonFlags):
            w.u16(self.replId)
            w.guid(self.replGuid)
            w.guid(self.perUserGuid)
            return
        w.u8(self.responseFlags)
        w.guid(self.mailboxGuid)
        w.u16(self.replId)
        w.guid(self.replGuid)
        self.logonTime.write(w)
        w.u64(self.gwartTime)
        w.u32(self.storeState)


# -- Receive folders [MS-OXCROPS] 2.2.3.2-2.2.3.4 ---------------------------


@ropRequest(0x27)
@dataclass(slots=True)
class GetReceiveFolderRequest(RopRequest):
    """
    RopGetReceiveFolder request ([MS-OXCROPS] 2.2.3.2.1).

    @ivar messageClass: The message class whose Receive folder is asked
        for (8-bit; empty for the default).
    """

    messageClass: str = ""

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(**header, messageClass=r.asciiz())

    def writeBody(self, w, ctx):
        w.asciiz(self.messageClass)


@ropResponse(0x27)
@dataclass(slots=True)
class GetReceiveFolderResponse(_SuccessBodyResponse):
    """
    RopGetReceiveFolder response ([MS-OXCROPS] 2.2.3.2.2).

    @ivar folderId: FolderId u64 of the Receive folder.
    @ivar explicitMessageClass: The message class actually configured
        (8-bit).
    """

    folderId: int = 0
    explicitMessageClass: str = ""

    @classmethod
    def _readFields(cls, r, ctx, request):
        return {"folderId": r.u64(), "explicitMessageClass": r.asciiz()}

    def _writeFields(self, w, ctx, request):
        w.u64(self.folderId)
        w.asciiz(self.explicitMessageClass)


@ropRequest(0x26)
@dataclass(slots=True)
class SetReceiveFolderRequest(RopRequest):
    """
    RopSetReceiveFolder request ([MS-OXCROPS] 2.2.3.3.1).

    @ivar folderId: FolderId u64 (0 to remove the setting).
    @ivar messageClass: The message class (8-bit).
    """

    folderId: int = 0
    messageClass: str = ""

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(**header, folderId=r.u64(), messageClass=r.asciiz())

    def writeBody(self, w, ctx):
        w.u64(self.folderId)
        w.asciiz(self.messageClass)


@ropResponse(0x26)
@dataclass(slots=True)
class SetReceiveFolderResponse(RopResponse):
    """
    RopSetReceiveFolder response ([MS-OXCROPS] 2.2.3.3.2): no body.
    """


@ropRequest(0x68)
@dataclass(slots=True)
class GetReceiveFolderTableRequest(RopRequest):
    """
    RopGetReceiveFolderTable request ([MS-OXCROPS] 2.2.3.4.1): no body.
    """


@ropResponse(0x68)
@dataclass(slots=True)
class GetReceiveFolderTableResponse(_SuccessBodyResponse):
    """
    RopGetReceiveFolderTable response ([MS-OXCROPS] 2.2.3.4.2): RowCount
    u32 and that many PropertyRows laid out in
    L{RECEIVE_FOLDER_TABLE_COLUMNS} order.

    @ivar rows: L{PropertyRow}s.
    """

    rows: list = field(default_factory=list)

    @classmethod
    def _readFields(cls, r, ctx, request):
        count = r.u32()
        return {
            "rows": r.counted(
                count,
                lambda r: PropertyRow.read(r, RECEIVE_FOLDER_TABLE_COLUMNS),
                1,
            )
        }

    def _writeFields(self, w, ctx, request):
        w.u32(len(self.rows))
        for row in self.rows:
            row.write(w, RECEIVE_FOLDER_TABLE_COLUMNS)


# -- Store state and replicas [MS-OXCROPS] 2.2.3.5-2.2.3.8 ------------------


@ropRequest(0x7B)
@dataclass(slots=True)
class GetStoreStateRequest(RopRequest):
    """
    RopGetStoreState request ([MS-OXCROPS] 2.2.3.5.1): no body.
    """


@ropResponse(0x7B)
@dataclass(slots=True)
class GetStoreStateResponse(_SuccessBodyResponse):
    """
    RopGetStoreState response ([MS-OXCROPS] 2.2.3.5.2).

    @ivar storeState: StoreState u32 (0x01000000 STORE_HAS_SEARCHES).
    """

    storeState: int = 0

    @classmethod
    def _readFields(cls, r, ctx, request):
        return {"storeState": r.u32()}

    def _writeFields(self, w, ctx, request):
        w.u32(self.storeState)


@ropRequest(0x42)
@dataclass(slots=True)
class GetOwningServersRequest(RopRequest):
    """
    RopGetOwningServers request ([MS-OXCROPS] 2.2.3.6.1).

    @ivar folderId: FolderId u64 of a public folder.
    """

    folderId: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(**header, folderId=r.u64())

    def writeBody(self, w, ctx):
        w.u64(self.folderId)


@ropResponse(0x42)
@dataclass(slots=True)
class GetOwningServersResponse(_SuccessBodyResponse):
    """
    RopGetOwningServers response ([MS-OXCROPS] 2.2.3.6.2):
    OwningServersCount u16, CheapServersCount u16, OwningServers.

    @ivar cheapServersCount: How many of the first servers are cheap to
        reach.
    @ivar owningServers: The servers' names (8-bit).
    """

    cheapServersCount: int = 0
    owningServers: list = field(default_factory=list)

    @classmethod
    def _readFields(cls, r, ctx, request):
        cheap, servers = _readServers(r)
        return {"cheapServersCount": cheap, "owningServers": servers}

    def _writeFields(self, w, ctx, request):
        _writeServers(w, self.cheapServersCount, self.owningServers)


@ropRequest(0x45)
@dataclass(slots=True)
class PublicFolderIsGhostedRequest(RopRequest):
    """
    RopPublicFolderIsGhosted request ([MS-OXCROPS] 2.2.3.7.1).

    @ivar folderId: FolderId u64.
    """

    folderId: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(**header, folderId=r.u64())

    def writeBody(self, w, ctx):
        w.u64(self.folderId)


@ropResponse(0x45)
@dataclass(slots=True)
class PublicFolderIsGhostedResponse(_SuccessBodyResponse):
    """
    RopPublicFolderIsGhosted response ([MS-OXCROPS] 2.2.3.7.2): IsGhosted
    u8, then ServersCount u16, CheapServersCount u16 and Servers only when
    IsGhosted is nonzero.

    @ivar isGhosted: The IsGhosted byte.
    @ivar cheapServersCount: CheapServersCount (0 when not ghosted).
    @ivar servers: The replica servers' names (empty when not ghosted).
    """

    isGhosted: int = 0
    cheapServersCount: int = 0
    servers: list = field(default_factory=list)

    @classmethod
    def _readFields(cls, r, ctx, request):
        isGhosted = r.u8()
        if not isGhosted:
            return {"isGhosted": isGhosted}
        cheap, servers = _readServers(r)
        return {"isGhosted": isGhosted, "cheapServersCount": cheap, "servers": servers}

    def _writeFields(self, w, ctx, request):
        w.u8(self.isGhosted)
        if self.isGhosted:
            _writeServers(w, self.cheapServersCount, self.servers)


# -- IDs [MS-OXCROPS] 2.2.3.8-2.2.3.11 --------------------------------------


@ropRequest(0x43)
@dataclass(slots=True)
class LongTermIdFromIdRequest(RopRequest):
    """
    RopLongTermIdFromId request ([MS-OXCROPS] 2.2.3.8.1).

    @ivar objectId: A folder or message ID u64.
    """

    objectId: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(**header, objectId=r.u64())

    def writeBody(self, w, ctx):
        w.u64(self.objectId)


@ropResponse(0x43)
@dataclass(slots=True)
class LongTermIdFromIdResponse(_SuccessBodyResponse):
    """
    RopLongTermIdFromId response ([MS-OXCROPS] 2.2.3.8.2).

    @ivar longTermId: A L{LongTermId}.
    """

    longTermId: Optional[LongTermId] = None

    @classmethod
    def _readFields(cls, r, ctx, request):
        return {"longTermId": LongTermId.read(r)}

    def _writeFields(self, w, ctx, request):
        _writeLongTermId(w, self.longTermId)


@ropRequest(0x44)
@dataclass(slots=True)
class IdFromLongTermIdRequest(RopRequest):
    """
    RopIdFromLongTermId request ([MS-OXCROPS] 2.2.3.9.1).

    @ivar longTermId: A L{LongTermId}.
    """

    longTermId: Optional[LongTermId] = None

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(**header, longTermId=LongTermId.read(r))

    def writeBody(self, w, ctx):
        _writeLongTermId(w, self.longTermId)


@ropResponse(0x44)
@dataclass(slots=True)
class IdFromLongTermIdResponse(_SuccessBodyResponse):
    """
    RopIdFromLongTermId response ([MS-OXCROPS] 2.2.3.9.2).

    @ivar objectId: The short-term ID u64.
    """

    objectId: int = 0

    @classmethod
    def _readFields(cls, r, ctx, request):
        return {"objectId": r.u64()}

    def _writeFields(self, w, ctx, request):
        w.u64(self.objectId)


def _writeLongTermId(w, longTermId):
    """
    Write a L{LongTermId}, refusing a missing one.
    """
    if longTermId is None:
        raise RopError("a LongTermId is required")
    longTermId.write(w)


@ropRequest(0x60)
@dataclass(slots=True)
class GetPerUserLongTermIdsRequest(RopRequest):
    """
    RopGetPerUserLongTermIds request ([MS-OXCROPS] 2.2.3.10.1).

    @ivar databaseGuid: DatabaseGuid of the public-folder replica.
    """

    databaseGuid: uuid.UUID = _NIL

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(**header, databaseGuid=r.guid())

    def writeBody(self, w, ctx):
        w.guid(self.databaseGuid)


@ropResponse(0x60)
@dataclass(slots=True)
class GetPerUserLongTermIdsResponse(_SuccessBodyResponse):
    """
    RopGetPerUserLongTermIds response ([MS-OXCROPS] 2.2.3.10.2):
    LongTermIdCount u16 and the LongTermIds.

    @ivar longTermIds: L{LongTermId}s of the folders with per-user data.
    """

    longTermIds: list = field(default_factory=list)

    @classmethod
    def _readFields(cls, r, ctx, request):
        return {"longTermIds": r.counted(r.u16(), LongTermId.read, 24)}

    def _writeFields(self, w, ctx, request):
        w.u16(len(self.longTermIds))
        for longTermId in self.longTermIds:
            _writeLongTermId(w, longTermId)


@ropRequest(0x61)
@dataclass(slots=True)
class GetPerUserGuidRequest(RopRequest):
    """
    RopGetPerUserGuid request ([MS-OXCROPS] 2.2.3.11.1).

    @ivar longTermId: The public folder's L{LongTermId}.
    """

    longTermId: Optional[LongTermId] = None

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(**header, longTermId=LongTermId.read(r))

    def writeBody(self, w, ctx):
        _writeLongTermId(w, self.longTermId)


@ropResponse(0x61)
@dataclass(slots=True)
class GetPerUserGuidResponse(_SuccessBodyResponse):
    """
    RopGetPerUserGuid response ([MS-OXCROPS] 2.2.3.11.2).

    @ivar databaseGuid: DatabaseGuid of the replica.
    """

    databaseGuid: uuid.UUID = _NIL

    @classmethod
    def _readFields(cls, r, ctx, request):
        return {"databaseGuid": r.guid()}

    def _writeFields(self, w, ctx, request):
        w.guid(self.databaseGuid)


# -- Per-user information [MS-OXCROPS] 2.2.3.12-2.2.3.13 --------------------


@ropRequest(0x63)
@dataclass(slots=True)
class ReadPerUserInformationRequest(RopRequest):
    """
    RopReadPerUserInformation request ([MS-OXCROPS] 2.2.3.12.1).

    @ivar folderId: The folder's L{LongTermId}.
    @ivar reserved: Reserved u8.
    @ivar dataOffset: DataOffset u32.
    @ivar maxDataSize: MaxDataSize u16.
    """

    folderId: Optional[LongTermId] = None
    reserved: int = 0
    dataOffset: int = 0
    maxDataSize: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(
            **header,
            folderId=LongTermId.read(r),
            reserved=r.u8(),
            dataOffset=r.u32(),
            maxDataSize=r.u16(),
        )

    def writeBody(self, w, ctx):
        _writeLongTermId(w, self.folderId)
        w.u8(self.reserved)
        w.u32(self.dataOffset)
        w.u16(self.maxDataSize)


@ropResponse(0x63)
@dataclass(slots=True)
class ReadPerUserInformationResponse(_SuccessBodyResponse):
    """
    RopReadPerUserInformation response ([MS-OXCROPS] 2.2.3.12.2):
    HasFinished u8, DataSize u16, Data.

    @ivar hasFinished: Nonzero if this is the last chunk.
    @ivar data: The chunk of the per-user information stream.
    """

    hasFinished: int = 0
    data: bytes = b""

    @classmethod
    def _readFields(cls, r, ctx, request):
        return {"hasFinished": r.u8(), "data": _readBinary(r)}

    def _writeFields(self, w, ctx, request):
        w.u8(self.hasFinished)
        _writeBinary(w, self.data)


@ropRequest(0x64)
@dataclass(slots=True)
class WritePerUserInformationRequest(RopRequest):
    """
    RopWritePerUserInformation request ([MS-OXCROPS] 2.2.3.13.1).

    ReplGuid is on the wire only when DataOffset is 0 and the logon of
    C{logonId} is a private-mailbox one (C{ctx.logons}; a LogonId whose
    RopLogon was not seen is taken as private, Outlook's usual case).
    Encoding writes C{replGuid} whenever it is not L{None}.

    @ivar folderId: The folder's L{LongTermId}.
    @ivar hasFinished: Nonzero if this is the last chunk.
    @ivar dataOffset: DataOffset u32.
    @ivar data: The chunk (DataSize u16 + bytes).
    @ivar replGuid: ReplGuid, or L{None} when absent.
    """

    folderId: Optional[LongTermId] = None
    hasFinished: int = 0
    dataOffset: int = 0
    data: bytes = b""
    replGuid: Optional[uuid.UUID] = None

    @classmethod
    def readBody(cls, r, ctx, header):
        folderId = LongTermId.read(r)
        hasFinished = r.u8()
        dataOffset = r.u32()
        data = _readBinary(r)
        replGuid = None
        logonFlags = ctx.logons.get(header["logonId"], LOGON_PRIVATE)
        if dataOffset == 0 and logonFlags & LOGON_PRIVATE:
            replGuid = r.guid()
        return cls(
            **header,
            folderId=folderId,
            hasFinished=hasFinished,
            dataOffset=dataOffset,
            data=data,
            replGuid=replGuid,
        )

    def writeBody(self, w, ctx):
        _writeLongTermId(w, self.folderId)
        w.u8(self.hasFinished)
        w.u32(self.dataOffset)
        _writeBinary(w, self.data)
        if self.replGuid is not None:
            w.guid(self.replGuid)


@ropResponse(0x64)
@dataclass(slots=True)
class WritePerUserInformationResponse(RopResponse):
    """
    RopWritePerUserInformation response ([MS-OXCROPS] 2.2.3.13.2): no
    body.
    """


# -- Folders [MS-OXCROPS] 2.2.4 ---------------------------------------------


@ropRequest(0x02)
@dataclass(slots=True)
class OpenFolderRequest(RopRequest):
    """
    RopOpenFolder request ([MS-OXCROPS] 2.2.4.1.1).

    @ivar outputHandleIndex: Where the folder's handle goes.
    @ivar folderId: FolderId u64.
    @ivar openModeFlags: 0x04 OpenSoftDeleted ([MS-OXCFOLD] 2.2.1.1.1).
    """

    outputHandleIndex: int = 0
    folderId: int = 0
    openModeFlags: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(
            **header,
            outputHandleIndex=r.u8(),
            folderId=r.u64(),
            openModeFlags=r.u8(),
        )

    def writeBody(self, w, ctx):
        w.u8(self.outputHandleIndex)
        w.u64(self.folderId)
        w.u8(self.openModeFlags)


@ropResponse(0x02)
@dataclass(slots=True)
class OpenFolderResponse(_SuccessBodyResponse):
    """
    RopOpenFolder response ([MS-OXCROPS] 2.2.4.1.2): HasRules u8,
    IsGhosted u8, then ServerCount u16, CheapServerCount u16 and Servers
    only when IsGhosted is nonzero. C{handleIndex} is the
    OutputHandleIndex.

    @ivar hasRules: Nonzero if the folder has rules.
    @ivar isGhosted: Nonzero if the public folder is ghosted here.
    @ivar cheapServerCount: CheapServerCount (0 when not ghosted).
    @ivar servers: The replica servers' names (empty when not ghosted).
    """

    hasRules: int = 0
    isGhosted: int = 0
    cheapServerCount: int = 0
    servers: list = field(default_factory=list)

    @classmethod
    def _readFields(cls, r, ctx, request):
        fields = {"hasRules": r.u8(), "isGhosted": r.u8()}
        if fields["isGhosted"]:
            fields["cheapServerCount"], fields["servers"] = _readServers(r)
        return fields

    def _writeFields(self, w, ctx, request):
        w.u8(self.hasRules)
        w.u8(self.isGhosted)
        if self.isGhosted:
            _writeServers(w, self.cheapServerCount, self.servers)


@ropRequest(0x1C)
@dataclass(slots=True)
class CreateFolderRequest(RopRequest):
    """
    RopCreateFolder request ([MS-OXCROPS] 2.2.4.2.1).

    @ivar outputHandleIndex: Where the folder's handle goes.
    @ivar folderType: 1 generic folder, 2 search folder.
    @ivar useUnicodeStrings: Nonzero: the names are UTF-16LE, else 8-bit.
    @ivar openExisting: Nonzero: open the folder if it exists.
    @ivar reserved: Reserved u8.
    @ivar displayName: The folder's name.
    @ivar comment: The folder's comment.
    """

    outputHandleIndex: int = 0
    folderType: int = 1
    useUnicodeStrings: int = 0
    openExisting: int = 0
    reserved: int = 0
    displayName: str = ""
    comment: str = ""

    @classmethod
    def readBody(cls, r, ctx, header):
        outputHandleIndex = r.u8()
        folderType = r.u8()
        unicode = r.u8()
        openExisting = r.u8()
        reserved = r.u8()
        return cls(
            **header,
            outputHandleIndex=outputHandleIndex,
            folderType=folderType,
            useUnicodeStrings=unicode,
            openExisting=openExisting,
            reserved=reserved,
            displayName=_readString(r, unicode),
            comment=_readString(r, unicode),
        )

    def writeBody(self, w, ctx):
        w.u8(self.outputHandleIndex)
        w.u8(self.folderType)
        w.u8(self.useUnicodeStrings)
        w.u8(self.openExisting)
        w.u8(self.reserved)
        _writeString(w, self.useUnicodeStrings, self.displayName)
        _writeString(w, self.useUnicodeStrings, self.comment)


@ropResponse(0x1C)
@dataclass(slots=True)
class CreateFolderResponse(_SuccessBodyResponse):
    """
    RopCreateFolder response ([MS-OXCROPS] 2.2.4.2.2): FolderId u64,
    IsExistingFolder u8; when it is nonzero, HasRules u8 and IsGhosted u8,
    and when that is nonzero too, ServerCount u16, CheapServerCount u16
    and Servers. C{handleIndex} is the OutputHandleIndex.

    @ivar folderId: FolderId u64.
    @ivar isExistingFolder: Nonzero if an existing folder was opened.
    @ivar hasRules: HasRules (0 when not existing).
    @ivar isGhosted: IsGhosted (0 when not existing).
    @ivar cheapServerCount: CheapServerCount (0 when not ghosted).
    @ivar servers: The replica servers' names (empty when not ghosted).
    """

    folderId: int = 0
    isExistingFolder: int = 0
    hasRules: int = 0
    isGhosted: int = 0
    cheapServerCount: int = 0
    servers: list = field(default_factory=list)

    @classmethod
    def _readFields(cls, r, ctx, request):
        fields = {"folderId": r.u64(), "isExistingFolder": r.u8()}
        if fields["isExistingFolder"]:
            fields["hasRules"] = r.u8()
            fields["isGhosted"] = r.u8()
            if fields["isGhosted"]:
                fields["cheapServerCount"], fields["servers"] = _readServers(r)
        return fields

    def _writeFields(self, w, ctx, request):
        w.u64(self.folderId)
        w.u8(self.isExistingFolder)
        if self.isExistingFolder:
            w.u8(self.hasRules)
            w.u8(self.isGhosted)
            if self.isGhosted:
                _writeServers(w, self.cheapServerCount, self.servers)


@ropRequest(0x1D)
@dataclass(slots=True)
class DeleteFolderRequest(RopRequest):
    """
    RopDeleteFolder request ([MS-OXCROPS] 2.2.4.3.1).

    @ivar deleteFolderFlags: 0x01 DEL_MESSAGES, 0x04 DEL_FOLDERS, 0x10
        DELETE_HARD_DELETE ([MS-OXCFOLD] 2.2.1.3.1).
    @ivar folderId: FolderId u64.
    """

    deleteFolderFlags: int = 0
    folderId: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(**header, deleteFolderFlags=r.u8(), folderId=r.u64())

    def writeBody(self, w, ctx):
        w.u8(self.deleteFolderFlags)
        w.u64(self.folderId)


@ropResponse(0x1D)
@dataclass(slots=True)
class DeleteFolderResponse(_PartialCompletionResponse):
    """
    RopDeleteFolder response ([MS-OXCROPS] 2.2.4.3.2): PartialCompletion,
    present whatever the ReturnValue.
    """


@ropRequest(0x30)
@dataclass(slots=True)
class SetSearchCriteriaRequest(RopRequest):
    """
    RopSetSearchCriteria request ([MS-OXCROPS] 2.2.4.4.1).

    @ivar restriction: The search's L{Restriction}; L{None} when
        RestrictionDataSize is 0 (reuse the previous one); raw L{bytes}
        when the data does not parse as exactly one restriction.
    @ivar folderIds: The folders to search (u16 count of u64).
    @ivar searchFlags: SearchFlags u32 ([MS-OXCFOLD] 2.2.1.4.1).
    """

    restriction: object = None
    folderIds: list = field(default_factory=list)
    searchFlags: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(
            **header,
            restriction=_readRestriction(r),
            folderIds=_readIds(r),
            searchFlags=r.u32(),
        )

    def writeBody(self, w, ctx):
        _writeRestriction(w, self.restriction)
        _writeIds(w, self.folderIds)
        w.u32(self.searchFlags)


@ropResponse(0x30)
@dataclass(slots=True)
class SetSearchCriteriaResponse(RopResponse):
    """
    RopSetSearchCriteria response ([MS-OXCROPS] 2.2.4.4.2): no body.
    """


@ropRequest(0x31)
@dataclass(slots=True)
class GetSearchCriteriaRequest(RopRequest):
    """
    RopGetSearchCriteria request ([MS-OXCROPS] 2.2.4.5.1).

    @ivar useUnicode: Nonzero: string values of the restriction in UTF-16.
    @ivar includeRestriction: Nonzero: return the restriction.
    @ivar includeFolders: Nonzero: return the folder IDs.
    """

    useUnicode: int = 0
    includeRestriction: int = 0
    includeFolders: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(
            **header,
            useUnicode=r.u8(),
            includeRestriction=r.u8(),
            includeFolders=r.u8(),
        )

    def writeBody(self, w, ctx):
        w.u8(self.useUnicode)
        w.u8(self.includeRestriction)
        w.u8(self.includeFolders)


@ropResponse(0x31)
@dataclass(slots=True)
class GetSearchCriteriaResponse(_SuccessBodyResponse):
    """
    RopGetSearchCriteria response ([MS-OXCROPS] 2.2.4.5.2).

    @ivar restriction: As L{SetSearchCriteriaRequest.restriction}.
    @ivar logonId: LogonId u8 of the folders.
    @ivar folderIds: The folders searched (u16 count of u64).
    @ivar searchFlags: SearchFlags u32, the search's state
        ([MS-OXCFOLD] 2.2.1.5.2).
    """

    restriction: object = None
    logonId: int = 0
    folderIds: list = field(default_factory=list)
    searchFlags: int = 0

    @classmethod
    def _readFields(cls, r, ctx, request):
        return {
            "restriction": _readRestriction(r),
            "logonId": r.u8(),
            "folderIds": _readIds(r),
            "searchFlags": r.u32(),
        }

    def _writeFields(self, w, ctx, request):
        _writeRestriction(w, self.restriction)
        w.u8(self.logonId)
        _writeIds(w, self.folderIds)
        w.u32(self.searchFlags)


@ropRequest(0x33)
@dataclass(slots=True)
class MoveCopyMessagesRequest(RopRequest):
    """
    RopMoveCopyMessages request ([MS-OXCROPS] 2.2.4.6.1). C{inputHandleIndex}
    is the SourceHandleIndex.

    @ivar destHandleIndex: DestHandleIndex u8, the destination folder.
    @ivar messageIds: The messages (u16 count of u64).
    @ivar wantAsynchronous: Nonzero: may answer with RopProgress.
    @ivar wantCopy: Nonzero: copy, else move.
    """

    destHandleIndex: int = 0
    messageIds: list = field(default_factory=list)
    wantAsynchronous: int = 0
    wantCopy: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(
            **header,
            destHandleIndex=r.u8(),
            messageIds=_readIds(r),
            wantAsynchronous=r.u8(),
            wantCopy=r.u8(),
        )

    def writeBody(self, w, ctx):
        w.u8(self.destHandleIndex)
        _writeIds(w, self.messageIds)
        w.u8(self.wantAsynchronous)
        w.u8(self.wantCopy)


@ropResponse(0x33)
@dataclass(slots=True)
class MoveCopyMessagesResponse(_NullDestinationResponse):
    """
    RopMoveCopyMessages response ([MS-OXCROPS] 2.2.4.6.2, 2.2.4.6.3).
    C{handleIndex} is the SourceHandleIndex.
    """


@ropRequest(0x35)
@dataclass(slots=True)
class MoveFolderRequest(RopRequest):
    """
    RopMoveFolder request ([MS-OXCROPS] 2.2.4.7.1). C{inputHandleIndex}
    is the SourceHandleIndex (the parent folder).

    @ivar destHandleIndex: DestHandleIndex u8, the new parent.
    @ivar wantAsynchronous: Nonzero: may answer with RopProgress.
    @ivar useUnicode: Nonzero: C{newFolderName} is UTF-16LE, else 8-bit.
    @ivar folderId: FolderId u64 of the folder to move.
    @ivar newFolderName: Its name in the new parent.
    """

    destHandleIndex: int = 0
    wantAsynchronous: int = 0
    useUnicode: int = 0
    folderId: int = 0
    newFolderName: str = ""

    @classmethod
    def readBody(cls, r, ctx, header):
        dest = r.u8()
        wantAsynchronous = r.u8()
        unicode = r.u8()
        return cls(
            **header,
            destHandleIndex=dest,
            wantAsynchronous=wantAsynchronous,
            useUnicode=unicode,
            folderId=r.u64(),
            newFolderName=_readString(r, unicode),
        )

    def writeBody(self, w, ctx):
        w.u8(self.destHandleIndex)
        w.u8(self.wantAsynchronous)
        w.u8(self.useUnicode)
        w.u64(self.folderId)
        _writeString(w, self.useUnicode, self.newFolderName)


@ropResponse(0x35)
@dataclass(slots=True)
class MoveFolderResponse(_NullDestinationResponse):
    """
    RopMoveFolder response ([MS-OXCROPS] 2.2.4.7.2, 2.2.4.7.3).
    C{handleIndex} is the SourceHandleIndex.
    """


@ropRequest(0x36)
@dataclass(slots=True)
class CopyFolderRequest(RopRequest):
    """
    RopCopyFolder request ([MS-OXCROPS] 2.2.4.8.1). C{inputHandleIndex}
    is the SourceHandleIndex (the parent folder).

    @ivar destHandleIndex: DestHandleIndex u8, the new parent.
    @ivar wantAsynchronous: Nonzero: may answer with RopProgress.
    @ivar wantRecursive: Nonzero: copy the subfolders too.
    @ivar useUnicode: Nonzero: C{newFolderName} is UTF-16LE, else 8-bit.
    @ivar folderId: FolderId u64 of the folder to copy.
    @ivar newFolderName: The copy's name.
    """

    destHandleIndex: int = 0
    wantAsynchronous: int = 0
    wantRecursive: int = 0
    useUnicode: int = 0
    folderId: int = 0
    newFolderName: str = ""

    @classmethod
    def readBody(cls, r, ctx, header):
        dest = r.u8()
        wantAsynchronous = r.u8()
        wantRecursive = r.u8()
        unicode = r.u8()
        return cls(
            **header,
            destHandleIndex=dest,
            wantAsynchronous=wantAsynchronous,
            wantRecursive=wantRecursive,
            useUnicode=unicode,
            folderId=r.u64(),
            newFolderName=_readString(r, unicode),
        )

    def writeBody(self, w, ctx):
        w.u8(self.destHandleIndex)
        w.u8(self.wantAsynchronous)
        w.u8(self.wantRecursive)
        w.u8(self.useUnicode)
        w.u64(self.folderId)
        _writeString(w, self.useUnicode, self.newFolderName)


@ropResponse(0x36)
@dataclass(slots=True)
class CopyFolderResponse(_NullDestinationResponse):
    """
    RopCopyFolder response ([MS-OXCROPS] 2.2.4.8.2, 2.2.4.8.3).
    C{handleIndex} is the SourceHandleIndex.
    """


@dataclass(slots=True)
class _EmptyRequest(RopRequest):
    """
    WantAsynchronous u8, WantDeleteAssociated u8 ([MS-OXCROPS] 2.2.4.9.1,
    2.2.4.10.1).

    @ivar wantAsynchronous: Nonzero: may answer with RopProgress.
    @ivar wantDeleteAssociated: Nonzero: delete the FAI messages too.
    """

    wantAsynchronous: int = 0
    wantDeleteAssociated: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(**header, wantAsynchronous=r.u8(), wantDeleteAssociated=r.u8())

    def writeBody(self, w, ctx):
        w.u8(self.wantAsynchronous)
        w.u8(self.wantDeleteAssociated)


@ropRequest(0x58)
@dataclass(slots=True)
class EmptyFolderRequest(_EmptyRequest):
    """
    RopEmptyFolder request ([MS-OXCROPS] 2.2.4.9.1).
    """


@ropResponse(0x58)
@dataclass(slots=True)
class EmptyFolderResponse(_PartialCompletionResponse):
    """
    RopEmptyFolder response ([MS-OXCROPS] 2.2.4.9.2): PartialCompletion,
    present whatever the ReturnValue.
    """


@ropRequest(0x92)
@dataclass(slots=True)
class HardDeleteMessagesAndSubfoldersRequest(_EmptyRequest):
    """
    RopHardDeleteMessagesAndSubfolders request ([MS-OXCROPS] 2.2.4.10.1).
    """


@ropResponse(0x92)
@dataclass(slots=True)
class HardDeleteMessagesAndSubfoldersResponse(_PartialCompletionResponse):
    """
    RopHardDeleteMessagesAndSubfolders response ([MS-OXCROPS]
    2.2.4.10.2): PartialCompletion, present whatever the ReturnValue.
    """


@dataclass(slots=True)
class _DeleteMessagesRequest(RopRequest):
    """
    WantAsynchronous u8, NotifyNonRead u8, MessageIdCount u16, MessageIds
    ([MS-OXCROPS] 2.2.4.11.1, 2.2.4.12.1).

    @ivar wantAsynchronous: Nonzero: may answer with RopProgress.
    @ivar notifyNonRead: Nonzero: send non-read receipts where asked for.
    @ivar messageIds: The messages (u64).
    """

    wantAsynchronous: int = 0
    notifyNonRead: int = 0
    messageIds: list = field(default_factory=list)

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(
            **header,
            wantAsynchronous=r.u8(),
            notifyNonRead=r.u8(),
            messageIds=_readIds(r),
        )

    def writeBody(self, w, ctx):
        w.u8(self.wantAsynchronous)
        w.u8(self.notifyNonRead)
        _writeIds(w, self.messageIds)


@ropRequest(0x1E)
@dataclass(slots=True)
class DeleteMessagesRequest(_DeleteMessagesRequest):
    """
    RopDeleteMessages request ([MS-OXCROPS] 2.2.4.11.1).
    """


@ropResponse(0x1E)
@dataclass(slots=True)
class DeleteMessagesResponse(_PartialCompletionResponse):
    """
    RopDeleteMessages response ([MS-OXCROPS] 2.2.4.11.2):
    PartialCompletion, present whatever the ReturnValue.
    """


@ropRequest(0x91)
@dataclass(slots=True)
class HardDeleteMessagesRequest(_DeleteMessagesRequest):
    """
    RopHardDeleteMessages request ([MS-OXCROPS] 2.2.4.12.1).
    """


@ropResponse(0x91)
@dataclass(slots=True)
class HardDeleteMessagesResponse(_PartialCompletionResponse):
    """
    RopHardDeleteMessages response ([MS-OXCROPS] 2.2.4.12.2):
    PartialCompletion, present whatever the ReturnValue.
    """


@dataclass(slots=True)
class _RowCountResponse(_SuccessBodyResponse):
    """
    RowCount u32 on success ([MS-OXCROPS] 2.2.4.13.2, 2.2.4.14.2).
    C{handleIndex} is the OutputHandleIndex.

    @ivar rowCount: The number of rows in the new table.
    """

    rowCount: int = 0

    @classmethod
    def _readFields(cls, r, ctx, request):
        return {"rowCount": r.u32()}

    def _writeFields(self, w, ctx, request):
        w.u32(self.rowCount)


@ropRequest(0x04)
@dataclass(slots=True)
class GetHierarchyTableRequest(_TableRequest):
    """
    RopGetHierarchyTable request ([MS-OXCROPS] 2.2.4.13.1); TableFlags
    0x04 Depth, 0x08 DeferredErrors, 0x10 NoNotifications, 0x20
    SoftDeletes, 0x40 UseUnicode, 0x80 SuppressesReceipts.
    """


@ropResponse(0x04)
@dataclass(slots=True)
class GetHierarchyTableResponse(_RowCountResponse):
    """
    RopGetHierarchyTable response ([MS-OXCROPS] 2.2.4.13.2).
    """


@ropRequest(0x05)
@dataclass(slots=True)
class GetContentsTableRequest(_TableRequest):
    """
    RopGetContentsTable request ([MS-OXCROPS] 2.2.4.14.1); TableFlags
    0x02 Associated, 0x08 DeferredErrors, 0x10 NoNotifications, 0x20
    SoftDeletes, 0x40 UseUnicode, 0x80 ConversationMembers.
    """


@ropResponse(0x05)
@dataclass(slots=True)
class GetContentsTableResponse(_RowCountResponse):
    """
    RopGetContentsTable response ([MS-OXCROPS] 2.2.4.14.2).
    """


# -- Permissions [MS-OXCROPS] 2.2.10.1-2.2.10.2 -----------------------------


@ropRequest(0x40)
@dataclass(slots=True)
class ModifyPermissionsRequest(RopRequest):
    """
    RopModifyPermissions request ([MS-OXCROPS] 2.2.10.1.1).

    @ivar modifyFlags: 0x01 ReplaceRows, 0x02 IncludeFreeBusy
        ([MS-OXCPERM] 2.2.2).
    @ivar permissionsData: L{PermissionData} entries (u16 count).
    """

    modifyFlags: int = 0
    permissionsData: list = field(default_factory=list)

    @classmethod
    def readBody(cls, r, ctx, header):
        modifyFlags = r.u8()
        data = r.counted(r.u16(), PermissionData.read, 3)
        return cls(**header, modifyFlags=modifyFlags, permissionsData=data)

    def writeBody(self, w, ctx):
        w.u8(self.modifyFlags)
        w.u16(len(self.permissionsData))
        for entry in self.permissionsData:
            entry.write(w)


@ropResponse(0x40)
@dataclass(slots=True)
class ModifyPermissionsResponse(RopResponse):
    """
    RopModifyPermissions response ([MS-OXCROPS] 2.2.10.1.2): no body.
    """


@ropRequest(0x3E)
@dataclass(slots=True)
class GetPermissionsTableRequest(_TableRequest):
    """
    RopGetPermissionsTable request ([MS-OXCROPS] 2.2.10.2.1); TableFlags
    0x02 IncludeFreeBusy ([MS-OXCPERM] 2.2.1.1).
    """


@ropResponse(0x3E)
@dataclass(slots=True)
class GetPermissionsTableResponse(RopResponse):
    """
    RopGetPermissionsTable response ([MS-OXCROPS] 2.2.10.2.2): no body;
    C{handleIndex} is the OutputHandleIndex.
    """


# -- Rules [MS-OXCROPS] 2.2.11 ----------------------------------------------


@ropRequest(0x41)
@dataclass(slots=True)
class ModifyRulesRequest(RopRequest):
    """
    RopModifyRules request ([MS-OXCROPS] 2.2.11.1.1).

    @ivar modifyRulesFlag: 0x01 Replace ([MS-OXORULE] 2.2.1.3.1).
    @ivar rulesData: L{RuleData} entries (u16 count).
    """

    modifyRulesFlag: int = 0
    rulesData: list = field(default_factory=list)

    @classmethod
    def readBody(cls, r, ctx, header):
        flag = r.u8()
        data = r.counted(r.u16(), RuleData.read, 3)
        return cls(**header, modifyRulesFlag=flag, rulesData=data)

    def writeBody(self, w, ctx):
        w.u8(self.modifyRulesFlag)
        w.u16(len(self.rulesData))
        for entry in self.rulesData:
            entry.write(w)


@ropResponse(0x41)
@dataclass(slots=True)
class ModifyRulesResponse(RopResponse):
    """
    RopModifyRules response ([MS-OXCROPS] 2.2.11.1.2): no body.
    """


@ropRequest(0x3F)
@dataclass(slots=True)
class GetRulesTableRequest(_TableRequest):
    """
    RopGetRulesTable request ([MS-OXCROPS] 2.2.11.2.1); TableFlags 0x40
    U ([MS-OXORULE] 2.2.2.1).
    """


@ropResponse(0x3F)
@dataclass(slots=True)
class GetRulesTableResponse(RopResponse):
    """
    RopGetRulesTable response ([MS-OXCROPS] 2.2.11.2.2): no body;
    C{handleIndex} is the OutputHandleIndex.
    """


@ropRequest(0x57)
@dataclass(slots=True)
class UpdateDeferredActionMessagesRequest(RopRequest):
    """
    RopUpdateDeferredActionMessages request ([MS-OXCROPS] 2.2.11.3.1).

    @ivar serverEntryId: ServerEntryId (u16 size + bytes): the deferred
        action message's entry ID on the server.
    @ivar clientEntryId: ClientEntryId (u16 size + bytes): its entry ID in
        the client's store.
    """

    serverEntryId: bytes = b""
    clientEntryId: bytes = b""

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(**header, serverEntryId=_readBinary(r), clientEntryId=_readBinary(r))

    def writeBody(self, w, ctx):
        _writeBinary(w, self.serverEntryId)
        _writeBinary(w, self.clientEntryId)


@ropResponse(0x57)
@dataclass(slots=True)
class UpdateDeferredActionMessagesResponse(RopResponse):
    """
    RopUpdateDeferredActionMessages response ([MS-OXCROPS] 2.2.11.3.2):
    no body.
    """
