"""Privacy options: address anonymisation and opt-out signals."""

from __future__ import annotations

import pytest

from collector.enrich.privacy import anonymise_address, opted_out


@pytest.mark.parametrize(
    ("address", "anonymised"),
    [
        ("203.0.113.77", "203.0.113.0"),
        ("10.1.2.255", "10.1.2.0"),
        ("2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3:0:0:0:0:0"),
        ("2001:db8:0:0:0:0:0:1", "2001:db8:0:0:0:0:0:0"),
        ("0:0:0:0:0:0:0:1", "0:0:0:0:0:0:0:0"),
        ("not-an-ip", "not-an-ip"),
    ],
)
def test_anonymise_address(address: str, anonymised: str) -> None:
    assert anonymise_address(address) == anonymised


def test_opt_out_signals_count_only_when_honoured() -> None:
    gpc = ((b"sec-gpc", b"1"),)
    dnt = ((b"dnt", b" 1 "),)
    assert opted_out(gpc, gpc=True, dnt=False) and not opted_out(gpc, gpc=False, dnt=True)
    assert opted_out(dnt, gpc=False, dnt=True) and not opted_out(dnt, gpc=True, dnt=False)
    assert not opted_out(((b"dnt", b"0"), (b"sec-gpc", b"0")), gpc=True, dnt=True)
