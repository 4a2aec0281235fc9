# -*- test-case-name: tests.server.test_nspi -*-
"""
The organisation's address book, as the lab Exchange's NSPI server sees it
([MS-OXNSPI] 3.1.1, [MS-OXOABK]): the address book objects (users, the
mailbox server, its private mailbox database), their Minimal Entry IDs
(MIds), legacy DNs and property values, the address book containers (the
Global Address List and an "All Users" list), ambiguous name resolution
and restriction evaluation.

MIds ([MS-OXNSPI] 2.2.9.1) are assigned in a fixed order when the directory
is built: users by account from L{USER_MID_BASE}, then the server
(L{SERVER_MID}) and the database (L{MDB_MID}); they are the same for the
same store every time. Values up to 0x10 are reserved by the protocol
(C{MID_BEGINNING_OF_TABLE}, C{MID_CURRENT}, C{MID_END_OF_TABLE}).

Property values are kept natively as Unicode strings and converted to the
type the client asks for ([MS-OXNSPI] 3.1.4.3): a PtypString8 tag gets the
string in the code page of the request's STAT, a PtypString tag gets it as
it is, a PtypUnspecified tag gets the native type.

Sans-I/O; no Twisted.
"""

import codecs
import struct
import unicodedata
import uuid
from dataclasses import dataclass, field
from typing import Optional

from mapiproxy.errors import MapiError
from mapiproxy.interfaces.nspi_types import PropertyRow_r, PropertyValue_r, PropType, RestrictionType

__all__ = [
    "ErrorCode",
    "Entry",
    "Container",
    "Directory",
    "codecForCodePage",
    "propTag",
]


class ErrorCode:
    """
    The return values NSPI permits ([MS-OXNSPI] 2.2.1.2; the values are
    those of [MS-OXCDATA] 2.4).
    """

    Success = 0x00000000
    UnbindSuccess = 0x00000001
    UnbindFailure = 0x00000002
    ErrorsReturned = 0x00040380
    GeneralFailure = 0x80004005
    NotSupported = 0x80040102
    InvalidObject = 0x80040108
    OutOfResources = 0x8004010E
    NotFound = 0x8004010F
    LogonFailed = 0x80040111
    TooComplex = 0x80040117
    InvalidCodepage = 0x8004011E
    InvalidLocale = 0x8004011F
    TableTooBig = 0x80040403
    InvalidBookmark = 0x80040405
    AccessDenied = 0x80070005
    NotEnoughMemory = 0x8007000E
    InvalidParameter = 0x80070057


def propTag(propId, propType):
    """
    A property tag ([MS-OXCDATA] 2.9): the id in the upper 16 bits, the
    type in the lower.

    @rtype: L{int}
    """
    return ((propId & 0xFFFF) << 16) | (propType & 0xFFFF)


# Property tags, with their native types ([MS-OXPROPS]; [MS-OXOABK] 2.2).
PR_OBJECT_TYPE = 0x0FFE0003
PR_ENTRYID = 0x0FFF0102
PR_RECORD_KEY = 0x0FF90102
PR_INSTANCE_KEY = 0x0FF60102
PR_MAPPING_SIGNATURE = 0x0FF80102
PR_DISPLAY_NAME = 0x3001001F
PR_ADDRTYPE = 0x3002001F
PR_EMAIL_ADDRESS = 0x3003001F
PR_COMMENT = 0x3004001F
PR_DEPTH = 0x30050003
PR_SEARCH_KEY = 0x300B0102
PR_CONTAINER_FLAGS = 0x36000003
PR_ANR = 0x360C001F
PR_DISPLAY_TYPE = 0x39000003
PR_TEMPLATEID = 0x39020102
PR_SMTP_ADDRESS = 0x39FE001F
PR_EMS_AB_DISPLAY_NAME_PRINTABLE = 0x39FF001F
PR_ACCOUNT = 0x3A00001F
PR_GIVEN_NAME = 0x3A06001F
PR_BUSINESS_TELEPHONE_NUMBER = 0x3A08001F
PR_HOME_TELEPHONE_NUMBER = 0x3A09001F
PR_INITIALS = 0x3A0A001F
PR_SURNAME = 0x3A11001F
PR_ORIGINAL_ENTRYID = 0x3A120102
PR_COMPANY_NAME = 0x3A16001F
PR_TITLE = 0x3A17001F
PR_DEPARTMENT_NAME = 0x3A18001F
PR_OFFICE_LOCATION = 0x3A19001F
PR_PRIMARY_TELEPHONE_NUMBER = 0x3A1A001F
PR_MOBILE_TELEPHONE_NUMBER = 0x3A1C001F
PR_TRANSMITABLE_DISPLAY_NAME = 0x3A20001F
PR_COUNTRY = 0x3A26001F
PR_LOCALITY = 0x3A27001F
PR_STREET_ADDRESS = 0x3A29001F
PR_POSTAL_CODE = 0x3A2A001F
PR_SEND_RICH_INFO = 0x3A40000B
PR_EMS_AB_HOME_MDB = 0x8006001F
PR_EMS_AB_PROXY_ADDRESSES = 0x800F101F
PR_EMS_AB_NETWORK_ADDRESS = 0x8170101F
PR_EMS_AB_OBJECT_GUID = 0x8C6D0102
PR_EMS_AB_IS_MASTER = 0xFFFB000B
PR_EMS_AB_CONTAINERID = 0xFFFD0003

#: The columns of NspiQueryRows, NspiSeekEntries and NspiResolveNames when
#: the client sends none ([MS-OXNSPI] 3.1.4.1.8 rule 6.2).
DEFAULT_COLUMNS = (
    PR_EMS_AB_CONTAINERID,
    PR_OBJECT_TYPE,
    PR_DISPLAY_TYPE,
    propTag(0x3001, PropType.String8),
    propTag(0x3A1A, PropType.String8),
    propTag(0x3A18, PropType.String8),
    propTag(0x3A19, PropType.String8),
)

# Minimal Entry IDs ([MS-OXNSPI] 2.2.9.1, 2.2.1.8).
MID_BEGINNING_OF_TABLE = 0x00000000
MID_CURRENT = 0x00000001
MID_END_OF_TABLE = 0x00000002
MID_UNRESOLVED = 0x00000000
MID_AMBIGUOUS = 0x00000001
MID_RESOLVED = 0x00000002
#: MIds at or below this value are positions, not objects.
MID_RESERVED_MAX = 0x10
SERVER_MID = 0x00000100
MDB_MID = 0x00000101
ALL_USERS_MID = 0x00000200
USER_MID_BASE = 0x00010000

# Display types ([MS-OXNSPI] 2.2.1.3) and object types ([MS-OXCDATA] 2.2.4).
DT_MAILUSER = 0x00000000
DT_AGENT = 0x00000003
DT_CONTAINER = 0x00000100
MAPI_ABCONT = 4
MAPI_MAILUSER = 6

# PR_CONTAINER_FLAGS ([MS-OXOABK] 2.2.2.1).
AB_RECIPIENTS = 0x00000001
AB_SUBCONTAINERS = 0x00000002
AB_UNMODIFIABLE = 0x00000008

# Code pages ([MS-OXNSPI] 2.2.1.3).
CP_WINUNICODE = 1200
CP_TELETEX = 20261

#: The provider UID of every PermanentEntryID ([MS-OXNSPI] 2.2.9.3,
#: GUID_NSPI C840A7DC-42C0-1A10-B4B9-08002B2FE182, as its 16 bytes).
GUID_NSPI = bytes.fromhex("DCA740C8C042101AB4B908002B2FE182")

# Content restriction fuzzy levels ([MS-OXCDATA] 2.12.2).
FL_FULLSTRING = 0x0
FL_SUBSTRING = 0x1
FL_PREFIX = 0x2

# Relational operators ([MS-OXCDATA] 2.12.5) and bitmask operators (2.12.6).
RELOP_LT, RELOP_LE, RELOP_GT, RELOP_GE, RELOP_EQ, RELOP_NE = range(6)
BMR_EQZ, BMR_NEZ = 0, 1

_STRING_TYPES = (PropType.String, PropType.String8)
_MULTI_STRING_TYPES = (PropType.MultipleString, PropType.MultipleString8)


def codecForCodePage(codePage):
    """
    The Python codec of an 8-bit code page.

    C{0} (CP_ACP) is taken as Windows-1252. CP_TELETEX (20261, which
    impacket sends) has no Python codec: it is served as Latin-1, the same
    for the ASCII the sample directory holds.

    @type codePage: L{int}
    @return: a codec name, or L{None} for CP_WINUNICODE (no 8-bit form).
    @rtype: L{str} or L{None}
    @raise MapiError: C{InvalidCodepage} for a code page Python lacks.
    """
    if codePage == CP_WINUNICODE:
        return None
    if codePage == 0:
        return "cp1252"
    if codePage == CP_TELETEX:
        return "latin-1"
    named = {20127: "ascii", 65001: "utf-8", 28591: "latin-1"}
    if codePage in named:
        return named[codePage]
    candidates = ["cp%d" % (codePage,)]
    if 28592 <= codePage <= 28606:
        candidates.append("iso8859_%d" % (codePage - 28590,))
    for name in candidates:
        try:
            return codecs.lookup(name).name
        except LookupError:
            pass
    raise MapiError(ErrorCode.InvalidCodepage, "unknown code page %d" % (codePage,))


def _to8(text, codec):
    """
    A Unicode string as an 8-bit string of the code page, in the codec's
    representation (a L{str} of Latin-1 characters standing for bytes).
    """
    if codec is None:
        raise MapiError(ErrorCode.NotSupported, "8-bit string asked for with CP_WINUNICODE")
    return text.encode(codec, "replace").decode("latin-1")


def _from8(value, codec):
    """
    The inverse of L{_to8} (the client's 8-bit strings).
    """
    return value.encode("latin-1", "replace").decode(codec or "cp1252", "replace")


def _printable(text):
    folded = unicodedata.normalize("NFKD", text)
    return "".join(c for c in folded if " " <= c < "\x7f")


@dataclass(eq=False)
class Entry:
    """
    One address book object.

    @ivar mid: its Minimal Entry ID.
    @ivar kind: C{"user"}, C{"server"} or C{"mdb"}.
    @ivar legacyDN: its DN ([MS-OXOABK] 2.2.3.1, C{PR_EMAIL_ADDRESS}).
    @ivar displayName: C{PR_DISPLAY_NAME}.
    @ivar displayType: C{PR_DISPLAY_TYPE}.
    @ivar objectType: C{PR_OBJECT_TYPE}.
    @ivar guid: C{PR_EMS_AB_OBJECT_GUID}, 16 bytes.
    @ivar user: the L{mapiproxy.server.store.User}, for a user.
    """

    mid: int
    kind: str
    legacyDN: str
    displayName: str
    displayType: int = DT_MAILUSER
    objectType: int = MAPI_MAILUSER
    guid: bytes = b"\x00" * 16
    user: Optional[object] = None


@dataclass(eq=False)
class Container:
    """
    An address book container ([MS-OXNSPI] 2.2.6): a row of the hierarchy
    table and a table of objects sorted by display name.

    @ivar mid: its ContainerID (0 for the Global Address List).
    @ivar displayName: C{PR_DISPLAY_NAME}.
    @ivar dn: the DN of its PermanentEntryID.
    @ivar members: the L{Entry}s, sorted by display name.
    """

    mid: int
    displayName: str
    dn: str
    members: list = field(default_factory=list)

    def index(self, mid):
        """
        The position of an object in the table, or L{None}.

        @rtype: L{int} or L{None}
        """
        for position, entry in enumerate(self.members):
            if entry.mid == mid:
                return position
        return None


def _sortKey(entry):
    return (entry.displayName.casefold(), entry.legacyDN.casefold())


class Directory:
    """
    The address book of one organisation.

    @ivar organization: the L{mapiproxy.server.store.Organization}.
    @ivar serverFQDN: the name announced in C{PR_EMS_AB_NETWORK_ADDRESS}.
    @ivar serverGuid: the server's 16-byte GUID (NspiBind's
        C{pServerGuid}, the provider UID of EphemeralEntryIDs).
    @ivar containers: the L{Container}s: the Global Address List first.
    @ivar version: the version of the hierarchy table (NspiGetSpecialTable).
    """

    version = 1

    def __init__(self, organization, users, serverFQDN):
        """
        @param organization: the L{mapiproxy.server.store.Organization}.
        @param users: the L{mapiproxy.server.store.User}s.
        @param serverFQDN: the server's DNS name.
        """
        self.organization = organization
        self.serverFQDN = serverFQDN
        self.serverGuid = self._guid("server:" + organization.serverDN)
        self._byMid = {}
        self._byDN = {}
        self._byAccount = {}
        for offset, user in enumerate(sorted(users, key=lambda u: u.account.lower())):
            entry = Entry(
                mid=USER_MID_BASE + offset,
                kind="user",
                legacyDN=user.legacyDN,
                displayName=user.displayName,
                guid=self._guid(user.legacyDN),
                user=user,
            )
            self._add(entry)
            self._byAccount[user.account.lower()] = entry
        self._add(
            Entry(SERVER_MID, "server", organization.serverDN, organization.serverName,
                  DT_AGENT, MAPI_MAILUSER, self._guid(organization.serverDN))
        )
        self._add(
            Entry(MDB_MID, "mdb", organization.mdbDN, "Microsoft Private MDB",
                  DT_AGENT, MAPI_MAILUSER, self._guid(organization.mdbDN))
        )
        listed = sorted((e for e in self._byAccount.values() if not e.user.hidden), key=_sortKey)
        self.containers = [
            Container(0, "Global Address List", "/", list(listed)),
            Container(
                ALL_USERS_MID,
                "All Users",
                "/guid=" + uuid.UUID(bytes=self._guid("container:All Users")).hex.upper(),
                list(listed),
            ),
        ]

    @classmethod
    def fromStore(cls, store, serverFQDN=None):
        """
        The directory of a L{mapiproxy.server.store.Store}.

        @param serverFQDN: the announced DNS name; by default the store's
            C{serverFQDN}, else its server name in lower case.
        @rtype: L{Directory}
        """
        organization = store.organization
        fqdn = serverFQDN or organization.serverFQDN or organization.serverName.lower()
        return cls(organization, store.users, fqdn)

    @staticmethod
    def _guid(name):
        return uuid.uuid5(uuid.NAMESPACE_URL, "mapiproxy-directory:" + name.lower()).bytes

    def _add(self, entry):
        self._byMid[entry.mid] = entry
        self._byDN[entry.legacyDN.lower()] = entry

    # -- lookups ----------------------------------------------------------

    @property
    def gal(self):
        """
        The Global Address List.

        @rtype: L{Container}
        """
        return self.containers[0]

    def container(self, containerId):
        """
        A container by ContainerID, or L{None}.

        @rtype: L{Container} or L{None}
        """
        for container in self.containers:
            if container.mid == containerId:
                return container
        return None

    def entry(self, mid):
        """
        An object by MId, or L{None}.

        @rtype: L{Entry} or L{None}
        """
        return self._byMid.get(mid)

    def lookupDN(self, dn):
        """
        An object by legacy DN (case-insensitive), or L{None}.

        @rtype: L{Entry} or L{None}
        """
        if not isinstance(dn, str):
            return None
        return self._byDN.get(dn.strip().rstrip("/").lower())

    def userEntry(self, account):
        """
        A user's object by account name, or L{None}.

        @rtype: L{Entry} or L{None}
        """
        return self._byAccount.get(account.lower()) if isinstance(account, str) else None

    # -- entry ids ----------------------------------------------------------

    def permanentEntryID(self, entry, displayType=None, dn=None):
        """
        A PermanentEntryID ([MS-OXNSPI] 2.2.9.3): type 0x00, three
        reserved bytes, GUID_NSPI, R4 = 1, the display type, the DN and its
        NUL.

        @rtype: L{bytes}
        """
        dn = entry.legacyDN if dn is None else dn
        displayType = entry.displayType if displayType is None else displayType
        return (
            b"\x00\x00\x00\x00"
            + GUID_NSPI
            + struct.pack("<II", 1, displayType)
            + dn.encode("latin-1", "replace")
            + b"\x00"
        )

    def ephemeralEntryID(self, entry):
        """
        An EphemeralEntryID ([MS-OXNSPI] 2.2.9.2): type 0x87, three
        reserved bytes, the server GUID, R4 = 1, the display type, the MId.

        @rtype: L{bytes}
        """
        return b"\x87\x00\x00\x00" + self.serverGuid + struct.pack("<III", 1, entry.displayType, entry.mid)

    # -- property values --------------------------------------------------

    def _native(self, entry, propId, ephemeral):
        """
        The native value of a property: C{(type, value)}, or L{None}.
        """
        entryId = self.ephemeralEntryID(entry) if ephemeral else self.permanentEntryID(entry)
        common = {
            0x3001: (PropType.String, entry.displayName),
            0x39FF: (PropType.String, _printable(entry.displayName)),
            0x3003: (PropType.String, entry.legacyDN),
            0x3002: (PropType.String, "EX"),
            0x0FFE: (PropType.Integer32, entry.objectType),
            0x3900: (PropType.Integer32, entry.displayType),
            0x0FFF: (PropType.Binary, entryId),
            0x0FF9: (PropType.Binary, entryId),
            0x3A12: (PropType.Binary, entryId),
            0x3902: (PropType.Binary, self.permanentEntryID(entry)),
            0x300B: (PropType.Binary, b"EX:" + entry.legacyDN.upper().encode("latin-1", "replace") + b"\x00"),
            0x0FF6: (PropType.Binary, struct.pack("<I", entry.mid)),
            0x0FF8: (PropType.Binary, GUID_NSPI),
            0x8C6D: (PropType.Binary, entry.guid),
            0xFFFD: (PropType.Integer32, 0),
        }
        if propId in common:
            return common[propId]
        if entry.kind == "server" and propId == 0x8170:
            return (
                PropType.MultipleString,
                ["ncacn_ip_tcp:" + self.serverFQDN, "ncacn_http:" + self.serverFQDN],
            )
        if entry.kind != "user":
            return None
        user = entry.user
        if propId == 0x3A00:
            return PropType.String, user.account
        if propId == 0x39FE:
            return PropType.String, user.smtpAddress
        if propId == 0x3A20:
            return PropType.String, user.displayName
        if propId == 0x800F:
            return PropType.MultipleString, ["SMTP:" + user.smtpAddress] + ["smtp:" + a for a in user.aliases]
        if propId == 0x8006:
            return PropType.String, self.organization.mdbDN
        if propId == 0x3A40:
            return PropType.Boolean, 1
        detail = _DETAILS.get(propId)
        if detail is not None:
            for name in detail:
                value = user.detail(name)
                if value:
                    return PropType.String, value
        return None

    def value(self, entry, tag, codec, ephemeral=False):
        """
        One property value of an object, of the type the tag asks for; a
        missing property (or one asked with a type it cannot have) is a
        PtypErrorCode value C{NotFound}.

        @param entry: the L{Entry}.
        @param tag: the property tag the client sent.
        @param codec: the codec of 8-bit strings (L{codecForCodePage}).
        @param ephemeral: EphemeralEntryIDs rather than PermanentEntryIDs
            (the C{fEphID} flag).
        @rtype: L{PropertyValue_r}
        @raise MapiError: C{NotSupported} for an 8-bit string asked with
            CP_WINUNICODE.
        """
        wanted = tag & 0xFFFF
        native = self._native(entry, tag >> 16, ephemeral)
        if native is None:
            return PropertyValue_r(propTag(tag >> 16, PropType.ErrorCode), ErrorCode.NotFound)
        nativeType, value = native
        if wanted == PropType.Unspecified:
            wanted = nativeType
        if nativeType == PropType.String and wanted in _STRING_TYPES:
            if wanted == PropType.String8:
                value = _to8(value, codec)
        elif nativeType == PropType.MultipleString and wanted in _MULTI_STRING_TYPES:
            if wanted == PropType.MultipleString8:
                value = [_to8(v, codec) for v in value]
        elif wanted != nativeType:
            return PropertyValue_r(propTag(tag >> 16, PropType.ErrorCode), ErrorCode.NotFound)
        return PropertyValue_r(propTag(tag >> 16, wanted), value)

    def row(self, entry, tags, codec, ephemeral=False):
        """
        A row of an object: one value per tag (L{value}).

        @rtype: L{PropertyRow_r}
        """
        return PropertyRow_r(lpProps=[self.value(entry, tag, codec, ephemeral) for tag in tags])

    def errorRow(self, tags, code=ErrorCode.NotFound):
        """
        A row of PtypErrorCode values, for an object that is not there.

        @rtype: L{PropertyRow_r}
        """
        return PropertyRow_r(lpProps=[PropertyValue_r(propTag(t >> 16, PropType.ErrorCode), code) for t in tags])

    def propertyTags(self, entry, unicode):
        """
        The tags of every property an object has ([MS-OXNSPI] 3.1.4.1.6),
        strings typed PtypString or PtypString8.

        @rtype: L{list} of L{int}
        """
        tags = []
        for propId, propType in _CANDIDATES:
            native = self._native(entry, propId, False)
            if native is None:
                continue
            nativeType = native[0]
            if not unicode and nativeType == PropType.String:
                nativeType = PropType.String8
            elif not unicode and nativeType == PropType.MultipleString:
                nativeType = PropType.MultipleString8
            tags.append(propTag(propId, nativeType))
        return tags

    def columns(self, unicode):
        """
        The columns NspiQueryColumns lists: every property the directory
        can hold.

        @rtype: L{list} of L{int}
        """
        tags = []
        for propId, propType in _CANDIDATES:
            if not unicode and propType == PropType.String:
                propType = PropType.String8
            elif not unicode and propType == PropType.MultipleString:
                propType = PropType.MultipleString8
            tags.append(propTag(propId, propType))
        return tags

    def hierarchyRows(self, unicode, codec):
        """
        The rows of the address book hierarchy table ([MS-OXNSPI]
        3.1.4.1.3, [MS-OXOABK] 2.2.2): one per container.

        @rtype: L{list} of L{PropertyRow_r}
        """
        rows = []
        for container in self.containers:
            name = container.displayName if unicode else _to8(container.displayName, codec)
            holder = Entry(container.mid, "container", container.dn, container.displayName, DT_CONTAINER, MAPI_ABCONT)
            rows.append(
                PropertyRow_r(
                    lpProps=[
                        PropertyValue_r(PR_ENTRYID, self.permanentEntryID(holder)),
                        PropertyValue_r(PR_CONTAINER_FLAGS, AB_RECIPIENTS | AB_UNMODIFIABLE),
                        PropertyValue_r(PR_DEPTH, 0),
                        PropertyValue_r(PR_EMS_AB_CONTAINERID, container.mid),
                        PropertyValue_r(PR_DISPLAY_NAME if unicode else propTag(0x3001, PropType.String8), name),
                        PropertyValue_r(PR_EMS_AB_IS_MASTER, 0),
                    ]
                )
            )
        return rows

    # -- searching --------------------------------------------------------

    def resolve(self, text, container=None):
        """
        Ambiguous name resolution ([MS-OXNSPI] 3.1.4.7) of one string over a
        container's objects: C{=text} matches a display name, account or
        SMTP address exactly; C{SMTP:addr} an SMTP address; C{EX:dn} or a
        text starting with C{/o=} a legacy DN; anything else is a prefix of
        the display name, of a word of it, of the given name, surname,
        account or an SMTP address. Case is ignored.

        @param container: the L{Container} (the GAL by default).
        @return: the matching objects.
        @rtype: L{list} of L{Entry}
        """
        container = container or self.gal
        needle = (text or "").strip()
        if not needle:
            return []
        folded = needle.casefold()
        if folded.startswith("ex:") or folded.startswith("/o="):
            dn = needle[3:] if folded.startswith("ex:") else needle
            entry = self.lookupDN(dn)
            return [entry] if entry is not None and entry in container.members else []
        if folded.startswith("smtp:"):
            address = folded[5:].strip()
            return [e for e in container.members if address in _addresses(e)]
        if folded.startswith("="):
            exact = folded[1:].strip()
            return [
                e for e in container.members
                if exact in (e.displayName.casefold(), e.user.account.casefold()) or exact in _addresses(e)
            ]
        return [e for e in container.members if any(k.startswith(folded) for k in _anrKeys(e))]

    def matches(self, entry, restriction, codec):
        """
        Evaluate a restriction ([MS-OXNSPI] 2.2.5, [MS-OXCDATA] 2.12) on
        an object: AND, OR, NOT, content (full string, substring, prefix),
        property comparisons, bitmask and exist restrictions; PR_ANR in a
        property or content restriction runs L{resolve}.

        @type restriction: L{mapiproxy.interfaces.nspi_types.Restriction_r}
        @rtype: L{bool}
        @raise MapiError: C{TooComplex} for the kinds not supported (size,
            compare-props, sub-object, regular expressions).
        """
        rt, res = restriction.rt, restriction.res
        if rt == RestrictionType.AND:
            return all(self.matches(entry, r, codec) for r in res.lpRes or ())
        if rt == RestrictionType.OR:
            return any(self.matches(entry, r, codec) for r in res.lpRes or ())
        if rt == RestrictionType.NOT:
            return res.lpRes is None or not self.matches(entry, res.lpRes, codec)
        if rt == RestrictionType.EXIST:
            return self._native(entry, res.ulPropTag >> 16, False) is not None
        if rt == RestrictionType.BITMASK:
            native = self._native(entry, res.ulPropTag >> 16, False)
            if native is None or not isinstance(native[1], int):
                return False
            masked = native[1] & res.ulMask
            return masked == 0 if res.relBMR == BMR_EQZ else masked != 0
        if rt == RestrictionType.CONTENT:
            return self._content(entry, res, codec)
        if rt == RestrictionType.PROPERTY:
            return self._property(entry, res, codec)
        raise MapiError(ErrorCode.TooComplex, "restriction type %r is not supported" % (rt,))

    def _wanted(self, prop, codec):
        if prop is None:
            raise MapiError(ErrorCode.TooComplex, "restriction without a value")
        if prop.propType == PropType.String8:
            return _from8(prop.value or "", codec)
        return prop.value

    def _content(self, entry, res, codec):
        wanted = self._wanted(res.lpProp, codec)
        if res.ulPropTag >> 16 == PR_ANR >> 16:
            return self._anrMatches(entry, wanted)
        native = self._native(entry, res.ulPropTag >> 16, False)
        if native is None:
            return False
        if not isinstance(wanted, str) or native[0] not in (PropType.String, PropType.MultipleString):
            raise MapiError(ErrorCode.TooComplex, "content restriction on a non-string property")
        values = native[1] if isinstance(native[1], list) else [native[1]]
        level = res.ulFuzzyLevel & 0xFFFF
        # The directory's strings all compare without case, FL_IGNORECASE
        # or not (case-insensitive PtypString8 properties, [MS-OXNSPI]
        # 3.1.4.3).
        wanted = wanted.casefold()
        values = [v.casefold() for v in values]
        for value in values:
            if level == FL_FULLSTRING and value == wanted:
                return True
            if level == FL_SUBSTRING and wanted in value:
                return True
            if level == FL_PREFIX and value.startswith(wanted):
                return True
        return False

    def _anrMatches(self, entry, text):
        if entry.kind != "user" or not isinstance(text, str):
            return False
        return bool(self.resolve(text, Container(0, "", "", [entry])))

    def _property(self, entry, res, codec):
        wanted = self._wanted(res.lpProp, codec)
        if res.ulPropTag >> 16 == PR_ANR >> 16:
            return self._anrMatches(entry, wanted)
        native = self._native(entry, res.ulPropTag >> 16, False)
        if native is None:
            return False
        value = native[1]
        if isinstance(value, list):
            return any(self._compare(v, wanted, res.relop) for v in value)
        return self._compare(value, wanted, res.relop)

    @staticmethod
    def _compare(value, wanted, relop):
        if isinstance(value, str) and isinstance(wanted, str):
            value, wanted = value.casefold(), wanted.casefold()
        elif isinstance(value, bytes) and isinstance(wanted, (bytes, bytearray)):
            wanted = bytes(wanted)
        elif not (isinstance(value, int) and isinstance(wanted, int)):
            return False
        if relop == RELOP_LT:
            return value < wanted
        if relop == RELOP_LE:
            return value <= wanted
        if relop == RELOP_GT:
            return value > wanted
        if relop == RELOP_GE:
            return value >= wanted
        if relop == RELOP_EQ:
            return value == wanted
        if relop == RELOP_NE:
            return value != wanted
        raise MapiError(ErrorCode.TooComplex, "relational operator %r is not supported" % (relop,))


def _addresses(entry):
    if entry.kind != "user":
        return ()
    return [entry.user.smtpAddress.casefold()] + [a.casefold() for a in entry.user.aliases]


def _anrKeys(entry):
    user = entry.user
    keys = [entry.displayName, user.account, user.detail("givenName") or "", user.detail("surname") or ""]
    keys.extend(entry.displayName.split())
    keys.extend([user.smtpAddress] + list(user.aliases))
    return [k.casefold() for k in keys if k]


# The optional user texts behind each property id (first present wins).
_DETAILS = {
    0x3A06: ("givenName",),
    0x3A11: ("surname",),
    0x3A0A: ("initials",),
    0x3A17: ("title",),
    0x3A18: ("department",),
    0x3A16: ("company",),
    0x3A19: ("office",),
    0x3A08: ("businessPhone",),
    0x3A1A: ("businessPhone", "mobilePhone"),
    0x3A1C: ("mobilePhone",),
    0x3A09: ("homePhone",),
    0x3A29: ("streetAddress",),
    0x3A27: ("locality",),
    0x3A2A: ("postalCode",),
    0x3A26: ("country",),
    0x3004: ("comment",),
}

# Every property an object of the directory can have, in the order
# NspiGetPropList and NspiQueryColumns list them.
_CANDIDATES = tuple(
    (tag >> 16, tag & 0xFFFF)
    for tag in (
        PR_DISPLAY_NAME,
        PR_ADDRTYPE,
        PR_EMAIL_ADDRESS,
        PR_EMS_AB_DISPLAY_NAME_PRINTABLE,
        PR_OBJECT_TYPE,
        PR_DISPLAY_TYPE,
        PR_ENTRYID,
        PR_RECORD_KEY,
        PR_ORIGINAL_ENTRYID,
        PR_SEARCH_KEY,
        PR_INSTANCE_KEY,
        PR_MAPPING_SIGNATURE,
        PR_TEMPLATEID,
        PR_EMS_AB_OBJECT_GUID,
        PR_EMS_AB_CONTAINERID,
        PR_SEND_RICH_INFO,
        PR_ACCOUNT,
        PR_SMTP_ADDRESS,
        PR_TRANSMITABLE_DISPLAY_NAME,
        PR_EMS_AB_PROXY_ADDRESSES,
        PR_EMS_AB_HOME_MDB,
        PR_EMS_AB_NETWORK_ADDRESS,
        PR_GIVEN_NAME,
        PR_SURNAME,
        PR_INITIALS,
        PR_TITLE,
        PR_DEPARTMENT_NAME,
        PR_COMPANY_NAME,
        PR_OFFICE_LOCATION,
        PR_BUSINESS_TELEPHONE_NUMBER,
        PR_PRIMARY_TELEPHONE_NUMBER,
        PR_MOBILE_TELEPHONE_NUMBER,
        PR_HOME_TELEPHONE_NUMBER,
        PR_STREET_ADDRESS,
        PR_LOCALITY,
        PR_POSTAL_CODE,
        PR_COUNTRY,
        PR_COMMENT,
    )
)
