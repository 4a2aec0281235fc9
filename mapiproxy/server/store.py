# -*- test-case-name: tests.server.test_store -*-
"""
The lab Exchange's data: an organisation, its users and their mailboxes,
kept in a directory of human-editable JSON files.

Layout::

    organization.json            name, legacyDN, serverName, serverFQDN,
                                 mailDomain
    users/<account>.json         displayName, smtpAddress, title, ...
    mailboxes/<account>/         the mailbox root folder
        folder.json              displayName, containerClass, role, id
        <sub folder>/            more folders, each with its folder.json
        messages/<name>.json     one message each
        attachments/<file>       the files messages attach, by name

A directory below a mailbox is a folder when it has a C{folder.json};
C{messages} and C{attachments} are reserved names. Files whose name starts
with a dot are ignored (writers use them for atomic replacement).

Identifiers. Folder and message ids are the 64-bit values of [MS-OXCDATA]
2.2.1.1/2.2.1.2: a 16-bit replica id (always L{REPLICA_ID}) and a 48-bit
global counter, laid out as ROPs carry them (the replica id little-endian
in the first two bytes, then the counter big-endian in six; see
L{makeId}). The counter is the C{"id"} member of the JSON when present
(1 to 2**40 - 1, for hand-made stores that want small numbers), else it is
derived from the mailbox-relative path of the folder directory or message
file: the first 6 bytes of its SHA-256 with the top bit set (so at least
2**47, never equal to an explicit one). Ids therefore survive reloads and
restarts, and a message moved to another folder gets a new id, as in
Exchange. A collision inside one mailbox is a L{ConfigError}.

Attachments are streamed from their files (L{Attachment.open},
L{Attachment.read}). An attachment may instead declare C{"generate": {"seed":
..., "size": ..., "header": ..., "trailer": ...}}: deterministic content
(SHA-256 in counter mode, see L{GeneratedContent}) written to its file the
first time it is opened, or served straight from the generator when the
store is read-only. This keeps large sample files out of the repository;
C{etc/sample-store/make-attachments.py} writes them all ahead of time.

Changes: L{Store.markRead} rewrites a message file atomically (temporary
file, then C{os.replace}). L{Store.poll} (or L{Store.newMessages} for one
account) rescans the mailboxes and returns the messages whose files
appeared since the last scan, calling the subscribers registered with
L{Store.subscribe}; the caller drives it, e.g. with a
C{twisted.internet.task.LoopingCall}. A file that does not parse yet (still
being written by a non-atomic writer) is retried at the next scan.

No Twisted here: plain file access only.
"""

import datetime
import hashlib
import io
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from typing import Optional

from mapiproxy.errors import ConfigError

__all__ = [
    "REPLICA_ID",
    "FOLDER_ROLES",
    "EXPLICIT_ID_LIMIT",
    "makeId",
    "splitId",
    "derivedCounter",
    "toFileTime",
    "Organization",
    "User",
    "Recipient",
    "GeneratedContent",
    "Attachment",
    "Message",
    "Folder",
    "Mailbox",
    "Store",
    "materializeAttachments",
]

#: The replica id of every folder and message id of the store
#: ([MS-OXCDATA] 2.2.1.1: 1 is the local replica).
REPLICA_ID = 1
#: Explicit C{"id"} counters are below this; derived ones at or above 2**47.
EXPLICIT_ID_LIMIT = 1 << 40

_COUNTER_BITS = 48
_DERIVED_BIT = 1 << (_COUNTER_BITS - 1)
_ACCOUNT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_RESERVED_DIRS = ("messages", "attachments")
_IMPORTANCE = {"low": 0, "normal": 1, "high": 2}
_FILETIME_EPOCH = datetime.datetime(1601, 1, 1, tzinfo=datetime.timezone.utc)

#: Folder roles the EMSMDB server maps to the special folders of RopLogon
#: ([MS-OXCSTOR] 2.2.1.1.3).
FOLDER_ROLES = (
    "root",
    "ipmSubtree",
    "inbox",
    "outbox",
    "sentItems",
    "deletedItems",
    "drafts",
    "calendar",
    "contacts",
    "tasks",
    "notes",
    "journal",
    "junk",
    "deferredAction",
    "spoolerQueue",
    "commonViews",
    "schedule",
    "finder",
    "views",
    "shortcuts",
)


# -- ids ------------------------------------------------------------------


def makeId(globalCounter, replicaId=REPLICA_ID):
    """
    A folder or message id ([MS-OXCDATA] 2.2.1.1): C{replicaId} as two
    little-endian bytes, then C{globalCounter} as six big-endian bytes, read
    as one little-endian 64-bit integer (what ROP buffers carry).

    @type globalCounter: L{int} (48 bits)
    @type replicaId: L{int} (16 bits)
    @rtype: L{int}
    @raise ValueError: a part does not fit.
    """
    if not 0 <= globalCounter < 1 << _COUNTER_BITS or not 0 <= replicaId < 1 << 16:
        raise ValueError("id parts out of range: %r, %r" % (replicaId, globalCounter))
    raw = replicaId.to_bytes(2, "little") + globalCounter.to_bytes(6, "big")
    return int.from_bytes(raw, "little")


def splitId(value):
    """
    The inverse of L{makeId}.

    @type value: L{int} (64 bits)
    @return: C{(replicaId, globalCounter)}.
    @raise ValueError: C{value} is not a 64-bit unsigned integer.
    """
    if not 0 <= value < 1 << 64:
        raise ValueError("not a 64-bit id: %r" % (value,))
    raw = value.to_bytes(8, "little")
    return int.from_bytes(raw[:2], "little"), int.from_bytes(raw[2:], "big")


def derivedCounter(relativePath):
    """
    The global counter of an object without an explicit C{"id"}: the first
    six bytes of the SHA-256 of its mailbox-relative path (with C{/}
    separators), top bit set.

    @type relativePath: L{str}
    @rtype: L{int}
    """
    digest = hashlib.sha256(("mapiproxy-store:" + relativePath).encode("utf-8")).digest()
    return int.from_bytes(digest[:6], "big") | _DERIVED_BIT


def toFileTime(when):
    """
    A FILETIME ([MS-DTYP] 2.3.3): 100-nanosecond intervals since 1601-01-01
    UTC.

    @type when: L{datetime.datetime} (aware)
    @rtype: L{int}
    """
    delta = when - _FILETIME_EPOCH
    return (delta.days * 86400 + delta.seconds) * 10**7 + delta.microseconds * 10


# -- JSON validation helpers ----------------------------------------------


def _loadJSON(path, relative):
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise ConfigError("cannot read: %s" % (e.strerror,), path=relative) from None
    try:
        value = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise ConfigError("not UTF-8: %s" % (e.reason,), path=relative) from None
    except json.JSONDecodeError as e:
        raise ConfigError("bad JSON: %s" % (e.msg,), path=relative, line=e.lineno) from None
    if not isinstance(value, dict):
        raise ConfigError("expected a JSON object, not %s" % (type(value).__name__,), path=relative)
    return value


def _text(data, key, where, required=False, default=""):
    value = data.get(key)
    if value is None:
        if required:
            raise ConfigError("missing", path=where, option=key)
        return default
    if not isinstance(value, str):
        raise ConfigError("must be a string, not %s" % (type(value).__name__,), path=where, option=key)
    if required and not value.strip():
        raise ConfigError("must not be empty", path=where, option=key)
    return value


def _bool(data, key, where, default=False):
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError("must be true or false", path=where, option=key)
    return value


def _explicitCounter(data, where):
    value = data.get("id")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < EXPLICIT_ID_LIMIT:
        raise ConfigError("must be an integer from 1 to %d" % (EXPLICIT_ID_LIMIT - 1,), path=where, option="id")
    return value


def _time(data, key, where):
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError("must be an ISO 8601 date and time", path=where, option=key)
    try:
        when = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError("%r is not an ISO 8601 date and time" % (value,), path=where, option=key) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when.astimezone(datetime.timezone.utc)


def _plainName(value, where, key):
    """
    A file name with no directory part (attachments, accounts).
    """
    if not value or value in (".", "..") or "/" in value or "\\" in value or "\x00" in value or value.startswith("."):
        raise ConfigError("%r is not a plain file name" % (value,), path=where, option=key)
    return value


# -- the organisation and its users ---------------------------------------


@dataclass(frozen=True)
class Organization:
    """
    The organisation of C{organization.json}.

    @ivar name: e.g. C{"First Organization"}.
    @ivar legacyDN: the legacy DN prefix of every object, e.g.
        C{"/o=First Organization/ou=Exchange Administrative Group
        (FYDIBOHF23SPDLT)"}.
    @ivar serverName: the mailbox server's NetBIOS-style name, e.g.
        C{"LAB"}.
    @ivar serverFQDN: its DNS name (may be empty: the caller decides).
    @ivar mailDomain: the SMTP domain of the users.
    """

    name: str
    legacyDN: str
    serverName: str
    serverFQDN: str = ""
    mailDomain: str = ""

    @property
    def serverDN(self):
        """
        The server's legacy DN: C{<legacyDN>/cn=Configuration/cn=Servers/cn=<serverName>}.

        @rtype: L{str}
        """
        return "%s/cn=Configuration/cn=Servers/cn=%s" % (self.legacyDN, self.serverName)

    @property
    def mdbDN(self):
        """
        The private mailbox database's DN (C{PR_EMS_AB_HOME_MDB} of every
        user): the server DN, then C{/cn=Microsoft Private MDB}.

        @rtype: L{str}
        """
        return self.serverDN + "/cn=Microsoft Private MDB"

    def userDN(self, account):
        """
        The default legacy DN of a user: C{<legacyDN>/cn=Recipients/cn=<account>}.

        @rtype: L{str}
        """
        return "%s/cn=Recipients/cn=%s" % (self.legacyDN, account)

    @classmethod
    def fromJSON(cls, data, where):
        """
        Validate the content of C{organization.json}.

        @raise ConfigError: a member is missing or malformed.
        """
        legacyDN = _text(data, "legacyDN", where, required=True)
        if not legacyDN.lower().startswith("/o="):
            raise ConfigError("must start with /o=", path=where, option="legacyDN")
        serverName = _text(data, "serverName", where, required=True)
        if not re.match(r"^[A-Za-z0-9-]{1,63}$", serverName):
            raise ConfigError("%r is not a server name" % (serverName,), path=where, option="serverName")
        return cls(
            name=_text(data, "name", where, required=True),
            legacyDN=legacyDN.rstrip("/"),
            serverName=serverName,
            serverFQDN=_text(data, "serverFQDN", where),
            mailDomain=_text(data, "mailDomain", where),
        )


#: Optional text members of a user file, as stored on L{User}.
_USER_TEXTS = (
    "givenName",
    "surname",
    "initials",
    "title",
    "department",
    "company",
    "office",
    "businessPhone",
    "mobilePhone",
    "homePhone",
    "streetAddress",
    "locality",
    "postalCode",
    "country",
    "comment",
)


@dataclass(frozen=True)
class User:
    """
    One user of C{users/<account>.json}.

    @ivar account: the account (the file name, the passdb user name).
    @ivar displayName: e.g. C{"Alice Anderson"}.
    @ivar smtpAddress: e.g. C{"alice@lab.example"}.
    @ivar legacyDN: the user's legacy DN ([MS-OXOABK] 2.2.3.1): the
        C{"legacyDN"} member, or L{Organization.userDN}.
    @ivar aliases: further SMTP addresses.
    @ivar hidden: hidden from the address lists (still resolvable by DN).
    @ivar hasMailbox: whether C{mailboxes/<account>/} is expected.
    @ivar details: the optional texts (C{title}, C{department},
        C{businessPhone}, ...), missing ones left out.
    """

    account: str
    displayName: str
    smtpAddress: str
    legacyDN: str
    aliases: tuple = ()
    hidden: bool = False
    hasMailbox: bool = True
    details: dict = field(default_factory=dict, compare=False)

    def detail(self, name):
        """
        One optional text, or L{None}.

        @param name: e.g. C{"title"}.
        @rtype: L{str} or L{None}
        """
        return self.details.get(name)

    @classmethod
    def fromJSON(cls, account, data, organization, where):
        """
        Validate a user file.

        @param account: the file name without C{.json}.
        @raise ConfigError: a member is missing or malformed.
        """
        declared = data.get("account", account)
        if not isinstance(declared, str) or declared.lower() != account.lower():
            raise ConfigError("does not match the file name %r" % (account,), path=where, option="account")
        smtp = _text(data, "smtpAddress", where)
        if not smtp:
            if not organization.mailDomain:
                raise ConfigError("missing (and organization.json has no mailDomain)", path=where, option="smtpAddress")
            smtp = "%s@%s" % (account, organization.mailDomain)
        if smtp.count("@") != 1:
            raise ConfigError("%r is not an SMTP address" % (smtp,), path=where, option="smtpAddress")
        aliases = data.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a.count("@") == 1 for a in aliases):
            raise ConfigError("must be a list of SMTP addresses", path=where, option="aliases")
        details = {}
        for name in _USER_TEXTS:
            value = _text(data, name, where)
            if value:
                details[name] = value
        return cls(
            account=account,
            displayName=_text(data, "displayName", where, required=True),
            smtpAddress=smtp,
            legacyDN=_text(data, "legacyDN", where) or organization.userDN(account),
            aliases=tuple(aliases),
            hidden=_bool(data, "hidden", where),
            hasMailbox=_bool(data, "mailbox", where, default=True),
            details=details,
        )


# -- messages -------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    """
    A sender or recipient of a message.

    @ivar name: the display name.
    @ivar email: the SMTP address.
    @ivar account: the store user it names, or L{None} for an outside
        address.
    @ivar kind: C{"from"}, C{"to"}, C{"cc"} or C{"bcc"}.
    """

    name: str
    email: str
    account: Optional[str] = None
    kind: str = "to"


def _recipient(value, kind, users, where, key):
    """
    A recipient from C{"alice"} (an account), C{"Name <addr>"}, C{"addr"}
    or C{{"name": ..., "email": ...}}.
    """
    if isinstance(value, dict):
        email = value.get("email")
        name = value.get("name", email)
        if not isinstance(email, str) or "@" not in email or not isinstance(name, str):
            raise ConfigError("a recipient needs an email (and a name)", path=where, option=key)
        user = _userByAddress(users, email)
        return Recipient(name, email, user.account if user else None, kind)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("%r is not a recipient" % (value,), path=where, option=key)
    value = value.strip()
    user = users.get(value.lower())
    if user is not None:
        return Recipient(user.displayName, user.smtpAddress, user.account, kind)
    match = re.match(r"^(.*?)\s*<([^<>\s]+@[^<>\s]+)>$", value)
    if match:
        name, email = match.group(1).strip().strip('"') or match.group(2), match.group(2)
    elif "@" in value and " " not in value:
        name = email = value
    else:
        raise ConfigError("%r is neither an account nor an address" % (value,), path=where, option=key)
    user = _userByAddress(users, email)
    return Recipient(name, email, user.account if user else None, kind)


def _userByAddress(users, email):
    email = email.lower()
    for user in users.values():
        if user.smtpAddress.lower() == email or email in (a.lower() for a in user.aliases):
            return user
    return None


class GeneratedContent:
    """
    Deterministic bytes of a given size: C{header}, then the stream of
    SHA-256(C{seed} || 8-byte big-endian block number) digests, with
    C{trailer} over its last bytes. Any range is computed directly, so a
    generated attachment can be served without being stored.

    @ivar size: the length in bytes.
    """

    _BLOCK = 32

    def __init__(self, seed, size, header=b"", trailer=b""):
        """
        @type seed: L{bytes}
        @type size: L{int}
        @type header: L{bytes}
        @type trailer: L{bytes}
        """
        if len(header) + len(trailer) > size:
            raise ValueError("header and trailer longer than the content")
        self.seed = seed
        self.size = size
        self.header = header
        self.trailer = trailer

    @classmethod
    def fromJSON(cls, data, where):
        """
        Validate a C{"generate"} member.

        @raise ConfigError: a member is missing or malformed.
        """
        if not isinstance(data, dict):
            raise ConfigError("must be an object", path=where, option="generate")
        seed = _text(data, "seed", where, required=True)
        size = data.get("size")
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= 1 << 32:
            raise ConfigError("must be a size in bytes", path=where, option="size")
        header = _text(data, "header", where).encode("utf-8")
        trailer = _text(data, "trailer", where).encode("utf-8")
        if len(header) + len(trailer) > size:
            raise ConfigError("header and trailer do not fit in size", path=where, option="size")
        return cls(seed.encode("utf-8"), size, header, trailer)

    def read(self, offset, length):
        """
        The bytes C{[offset, offset + length)}, cut at the end.

        @rtype: L{bytes}
        """
        offset = max(0, offset)
        end = min(self.size, offset + max(0, length))
        if offset >= end:
            return b""
        first, last = offset // self._BLOCK, (end - 1) // self._BLOCK
        blocks = b"".join(
            hashlib.sha256(self.seed + n.to_bytes(8, "big")).digest() for n in range(first, last + 1)
        )
        data = bytearray(blocks[offset - first * self._BLOCK : end - first * self._BLOCK])
        self._overlay(data, offset, self.header, 0)
        self._overlay(data, offset, self.trailer, self.size - len(self.trailer))
        return bytes(data)

    @staticmethod
    def _overlay(data, offset, piece, at):
        start, stop = max(offset, at), min(offset + len(data), at + len(piece))
        if start < stop:
            data[start - offset : stop - offset] = piece[start - at : stop - at]

    def open(self):
        """
        A seekable binary file object over the content.

        @rtype: L{io.BufferedReader}
        """
        return io.BufferedReader(_GeneratedRaw(self), buffer_size=64 * 1024)

    def writeTo(self, path):
        """
        Write the whole content to C{path}, atomically.

        @raise OSError: the directory is not writable.
        """
        chunk = 1 << 20

        def write(f):
            for offset in range(0, self.size, chunk):
                f.write(self.read(offset, chunk))

        _atomicWrite(path, write)


class _GeneratedRaw(io.RawIOBase):
    def __init__(self, content):
        self._content = content
        self._position = 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self._position

    def seek(self, offset, whence=io.SEEK_SET):
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._content.size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer):
        data = self._content.read(self._position, len(buffer))
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)


def _atomicWrite(path, write):
    """
    Write a file through a dot-named temporary file in the same directory
    and C{os.replace}, so that readers see the old or the new content. The
    file keeps its permissions (a new one gets 0644).
    """
    directory, name = os.path.split(path)
    try:
        mode = os.stat(path).st_mode & 0o777
    except OSError:
        mode = 0o644
    fd, temporary = tempfile.mkstemp(prefix="." + name + ".", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


@dataclass(eq=False)
class Attachment:
    """
    A file a message attaches.

    @ivar number: the attachment's index in its message (0, 1, ...).
    @ivar name: the file name shown to the user.
    @ivar path: the file in the folder's C{attachments/} directory.
    @ivar mimeType: the MIME type (C{PR_ATTACH_MIME_TAG}).
    @ivar generated: a L{GeneratedContent} when the file is generated.
    @ivar expectedSha256: the C{"sha256"} member (hex), or L{None}.
    """

    number: int
    name: str
    path: str
    mimeType: str = "application/octet-stream"
    generated: Optional[GeneratedContent] = None
    expectedSha256: Optional[str] = None

    @property
    def size(self):
        """
        The size in bytes.

        @rtype: L{int}
        @raise OSError: the file is missing and not generated.
        """
        if self.generated is not None and not os.path.exists(self.path):
            return self.generated.size
        return os.stat(self.path).st_size

    def open(self):
        """
        A seekable binary file object. A generated attachment is written to
        its file first when that is possible; when the store is read-only it
        is served from the generator.

        @rtype: a binary file object
        @raise OSError: the file is missing and not generated.
        """
        if self.generated is not None and not os.path.exists(self.path):
            try:
                self.generated.writeTo(self.path)
            except OSError:
                return self.generated.open()
        return open(self.path, "rb")

    def read(self, offset, length):
        """
        The bytes C{[offset, offset + length)} (fewer at the end).

        @rtype: L{bytes}
        """
        with self.open() as f:
            f.seek(offset)
            return f.read(length)

    def sha256(self):
        """
        The SHA-256 of the content, hex.

        @rtype: L{str}
        """
        digest = hashlib.sha256()
        with self.open() as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()


@dataclass(eq=False)
class Message:
    """
    One message file.

    @ivar id: the message id (L{makeId}).
    @ivar folder: the L{Folder} holding it.
    @ivar path: the JSON file.
    @ivar relativePath: the path inside the mailbox, C{/}-separated.
    @ivar messageClass: e.g. C{"IPM.Note"}.
    @ivar sender: the L{Recipient} of kind C{"from"}, or L{None}.
    @ivar recipients: the C{to}, C{cc} and C{bcc} L{Recipient}s, in order.
    @ivar sent: the submit time (aware L{datetime.datetime}) or L{None}.
    @ivar received: the delivery time, or L{None}.
    @ivar read: the read flag.
    @ivar importance: 0 low, 1 normal, 2 high (C{PR_IMPORTANCE}).
    @ivar extra: the members this module does not interpret.
    """

    id: int
    folder: "Folder"
    path: str
    relativePath: str
    messageClass: str
    subject: str
    body: str
    sender: Optional[Recipient]
    recipients: list
    sent: Optional[datetime.datetime]
    received: Optional[datetime.datetime]
    read: bool
    importance: int
    attachments: list
    extra: dict = field(default_factory=dict)

    @property
    def name(self):
        """
        The file name without C{.json}.
        """
        return os.path.basename(self.path)[: -len(".json")]

    def recipientsOf(self, kind):
        """
        The recipients of one kind (C{"to"}, C{"cc"}, C{"bcc"}).

        @rtype: L{list} of L{Recipient}
        """
        return [r for r in self.recipients if r.kind == kind]

    @classmethod
    def fromJSON(cls, data, folder, path, relativePath, users, where):
        """
        Validate a message file.

        @raise ConfigError: a member is missing or malformed.
        """
        counter = _explicitCounter(data, where)
        importance = data.get("importance", "normal")
        if isinstance(importance, str) and importance.lower() in _IMPORTANCE:
            importance = _IMPORTANCE[importance.lower()]
        elif isinstance(importance, bool) or importance not in (0, 1, 2):
            raise ConfigError("must be low, normal or high", path=where, option="importance")
        sender = None
        if data.get("from") is not None:
            sender = _recipient(data["from"], "from", users, where, "from")
        recipients = []
        for kind in ("to", "cc", "bcc"):
            values = data.get(kind, [])
            if isinstance(values, (str, dict)):
                values = [values]
            if not isinstance(values, list):
                raise ConfigError("must be a list of recipients", path=where, option=kind)
            recipients.extend(_recipient(v, kind, users, where, kind) for v in values)
        attachments = data.get("attachments", [])
        if not isinstance(attachments, list):
            raise ConfigError("must be a list", path=where, option="attachments")
        known = {
            "id", "messageClass", "subject", "body", "from", "to", "cc", "bcc",
            "sent", "received", "read", "importance", "attachments",
        }
        return cls(
            id=makeId(counter if counter is not None else derivedCounter(relativePath)),
            folder=folder,
            path=path,
            relativePath=relativePath,
            messageClass=_text(data, "messageClass", where, default="IPM.Note") or "IPM.Note",
            subject=_text(data, "subject", where),
            body=_text(data, "body", where),
            sender=sender,
            recipients=recipients,
            sent=_time(data, "sent", where),
            received=_time(data, "received", where),
            read=_bool(data, "read", where),
            importance=importance,
            attachments=[_attachment(i, a, folder, where) for i, a in enumerate(attachments)],
            extra={k: v for k, v in data.items() if k not in known},
        )


def _attachment(number, data, folder, where):
    if isinstance(data, str):
        data = {"file": data}
    if not isinstance(data, dict):
        raise ConfigError("an attachment is a file name or an object", path=where, option="attachments")
    fileName = _plainName(_text(data, "file", where, required=True), where, "file")
    generated = None
    if data.get("generate") is not None:
        generated = GeneratedContent.fromJSON(data["generate"], where)
    digest = _text(data, "sha256", where) or None
    if digest is not None and not re.match(r"^[0-9a-fA-F]{64}$", digest):
        raise ConfigError("must be 64 hex digits", path=where, option="sha256")
    path = os.path.join(folder.path, "attachments", fileName)
    if generated is None and not os.path.isfile(path):
        raise ConfigError("attachment file %r is missing" % (fileName,), path=where, option="file")
    return Attachment(
        number=number,
        name=_text(data, "name", where) or fileName,
        path=path,
        mimeType=_text(data, "mimeType", where) or "application/octet-stream",
        generated=generated,
        expectedSha256=digest.lower() if digest else None,
    )


# -- folders and mailboxes -------------------------------------------------


@dataclass(eq=False)
class Folder:
    """
    One folder: a directory with a C{folder.json}.

    @ivar id: the folder id (L{makeId}).
    @ivar parent: the parent L{Folder}, L{None} for the mailbox root.
    @ivar path: the directory.
    @ivar relativePath: the path inside the mailbox (C{""} for the root).
    @ivar displayName: C{PR_DISPLAY_NAME}.
    @ivar containerClass: C{PR_CONTAINER_CLASS}, e.g. C{"IPF.Note"}.
    @ivar role: one of L{FOLDER_ROLES}, or L{None}.
    @ivar children: the sub-folders, by directory name.
    @ivar messages: the messages, by file name.
    """

    id: int
    parent: Optional["Folder"]
    path: str
    relativePath: str
    displayName: str
    containerClass: str
    role: Optional[str]
    children: list = field(default_factory=list)
    messages: list = field(default_factory=list)

    def walk(self):
        """
        This folder and every folder below it, depth first.

        @rtype: iterator of L{Folder}
        """
        yield self
        for child in self.children:
            yield from child.walk()

    @property
    def unreadCount(self):
        """
        How many messages are unread.
        """
        return sum(1 for m in self.messages if not m.read)


class Mailbox:
    """
    One user's folder tree.

    @ivar owner: the L{User}.
    @ivar root: the root L{Folder}.
    """

    def __init__(self, owner, path, users):
        self.owner = owner
        self.path = path
        self._users = users
        self._folders = {}
        self._messages = {}
        self._pending = {}
        self.root = self._loadFolder(path, None, "", strict=True)

    @property
    def pending(self):
        """
        Message files that did not parse at the last scan, with the reason
        (they are tried again at the next one).

        @rtype: L{dict} of path to L{str}
        """
        return dict(self._pending)

    def folders(self):
        """
        Every folder, depth first from the root.

        @rtype: L{list} of L{Folder}
        """
        return list(self.root.walk())

    def folder(self, folderId):
        """
        @rtype: L{Folder} or L{None}
        """
        return self._folders.get(folderId)

    def folderByRole(self, role):
        """
        The first folder with that C{role}, or L{None}.

        @rtype: L{Folder} or L{None}
        """
        for folder in self.root.walk():
            if folder.role == role:
                return folder
        return None

    def folderByPath(self, relativePath):
        """
        A folder by its C{/}-separated path below the mailbox, or L{None}.
        """
        for folder in self.root.walk():
            if folder.relativePath == relativePath.strip("/"):
                return folder
        return None

    def message(self, messageId):
        """
        @rtype: L{Message} or L{None}
        """
        return self._messages.get(messageId)

    def _relative(self, path):
        relative = os.path.relpath(path, self.path).replace(os.sep, "/")
        return "" if relative == "." else relative

    def _claim(self, counter, where):
        objectId = makeId(counter)
        if objectId in self._folders or objectId in self._messages:
            raise ConfigError("id 0x%016x is used twice in this mailbox" % (objectId,), path=where, option="id")
        return objectId

    def _loadFolder(self, path, parent, relativePath, strict):
        where = os.path.join(path, "folder.json")
        if os.path.exists(os.path.join(path, "folder.json")):
            data = _loadJSON(os.path.join(path, "folder.json"), where)
        elif parent is None:
            data = {"role": "root"}
        else:
            return None
        role = data.get("role")
        if role is not None and role not in FOLDER_ROLES:
            raise ConfigError("unknown role %r" % (role,), path=where, option="role")
        counter = _explicitCounter(data, where)
        folderId = self._claim(counter if counter is not None else derivedCounter(relativePath), where)
        folder = Folder(
            id=folderId,
            parent=parent,
            path=path,
            relativePath=relativePath,
            displayName=_text(data, "displayName", where) or (os.path.basename(path) if parent else ""),
            containerClass=_text(data, "containerClass", where, default="IPF.Note" if parent else ""),
            role=role,
        )
        self._folders[folderId] = folder
        self._scanMessages(folder, strict)
        for name in sorted(os.listdir(path)):
            child = os.path.join(path, name)
            if name.startswith(".") or name in _RESERVED_DIRS or not os.path.isdir(child):
                continue
            loaded = self._loadFolder(child, folder, self._relative(child), strict)
            if loaded is not None:
                folder.children.append(loaded)
        return folder

    def _scanMessages(self, folder, strict):
        """
        Load the message files of a folder that are not loaded yet; forget
        those whose file is gone.

        @return: the new messages.
        @raise ConfigError: with C{strict}, a file does not parse.
        """
        directory = os.path.join(folder.path, "messages")
        names = set()
        if os.path.isdir(directory):
            names = {n for n in os.listdir(directory) if n.endswith(".json") and not n.startswith(".")}
        known = {os.path.basename(m.path): m for m in folder.messages}
        for name, message in known.items():
            if name not in names:
                folder.messages.remove(message)
                del self._messages[message.id]
        added = []
        for name in sorted(names - set(known)):
            path = os.path.join(directory, name)
            where = path
            try:
                data = _loadJSON(path, where)
                relativePath = self._relative(path)
                message = Message.fromJSON(data, folder, path, relativePath, self._users, where)
                self._claim(splitId(message.id)[1], where)
            except ConfigError as e:
                if strict:
                    raise
                self._pending[path] = str(e)
                continue
            self._pending.pop(path, None)
            self._messages[message.id] = message
            added.append(message)
        if added:
            folder.messages[:] = sorted(folder.messages + added, key=lambda m: m.path)
        return added

    def refresh(self):
        """
        Rescan the mailbox: new folders and message files are loaded, gone
        message files forgotten. Files that do not parse are kept in
        L{pending} and tried again next time.

        @return: the new messages, in folder then file order.
        @rtype: L{list} of L{Message}
        """
        added = []
        for folder in list(self.root.walk()):
            if not os.path.isdir(folder.path):
                continue
            added.extend(self._scanMessages(folder, strict=False))
            known = {os.path.basename(c.path) for c in folder.children}
            for name in sorted(os.listdir(folder.path)):
                child = os.path.join(folder.path, name)
                if name in known or name.startswith(".") or name in _RESERVED_DIRS or not os.path.isdir(child):
                    continue
                try:
                    loaded = self._loadFolder(child, folder, self._relative(child), strict=False)
                except ConfigError:
                    continue
                if loaded is not None:
                    folder.children.append(loaded)
                    folder.children.sort(key=lambda f: f.path)
                    for newFolder in loaded.walk():
                        added.extend(newFolder.messages)
        return added


# -- the store -------------------------------------------------------------


class Store:
    """
    A store directory, loaded and validated.

    @ivar path: the directory.
    @ivar organization: the L{Organization}.
    @ivar users: the L{User}s, by account (sorted).
    @type users: L{tuple}
    """

    def __init__(self, path, organization, users):
        self.path = path
        self.organization = organization
        self.users = tuple(sorted(users.values(), key=lambda u: u.account.lower()))
        self._users = users
        self._mailboxes = {}
        self._subscribers = []

    @classmethod
    def open(cls, path):
        """
        Load a store directory and check every file in it.

        @param path: the store directory.
        @rtype: L{Store}
        @raise ConfigError: naming the file (and the member) at fault.
        """
        path = os.path.abspath(path)
        if not os.path.isdir(path):
            raise ConfigError("not a store directory", path=path)
        orgPath = os.path.join(path, "organization.json")
        if not os.path.isfile(orgPath):
            raise ConfigError("missing", path=orgPath)
        organization = Organization.fromJSON(_loadJSON(orgPath, orgPath), orgPath)
        users = {}
        usersDir = os.path.join(path, "users")
        if not os.path.isdir(usersDir):
            raise ConfigError("missing users directory", path=usersDir)
        for name in sorted(os.listdir(usersDir)):
            if not name.endswith(".json") or name.startswith("."):
                continue
            where = os.path.join(usersDir, name)
            account = name[: -len(".json")]
            if not _ACCOUNT.match(account):
                raise ConfigError("%r is not an account name" % (account,), path=where)
            if account.lower() in users:
                raise ConfigError("account %r is defined twice" % (account,), path=where)
            users[account.lower()] = User.fromJSON(account, _loadJSON(where, where), organization, where)
        store = cls(path, organization, users)
        for user in store.users:
            mailboxPath = os.path.join(path, "mailboxes", user.account)
            if not user.hasMailbox:
                continue
            if not os.path.isdir(mailboxPath):
                raise ConfigError("missing mailbox directory (or set \"mailbox\": false)", path=mailboxPath)
            store._mailboxes[user.account.lower()] = Mailbox(user, mailboxPath, users)
        return store

    def user(self, account):
        """
        A user by account name (case-insensitive), or L{None}.

        @rtype: L{User} or L{None}
        """
        return self._users.get(account.lower()) if isinstance(account, str) else None

    def mailbox(self, account):
        """
        A user's mailbox, or L{None}.

        @rtype: L{Mailbox} or L{None}
        """
        return self._mailboxes.get(account.lower()) if isinstance(account, str) else None

    def markRead(self, message, read=True):
        """
        Set a message's read flag and write its file back atomically; the
        other members of the file are kept as they are.

        @type message: L{Message}
        @type read: L{bool}
        @raise ConfigError: the file no longer parses.
        @raise OSError: it cannot be written.
        """
        data = _loadJSON(message.path, message.path)
        data["read"] = bool(read)
        encoded = (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        _atomicWrite(message.path, lambda f: f.write(encoded))
        message.read = bool(read)

    def subscribe(self, callback):
        """
        Call C{callback(account, message)} for each new message L{poll}
        finds.

        @return: a function that unsubscribes.
        """
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def newMessages(self, account):
        """
        Rescan one mailbox (see L{Mailbox.refresh}) and tell the
        subscribers.

        @return: the messages whose files appeared since the last scan.
        @rtype: L{list} of L{Message}
        """
        mailbox = self.mailbox(account)
        if mailbox is None:
            return []
        added = mailbox.refresh()
        for message in added:
            for callback in list(self._subscribers):
                callback(mailbox.owner.account, message)
        return added

    def poll(self):
        """
        Rescan every mailbox.

        @return: the new messages, by account.
        @rtype: L{dict} of L{str} to L{list} of L{Message}
        """
        found = {}
        for user in self.users:
            added = self.newMessages(user.account)
            if added:
                found[user.account] = added
        return found


def materializeAttachments(store, verify=True):
    """
    Write every generated attachment of a store that is not on disk yet.

    @param verify: check each file against its C{"sha256"} member.
    @return: the L{Attachment}s written.
    @raise ValueError: a digest does not match.
    """
    written = []
    for user in store.users:
        mailbox = store.mailbox(user.account)
        if mailbox is None:
            continue
        for folder in mailbox.folders():
            for message in folder.messages:
                for attachment in message.attachments:
                    if attachment.generated is not None and not os.path.exists(attachment.path):
                        attachment.generated.writeTo(attachment.path)
                        written.append(attachment)
                    if verify and attachment.expectedSha256 and attachment.sha256() != attachment.expectedSha256:
                        raise ValueError("%s: SHA-256 does not match its message" % (attachment.path,))
    return written
