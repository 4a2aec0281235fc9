# -*- test-case-name: tests.auth.test_passwdtool -*-
"""
C{mapiproxy-passwd}: manage the accounts of the proxy's smbpasswd file,
with the options and messages of Samba's C{smbpasswd}.
"""

import argparse
import getpass
import sys

from mapiproxy.auth import passdb
from mapiproxy.errors import ConfigError


def _parser():
    parser = argparse.ArgumentParser(
        prog="mapiproxy-passwd",
        description="Add, change, delete, enable or disable an account of a mapiproxy (smbpasswd) password file.",
    )
    parser.add_argument("-f", dest="path", required=True, metavar="PATH", help="the password file")
    parser.add_argument("-s", dest="silent", action="store_true", help="read the new password twice from stdin")
    # As Samba's smbpasswd: the action is a flag, the user the argument
    # ("-a alice", "-a -f PASSDB alice" and "-f PASSDB -a alice" all work).
    actions = parser.add_mutually_exclusive_group(required=True)
    actions.add_argument("-a", dest="add", action="store_true", help="add USER or change their password")
    actions.add_argument("-x", dest="delete", action="store_true", help="delete USER")
    actions.add_argument("-d", dest="disable", action="store_true", help="disable USER")
    actions.add_argument("-e", dest="enable", action="store_true", help="enable USER")
    parser.add_argument("user", metavar="USER", help="the account")
    return parser


def _readPassword(silent, stdin):
    """
    Read the new password twice.

    @return: the password, or L{None} when the two differ or input ended.
    """
    if silent:
        first = stdin.readline()
        second = stdin.readline()
        if not first:
            return None
        first, second = first.rstrip("\r\n"), second.rstrip("\r\n")
    else:
        first = getpass.getpass("New SMB password:")
        second = getpass.getpass("Retype new SMB password:")
    if first != second:
        return None
    return first


def main(argv=None, stdin=None, stdout=None, stderr=None):
    """
    Run the tool.

    @param argv: the arguments (without the program name); C{sys.argv[1:]}
        by default.
    @type argv: L{list} of L{str} or L{None}
    @param stdin: where C{-s} reads passwords; C{sys.stdin} by default.
    @param stdout: where messages go; C{sys.stdout} by default.
    @param stderr: where errors go; C{sys.stderr} by default.
    @return: the exit code: 0 on success, 1 on failure, 2 on bad usage.
    @rtype: L{int}
    """
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        options = _parser().parse_args(argv)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 2
    for action in ("add", "delete", "disable", "enable"):
        setattr(options, action, options.user if getattr(options, action) else None)
    try:
        if options.add is not None:
            password = _readPassword(options.silent, stdin)
            if password is None:
                stderr.write("Mismatch - password unchanged.\nUnable to get new password.\n")
                return 1
            passdb.addUser(options.path, options.add, password)
            stdout.write("Added user %s.\n" % (options.add,))
        elif options.delete is not None:
            if not passdb.removeUser(options.path, options.delete):
                stderr.write("Failed to find entry for user %s.\n" % (options.delete,))
                return 1
            stdout.write("Deleted user %s.\n" % (options.delete,))
        else:
            user = options.disable if options.disable is not None else options.enable
            if not passdb.setEnabled(options.path, user, options.enable is not None):
                stderr.write("Failed to find entry for user %s.\n" % (user,))
                return 1
            stdout.write("%s user %s.\n" % ("Enabled" if options.enable is not None else "Disabled", user))
    except ConfigError as e:
        stderr.write("mapiproxy-passwd: %s\n" % (e,))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
