"""
Tests for L{mapiproxy.auth.credentials}.
"""

from impacket.ntlm import compute_nthash
from twisted.trial.unittest import SynchronousTestCase

from mapiproxy.auth.credentials import Credentials, ServerIdentity
from mapiproxy.errors import ConfigError


class CredentialsParseTests(SynchronousTestCase):
    """
    L{Credentials.parse} reads rpcclient's C{-U} syntax.
    """

    def test_domainSlash(self):
        """
        C{DOMAIN/user%password} gives all three parts.
        """
        credentials = Credentials.parse("RELAY/bob%Secret1")
        self.assertEqual(
            (credentials.domain, credentials.username, credentials.password),
            ("RELAY", "bob", "Secret1"),
        )

    def test_domainBackslash(self):
        """
        C{DOMAIN\\user%password} is the same as the slash form.
        """
        self.assertEqual(Credentials.parse("RELAY\\bob%Secret1"), Credentials("bob", "Secret1", "RELAY"))

    def test_userPassword(self):
        """
        Without a domain part the domain is empty.
        """
        self.assertEqual(Credentials.parse("bob%pw"), Credentials("bob", "pw", ""))

    def test_userOnly(self):
        """
        Without C{%} there is no password.
        """
        credentials = Credentials.parse("bob")
        self.assertEqual((credentials.username, credentials.password), ("bob", None))

    def test_passwordWithPercentAndSlash(self):
        """
        Only the first C{%} separates the password, and separators inside
        the password are not domain separators.
        """
        credentials = Credentials.parse("bob%a%b/c\\d")
        self.assertEqual(
            (credentials.domain, credentials.username, credentials.password),
            ("", "bob", "a%b/c\\d"),
        )

    def test_emptyPassword(self):
        """
        C{user%} gives an empty (not missing) password.
        """
        self.assertEqual(Credentials.parse("bob%").password, "")

    def test_emptyUser(self):
        """
        An empty user name is a L{ConfigError}.
        """
        self.assertRaises(ConfigError, Credentials.parse, "RELAY/%pw")


class CredentialsTests(SynchronousTestCase):
    """
    Secrets stay out of reprs; the NT hash is computed like impacket does.
    """

    def test_reprHidesPassword(self):
        """
        The repr names the user but not the password.
        """
        text = repr(Credentials("bob", "Sup3rSecret", "RELAY"))
        self.assertIn("bob", text)
        self.assertNotIn("Sup3rSecret", text)
        self.assertIn("secret=<password>", text)

    def test_reprHidesHash(self):
        """
        The repr shows neither the bytes nor the hex of an NT hash.
        """
        ntHash = compute_nthash("Sup3rSecret")
        text = repr(Credentials("bob", ntHash=ntHash))
        self.assertNotIn(ntHash.hex(), text.lower())
        self.assertNotIn(repr(ntHash), text)
        self.assertIn("secret=<nt-hash>", text)

    def test_computeNTHashFromPassword(self):
        """
        The NT hash of a password equals impacket's C{compute_nthash}.
        """
        self.assertEqual(Credentials("bob", "Sup3rSecret").computeNTHash(), compute_nthash("Sup3rSecret"))

    def test_computeNTHashStored(self):
        """
        A stored hash is returned as is.
        """
        self.assertEqual(Credentials("bob", ntHash=b"\x01" * 16).computeNTHash(), b"\x01" * 16)

    def test_computeNTHashNothing(self):
        """
        Without password or hash there is nothing to compute.
        """
        self.assertRaises(ConfigError, Credentials("bob").computeNTHash)

    def test_badHashLength(self):
        """
        An NT hash must be 16 bytes.
        """
        self.assertRaises(ConfigError, Credentials, "bob", None, "", "", b"\x00" * 15)

    def test_frozen(self):
        """
        Credentials and identities cannot be modified.
        """
        credentials = Credentials("bob", "pw")
        identity = ServerIdentity("PROXY1", "RELAY")
        self.assertRaises(AttributeError, setattr, credentials, "username", "eve")
        self.assertRaises(AttributeError, setattr, identity, "workgroup", "X")
