"""
Samba's own clients against the engine's server role: smbtorture's
C{rpc.echo} suite with NTLMSSP (auth_type 10) at levels connect, sign and
seal and with SPNEGO (auth_type 9), captured by tshark and checked for
malformed packets.
"""

import re

from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks
from twisted.internet.utils import getProcessOutputAndValue
from twisted.trial.unittest import TestCase

from tests.dcerpc.test_endtoend import DOMAIN, PASSWORD, USER, makeServer
from tests.peers import requireRoot, requireTool
from tests.tshark import Capture, authenticatedCount, malformedFrames

#: The rpc.echo tests whose opnums the test service implements.
IMPLEMENTED = ("addone", "sinkdata", "echodata", "sourcedata", "testcall", "testcall2", "sleep")
#: The ones that call opnums it leaves out (enum, surrounding, doublepointer).
NOT_IMPLEMENTED = ("enum", "surrounding", "doublepointer")


def parseSubunit(output):
    """
    The C{success:}/C{failure:} lines of smbtorture's output.

    @return: C{{test name: "success" or "failure"}}.
    """
    results = {}
    for match in re.finditer(r"^(success|failure|error|skip): echo\.(\w+)", output, re.M):
        results[match.group(2)] = match.group(1)
    return results


def emptyStubFrames(path):
    """
    The frame numbers of authenticated DCE/RPC PDUs that carry no stub.
    """
    import subprocess

    out = subprocess.run(
        ["tshark", "-r", path, "-Y", "dcerpc.pkt_type == 2 && dcerpc.cn_auth_len > 0",
         "-T", "fields", "-e", "frame.number", "-e", "dcerpc.cn_frag_len", "-e", "dcerpc.cn_auth_len"],
        capture_output=True, text=True, timeout=60,
    ).stdout
    frames = set()
    for line in out.splitlines():
        number, fragLengths, authLengths = line.split("\t")[:3]
        pairs = zip(fragLengths.split(","), authLengths.split(","))
        if any(int(f) == 24 + 8 + int(a) for f, a in pairs):
            frames.add(int(number))
    return frames


@inlineCallbacks
def runEchoSuite(testCase, binding, domain, user, password):
    """
    Run smbtorture's rpc.echo against C{binding} (Kerberos off), and check
    that every test of an implemented opnum passes and every other one
    fails.

    @return: a L{Deferred} firing with smbtorture's output text.
    """
    smbtorture = requireTool("smbtorture")
    conf = testCase.mktemp()
    with open(conf, "w") as f:
        f.write("[global]\n  client use kerberos = off\n")
    out, err, code = yield getProcessOutputAndValue(
        smbtorture,
        [
            "-s",
            conf,
            "--option=clientusekerberos=off",
            "--maximum-runtime=60",
            "-U",
            "%s\\%s%%%s" % (domain, user, password),
            binding,
            "rpc.echo",
        ],
        env={"PATH": "/usr/bin:/bin"},
    )
    text = out.decode("utf-8", "replace")
    results = parseSubunit(text)
    for name in IMPLEMENTED:
        testCase.assertEqual(results.get(name), "success", "%s with %s:\n%s" % (name, binding, text[-3000:]))
    for name in NOT_IMPLEMENTED:
        testCase.assertEqual(results.get(name), "failure", name)
    return text


class SmbtortureEchoTests(TestCase):
    """
    smbtorture rpc.echo against our rpcecho service, four ways.
    """

    timeout = 240

    def setUp(self):
        requireTool("smbtorture")

    @inlineCallbacks
    def test_echoSuite(self):
        """
        Every rpc.echo test of an implemented opnum passes with NTLM at levels
        2, 5, 6 and with SPNEGO; the others get nca_op_rng_error.
        """
        requireRoot("tshark on lo")
        port, factory, echo = makeServer(self, host="127.0.0.2", reactor=reactor)
        capture = Capture([port], host="127.0.0.2")
        capture.start()
        self.addCleanup(getattr(capture, "cleanup", lambda: None))
        try:
            for flags in ("seal,ntlm", "sign,ntlm", "connect,ntlm", "seal,spnego"):
                text = yield runEchoSuite(
                    self, "ncacn_ip_tcp:127.0.0.2[%d,%s]" % (port, flags), DOMAIN, USER, PASSWORD
                )
                self.assertIn("NT_STATUS_RPC_PROCNUM_OUT_OF_RANGE", text)
        finally:
            path = capture.stop()
        self.assertEqual(malformedFrames(path), [])
        # tshark re-derives each NTLMv2 response from the password: our
        # acceptor's CHALLENGE and the client's AUTHENTICATE are consistent.
        counts = authenticatedCount(path, PASSWORD)
        self.assertGreater(counts.messages, 0)
        self.assertEqual(counts.authenticated, counts.messages)
        # With decryption, tshark 4.0 flags sealed PDUs whose stub is empty
        # (echo_SinkData is void: its response has no stub at all) as
        # malformed: it cannot make a zero-length decrypted buffer. Every
        # other frame must decrypt and dissect cleanly.
        bad = malformedFrames(path, ntlmPassword=PASSWORD, decodeAs=[port])
        empty = emptyStubFrames(path)
        self.assertEqual([frame for frame in bad if int(frame[0]) not in empty], [])
