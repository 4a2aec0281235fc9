"""
Tests for L{mapiproxy.auth.passwdtool}.
"""

import io
import os
import stat
import subprocess
import sys

from impacket.ntlm import compute_nthash
from twisted.trial.unittest import SynchronousTestCase

from mapiproxy.auth import passwdtool
from mapiproxy.auth.credentials import ServerIdentity
from mapiproxy.auth.passdb import PassDB

IDENTITY = ServerIdentity("PROXY1", "RELAY")


class PasswdToolTests(SynchronousTestCase):
    """
    C{mapiproxy-passwd} adds, deletes, disables and enables accounts like
    Samba's smbpasswd.
    """

    def setUp(self):
        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        self.path = os.path.join(directory, "smbpasswd")

    def runTool(self, *argv, stdin=""):
        stdout, stderr = io.StringIO(), io.StringIO()
        code = passwdtool.main(list(argv), stdin=io.StringIO(stdin), stdout=stdout, stderr=stderr)
        return code, stdout.getvalue(), stderr.getvalue()

    def account(self, name):
        return PassDB.fromFile(self.path, IDENTITY).lookup(name, "")

    def test_addSilent(self):
        """
        C{-a USER -s} reads the password twice from stdin and writes a mode
        0600 file whose account has that password's NT hash.
        """
        code, out, err = self.runTool("-f", self.path, "-s", "-a", "bob", stdin="Secret1\nSecret1\n")
        self.assertEqual((code, out, err), (0, "Added user bob.\n", ""))
        self.assertEqual(stat.S_IMODE(os.stat(self.path).st_mode), 0o600)
        self.assertEqual(self.account("bob").ntHash, compute_nthash("Secret1"))

    def test_changePassword(self):
        """
        C{-a} on an existing user changes the password.
        """
        self.runTool("-f", self.path, "-s", "-a", "bob", stdin="Old.1\nOld.1\n")
        self.runTool("-f", self.path, "-s", "-a", "bob", stdin="New.2\nNew.2\n")
        db = PassDB.fromFile(self.path, IDENTITY)
        self.assertEqual((len(db), db.lookup("bob", "").ntHash), (1, compute_nthash("New.2")))

    def test_mismatch(self):
        """
        Two different passwords exit 1 with Samba's message and write
        nothing.
        """
        code, out, err = self.runTool("-f", self.path, "-s", "-a", "bob", stdin="one\ntwo\n")
        self.assertEqual(code, 1)
        self.assertIn("Mismatch - password unchanged.", err)
        self.assertFalse(os.path.exists(self.path))

    def test_noInput(self):
        """
        An empty stdin is refused rather than setting an empty password.
        """
        code, _, _ = self.runTool("-f", self.path, "-s", "-a", "bob", stdin="")
        self.assertEqual(code, 1)
        self.assertFalse(os.path.exists(self.path))

    def test_prompt(self):
        """
        Without C{-s} the passwords are read with getpass and Samba's
        prompts.
        """
        prompts = []

        def fakeGetpass(prompt):
            prompts.append(prompt)
            return "Prompted.1"

        self.patch(passwdtool.getpass, "getpass", fakeGetpass)
        code, _, _ = self.runTool("-f", self.path, "-a", "bob")
        self.assertEqual(code, 0)
        self.assertEqual(prompts, ["New SMB password:", "Retype new SMB password:"])
        self.assertEqual(self.account("bob").ntHash, compute_nthash("Prompted.1"))

    def test_disableEnable(self):
        """
        C{-d} disables and C{-e} enables an account.
        """
        self.runTool("-f", self.path, "-s", "-a", "bob", stdin="pw\npw\n")
        self.assertEqual(self.runTool("-f", self.path, "-d", "bob"), (0, "Disabled user bob.\n", ""))
        self.assertTrue(self.account("bob").disabled)
        self.assertEqual(self.runTool("-f", self.path, "-e", "bob"), (0, "Enabled user bob.\n", ""))
        self.assertFalse(self.account("bob").disabled)

    def test_delete(self):
        """
        C{-x} deletes an account; deleting it again exits 1.
        """
        self.runTool("-f", self.path, "-s", "-a", "bob", stdin="pw\npw\n")
        self.assertEqual(self.runTool("-f", self.path, "-x", "bob"), (0, "Deleted user bob.\n", ""))
        self.assertIsNone(self.account("bob"))
        code, _, err = self.runTool("-f", self.path, "-x", "bob")
        self.assertEqual(code, 1)
        self.assertIn("Failed to find entry for user bob.", err)

    def test_unknownUserDisable(self):
        """
        Disabling an unknown user exits 1.
        """
        self.assertEqual(self.runTool("-f", self.path, "-d", "nobody")[0], 1)

    def test_usageErrors(self):
        """
        A missing C{-f}, a missing action or two actions exit 2.
        """
        self.patch(sys, "stderr", io.StringIO())
        self.assertEqual(self.runTool("-a", "bob")[0], 2)
        self.assertEqual(self.runTool("-f", self.path)[0], 2)
        self.assertEqual(self.runTool("-f", self.path, "-d", "a", "-e", "b")[0], 2)

    def test_unwritableDirectory(self):
        """
        A file in a missing directory is reported, exit 1, no traceback.
        """
        code, _, err = self.runTool("-f", os.path.join(self.path, "sub", "x"), "-s", "-a", "bob", stdin="p\np\n")
        self.assertEqual(code, 1)
        self.assertIn("cannot", err)

    def test_asProcess(self):
        """
        The module runs as a program (what the console script does).
        """
        result = subprocess.run(
            [sys.executable, "-m", "mapiproxy.auth.passwdtool", "-f", self.path, "-s", "-a", "bob"],
            input="Secret1\nSecret1\n",
            capture_output=True,
            text=True,
            cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
        )
        self.assertEqual((result.returncode, result.stdout), (0, "Added user bob.\n"), result.stderr)
        self.assertEqual(self.account("bob").ntHash, compute_nthash("Secret1"))
