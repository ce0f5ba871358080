"""The privacy scan: each kind found with its position, look-alikes left alone, values never exposed."""

from __future__ import annotations

import pytest

from router.privacy import iban_valid, luhn_valid, mask, nik_valid, scan, scan_text


def kinds(text: str) -> set[str]:
    return {finding.kind for finding in scan_text(text)}


#: (kind, text, a value the finding must cover)
@pytest.mark.parametrize(("kind", "text", "value"), [
    ("email", "write to budi.santoso@example.co.id today", "budi.santoso@example.co.id"),
    ("phone", "call me on +62 812-3456-7890 tonight", "+62 812-3456-7890"),
    ("phone", "nomor HP saya 081234567890", "081234567890"),
    ("phone", "Kalau ada masalah telepon (0274) 512 345.", "(0274) 512 345"),
    ("phone", "My number is (415) 555-0134.", "(415) 555-0134"),
    ("phone", "Desk: +447700 921 916", "+447700 921 916"),
    ("payment_card", "my card 4111 1111 1111 1111 was declined", "4111 1111 1111 1111"),
    ("payment_card", "card 5500-0000-0000-0004, order 7: declined?", "5500-0000-0000-0004"),
    ("payment_card", "What is the limit for card 4454794511390933?", "4454794511390933"),
    ("iban", "transfer from GB82 WEST 1234 5698 7654 32 please", "GB82 WEST 1234 5698 7654 32"),
    ("nik", "NIK saya 3174055708900002 ya", "3174055708900002"),
    ("npwp", "NPWP kami 01.234.567.8-901.000.", "01.234.567.8-901.000"),
    ("us_ssn", "SSN 078-05-1120 on the form", "078-05-1120"),
    ("ip_address", "the server at 192.168.10.24 is down", "192.168.10.24"),
    ("ip_address", "ping 2001:0db8:85a3:0000:0000:8a2e:0370:7334 now", "2001:0db8:85a3:0000:0000:8a2e:0370:7334"),
    ("street_address", "I live at 221B Baker Street, London", "221B Baker Street"),
    ("street_address", "Kirim ke Jl. Merdeka No. 12, Bandung", "Jl. Merdeka No. 12"),
    ("street_address", "Saya tinggal di Gg. Melati 5, RT 03/RW 07.", "RT 03/RW 07"),
    ("date_of_birth", "I was born on 12/03/1985 in Surabaya", "12/03/1985"),
    ("date_of_birth", "Tanggal lahir: 17 Agustus 1990", "17 Agustus 1990"),
    ("secret", "key=sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz012345", "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz012345"),
    ("secret", "GOOGLE_API_KEY AIzaSyA1234567890abcdefghijklmnopqrstuv", "AIzaSyA1234567890abcdefghijklmnopqrstuv"),
    ("secret", "token ghp_0123456789abcdefghijklmnopqrstuvwxyzAB", "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"),
    ("secret", "aws key AKIAIOSFODNN7EXAMPLE in the config", "AKIAIOSFODNN7EXAMPLE"),
    ("secret", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
     "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N"),
    ("health", "I was diagnosed with diabetes last year, what should I eat?", "diagnosed"),
    ("health", "Ibu saya sakit kanker, rumah sakit mana yang bagus?", "sakit"),
    ("person_name", "Hi, my name is Rina Wulandari and I need help", "Rina Wulandari"),
    ("person_name", "Nama saya Budi Santoso, saya mau tanya.", "Budi Santoso"),
])
def test_each_kind_is_found_at_its_position(kind, text, value):
    findings = [f for f in scan_text(text) if f.kind == kind]
    assert findings, f"no {kind} in {text!r}"
    assert any(value in text[f.start:f.end] for f in findings), [(text[f.start:f.end]) for f in findings]


def test_private_key_block_is_found_whole():
    text = "here:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\nthanks"
    (finding,) = scan_text(text)
    assert finding.kind == "private_key"
    assert text[finding.start:finding.end].endswith("-----END RSA PRIVATE KEY-----")


@pytest.mark.parametrize("text", [
    "What is 4111 1111 1111 1112 modulo 7?",                    # Luhn-invalid card number
    "NIK 3174053208900002",                                     # day 32 is no birth date (nor 72 for women)
    "NIK 3174051313900002",                                     # month 13
    "NIK 9974051208900002",                                     # province 99 does not exist
    "transfer to GB82 WEST 1234 5698 7654 33",                  # IBAN with a wrong check
    "SSN 666-12-3456 is never issued",                          # invalid area
    "Janet's ducks lay 16 eggs per day and she sells them for $2 each.",
    "Find the degree of Q(sqrt(2), sqrt(3)) over Q.\nA. 0\nB. 4\nC. 2\nD. 6\nAnswer:",
    "A 45-year-old man presents with chest pain and a history of hypertension.",
    "Version 1.2.3 was released in 2021; the population was 12,345,678.",
    "The total was 4,111,111,111,111,111 grains of sand.",                # digits grouped by commas: a quantity
    "Siapa presiden pertama Indonesia pada tahun 1945?",
    "Apa perbedaan Jalan Tol dan jalan arteri?",
    "Point A is located at -20 and point B is 5 less than point A.",
    "Have you been to a Melissa Oliveira concert before?",    # a name alone is not personal data here
])
def test_ordinary_text_and_invalid_identifiers_are_not_flagged(text):
    assert scan_text(text) == ()


def test_validators():
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert iban_valid("GB82WEST12345698765432") and not iban_valid("GB82WEST12345698765433")
    assert nik_valid("3174055708900002")          # 17 August 1990, man
    assert nik_valid("3174059708900002") is False  # day 97 - 40 = 57
    assert nik_valid("3174054508900002")          # 5 August 1990, woman (day + 40)


def test_a_name_counts_beside_other_personal_data():
    text = "Billing address: Sara Schwarz\n    28245 Puruntie 82 Apt. 595\n   LAPPEENRANTA"
    assert {"person_name", "street_address"} <= kinds(text)


def test_findings_never_hold_the_raw_value():
    text = "mail budi.santoso@example.co.id, card 4111 1111 1111 1111, key sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz012345"
    for finding in scan_text(text):
        raw = text[finding.start:finding.end]
        assert raw not in repr(finding) and raw not in finding.preview
    assert mask("4111 1111 1111 1111", "payment_card").endswith("11")
    assert mask("a@b.io", "email") == "a•••@•••.io"


def test_scan_covers_history_and_passages_and_names_their_source():
    report = scan("what about it?", history=["my e-mail is ani@example.com"],
                  passages=["Contact: +62 21 555 0199"])
    assert report.private
    assert {(f.kind, f.source) for f in report.findings} == {("email", "history[0]"), ("phone", "passage[0]")}
    assert report.kinds == ("email", "phone")
    assert report.summary() == "e-mail address, phone number"
    assert not scan("What is the capital of France?").private
