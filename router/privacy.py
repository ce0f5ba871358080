"""Privacy scan: find personal data and secrets before anything can leave the machine.

Regular expressions find candidates; validators keep the real ones (Luhn for cards,
mod-97 for IBAN, province table and birth date for Indonesian NIK, valid SSN areas);
context words decide for the kinds a pattern alone cannot tell apart from ordinary
text (dates of birth, health details, disclosed names, bare phone numbers). A finding
records kind, position and a masked preview, never the raw value, so it can be logged
and shown in the chat.

A long number right after a word that names it ("NIK", "KTP", "rekening", "account",
"passport", ...) is that identifier even when no validator confirms it: a mistyped NIK is
still someone's. A name is personal data here only when it is disclosed ("my name is ...")
or appears next to other personal data: GSM8K-style "Janet has 3 apples" must stay ordinary.

Every pattern is linear in the text (bounded repetitions, no nested quantifiers over the same
characters), so a long or hostile message cannot stall the router; and if the scan breaks, the
text counts as private (see `scan_text`).
"""

from __future__ import annotations

import bisect
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property

#: Human-readable names of the kinds, in the order reasons list them (most sensitive first).
KIND_LABELS: dict[str, str] = {
    "unscanned": "text the privacy scan could not check",
    "secret": "API key or token",
    "private_key": "private key",
    "payment_card": "payment card number",
    "iban": "IBAN",
    "bank_account": "bank account number",
    "nik": "NIK (Indonesian ID number)",
    "npwp": "NPWP (Indonesian tax number)",
    "passport": "passport number",
    "us_ssn": "US social security number",
    "id_number": "ID or licence number",
    "health": "health detail",
    "email": "e-mail address",
    "phone": "phone number",
    "street_address": "street address",
    "date_of_birth": "date of birth",
    "ip_address": "IP address",
    "person_name": "person's name",
}
KINDS = tuple(KIND_LABELS)
_RANK = {kind: rank for rank, kind in enumerate(KINDS)}


@dataclass(frozen=True)
class Finding:
    """One piece of personal data: where it is and what it looks like masked (never the value)."""

    kind: str
    start: int
    end: int
    preview: str
    #: "prompt", "history[i]" or "passage[i]": which text the positions refer to.
    source: str = "prompt"
    #: A more precise label where it helps, e.g. "GitHub token".
    detail: str = ""

    @property
    def label(self) -> str:
        return self.detail or KIND_LABELS[self.kind]


@dataclass(frozen=True)
class PrivacyReport:
    """Everything the scan found in one request."""

    findings: tuple[Finding, ...] = ()

    @property
    def private(self) -> bool:
        return bool(self.findings)

    @property
    def kinds(self) -> tuple[str, ...]:
        """Distinct kinds found, most sensitive first."""
        return tuple(sorted({f.kind for f in self.findings}, key=_RANK.__getitem__))

    def summary(self) -> str:
        """E.g. "e-mail address, phone number" (labels only, safe to log)."""
        return ", ".join(KIND_LABELS[kind] for kind in self.kinds)


def mask(value: str, kind: str) -> str:
    """A preview that shows the shape of a value without revealing it."""
    if kind in ("secret", "private_key"):
        return value[:3] + "…" if len(value) > 12 and kind == "secret" else "•••"
    compact = value.strip()
    if kind == "email" and "@" in compact:
        local, _, domain = compact.partition("@")
        return f"{local[:1]}•••@•••{domain[domain.rfind('.'):]}"
    if len(compact) < 6:
        return "•" * len(compact)
    keep = 2 if kind in ("payment_card", "iban", "bank_account", "phone", "nik", "npwp", "passport", "us_ssn",
                         "id_number") else 1
    return compact[:1] + "•" * min(len(compact) - 1 - keep, 10) + compact[-keep:]


# --- validators -------------------------------------------------------------------

def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters to numbers, mod 97 == 1."""
    compact = candidate.replace(" ", "").replace("-", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


#: Indonesian province codes (first two NIK digits), including the 2022 Papua provinces.
NIK_PROVINCES = frozenset({
    11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 31, 32, 33, 34, 35, 36, 51, 52, 53,
    61, 62, 63, 64, 65, 71, 72, 73, 74, 75, 76, 81, 82, 91, 92, 93, 94, 95, 96,
})


def nik_valid(digits: str) -> bool:
    """16 digits: province, regency, district, birth date (day + 40 for women), serial."""
    if len(digits) != 16 or int(digits[:2]) not in NIK_PROVINCES:
        return False
    if digits[2:4] == "00" or digits[4:6] == "00" or digits[12:] == "0000":
        return False
    day, month, year = int(digits[6:8]), int(digits[8:10]), int(digits[10:12])
    if day > 40:
        day -= 40
    try:
        date(2000 + year, month, day)  # any year works for checking day/month; 2000 is a leap year
    except ValueError:
        return False
    return True


def ssn_valid(text: str) -> bool:
    area, group, serial = text[:3], text[4:6], text[7:]
    return area not in ("000", "666") and not area.startswith("9") and group != "00" and serial != "0000"


# --- detectors ----------------------------------------------------------------------

@dataclass(frozen=True)
class _Text:
    """One text prepared for the gates: its lowercase words and its numbers, computed once."""

    text: str
    words: frozenset[str]
    #: (start, end, digits, dots) of each run of digits and separators.
    numbers: tuple[tuple[int, int, int, int], ...]

    @classmethod
    def of(cls, text: str) -> _Text:
        words = frozenset(text.lower().translate(_NOT_LETTERS).split())
        numbers = tuple((m.start(), m.end(), len(_NOT_DIGIT.sub("", m.group(0))), m.group(0).count("."))
                        for m in _NUMBER.finditer(text) if m.end() - m.start() > 3)
        return cls(text, words, numbers)


_NOT_LETTERS = {ord(char): " " for char in "0123456789!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\t\n\r\x0b\x0c"}
#: Bounded runs of signs and separators: "(((((" or "+.+.+." without a digit must not be rescanned from every position.
_NUMBER = re.compile(r"[(+]{0,3}\d(?:[ \t().+/-]{0,6}\d)*")
_NOT_DIGIT = re.compile(r"\D")


@dataclass(frozen=True)
class _Pattern:
    """A detector. The gates keep ordinary text fast: most regexes never run on it."""

    kind: str
    regex: re.Pattern[str]
    #: Returns False to drop a candidate match.
    check: Callable[[re.Match[str], str], bool] | None = None
    detail: str = ""
    #: Group whose span is the finding (0 = whole match).
    group: int = 0
    #: Run only if the text contains one of these substrings ...
    needs: tuple[str, ...] = ()
    #: ... or one of these lowercase words ("pre*" and "*suf" match by prefix and suffix) ...
    words: tuple[str, ...] = ()
    #: ... or this predicate holds.
    gate: Callable[[_Text], bool] | None = None
    #: Run only around numbers with at least this many digits (0: not number-bound) and dots.
    digits: int = 0
    dots: int = 0

    def finditer(self, view: _Text) -> Iterator[re.Match[str]]:
        if self.digits:
            yield from self._around_numbers(view)
            return
        gated = self.needs or self.words or self.gate
        if gated and not (any(token in view.text for token in self.needs) or self._has_word(view.words)
                          or (self.gate is not None and self.gate(view))):
            return
        yield from self.regex.finditer(view.text)

    @cached_property
    def _word_gate(self) -> tuple[frozenset[str], tuple[str, ...], tuple[str, ...]]:
        """(exact words, prefixes from "pre*", suffixes from "*suf")."""
        return (frozenset(w for w in self.words if "*" not in w),
                tuple(w[:-1] for w in self.words if w.endswith("*")),
                tuple(w[1:] for w in self.words if w.startswith("*")))

    def _has_word(self, words: frozenset[str]) -> bool:
        exact, prefixes, suffixes = self._word_gate
        return (not exact.isdisjoint(words) or (bool(prefixes) and any(w.startswith(prefixes) for w in words))
                or (bool(suffixes) and any(w.endswith(suffixes) for w in words)))

    def _around_numbers(self, view: _Text) -> Iterator[re.Match[str]]:
        windows: list[list[int]] = []
        for start, end, digits, dots in view.numbers:
            if digits < self.digits or dots < self.dots:
                continue
            start, end = max(0, start - _BEFORE), min(len(view.text), end + _AFTER)
            if windows and start <= windows[-1][1]:
                windows[-1][1] = end
            else:
                windows.append([start, end])
        for start, end in windows:
            yield from self.regex.finditer(view.text, start, end)


#: Characters around a number a number-bound pattern may also read (an IBAN's letters, "x123").
_BEFORE, _AFTER = 40, 20


def _digits(match: re.Match[str]) -> str:
    return re.sub(r"\D", "", match.group(0))


def _card(match: re.Match[str], text: str) -> bool:
    """Luhn-valid, and not named as another identifier just before it ("rekening 4111...", "NIK ...")."""
    digits = _digits(match)
    if not (12 <= len(digits) <= 19 and len(set(digits)) > 1 and luhn_valid(digits)):
        return False
    return not _ID_CONTEXT_BEFORE.search(text, max(0, match.start() - 40), match.start())


_NIK_CONTEXT = re.compile(r"(?i)\b(?:nik|ktp|e-ktp|kependudukan|nomor induk)\b")

#: Words after which a long number is that identifier whatever its structure: a mistyped NIK or an
#: account number no checksum can confirm is still someone's.
_ID_CONTEXTS: dict[str, tuple[str, tuple[str, ...]]] = {  # kind: (the words, the gate's words)
    "nik": (r"nik|e-?ktp|ktp|nomor induk(?: kependudukan)?|no\.? ?induk|kartu keluarga|no\.? ?kk",
            ("nik", "ktp", "ektp", "induk", "keluarga", "kk")),
    "npwp": (r"npwp", ("npwp",)),
    "bank_account": (r"(?:nomor |no\.? ?)?rek(?:ening)?|(?:bank )?account(?: number| no| #)?|acct|a/c|iban|sort code|"
                     r"routing number|bsb|virtual account|nomor va",
                     ("rek", "rekening", "account", "acct", "iban", "sort", "routing", "bsb", "va")),
    "passport": (r"passport(?: number| no)?|paspor", ("passport", "paspor")),
    "id_number": (r"driver'?s licen[cs]e(?: number| no)?|licen[cs]e (?:number|no)|sim|bpjs(?: kesehatan)?|nip|nisn|"
                  r"nomor identitas|id number|id no|identity card|national (?:id|insurance)(?: number| no)?|"
                  r"social insurance(?: number| no)?|tax id|member(?:ship)? (?:id|number|no)|customer (?:id|number|no)|"
                  r"patient (?:id|number)|policy (?:number|no)|nomor pelanggan|id pelanggan|"
                  r"medical record(?: number| no)?|rekam medis",
                  ("license", "licence", "sim", "bpjs", "nip", "nisn", "identitas", "id", "identity", "national",
                   "insurance", "tax", "member", "membership", "customer", "patient", "policy", "pelanggan", "medical",
                   "medis")),
}
#: The identifier: 6 to 25 digits, single separators between; passports and licences may start with capitals.
_ID_DIGITS = r"\d(?:[ .-]?\d){5,24}"
_LETTERED_IDS = ("passport", "id_number")
#: Between the word and the number: a few words ("saya adalah", "number is", "BCA no."), no digit, no line break.
_ID_GAP = r"[^\d\n]{0,30}?"
_ID_CONTEXT_BEFORE = re.compile(rf"(?i)\b(?:{'|'.join(words for words, _gate in _ID_CONTEXTS.values())})\b{_ID_GAP}\Z")
_CURRENCY = re.compile(r"(?i)\b(?:rp|idr|usd|eur|gbp|sgd)\b|[$€£¥]")


def _id_in_context(match: re.Match[str], text: str) -> bool:
    """A number named as an identifier, unless it is an amount ("rekening sebesar Rp 1.500.000") or a date."""
    return not (_CURRENCY.search(text, match.start(), match.start(1)) or _is_date(match.group(1)))


def _id_context_pattern(kind: str, words: str, gate: tuple[str, ...]) -> _Pattern:
    letters = r"(?:[A-Z]{1,3}[ -]?)?" if kind in _LETTERED_IDS else ""
    value = rf"(?<![A-Za-z0-9])({letters}{_ID_DIGITS})(?![A-Za-z0-9]|[.-]\d)"
    return _Pattern(kind, re.compile(rf"(?i:\b(?:{words})\b){_ID_GAP}{value}"), check=_id_in_context, group=1,
                    words=gate, needs=("a/c", "A/C") if kind == "bank_account" else ())


def _nik(match: re.Match[str], text: str) -> bool:
    """A valid NIK structure; if it is also a valid card number, only with an NIK word before it."""
    digits = match.group(0)
    if not nik_valid(digits):
        return False
    return not luhn_valid(digits) or bool(_NIK_CONTEXT.search(text, max(0, match.start() - 40), match.start()))


def _phone_digits(match: re.Match[str], _text: str) -> bool:
    """7 to 15 digits (E.164), and neither a binary string ("0110100110") nor a date ("01-12-1972")."""
    digits = _digits(match)
    return 7 <= len(digits) <= 15 and not set(digits) <= {"0", "1"} and not _is_date(match.group(0))


_DATE = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2\d{2,4}|\d{4}([-/.])(\d{1,2})\4(\d{1,2})")


def _is_date(value: str) -> bool:
    """dd-mm-yyyy, mm/dd/yy or yyyy-mm-dd with a possible day and month ("12-34-56" is a sort code)."""
    match = _DATE.fullmatch(value)
    if match is None:
        return False
    first, second = (int(match[1]), int(match[3])) if match[1] else (int(match[5]), int(match[6]))
    return 1 <= min(first, second) <= 12 and max(first, second) <= 31


_PHONE_CONTEXT = re.compile(
    r"(?i)\b(?:phone|tel(?:p|epon|ephone)?|mobile|cell|call|fax|contact|whats\s?app|wa|hp|hubungi|nomor|no\.?\s*hp|number|"
    r"answering at|reach (?:me|us|him|her) at|registered|dial|ring|sms|text me)\b"
)


_PHONE_AFTER = re.compile(r"(?i)[\s-]*(?:office|fax|mobile|cell|home|work|tel|hp|wa)\b")


def _bare_phone(match: re.Match[str], text: str) -> bool:
    """Digit groups without a telltale format count only next to a phone word."""
    return _phone_digits(match, text) and bool(
        _PHONE_CONTEXT.search(text, max(0, match.start() - 40), match.start()) or _PHONE_AFTER.match(text, match.end())
    )




def _has_place_name(text: str) -> bool:
    """An address after "lives at" has a capitalised name in it, or a house number before a street name
    and another number (lowercase "2407 tawastintie 6"), not just "-20 and point B"."""
    return (any(len(word) > 2 and word.isalpha() and word[0].isupper() for word in re.findall(r"\w+", text))
            or bool(_LOWERCASE_STREET.search(text)))


_LOWERCASE_STREET = re.compile(r"(?<![-\d.,])\d{2,6}\s+[a-zà-ÿ]{3,}\D{0,30}\d")


_IPV4_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_NAME = r"[A-Z][a-zà-ÿ'’-]+"
#: Academic and religious titles Indonesian names often carry ("dr.", "drg.", "Hj.").
_TITLES = r"(?:(?:dr|drg|Dr|Drs|Dra|Ir|Hj|Prof|Tn|Ny|KH|R\.\s?(?:A|M|Ay|Ngt)|[A-Z])\.\s*)*"
_HEALTH_TERMS = (
    r"diabet\w*|cancer|kanker|tumou?r|leukemia|hiv|aids|hepatitis|tuberculosis|tbc|asthma|asma|"
    r"depress\w*|depresi|anxiety|panic attacks?|bipolar|schizophreni\w*|adhd|autis\w*|ptsd|"
    r"pregnan\w*|hamil|miscarriage|keguguran|hypertension|high blood pressure|darah tinggi|"
    r"stroke|heart (?:disease|attack|condition)|epilep\w*|dementia|alzheimer'?s?|parkinson'?s?|"
    r"chemo(?:therapy)?|kemoterapi|dialysis|cuci darah|insulin|antidepressants?|"
    r"allerg(?:y|ic|ies) to|alergi|std|sti|herpes|covid(?:-19)?|positive for|diagnos(?:ed|is)|didiagnosis|"
    r"prescri(?:bed|ption)|medication|obat|surgery|operasi|therapist|psychiatrist|rehab|"
    r"blood (?:test|sugar)|gula darah|sakit|penyakit|illness|disorder|symptoms?"
)
_HEALTH = re.compile(rf"(?i)\b(?:{_HEALTH_TERMS})\b")
_FIRST_PERSON = re.compile(
    r"(?i)\b(?:i|i'm|i am|i've|i have|i was|me|my|mine|myself|saya|aku|"
    r"(?:my|our) (?:mother|mom|mum|father|dad|son|daughter|wife|husband|child|kid|baby|brother|sister|"
    r"friend|partner|grandmother|grandfather|boss|colleague|patient)|"
    r"(?:ibu|ayah|anak|istri|suami|adik|kakak|teman)(?:ku| saya))\b"
)
_SENTENCE_END = re.compile(r"[.!?\n]")


def _health_disclosed(match: re.Match[str], text: str) -> bool:
    """A health term counts when the same sentence speaks of the writer or someone close to them."""
    start = max(0, match.start() - 80)
    ends = [m.end() for m in _SENTENCE_END.finditer(text, start, match.start())]
    start = ends[-1] if ends else start
    stop = _SENTENCE_END.search(text, match.end(), match.end() + 80)  # bounded: a text without full stops stays linear
    window = text[start: stop.start() if stop else match.end() + 80]
    return bool(_FIRST_PERSON.search(window))


_STREET_SUFFIXES = ("katu", "tie", "gade", "vej", "gatan", "vägen", "straße", "strasse", "str", "weg", "laan", "straat",
                    "utca", "gasse", "platz", "allee", "kuja", "polku", "väylä", "tee", "iela", "gatve", "ulica")
#: Words (or "prefix*") that let the health detector run at all.
_HEALTH_WORDS = (
    "diabet*", "cancer", "kanker", "tumor", "tumour", "leukemia", "hiv", "aids", "hepatitis", "tuberculosis", "tbc",
    "asthma", "asma", "depress*", "depresi", "anxiety", "panic", "bipolar", "schizophreni*", "adhd", "autis*", "ptsd",
    "pregnan*", "hamil", "miscarriage", "keguguran", "hypertension", "blood", "darah", "stroke", "heart", "epilep*",
    "dementia", "alzheimer", "parkinson", "chemo", "chemotherapy", "kemoterapi", "dialysis", "cuci", "insulin",
    "antidepressant*", "allerg*", "alergi", "std", "sti", "herpes", "covid", "positive", "diagnos*", "didiagnosis",
    "prescri*", "medication", "obat", "surgery", "operasi", "therapist", "psychiatrist", "rehab", "gula", "sakit",
    "penyakit", "illness", "disorder", "symptom", "symptoms",
)


_STREET_SUFFIX_REGEX = (r"katu|tie|gade|vej|gatan|vägen|straße|strasse|str\.|weg|laan|straat|utca|gasse|platz|allee|"
                        r"kuja|polku|väylä|iela|gatve|ulica")
_STREET_SUFFIX_THEN_NUMBER = re.compile(rf"(?:tee|{_STREET_SUFFIX_REGEX})\s+\d")


def _street_name_before_a_number(view: _Text) -> bool:
    """A word ending like a street's name ("Mannerheimintie", "Hauptstraße"), then a number: what every
    match of the pattern holds. Checked in that order: "committee", "guarantee" are common, "committee 12"
    is not, and the whole pattern costs four times the second check."""
    return (any(word.endswith(_STREET_SUFFIXES) for word in view.words)
            and _STREET_SUFFIX_THEN_NUMBER.search(view.text) is not None)


def _a_line_starts_with_a_number(text: str) -> bool:
    return any(line.lstrip(" \t>?")[:1].isdigit() for line in text.split("\n"))


_PATTERNS: tuple[_Pattern, ...] = (
    # secrets
    _Pattern("private_key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
                                       r"(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)?"),
             needs=("PRIVATE KEY",)),
    _Pattern("secret", re.compile(r"\bsk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_-]{20,}"), detail="OpenAI API key",
             needs=("sk-",)),
    _Pattern("secret", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"), detail="Google API key", needs=("AIza",)),
    _Pattern("secret", re.compile(r"\bya29\.[0-9A-Za-z_-]{20,}"), detail="Google OAuth token", needs=("ya29.",)),
    _Pattern("secret", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b"),
             detail="GitHub token", needs=("gh", "github_pat_")),
    _Pattern("secret", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), detail="AWS access key", needs=("AKIA", "ASIA")),
    _Pattern("secret", re.compile(r"(?i)\baws_secret_access_key\b\s*[:=]\s*[\"']?([A-Za-z0-9/+=]{40})"),
             detail="AWS secret key", needs=("ws_secret", "WS_SECRET"), group=1),
    _Pattern("secret", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
             detail="JSON web token", needs=("eyJ",)),
    _Pattern("secret", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), detail="Slack token", needs=("xox",)),
    _Pattern("secret", re.compile(
        r"(?i)\b(?:api[_-]?key|secret(?:[_-]?key)?|access[_-]?token|auth[_-]?token|bearer|password|passwd|kata sandi)"
        r"\b[\"']?\s*(?:[:=]|is|adalah)\s*[\"']?([^\s\"',;]{8,})"),
             detail="credential", group=1, words=("api", "apikey", "secret", "token", "bearer", "password", "passwd", "sandi")),
    # identifiers with validators
    # groups of four (the print format) or none, spaces or dashes, any case; a word after it is not swallowed
    _Pattern("iban", re.compile(r"(?i)\b[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,3})?\b"),
             check=lambda m, _t: iban_valid(m.group(0)), digits=8),
    _Pattern("nik", re.compile(r"(?<![\d.-])\d{16}(?![\d.-])"), check=_nik, digits=16),
    _Pattern("npwp", re.compile(r"(?<![\d.])\d{2}\.\d{3}\.\d{3}\.\d-\d{3}\.\d{3}(?!\d|\.\d)"), digits=15),
    *(_id_context_pattern(kind, words, gate) for kind, (words, gate) in _ID_CONTEXTS.items()),
    _Pattern("payment_card", re.compile(r"(?<![\d+])(?<!\d[.,-])[1-9](?:[ -]?\d){11,18}(?!\d|[.,-]\d)"), check=_card, digits=12),
    _Pattern("us_ssn", re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])"), check=lambda m, _t: ssn_valid(m.group(0)), digits=9),
    _Pattern("us_ssn", re.compile(r"(?i)\b(?:ssn|social security(?: number| no\.?)?)\D{0,12}(\d{9})\b"), group=1,
             words=("ssn", "social")),
    _Pattern("email", re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"), needs=("@",)),
    _Pattern("ip_address", re.compile(rf"(?<![\d.]){_IPV4_OCTET}(?:\.{_IPV4_OCTET}){{3}}(?![\d.]|\.\d)"), digits=4, dots=3),
    _Pattern("ip_address", re.compile(r"(?i)(?<![\w:])(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}(?![\w:])|"
                                      r"(?<![\w:])(?:[0-9a-f]{1,4}:){2,6}:(?:[0-9a-f]{1,4}:?){1,5}(?![\w:])"),
             needs=("::",), gate=lambda view: view.text.count(":") >= 7),
    # phone numbers: international and Indonesian forms stand alone, bare digit groups need a phone word
    _Pattern("phone", re.compile(r"(?<![\w+])(?:\+\d{1,3}|\(\+\d{1,3}\))[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,5}(?:[\s.-]?\d{2,5}){1,4}(?![\d-])"),
             check=_phone_digits, digits=7),
    _Pattern("phone", re.compile(r"(?<![\w.])(?:\(0\d{1,4}\)|0\d{1,4})[\s.-]?\d{2,4}(?:[\s.-]\d{2,4}){1,3}(?!\d|-\d)|"
                                 r"(?<![\w.])(?:\(0\d{1,4}\)[\s./-]{0,2}|0\d{1,4}[\s./-]{1,2})\d{5,8}(?!\d|[.-]\d)|"
                                 r"(?<![\w.])0[1-9]\d{8,10}(?!\d)|(?<![\w.+])62[\s.-]?8\d{1,2}[\s.-]?\d{3,4}[\s.-]?\d{3,5}(?![\d-])"),
             check=_phone_digits, digits=7),
    _Pattern("phone", re.compile(r"(?<![\w.-])(?:\([2-9]\d{2}\)[\s.-]?|[2-9]\d{2}[\s.-])\d{3}[\s.-]\d{4}(?:\s?(?:x|ext\.?)\s?\d{1,5})?(?!\d|-\d)"), digits=10),
    _Pattern("phone", re.compile(r"(?<![\w.])\(?\d{2,5}\)?(?:[ -]?\d{2,5}){1,3}(?!\d|[.-]\d)"), check=_bare_phone, digits=7),
    # addresses
    _Pattern("street_address", re.compile(
        rf"\b\d{{1,6}}[A-Za-z]?(?:\s+\d{{1,3}})?\s+(?:{_NAME}\s+){{1,4}}"
        r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Square|"
        r"Highway|Hwy|Parkway|Pkwy|Circle|Crescent|Close|Alley|Trail|Row)\b\.?"),
             words=("street", "st", "avenue", "ave", "road", "rd", "boulevard", "blvd", "lane", "ln", "drive", "dr",
                    "court", "ct", "way", "place", "pl", "terrace", "square", "highway", "hwy", "parkway", "pkwy",
                    "circle", "crescent", "close", "alley", "trail", "row")),
    # typed in lowercase: only the suffixes no sentence ends a count with ("in a row", "to drive" do)
    _Pattern("street_address", re.compile(
        r"(?i)(?<![\d.,-])\b\d{1,6}[a-z]?(?:\s+\d{1,3})?\s+(?:[a-zà-ÿ][a-zà-ÿ'’-]+\s+){1,3}"
        r"(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|highway|hwy|parkway|pkwy)\b\.?"),
             words=("street", "st", "avenue", "ave", "road", "rd", "boulevard", "blvd", "lane", "ln", "highway", "hwy",
                    "parkway", "pkwy")),
    # a city, a state and a ZIP code: "Springfield, IL 62704"
    _Pattern("street_address", re.compile(rf"\b{_NAME}(?:[ \t]+{_NAME}){{0,2}},[ \t]*[A-Z]{{2}}[ \t]+\d{{5}}(?:-\d{{4}})?\b"),
             digits=5),
    # European: a street and house number, then the postcode and town on the next line or after a comma
    # ("…-Weg 10\n39075 Saarbrücken", "ulica Polna 30, 61-385 Lubliniec", "Robinring 1\n5451 VA …"),
    # or the town and postcode ("Paseo Nélida Arnaiz 367\nMelilla, 05139"). After a comma a bare
    # four-digit number is more often a year ("Chapter 3, 1995 Census"), so it needs the line break.
    _Pattern("street_address", re.compile(
        r"\b[^\W\d_](?:[^\W\d]|['.-]){0,40},?[ \t]+\d{1,5}[A-Za-z]?(?:[/-]\d{1,4})?(?:[ \t]+[A-Z][a-z]+[ \t]+\d{1,4})?[ \t]*"
        r"(?:(?:\n[ \t]*(?:\d{4}[ \t]?[A-Z]{2}\b|\d{4,5}|\d{2}-\d{3}|\d{4}-\d{3}|\d{3}[ \t]\d{2})|"
        r",[ \t]*(?:\d{4}[ \t]?[A-Z]{2}\b|\d{5}|\d{2}-\d{3}|\d{4}-\d{3}|\d{3}[ \t]\d{2}))(?:[ \t]*[,\n][ \t]*|[ \t]+)[A-ZÀ-ÞĀ-ſ][\w'-]+|"
        r"[,\n][ \t]*[A-ZÀ-ÞĀ-ſ][\w'-]+(?:[ \t]+[A-ZÀ-ÞĀ-ſ][\w'-]+){0,2},[ \t]*\d{5}\b)"),
             digits=4),
    # a UK postcode: "SW1A 2AA", "W88 6FJ"
    _Pattern("street_address", re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?[ \t]\d[A-Z]{2}\b")),
    _Pattern("street_address", re.compile(
        rf"\b(?:Jalan|Jl|Jln|Gang|Gg|Komplek|Komp|Perumahan|Perum)\.?\s+(?:{_NAME}\.?|[A-Z]\.)(?:\s+(?:{_NAME}\.?|[A-Z]\.)){{0,4}}"
        r"\s*,?\s*(?:(?:No|Nomor|Kav|Blok)\.?\s*)?\d+[A-Za-z]?\b|"
        # typed in lowercase, the house number's "no." tells it from "jalan tol"
        r"(?i:\b(?:jalan|jl|jln|gang|gg|komplek|komp|perumahan|perum)\.?\s+[a-z][\w.'-]*(?:\s+[a-z][\w.'-]*){0,4}?"
        r"\s*,?\s*(?:no|nomor|kav|blok)\.?\s*\d+[a-z]?\b)"),
             words=("jalan", "jl", "jln", "gang", "gg", "komplek", "komp", "perumahan", "perum")),
    # RT/RW (neighbourhood and hamlet): "RT 03/RW 07", "RT.003 RW.007", "RT/RW 003/007"
    _Pattern("street_address", re.compile(r"(?i)\bRT\s*[.:]?\s*\d{1,3}\s*[/,]?\s*RW\s*[.:]?\s*\d{1,3}\b|"
                                          r"\bRT\s*/\s*RW\s*[.:]?\s*\d{1,3}\s*/\s*\d{1,3}\b"), words=("rw",)),
    # kelurahan (or desa) and kecamatan together: "Kel. Sukajadi, Kec. Sukasari"
    _Pattern("street_address", re.compile(
        rf"(?i:\b(?:kel(?:urahan)?|desa|ds)\.?)\s+{_NAME}(?:\s+{_NAME}){{0,3}}\s*,?\s*"
        rf"(?i:kec(?:amatan)?\.?)\s+{_NAME}(?:\s+{_NAME}){{0,3}}"),
             words=("kec", "kecamatan")),
    _Pattern("street_address", re.compile(
        rf"(?:\b[A-ZÀ-Þ][\wÀ-ÿ'-]*tee|\b[A-Za-zÀ-ÿ][\wÀ-ÿ'-]*(?:{_STREET_SUFFIX_REGEX}))\s+\d{{1,5}}[A-Za-z]?\b"),
             gate=_street_name_before_a_number),
    _Pattern("street_address", re.compile(
        rf"\b(?:Via|Viale|Rue|Calle|Avenida|Rua|Rúa|Avenue|Boulevard|Chemin|Plaza|ul\.|al\.)\s+(?:(?:de|des|du|la|le|del|da|do|dos|das)\s+)?"
        rf"{_NAME}(?:\s+{_NAME}){{0,3}},?\s+\d{{1,5}}\b|\b\d{{1,5}},?\s+(?:rue|avenue|boulevard|chemin|place|calle)\s+[\w' -]{{3,40}}",
        re.IGNORECASE),
             words=("via", "viale", "rue", "calle", "avenida", "rua", "rúa", "avenue", "boulevard", "chemin", "plaza", "place",
                    "ul", "al")),
    _Pattern("street_address", re.compile(
        r"(?m)^[\s>?]*\d{1,6}(?:\s+\d{1,4})?\s+(?:[A-ZÀ-Þa-zß-ÿ]+\.?\s+){0,3}[A-ZÀ-Þ\u0370-\u03ff][\wÀ-ÿ.'-]+(?:\s+[\wÀ-ÿ'-]+){0,3}\s+\d{1,5}\b"),
             gate=lambda view: _a_line_starts_with_a_number(view.text)),
    _Pattern("street_address", re.compile(r"\b(?:Apt|Apartment|Suite|Ste|Flat|Unit|PO Box|P\.O\. Box|PSC)\.?\s*#?\d{1,6}\b"),
             words=("apt", "apartment", "suite", "ste", "flat", "unit", "box", "psc")),
    _Pattern("street_address", re.compile(r"\b(?:APO|FPO|DPO)\s+A[AEP]\s+\d{5}\b"), words=("apo", "fpo", "dpo")),
    _Pattern("street_address", re.compile(
        r"(?i)\b(?:my (?:new |home |current |old )?address(?: is)?|address\s*:|(?:I|we) (?:now )?live (?:at|on|in)|lives? (?:at|on)|lived (?:at|in)|located at|"
        r"ship (?:it )?to|stop at|drops? (?:you|me) off at|meet me at|return (?:it )?to|taxi to|sent to|station is on|office is at|"
        r"deliver (?:it )?to|send (?:it|the \w+) to|alamat(?: saya)?(?: adalah| di)?\s*:?|tinggal di)\s+([^\n]{0,60}\d[^\n]{0,40})"),
             check=lambda m, _t: _has_place_name(m.group(1)), group=1,
             words=("address", "live", "lives", "lived", "located", "ship", "stop", "drops", "drop", "meet", "return",
                    "taxi", "sent", "station", "office", "deliver", "send", "alamat", "tinggal")),
    # context-dependent kinds
    _Pattern("date_of_birth", re.compile(
        r"(?i)\b(?:born(?: on| in)?|date of birth|d\.?o\.?b\.?|birth ?date|birthday(?: is)?|tanggal lahir|tgl\.? lahir|lahir(?: pada| tanggal)?)"
        r"\s*:?\s*((?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4})|(?:\d{4}-\d{2}-\d{2})|"
        r"(?:\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?[A-Za-z]{3,9}\.?,?\s+\d{4})|(?:[A-Za-z]{3,9}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}))"),
             group=1, needs=("d.o.b", "D.O.B"), words=("born", "birth", "dob", "birthday", "birthdate", "lahir", "tgl")),
    _Pattern("health", _HEALTH, check=_health_disclosed, words=_HEALTH_WORDS),
    _Pattern("person_name", re.compile(
        rf"(?i:\bmy name(?:'s| is)|\bname\s*:|\bcall me|\bnama saya(?: adalah)?|\bnama\s*:|\bsaya bernama|\bperkenalkan,? saya)"
        rf"[ \t]+{_TITLES}({_NAME}(?:[ \t]+(?:{_NAME}|[A-Z]\.|[A-Z]\b)){{0,3}})"), group=1,
             words=("name", "nama", "call", "bernama", "perkenalkan")),
    _Pattern("person_name", re.compile(
        rf"(?i:\bI am|\bI'm|\bthis is|\bsaya)[ \t]+{_TITLES}({_NAME}[ \t]+{_NAME}(?:[ \t]+{_NAME}){{0,2}})"), group=1,
             words=("i", "this", "saya")),
)

#: Names that count only when the text also holds other personal data ("such data" in the issue).
_NAME_NEAR_DATA = (
    re.compile(rf"\b(?:Mr|Mrs|Ms|Miss|Dr|Prof|Bapak|Ibu|Pak|Bu|Sdr|Sdri)\.?[ \t]+({_NAME}(?:[ \t]+{_NAME}){{0,2}})"),
    re.compile(rf"(?m)^[ \t>?]*({_NAME}(?:[ \t]+[A-Z]\.?)?[ \t]+{_NAME}(?:[ \t]+{_NAME})?)[ \t]*$"),
    re.compile(rf"(?:\b(?:to|for|from|add|named|is|by)|[:,])[ \t]+({_NAME}[ \t]+(?:[A-Z]\.?[ \t]+)?{_NAME})\b"),
)


def _candidates(text: str) -> Iterator[Finding]:
    view = _Text.of(text)
    for pattern in _PATTERNS:
        for match in pattern.finditer(view):
            if pattern.check is not None and not pattern.check(match, text):
                continue
            start, end = match.span(pattern.group)
            value = text[start:end].rstrip(" ,.")
            if not value.strip():
                continue
            yield Finding(pattern.kind, start, start + len(value), mask(value, pattern.kind), detail=pattern.detail)


def _findings(text: str) -> list[Finding]:
    findings = _without_overlaps(_candidates(text))
    if findings and not all(f.kind == "person_name" for f in findings):
        names = [
            Finding("person_name", m.start(1), m.end(1), mask(m.group(1), "person_name"))
            for regex in _NAME_NEAR_DATA for m in regex.finditer(text)
        ]
        findings = _without_overlaps([*findings, *names])
    return findings


def _without_overlaps(findings: Iterable[Finding]) -> list[Finding]:
    """Keep the most sensitive kind where findings overlap (a card number is not also a phone number)."""
    kept: list[Finding] = []  # disjoint, by start (so by end too): one bisection finds the neighbours
    starts: list[int] = []
    for finding in sorted(findings, key=lambda f: (_RANK[f.kind], f.start, -(f.end - f.start))):
        index = bisect.bisect_right(starts, finding.start)
        if (index == 0 or kept[index - 1].end <= finding.start) and (index == len(kept) or finding.end <= kept[index].start):
            kept.insert(index, finding)
            starts.insert(index, finding.start)
    return kept


def scan_text(text: str, source: str = "prompt") -> tuple[Finding, ...]:
    """Every finding in one text, positions relative to it, in reading order.

    Fails closed: if the scan itself breaks, the whole text is one finding, so the message stays
    local and a log line is masked whole, rather than going out unchecked. (Nothing is logged
    here: the log formatter calls this very function.)
    """
    try:
        findings = _findings(text)
    except Exception as exc:  # any failure at all must keep the text private
        findings = [Finding("unscanned", 0, len(text) if isinstance(text, str) else 0, "•••",
                            detail=f"{KIND_LABELS['unscanned']} ({type(exc).__name__})")]
    return _from(source, findings)


def _from(source: str, findings: Iterable[Finding]) -> tuple[Finding, ...]:
    if source == "prompt":
        return tuple(findings)
    return tuple(Finding(f.kind, f.start, f.end, f.preview, source, f.detail) for f in findings)


class _ScannedTexts:
    """The findings of recently scanned texts, by a digest of the text (the text itself is not kept).

    A conversation sends its earlier turns and often the same passages with every message: each
    is scanned once (1,000 characters cost about 0.3 ms) instead of once per later message.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._findings: OrderedDict[bytes, tuple[Finding, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def scan(self, text: str, *, known: bool) -> tuple[Finding, ...]:
        """`scan_text(text)`, from memory if `known` (the text may have been scanned before) and it was."""
        try:
            key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        except Exception:  # not a text: scan_text fails closed on it
            return scan_text(text)
        with self._lock:
            findings = self._findings.get(key) if known else None
            if findings is not None:
                self._findings.move_to_end(key)
                return findings
        findings = scan_text(text)
        if all(f.kind != "unscanned" for f in findings):  # a failed scan is tried again next time
            with self._lock:
                self._findings[key] = findings
                while len(self._findings) > self._size:
                    self._findings.popitem(last=False)
        return findings


_scanned = _ScannedTexts(size=1024)


def scan(prompt: str, history: Sequence[str] = (), passages: Sequence[str] = ()) -> PrivacyReport:
    """Scan the new prompt, the earlier turns and the retrieved passages that will be sent with it.

    The prompt is always scanned; earlier turns and passages seen before (the prompt of an earlier
    message, a passage retrieved again) keep the findings of their first scan.
    """
    findings = list(_scanned.scan(prompt, known=False))
    for index, text in enumerate(history):
        findings.extend(_from(f"history[{index}]", _scanned.scan(text, known=True)))
    for index, text in enumerate(passages):
        findings.extend(_from(f"passage[{index}]", _scanned.scan(text, known=True)))
    return PrivacyReport(tuple(findings))
