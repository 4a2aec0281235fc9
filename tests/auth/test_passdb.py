"""
Tests for L{mapiproxy.auth.passdb}.
"""

import os
import re
import shutil
import stat
import subprocess

from impacket.ntlm import compute_nthash
from twisted.trial.unittest import SynchronousTestCase

from mapiproxy.auth import passdb
from mapiproxy.auth.credentials import ServerIdentity
from mapiproxy.auth.passdb import PassDB
from mapiproxy.errors import ConfigError

IDENTITY = ServerIdentity("PROXY1", "RELAY")
BOB_HASH = compute_nthash("Secret1")
ALICE_HASH = compute_nthash("Alice.2")
SAMBA_LINE = re.compile(r"^[^:]+:\d+:X{32}:[0-9A-F]{32}:\[[A-Z ]{11}\]:LCT-[0-9A-F]{8}:$")


class PassDBTestCase(SynchronousTestCase):
    """
    Write password files in a temporary directory.
    """

    def writeFile(self, text, name="smbpasswd"):
        directory = self.mktemp()
        os.makedirs(directory)
        path = os.path.join(directory, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def load(self, text):
        return PassDB.fromFile(self.writeFile(text), IDENTITY)


class ParseTests(PassDBTestCase):
    """
    L{PassDB.fromFile} reads Samba's and pyspnego's line formats.
    """

    def test_sambaSevenFields(self):
        """
        Samba's trailing-colon line with an X-ed LM hash gives the NT hash.
        """
        db = self.load("bob:1000:%s:%s:[U          ]:LCT-6576A1B2:\n" % ("X" * 32, BOB_HASH.hex().upper()))
        account = db.lookup("bob", "")
        self.assertEqual((account.username, account.ntHash, account.disabled), ("bob", BOB_HASH, False))

    def test_pyspnegoSixFields(self):
        """
        pyspnego's 6-field form (no trailing colon, real LM hash) is read.
        """
        db = self.load(
            "bob:1000:278623D830DABE161104594F8C2EF12B:%s:[U]:LCT-1589398321\n" % (BOB_HASH.hex(),)
        )
        self.assertEqual(db.lookup("bob", "").ntHash, BOB_HASH)

    def test_pyspnegoDomainInName(self):
        """
        pyspnego's C{DOMAIN\\user} name field makes a domain account.
        """
        db = self.load("OTHER\\bob:1000:%s:%s:[U]:LCT-1:\n" % ("0" * 32, BOB_HASH.hex()))
        self.assertIsNone(db.lookup("bob", "RELAY"))
        self.assertEqual(db.lookup("bob", "other").ntHash, BOB_HASH)

    def test_threeFields(self):
        """
        A C{DOMAIN:USER:PASSWORD} line stores the NT hash of the password.
        """
        db = self.load("RELAY:alice:Alice.2\n")
        account = db.lookup("ALICE", "relay")
        self.assertEqual((account.username, account.ntHash, account.domain), ("alice", ALICE_HASH, "RELAY"))

    def test_threeFieldsPasswordWithColons(self):
        """
        The password of a 3-field line may itself contain colons.
        """
        db = self.load("RELAY:alice:a:b:c:d:e\n")
        self.assertEqual(db.lookup("alice", "RELAY").ntHash, compute_nthash("a:b:c:d:e"))

    def test_disabledFlag(self):
        """
        The C{D} flag disables an account; C{N} is recorded.
        """
        db = self.load("bob:1000:%s:%s:[DNU        ]:LCT-6576A1B2:\n" % ("X" * 32, BOB_HASH.hex()))
        account = db.lookup("bob", "")
        self.assertEqual((account.disabled, account.noPasswordRequired), (True, True))

    def test_noPassword(self):
        """
        A C{NO PASSWORD} or X-ed NT field gives an account without hash.
        """
        db = self.load(
            "a:1:NO PASSWORDXXXXXXXXXXXXXXXXXXXXX:NO PASSWORDXXXXXXXXXXXXXXXXXXXXX:[NU         ]:LCT-1:\n"
            "b:2:%s:%s:[U          ]:LCT-1:\n" % ("X" * 32, "X" * 32)
        )
        self.assertEqual([db.lookup("a", "").ntHash, db.lookup("b", "").ntHash], [None, None])

    def test_commentsAndBlankLines(self):
        """
        Comments and blank lines are skipped; the rest keeps file order.
        """
        db = self.load("# accounts\n\n   \nRELAY:alice:x\n  # indented comment\nbob:5:%s:%s:[U]:LCT-0:\n" % (
            "X" * 32,
            BOB_HASH.hex(),
        ))
        self.assertEqual((len(db), db.usernames()), (2, ["alice", "bob"]))

    def test_crlf(self):
        """
        Windows line ends do not end up in passwords or flags.
        """
        db = self.load("RELAY:alice:Alice.2\r\n")
        self.assertEqual(db.lookup("alice", "RELAY").ntHash, ALICE_HASH)

    def test_badHashLength(self):
        """
        A short hash is a L{ConfigError} naming file and line.
        """
        path = self.writeFile("# x\nbob:1000:%s:ABCDEF:[U]:LCT-0:\n" % ("X" * 32,))
        error = self.assertRaises(ConfigError, PassDB.fromFile, path, IDENTITY)
        self.assertEqual((error.path, error.line), (path, 2))
        self.assertIn("NT hash", str(error))

    def test_badHashDigits(self):
        """
        A hash that is not hexadecimal is a L{ConfigError}.
        """
        path = self.writeFile("bob:1000:%s:%s:[U]:LCT-0:\n" % ("X" * 32, "G" * 32))
        error = self.assertRaises(ConfigError, PassDB.fromFile, path, IDENTITY)
        self.assertEqual(error.line, 1)

    def test_badFlags(self):
        """
        Unknown or unterminated account flags are a L{ConfigError}.
        """
        for flags in ("[U?]", "[U"):
            path = self.writeFile("bob:1000:%s:%s:%s:LCT-0:\n" % ("X" * 32, BOB_HASH.hex(), flags))
            self.assertRaises(ConfigError, PassDB.fromFile, path, IDENTITY)

    def test_tooFewFields(self):
        """
        A line with fewer than 3 fields is a L{ConfigError} with its number.
        """
        path = self.writeFile("RELAY:alice:x\njustaname\n")
        error = self.assertRaises(ConfigError, PassDB.fromFile, path, IDENTITY)
        self.assertEqual(error.line, 2)

    def test_emptyUser(self):
        """
        An empty user name is refused in both formats.
        """
        for text in ("RELAY::pw\n", ":1000:%s:%s:[U]:LCT-0:\n" % ("X" * 32, BOB_HASH.hex())):
            self.assertRaises(ConfigError, PassDB.fromFile, self.writeFile(text), IDENTITY)

    def test_notUTF8(self):
        """
        Undecodable bytes are a L{ConfigError}, not a UnicodeDecodeError.
        """
        path = self.writeFile("")
        with open(path, "wb") as f:
            f.write(b"RELAY:bob:ok\nRELAY:\xff\xfe:x\n")
        error = self.assertRaises(ConfigError, PassDB.fromFile, path, IDENTITY)
        self.assertEqual(error.line, 2)

    def test_missingFile(self):
        """
        An unreadable file is a L{ConfigError} naming the file.
        """
        path = os.path.abspath(self.mktemp())
        error = self.assertRaises(ConfigError, PassDB.fromFile, path, IDENTITY)
        self.assertEqual(error.path, path)
        self.assertIn(path, str(error))

    def test_accountReprHidesHash(self):
        """
        An account's repr shows its name, never its hash.
        """
        account = self.load("RELAY:alice:Alice.2\n").lookup("alice", "RELAY")
        self.assertNotIn(ALICE_HASH.hex(), repr(account).lower())
        self.assertIn("alice", repr(account))


class LookupTests(PassDBTestCase):
    """
    L{PassDB.lookup} matches users without regard to case and local
    accounts against our own names.
    """

    def setUp(self):
        self.db = self.load(
            "bob:1000:%s:%s:[U          ]:LCT-0:\n"
            "OTHER:bob:Other.1\n"
            ":carol:Carol.1\n" % ("X" * 32, BOB_HASH.hex())
        )

    def test_localMatchesOwnNames(self):
        """
        A local account matches an empty domain, the workgroup and the
        NetBIOS name, in any case.
        """
        for domain in ("", "RELAY", "relay", "PROXY1", "Proxy1"):
            self.assertEqual(self.db.lookup("BOB", domain).ntHash, BOB_HASH, domain)

    def test_localDoesNotMatchForeignDomain(self):
        """
        A local account does not match another domain.
        """
        self.assertIsNone(self.db.lookup("carol", "ELSEWHERE"))

    def test_exactDomainWins(self):
        """
        A domain line matching the client's domain wins over a local one.
        """
        self.assertEqual(self.db.lookup("bob", "other").ntHash, compute_nthash("Other.1"))

    def test_emptyDomainThreeField(self):
        """
        A 3-field line with an empty domain is local.
        """
        self.assertEqual(self.db.lookup("Carol", "relay").ntHash, compute_nthash("Carol.1"))

    def test_unknownUser(self):
        """
        An unknown user gives L{None}.
        """
        self.assertIsNone(self.db.lookup("mallory", ""))


class WriteTests(PassDBTestCase):
    """
    L{passdb.addUser}, L{passdb.removeUser} and L{passdb.setEnabled} write
    Samba's format atomically with mode 0600.
    """

    def path(self):
        directory = self.mktemp()
        os.makedirs(directory)
        return os.path.join(directory, "smbpasswd")

    def test_addCreatesSambaLine(self):
        """
        Adding to a missing file creates it, mode 0600, with one line in
        Samba's exact format.
        """
        path = self.path()
        passdb.addUser(path, "bob", "Secret1", uid=1234)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        with open(path) as f:
            lines = f.read().splitlines()
        self.assertEqual(len(lines), 1)
        self.assertRegex(lines[0], SAMBA_LINE)
        self.assertTrue(lines[0].startswith("bob:1234:%s:%s:[U          ]:LCT-" % ("X" * 32, BOB_HASH.hex().upper())))
        self.assertEqual(PassDB.fromFile(path, IDENTITY).lookup("bob", "").ntHash, BOB_HASH)

    def test_addReplacesKeepingOthers(self):
        """
        Adding an existing user changes its hash and keeps its uid, its
        flags and every other line (comments, 3-field lines) in place.
        """
        path = self.writeFile(
            "# keep me\nbob:77:%s:%s:[DU         ]:LCT-00000001:\nRELAY:alice:Alice.2\n" % ("X" * 32, "0" * 32)
        )
        passdb.addUser(path, "BOB", "Secret1")
        with open(path) as f:
            lines = f.read().splitlines()
        self.assertEqual(lines[0], "# keep me")
        self.assertEqual(lines[2], "RELAY:alice:Alice.2")
        self.assertTrue(lines[1].startswith("bob:77:"))
        db = PassDB.fromFile(path, IDENTITY)
        self.assertEqual((db.lookup("bob", "").ntHash, db.lookup("bob", "").disabled), (BOB_HASH, True))

    def test_addPicksNextUid(self):
        """
        Without a Unix account, a new user gets one past the highest uid.
        """
        path = self.writeFile("zz1:1500:%s:%s:[U          ]:LCT-0:\n" % ("X" * 32, "0" * 32))
        passdb.addUser(path, "mapiproxy-no-such-unix-user", "pw")
        with open(path) as f:
            self.assertTrue(f.read().splitlines()[1].startswith("mapiproxy-no-such-unix-user:1501:"))

    def test_addRefusesBadNames(self):
        """
        A name holding a colon or a newline cannot be added.
        """
        for name in ("", "a:b", "a\nb", "a\\b"):
            self.assertRaises(ConfigError, passdb.addUser, self.path(), name, "pw")

    def test_removeUser(self):
        """
        Removing deletes only that account and reports whether it existed.
        """
        path = self.writeFile(
            "bob:1:%s:%s:[U          ]:LCT-0:\nRELAY:alice:Alice.2\n" % ("X" * 32, BOB_HASH.hex())
        )
        self.assertTrue(passdb.removeUser(path, "Bob"))
        self.assertFalse(passdb.removeUser(path, "bob"))
        self.assertEqual(PassDB.fromFile(path, IDENTITY).usernames(), ["alice"])
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)

    def test_setEnabled(self):
        """
        Disabling adds the C{D} flag in Samba's layout; enabling removes it.
        """
        path = self.path()
        passdb.addUser(path, "bob", "Secret1", uid=1)
        self.assertTrue(passdb.setEnabled(path, "bob", False))
        with open(path) as f:
            line = f.read().strip()
        self.assertIn(":[DU         ]:", line)
        self.assertTrue(PassDB.fromFile(path, IDENTITY).lookup("bob", "").disabled)
        self.assertTrue(passdb.setEnabled(path, "bob", True))
        with open(path) as f:
            self.assertIn(":[U          ]:", f.read())
        self.assertFalse(passdb.setEnabled(path, "nobody", True))

    def test_noTemporaryFilesLeft(self):
        """
        The atomic rewrite leaves only the password file behind.
        """
        path = self.path()
        passdb.addUser(path, "bob", "Secret1", uid=1)
        passdb.setEnabled(path, "bob", False)
        passdb.removeUser(path, "bob")
        self.assertEqual(os.listdir(os.path.dirname(path)), ["smbpasswd"])

    def test_formatLine(self):
        """
        L{passdb.formatLine} writes the hex time upper-case on 8 digits.
        """
        self.assertEqual(
            passdb.formatLine("bob", 0, BOB_HASH, "DU", lastChange=0x6B06DA98),
            "bob:0:%s:%s:[DU         ]:LCT-6B06DA98:" % ("X" * 32, BOB_HASH.hex().upper()),
        )


class SambaToolTests(PassDBTestCase):
    """
    Files written by Samba's own smbpasswd tool parse, and files we write
    look like them.
    """

    def setUp(self):
        if shutil.which("smbpasswd") is None:
            raise self.skipTest("Samba's smbpasswd tool is not installed")
        self.directory = os.path.abspath(self.mktemp())
        for sub in ("private", "lock", "state", "cache", "pid"):
            os.makedirs(os.path.join(self.directory, sub))
        self.passdbPath = os.path.join(self.directory, "smbpasswd")
        self.conf = os.path.join(self.directory, "smb.conf")
        with open(self.conf, "w") as f:
            f.write("[global]\n  workgroup = RELAY\n  netbios name = PROXY1\n")
            f.write("  passdb backend = smbpasswd:%s\n" % (self.passdbPath,))
            for sub in ("private", "lock", "state", "cache", "pid"):
                f.write("  %s directory = %s\n" % (sub, os.path.join(self.directory, sub)))
            f.write("  log file = %s\n" % (os.path.join(self.directory, "log"),))

    def smbpasswd(self, *arguments, stdin=""):
        result = subprocess.run(
            ["smbpasswd", "-c", self.conf] + list(arguments),
            input=stdin,
            capture_output=True,
            text=True,
        )
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_parseSambaWrittenFile(self):
        """
        An account added then disabled by Samba's smbpasswd parses with the
        right NT hash and the disabled flag, and our writer produces the
        same line shape.
        """
        self.smbpasswd("-a", "-s", "root", stdin="Secret1\nSecret1\n")
        self.smbpasswd("-d", "root")
        with open(self.passdbPath) as f:
            sambaLine = f.read().splitlines()[0]
        self.assertRegex(sambaLine, SAMBA_LINE)
        account = PassDB.fromFile(self.passdbPath, IDENTITY).lookup("ROOT", "relay")
        self.assertEqual((account.ntHash, account.disabled), (BOB_HASH, True))
        ours = passdb.formatLine("root", 0, BOB_HASH, "DU", lastChange=int(sambaLine.split("LCT-")[1][:8], 16))
        self.assertEqual(ours, sambaLine)

    def test_sambaReadsOurFile(self):
        """
        Samba's smbpasswd can enable an account in a file we wrote, and
        its change leaves our hash intact.
        """
        passdb.addUser(self.passdbPath, "root", "Secret1", uid=0)
        passdb.setEnabled(self.passdbPath, "root", False)
        self.smbpasswd("-e", "root")
        account = PassDB.fromFile(self.passdbPath, IDENTITY).lookup("root", "")
        self.assertEqual((account.ntHash, account.disabled), (BOB_HASH, False))
