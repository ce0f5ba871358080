"""The privacy scan: each kind found with its position, look-alikes left alone, values never exposed."""

from __future__ import annotations

import time

import pytest

from router import privacy
from router.privacy import iban_valid, luhn_valid, mask, nik_valid, scan, scan_text
from router.training.indonesian_cases import generate


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
    ("date_of_birth", "Saya lahir pada 01-12-1972 di Palopo.", "01-12-1972"),
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
    "Order 3174053208900002 shipped",                           # NIK-shaped, but day 32 is no birth date
    "Order 3174051313900002 shipped",                           # month 13
    "Order 9974051208900002 shipped",                           # province 99 does not exist
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


@pytest.mark.parametrize(("kind", "text", "value"), [
    # a long number after a word that names it, whatever its structure
    ("nik", "NIK 3174053208900002", "3174053208900002"),                     # day 32: fails the structure check
    ("nik", "no ktp saya 822737 581157 1600", "822737 581157 1600"),
    ("nik", "Nomor induk kependudukan: 9974051208900002", "9974051208900002"),
    ("nik", "NIK 3174055708900002 atas nama saya", "3174055708900002"),
    ("npwp", "npwp: 012345678901000", "012345678901000"),
    ("bank_account", "Transfer ke rekening BCA 8730123456 a.n. Budi.", "8730123456"),
    ("bank_account", "no. rek Mandiri 123-00-1234567-8", "123-00-1234567-8"),
    ("bank_account", "my account number is 12345678, please check", "12345678"),
    ("bank_account", "rekening 4111111111111111", "4111111111111111"),     # named an account: not a card here
    ("bank_account", "sort code 12-34-56", "12-34-56"),                     # dashes, but no day 34
    ("passport", "Nomor paspor saya B 1234567, berlaku sampai 2029.", "B 1234567"),
    ("passport", "Passport No. XA6181479", "XA6181479"),
    ("id_number", "My driver's license number is F162823540116", "F162823540116"),
    ("id_number", "nomor BPJS 0001234567890", "0001234567890"),
])
def test_a_number_named_as_an_identifier_is_that_identifier(kind, text, value):
    assert [text[f.start:f.end] for f in scan_text(text) if f.kind == kind] == [value]


@pytest.mark.parametrize("text", [
    "The account grew by Rp 1.500.000 last month.",             # an amount, not an account number
    "Saldo rekening bertambah Rp 250.000.000 setelah bunga.",
    "The account was opened on 2019-03-12.",                    # a date
    "Apa itu nomor induk kependudukan? Berapa digitnya?",
    "Accounts receivable rose from 150,000 to 1,200,000.",      # quantities grouped by commas
    "The passport office opens at 9; queue number 12.",         # too short for an identifier
    "Berapa lama membuat paspor di kantor imigrasi?",
])
def test_identifier_words_without_an_identifier_are_not_flagged(text):
    assert scan_text(text) == ()


@pytest.mark.parametrize(("text", "value"), [
    ("wa (+62) 812 3456 7890", "(+62) 812 3456 7890"),
    ("(+62) 81569376834 (WA only)", "(+62) 81569376834"),
    ("Bisa kirim ke (+62) 815.4669.5324?", "(+62) 815.4669.5324"),
    ("kantor 021-5550199", "021-5550199"),
    ("Telp. (02328) 60129", "(02328) 60129"),
    ("(088)-7623286", "(088)-7623286"),
    ("Tel. 030/1234567", "030/1234567"),
    ("call +1.415.555.0134", "+1.415.555.0134"),
    ("+44 (0)20 7946 0958", "+44 (0)20 7946 0958"),
    ("WA 0812.3456.7890 ya", "0812.3456.7890"),
    ("Details: 05 45 23 28 60 after 5 pm", "05 45 23 28 60"),
    ("Details: 07 1027 3464", "07 1027 3464"),
    ("Details: (03) 3788 7623", "(03) 3788 7623"),
    ("Details: 02074960913", "02074960913"),
    ("Details: (0161)4960525", "(0161)4960525"),
])
def test_phone_numbers_in_more_formats(text, value):
    assert value in [text[f.start:f.end] for f in scan_text(text) if f.kind == "phone"]


@pytest.mark.parametrize("text", [
    "Convert the binary string 0110100110 to decimal.",
    "The sequence 0.5, 0.25, 0.125 halves each time.",
    "In 1999 2000 people came; in 2019 3500 did.",
    "What is 12 345 678 divided by 3?",
    "On 01-12-1972 the treaty was signed; it ended 1980/03/15.",
])
def test_numbers_that_are_not_phone_numbers(text):
    assert scan_text(text) == ()


@pytest.mark.parametrize(("text", "value"), [
    ("IBAN: DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00"),
    ("iban de89 3704 0044 0532 0130 00", "de89 3704 0044 0532 0130 00"),    # typed in lowercase
    ("IBAN GB82-WEST-1234-5698-7654-32", "GB82-WEST-1234-5698-7654-32"),
    ("send to NL91ABNA0417164300 NOW", "NL91ABNA0417164300"),                # the word after it stays out
    ("FR14 2004 1010 0505 0001 3M02 606 PLEASE", "FR14 2004 1010 0505 0001 3M02 606"),
])
def test_ibans_with_spaces_dashes_and_any_case(text, value):
    assert [text[f.start:f.end] for f in scan_text(text) if f.kind == "iban"] == [value]


@pytest.mark.parametrize(("text", "value"), [
    ("Rumah kami di jalan s. parman no. 777 dekat masjid.", "jalan s. parman no. 777"),
    ("Rumah kami di gg. siliwangi no. 04 dekat masjid.", "gg. siliwangi no. 04"),
    ("Rumah di RT.003 RW.007 Sukamaju", "RT.003 RW.007"),
    ("Alamat: RT/RW 003/007", "RT/RW 003/007"),
    ("Paket untuk Kel. Sukajadi, Kec. Sukasari, Bandung", "Kel. Sukajadi, Kec. Sukasari"),
    ("Rumah saya di Kelurahan Cempaka Putih, Kecamatan Kemayoran.", "Kelurahan Cempaka Putih, Kecamatan Kemayoran"),
    ("Springfield, IL 62704 is where the form goes", "Springfield, IL 62704"),
    ("Post it to 10 Downing Street, London SW1A 2AA", "SW1A 2AA"),
    ("the bus drops you off at 74678 midtvollen 130 st.", "74678 midtvollen 130 st"),
    ("meet me at 2407 tawastintie 6, sé, portugal", "2407 tawastintie 6, sé, portugal"),
    ("my new address is the corner of 159 Eleftheriou Venizelou str", "159 Eleftheriou Venizelou str"),
    ("Change it to Rúa do Paseo 46?", "Rúa do Paseo 46"),
    ("Hans-Günther-Kreusel-Weg 30\n74095 Kusel", "Weg 30\n74095 Kusel"),
    ("Our office: Ängstorget 3, 28792 Växjö", "Ängstorget 3, 28792 Växjö"),
    ("ulica Polna 30, 61-385 Lubliniec", "Polna 30, 61-385 Lubliniec"),
    ("Robinring 1\n5451 VA Ravenswoud", "Robinring 1\n5451 VA Ravenswoud"),
    ("Paseo Nélida Arnaiz 367\nMelilla, 05139", "Arnaiz 367\nMelilla, 05139"),
    ("Stretto Faugno, 38 Piano 4\n33043, Purgessimo (UD)", "Faugno, 38 Piano 4\n33043, Purgessimo"),
])
def test_street_addresses_in_more_shapes(text, value):
    assert any(value in text[f.start:f.end] for f in scan_text(text) if f.kind == "street_address"), scan_text(text)


@pytest.mark.parametrize("text", [
    "Apa perbedaan jalan tol dan jalan arteri di kota?",
    "Berapa jumlah kecamatan di Kabupaten Bandung?",
    "There are 4 of them in a row, so drive 2 miles to the main road.",
    "The committee 12 voted; the employee 5 left.",
    "In 2000 BC Egypt was ruled by pharaohs.",
    "What is the pH of 0.1 M HCl at 25 C?",
    "Chapter 3, 1995 Census data show a rise.",                 # a year is no postcode before a word
    "Scores: Team 12, Team 15, Team 18.",
])
def test_address_words_without_an_address_are_not_flagged(text):
    assert scan_text(text) == ()


def test_indonesian_titles_before_a_disclosed_name():
    assert [f for f in scan_text("Perkenalkan, saya R.A. Hana Novitasari.") if f.kind == "person_name"]
    assert [f for f in scan_text("Perkenalkan, saya T. Legawa Maulana.") if f.kind == "person_name"]


#: Streets ending like a street name (the suffix pattern finds 18 of them; separate words like "utca 60" are left to others).
STREETS = ["Mannerheimintie 5", "Hämeenkatu 12b", "Kongensgade 3", "Vesterbrogade 10", "Nørrevej 44", "Drottninggatan 9",
           "Sveavägen 21", "Hauptstraße 12", "Bahnhofstrasse 1", "Goethestr. 8", "Am Kreuzweg 10", "Dorpslaan 7",
           "Kalverstraat 92", "Andrássy utca 60", "Mariahilfer Gasse 4", "Marktplatz 2", "Lindenallee 33",
           "Ruusukuja 6", "Koivupolku 3", "Itäväylä 80", "Mere pst tee 4", "Pärnu maantee 22", "Brīvības iela 55",
           "Gedimino gatve 9", "ulica Polna 30", "Polna ulica 30"]


def test_the_street_suffix_gate_lets_every_match_through():
    """The gate only skips texts the pattern cannot match: the findings are the pattern's own."""
    pattern = next(p for p in privacy._PATTERNS if p.gate is privacy._street_name_before_a_number)
    texts = [*(f"Please deliver it to {street}, thanks" for street in STREETS), *(f"{street}\nline" for street in STREETS),
             "the committee 12 members", "a guarantee of 3 years", "untie 2 knots", "the committee met"]
    matched = 0
    for text in texts:
        matches = [m.group(0) for m in pattern.regex.finditer(text)]
        assert [m.group(0) for m in pattern.finditer(privacy._Text.of(text))] == matches, text
        matched += bool(matches)
    assert matched >= 36


def test_earlier_turns_and_passages_are_scanned_once(monkeypatch):
    """A conversation sends its earlier turns with every message: the prompt is scanned, not them again."""
    history = ["my e-mail is ani.once@example.com", "Happy to help with the bakery's budget."]
    passages = ["Contact: +62 21 555 0177", "The museum opens at nine."]
    first = scan("and the total?", history=history, passages=passages)
    scanned = _recording_scans(monkeypatch)
    second = scan("and the total?", history=history, passages=passages)
    assert scanned == ["and the total?"] and second == first
    scan("one more question", history=[*history, "and the total?"])
    assert scanned[1:] == ["one more question"]  # the earlier prompt is known as history


def test_remembered_findings_are_the_findings_of_a_fresh_scan():
    texts = [case.text for case in generate(150, seed=14)]
    assert sum(bool(scan_text(text)) for text in texts) > 100
    expected = tuple(privacy.Finding(f.kind, f.start, f.end, f.preview, f"history[{index}]", f.detail)
                     for index, text in enumerate(texts) for f in scan_text(text))
    for _ in range(2):  # scanned, then remembered
        assert scan("next", history=texts).findings == expected


def test_a_failed_scan_is_not_remembered(monkeypatch):
    text = "A failed scan of this turn is tried again."
    monkeypatch.setattr("router.privacy._candidates", lambda _text: 1 / 0)
    assert scan("hi", history=[text]).kinds == ("unscanned",)
    monkeypatch.undo()
    assert not scan("hi", history=[text]).private


def _recording_scans(monkeypatch) -> list[str]:
    scanned: list[str] = []
    findings = privacy._findings
    monkeypatch.setattr(privacy, "_findings", lambda text: scanned.append(text) or findings(text))
    return scanned


def test_a_scan_that_breaks_fails_closed(monkeypatch):
    """The whole text becomes one finding: private, and masked whole wherever findings mask it."""
    def broken(_text):
        raise RuntimeError("scanner bug")

    monkeypatch.setattr("router.privacy._candidates", broken)
    text = "What is the capital of France?"
    (finding,) = scan_text(text)
    assert (finding.kind, finding.start, finding.end) == ("unscanned", 0, len(text))
    assert "RuntimeError" in finding.label and text not in repr(finding)
    report = scan("hello", history=[text])
    assert report.private and report.kinds == ("unscanned",)


#: Repeated into 200,000 characters: shapes that make a careless pattern backtrack, or a per-finding
#: step rescan the rest of the text (numbers, separators, addresses, names, health words, many findings).
HOSTILE_UNITS = ["1", "1 ", "1-", "(0", "+1 ", "4111 ", "123-45-", "a@", "1:", "a::", "Ab ", "12 Ab Ab ",
                 "Jalan Ab ", "jl. ab ", "jalan ab ab ab ab ab ab no ", "RT 1 / ", "Kel. Ab Ab Ab Ab ", "NIK a ",
                 "account number is ", "passport A ", "GB82 ", "my address is 1 ab ", "My name is Ab ",
                 "I have diabetes ", "Jl. Ab No. 1 RT 1/RW 2 +62 812 ", "\n1 ", "sk-", "eyJa.", "born 1/", "+.", "((",
                 "-a-1234", "Ab 12,\n12345 Ab "]


@pytest.mark.timeout(300)  # a pattern that backtracks catastrophically never returns: fail, don't hang
@pytest.mark.parametrize("unit", HOSTILE_UNITS)
def test_long_hostile_input_is_scanned_in_linear_time(unit):
    """Linear work takes a fraction of a second of CPU here; quadratic work on 200,000 characters takes
    far longer than the generous bound (CPU time of this thread, so a busy machine does not count)."""
    text = unit * (200_000 // len(unit))
    started = time.thread_time()
    scan_text(text)
    assert time.thread_time() - started < 5.0
