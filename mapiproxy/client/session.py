# -*- test-case-name: tests.client.test_cli -*-
"""
The protocol logic of C{mapiproxy-client}, behaving like Outlook on the
wire:

  - profile creation ([MS-OXABREF] 3.1.4, [MS-OXNSPI] 3.1.4): RfrGetNewDSA
    names the address book server; NspiBind; NspiResolveNamesW (or a walk
    of the GAL with NspiQueryRows) finds the user and its
    PR_EMS_AB_HOME_MDB; NspiDNToMId and NspiGetProps of the mailbox server
    object give its PR_EMS_AB_NETWORK_ADDRESS, hence the binding of the
    message store;
  - the EMSMDB session ([MS-OXCRPC] 3.1.4): EcDoConnectEx then
    EcDoRpcExt2 with compressed and obfuscated buffers; when the server
    faults EcDoConnectEx with nca_op_rng_error, EcDoConnect then EcDoRpc,
    as Outlook 2003 does;
  - ROPs ([MS-OXCROPS]) to log on, walk folders, list and read messages,
    read attachment streams and register for new-mail notifications, which
    EcDoAsyncWaitEx over AsyncEMSMDB ([MS-OXCRPC] 3.3.4) announces.

Every public function takes the reactor and returns a L{Deferred}; nothing
here prints (the command line formats what comes back).
"""

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Dict, List, Optional

from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.logger import Logger

from mapiproxy.auth.credentials import Credentials
from mapiproxy.auth.security import makeInitiator
from mapiproxy.dcerpc.binding import Binding
from mapiproxy.dcerpc.client import BindError, connectRPC
from mapiproxy.dcerpc.constants import AuthLevel, AuthType, Status
from mapiproxy.endpoints import EPMAPPER_PORT, resolvePort
from mapiproxy.errors import (
    ClientError,
    ConfigError,
    DCERPCFault,
    EndpointNotRegistered,
    MapiBufferError,
    MapiError,
    MalformedStub,
    UpstreamError,
)
from mapiproxy.interfaces import asyncemsmdb as A
from mapiproxy.interfaces import emsmdb as E
from mapiproxy.interfaces import nspi as N
from mapiproxy.interfaces import nspi_types as T
from mapiproxy.interfaces import rfr as R
from mapiproxy.interfaces.registry import lookupByName
from mapiproxy.mapi import extbuf
from mapiproxy.mapi.oxcdata import FLAG_VALUE, ROW_FLAGGED, filetimeToDatetime
from mapiproxy.mapi.rops import RopContext, UnknownRop, decodeResponses, encodeRequests
from mapiproxy.mapi.rops.logon import (
    LOGON_PRIVATE,
    GetContentsTableRequest,
    GetHierarchyTableRequest,
    LogonRequest,
    OpenFolderRequest,
)
from mapiproxy.mapi.rops.message import (
    GetAttachmentTableRequest,
    OpenAttachmentRequest,
    OpenMessageRequest,
    SetMessageReadFlagRequest,
)
from mapiproxy.mapi.rops.notify import (
    NOTIFY_NEW_MAIL,
    NotifyResponse,
    RegisterNotificationRequest,
    ReleaseRequest,
)
from mapiproxy.mapi.rops.property import GetPropertiesSpecificRequest, OpenStreamRequest, ReadStreamRequest
from mapiproxy.mapi.rops.table import BOOKMARK_END, QueryRowsRequest, SetColumnsRequest

__all__ = [
    "ClientOptions",
    "Profile",
    "Folder",
    "MessageSummary",
    "Message",
    "Recipient",
    "Attachment",
    "Download",
    "NewMail",
    "AddressBookEntry",
    "StoreSession",
    "createProfile",
    "openStore",
    "listAddressBook",
    "parseMessageSpec",
    "mapiErrorName",
    "FALLBACK_NOTE",
]

_log = Logger(namespace="mapiproxy.client")

# -- property tags ([MS-OXPROPS]) ------------------------------------------

PR_DISPLAY_NAME = 0x3001001F
PR_DISPLAY_NAME_A = 0x3001001E
PR_EMAIL_ADDRESS_A = 0x3003001E
PR_ACCOUNT = 0x3A00001F
PR_SMTP_ADDRESS = 0x39FE001F
PR_DISPLAY_TYPE = 0x39000003
PR_TITLE = 0x3A17001F
PR_EMS_AB_HOME_MDB = 0x8006001E
PR_EMS_AB_NETWORK_ADDRESS = 0x8170101E

PidTagFolderId = 0x67480014
PidTagMid = 0x674A0014
PidTagContentCount = 0x36020003
PidTagContentUnreadCount = 0x36030003
PidTagSubfolders = 0x360A000B
PidTagContainerClass = 0x3613001F
PidTagSubject = 0x0037001F
PidTagSenderName = 0x0C1A001F
PidTagSenderEmailAddress = 0x0C1F001F
PidTagSenderSmtpAddress = 0x5D01001F
PidTagDisplayTo = 0x0E04001F
PidTagDisplayCc = 0x0E03001F
PidTagMessageDeliveryTime = 0x0E060040
PidTagClientSubmitTime = 0x00390040
PidTagMessageClass = 0x001A001F
PidTagMessageFlags = 0x0E070003
PidTagMessageSize = 0x0E080003
PidTagHasAttachments = 0x0E1B000B
PidTagInternetMessageId = 0x1035001F
PidTagBody = 0x1000001F
PidTagAttachNumber = 0x0E210003
PidTagAttachLongFilename = 0x3707001F
PidTagAttachFilename = 0x3704001F
PidTagAttachSize = 0x0E200003
PidTagAttachMethod = 0x37050003
PidTagAttachMimeTag = 0x370E001F
PidTagAttachDataBinary = 0x37010102

#: PidTagMessageFlags bit: the message has been read ([MS-OXCMSG] 2.2.1.6).
MSGFLAG_READ = 0x00000001
#: PidTagAttachMethod of an embedded message ([MS-OXCMSG] 2.2.2.9).
ATTACH_EMBEDDED_MSG = 5

FOLDER_COLUMNS = [PidTagFolderId, PR_DISPLAY_NAME, PidTagContentCount, PidTagContentUnreadCount, PidTagSubfolders, PidTagContainerClass]
CONTENTS_COLUMNS = [
    PidTagMid,
    PidTagSubject,
    PidTagSenderName,
    PidTagMessageDeliveryTime,
    PidTagMessageFlags,
    PidTagMessageSize,
    PidTagHasAttachments,
]
MESSAGE_PROPERTIES = [
    PidTagSubject,
    PidTagSenderName,
    PidTagSenderEmailAddress,
    PidTagSenderSmtpAddress,
    PidTagDisplayTo,
    PidTagDisplayCc,
    PidTagMessageDeliveryTime,
    PidTagClientSubmitTime,
    PidTagMessageClass,
    PidTagMessageFlags,
    PidTagMessageSize,
    PidTagInternetMessageId,
    PidTagBody,
]
ATTACHMENT_COLUMNS = [
    PidTagAttachNumber,
    PidTagAttachLongFilename,
    PidTagAttachFilename,
    PR_DISPLAY_NAME,
    PidTagAttachSize,
    PidTagAttachMethod,
    PidTagAttachMimeTag,
]
ADDRESS_BOOK_COLUMNS = [PR_DISPLAY_NAME, PR_SMTP_ADDRESS, PR_ACCOUNT, PR_EMAIL_ADDRESS_A, PR_TITLE, PR_DISPLAY_TYPE]
USER_COLUMNS = [PR_DISPLAY_NAME, PR_EMAIL_ADDRESS_A, PR_EMS_AB_HOME_MDB, PR_SMTP_ADDRESS, PR_ACCOUNT]

# -- protocol constants ------------------------------------------------------

#: NSPI MIds with a meaning of their own ([MS-OXNSPI] 2.2.1.8).
MID_BEGINNING_OF_TABLE = 0
MID_END_OF_TABLE = 2
MID_UNRESOLVED = 0
MID_AMBIGUOUS = 1

#: What we announce: Outlook 2007's version, as OpenChange's libmapi does.
CLIENT_VERSION = (0x000C, 0x183E, 0x03E8)
#: OpenFlags of a private mailbox logon ([MS-OXCSTOR] 2.2.1.1.1):
#: USE_PER_MDB_REPLID_MAPPING | TAKE_OWNERSHIP | HOME_LOGON.
LOGON_OPEN_FLAGS = 0x0100000C
#: The order of RopLogon's FolderIds for a private mailbox
#: ([MS-OXCSTOR] 2.2.1.1.3).
SPECIAL_FOLDERS = (
    "Root",
    "Deferred Action",
    "Spooler Queue",
    "Top of Information Store",
    "Inbox",
    "Outbox",
    "Sent Items",
    "Deleted Items",
    "Common Views",
    "Schedule",
    "Finder",
    "Views",
    "Shortcuts",
)
_IPM_SUBTREE = 3
_INBOX = 4
#: Rows asked for per RopQueryRows.
QUERY_ROWS = 64
#: Bytes asked for per RopReadStream: a whole RopReadStream response, the
#: RopSize and a handle fit one 32 KB extended buffer ([MS-OXCRPC]
#: 3.1.4.2.1.1).
READ_CHUNK = 0x7C00
#: The largest response we accept from EcDoRpc (u16 max_data).
ECDORPC_MAX_DATA = 0xFFF0
#: NSPI rows per NspiQueryRows.
NSPI_ROWS = 50
#: The ROP placeholder handle of an object a ROP of the same buffer creates.
NEW_HANDLE = 0xFFFFFFFF
#: pulFlags of an EcDoRpcExt2 request ([MS-OXCRPC] 3.1.4.2).
NO_COMPRESSION = E.NO_COMPRESSION
NO_XOR_MAGIC = E.NO_XOR_MAGIC

#: What the client says when it falls back to the Exchange 2003 calls.
FALLBACK_NOTE = "server refused EcDoConnectEx: falling back to EcDoConnect/EcDoRpc"

_MAPI_ERRORS = {
    0x80004005: "ecError",
    0x8004010F: "ecNotFound",
    0x80040102: "ecNotSupported",
    0x80070005: "ecAccessDenied",
    0x8007000E: "ecMAPIOOM",
    0x80040111: "ecLoginFailure",
    0x80040115: "ecNetwork",
    0x000004B9: "ecNullObject",
    0x000004B6: "ecRpcFormat",
    0x00000478: "ecWrongServer",
    0x0000047D: "ecBufferTooSmall",
    0x000003EB: "ecUnknownUser",
    0x000003F2: "ecLoginPerm",
    0x00000969: "ecNotEncrypted",
    0x80040106: "ecUnknownFlags",
    0x00040380: "ecWarnWithErrors",
}


def mapiErrorName(code):
    """
    A readable name for a MAPI error code ([MS-OXCDATA] 2.4).

    @param code: the 32-bit code.
    @type code: L{int}
    @return: e.g. C{"ecNotFound (0x8004010f)"}.
    @rtype: L{str}
    """
    name = _MAPI_ERRORS.get(code & 0xFFFFFFFF)
    if name is None:
        return "0x%08x" % (code & 0xFFFFFFFF,)
    return "%s (0x%08x)" % (name, code & 0xFFFFFFFF)


def _refused(code, what):
    return MapiError(code, "%s failed: %s" % (what, mapiErrorName(code)))


# -- options and results -----------------------------------------------------


@dataclass
class ClientOptions:
    """
    How to reach and authenticate to the Exchange servers.

    @ivar binding: the address book (RFR/NSPI) server; its port, when
        given, is used for RFR and NSPI instead of the endpoint mapper.
    @ivar credentials: who we are.
    @ivar mailbox: the mailbox to open (a name NSPI resolves); the user
        name by default.
    @ivar authType: L{AuthType.NTLM} or L{AuthType.SPNEGO}.
    @ivar authLevel: L{AuthLevel.PRIVACY} (seal) or
        L{AuthLevel.INTEGRITY} (sign).
    @ivar epmapperPort: the endpoint mapper port of every server.
    @ivar storeBinding: forces the message store server (and its port)
        instead of the one the profile learns.
    @ivar hosts: name -> address overrides for the server names the
        servers announce (like curl's C{--resolve}).
    @ivar compression: ask for LZ77 compression of rgbIn/rgbOut.
    @ivar obfuscation: ask for XOR obfuscation of rgbIn/rgbOut.
    @ivar timeout: seconds to connect and bind.
    @ivar note: called with a one-line remark a user should see (a
        fallback taken, a name that did not resolve).
    @ivar resolver: resolves a host name (a L{Deferred}); the reactor's
        C{resolve} when L{None}.
    """

    binding: Binding
    credentials: Credentials
    mailbox: Optional[str] = None
    authType: int = AuthType.NTLM
    authLevel: int = AuthLevel.PRIVACY
    epmapperPort: int = EPMAPPER_PORT
    storeBinding: Optional[Binding] = None
    hosts: Dict[str, str] = field(default_factory=dict)
    compression: bool = True
    obfuscation: bool = True
    timeout: float = 30
    note: Callable[[str], None] = field(default=lambda text: None, repr=False)
    resolver: Optional[Callable[[str], Deferred]] = field(default=None, repr=False)

    @property
    def mailboxName(self):
        """
        The name to resolve in the address book.
        """
        return self.mailbox or self.credentials.username


@dataclass
class Profile:
    """
    What profile creation learned.

    @ivar nspiServer: the address book server RfrGetNewDSA named, or
        L{None} when RFR was not available.
    @ivar displayName: the user's display name.
    @ivar account: the user's account name.
    @ivar smtpAddress: the user's SMTP address.
    @ivar userDN: the user's legacy DN (PR_EMAIL_ADDRESS).
    @ivar mid: the user's NSPI MId.
    @ivar homeMDB: the user's PR_EMS_AB_HOME_MDB.
    @ivar serverDN: the mailbox server's DN (the home MDB's parent).
    @ivar serverMid: its MId (NspiDNToMId).
    @ivar mailboxServer: the mailbox server's name (from its DN).
    @ivar networkAddresses: its PR_EMS_AB_NETWORK_ADDRESS.
    @ivar mailboxServerFQDN: what RfrGetFQDNFromServerDN answered, or
        L{None}.
    @ivar storeHost: the host name of the message store binding.
    @ivar storeAddress: the address we connect to for it.
    @ivar storePort: its port, or L{None} for its endpoint mapper.
    """

    nspiServer: Optional[str] = None
    displayName: str = ""
    account: str = ""
    smtpAddress: str = ""
    userDN: str = ""
    mid: int = 0
    homeMDB: str = ""
    serverDN: str = ""
    serverMid: int = 0
    mailboxServer: str = ""
    networkAddresses: List[str] = field(default_factory=list)
    mailboxServerFQDN: Optional[str] = None
    storeHost: str = ""
    storeAddress: str = ""
    storePort: Optional[int] = None

    @property
    def storeBinding(self):
        """
        The message store binding, as a Samba binding string.
        """
        return "ncacn_ip_tcp:%s%s" % (self.storeHost, "[%d]" % (self.storePort,) if self.storePort else "")


@dataclass
class Folder:
    """
    A folder of the tree under "Top of Information Store".

    @ivar path: the display names from the top, joined with C{/}.
    @ivar depth: 0 for the top's children.
    """

    folderId: int
    name: str
    path: str
    depth: int
    total: int = 0
    unread: int = 0
    hasSubfolders: bool = False
    containerClass: Optional[str] = None


@dataclass
class MessageSummary:
    """
    A row of a folder's contents table.

    @ivar index: its 1-based position in the table (for C{Inbox/3}).
    @ivar messageId: the MID.
    """

    index: int
    folderId: int
    messageId: int
    subject: str = ""
    sender: str = ""
    received: Optional[datetime] = None
    size: int = 0
    read: bool = False
    hasAttachments: bool = False

    @property
    def id(self):
        """
        The MID as C{mapiproxy-client show} takes it.
        """
        return formatId(self.messageId)


@dataclass
class Recipient:
    """
    A recipient of a message: C{kind} is To, Cc or Bcc.
    """

    kind: str
    name: str
    address: str = ""


@dataclass
class Attachment:
    """
    A row of a message's attachment table.

    @ivar index: its 1-based position (for C{fetch-attachment MESSAGE N}).
    @ivar number: its PidTagAttachNumber.
    """

    index: int
    number: int
    name: str
    size: int = 0
    method: int = 1
    mimeType: Optional[str] = None


@dataclass
class Message:
    """
    A message as C{show} prints it.
    """

    folderId: int
    messageId: int
    subject: str = ""
    sender: str = ""
    senderAddress: str = ""
    to: str = ""
    cc: str = ""
    received: Optional[datetime] = None
    sent: Optional[datetime] = None
    messageClass: str = ""
    size: int = 0
    read: bool = False
    internetMessageId: str = ""
    body: str = ""
    recipients: List[Recipient] = field(default_factory=list)
    attachments: List[Attachment] = field(default_factory=list)

    @property
    def id(self):
        return formatId(self.messageId)


@dataclass
class Download:
    """
    A downloaded attachment.
    """

    attachment: Attachment
    path: str
    size: int
    sha256: str


@dataclass
class NewMail:
    """
    A new-mail notification ([MS-OXCNOTIF] 2.2.1.4.1.2) and what the
    message says about itself.
    """

    folderId: int
    messageId: int
    messageClass: str = ""
    messageFlags: int = 0
    folder: str = ""
    subject: str = ""
    sender: str = ""

    @property
    def id(self):
        return formatId(self.messageId)


@dataclass
class AddressBookEntry:
    """
    A row of the Global Address List.
    """

    displayName: str = ""
    smtpAddress: str = ""
    account: str = ""
    legacyDN: str = ""
    title: str = ""
    displayType: int = 0


def formatId(value):
    """
    The text form of a 64-bit folder or message id: C{0x} and 16 hex
    digits.
    """
    return "0x%016x" % (value,)


def parseMessageSpec(text):
    """
    Parse a MESSAGE argument: C{FOLDER/N} (the N-th message of the folder
    as C{messages} numbers them), C{FOLDER/0xMID}, or a bare C{0xMID} or
    C{N} (in the Inbox).

    @param text: the argument.
    @type text: L{str}
    @return: C{(folder path or None, index or None, mid or None)}; exactly
        one of index and mid is set.
    @rtype: L{tuple}
    @raise ClientError: the last component is neither a positive number
        nor a hexadecimal id.
    """
    text = text.strip()
    folder, _, last = text.rpartition("/")
    folder = folder.strip("/") or None
    last = last.strip()
    if last.lower().startswith("0x"):
        try:
            mid = int(last[2:], 16)
        except ValueError:
            raise ClientError("bad message id %r (expected 0x and hex digits)" % (last,)) from None
        if not 0 < mid < 1 << 64:
            raise ClientError("message id %r is out of range" % (last,))
        return folder, None, mid
    if last.isdigit() and int(last) > 0:
        return folder, int(last), None
    raise ClientError("bad message %r: expected FOLDER/N, FOLDER/0xMID or 0xMID" % (text,))


# -- connections --------------------------------------------------------------


@inlineCallbacks
def _connect(reactor, options, host, interfaceName, port=None, assocGroupId=0):
    """
    Connect, bind and authenticate to one interface of a server, asking
    its endpoint mapper for the port unless one is given.
    """
    info = lookupByName(interfaceName)
    if port is None:
        try:
            port = yield resolvePort(reactor, host, info.syntaxId, port=options.epmapperPort, timeout=options.timeout)
        except EndpointNotRegistered as e:
            raise EndpointNotRegistered("%s is not registered with the endpoint mapper of %s[%d]" % (interfaceName, host, options.epmapperPort)) from e
        except UpstreamError as e:
            raise UpstreamError("endpoint mapper of %s[%d]: %s" % (host, options.epmapperPort, e)) from None
    _log.debug("connecting to {interface} at {host}[{port}]", interface=interfaceName, host=host, port=port)
    security = makeInitiator(options.authType, options.credentials, targetName=host)
    proto = yield connectRPC(
        reactor,
        host,
        port,
        [info.syntaxId],
        security=security,
        authLevel=options.authLevel,
        assocGroupId=assocGroupId,
        timeout=options.timeout,
    )
    proto.serverHost = host
    proto.serverPort = port
    return proto


@inlineCallbacks
def _call(proto, opnum, request, responseClass, interface=""):
    """
    One call: encode, send, decode, with a debug line each way.
    """
    stub = request.encode()
    _log.debug("{interface} {operation} (opnum {opnum}): {size} bytes out", interface=interface, operation=type(request).__name__[:-7], opnum=opnum, size=len(stub))
    answer = yield proto.call(opnum, stub)
    _log.debug("{interface} {operation}: {size} bytes back", interface=interface, operation=type(request).__name__[:-7], size=len(answer))
    try:
        return responseClass.decode(answer)
    except MalformedStub as e:
        raise ClientError("%s: cannot decode the answer: %s" % (type(request).__name__[:-7], e)) from None


@inlineCallbacks
def _pickHost(reactor, options, name, what):
    """
    The address to use for a server name a server announced: a C{hosts}
    override, the name itself when it resolves, else the C{--binding}
    host (with a note).
    """
    fallback = options.binding.host
    if not name:
        return fallback
    for key, value in options.hosts.items():
        if key.lower() == name.lower():
            return value
    if name.lower() == fallback.lower():
        return fallback
    try:
        yield (options.resolver or reactor.resolve)(name)
    except Exception:
        options.note("cannot resolve %s (%s): using %s" % (name, what, fallback))
        return fallback
    return name


def _nspiValues(row):
    """
    The values of an NSPI row by property id, without the PT_ERROR ones.
    """
    values = {}
    if row is None:
        return values
    for prop in row.lpProps or []:
        if prop.propType == 0x000A:
            continue
        values.setdefault(prop.propId, prop.value)
    return values


def _text(value):
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return str(value)


class _AddressBook:
    """
    An NSPI session ([MS-OXNSPI] 3.1.4) and, when there was one, the RFR
    association that named its server.
    """

    def __init__(self, nspi, handle, rfr, server):
        self.nspi = nspi
        self.handle = handle
        self.rfr = rfr
        self.server = server

    def _stat(self, **kw):
        kw.setdefault("CodePage", 1252)
        kw.setdefault("TemplateLocale", 1033)
        kw.setdefault("SortLocale", 1033)
        return T.STAT(**kw)

    @inlineCallbacks
    def resolveName(self, name):
        """
        NspiResolveNamesW of one name.

        @return: C{(mid, values by property id)}, or L{None} when the
            server cannot resolve it (unresolved, ambiguous, refused).
        """
        request = N.NspiResolveNamesWRequest(
            hRpc=self.handle, pStat=self._stat(), pPropTags=T.PropertyTagArray_r(aulPropTag=list(USER_COLUMNS)), paWStr=T.StringsArrayW_r(Strings=[name])
        )
        try:
            response = yield _call(self.nspi, 20, request, N.NspiResolveNamesWResponse, "exchange_nsp")
        except DCERPCFault as e:
            _log.debug("NspiResolveNamesW faulted: {fault}", fault=str(e))
            return None
        if response.result != 0 or response.ppMIds is None or not response.ppMIds.aulPropTag:
            return None
        mid = response.ppMIds.aulPropTag[0]
        if mid in (MID_UNRESOLVED, MID_AMBIGUOUS) or response.ppRows is None or not response.ppRows.aRow:
            return None
        return mid, _nspiValues(response.ppRows.aRow[0])

    @inlineCallbacks
    def queryAll(self, columns):
        """
        Every row of the Global Address List (NspiQueryRows from the start
        of the table until its end).

        @return: a list of C{(mid or None, values by property id)}.
        """
        stat = self._stat(ContainerID=0, CurrentRec=MID_BEGINNING_OF_TABLE)
        rows = []
        for _ in range(10000):
            request = N.NspiQueryRowsRequest(hRpc=self.handle, dwFlags=0, pStat=stat, Count=NSPI_ROWS, pPropTags=T.PropertyTagArray_r(aulPropTag=list(columns)))
            response = yield _call(self.nspi, 3, request, N.NspiQueryRowsResponse, "exchange_nsp")
            if response.result != 0:
                raise _refused(response.result, "NspiQueryRows")
            got = response.ppRows.aRow if response.ppRows is not None else []
            rows.extend(_nspiValues(row) for row in got)
            if not got or len(got) < NSPI_ROWS or response.pStat.CurrentRec == MID_END_OF_TABLE or response.pStat.CurrentRec == stat.CurrentRec:
                break
            stat = response.pStat
        return rows

    @inlineCallbacks
    def dnToMId(self, dn):
        request = N.NspiDNToMIdRequest(hRpc=self.handle, pNames=T.StringsArray_r(Strings=[dn]))
        response = yield _call(self.nspi, 7, request, N.NspiDNToMIdResponse, "exchange_nsp")
        if response.result != 0:
            raise _refused(response.result, "NspiDNToMId")
        mids = response.ppOutMIds.aulPropTag if response.ppOutMIds is not None else []
        return mids[0] if mids else 0

    @inlineCallbacks
    def getProps(self, mid, tags):
        request = N.NspiGetPropsRequest(hRpc=self.handle, dwFlags=0, pStat=self._stat(CurrentRec=mid), pPropTags=T.PropertyTagArray_r(aulPropTag=list(tags)))
        response = yield _call(self.nspi, 9, request, N.NspiGetPropsResponse, "exchange_nsp")
        # ErrorsReturned (0x00040380) still carries the row.
        if response.result not in (0, 0x00040380):
            raise _refused(response.result, "NspiGetProps")
        return _nspiValues(response.ppRows)

    @inlineCallbacks
    def serverFQDN(self, serverDN):
        """
        RfrGetFQDNFromServerDN, or L{None} without RFR or on failure.
        """
        if self.rfr is None or len(serverDN) + 1 < R.SERVER_DN_MIN:
            return None
        try:
            response = yield _call(self.rfr, 1, R.RfrGetFQDNFromServerDNRequest(ulFlags=0, szMailboxServerDN=serverDN), R.RfrGetFQDNFromServerDNResponse, "exchange_ds_rfr")
        except (DCERPCFault, ClientError, MalformedStub) as e:
            _log.debug("RfrGetFQDNFromServerDN failed: {error}", error=str(e))
            return None
        return response.ppszServerFQDN if response.result == 0 else None

    @inlineCallbacks
    def close(self):
        try:
            yield _call(self.nspi, 1, N.NspiUnbindRequest(contextHandle=self.handle), N.NspiUnbindResponse, "exchange_nsp")
        except Exception as e:
            _log.debug("NspiUnbind failed: {error}", error=str(e))
        self.nspi.disconnect()
        if self.rfr is not None:
            self.rfr.disconnect()


@inlineCallbacks
def _openAddressBook(reactor, options):
    """
    RfrGetNewDSA on the C{--binding} server, then NspiBind on the server
    it names ([MS-OXABREF] 3.1.4.1, [MS-OXNSPI] 3.1.4.1).
    """
    binding = options.binding
    rfr = None
    server = None
    try:
        rfr = yield _connect(reactor, options, binding.host, "exchange_ds_rfr", binding.port)
        response = yield _call(
            rfr, 0, R.RfrGetNewDSARequest(ulFlags=0, pUserDN="", ppszServer=None, ppszServerPresent=True), R.RfrGetNewDSAResponse, "exchange_ds_rfr"
        )
        if response.result == 0:
            server = response.ppszServer
        else:
            options.note("RfrGetNewDSA failed (%s): using %s for the address book" % (mapiErrorName(response.result), binding.host))
    except DCERPCFault as e:
        if e.status in (Status.ACCESS_DENIED, Status.NCA_S_PROTO_ERROR):
            # What Windows and our engine answer after a failed NTLM AUTHENTICATE.
            raise
        options.note("RfrGetNewDSA refused (%s): using %s for the address book" % (e, binding.host))
    except EndpointNotRegistered as e:
        options.note("no RFR service (%s): using %s for the address book" % (e, binding.host))
    except BindError as e:
        if "authentication" in str(e):
            raise
        options.note("no RFR service (%s): using %s for the address book" % (e, binding.host))
    host = yield _pickHost(reactor, options, server, "address book server")
    port = binding.port if host == binding.host else None
    try:
        nspi = yield _connect(reactor, options, host, "exchange_nsp", port)
    except BaseException:
        if rfr is not None:
            rfr.disconnect()
        raise
    book = _AddressBook(nspi, None, rfr, server)
    try:
        response = yield _call(
            nspi,
            0,
            N.NspiBindRequest(dwFlags=0, pStat=book._stat(), pServerGuid=b"\x00" * 16),
            N.NspiBindResponse,
            "exchange_nsp",
        )
        if response.result != 0:
            raise _refused(response.result, "NspiBind")
    except BaseException:
        nspi.disconnect()
        if rfr is not None:
            rfr.disconnect()
        raise
    book.handle = response.contextHandle
    return book


def _matchesUser(values, name):
    """
    Whether a GAL row is the user C{name}: its account, display name, SMTP
    address (or its local part) or the last C{cn=} of its legacy DN.
    """
    name = name.lower()
    candidates = []
    for propId in (PR_ACCOUNT >> 16, PR_DISPLAY_NAME >> 16, PR_SMTP_ADDRESS >> 16):
        value = _text(values.get(propId)).lower()
        if value:
            candidates.append(value)
            if "@" in value:
                candidates.append(value.split("@", 1)[0])
    dn = _text(values.get(PR_EMAIL_ADDRESS_A >> 16))
    if dn:
        candidates.append(dn.rsplit("=", 1)[-1].lower())
    return name in candidates


_SERVER_IN_DN = re.compile(r"/cn=Servers/cn=([^/]+)", re.IGNORECASE)


def serverDNOf(homeMDB):
    """
    The mailbox server's DN from a home MDB DN: the MDB's parent
    (C{.../cn=Servers/cn=EXCH01/cn=Microsoft Private MDB} gives
    C{.../cn=Servers/cn=EXCH01}).
    """
    match = _SERVER_IN_DN.search(homeMDB)
    if match:
        return homeMDB[: match.end()]
    head, sep, _ = homeMDB.rpartition("/cn=")
    return head if sep else homeMDB


def serverNameOf(dn):
    """
    The server name in a server or MDB DN, or C{""}.
    """
    match = _SERVER_IN_DN.search(dn)
    return match.group(1) if match else ""


def storeHostOf(networkAddresses, fallback):
    """
    The host of the first C{ncacn_ip_tcp:} network address, else
    C{fallback}.
    """
    for address in networkAddresses:
        if address.lower().startswith("ncacn_ip_tcp:"):
            try:
                return Binding.parse(address).host
            except ConfigError:
                continue
    return fallback


@inlineCallbacks
def createProfile(reactor, options):
    """
    Create a profile as Outlook does: find the address book server, the
    user, its home mailbox server and that server's network address.

    @param reactor: the reactor.
    @param options: a L{ClientOptions}.
    @return: a L{Deferred} firing with a L{Profile}.
    @raise UpstreamError: a server is unreachable or refused us.
    @raise ClientError: the user is not in the address book, or has no
        home mailbox.
    """
    book = yield _openAddressBook(reactor, options)
    try:
        profile = Profile(nspiServer=book.server)
        name = options.mailboxName
        found = yield book.resolveName(name)
        if found is None:
            rows = yield book.queryAll(USER_COLUMNS)
            matches = [values for values in rows if _matchesUser(values, name)]
            if not matches:
                raise ClientError("user %r is not in the address book" % (name,))
            values = matches[0]
            dn = _text(values.get(PR_EMAIL_ADDRESS_A >> 16))
            mid = (yield book.dnToMId(dn)) if dn else 0
        else:
            mid, values = found
        profile.mid = mid
        profile.displayName = _text(values.get(PR_DISPLAY_NAME >> 16))
        profile.account = _text(values.get(PR_ACCOUNT >> 16))
        profile.smtpAddress = _text(values.get(PR_SMTP_ADDRESS >> 16))
        profile.userDN = _text(values.get(PR_EMAIL_ADDRESS_A >> 16))
        profile.homeMDB = _text(values.get(PR_EMS_AB_HOME_MDB >> 16))
        if not profile.homeMDB and mid:
            more = yield book.getProps(mid, [PR_EMS_AB_HOME_MDB, PR_EMAIL_ADDRESS_A])
            profile.homeMDB = _text(more.get(PR_EMS_AB_HOME_MDB >> 16))
            profile.userDN = profile.userDN or _text(more.get(PR_EMAIL_ADDRESS_A >> 16))
        if not profile.homeMDB:
            raise ClientError("user %r has no home mailbox (PR_EMS_AB_HOME_MDB)" % (name,))
        if not profile.userDN:
            raise ClientError("user %r has no legacy DN (PR_EMAIL_ADDRESS)" % (name,))
        profile.serverDN = serverDNOf(profile.homeMDB)
        profile.mailboxServer = serverNameOf(profile.serverDN)
        profile.serverMid = yield book.dnToMId(profile.serverDN)
        if profile.serverMid not in (MID_UNRESOLVED, MID_AMBIGUOUS):
            server = yield book.getProps(profile.serverMid, [PR_DISPLAY_NAME_A, PR_EMS_AB_NETWORK_ADDRESS])
            addresses = server.get(PR_EMS_AB_NETWORK_ADDRESS >> 16) or []
            profile.networkAddresses = [_text(a) for a in (addresses if isinstance(addresses, list) else [addresses])]
            profile.mailboxServer = profile.mailboxServer or _text(server.get(PR_DISPLAY_NAME_A >> 16))
        profile.mailboxServerFQDN = yield book.serverFQDN(profile.serverDN)
    finally:
        yield book.close()
    if options.storeBinding is not None:
        profile.storeHost = options.storeBinding.host
        profile.storeAddress = options.storeBinding.host
        profile.storePort = options.storeBinding.port
    else:
        profile.storeHost = storeHostOf(profile.networkAddresses, profile.mailboxServer or options.binding.host)
        profile.storeAddress = yield _pickHost(reactor, options, profile.storeHost, "mailbox server")
        profile.storePort = None
    return profile


@inlineCallbacks
def listAddressBook(reactor, options):
    """
    The Global Address List.

    @return: a L{Deferred} firing with a list of L{AddressBookEntry}.
    """
    book = yield _openAddressBook(reactor, options)
    try:
        rows = yield book.queryAll(ADDRESS_BOOK_COLUMNS)
    finally:
        yield book.close()
    entries = []
    for values in rows:
        entries.append(
            AddressBookEntry(
                displayName=_text(values.get(PR_DISPLAY_NAME >> 16)),
                smtpAddress=_text(values.get(PR_SMTP_ADDRESS >> 16)),
                account=_text(values.get(PR_ACCOUNT >> 16)),
                legacyDN=_text(values.get(PR_EMAIL_ADDRESS_A >> 16)),
                title=_text(values.get(PR_TITLE >> 16)),
                displayType=values.get(PR_DISPLAY_TYPE >> 16) or 0,
            )
        )
    return entries


# -- ROP batches -------------------------------------------------------------


class _PropError:
    """
    A property a row carries as an error code (a FlaggedPropertyValue with
    Flag 0x0A, [MS-OXCDATA] 2.11.6).
    """

    def __init__(self, code):
        self.code = code

    def __repr__(self):
        return "<error %s>" % (mapiErrorName(self.code),)


def rowValues(columns, row):
    """
    A row's values by property tag: plain values, L{None} for a missing
    property, a L{_PropError} for one in error.

    @param columns: the property tags of the row.
    @param row: a L{mapiproxy.mapi.oxcdata.PropertyRow}.
    @rtype: L{dict}
    """
    values = {}
    if row is None:
        return values
    for tag, value in zip(columns, row.values):
        if row.flag == ROW_FLAGGED:
            if value.flag == FLAG_VALUE:
                value = value.value
            elif value.flag == 0x0A:
                value = _PropError(value.value)
            else:
                value = None
        values[tag] = value
    return values


def _str(values, tag):
    value = values.get(tag)
    return value if isinstance(value, str) else ""


def _int(values, tag):
    value = values.get(tag)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _time(values, tag):
    value = values.get(tag)
    if isinstance(value, int) and value:
        try:
            return filetimeToDatetime(value)
        except (ValueError, OverflowError):
            return None
    return None


class _Batch:
    """
    The ROPs of one request buffer and its handle table ([MS-OXCROPS]
    2.2.1): server handles of existing objects and placeholders for the
    objects its ROPs create.
    """

    def __init__(self):
        self.handles = []
        self.requests = []

    def existing(self, serverHandle):
        """
        Put an existing object's handle in the table.

        @return: its index.
        """
        self.handles.append(serverHandle)
        return len(self.handles) - 1

    def new(self):
        """
        Reserve a slot for an object a ROP creates.

        @return: its index.
        """
        self.handles.append(NEW_HANDLE)
        return len(self.handles) - 1

    def add(self, request):
        self.requests.append(request)
        return request


class _Results:
    """
    The responses of a batch, paired with its requests.
    """

    def __init__(self, requests, responses, handles):
        self.handles = handles
        self.notifications = [r for r in responses if isinstance(r, NotifyResponse)]
        self.undecoded = None
        self._byRequest = {}
        waiting = [r for r in requests if not r.NO_RESPONSE]
        position = 0
        for response in responses:
            if isinstance(response, UnknownRop):
                self.undecoded = response
                break
            if response.NO_HEADER:
                continue
            for i in range(position, len(waiting)):
                if waiting[i].ROP_ID == response.ROP_ID:
                    self._byRequest[id(waiting[i])] = response
                    position = i + 1
                    break

    def of(self, request, what=None):
        """
        The successful response to C{request}.

        @raise MapiError: the ROP failed.
        @raise ClientError: the server did not answer it.
        """
        response = self._byRequest.get(id(request))
        what = what or request.NAME
        if response is None:
            if self.undecoded is not None:
                raise ClientError("%s: the server's answer does not decode (%s)" % (what, self.undecoded.error))
            raise ClientError("%s: the server did not answer" % (what,))
        if response.returnValue != 0:
            raise _refused(response.returnValue, what)
        return response

    def handle(self, index):
        """
        The server handle the response put at C{index}.
        """
        if 0 <= index < len(self.handles):
            return self.handles[index]
        raise ClientError("the server's handle table has no slot %d" % (index,))


class StoreSession:
    """
    A logged-on EMSMDB session ([MS-OXCRPC] 3.1.4, [MS-OXCSTOR] 2.2.1.1).

    @ivar legacy: whether it runs on EcDoConnect/EcDoRpc (the fallback)
        rather than EcDoConnectEx/EcDoRpcExt2.
    @ivar displayName: the mailbox owner's name the server announced.
    @ivar serverVersion: the server's version triple.
    @ivar folderIds: the special folders' ids, by name
        (L{SPECIAL_FOLDERS}).
    """

    def __init__(self, reactor, options, profile, proto, handle, legacy, connectResponse):
        self.reactor = reactor
        self.options = options
        self.profile = profile
        self.proto = proto
        self.handle = handle
        self.legacy = legacy
        self.displayName = connectResponse.szDisplayName or ""
        self.serverVersion = tuple(connectResponse.rgwServerVersion)
        self.pollsMax = connectResponse.pcmsPollsMax
        self.ctx = RopContext()
        self.logonHandle = None
        self.folderIds = {}
        self._release = []
        self._asyncProto = None
        self._subscription = None

    @property
    def _flags(self):
        flags = 0
        if not self.options.compression:
            flags |= NO_COMPRESSION
        if not self.options.obfuscation:
            flags |= NO_XOR_MAGIC
        return flags

    @inlineCallbacks
    def execute(self, batch):
        """
        Send a batch (plus the releases owed) in one EcDoRpcExt2 or EcDoRpc.

        @return: a L{Deferred} firing with a L{_Results}.
        """
        requests = list(batch.requests)
        handles = list(batch.handles)
        for serverHandle in self._release:
            handles.append(serverHandle)
            requests.append(ReleaseRequest(logonId=0, inputHandleIndex=len(handles) - 1))
        self._release = []
        rops = encodeRequests(requests, self.ctx, handles)
        ropBuffer = extbuf.RopBuffer(rops=rops, handles=handles)
        _log.debug("ROPs out: {names}", names=", ".join(r.NAME for r in requests) or "(idle)")
        try:
            if self.legacy:
                buffers = yield self._ecDoRpc(ropBuffer)
            else:
                buffers = yield self._ecDoRpcExt2(ropBuffer)
        except (MapiBufferError, ValueError) as e:
            raise ClientError("the server's ROP buffer does not decode: %s" % (e,)) from None
        responses = []
        responseHandles = []
        for answer in buffers:
            responses.extend(decodeResponses(answer.rops, answer.handles, requests, self.ctx, requestHandles=handles))
            responseHandles = answer.handles
        _log.debug("ROPs back: {names}", names=", ".join(r.NAME for r in responses) or "(idle)")
        return _Results(requests, responses, responseHandles)

    @inlineCallbacks
    def _ecDoRpcExt2(self, ropBuffer):
        rgbIn = extbuf.encodeChain(
            [extbuf.ExtendedBuffer.make(ropBuffer.encode(), compressed=self.options.compression, obfuscated=self.options.obfuscation)]
        )
        request = E.EcDoRpcExt2Request(handle=self.handle, pulFlags=self._flags, rgbIn=rgbIn, pcbOut=E.BIG_RANGE, rgbAuxIn=b"", pcbAuxOut=E.SMALL_RANGE)
        response = yield _call(self.proto, 11, request, E.EcDoRpcExt2Response, "exchange_emsmdb")
        if response.result != 0:
            raise _refused(response.result, "EcDoRpcExt2")
        self.handle = response.handle
        return [extbuf.RopBuffer.decode(b.payload) for b in extbuf.decodeChain(response.rgbOut)]

    @inlineCallbacks
    def _ecDoRpc(self, ropBuffer):
        blob = extbuf.encodeEcDoRpcBlob(ropBuffer)
        request = E.EcDoRpcRequest(handle=self.handle, size=ECDORPC_MAX_DATA, offset=0, mapi_request=blob, length=ropBuffer.ropSize, max_data=ECDORPC_MAX_DATA)
        response = yield _call(self.proto, 2, request, E.EcDoRpcResponse, "exchange_emsmdb")
        if response.result != 0:
            raise _refused(response.result, "EcDoRpc")
        self.handle = response.handle
        return [extbuf.decodeEcDoRpcBlob(response.mapi_response)]

    # -- logon and tables --------------------------------------------------

    @inlineCallbacks
    def logon(self):
        """
        RopLogon to the private mailbox ([MS-OXCSTOR] 2.2.1.1).
        """
        batch = _Batch()
        out = batch.new()
        request = batch.add(
            LogonRequest(logonId=0, inputHandleIndex=out, logonFlags=LOGON_PRIVATE, openFlags=LOGON_OPEN_FLAGS, storeState=0, essdn=self.profile.userDN)
        )
        results = yield self.execute(batch)
        response = results.of(request, "RopLogon")
        self.logonHandle = results.handle(out)
        self.folderIds = dict(zip(SPECIAL_FOLDERS, response.folderIds))

    def _open(self, batch, folderId):
        logon = batch.existing(self.logonHandle)
        folder = batch.new()
        request = batch.add(OpenFolderRequest(logonId=0, inputHandleIndex=logon, outputHandleIndex=folder, folderId=folderId, openModeFlags=0))
        return folder, request

    @inlineCallbacks
    def _moreRows(self, tableHandle, columns, response):
        rows = [rowValues(columns, row) for row in response.rows]
        while response.rows and response.origin != BOOKMARK_END:
            batch = _Batch()
            table = batch.existing(tableHandle)
            query = batch.add(QueryRowsRequest(logonId=0, inputHandleIndex=table, queryRowsFlags=0, forwardRead=1, rowCount=QUERY_ROWS))
            results = yield self.execute(batch)
            response = results.of(query, "RopQueryRows")
            rows.extend(rowValues(columns, row) for row in response.rows)
        return rows

    @inlineCallbacks
    def tableRows(self, folderId, contents, columns):
        """
        The rows of a folder's hierarchy or contents table: RopOpenFolder,
        RopGetHierarchyTable or RopGetContentsTable, RopSetColumns and
        RopQueryRows in one buffer, then more RopQueryRows until the end.

        @return: a list of dicts (L{rowValues}).
        """
        batch = _Batch()
        folder, openFolder = self._open(batch, folderId)
        table = batch.new()
        tableClass = GetContentsTableRequest if contents else GetHierarchyTableRequest
        getTable = batch.add(tableClass(logonId=0, inputHandleIndex=folder, outputHandleIndex=table, tableFlags=0))
        setColumns = batch.add(SetColumnsRequest(logonId=0, inputHandleIndex=table, setColumnsFlags=0, propertyTags=list(columns)))
        query = batch.add(QueryRowsRequest(logonId=0, inputHandleIndex=table, queryRowsFlags=0, forwardRead=1, rowCount=QUERY_ROWS))
        results = yield self.execute(batch)
        results.of(openFolder, "RopOpenFolder %s" % (formatId(folderId),))
        self._release.append(results.handle(folder))
        results.of(getTable)
        tableHandle = results.handle(table)
        self._release.insert(0, tableHandle)
        results.of(setColumns)
        rows = yield self._moreRows(tableHandle, columns, results.of(query))
        return rows

    @inlineCallbacks
    def listFolders(self):
        """
        The folder tree under "Top of Information Store", depth first.

        @return: a L{Deferred} firing with a list of L{Folder}.
        """
        folders = []
        yield self._walk(self.folderIds[SPECIAL_FOLDERS[_IPM_SUBTREE]], "", 0, folders)
        return folders

    @inlineCallbacks
    def _walk(self, folderId, prefix, depth, folders):
        rows = yield self.tableRows(folderId, False, FOLDER_COLUMNS)
        for values in rows:
            name = _str(values, PR_DISPLAY_NAME)
            folder = Folder(
                folderId=_int(values, PidTagFolderId),
                name=name,
                path=prefix + name,
                depth=depth,
                total=_int(values, PidTagContentCount),
                unread=_int(values, PidTagContentUnreadCount),
                hasSubfolders=bool(values.get(PidTagSubfolders)),
                containerClass=_str(values, PidTagContainerClass) or None,
            )
            folders.append(folder)
            if folder.hasSubfolders and depth < 32:
                yield self._walk(folder.folderId, folder.path + "/", depth + 1, folders)

    @inlineCallbacks
    def findFolder(self, path):
        """
        The folder at a path of display names under "Top of Information
        Store" (case-insensitive, C{/}-separated).

        @return: a L{Deferred} firing with a L{Folder}.
        @raise ClientError: no such folder.
        """
        parts = [p for p in path.strip().split("/") if p]
        if not parts:
            raise ClientError("empty folder name")
        folderId = self.folderIds[SPECIAL_FOLDERS[_IPM_SUBTREE]]
        found = None
        walked = []
        for depth, part in enumerate(parts):
            rows = yield self.tableRows(folderId, False, FOLDER_COLUMNS)
            names = [_str(values, PR_DISPLAY_NAME) for values in rows]
            for values, name in zip(rows, names):
                if name.lower() == part.lower():
                    found = Folder(
                        folderId=_int(values, PidTagFolderId),
                        name=name,
                        path="/".join(walked + [name]),
                        depth=depth,
                        total=_int(values, PidTagContentCount),
                        unread=_int(values, PidTagContentUnreadCount),
                        hasSubfolders=bool(values.get(PidTagSubfolders)),
                    )
                    break
            else:
                where = "/".join(walked) or "Top of Information Store"
                raise ClientError("no folder %r in %s (there: %s)" % (part, where, ", ".join(names) or "nothing"))
            walked.append(found.name)
            folderId = found.folderId
        return found

    @inlineCallbacks
    def listMessages(self, folder):
        """
        The messages of a folder, in the order of its contents table.

        @param folder: a L{Folder}.
        @return: a L{Deferred} firing with a list of L{MessageSummary}.
        """
        rows = yield self.tableRows(folder.folderId, True, CONTENTS_COLUMNS)
        return [
            MessageSummary(
                index=i + 1,
                folderId=folder.folderId,
                messageId=_int(values, PidTagMid),
                subject=_str(values, PidTagSubject),
                sender=_str(values, PidTagSenderName),
                received=_time(values, PidTagMessageDeliveryTime),
                size=_int(values, PidTagMessageSize),
                read=bool(_int(values, PidTagMessageFlags) & MSGFLAG_READ),
                hasAttachments=bool(values.get(PidTagHasAttachments) is True),
            )
            for i, values in enumerate(rows)
        ]

    @inlineCallbacks
    def resolveMessage(self, spec):
        """
        The folder and message a MESSAGE argument names (see
        L{parseMessageSpec}).

        @return: a L{Deferred} firing with C{(Folder, mid)}.
        @raise ClientError: no such folder or message.
        """
        path, index, mid = parseMessageSpec(spec)
        folder = yield self.findFolder(path or "Inbox") if path or index is not None else None
        if folder is None:
            folder = yield self._folderOfMessage(mid)
        if index is not None:
            messages = yield self.listMessages(folder)
            if index > len(messages):
                raise ClientError("%s has %d message(s), not %d" % (folder.path, len(messages), index))
            mid = messages[index - 1].messageId
        return folder, mid

    @inlineCallbacks
    def _folderOfMessage(self, mid):
        # A bare MID: look for it in the Inbox first, then everywhere.
        folders = yield self.listFolders()
        inbox = self.folderIds.get("Inbox")
        folders.sort(key=lambda f: f.folderId != inbox)
        for folder in folders:
            if not folder.total:
                continue
            rows = yield self.tableRows(folder.folderId, True, [PidTagMid])
            if any(_int(values, PidTagMid) == mid for values in rows):
                return folder
        raise ClientError("no message %s in this mailbox" % (formatId(mid),))

    def _openMessage(self, batch, folderId, messageId, writable=False):
        folder, openFolder = self._open(batch, folderId)
        message = batch.new()
        openMessage = batch.add(
            OpenMessageRequest(
                logonId=0,
                inputHandleIndex=folder,
                outputHandleIndex=message,
                codePageId=0x0FFF,
                folderId=folderId,
                openModeFlags=3 if writable else 0,
                messageId=messageId,
            )
        )
        return folder, openFolder, message, openMessage

    def _attachmentTable(self, batch, message):
        table = batch.new()
        getTable = batch.add(GetAttachmentTableRequest(logonId=0, inputHandleIndex=message, outputHandleIndex=table, tableFlags=0))
        setColumns = batch.add(SetColumnsRequest(logonId=0, inputHandleIndex=table, setColumnsFlags=0, propertyTags=list(ATTACHMENT_COLUMNS)))
        query = batch.add(QueryRowsRequest(logonId=0, inputHandleIndex=table, queryRowsFlags=0, forwardRead=1, rowCount=QUERY_ROWS))
        return table, (getTable, setColumns, query)

    @inlineCallbacks
    def _attachments(self, results, table, requests, hasAttachments=True):
        getTable, setColumns, query = requests
        try:
            results.of(getTable)
        except MapiError:
            if hasAttachments:
                raise
            return []
        tableHandle = results.handle(table)
        self._release.insert(0, tableHandle)
        results.of(setColumns)
        rows = yield self._moreRows(tableHandle, ATTACHMENT_COLUMNS, results.of(query))
        attachments = []
        for i, values in enumerate(rows):
            name = _str(values, PidTagAttachLongFilename) or _str(values, PidTagAttachFilename) or _str(values, PR_DISPLAY_NAME)
            attachments.append(
                Attachment(
                    index=i + 1,
                    number=_int(values, PidTagAttachNumber),
                    name=name or "attachment-%d" % (i + 1,),
                    size=_int(values, PidTagAttachSize),
                    method=_int(values, PidTagAttachMethod) or 1,
                    mimeType=_str(values, PidTagAttachMimeTag) or None,
                )
            )
        return attachments

    @inlineCallbacks
    def showMessage(self, folderId, messageId, markRead=False):
        """
        Open a message and read its properties, recipients, body and
        attachment table, in one buffer ([MS-OXCMSG] 2.2.3).

        @param markRead: also set its read flag (RopSetMessageReadFlag), as
            Outlook does when it shows a message.
        @return: a L{Deferred} firing with a L{Message}.
        """
        batch = _Batch()
        folder, openFolder, message, openMessage = self._openMessage(batch, folderId, messageId, writable=markRead)
        getProps = batch.add(
            GetPropertiesSpecificRequest(logonId=0, inputHandleIndex=message, propertySizeLimit=0, wantUnicode=1, propertyTags=list(MESSAGE_PROPERTIES))
        )
        table, tableRequests = self._attachmentTable(batch, message)
        markRequest = None
        if markRead:
            markRequest = batch.add(SetMessageReadFlagRequest(logonId=0, inputHandleIndex=folder, messageHandleIndex=message, readFlags=0))
        results = yield self.execute(batch)
        results.of(openFolder, "RopOpenFolder %s" % (formatId(folderId),))
        self._release.append(results.handle(folder))
        opened = results.of(openMessage, "RopOpenMessage %s" % (formatId(messageId),))
        messageHandle = results.handle(message)
        self._release.insert(0, messageHandle)
        values = rowValues(MESSAGE_PROPERTIES, results.of(getProps).rowData)
        result = Message(
            folderId=folderId,
            messageId=messageId,
            subject=_str(values, PidTagSubject) or _typedString(opened.subjectPrefix) + _typedString(opened.normalizedSubject),
            sender=_str(values, PidTagSenderName),
            senderAddress=_str(values, PidTagSenderSmtpAddress) or _str(values, PidTagSenderEmailAddress),
            to=_str(values, PidTagDisplayTo),
            cc=_str(values, PidTagDisplayCc),
            received=_time(values, PidTagMessageDeliveryTime),
            sent=_time(values, PidTagClientSubmitTime),
            messageClass=_str(values, PidTagMessageClass),
            size=_int(values, PidTagMessageSize),
            read=bool(_int(values, PidTagMessageFlags) & MSGFLAG_READ),
            internetMessageId=_str(values, PidTagInternetMessageId),
            recipients=[_recipient(row) for row in opened.recipientRows],
        )
        result.attachments = yield self._attachments(results, table, tableRequests, hasAttachments=False)
        body = values.get(PidTagBody)
        if isinstance(body, str):
            result.body = body
        elif isinstance(body, _PropError) and body.code == 0x8007000E:
            data = yield self._readStream(messageHandle, PidTagBody)
            result.body = data.decode("utf-16-le", "replace").rstrip("\x00")
        if markRequest is not None:
            results.of(markRequest, "RopSetMessageReadFlag")
            result.read = True
        return result

    @inlineCallbacks
    def _openStream(self, objectHandle, tag):
        batch = _Batch()
        source = batch.existing(objectHandle)
        stream = batch.new()
        openStream = batch.add(OpenStreamRequest(logonId=0, inputHandleIndex=source, outputHandleIndex=stream, propertyTag=tag, openModeFlags=0))
        results = yield self.execute(batch)
        size = results.of(openStream, "RopOpenStream").streamSize
        streamHandle = results.handle(stream)
        return streamHandle, size

    @inlineCallbacks
    def _readStream(self, objectHandle, tag, sink=None, progress=None):
        """
        RopOpenStream then RopReadStream until the stream's size is read
        ([MS-OXCPRPT] 3.2.5.8).

        @param sink: called with each chunk; without it the data is
            returned.
        """
        streamHandle, size = yield self._openStream(objectHandle, tag)
        chunks = []
        done = 0
        try:
            while done < size:
                batch = _Batch()
                stream = batch.existing(streamHandle)
                read = batch.add(ReadStreamRequest(logonId=0, inputHandleIndex=stream, byteCount=min(READ_CHUNK, size - done)))
                results = yield self.execute(batch)
                data = results.of(read, "RopReadStream").data
                if not data:
                    raise ClientError("the stream ended after %d of %d bytes" % (done, size))
                done += len(data)
                if sink is None:
                    chunks.append(data)
                else:
                    sink(data)
                if progress is not None:
                    progress(done, size)
        finally:
            self._release.insert(0, streamHandle)
        return b"".join(chunks)

    @inlineCallbacks
    def fetchAttachment(self, folderId, messageId, index, path, progress=None):
        """
        Download the C{index}-th attachment (1-based, attachment table
        order) of a message to C{path}: RopOpenAttachment, RopOpenStream on
        PidTagAttachDataBinary, then RopReadStream.

        @param progress: called with C{(bytes done, total)} after each
            chunk.
        @return: a L{Deferred} firing with a L{Download}.
        @raise ClientError: no such attachment, or an embedded message.
        """
        batch = _Batch()
        folder, openFolder, message, openMessage = self._openMessage(batch, folderId, messageId)
        table, tableRequests = self._attachmentTable(batch, message)
        results = yield self.execute(batch)
        results.of(openFolder, "RopOpenFolder %s" % (formatId(folderId),))
        self._release.append(results.handle(folder))
        results.of(openMessage, "RopOpenMessage %s" % (formatId(messageId),))
        messageHandle = results.handle(message)
        self._release.insert(0, messageHandle)
        attachments = yield self._attachments(results, table, tableRequests)
        if not 1 <= index <= len(attachments):
            raise ClientError("message %s has %d attachment(s), not %d" % (formatId(messageId), len(attachments), index))
        attachment = attachments[index - 1]
        if attachment.method == ATTACH_EMBEDDED_MSG:
            raise ClientError("attachment %d is an embedded message, not a file" % (index,))
        batch = _Batch()
        source = batch.existing(messageHandle)
        opened = batch.new()
        openAttachment = batch.add(OpenAttachmentRequest(logonId=0, inputHandleIndex=source, outputHandleIndex=opened, openAttachmentFlags=0, attachmentId=attachment.number))
        results = yield self.execute(batch)
        results.of(openAttachment, "RopOpenAttachment %d" % (attachment.number,))
        attachmentHandle = results.handle(opened)
        self._release.insert(0, attachmentHandle)
        digest = hashlib.sha256()
        written = [0]
        with open(path, "wb") as f:

            def sink(data):
                f.write(data)
                digest.update(data)
                written[0] += len(data)

            yield self._readStream(attachmentHandle, PidTagAttachDataBinary, sink, progress)
        return Download(attachment=attachment, path=path, size=written[0], sha256=digest.hexdigest())

    # -- notifications -------------------------------------------------------

    @inlineCallbacks
    def waitNewMail(self, timeout, pollInterval=2.0):
        """
        Register for new-mail notifications on the whole store
        (RopRegisterNotification), then wait: EcDoAsyncWaitEx over
        AsyncEMSMDB, bound in the EMSMDB association's group
        ([MS-OXCRPC] 3.3.4.1), followed by an EcDoRpcExt2 that collects the
        RopNotify; on the EcDoRpc path (no AsyncEMSMDB), by polling.

        @param timeout: seconds to wait.
        @return: a L{Deferred} firing with a L{NewMail}.
        @raise ClientError: no new mail within C{timeout}.
        """
        batch = _Batch()
        logon = batch.existing(self.logonHandle)
        out = batch.new()
        register = batch.add(RegisterNotificationRequest(logonId=0, inputHandleIndex=logon, outputHandleIndex=out, notificationTypes=NOTIFY_NEW_MAIL, wantWholeStore=1))
        results = yield self.execute(batch)
        results.of(register, "RopRegisterNotification")
        self._subscription = results.handle(out)
        waiting = Deferred()
        timer = self.reactor.callLater(timeout, self._timedOut, waiting, timeout)
        self._waiting = waiting
        self._useAsync = not self.legacy
        self._loop(waiting)
        try:
            notification = yield waiting
        finally:
            if timer.active():
                timer.cancel()
            if self._asyncProto is not None:
                self._asyncProto.disconnect()
                self._asyncProto = None
        data = notification.notificationData
        mail = NewMail(
            folderId=data.folderId or 0,
            messageId=data.messageId or 0,
            messageClass=data.messageClass or "",
            messageFlags=data.messageFlags or 0,
        )
        for name, fid in self.folderIds.items():
            if fid == mail.folderId:
                mail.folder = name
        try:
            message = yield self.showMessage(mail.folderId, mail.messageId)
        except (MapiError, ClientError) as e:
            _log.debug("cannot open the new message: {error}", error=str(e))
        else:
            mail.subject = message.subject
            mail.sender = message.sender
        return mail

    def _timedOut(self, waiting, timeout):
        if not waiting.called:
            waiting.errback(ClientError("no new mail within %gs" % (timeout,)))

    @inlineCallbacks
    def _loop(self, waiting):
        try:
            while not waiting.called:
                if self._useAsync:
                    pending = yield self._asyncWait()
                else:
                    yield _sleep(self.reactor, 2.0)
                    pending = True
                if waiting.called:
                    return
                if pending:
                    results = yield self.execute(_Batch())
                    for notification in results.notifications:
                        if notification.notificationData.notificationType & NOTIFY_NEW_MAIL and not waiting.called:
                            waiting.callback(notification)
                            return
        except Exception as e:
            if not waiting.called:
                waiting.errback(e)

    @inlineCallbacks
    def _asyncWait(self):
        """
        One EcDoAsyncWaitEx; connects AsyncEMSMDB first. Falls back to
        polling when the server has no AsyncEMSMDB.

        @return: whether a notification is pending.
        """
        if self._asyncProto is None:
            try:
                answer = yield _call(self.proto, 14, E.EcDoAsyncConnectExRequest(handle=self.handle), E.EcDoAsyncConnectExResponse, "exchange_emsmdb")
                if answer.result != 0:
                    raise _refused(answer.result, "EcDoAsyncConnectEx")
                port = self.proto.serverPort if self.options.storeBinding is not None and self.options.storeBinding.port else None
                self._asyncProto = yield _connect(
                    self.reactor, self.options, self.proto.serverHost, "exchange_async_emsmdb", port, assocGroupId=self.proto.assocGroupId
                )
                self._asyncHandle = answer.async_handle
            except (DCERPCFault, MapiError, UpstreamError) as e:
                self.options.note("no AsyncEMSMDB (%s): polling for new mail" % (e,))
                self._useAsync = False
                return False
        answer = yield _call(self._asyncProto, 0, A.EcDoAsyncWaitExRequest(async_handle=self._asyncHandle, ulFlagsIn=0), A.EcDoAsyncWaitExResponse, "exchange_async_emsmdb")
        if answer.result != 0:
            raise _refused(answer.result, "EcDoAsyncWaitEx")
        return bool(answer.pulFlagsOut & A.NOTIFICATION_PENDING)

    @inlineCallbacks
    def close(self):
        """
        Release what is left and EcDoDisconnect.
        """
        try:
            if self._release and not self.proto.association.failed:
                yield self.execute(_Batch())
            yield _call(self.proto, 1, E.EcDoDisconnectRequest(handle=self.handle), E.EcDoDisconnectResponse, "exchange_emsmdb")
        except Exception as e:
            _log.debug("closing the session: {error}", error=str(e))
        finally:
            if self._asyncProto is not None:
                self._asyncProto.disconnect()
            self.proto.disconnect()


def _sleep(reactor, seconds):
    d = Deferred()
    reactor.callLater(seconds, d.callback, None)
    return d


def _typedString(value):
    return (value.value or "") if value is not None and hasattr(value, "value") else ""


_RECIPIENT_KINDS = {0: "From", 1: "To", 2: "Cc", 3: "Bcc"}


def _recipient(row):
    kind = _RECIPIENT_KINDS.get(row.recipientType & 0x0F, "To")
    recipient = row.recipientRow
    if isinstance(recipient, (bytes, bytearray)):
        return Recipient(kind, "?")
    name = recipient.displayName or recipient.transmittableDisplayName or recipient.simpleDisplayName or ""
    address = recipient.emailAddress or recipient.x500dn or ""
    return Recipient(kind, name or address, address)


def _connectRequest(profile, cls):
    common = dict(
        szUserDN=profile.userDN,
        ulFlags=0,
        ulConMod=0,
        cbLimit=0,
        ulCpid=1252,
        ulLcidString=1033,
        ulLcidSort=1033,
        ulIcxrLink=0xFFFFFFFF,
        usFCanConvertCodePages=1,
        rgwClientVersion=CLIENT_VERSION,
    )
    if cls is E.EcDoConnectExRequest:
        return cls(pulTimeStamp=0, rgbAuxIn=b"", pcbAuxOut=E.SMALL_RANGE, **common)
    return cls(pullTimeStamp=0, **common)


@inlineCallbacks
def openStore(reactor, options, profile):
    """
    Connect to the message store the profile names and log on to the
    mailbox: EcDoConnectEx, or EcDoConnect when the server refuses it with
    nca_op_rng_error (the note L{FALLBACK_NOTE} says so), then RopLogon.

    @return: a L{Deferred} firing with a logged-on L{StoreSession}.
    @raise UpstreamError: the server is unreachable or refused us.
    @raise MapiError: the server refused the connection or the logon.
    """
    proto = yield _connect(reactor, options, profile.storeAddress, "exchange_emsmdb", profile.storePort)
    try:
        legacy = False
        try:
            response = yield _call(proto, 10, _connectRequest(profile, E.EcDoConnectExRequest), E.EcDoConnectExResponse, "exchange_emsmdb")
        except DCERPCFault as e:
            if e.status != Status.NCA_S_OP_RNG_ERROR:
                raise UpstreamError("EcDoConnectEx: fault %s" % (e,)) from None
            options.note(FALLBACK_NOTE)
            legacy = True
            response = yield _call(proto, 0, _connectRequest(profile, E.EcDoConnectRequest), E.EcDoConnectResponse, "exchange_emsmdb")
        if response.result != 0:
            raise _refused(response.result, "EcDoConnect" if legacy else "EcDoConnectEx")
        session = StoreSession(reactor, options, profile, proto, response.handle, legacy, response)
        yield session.logon()
    except BaseException:
        proto.disconnect()
        raise
    return session
