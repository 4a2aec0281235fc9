# -*- test-case-name: tests.client.test_cli -*-
"""
The C{mapiproxy-client} command: argument parsing, output formatting and
C{main}. The protocol work is done by L{mapiproxy.client.session}.

    mapiproxy-client --binding ncacn_ip_tcp:exchange.example[seal] \\
        -U 'EXAMPLE/alice%secret' folders

Exit status: 0 on success, 1 with a one-line error on failure, 2 on a
usage error.
"""

import argparse
import dataclasses
import getpass
import json
import os
import sys
import traceback
from datetime import datetime

from twisted.internet.defer import inlineCallbacks
from twisted.logger import (
    FilteringLogObserver,
    LogLevel,
    LogLevelFilterPredicate,
    globalLogBeginner,
    textFileLogObserver,
)

from mapiproxy.auth.credentials import Credentials
from mapiproxy.client import session as S
from mapiproxy.dcerpc.binding import Binding
from mapiproxy.dcerpc.client import BindError
from mapiproxy.dcerpc.constants import AuthLevel, AuthType, Status
from mapiproxy.errors import ClientError, ConfigError, DCERPCFault, MapiProxyError

__all__ = [
    "PROGRAM",
    "UsageError",
    "buildParser",
    "parseArguments",
    "parseUser",
    "optionsFrom",
    "formatSize",
    "formatVersion",
    "formatProfile",
    "formatFolders",
    "formatMessages",
    "formatMessage",
    "formatDownload",
    "formatAddressBook",
    "formatNewMail",
    "toJSON",
    "ProgressBar",
    "run",
    "main",
]

PROGRAM = "mapiproxy-client"

#: Downloads at least this big get a progress bar.
PROGRESS_THRESHOLD = 256 * 1024


class UsageError(ClientError):
    """
    The command line does not parse.
    """


class _Parser(argparse.ArgumentParser):
    """
    An argument parser that raises L{UsageError} instead of exiting.
    """

    def error(self, message):
        raise UsageError(message)

    def exit(self, status=0, message=None):
        if status:
            raise UsageError((message or "").strip() or "bad arguments")
        raise _Exit(status, message)


class _Exit(Exception):
    # --help: print and exit 0.
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def _commonOptions(parser, top):
    """
    The options every subcommand takes, before or after its name (the
    copies on the subcommands leave unset options alone).
    """
    suppress = {} if top else {"default": argparse.SUPPRESS}
    parser.add_argument(
        "--binding",
        metavar="BINDING",
        help="the address book server: ncacn_ip_tcp:HOST[PORT,FLAGS] (default port: its endpoint mapper)",
        **suppress,
    )
    parser.add_argument("-U", "--user", metavar="DOMAIN/USER%PASSWORD", help="credentials, rpcclient style (DOMAIN\\USER%%PASSWORD too); the password is asked for when missing", **suppress)
    parser.add_argument("--mailbox", metavar="NAME", help="the mailbox to open (default: the user name)", **suppress)
    level = parser.add_mutually_exclusive_group()
    level.add_argument("--seal", dest="level", action="store_const", const="seal", help="sign and encrypt (packet privacy; the default)", **suppress)
    level.add_argument("--sign", dest="level", action="store_const", const="sign", help="sign only (packet integrity)", **suppress)
    parser.add_argument("--spnego", action="store_true", help="authenticate with SPNEGO (auth_type 9) instead of NTLM", **suppress)
    parser.add_argument("--json", action="store_true", help="machine-readable output", **suppress)
    parser.add_argument("--epmapper-port", type=int, metavar="PORT", help="the endpoint mapper port of the servers (default 135)", **suppress)
    parser.add_argument("--store-binding", metavar="BINDING", help="force the message store server instead of the one the profile names", **suppress)
    parser.add_argument(
        "--host", action="append", metavar="NAME=ADDRESS", help="use ADDRESS for server NAME when the servers announce it (repeatable)", **suppress
    )
    parser.add_argument("--no-compression", action="store_true", help="ask for uncompressed EMSMDB buffers", **suppress)
    parser.add_argument("--no-obfuscation", action="store_true", help="ask for EMSMDB buffers without XOR obfuscation", **suppress)
    parser.add_argument("--connect-timeout", type=float, metavar="SECONDS", help="seconds to connect and bind (default 30)", **suppress)
    parser.add_argument("-d", "--debug", action="store_true", help="log the calls on stderr", **suppress)


def buildParser():
    """
    The argument parser of C{mapiproxy-client}.

    @rtype: L{argparse.ArgumentParser}
    """
    parser = _Parser(prog=PROGRAM, description="An Outlook-like MAPI client for Exchange over ncacn_ip_tcp.")
    _commonOptions(parser, True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    def command(name, help):
        sub = commands.add_parser(name, help=help, description=help)
        _commonOptions(sub, False)
        return sub

    command("profile", "create a profile: find the address book, the user, the mailbox server and its binding")
    command("folders", "the folder tree with unread and total counts")
    sub = command("messages", "the messages of a folder")
    sub.add_argument("folder", metavar="FOLDER", help='a folder path of display names, e.g. "Inbox" or "Inbox/Projects"')
    sub = command("show", "show a message")
    sub.add_argument("message", metavar="MESSAGE", help="FOLDER/N (as numbered by messages), FOLDER/0xMID or 0xMID")
    sub.add_argument("--mark-read", action="store_true", help="mark the message read, as Outlook does")
    sub = command("fetch-attachment", "download an attachment")
    sub.add_argument("message", metavar="MESSAGE", help="FOLDER/N, FOLDER/0xMID or 0xMID")
    sub.add_argument("number", metavar="N", type=int, help="the attachment's number, as show lists them")
    sub.add_argument("-o", "--output", metavar="FILE", help="where to write it (default: its own file name)")
    command("address-book", "the Global Address List")
    sub = command("wait-newmail", "wait for a new message and show it")
    sub.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS", help="give up after SECONDS (default 60)")
    return parser


def parseArguments(argv):
    """
    Parse a command line.

    @param argv: the arguments, without the program name.
    @return: the parsed arguments, every common option set.
    @rtype: L{argparse.Namespace}
    @raise UsageError: the arguments do not parse.
    """
    args = buildParser().parse_args(list(argv))
    defaults = dict(
        binding=None,
        user=None,
        mailbox=None,
        level=None,
        spnego=False,
        json=False,
        epmapper_port=None,
        store_binding=None,
        host=None,
        no_compression=False,
        no_obfuscation=False,
        connect_timeout=None,
        debug=False,
    )
    for name, value in defaults.items():
        if not hasattr(args, name):
            setattr(args, name, value)
    if args.binding is None:
        raise UsageError("no server: give --binding ncacn_ip_tcp:HOST")
    if getattr(args, "command", None) == "fetch-attachment" and args.number < 1:
        raise UsageError("attachment numbers start at 1")
    return args


def parseUser(text, prompt=getpass.getpass):
    """
    Credentials from C{-U}, asking for the password when it is missing.

    @param text: C{DOMAIN/user%password}, C{DOMAIN\\user%password},
        C{user%password}, C{user}, or L{None} for the login name.
    @param prompt: asks for the password, given the prompt text.
    @rtype: L{Credentials}
    @raise ConfigError: the user name is empty.
    """
    if text is None:
        text = getpass.getuser()
    credentials = Credentials.parse(text)
    if credentials.password is None:
        who = (credentials.domain + "\\" if credentials.domain else "") + credentials.username
        password = prompt("Password for [%s]: " % (who,))
        credentials = dataclasses.replace(credentials, password=password)
    return credentials


def _hosts(entries):
    hosts = {}
    for entry in entries or []:
        name, sep, address = entry.partition("=")
        if not sep or not name.strip() or not address.strip():
            raise UsageError("--host wants NAME=ADDRESS, not %r" % (entry,))
        hosts[name.strip()] = address.strip()
    return hosts


def optionsFrom(args, prompt=getpass.getpass, note=lambda text: None):
    """
    The L{S.ClientOptions} a command line asks for.

    @param args: from L{parseArguments}.
    @param prompt: asks for a missing password.
    @param note: receives the session's remarks.
    @rtype: L{S.ClientOptions}
    @raise ConfigError: a binding does not parse or asks for an
        authentication we do not have.
    """
    binding = Binding.parse(args.binding)
    if binding.flags.intersection(("krb5", "schannel")):
        raise ConfigError("only NTLM and SPNEGO are supported, not %s" % (", ".join(sorted(binding.flags.intersection(("krb5", "schannel")))),))
    if args.level == "sign":
        level = AuthLevel.INTEGRITY
    elif args.level == "seal":
        level = AuthLevel.PRIVACY
    else:
        level = binding.authLevelOr(AuthLevel.PRIVACY)
    authType = AuthType.SPNEGO if args.spnego or "spnego" in binding.flags else AuthType.NTLM
    store = Binding.parse(args.store_binding) if args.store_binding else None
    return S.ClientOptions(
        binding=binding,
        credentials=parseUser(args.user, prompt),
        mailbox=args.mailbox,
        authType=authType,
        authLevel=level,
        epmapperPort=args.epmapper_port or S.EPMAPPER_PORT,
        storeBinding=store,
        hosts=_hosts(args.host),
        compression=not args.no_compression,
        obfuscation=not args.no_obfuscation,
        timeout=args.connect_timeout or 30,
        note=note,
    )


# -- formatting --------------------------------------------------------------


def formatSize(size):
    """
    A byte count for people: C{512 B}, C{1.5 KB}, C{5.0 MB}.
    """
    if size < 1024:
        return "%d B" % (size,)
    for unit in ("KB", "MB", "GB"):
        size /= 1024.0
        if size < 1024 or unit == "GB":
            return "%.1f %s" % (size, unit)


def formatVersion(words):
    """
    An Exchange server version triple ([MS-OXCRPC] 3.1.4.1.3): the
    high bit of the second word says whether the first one packs major and
    minor.

    @param words: three u16.
    @return: e.g. C{"14.0.639.21"} or C{"6.0.4417.5"}.
    """
    if len(words) != 3:
        return "?"
    first, second, third = words
    if second & 0x8000:
        return "%d.%d.%d.%d" % (first >> 8, first & 0xFF, second & 0x7FFF, third)
    return "%d.0.%d.%d" % (first, second, third)


def _date(value):
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else "-"


def _table(headers, rows):
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            widths[i] = max(widths[i], len(cell))
    lines = []
    for row in [headers] + rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])] + [row[-1]]
        lines.append("  ".join(cells).rstrip())
    return lines


def formatProfile(profile):
    """
    What profile creation learned, one fact a line.

    @type profile: L{S.Profile}
    @rtype: L{str}
    """
    who = profile.displayName or profile.account
    if profile.smtpAddress:
        who += " <%s>" % (profile.smtpAddress,)
    store = profile.storeBinding
    if profile.storePort is None:
        store += " (port from its endpoint mapper)"
    if profile.storeAddress and profile.storeAddress != profile.storeHost:
        store += ", reached at %s" % (profile.storeAddress,)
    facts = [
        ("User", who),
        ("Account", profile.account or "-"),
        ("Legacy DN", profile.userDN),
        ("Address book server", profile.nspiServer or "(no RFR: the --binding server)"),
        ("Home MDB", profile.homeMDB),
        ("Mailbox server", profile.mailboxServer or "-"),
        ("Mailbox server DN", profile.serverDN),
        ("Network addresses", ", ".join(profile.networkAddresses) or "-"),
        ("Mailbox server FQDN", profile.mailboxServerFQDN or "-"),
        ("Message store", store),
    ]
    width = max(len(label) for label, _ in facts)
    return "\n".join("%s %s" % ((label + ":").ljust(width + 1), value) for label, value in facts)


def formatFolders(store, folders):
    """
    The folder tree, indented, with unread and total counts.

    @type store: L{S.StoreSession}
    @param folders: L{S.Folder} items, depth first.
    @rtype: L{str}
    """
    rows = [["  " * f.depth + f.name, str(f.unread), str(f.total)] for f in folders]
    width = max([len(r[0]) for r in rows] + [len("Folder")])
    lines = ["Mailbox of %s" % (store.displayName or store.profile.displayName,)]
    lines.append("%s  %6s  %6s" % ("Folder".ljust(width), "Unread", "Total"))
    for name, unread, total in rows:
        lines.append("%s  %6s  %6s" % (name.ljust(width), unread, total))
    return "\n".join(lines)


def formatMessages(folder, messages):
    """
    A folder's messages: number, id, date, sender, size, flags (C{U}
    unread, C{A} attachments) and subject.

    @type folder: L{S.Folder}
    @param messages: L{S.MessageSummary} items.
    @rtype: L{str}
    """
    unread = sum(1 for m in messages if not m.read)
    lines = ["%s: %d message(s), %d unread" % (folder.path, len(messages), unread)]
    rows = [
        [
            str(m.index),
            m.id,
            _date(m.received),
            m.sender or "-",
            formatSize(m.size),
            ("U" if not m.read else "-") + ("A" if m.hasAttachments else "-"),
            m.subject,
        ]
        for m in messages
    ]
    if rows:
        lines.extend(_table(["#", "Id", "Received", "From", "Size", "Flags", "Subject"], rows))
    return "\n".join(lines)


def formatMessage(folder, message):
    """
    A message: headers, body, attachments.

    @type folder: L{S.Folder}
    @type message: L{S.Message}
    @rtype: L{str}
    """
    sender = message.sender
    if message.senderAddress and message.senderAddress != sender:
        sender = "%s <%s>" % (sender, message.senderAddress) if sender else message.senderAddress
    to = message.to or ", ".join(r.name for r in message.recipients if r.kind == "To")
    cc = message.cc or ", ".join(r.name for r in message.recipients if r.kind == "Cc")
    lines = [
        "Message %s in %s" % (message.id, folder.path),
        "From:    %s" % (sender or "-",),
        "To:      %s" % (to or "-",),
    ]
    if cc:
        lines.append("Cc:      %s" % (cc,))
    lines += [
        "Date:    %s" % (_date(message.received or message.sent),),
        "Subject: %s" % (message.subject,),
        "Class:   %s" % (message.messageClass or "-",),
        "Size:    %s%s" % (formatSize(message.size), "" if message.read else ", unread"),
        "",
        message.body.rstrip("\r\n"),
    ]
    if message.attachments:
        lines += ["", "Attachments:"]
        for a in message.attachments:
            lines.append("  [%d] %s (%s)" % (a.index, a.name, formatSize(a.size)))
    return "\n".join(lines)


def formatDownload(download):
    """
    Where an attachment went and its digest.

    @type download: L{S.Download}
    @rtype: L{str}
    """
    return "Saved %s (%d bytes) to %s\nSHA-256: %s" % (download.attachment.name, download.size, download.path, download.sha256)


def formatAddressBook(entries):
    """
    The Global Address List as a table.

    @param entries: L{S.AddressBookEntry} items.
    @rtype: L{str}
    """
    lines = ["Global Address List: %d entr%s" % (len(entries), "y" if len(entries) == 1 else "ies")]
    rows = [[e.displayName or "-", e.smtpAddress or "-", e.account or "-", e.title or ""] for e in entries]
    if rows:
        lines.extend(_table(["Name", "E-mail", "Account", "Title"], rows))
    return "\n".join(lines)


def formatNewMail(mail):
    """
    A new-mail notification and the message it announced.

    @type mail: L{S.NewMail}
    @rtype: L{str}
    """
    return "New mail in %s: %s\nFrom:    %s\nSubject: %s\nClass:   %s" % (
        mail.folder or S.formatId(mail.folderId),
        mail.id,
        mail.sender or "-",
        mail.subject,
        mail.messageClass or "-",
    )


def _plain(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def toJSON(value):
    """
    A result as JSON-ready values: dataclasses become dicts (ids also as
    hex text), datetimes ISO 8601 text.

    @rtype: L{dict}, L{list} or a scalar
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in dataclasses.fields(value):
            out[f.name] = toJSON(getattr(value, f.name))
        if hasattr(value, "id"):
            out["id"] = value.id
        return out
    if isinstance(value, (list, tuple)):
        return [toJSON(v) for v in value]
    return _plain(value)


class ProgressBar:
    """
    A one-line text progress bar, redrawn per chunk on a stream (stderr).
    """

    def __init__(self, stream, label, width=30, minimum=PROGRESS_THRESHOLD):
        self.stream = stream
        self.label = label
        self.width = width
        self.minimum = minimum
        self.drawn = False
        self._percent = None

    def __call__(self, done, total):
        """
        Redraw: C{done} of C{total} bytes.
        """
        if total < self.minimum:
            return
        percent = 100 * done // max(total, 1)
        if percent == self._percent and done < total:
            return
        self._percent = percent
        filled = self.width * done // total if total else self.width
        self.stream.write(
            "\r%s [%s%s] %3d%% %s / %s" % (self.label, "#" * filled, "." * (self.width - filled), percent, formatSize(done), formatSize(total))
        )
        self.drawn = True
        if done >= total:
            self.finish()
        else:
            self.stream.flush()

    def finish(self):
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False


# -- running -------------------------------------------------------------------


def _errorText(error):
    if isinstance(error, DCERPCFault) and error.status == Status.ACCESS_DENIED:
        return "access denied by the server (wrong user name or password?)"
    if isinstance(error, DCERPCFault) and error.status == Status.NCA_S_PROTO_ERROR:
        return "the server faulted the call: %s (wrong user name or password?)" % (error,)
    if isinstance(error, DCERPCFault):
        return "the server faulted the call: %s" % (error,)
    if isinstance(error, BindError):
        return "the server refused us: %s" % (error,)
    return str(error) or type(error).__name__


@inlineCallbacks
def _command(reactor, args, options, out, err):
    """
    Run one subcommand.

    @return: what to print: C{(text, json value)}.
    """
    if args.command == "profile":
        profile = yield S.createProfile(reactor, options)
        return formatProfile(profile), {"profile": toJSON(profile)}
    if args.command == "address-book":
        entries = yield S.listAddressBook(reactor, options)
        return formatAddressBook(entries), {"entries": toJSON(entries)}
    profile = yield S.createProfile(reactor, options)
    store = yield S.openStore(reactor, options, profile)
    try:
        session = {"mailbox": store.displayName, "server": profile.storeBinding, "serverVersion": formatVersion(store.serverVersion), "legacy": store.legacy}
        if args.command == "folders":
            folders = yield store.listFolders()
            return formatFolders(store, folders), dict(session, folders=toJSON(folders))
        if args.command == "messages":
            folder = yield store.findFolder(args.folder)
            messages = yield store.listMessages(folder)
            return formatMessages(folder, messages), dict(session, folder=toJSON(folder), messages=toJSON(messages))
        if args.command == "show":
            folder, mid = yield store.resolveMessage(args.message)
            message = yield store.showMessage(folder.folderId, mid, markRead=args.mark_read)
            return formatMessage(folder, message), dict(session, folder=toJSON(folder), message=toJSON(message))
        if args.command == "fetch-attachment":
            folder, mid = yield store.resolveMessage(args.message)
            path = args.output
            if path is None:
                path = "attachment-%d" % (args.number,)
            bar = ProgressBar(err, os.path.basename(path))
            try:
                download = yield store.fetchAttachment(folder.folderId, mid, args.number, path, progress=bar)
            finally:
                bar.finish()
            return formatDownload(download), dict(session, download=toJSON(download))
        if args.command == "wait-newmail":
            if not args.json:
                out.write("Waiting for new mail in %s's mailbox (%gs)...\n" % (store.displayName or profile.displayName, args.timeout))
                out.flush()
            mail = yield store.waitNewMail(args.timeout)
            return formatNewMail(mail), dict(session, newMail=toJSON(mail))
        raise UsageError("unknown command %r" % (args.command,))
    finally:
        yield store.close()


def _startLogging(debug, stream):
    level = LogLevel.debug if debug else LogLevel.critical
    observer = FilteringLogObserver(textFileLogObserver(stream), [LogLevelFilterPredicate(defaultLogLevel=level)])
    globalLogBeginner.beginLoggingTo([observer], discardBuffer=True, redirectStandardIO=False)


@inlineCallbacks
def run(reactor, argv, stdout=None, stderr=None, prompt=getpass.getpass, startLogging=False):
    """
    Run C{mapiproxy-client} with a command line.

    @param reactor: the reactor.
    @param argv: the arguments, without the program name.
    @param stdout: where results go (default C{sys.stdout}).
    @param stderr: where errors and the progress bar go.
    @param prompt: asks for a missing password.
    @param startLogging: start Twisted's global logging (C{main} does;
        with C{-d} the calls are logged on C{stderr}).
    @return: a L{Deferred} firing with the exit status: 0 on success, 1 on
        failure, 2 on a usage error.
    """
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    notes = []
    args = None
    try:
        args = parseArguments(argv)
        if startLogging:
            _startLogging(args.debug, err)

        def note(text):
            notes.append(text)
            if not args.json:
                out.write("note: %s\n" % (text,))
                out.flush()

        options = optionsFrom(args, prompt, note)
        text, document = yield _command(reactor, args, options, out, err)
    except _Exit as e:
        out.write(str(e) if e.args[0] else "")
        return e.status
    except UsageError as e:
        err.write("%s: error: %s\n" % (PROGRAM, e))
        if args is None:
            err.write("usage: %s --binding BINDING -U DOMAIN/USER%%PASSWORD COMMAND ... (see --help)\n" % (PROGRAM,))
        return 2
    except (MapiProxyError, OSError) as e:
        err.write("%s: error: %s\n" % (PROGRAM, _errorText(e)))
        if args is not None and args.json:
            out.write(json.dumps({"command": args.command, "error": _errorText(e), "notes": notes}) + "\n")
        return 1
    except Exception as e:
        # A bug of ours or an answer nobody foresaw: still one line.
        err.write("%s: internal error: %s: %s%s\n" % (PROGRAM, type(e).__name__, e, "" if args is not None and args.debug else " (-d shows more)"))
        if args is not None and args.debug:
            err.write(traceback.format_exc())
        return 1
    if args.json:
        document = dict({"command": args.command, "notes": notes}, **document)
        out.write(json.dumps(document, indent=2, sort_keys=False) + "\n")
    else:
        out.write(text + "\n")
    return 0


def main(argv=None):
    """
    The console script: run the command line under the reactor
    (L{twisted.internet.task.react}) and exit with its status.
    """
    from twisted.internet.task import react

    arguments = list(sys.argv[1:] if argv is None else argv)

    def _main(reactor):
        def finished(status):
            raise SystemExit(status)

        return run(reactor, arguments, startLogging=True).addCallback(finished)

    react(_main)


if __name__ == "__main__":
    main()
