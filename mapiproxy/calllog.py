# -*- test-case-name: tests.test_calllog -*-
"""
The JSON-lines call log (C{dcerpc_mapiproxy:call_log = PATH}): one object
per relayed call, for tools to read.
"""

import json
import os
import time

from twisted.logger import Logger

_log = Logger()


class CallLog:
    """
    Appends one JSON object per finished call to a file (mode 0600).

    Fields: C{time} (ISO 8601 UTC), C{client}, C{user}, C{interface},
    C{opnum}, C{operation}, C{request_bytes}, C{response_bytes},
    C{status} (C{"ok"}, C{"fault"} or C{"error"}), C{fault} (hex status),
    C{error}, C{latency_ms}.
    """

    def __init__(self, path):
        self.path = path
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._file = os.fdopen(fd, "a", encoding="utf-8")

    def callCompleted(self, rc):
        """
        Write one line for a finished call.
        """
        auth = rc.call.auth
        peer = rc.call.session.peer
        record = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(rc.started)) + ".%03dZ" % (int(rc.started * 1000) % 1000,),
            "client": "%s:%s" % (getattr(peer, "host", peer), getattr(peer, "port", "")),
            "user": "%s\\%s" % (auth.domain, auth.username) if auth else None,
            "interface": rc.interfaceName,
            "opnum": rc.opnum,
            "operation": rc.opnumName,
            "request_bytes": len(rc.requestStub),
            "response_bytes": None if rc.responseStub is None else len(rc.responseStub),
            "status": "fault" if rc.faultStatus is not None else ("error" if rc.error else "ok"),
            "fault": None if rc.faultStatus is None else "0x%08x" % (rc.faultStatus,),
            "error": rc.error,
            "latency_ms": None if rc.latency is None else round(rc.latency * 1000, 3),
        }
        try:
            self._file.write(json.dumps(record) + "\n")
            self._file.flush()
        except OSError as e:
            _log.error("call log {path}: {error}", path=self.path, error=str(e))

    def close(self):
        """
        Close the file.
        """
        self._file.close()
