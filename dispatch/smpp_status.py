"""SMPP 3.4 command_status values: names, meanings and the retry verdict (pure).

Errors name the status as the SMSC's operator will look it up:
"command_status 0x0000000B ESME_RINVDSTADR (invalid destination address)".
"""

from __future__ import annotations

ROK = 0x00000000
RTHROTTLED = 0x00000058

# status: (name, meaning, permanent)
STATUSES: dict[int, tuple[str, str, bool]] = {
    0x01: ("ESME_RINVMSGLEN", "message length is invalid", True),
    0x02: ("ESME_RINVCMDLEN", "command length is invalid", True),
    0x03: ("ESME_RINVCMDID", "invalid command id", True),
    0x04: ("ESME_RINVBNDSTS", "incorrect bind status for this command", False),
    0x05: ("ESME_RALYBND", "already bound", False),
    0x08: ("ESME_RSYSERR", "system error at the SMSC", False),
    0x0A: ("ESME_RINVSRCADR", "invalid source address", True),
    0x0B: ("ESME_RINVDSTADR", "invalid destination address", True),
    0x0C: ("ESME_RINVMSGID", "message id is invalid", True),
    0x0D: ("ESME_RBINDFAIL", "bind failed", True),
    0x0E: ("ESME_RINVPASWD", "invalid password", True),
    0x0F: ("ESME_RINVSYSID", "invalid system_id", True),
    0x14: ("ESME_RMSGQFUL", "message queue full", False),
    0x15: ("ESME_RINVSERTYP", "invalid service type", True),
    0x33: ("ESME_RINVNUMDESTS", "invalid number of destinations", True),
    0x43: ("ESME_RINVESMCLASS", "invalid esm_class", True),
    0x45: ("ESME_RSUBMITFAIL", "submit_sm failed", False),
    0x48: ("ESME_RINVSRCTON", "invalid source address TON", True),
    0x49: ("ESME_RINVSRCNPI", "invalid source address NPI", True),
    0x50: ("ESME_RINVDSTTON", "invalid destination address TON", True),
    0x51: ("ESME_RINVDSTNPI", "invalid destination address NPI", True),
    0x53: ("ESME_RINVSYSTYP", "invalid system_type", True),
    0x58: ("ESME_RTHROTTLED", "throttling error: the account's rate was exceeded", False),
    0x61: ("ESME_RINVSCHED", "invalid scheduled delivery time", True),
    0x62: ("ESME_RINVEXPIRY", "invalid validity period", True),
    0x64: ("ESME_RX_T_APPN", "temporary application error", False),
    0x65: ("ESME_RX_P_APPN", "permanent application error", True),
    0x66: ("ESME_RX_R_APPN", "application error: message rejected", True),
    0x67: ("ESME_RQUERYFAIL", "query_sm failed", False),
    0xFF: ("ESME_RUNKNOWNERR", "unknown error", False),
}


def describe(status: int) -> str:
    """`command_status 0x0000000B ESME_RINVDSTADR (invalid destination address)`."""
    name, meaning, _ = STATUSES.get(status, ("", "", False))
    text = f"command_status 0x{status:08X}"
    return f"{text} {name} ({meaning})" if name else f"{text} (vendor-specific)"


def is_permanent(status: int) -> bool:
    """True when repeating the same PDU cannot succeed (unknown codes are retried)."""
    return STATUSES.get(status, ("", "", False))[2]
