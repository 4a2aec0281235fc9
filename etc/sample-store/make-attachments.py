#!/usr/bin/env python3
"""
Write the generated attachments of this sample store and check their
SHA-256 against the digests recorded in the messages.

The large sample attachments are not committed: their messages describe
them (a seed and a size, see mapiproxy.server.store.GeneratedContent), and
this script, or the store itself on first access, writes them. Run it once
after a checkout, or point it at a copy of the store:

    python3 etc/sample-store/make-attachments.py [STORE-DIRECTORY]
"""

import os
import sys


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        from mapiproxy.server.store import Store, materializeAttachments
    except ImportError:
        # Run from a checkout without installing: the repository root.
        sys.path.insert(0, os.path.dirname(os.path.dirname(here)))
        from mapiproxy.server.store import Store, materializeAttachments

    from mapiproxy.errors import ConfigError

    path = argv[1] if len(argv) > 1 else here
    try:
        store = Store.open(path)
        written = materializeAttachments(store, verify=True)
    except (ConfigError, ValueError, OSError) as e:
        sys.stderr.write("make-attachments: %s\n" % (e,))
        return 1
    for attachment in written:
        print("wrote %s (%d bytes)" % (os.path.relpath(attachment.path, path), attachment.size))
    print("%d generated attachment(s) written; every recorded SHA-256 matches" % (len(written),))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
