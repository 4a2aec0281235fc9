# -*- test-case-name: tests.auth.test_spnego -*-
"""
SPNEGO ([RFC 4178], [MS-SPNG]) around NTLM, for DCE/RPC auth_type 9.

Over DCE/RPC the exchange takes three legs and an answer: bind
(NegTokenInit carrying NEGOTIATE), bind_ack (NegTokenResp carrying
CHALLENGE), alter_context (NegTokenResp carrying AUTHENTICATE and the
client's mechListMIC), alter_context_resp (NegTokenResp accept-completed
with ours). pyspnego's ASN.1 codecs encode and decode the tokens.
"""

from spnego._spnego import (
    NegState,
    NegTokenInit,
    NegTokenResp,
    pack_mech_type_list,
    unpack_token,
)

from mapiproxy.auth.security import SecurityContext
from mapiproxy.dcerpc.constants import AuthType
from mapiproxy.errors import AuthenticationError, SignatureError

#: The NTLMSSP mechanism ([MS-NLMP] 1.9).
NTLMSSP_OID = "1.3.6.1.4.1.311.2.2.10"
_NTLMSSP_MAGIC = b"NTLMSSP\x00"


def _parse(token):
    """
    Decode an SPNEGO token, or recognise a bare NTLM message.

    @return: a L{NegTokenInit}, a L{NegTokenResp} or raw NTLM L{bytes}.
    @raise AuthenticationError: it is neither.
    """
    token = bytes(token)
    if token.startswith(_NTLMSSP_MAGIC):
        return token
    try:
        parsed = unpack_token(token)
    except Exception as e:
        raise AuthenticationError("malformed SPNEGO token") from e
    if not isinstance(parsed, (NegTokenInit, NegTokenResp)):
        raise AuthenticationError("not an SPNEGO token")
    return parsed


def _expectResponse(parsed):
    if not isinstance(parsed, NegTokenResp):
        raise AuthenticationError("expected an SPNEGO NegTokenResp")
    if parsed.neg_state == NegState.reject:
        raise AuthenticationError("the peer rejected the SPNEGO negotiation")
    return parsed


def _verifyMechListMIC(security, mechList, mic):
    try:
        security.verify(mechList, mic)
    except SignatureError as e:
        raise SignatureError("SPNEGO mechListMIC mismatch") from e


class SPNEGOAcceptor(SecurityContext):
    """
    The server side: accepts a NegTokenInit that offers NTLMSSP anywhere in
    its mechTypes. When NTLMSSP is not the client's first choice (Windows
    lists Kerberos or NegoEx first) the answer selects NTLMSSP and asks for
    a mechListMIC; the client then sends its NEGOTIATE in a NegTokenResp.
    A bare NTLM NEGOTIATE is also accepted (raw NTLM under auth_type 9).
    """

    authType = AuthType.SPNEGO

    def __init__(self, ntlm):
        """
        @param ntlm: the NTLM acceptor to drive.
        @type ntlm: L{mapiproxy.auth.ntlm.NTLMAcceptor}
        """
        super().__init__()
        self._ntlm = ntlm
        self._mechList = None
        self._micRequested = False
        self._raw = False
        self._failed = False

    def step(self, inToken):
        """
        @param inToken: the client's SPNEGO token.
        @type inToken: L{bytes}
        @return: our NegTokenResp (or a raw NTLM message after a raw NTLM
            start; L{None} once raw NTLM completes).
        @rtype: L{bytes} or L{None}
        @raise AuthenticationError: see L{SecurityContext.step}.
        """
        if self.complete or self._failed:
            raise AuthenticationError("the SPNEGO exchange is already over")
        if not inToken:
            raise AuthenticationError("the SPNEGO acceptor needs a token from the client")
        try:
            return self._step(inToken)
        except AuthenticationError:
            self._failed = True
            raise

    def _step(self, inToken):
        if self._raw:
            return self._stepRaw(bytes(inToken))
        parsed = _parse(inToken)
        if self._mechList is None:
            if isinstance(parsed, bytes):
                self._raw = True
                return self._stepRaw(parsed)
            if not isinstance(parsed, NegTokenInit):
                raise AuthenticationError("expected an SPNEGO NegTokenInit")
            return self._init(parsed)
        return self._response(_expectResponse(parsed))

    def _stepRaw(self, token):
        out = self._ntlm.step(token)
        if self._ntlm.complete:
            self._finish()
        return out

    def _init(self, init):
        mechs = list(init.mech_types)
        if NTLMSSP_OID not in mechs:
            raise AuthenticationError("the client offers no NTLMSSP (offered: %s)" % (", ".join(mechs) or "nothing",))
        self._mechList = pack_mech_type_list(mechs)
        responseToken = None
        state = NegState.accept_incomplete
        if mechs[0] != NTLMSSP_OID:
            self._micRequested = True
            state = NegState.request_mic
        elif init.mech_token:
            responseToken = self._ntlm.step(init.mech_token)
        return NegTokenResp(neg_state=state, supported_mech=NTLMSSP_OID, response_token=responseToken).pack()

    def _response(self, response):
        if not response.response_token:
            raise AuthenticationError("SPNEGO NegTokenResp without an NTLM token")
        out = self._ntlm.step(response.response_token)
        if not self._ntlm.complete:
            return NegTokenResp(neg_state=NegState.accept_incomplete, response_token=out).pack()
        security = self._ntlm._security
        mic = response.mech_list_mic
        if mic is None:
            if self._micRequested or self._ntlm.micPresent:
                raise AuthenticationError("SPNEGO mechListMIC missing")
            self._finish()
            return NegTokenResp(neg_state=NegState.accept_complete).pack()
        _verifyMechListMIC(security, self._mechList, mic)
        ours = security.sign(self._mechList)
        security.resetCipherState()
        self._finish()
        return NegTokenResp(neg_state=NegState.accept_complete, mech_list_mic=ours).pack()

    def _finish(self):
        self.username = self._ntlm.username
        self.domain = self._ntlm.domain
        self._security = self._ntlm._security
        self.complete = True


class SPNEGOInitiator(SecurityContext):
    """
    The client side: offers NTLMSSP only, sends a mechListMIC with the
    AUTHENTICATE and checks the acceptor's.
    """

    authType = AuthType.SPNEGO

    def __init__(self, ntlm):
        """
        @param ntlm: the NTLM initiator to drive.
        @type ntlm: L{mapiproxy.auth.ntlm.NTLMInitiator}
        """
        super().__init__()
        self._ntlm = ntlm
        self.username = ntlm.username
        self.domain = ntlm.domain
        self._mechList = pack_mech_type_list([NTLMSSP_OID])
        self._leg = 0

    def step(self, inToken):
        """
        @param inToken: L{None} first, then the acceptor's NegTokenResps.
        @type inToken: L{bytes} or L{None}
        @return: NegTokenInit, then NegTokenResp, then L{None}.
        @rtype: L{bytes} or L{None}
        @raise AuthenticationError: the acceptor refused us or sent a bad
            token or mechListMIC.
        """
        if self.complete:
            raise AuthenticationError("the SPNEGO exchange is already over")
        leg = self._leg
        self._leg += 1
        if leg == 0:
            if inToken:
                raise AuthenticationError("the SPNEGO initiator speaks first")
            negotiate = self._ntlm.step(None)
            return NegTokenInit(mech_types=[NTLMSSP_OID], mech_token=negotiate).pack()
        if not inToken:
            raise AuthenticationError("expected an SPNEGO token from the acceptor")
        response = _expectResponse(_parse(inToken))
        if leg == 1:
            return self._authenticate(response)
        return self._finishExchange(response)

    def _authenticate(self, response):
        if response.supported_mech not in (None, NTLMSSP_OID):
            raise AuthenticationError("the acceptor chose %s, not NTLMSSP" % (response.supported_mech,))
        if not response.response_token:
            raise AuthenticationError("the acceptor sent no NTLM CHALLENGE")
        authenticate = self._ntlm.step(response.response_token)
        security = self._ntlm._security
        mic = security.sign(self._mechList)
        security.resetCipherState()
        return NegTokenResp(response_token=authenticate, mech_list_mic=mic).pack()

    def _finishExchange(self, response):
        if response.neg_state not in (None, NegState.accept_complete):
            raise AuthenticationError("the acceptor did not complete the SPNEGO negotiation")
        security = self._ntlm._security
        if response.mech_list_mic is not None:
            _verifyMechListMIC(security, self._mechList, response.mech_list_mic)
            security.resetCipherState()
        self._security = security
        self.complete = True
        return None
