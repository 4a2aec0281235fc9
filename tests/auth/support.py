"""
Helpers shared by the tests of L{mapiproxy.auth}: a server identity and
password database, a DCE/RPC request fragment builder, a token-exchange
loop, an impacket-based client-side signer, and Samba gensec peers run in
Debian's /usr/bin/python3.
"""

import atexit
import os
import shutil
import struct
import subprocess
import tempfile

from Cryptodome.Cipher import ARC4
from impacket import ntlm as impacketNTLM
from spnego._ntlm_raw.crypto import ntowfv1

from mapiproxy.auth.credentials import ServerIdentity
from mapiproxy.auth.passdb import Account, PassDB
from mapiproxy.dcerpc.constants import AUTH_PAD_ALIGNMENT, DREP_LE, PFC, AuthLevel, AuthType, PType

IDENTITY = ServerIdentity("PROXY1", "RELAY", "relay.test", "proxy1.relay.test")
USER = "bob"
PASSWORD = "Secret1.Bob"
DOMAIN = "RELAY"


def makePassDB(*extra):
    """
    @return: a L{PassDB} holding C{bob} (password L{PASSWORD}) and C{extra}.
    """
    return PassDB([Account(USER, ntowfv1(PASSWORD))] + list(extra), IDENTITY)


def requestPDU(stub, authType=AuthType.NTLM, authLevel=AuthLevel.PRIVACY, callId=1, opnum=3):
    """
    Build a DCE/RPC request fragment ([MS-RPCE] 2.2.2.1): common header,
    request fields, the stub padded to 16, the sec_trailer and a 16-byte
    verifier placeholder.

    @return: C{(fragment, dataStart, dataEnd)}; the region is stub + pad.
    """
    pad = (-len(stub)) % AUTH_PAD_ALIGNMENT
    body = stub + b"\x00" * pad
    fragLength = 24 + len(body) + 8 + 16
    header = struct.pack(
        "<BBBB4sHHI",
        5,
        0,
        PType.REQUEST,
        PFC.FIRST_FRAG | PFC.LAST_FRAG,
        DREP_LE,
        fragLength,
        16,
        callId,
    )
    request = struct.pack("<IHH", len(stub), 0, opnum)
    trailer = struct.pack("<BBBBI", authType, authLevel, pad, 0, 79231)
    return bytearray(header + request + body + trailer + b"\x00" * 16), 24, 24 + len(body)


def runExchange(initiatorStep, acceptorStep, limit=6):
    """
    Pass tokens between two step functions until neither has anything to
    send.

    @param initiatorStep: C{step(tokenOrNone) -> tokenOrNone}, called
        first with L{None}.
    @param acceptorStep: the same for the acceptor.
    @return: the number of tokens exchanged.
    """
    token = initiatorStep(None)
    count = 0
    steps = [acceptorStep, initiatorStep]
    while token is not None:
        count += 1
        if count > limit:
            raise AssertionError("the exchange does not end")
        token = steps[(count - 1) % 2](token)
    return count


class ImpacketClientSigner:
    """
    The client half of NTLM sign/seal exactly as impacket's C{DCERPC_v5}
    does it (impacket.md section 1.3): C{ntlm.SIGNKEY}/C{SEALKEY}, two
    pycryptodomex RC4 streams with ESS, C{ntlm.SEAL}/C{SIGN} for outgoing
    fragments, and C{ntlm.MAC} for checking the server's verifiers (which
    impacket itself never does).
    """

    def __init__(self, flags, exportedSessionKey):
        self.flags = flags
        self.clientSignKey = impacketNTLM.SIGNKEY(flags, exportedSessionKey)
        self.serverSignKey = impacketNTLM.SIGNKEY(flags, exportedSessionKey, "Server")
        self.clientHandle = ARC4.new(impacketNTLM.SEALKEY(flags, exportedSessionKey)).encrypt
        self.serverHandle = ARC4.new(impacketNTLM.SEALKEY(flags, exportedSessionKey, "Server")).encrypt
        self.sequenceOut = 0
        self.sequenceIn = 0

    def protect(self, buf, dataStart, dataEnd, level):
        message = bytes(buf[:-16])
        if level == AuthLevel.PRIVACY:
            sealed, signature = impacketNTLM.SEAL(
                self.flags,
                self.clientSignKey,
                None,
                message,
                bytes(buf[dataStart:dataEnd]),
                self.sequenceOut,
                self.clientHandle,
            )
            buf[dataStart:dataEnd] = sealed
        else:
            signature = impacketNTLM.SIGN(self.flags, self.clientSignKey, message, self.sequenceOut, self.clientHandle)
        buf[-16:] = signature.getData()
        self.sequenceOut += 1

    def unprotect(self, buf, dataStart, dataEnd, level):
        """
        @return: whether the server's verifier matches.
        """
        if level == AuthLevel.PRIVACY:
            buf[dataStart:dataEnd] = self.serverHandle(bytes(buf[dataStart:dataEnd]))
        expected = impacketNTLM.MAC(
            self.flags, self.serverHandle, self.serverSignKey, self.sequenceIn, bytes(buf[:-16])
        ).getData()
        self.sequenceIn += 1
        return expected == bytes(buf[-16:])


SAMBA_PYTHON = "/usr/bin/python3"
_PEER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "samba_gensec_peer.py")


def sambaSkipReason():
    """
    @return: why Samba's gensec cannot be used here, or L{None}.
    """
    if not os.path.exists(SAMBA_PYTHON):
        return "%s does not exist" % (SAMBA_PYTHON,)
    result = subprocess.run(
        [SAMBA_PYTHON, "-c", "import samba.gensec, samba.credentials, samba.param"],
        env=_sambaEnvironment(),
        capture_output=True,
    )
    if result.returncode != 0:
        return "%s cannot import samba.gensec (python3-samba missing)" % (SAMBA_PYTHON,)
    return None


def _sambaEnvironment(**extra):
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    environment.update(extra)
    return environment


class SambaPeer:
    """
    A Samba gensec security context in a child process, driven line by
    line (see samba_gensec_peer.py).
    """

    def __init__(self, arguments, password=None):
        environment = _sambaEnvironment()
        if password is not None:
            environment["GENSEC_PEER_PASSWORD"] = password
        self._process = subprocess.Popen(
            [SAMBA_PYTHON, _PEER_SCRIPT] + list(arguments),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=environment,
            text=True,
        )
        ready = self._process.stdout.readline().strip()
        if ready != "ready":
            self.close()
            raise AssertionError("the Samba gensec peer did not start")
        self.finished = False

    @classmethod
    def client(cls, mech, user, domain, password, *options):
        return cls(["client", mech, user, domain] + list(options), password=password)

    @classmethod
    def server(cls, mech, smbConf):
        return cls(["server", mech, smbConf])

    def _command(self, *words):
        self._process.stdin.write(" ".join(words) + "\n")
        self._process.stdin.flush()
        answer = self._process.stdout.readline().split()
        if not answer:
            raise AssertionError("the Samba gensec peer died")
        if answer[0] == "err":
            raise SambaError(" ".join(answer[1:]))
        return answer[1:]

    def step(self, token):
        """
        gensec_update. Raises L{SambaError} when Samba refuses.

        @return: Samba's token, or L{None} when it has nothing to send.
        """
        finished, out = self._command("update", _hex(token))
        self.finished = finished == "1"
        data = _unhex(out)
        return data or None

    def sessionKey(self):
        return _unhex(self._command("sessionkey")[0])

    def signPacket(self, data, pdu):
        return _unhex(self._command("sign", _hex(data), _hex(pdu))[0])

    def checkPacket(self, data, pdu, signature):
        """
        @return: whether gensec_check_packet accepts it.
        """
        try:
            self._command("check", _hex(data), _hex(pdu), _hex(signature))
        except SambaError:
            return False
        return True

    def wrap(self, data):
        return _unhex(self._command("wrap", _hex(data))[0])

    def unwrap(self, data):
        return _unhex(self._command("unwrap", _hex(data))[0])

    def close(self):
        if self._process.poll() is None:
            try:
                self._process.stdin.write("quit\n")
                self._process.stdin.close()
            except OSError:
                pass
            self._process.wait(10)
        self._process.stdout.close()


class SambaError(Exception):
    """Samba's gensec answered with an error."""


def _hex(data):
    return bytes(data or b"").hex() or "-"


def _unhex(text):
    return b"" if text == "-" else bytes.fromhex(text)


_domain = {}


def sambaDomain():
    """
    Provision (once per test process) a throwaway Samba AD domain RELAY in
    a temporary directory, with the user C{bob}; it is deleted when the
    process exits.

    @return: the path of its smb.conf.
    @raise AssertionError: provisioning failed.
    """
    if "conf" in _domain:
        return _domain["conf"]
    directory = tempfile.mkdtemp(prefix="mapiproxy-authtests-samba-")
    atexit.register(shutil.rmtree, directory, True)
    provision = subprocess.run(
        [
            "samba-tool",
            "domain",
            "provision",
            "--targetdir=" + directory,
            "--realm=RELAY.TEST",
            "--domain=" + DOMAIN,
            "--server-role=dc",
            "--dns-backend=NONE",
            "--host-name=dc1",
            "--adminpass=Passw0rd.Relay1",
            "--option=interfaces=lo",
            "--option=bind interfaces only=yes",
            "--option=log file=" + os.path.join(directory, "log.%m"),
        ],
        capture_output=True,
        env=_sambaEnvironment(),
    )
    if provision.returncode != 0:
        raise AssertionError("samba-tool domain provision failed: %s" % (provision.stderr[-500:],))
    add = subprocess.run(
        ["samba-tool", "user", "add", USER, PASSWORD, "-H", os.path.join(directory, "private", "sam.ldb")],
        capture_output=True,
        env=_sambaEnvironment(),
    )
    if add.returncode != 0:
        raise AssertionError("samba-tool user add failed: %s" % (add.stderr[-500:],))
    _domain["conf"] = os.path.join(directory, "etc", "smb.conf")
    return _domain["conf"]
