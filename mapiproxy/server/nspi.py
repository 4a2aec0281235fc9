# -*- test-case-name: tests.server.test_nspi -*-
"""
The lab Exchange's address book server: C{exchange_nsp} ([MS-OXNSPI])
served from a L{mapiproxy.server.directory.Directory}, enough for Outlook's
profile creation and its address book.

Every opnum of the interface answers: the ones a read-only directory can
serve do, the others (NspiModProps, NspiModLinkAtt, NspiDeleteEntries,
NspiGetTemplateInfo, NspiGetNamesFromIDs, NspiGetIDsFromNames) return
C{NotSupported} in C{result}. A request that does not decode is answered
with the fault C{nca_s_fault_ndr}; a context handle this server did not
hand out (or that was unbound) with C{nca_s_fault_context_mismatch}, as the
RPC runtime of Exchange does for the interface's strict context handles
([MS-OXNSPI] 3.1.4).

Positions in a table follow [MS-OXNSPI] 3.1.4.5: C{CurrentRec} names an
object or one of MID_BEGINNING_OF_TABLE, MID_END_OF_TABLE and MID_CURRENT
(fractional: C{NumPos}/C{TotalRecs} of the table), then C{Delta} moves
from there; the answer's STAT names the row after the last one returned.

impacket's C{hNspiGetSpecialTable} sends C{pStat} and C{lpVersion} as
unique pointers (a 68-byte stub where the IDL makes it 64); like Exchange,
this server accepts that form too.
"""

import uuid
from dataclasses import dataclass

from twisted.logger import Logger
from zope.interface import implementer

from mapiproxy.dcerpc.constants import Status
from mapiproxy.errors import DCERPCFault, MapiError, NDRError
from mapiproxy.imapiproxy import IRPCInterface
from mapiproxy.interfaces import nspi as N
from mapiproxy.interfaces.ndr import ContextHandle, NDRReader
from mapiproxy.interfaces.nspi_types import STAT, PropertyRowSet_r, PropertyTagArray_r, PropType
from mapiproxy.interfaces.registry import lookupByName
from mapiproxy.server.directory import (
    CP_WINUNICODE,
    DEFAULT_COLUMNS,
    MID_AMBIGUOUS,
    MID_BEGINNING_OF_TABLE,
    MID_CURRENT,
    MID_END_OF_TABLE,
    MID_RESERVED_MAX,
    MID_UNRESOLVED,
    ErrorCode,
    codecForCodePage,
)

__all__ = ["NspiServer", "SortTypeDisplayName"]

#: STAT.SortType values ([MS-OXNSPI] 2.2.8).
SortTypeDisplayName = 0x00000000
SortTypePhoneticDisplayName = 0x00000003
SortTypeDisplayName_RO = 0x000003E8
SortTypeDisplayName_W = 0x000003E9

#: The most columns a request may ask for.
MAX_COLUMNS = 100

_SPECIAL_TABLE_STUB = 64


@dataclass(eq=False)
class NspiSession:
    """
    One NspiBind: the context handle and who holds it.

    @ivar handle: the L{ContextHandle} handed out.
    @ivar username: the authenticated user (L{None} when anonymous).
    @ivar entry: the user's L{mapiproxy.server.directory.Entry}, if the
        directory knows the user.
    @ivar codePage: the code page of the bind's STAT.
    @ivar context: the L{mapiproxy.dcerpc.association.ContextSession} it was
        created on.
    """

    handle: ContextHandle
    username: object
    entry: object
    codePage: int
    context: object


@implementer(IRPCInterface)
class NspiServer:
    """
    C{exchange_nsp} over a directory.

    @ivar directory: the L{mapiproxy.server.directory.Directory}.
    @ivar sessions: the live NspiBind sessions, by handle UUID.
    """

    name = "exchange_nsp"
    _log = Logger()

    def __init__(self, directory, allowAnonymous=False):
        """
        @param directory: the L{mapiproxy.server.directory.Directory}.
        @param allowAnonymous: accept clients that did not authenticate
            and NspiBind's C{fAnonymousLogin}.
        """
        self.directory = directory
        self.allowAnonymous = allowAnonymous
        self.requireAuthentication = not allowAnonymous
        self.syntax = lookupByName(self.name).syntaxId
        self.sessions = {}

    # -- IRPCInterface ----------------------------------------------------

    def contextBound(self, session):
        """
        Nothing to do until NspiBind.
        """
        return None

    def contextReleased(self, session):
        """
        The connection is gone: so are the handles bound on it.
        """
        for key, nspi in list(self.sessions.items()):
            if nspi.context is session:
                del self.sessions[key]

    def handleCall(self, call):
        """
        Decode, answer, encode.

        @raise DCERPCFault: C{nca_s_op_rng_error} for an opnum past 20,
            C{nca_s_fault_ndr} for a stub that does not decode,
            C{nca_s_fault_context_mismatch} for an unknown handle.
        """
        operation = N.CODEC.operation(call.opnum)
        try:
            request = self._decode(call.opnum, call.stub)
        except NDRError as e:
            raise DCERPCFault(Status.FAULT_NDR, "%s: %s" % (operation.name, e)) from None
        handler = getattr(self, "nspi_" + operation.name[len("Nspi"):])
        return handler(request, call).encode()

    def _decode(self, opnum, stub):
        if opnum == N.NspiGetSpecialTableRequest.opnum and len(stub) != _SPECIAL_TABLE_STUB:
            return _decodeSpecialTableWithPointers(stub)
        return N.CODEC.decodeRequest(opnum, stub)

    # -- helpers ------------------------------------------------------------

    def _session(self, handle, call):
        """
        The session of a context handle.

        @raise DCERPCFault: C{nca_s_fault_context_mismatch}: not ours, or
            from an association of another group.
        """
        nspi = self.sessions.get(handle.uuid) if isinstance(handle, ContextHandle) else None
        if nspi is None or handle.attributes != 0:
            raise DCERPCFault(Status.NCA_S_FAULT_CONTEXT_MISMATCH, "unknown NSPI context handle")
        mine, theirs = nspi.context.association, call.session.association
        if mine is not theirs and (not mine.assocGroupId or mine.assocGroupId != theirs.assocGroupId):
            raise DCERPCFault(Status.NCA_S_FAULT_CONTEXT_MISMATCH, "NSPI context handle of another association")
        return nspi

    @staticmethod
    def _codec(stat):
        return codecForCodePage(stat.CodePage)

    def _container(self, stat):
        container = self.directory.container(stat.ContainerID)
        if container is None:
            raise MapiError(ErrorCode.InvalidBookmark)
        return container

    @staticmethod
    def _columns(tags):
        columns = list(tags.aulPropTag) if tags is not None else list(DEFAULT_COLUMNS)
        if len(columns) > MAX_COLUMNS:
            raise MapiError(ErrorCode.TableTooBig)
        return columns

    def _rows(self, entries, columns, codec, ephemeral):
        return PropertyRowSet_r(aRow=[self.directory.row(e, columns, codec, ephemeral) for e in entries])

    @staticmethod
    def _position(stat, container):
        """
        The row C{stat} names, before C{Delta} ([MS-OXNSPI] 3.1.4.5).

        @raise MapiError: C{NotFound} for a MId not in the table.
        """
        total = len(container.members)
        current = stat.CurrentRec
        if current == MID_BEGINNING_OF_TABLE:
            return 0
        if current == MID_END_OF_TABLE:
            return total
        if current == MID_CURRENT:
            if not stat.TotalRecs:
                return 0
            return min(total, total * min(stat.NumPos, stat.TotalRecs) // stat.TotalRecs)
        position = container.index(current)
        if position is None:
            raise MapiError(ErrorCode.NotFound)
        return position

    @staticmethod
    def _moveTo(stat, container, position):
        """
        Make C{stat} name row C{position} (clamped to the table).
        """
        total = len(container.members)
        position = max(0, min(total, position))
        stat.CurrentRec = container.members[position].mid if position < total else MID_END_OF_TABLE
        stat.NumPos = position
        stat.TotalRecs = total
        stat.Delta = 0
        return position

    @staticmethod
    def _refusable(answer, failed):
        """
        Run C{answer()}; a L{MapiError} becomes C{failed(code)}: the call
        ends with that code in C{result} and the NULL outputs the
        specification asks for then.
        """
        try:
            return answer()
        except MapiError as e:
            return failed(e.code)

    # -- 0, 1: bind and unbind ------------------------------------------

    def nspi_Bind(self, request, call):
        """
        NspiBind ([MS-OXNSPI] 3.1.4.1.1): a session for an authenticated
        client (an anonymous one only when allowed).
        """
        auth = call.auth or call.session.authInfo

        def refused(code):
            return N.NspiBindResponse(pServerGuid=None, contextHandle=ContextHandle(), result=code)

        if not self.allowAnonymous and (auth is None or request.dwFlags & N.fAnonymousLogin):
            return refused(ErrorCode.LogonFailed)
        if request.pStat.CodePage == CP_WINUNICODE:
            return refused(ErrorCode.InvalidCodepage)
        try:
            codecForCodePage(request.pStat.CodePage)
        except MapiError as e:
            return refused(e.code)
        handle = ContextHandle(0, uuid.uuid4())
        username = auth.username if auth is not None else None
        self.sessions[handle.uuid] = NspiSession(
            handle, username, self.directory.userEntry(username), request.pStat.CodePage, call.session
        )
        self._log.debug("NspiBind: {user} from {peer}", user=username, peer=call.session.peer)
        guid = self.directory.serverGuid if request.pServerGuid is not None else None
        return N.NspiBindResponse(pServerGuid=guid, contextHandle=handle, result=ErrorCode.Success)

    def nspi_Unbind(self, request, call):
        """
        NspiUnbind ([MS-OXNSPI] 3.1.4.1.2): the handle is gone, the answer
        is C{UnbindSuccess} with a zeroed handle.
        """
        nspi = self._session(request.contextHandle, call)
        del self.sessions[nspi.handle.uuid]
        return N.NspiUnbindResponse(contextHandle=ContextHandle(), result=ErrorCode.UnbindSuccess)

    # -- 2, 3, 4: positions and rows ------------------------------------

    def nspi_UpdateStat(self, request, call):
        """
        NspiUpdateStat ([MS-OXNSPI] 3.1.4.1.4): apply C{Delta} to the
        position; C{plDelta} says how far it really moved.
        """
        self._session(request.hRpc, call)
        stat = request.pStat

        def answer():
            container = self._container(stat)
            start = self._position(stat, container)
            moved = self._moveTo(stat, container, start + stat.Delta) - start
            plDelta = moved if request.plDelta is not None else None
            return N.NspiUpdateStatResponse(pStat=stat, plDelta=plDelta, result=ErrorCode.Success)

        return self._refusable(
            answer, lambda code: N.NspiUpdateStatResponse(pStat=request.pStat, plDelta=request.plDelta, result=code)
        )

    def nspi_QueryRows(self, request, call):
        """
        NspiQueryRows ([MS-OXNSPI] 3.1.4.1.8): up to C{Count} rows from the
        STAT's position (or the rows of C{lpETable}), then the position
        after them.
        """
        self._session(request.hRpc, call)
        stat = request.pStat

        def answer():
            if request.Count == 0:
                raise MapiError(ErrorCode.InvalidParameter)
            columns = self._columns(request.pPropTags)
            codec = self._codec(stat)
            ephemeral = bool(request.dwFlags & N.fEphID)
            if request.lpETable is not None:
                rows = []
                for mid in request.lpETable:
                    entry = self.directory.entry(mid)
                    if entry is None:
                        rows.append(self.directory.errorRow(columns))
                    else:
                        rows.extend(self._rows([entry], columns, codec, ephemeral).aRow)
                return N.NspiQueryRowsResponse(pStat=stat, ppRows=PropertyRowSet_r(aRow=rows), result=ErrorCode.Success)
            container = self._container(stat)
            start = max(0, min(len(container.members), self._position(stat, container) + stat.Delta))
            chosen = container.members[start : start + request.Count]
            rows = self._rows(chosen, columns, codec, ephemeral)
            self._moveTo(stat, container, start + len(chosen))
            return N.NspiQueryRowsResponse(pStat=stat, ppRows=rows, result=ErrorCode.Success)

        return self._refusable(
            answer, lambda code: N.NspiQueryRowsResponse(pStat=request.pStat, ppRows=None, result=code)
        )

    def nspi_SeekEntries(self, request, call):
        """
        NspiSeekEntries ([MS-OXNSPI] 3.1.4.1.9): move to the first object
        whose display name sorts at or after C{pTarget}.
        """
        self._session(request.hRpc, call)
        stat = request.pStat

        def answer():
            if stat.SortType != SortTypeDisplayName:
                raise MapiError(ErrorCode.GeneralFailure)
            target = request.pTarget
            if target.propId != 0x3001 or target.propType not in (PropType.String, PropType.String8):
                raise MapiError(ErrorCode.GeneralFailure)
            codec = self._codec(stat)
            wanted = target.value or ""
            if target.propType == PropType.String8:
                wanted = wanted.encode("latin-1", "replace").decode(codec or "cp1252", "replace")
            wanted = wanted.casefold()
            columns = self._columns(request.pPropTags) if request.pPropTags is not None else None
            if request.lpETable is not None:
                entries = [self.directory.entry(m) for m in request.lpETable.aulPropTag]
                entries = sorted((e for e in entries if e is not None), key=lambda e: e.displayName.casefold())
                found = [e for e in entries if e.displayName.casefold() >= wanted]
                if not found:
                    raise MapiError(ErrorCode.NotFound)
                stat.CurrentRec = found[0].mid
                stat.NumPos = entries.index(found[0])
                stat.TotalRecs = len(entries)
                stat.Delta = 0
                rows = self._rows(found, columns, codec, False) if columns is not None else None
                return N.NspiSeekEntriesResponse(pStat=stat, ppRows=rows, result=ErrorCode.Success)
            container = self._container(stat)
            for position, entry in enumerate(container.members):
                if entry.displayName.casefold() >= wanted:
                    break
            else:
                raise MapiError(ErrorCode.NotFound)
            self._moveTo(stat, container, position)
            rows = self._rows([entry], columns, codec, False) if columns is not None else None
            return N.NspiSeekEntriesResponse(pStat=stat, ppRows=rows, result=ErrorCode.Success)

        return self._refusable(
            answer, lambda code: N.NspiSeekEntriesResponse(pStat=request.pStat, ppRows=None, result=code)
        )

    # -- 5, 6: explicit tables ------------------------------------------

    def nspi_GetMatches(self, request, call):
        """
        NspiGetMatches ([MS-OXNSPI] 3.1.4.1.10): the objects of the
        container that satisfy C{Filter} (see
        L{mapiproxy.server.directory.Directory.matches}), at most
        C{ulRequested} of them (more is C{TableTooBig}).
        """
        self._session(request.hRpc, call)
        stat = request.pStat

        def answer():
            if request.lpPropName is not None:
                raise MapiError(ErrorCode.NotSupported)
            if stat.SortType not in (SortTypeDisplayName, SortTypePhoneticDisplayName, SortTypeDisplayName_RO, SortTypeDisplayName_W):
                raise MapiError(ErrorCode.NotSupported)
            codec = self._codec(stat)
            columns = self._columns(request.pPropTags) if request.pPropTags is not None else None
            found = []
            if request.Filter is not None:
                # Without a filter the client asks for the values of a link
                # property of CurrentRec (group members, delegates): this
                # directory has none, so the table is empty.
                container = self._container(stat)
                found = [e for e in container.members if self.directory.matches(e, request.Filter, codec)]
            if len(found) > request.ulRequested:
                raise MapiError(ErrorCode.TableTooBig)
            rows = self._rows(found, columns, codec, True) if columns is not None else None
            stat.TotalRecs = len(found)
            return N.NspiGetMatchesResponse(
                pStat=stat,
                ppOutMIds=PropertyTagArray_r(aulPropTag=[e.mid for e in found]),
                ppRows=rows,
                result=ErrorCode.Success,
            )

        return self._refusable(
            answer, lambda code: N.NspiGetMatchesResponse(pStat=request.pStat, ppOutMIds=None, ppRows=None, result=code)
        )

    def nspi_ResortRestriction(self, request, call):
        """
        NspiResortRestriction ([MS-OXNSPI] 3.1.4.1.11): the MIds sorted by
        display name, unknown ones dropped.
        """
        self._session(request.hRpc, call)
        stat = request.pStat
        entries = [self.directory.entry(m) for m in request.pInMIds.aulPropTag]
        entries = sorted((e for e in entries if e is not None), key=lambda e: e.displayName.casefold())
        mids = [e.mid for e in entries]
        stat.TotalRecs = len(mids)
        if stat.CurrentRec in mids:
            stat.NumPos = mids.index(stat.CurrentRec)
        else:
            stat.CurrentRec = MID_BEGINNING_OF_TABLE
            stat.NumPos = 0
        return N.NspiResortRestrictionResponse(
            pStat=stat, ppOutMIds=PropertyTagArray_r(aulPropTag=mids), result=ErrorCode.Success
        )

    # -- 7, 8, 9, 10: objects -------------------------------------------

    def nspi_DNToMId(self, request, call):
        """
        NspiDNToMId ([MS-OXNSPI] 3.1.4.1.13): one MId per DN, 0
        (MID_UNRESOLVED) for an unknown one.
        """
        self._session(request.hRpc, call)
        mids = []
        for dn in request.pNames.Strings:
            entry = self.directory.lookupDN(dn) if dn else None
            mids.append(entry.mid if entry is not None else MID_UNRESOLVED)
        return N.NspiDNToMIdResponse(ppOutMIds=PropertyTagArray_r(aulPropTag=mids), result=ErrorCode.Success)

    def nspi_GetPropList(self, request, call):
        """
        NspiGetPropList ([MS-OXNSPI] 3.1.4.1.6): the tags of the
        properties an object has.
        """
        self._session(request.hRpc, call)
        entry = self.directory.entry(request.dwMId)
        if entry is None:
            return N.NspiGetPropListResponse(ppPropTags=None, result=ErrorCode.InvalidObject)
        tags = self.directory.propertyTags(entry, unicode=request.CodePage == CP_WINUNICODE)
        return N.NspiGetPropListResponse(ppPropTags=PropertyTagArray_r(aulPropTag=tags), result=ErrorCode.Success)

    def nspi_GetProps(self, request, call):
        """
        NspiGetProps ([MS-OXNSPI] 3.1.4.1.7): the properties of the object
        C{CurrentRec} names (a MId, or a position in the container);
        C{ErrorsReturned} when some are missing.
        """
        self._session(request.hRpc, call)
        stat = request.pStat

        def answer():
            codec = self._codec(stat)
            if request.pPropTags is not None and codec is None:
                if any(t & 0xFFFF in (PropType.String8, PropType.MultipleString8) for t in request.pPropTags.aulPropTag):
                    raise MapiError(ErrorCode.NotSupported)
            if stat.CurrentRec > MID_RESERVED_MAX:
                entry = self.directory.entry(stat.CurrentRec)
            else:
                container = self._container(stat)
                position = max(0, min(len(container.members), self._position(stat, container) + stat.Delta))
                entry = container.members[position] if position < len(container.members) else None
            ephemeral = bool(request.dwFlags & N.fEphID)
            if request.pPropTags is None:
                if entry is None:
                    raise MapiError(ErrorCode.NotFound)
                tags = self.directory.propertyTags(entry, unicode=stat.CodePage == CP_WINUNICODE)
                row = self._rows([entry], tags, codec, ephemeral).aRow[0]
                return N.NspiGetPropsResponse(ppRows=row, result=ErrorCode.Success)
            columns = self._columns(request.pPropTags)
            if entry is None:
                row = self.directory.errorRow(columns)
            else:
                row = self._rows([entry], columns, codec, ephemeral).aRow[0]
            missing = any(p.propType == PropType.ErrorCode for p in row.lpProps)
            return N.NspiGetPropsResponse(ppRows=row, result=ErrorCode.ErrorsReturned if missing else ErrorCode.Success)

        return self._refusable(answer, lambda code: N.NspiGetPropsResponse(ppRows=None, result=code))

    def nspi_CompareMIds(self, request, call):
        """
        NspiCompareMIds ([MS-OXNSPI] 3.1.4.1.12): negative when C{MId1}
        comes first in the table, positive when it comes after, 0 for the
        same object.
        """
        self._session(request.hRpc, call)

        def answer():
            container = self._container(request.pStat)
            first, second = container.index(request.MId1), container.index(request.MId2)
            if first is None or second is None:
                raise MapiError(ErrorCode.GeneralFailure)
            difference = (first > second) - (first < second)
            return N.NspiCompareMIdsResponse(plResult=difference, result=ErrorCode.Success)

        return self._refusable(answer, lambda code: N.NspiCompareMIdsResponse(plResult=0, result=code))

    # -- 12, 16: tables of the server -------------------------------------

    def nspi_GetSpecialTable(self, request, call):
        """
        NspiGetSpecialTable ([MS-OXNSPI] 3.1.4.1.3): the address book
        hierarchy table (or an empty address creation table).
        """
        self._session(request.hRpc, call)
        unicode = bool(request.dwFlags & N.NspiUnicodeStrings)

        def answer():
            if request.dwFlags & N.NspiAddressCreationTemplates:
                return N.NspiGetSpecialTableResponse(
                    lpVersion=request.lpVersion, ppRows=PropertyRowSet_r(aRow=[]), result=ErrorCode.Success
                )
            codec = None if unicode else self._codec(request.pStat)
            if not unicode and codec is None:
                raise MapiError(ErrorCode.NotSupported)
            rows = self.directory.hierarchyRows(unicode, codec)
            return N.NspiGetSpecialTableResponse(
                lpVersion=self.directory.version, ppRows=PropertyRowSet_r(aRow=rows), result=ErrorCode.Success
            )

        return self._refusable(
            answer, lambda code: N.NspiGetSpecialTableResponse(lpVersion=request.lpVersion, ppRows=None, result=code)
        )

    def nspi_QueryColumns(self, request, call):
        """
        NspiQueryColumns ([MS-OXNSPI] 3.1.4.1.5): every column the
        directory knows, Unicode-typed with C{NspiUnicodeProptypes}.
        """
        self._session(request.hRpc, call)
        columns = self.directory.columns(unicode=bool(request.dwFlags & N.NspiUnicodeProptypes))
        return N.NspiQueryColumnsResponse(ppColumns=PropertyTagArray_r(aulPropTag=columns), result=ErrorCode.Success)

    # -- 19, 20: name resolution ----------------------------------------

    def _resolve(self, request, call, names, response):
        self._session(request.hRpc, call)
        stat = request.pStat

        def answer():
            container = self._container(stat)
            columns = self._columns(request.pPropTags)
            codec = self._codec(stat)
            mids, resolved = [], []
            for name in names:
                found = self.directory.resolve(name, container) if name else []
                if len(found) == 1:
                    mids.append(found[0].mid)
                    resolved.append(found[0])
                else:
                    mids.append(MID_AMBIGUOUS if found else MID_UNRESOLVED)
            rows = self._rows(resolved, columns, codec, False)
            return response(ppMIds=PropertyTagArray_r(aulPropTag=mids), ppRows=rows, result=ErrorCode.Success)

        return self._refusable(answer, lambda code: response(ppMIds=None, ppRows=None, result=code))

    def nspi_ResolveNames(self, request, call):
        """
        NspiResolveNames ([MS-OXNSPI] 3.1.4.1.16): ambiguous name
        resolution of 8-bit strings (in the STAT's code page). A MId per
        string: the object's, MID_UNRESOLVED (0) or MID_AMBIGUOUS (1); rows
        for the resolved ones.
        """
        try:
            codec = codecForCodePage(request.pStat.CodePage) or "cp1252"
        except MapiError:
            codec = "cp1252"
        names = [
            s.encode("latin-1", "replace").decode(codec, "replace") if s is not None else None
            for s in request.paStr.Strings
        ]
        return self._resolve(request, call, names, N.NspiResolveNamesResponse)

    def nspi_ResolveNamesW(self, request, call):
        """
        NspiResolveNamesW ([MS-OXNSPI] 3.1.4.1.17): L{nspi_ResolveNames}
        for Unicode strings.
        """
        return self._resolve(request, call, list(request.paWStr.Strings), N.NspiResolveNamesWResponse)

    # -- what a read-only lab directory does not do ---------------------

    def _notSupported(self, request, call, response, **nulls):
        self._session(request.hRpc, call)
        return response(result=ErrorCode.NotSupported, **nulls)

    def nspi_ModProps(self, request, call):
        """
        NspiModProps: the directory is read-only.
        """
        return self._notSupported(request, call, N.NspiModPropsResponse)

    def nspi_GetTemplateInfo(self, request, call):
        """
        NspiGetTemplateInfo: no display templates.
        """
        return self._notSupported(request, call, N.NspiGetTemplateInfoResponse, ppData=None)

    def nspi_ModLinkAtt(self, request, call):
        """
        NspiModLinkAtt: the directory is read-only.
        """
        return self._notSupported(request, call, N.NspiModLinkAttResponse)

    def nspi_DeleteEntries(self, request, call):
        """
        NspiDeleteEntries: the directory is read-only.
        """
        return self._notSupported(request, call, N.NspiDeleteEntriesResponse)

    def nspi_GetNamesFromIDs(self, request, call):
        """
        NspiGetNamesFromIDs: no named properties.
        """
        return self._notSupported(request, call, N.NspiGetNamesFromIDsResponse, ppReturnedPropTags=None, ppNames=None)

    def nspi_GetIDsFromNames(self, request, call):
        """
        NspiGetIDsFromNames: no named properties.
        """
        return self._notSupported(request, call, N.NspiGetIDsFromNamesResponse, ppPropTags=None)


def _decodeSpecialTableWithPointers(stub):
    """
    NspiGetSpecialTable as impacket sends it: C{pStat} and C{lpVersion} as
    unique pointers (referent id, then the value unless NULL).

    @rtype: L{N.NspiGetSpecialTableRequest}
    @raise NDRError: the stub is not of that form either.
    """
    reader = NDRReader(stub)
    request = N.NspiGetSpecialTableRequest(hRpc=reader.contextHandle(), dwFlags=reader.u32())
    request.pStat = STAT.pull(reader) if reader.pointer() else STAT()
    request.lpVersion = reader.u32() if reader.pointer() else 0
    reader.finish()
    return request
