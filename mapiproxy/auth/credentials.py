# -*- test-case-name: tests.auth.test_credentials -*-
"""
Who we are: the credentials our initiator presents upstream and the names
our acceptor announces to clients.
"""

from dataclasses import dataclass, field
from typing import Optional

from spnego._ntlm_raw.crypto import ntowfv1

from mapiproxy.errors import ConfigError


@dataclass(frozen=True)
class Credentials:
    """
    A user name with either a password or an NT hash, as the NTLM initiator
    uses them ([MS-NLMP] 3.1.1.1).

    The C{repr} never shows the password or the hash.

    @ivar username: the account name, without domain.
    @ivar password: the clear-text password, or L{None} when C{ntHash} is
        given.
    @ivar domain: the NetBIOS domain the account belongs to (may be empty).
    @ivar workstation: the workstation name to announce (may be empty).
    @ivar ntHash: the 16-byte NT one-way function of the password, used when
        no clear-text password is known.
    """

    username: str
    password: Optional[str] = field(default=None, repr=False)
    domain: str = ""
    workstation: str = ""
    ntHash: Optional[bytes] = field(default=None, repr=False)

    def __post_init__(self):
        if self.ntHash is not None and len(self.ntHash) != 16:
            raise ConfigError("an NT hash is 16 bytes, not %d" % (len(self.ntHash),))

    def __repr__(self):
        secret = "none"
        if self.password is not None:
            secret = "password"
        elif self.ntHash is not None:
            secret = "nt-hash"
        return "Credentials(username=%r, domain=%r, workstation=%r, secret=<%s>)" % (
            self.username,
            self.domain,
            self.workstation,
            secret,
        )

    def computeNTHash(self):
        """
        The NT one-way function of these credentials: C{MD4(UTF-16LE(password))}
        ([MS-NLMP] 3.3.1), or the stored hash.

        @return: 16 bytes.
        @rtype: L{bytes}
        @raise ConfigError: neither a password nor a hash is known.
        """
        if self.ntHash is not None:
            return self.ntHash
        if self.password is None:
            raise ConfigError("no password or NT hash for user %r" % (self.username,))
        return ntowfv1(self.password)

    @classmethod
    def parse(cls, text):
        """
        Parse a credential string the way Samba's C{rpcclient -U} does:
        C{DOMAIN/user%password}, C{DOMAIN\\user%password}, C{user%password} or
        C{user}. Only the first C{%} separates the password, so a password
        may contain C{%}.

        @param text: the credential string.
        @type text: L{str}
        @return: the parsed credentials.
        @rtype: L{Credentials}
        @raise ConfigError: the user name is empty.
        """
        password = None
        if "%" in text:
            text, password = text.split("%", 1)
        domain = ""
        for separator in ("\\", "/"):
            if separator in text:
                domain, text = text.split(separator, 1)
                break
        if not text:
            raise ConfigError("empty user name in credentials")
        return cls(username=text, password=password, domain=domain)


@dataclass(frozen=True)
class ServerIdentity:
    """
    The names our NTLM acceptor announces in its CHALLENGE (the target name
    and the AV pairs of [MS-NLMP] 2.2.2.1), and against which it matches the
    domain of local accounts.

    @ivar netbiosName: our NetBIOS computer name (C{netbios name}).
    @ivar workgroup: our NetBIOS domain (C{workgroup}).
    @ivar dnsDomain: our DNS domain (C{realm}), may be empty.
    @ivar dnsHostname: our fully qualified DNS name, may be empty.
    """

    netbiosName: str
    workgroup: str
    dnsDomain: str = ""
    dnsHostname: str = ""
