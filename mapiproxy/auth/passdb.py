# -*- test-case-name: tests.auth.test_passdb -*-
"""
The accounts our NTLM acceptor authenticates: a Samba C{smbpasswd} file
(smbpasswd(5)), in which lines in pyspnego's C{DOMAIN:USER:PASSWORD} form
may be mixed.

A Samba line is::

    name:uid:LMHASH:NTHASH:[UX         ]:LCT-6576A1B2:

The LM hash may be 32 C{X} (none stored), the account flags between the
brackets use Samba's letters (C{D} disabled, C{N} no password required,
C{U} normal user, C{W} workstation trust, C{X} password does not expire...)
and the last change time is hexadecimal seconds since the epoch.
"""

import os
import pwd
import tempfile
import time

from spnego._ntlm_raw.crypto import ntowfv1

from mapiproxy.errors import ConfigError

#: What Samba writes in a hash field that holds no hash.
_NO_HASH = "X" * 32
_NO_PASSWORD_PREFIX = "NO PASSWORD"
#: The number of characters between the brackets of the account flags that
#: Samba's smbpasswd writes (pdb_encode_acct_ctrl).
_FLAG_FIELD_WIDTH = 11
_FIRST_UID = 1000


class Account:
    """
    One account of the password database.

    @ivar username: the account name, as written in the file.
    @ivar ntHash: the 16-byte NT hash, or L{None} when the file stores none.
    @ivar disabled: whether the account is disabled (Samba flag C{D}).
    @ivar noPasswordRequired: Samba flag C{N}; recorded, not honoured (an
        account without an NT hash never authenticates).
    @ivar domain: the domain a C{DOMAIN:USER:PASSWORD} line names, or L{None}
        for a local account, which matches our own names.
    """

    def __init__(self, username, ntHash, disabled=False, noPasswordRequired=False, domain=None):
        self.username = username
        self.ntHash = ntHash
        self.disabled = disabled
        self.noPasswordRequired = noPasswordRequired
        self.domain = domain

    def __repr__(self):
        return "<Account %s%s%s>" % (
            (self.domain + "\\") if self.domain else "",
            self.username,
            " (disabled)" if self.disabled else "",
        )


class PassDB:
    """
    A read-only set of L{Account}s and the rules matching a client's
    (user, domain) pair to one of them.

    @ivar identity: our names; a local account matches a domain that is
        empty, our workgroup or our NetBIOS name, as Samba does.
    @type identity: L{mapiproxy.auth.credentials.ServerIdentity}
    """

    def __init__(self, accounts, identity):
        """
        @param accounts: the accounts, in file order.
        @type accounts: iterable of L{Account}
        @param identity: our names.
        @type identity: L{mapiproxy.auth.credentials.ServerIdentity}
        """
        self._accounts = list(accounts)
        self.identity = identity

    @classmethod
    def fromFile(cls, path, identity):
        """
        Read an smbpasswd file (with pyspnego's 3-field lines allowed).

        @param path: the file.
        @type path: L{str}
        @param identity: our names.
        @type identity: L{mapiproxy.auth.credentials.ServerIdentity}
        @return: the database.
        @rtype: L{PassDB}
        @raise ConfigError: the file cannot be read, or a line is malformed
            (the error names the file and the line).
        """
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except OSError as e:
            raise ConfigError("cannot read password database: %s" % (e.strerror or e,), path)
        accounts = []
        for number, line in enumerate(raw.split(b"\n"), 1):
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                raise ConfigError("line is not valid UTF-8", path, number)
            account = _parseLine(text.rstrip("\r"), path, number)
            if account is not None:
                accounts.append(account)
        return cls(accounts, identity)

    def __len__(self):
        return len(self._accounts)

    def usernames(self):
        """
        @return: the account names, in file order.
        @rtype: L{list} of L{str}
        """
        return [account.username for account in self._accounts]

    def lookup(self, username, domain):
        """
        Find the account a client names. The user name is compared without
        regard to case. An account of a C{DOMAIN:USER:PASSWORD} line matches
        only its domain (case-insensitively); a local (smbpasswd) account,
        or a 3-field line with an empty domain, matches when C{domain} is
        empty, our workgroup or our NetBIOS name. An exact domain match wins
        over a local account.

        @param username: the user name the client sent.
        @type username: L{str}
        @param domain: the domain the client sent (may be empty).
        @type domain: L{str}
        @return: the account, or L{None}.
        @rtype: L{Account} or L{None}
        """
        user = username.casefold()
        wanted = (domain or "").casefold()
        local = {"", self.identity.workgroup.casefold(), self.identity.netbiosName.casefold()}
        fallback = None
        for account in self._accounts:
            if account.username.casefold() != user:
                continue
            if account.domain:
                if account.domain.casefold() == wanted:
                    return account
            elif fallback is None and wanted in local:
                fallback = account
        return fallback


def _parseLine(text, path, number):
    """
    Parse one line of the file.

    @return: an L{Account}, or L{None} for a blank or comment line.
    @raise ConfigError: the line is malformed.
    """
    stripped = text.strip()
    if not stripped or stripped.startswith("#"):
        return None
    fields = text.split(":")
    if len(fields) >= 6 and fields[1].strip().isdigit():
        return _parseSmbpasswd(fields, path, number)
    if len(fields) >= 3:
        domain, user, password = text.split(":", 2)
        if not user:
            raise ConfigError("empty user name", path, number)
        return Account(user, ntowfv1(password), domain=domain or None)
    raise ConfigError(
        "expected 'name:uid:LMHASH:NTHASH:[flags]:LCT-time:' or 'DOMAIN:USER:PASSWORD'",
        path,
        number,
    )


def _parseSmbpasswd(fields, path, number):
    """
    Parse the fields of a Samba smbpasswd line.
    """
    name = fields[0]
    if not name:
        raise ConfigError("empty user name", path, number)
    domain = None
    if "\\" in name:
        # pyspnego's dialect of the format: DOMAIN\user in the name field.
        domain, name = name.split("\\", 1)
        if not name:
            raise ConfigError("empty user name", path, number)
    _checkHash(fields[2], "LM", path, number)
    ntHash = _checkHash(fields[3], "NT", path, number)
    flags = ""
    flagField = fields[4].strip()
    if flagField.startswith("["):
        if not flagField.endswith("]"):
            raise ConfigError("unterminated account flags %r" % (fields[4],), path, number)
        flags = flagField[1:-1].strip()
        unknown = set(flags) - set("DHILMNSTUWX")
        if unknown:
            raise ConfigError("unknown account flags %r" % ("".join(sorted(unknown)),), path, number)
    return Account(
        name,
        ntHash,
        disabled="D" in flags,
        noPasswordRequired="N" in flags,
        domain=domain,
    )


def _checkHash(text, which, path, number):
    """
    Decode a 32-hex-digit hash field.

    @return: 16 bytes, or L{None} for an X-ed or "NO PASSWORD" field.
    @raise ConfigError: the field is neither.
    """
    if text.upper() == _NO_HASH or text.startswith(_NO_PASSWORD_PREFIX):
        return None
    if len(text) != 32:
        raise ConfigError("%s hash must be 32 hex digits, got %d characters" % (which, len(text)), path, number)
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise ConfigError("%s hash is not hexadecimal" % (which,), path, number)


def formatLine(username, uid, ntHash, flags="U", lastChange=None):
    """
    Format one line exactly as Samba's smbpasswd tool writes it.

    @param username: the account name.
    @type username: L{str}
    @param uid: the Unix uid.
    @type uid: L{int}
    @param ntHash: 16 bytes.
    @type ntHash: L{bytes}
    @param flags: the account flag letters, e.g. C{"DU"}.
    @type flags: L{str}
    @param lastChange: the last change time (seconds since the epoch); now
        when L{None}.
    @type lastChange: L{int} or L{None}
    @return: the line, without its newline.
    @rtype: L{str}
    """
    if lastChange is None:
        lastChange = int(time.time())
    return "%s:%d:%s:%s:[%s]:LCT-%08X:" % (
        username,
        uid,
        _NO_HASH,
        ntHash.hex().upper(),
        flags.ljust(_FLAG_FIELD_WIDTH),
        lastChange & 0xFFFFFFFF,
    )


def _checkUsername(username):
    """
    Refuse a name that cannot be written to the file.

    @raise ConfigError: the name is empty or holds a colon, a backslash or a
        line break.
    """
    if not username or any(c in username for c in ":\\\r\n"):
        raise ConfigError("invalid user name %r" % (username,))


def _readLines(path):
    """
    @return: the lines of C{path} without newlines, or C{[]} if it does not
        exist.
    @raise ConfigError: it cannot be read.
    """
    try:
        with open(path, "r", encoding="utf-8") as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError("cannot read password database: %s" % (e,), path)


def _writeLines(path, lines):
    """
    Replace C{path} atomically (temporary file in the same directory, then
    C{os.replace}) with mode 0600.

    @raise ConfigError: it cannot be written.
    """
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, temporary = tempfile.mkstemp(prefix=".passdb-", dir=directory)
    except OSError as e:
        raise ConfigError("cannot write password database: %s" % (e.strerror or e,), path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write("".join(line + "\n" for line in lines))
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except OSError as e:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise ConfigError("cannot write password database: %s" % (e.strerror or e,), path)


def _smbpasswdName(line):
    """
    @return: the name field of a Samba-format line, or L{None} for any other
        line (comment, blank, 3-field).
    """
    if line.strip().startswith("#"):
        return None
    fields = line.split(":")
    if len(fields) >= 6 and fields[1].strip().isdigit():
        return fields[0]
    return None


def _findLine(lines, username):
    """
    @return: the index of the Samba-format line of C{username}
        (case-insensitive), or L{None}.
    """
    wanted = username.casefold()
    for index, line in enumerate(lines):
        name = _smbpasswdName(line)
        if name is not None and name.casefold() == wanted:
            return index
    return None


def _pickUid(username, lines):
    """
    Choose the uid of a new account: the Unix account's when there is one,
    else one past the highest uid in the file (at least 1000).
    """
    try:
        return pwd.getpwnam(username).pw_uid
    except KeyError:
        pass
    uids = [_FIRST_UID - 1]
    for line in lines:
        if _smbpasswdName(line) is not None:
            uids.append(int(line.split(":")[1]))
    return max(uids) + 1


def addUser(path, username, password, uid=None):
    """
    Add an account, or set the password of an existing one (keeping its
    uid and flags), writing Samba's line format. The file is created with
    mode 0600 if it is missing.

    @param path: the smbpasswd file.
    @type path: L{str}
    @param username: the account name.
    @type username: L{str}
    @param password: the new password.
    @type password: L{str}
    @param uid: the uid of a new account; by default the Unix account's, or
        the next free one.
    @type uid: L{int} or L{None}
    @raise ConfigError: invalid name, or the file cannot be read or written.
    """
    _checkUsername(username)
    lines = _readLines(path)
    index = _findLine(lines, username)
    flags = "U"
    if index is not None:
        fields = lines[index].split(":")
        if uid is None:
            uid = int(fields[1])
        flagField = fields[4].strip()
        if flagField.startswith("[") and flagField.endswith("]"):
            flags = flagField[1:-1].strip() or "U"
        username = fields[0]
    elif uid is None:
        uid = _pickUid(username, lines)
    line = formatLine(username, uid, ntowfv1(password), flags)
    if index is None:
        lines.append(line)
    else:
        lines[index] = line
    _writeLines(path, lines)


def removeUser(path, username):
    """
    Delete an account.

    @param path: the smbpasswd file.
    @type path: L{str}
    @param username: the account name (case-insensitive).
    @type username: L{str}
    @return: whether the account existed.
    @rtype: L{bool}
    @raise ConfigError: the file cannot be read or written.
    """
    lines = _readLines(path)
    index = _findLine(lines, username)
    if index is None:
        return False
    del lines[index]
    _writeLines(path, lines)
    return True


def setEnabled(path, username, enabled):
    """
    Enable or disable an account (Samba's C{D} flag).

    @param path: the smbpasswd file.
    @type path: L{str}
    @param username: the account name (case-insensitive).
    @type username: L{str}
    @param enabled: the new state.
    @type enabled: L{bool}
    @return: whether the account existed.
    @rtype: L{bool}
    @raise ConfigError: the file cannot be read or written, or the line is
        malformed.
    """
    lines = _readLines(path)
    index = _findLine(lines, username)
    if index is None:
        return False
    fields = lines[index].split(":")
    flagField = fields[4].strip()
    if not (flagField.startswith("[") and flagField.endswith("]")):
        raise ConfigError("account %r has no account flags field" % (username,), path, index + 1)
    flags = flagField[1:-1].replace(" ", "").replace("D", "")
    if not enabled:
        flags = "D" + flags
    fields[4] = "[%s]" % (flags.ljust(_FLAG_FIELD_WIDTH),)
    lines[index] = ":".join(fields)
    _writeLines(path, lines)
    return True
