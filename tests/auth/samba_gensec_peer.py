"""
A Samba gensec peer for the interop tests of mapiproxy.auth, run with
Debian's /usr/bin/python3 (the one that has python3-samba).

Usage::

    /usr/bin/python3 samba_gensec_peer.py client MECH USER DOMAIN [OPTION=VALUE...]
    /usr/bin/python3 samba_gensec_peer.py server MECH SMB_CONF

MECH is "ntlmssp" or "spnego". A client reads its password from the
environment variable GENSEC_PEER_PASSWORD (never from the command line).
OPTIONs are smb.conf parameters (e.g. "client ntlmv2 auth=no").

Then one command per line on stdin, one answer per line on stdout; binary
values are hex ("-" stands for empty):

    update HEX              -> ok FINISHED HEX      (FINISHED is 0 or 1)
    sign DATA PDU           -> ok SIG               (gensec_sign_packet)
    check DATA PDU SIG      -> ok | err MESSAGE     (gensec_check_packet)
    wrap HEX                -> ok HEX
    unwrap HEX              -> ok HEX | err MESSAGE
    sessionkey              -> ok HEX
    quit

Errors answer "err MESSAGE" and the peer keeps running.
"""

import os
import sys
import tempfile

from samba import gensec, param
from samba.credentials import DONT_USE_KERBEROS, Credentials


def unhex(text):
    return b"" if text == "-" else bytes.fromhex(text)


def tohex(data):
    return bytes(data).hex() or "-"


def loadParm(options):
    """
    A LoadParm that reads no system configuration.
    """
    fd, path = tempfile.mkstemp(suffix=".conf")
    with os.fdopen(fd, "w") as f:
        f.write("[global]\n")
        f.write("  client use kerberos = off\n")
        f.write("  workgroup = CLIENTWG\n")
        for option in options:
            name, value = option.split("=", 1)
            f.write("  %s = %s\n" % (name, value))
    lp = param.LoadParm()
    lp.load(path)
    os.unlink(path)
    return lp


def startClient(mech, user, domain, options):
    lp = loadParm(options)
    creds = Credentials()
    creds.guess(lp)
    creds.set_kerberos_state(DONT_USE_KERBEROS)
    creds.set_username(user)
    creds.set_domain(domain)
    creds.set_workstation("SAMBACLIENT")
    creds.set_password(os.environ.get("GENSEC_PEER_PASSWORD", ""))
    security = gensec.Security.start_client({"lp_ctx": lp, "target_hostname": "proxy1"})
    security.set_credentials(creds)
    return security


def startServer(mech, smbConf):
    from samba import auth

    lp = param.LoadParm()
    lp.load(smbConf)
    security = gensec.Security.start_server(
        settings={"lp_ctx": lp, "target_hostname": lp.get("netbios name")},
        auth_context=auth.AuthContext(lp_ctx=lp),
    )
    creds = Credentials()
    creds.guess(lp)
    creds.set_machine_account(lp)
    security.set_credentials(creds)
    return security


def main(argv):
    role, mech = argv[1], argv[2]
    if role == "client":
        security = startClient(mech, argv[3], argv[4], argv[5:])
    else:
        security = startServer(mech, argv[3])
    for feature in (gensec.FEATURE_SIGN, gensec.FEATURE_SEAL, gensec.FEATURE_DCE_STYLE):
        security.want_feature(feature)
    security.start_mech_by_name(mech)
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        command, args = words[0], words[1:]
        if command == "quit":
            break
        try:
            if command == "update":
                finished, out = security.update(unhex(args[0]))
                answer = "ok %d %s" % (int(bool(finished)), tohex(out))
            elif command == "sign":
                answer = "ok " + tohex(security.sign_packet(unhex(args[0]), unhex(args[1])))
            elif command == "check":
                security.check_packet(unhex(args[0]), unhex(args[1]), unhex(args[2]))
                answer = "ok"
            elif command == "wrap":
                answer = "ok " + tohex(security.wrap(unhex(args[0])))
            elif command == "unwrap":
                answer = "ok " + tohex(security.unwrap(unhex(args[0])))
            elif command == "sessionkey":
                answer = "ok " + tohex(security.session_key())
            else:
                answer = "err unknown command " + command
        except Exception as e:
            answer = "err " + " ".join(str(e).split())
        print(answer, flush=True)


if __name__ == "__main__":
    main(sys.argv)
