"""
Tests of the real-peer fixtures (L{tests.peers}, L{tests.tshark}) against
the real Samba, rpcclient, smbtorture, impacket and tshark.

They double as the "direct" baselines: what these clients see when they
talk to Samba with nothing in between, which the proxy tests compare with.
"""

import atexit
import os
import socket
import struct

from impacket.dcerpc.v5 import samr, transport
from impacket.dcerpc.v5.rpcrt import (
    RPC_C_AUTHN_LEVEL_PKT_PRIVACY,
    RPC_C_AUTHN_WINNT,
    DCERPCException,
)
from twisted.trial.unittest import SkipTest, SynchronousTestCase

from mapiproxy.dcerpc.constants import AuthLevel, AuthType, PType, Status
from tests import peers
from tests.peers import (
    DYNAMIC_PORTS,
    EPMAPPER_PORT,
    PROXY_HOST,
    SAMBA_HOST,
    PeerCredentials,
    PeerUnavailable,
    SambaDC,
    canBindPrivileged,
    freePort,
    portOpen,
    requireTool,
    withBindingOption,
)
from tests.tshark import (
    Capture,
    TsharkError,
    authenticatedCount,
    malformedFrames,
    summary,
)

_DSSETUP_UUID = "3919286a-b10c-11d0-9ba8-00c04fd92ef5"
_SAMBA_PORTS = [EPMAPPER_PORT, DYNAMIC_PORTS]

_captures = {}


def _capturedRun(name, run):
    """
    Capture C{run()} once per test process (several tests read the same
    capture) on Samba's ports.

    @param name: the memo key.
    @type name: L{str}
    @param run: a callable doing the traffic; its result is kept.
    @return: C{(pcapng path, run's result)}.
    @rtype: L{tuple}
    """
    if name not in _captures:
        requireTool("tshark")
        capture = Capture(_SAMBA_PORTS, host=SAMBA_HOST)
        atexit.register(capture.cleanup)
        with capture:
            result = run()
        _captures[name] = (capture.path, result)
    return _captures[name]


def _impacketSamr(port, password, username="Administrator"):
    """
    Connect impacket's SAMR client at packet privacy (auth level 6,
    auth_type 10) and list the domains.

    @return: the domain names.
    @rtype: L{list} of L{str}
    """
    rpc = transport.DCERPCTransportFactory("ncacn_ip_tcp:%s[%d]" % (SAMBA_HOST, port))
    rpc.set_credentials(username, password, "RELAY")
    dce = rpc.get_dce_rpc()
    dce.set_auth_type(RPC_C_AUTHN_WINNT)
    dce.set_auth_level(RPC_C_AUTHN_LEVEL_PKT_PRIVACY)
    dce.connect()
    try:
        dce.bind(samr.MSRPC_UUID_SAMR)
        handle = samr.hSamrConnect(dce)["ServerHandle"]
        reply = samr.hSamrEnumerateDomainsInSamServer(dce, handle)
        return [entry["Name"] for entry in reply["Buffer"]["Buffer"]]
    finally:
        dce.disconnect()


def _users(stdout):
    """
    The account names in rpcclient's C{enumdomusers} output.

    @type stdout: L{str}
    @rtype: L{list} of L{str}
    """
    return [
        line.split("[", 1)[1].split("]", 1)[0]
        for line in stdout.splitlines()
        if line.startswith("user:[")
    ]


class HelperTests(SynchronousTestCase):
    """
    The small helpers of L{tests.peers}, no Samba needed.
    """

    def test_requireToolSkipsOutsideCI(self):
        """
        A missing tool skips the test when C{CI} is not C{true}.
        """
        self.patch(os, "environ", {"PATH": os.environ.get("PATH", "")})
        self.assertRaises(SkipTest, requireTool, "mapiproxy-no-such-tool")

    def test_requireToolFailsInCI(self):
        """
        A missing tool is an error, not a skip, when C{CI} is C{true}.
        """
        self.patch(os, "environ", {"PATH": os.environ.get("PATH", ""), "CI": "true"})
        error = self.assertRaises(
            PeerUnavailable, requireTool, "mapiproxy-no-such-tool"
        )
        self.assertIn("mapiproxy-no-such-tool", str(error))

    def test_requireToolReturnsPath(self):
        """
        An installed tool is found on C{PATH} and its full path returned.
        """
        path = requireTool("sh")
        self.assertTrue(os.path.isabs(path))
        self.assertEqual(os.path.basename(path), "sh")

    def test_freePortIsBindable(self):
        """
        L{freePort} returns a port that can then be listened on.
        """
        port = freePort(PROXY_HOST)
        with socket.socket() as sock:
            sock.bind((PROXY_HOST, port))
            sock.listen(1)
            self.assertEqual(sock.getsockname(), (PROXY_HOST, port))

    def test_canBindPrivilegedSeesBusyPort(self):
        """
        L{canBindPrivileged} is false for a port someone listens on.
        """
        with socket.socket() as sock:
            sock.bind((PROXY_HOST, 0))
            sock.listen(1)
            port = sock.getsockname()[1]
            self.assertFalse(canBindPrivileged(PROXY_HOST, port))
        self.assertTrue(canBindPrivileged(PROXY_HOST, port))

    def test_canBindPrivilegedPort135(self):
        """
        As root, port 135 on L{PROXY_HOST} (where our own epmapper listens in
        the tests) can be had, and L{canBindPrivileged} sees when it is taken.
        """
        peers.requireRoot("port 135")
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((PROXY_HOST, EPMAPPER_PORT))
            except OSError as e:
                raise SkipTest("%s:135 is taken: %s" % (PROXY_HOST, e))
            sock.listen(1)
            self.assertFalse(canBindPrivileged(PROXY_HOST, EPMAPPER_PORT))
        self.assertTrue(canBindPrivileged(PROXY_HOST, EPMAPPER_PORT))

    def test_withBindingOption(self):
        """
        L{withBindingOption} adds an option to the bracket list, or creates
        one, without duplicates.
        """
        self.assertEqual(
            withBindingOption("ncacn_ip_tcp:127.0.0.1[seal]", "spnego"),
            "ncacn_ip_tcp:127.0.0.1[seal,spnego]",
        )
        self.assertEqual(
            withBindingOption("ncacn_ip_tcp:127.0.0.1", "seal"),
            "ncacn_ip_tcp:127.0.0.1[seal]",
        )
        self.assertEqual(
            withBindingOption("ncacn_ip_tcp:127.0.0.1[15002,spnego]", "spnego"),
            "ncacn_ip_tcp:127.0.0.1[15002,spnego]",
        )

    def test_credentialsReprHidesPassword(self):
        """
        The repr of L{PeerCredentials} names the user, not the password.
        """
        text = repr(PeerCredentials("Administrator", "Passw0rd.Relay1", "RELAY"))
        self.assertIn("Administrator", text)
        self.assertNotIn("Passw0rd", text)

    def test_captureRejectsNoPorts(self):
        """
        A capture with no ports, or a stepped range, is refused at once.
        """
        self.assertRaises(ValueError, Capture, [])
        self.assertRaises(ValueError, Capture, [range(15000, 15010, 2)])

    def test_malformedFramesMissingFile(self):
        """
        Reading a capture that does not exist raises L{TsharkError}.
        """
        requireTool("tshark")
        path = os.path.join(self.mktemp(), "missing.pcapng")
        self.assertRaises(TsharkError, malformedFrames, path)


class SambaDirectTests(SynchronousTestCase):
    """
    Real clients straight to the real Samba AD DC: the baselines.
    """

    def setUp(self):
        self.dc = SambaDC.shared()

    def test_sharedIsReused(self):
        """
        L{SambaDC.shared} returns the same running instance every time.
        """
        self.assertIs(SambaDC.shared(), self.dc)
        self.assertTrue(self.dc.running())
        self.assertTrue(portOpen(SAMBA_HOST, EPMAPPER_PORT))

    def test_eptMapSamr(self):
        """
        Samba's endpoint mapper places SAMR on a port of the dynamic range,
        and that port accepts connections.
        """
        port = self.dc.samrPort()
        self.assertIn(port, DYNAMIC_PORTS)
        self.assertTrue(portOpen(SAMBA_HOST, port))

    def test_rpcclientSeal(self):
        """
        rpcclient at packet privacy (NTLMSSP, auth_type 10) lists the
        domain's users, Administrator (rid 0x1f4) among them.
        """
        code, out, err = self.dc.rpcclient(self.dc.binding(), "enumdomusers")
        self.assertEqual(code, 0, err)
        self.assertIn("user:[Administrator] rid:[0x1f4]", out)
        self.assertIn("krbtgt", _users(out))

    def test_rpcclientSealSpnego(self):
        """
        rpcclient at packet privacy through SPNEGO (auth_type 9) lists the
        same users.
        """
        code, out, err = self.dc.rpcclient(
            self.dc.binding(), "enumdomusers", spnego=True
        )
        self.assertEqual(code, 0, err)
        self.assertIn("user:[Administrator] rid:[0x1f4]", out)

    def test_impacketSamrPrivacy(self):
        """
        impacket's SAMR client at auth level 6 enumerates the two domains of
        the DC: the account domain and the builtin one.
        """
        names = _impacketSamr(self.dc.samrPort(), self.dc.adminPassword)
        self.assertEqual(sorted(n.upper() for n in names), ["BUILTIN", "RELAY"])

    def test_wrongPasswordRpcclient(self):
        """
        With a wrong password rpcclient fails and reports
        NT_STATUS_CONNECTION_DISCONNECTED (Samba faulted the first call).
        """
        code, out, err = self.dc.rpcclient(
            self.dc.binding(), "enumdomusers", user="Administrator", password="wrong"
        )
        print("\nrpcclient, wrong password: exit %d, %r %r" % (code, out, err))
        self.assertNotEqual(code, 0)
        self.assertIn("NT_STATUS_CONNECTION_DISCONNECTED", out + err)
        self.assertEqual(_users(out), [])

    def test_wrongPasswordRpcclientSpnego(self):
        """
        With a wrong password over SPNEGO rpcclient fails at bind time with
        NT_STATUS_RPC_SEC_PKG_ERROR, listing nothing.
        """
        code, out, err = self.dc.rpcclient(
            self.dc.binding(),
            "enumdomusers",
            user="Administrator",
            password="wrong",
            spnego=True,
        )
        print("\nrpcclient spnego, wrong password: exit %d, %r %r" % (code, out, err))
        self.assertNotEqual(code, 0)
        self.assertIn("NT_STATUS_RPC_SEC_PKG_ERROR", out + err)
        self.assertEqual(_users(out), [])

    def test_wrongPasswordImpacket(self):
        """
        With a wrong password impacket's bind (and AUTH3) go through, and its
        first call fails with the fault nca_s_proto_error.
        """
        error = self.assertRaises(
            DCERPCException, _impacketSamr, self.dc.samrPort(), "wrong"
        )
        print("\nimpacket, wrong password: %r" % (str(error),))
        self.assertEqual(str(error), "nca_s_proto_error")

    def test_wrongPasswordFaultOnWire(self):
        """
        Samba refuses a wrong password by answering the first request after
        the AUTH3 with a fault PDU whose status is nca_proto_error
        (0x1c01000b), then closing.
        """
        path, _ = _capturedRun(
            "wrongPassword",
            lambda: self.dc.rpcclient(
                self.dc.binding(), "enumdomusers", password="wrong", user="Administrator"
            ),
        )
        rows = summary(
            path,
            fields=("dcerpc.pkt_type", "dcerpc.cn_status", "dcerpc.auth_type"),
            displayFilter="dcerpc and tcp.port != %d" % (EPMAPPER_PORT,),
        )
        types = [int(row["dcerpc.pkt_type"]) for row in rows]
        print("\nwrong password on the wire: %r" % (rows,))
        self.assertEqual(
            types, [PType.BIND, PType.BIND_ACK, PType.AUTH3, PType.REQUEST, PType.FAULT]
        )
        self.assertEqual(int(rows[-1]["dcerpc.cn_status"], 16), Status.NCA_S_PROTO_ERROR)

    def test_wrongPasswordSpnegoFaultOnWire(self):
        """
        Over SPNEGO, Samba refuses a wrong password by answering the
        alter_context that carries the NTLM AUTHENTICATE with a fault whose
        status is nca_s_fault_sec_pkg_error (0x721), on the same call_id.
        """
        path, _ = _capturedRun(
            "wrongPasswordSpnego",
            lambda: self.dc.rpcclient(
                self.dc.binding(),
                "enumdomusers",
                password="wrong",
                user="Administrator",
                spnego=True,
            ),
        )
        rows = summary(
            path,
            fields=("dcerpc.pkt_type", "dcerpc.cn_status", "dcerpc.cn_call_id"),
            displayFilter="dcerpc and tcp.port != %d" % (EPMAPPER_PORT,),
        )
        print("\nwrong password (spnego) on the wire: %r" % (rows,))
        types = [int(row["dcerpc.pkt_type"]) for row in rows]
        self.assertEqual(
            types, [PType.BIND, PType.BIND_ACK, PType.ALTER_CONTEXT, PType.FAULT]
        )
        self.assertEqual(int(rows[-1]["dcerpc.cn_status"], 16), Status.SEC_PKG_ERROR)
        self.assertEqual(rows[-1]["dcerpc.cn_call_id"], rows[-2]["dcerpc.cn_call_id"])

    def test_addUser(self):
        """
        A user added with L{SambaDC.addUser} can authenticate and shows up in
        the user list.
        """
        creds = self.dc.addUser("relayuser", "Passw0rd.User1")
        self.assertEqual(creds.domain, "RELAY")
        code, out, err = self.dc.rpcclient(
            self.dc.binding(), "enumdomusers", user=creds.username, password=creds.password
        )
        self.assertEqual(code, 0, err)
        self.assertIn("relayuser", _users(out))

    def test_smbtortureDssetup(self):
        """
        smbtorture's rpc.dssetup suite passes against the port Samba's
        endpoint mapper gives for dssetup (smbtorture obeys explicit ports).
        """
        port = self.dc.endpointPort(_DSSETUP_UUID, "0.0")
        self.assertIn(port, DYNAMIC_PORTS)
        code, out, err = self.dc.smbtorture(
            self.dc.binding(port=port, options=("seal",)), "rpc.dssetup"
        )
        self.assertEqual(code, 0, out[-1000:] + err[-1000:])
        self.assertIn("success: dssetup.DsRoleGetPrimaryDomainInformation", out)


class TsharkValidationTests(SynchronousTestCase):
    """
    tshark as the validator, on captures of real clients talking to Samba.
    """

    def setUp(self):
        requireTool("tshark")
        peers.requireRoot("tshark on lo")

    def _sealedCapture(self):
        """
        @return: the capture of a sealed rpcclient enumdomusers run.
        """
        dc = SambaDC.shared()
        return _capturedRun(
            "seal", lambda: dc.rpcclient(dc.binding(), "enumdomusers")
        )

    def test_detectsMalformedBind(self):
        """
        A hand-made bind that announces 3 presentation contexts but carries 1
        is reported by L{malformedFrames} (so "no errors" means something).
        """
        with socket.socket() as server:
            server.bind((PROXY_HOST, 0))
            server.listen(1)
            port = server.getsockname()[1]
            capture = Capture([port], host=PROXY_HOST)
            self.addCleanup(capture.cleanup)
            with capture:
                client = socket.create_connection((PROXY_HOST, port))
                accepted, _ = server.accept()
                item = (
                    struct.pack("<HBB", 0, 1, 0)
                    + bytes(16)
                    + struct.pack("<HH", 1, 0)
                    + bytes(16)
                    + struct.pack("<I", 2)
                )
                body = struct.pack("<HHIB3x", 4280, 4280, 0, 3) + item
                header = struct.pack(
                    "<BBBB4sHHI", 5, 0, PType.BIND, 3, b"\x10\0\0\0",
                    16 + len(body), 0, 1,
                )
                client.sendall(header + body)
                client.close()
                accepted.close()
        bad = malformedFrames(capture.path, decodeAs=[port])
        self.assertEqual(len(bad), 1, bad)
        self.assertIn("Bind", bad[0][1])
        self.assertIn("Malformed", bad[0][2])

    def test_sealedCaptureIsClean(self):
        """
        A sealed rpcclient session has no malformed or error frames, neither
        as framing alone nor unsealed with the password.
        """
        path, (code, _, _) = self._sealedCapture()
        self.assertEqual(code, 0)
        self.assertEqual(malformedFrames(path), [])
        self.assertEqual(
            malformedFrames(path, ntlmPassword=SambaDC.adminPassword), []
        )

    def test_sealedCaptureAuthenticated(self):
        """
        tshark verifies every NTLM AUTHENTICATE of the session against the
        administrator's password, and none against a wrong one.
        """
        path, _ = self._sealedCapture()
        counts = authenticatedCount(path, SambaDC.adminPassword)
        self.assertGreater(counts.messages, 0)
        self.assertEqual(counts.authenticated, counts.messages)
        self.assertEqual(authenticatedCount(path, "wrong").authenticated, 0)

    def test_sealedCapturePDUs(self):
        """
        The capture holds bind, bind_ack, auth3 and sealed (auth level 6,
        NTLMSSP auth_type 10) requests and responses.
        """
        path, _ = self._sealedCapture()
        rows = summary(path)
        types = {int(row["dcerpc.pkt_type"]) for row in rows}
        self.assertTrue(
            {PType.BIND, PType.BIND_ACK, PType.AUTH3, PType.REQUEST, PType.RESPONSE}
            <= types,
            types,
        )
        sealed = [
            row
            for row in rows
            if int(row["dcerpc.pkt_type"]) in (PType.REQUEST, PType.RESPONSE)
            and row["dcerpc.auth_level"]
        ]
        self.assertGreaterEqual(len(sealed), 2)
        for row in sealed:
            self.assertEqual(int(row["dcerpc.auth_level"]), AuthLevel.PRIVACY)
            self.assertEqual(int(row["dcerpc.auth_type"]), AuthType.NTLM)
            self.assertGreater(int(row["dcerpc.cn_frag_len"]), 16)

    def test_sealedCaptureUnsealsWithPassword(self):
        """
        With the password tshark unseals the SAMR stubs (decoded NT status
        fields appear); without it they stay opaque.
        """
        path, _ = self._sealedCapture()
        fields = ("samr.status",)
        withPassword = summary(
            path, fields=fields, displayFilter="samr.status",
            ntlmPassword=SambaDC.adminPassword,
        )
        self.assertGreater(len(withPassword), 0)
        self.assertEqual(summary(path, fields=fields, displayFilter="samr.status"), [])

    def test_spnegoCaptureIsClean(self):
        """
        A sealed SPNEGO rpcclient session (auth_type 9, NTLM completed by
        alter_context) has well-formed framing.
        """
        dc = SambaDC.shared()
        path, (code, _, _) = _capturedRun(
            "spnego",
            lambda: dc.rpcclient(dc.binding(), "enumdomusers", spnego=True),
        )
        self.assertEqual(code, 0)
        self.assertEqual(malformedFrames(path), [])
        rows = summary(path)
        types = {int(row["dcerpc.pkt_type"]) for row in rows}
        self.assertIn(PType.ALTER_CONTEXT, types)
        authTypes = {row["dcerpc.auth_type"] for row in rows if row["dcerpc.auth_type"]}
        self.assertEqual(authTypes, {str(int(AuthType.SPNEGO))})

    def test_impacketCaptureBaseline(self):
        """
        impacket's sealed SAMR session is clean as framing and authenticates;
        unsealed with the password, tshark's only complaint (its known quirk
        with impacket's NTLMSSP flags) is at most the first sealed request.
        """
        dc = SambaDC.shared()
        port = dc.samrPort()
        path, names = _capturedRun(
            "impacket", lambda: _impacketSamr(port, dc.adminPassword)
        )
        self.assertEqual(len(names), 2)
        self.assertEqual(malformedFrames(path), [])
        counts = authenticatedCount(path, dc.adminPassword)
        self.assertEqual(counts, (1, 1))
        sealedRequests = "dcerpc.pkt_type == 0 and dcerpc.auth_level == 6"
        requests = [
            row["frame.number"] for row in summary(path, displayFilter=sealedRequests)
        ]
        self.assertGreater(len(requests), 0)
        bad = malformedFrames(path, ntlmPassword=dc.adminPassword)
        print("\nimpacket direct, unsealed by tshark: %r" % (bad,))
        self.assertTrue({frame for frame, _, _ in bad} <= set(requests[:1]), bad)
