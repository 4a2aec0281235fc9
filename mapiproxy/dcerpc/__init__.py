"""
Connection-oriented DCE/RPC ([MS-RPCE], C706 chapter 12) over TCP: a sans-I/O
core (PDU codec, framing, association state) and thin Twisted protocols on top.
This package knows no Exchange concept: it moves stubs, contexts and verifiers.
"""
