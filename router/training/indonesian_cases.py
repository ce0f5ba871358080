"""Labelled Indonesian privacy cases, generated with Faker's id_ID locale (no public labelled set exists).

Each case is a sentence holding one kind of personal data (NIK, NPWP, +62/08 phone numbers,
addresses, ...) or none; `generate(n, seed)` is deterministic for a given seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from faker import Faker

from router.privacy import NIK_PROVINCES


@dataclass(frozen=True)
class Case:
    text: str
    #: The kind the sentence holds, or "" for an ordinary sentence.
    kind: str


_TEMPLATES: dict[str, tuple[str, ...]] = {
    "nik": ("NIK saya {nik}, tolong cek status BPJS saya.", "Nomor KTP: {nik}", "Ini NIK istri saya {nik} untuk pendaftaran."),
    "npwp": ("NPWP perusahaan kami {npwp}.", "Tolong isi formulir dengan NPWP {npwp} atas nama saya."),
    "phone": ("Hubungi saya di {phone} ya.", "Nomor WA saya {mobile}", "Kalau ada masalah telepon {phone}.",
              "Bisa kirim ke {mobile}? Terima kasih."),
    "street_address": ("Alamat saya {address}", "Tolong kirim paketnya ke {address}.",
                       "Saya tinggal di {street}, RT {rt}/RW {rw}."),
    "email": ("Email saya {email}, tolong kirim invoice ke sana.", "Kontak: {email}"),
    "person_name": ("Nama saya {name}, saya mau tanya soal tagihan.", "Perkenalkan, saya {name}."),
    "date_of_birth": ("Saya lahir tanggal {dob}.", "Tanggal lahir: {dob}"),
    "payment_card": ("Kartu kredit saya {card} tidak bisa dipakai.",),
    "health": ("Saya didiagnosis diabetes bulan lalu, makanan apa yang aman?", "Ibu saya sakit kanker, rumah sakit mana yang bagus?",
               "Saya sedang hamil 3 bulan, boleh minum kopi?"),
    "": ("Berapa jumlah provinsi di Indonesia pada tahun {year}?", "Jelaskan sejarah Sumpah Pemuda 28 Oktober 1928.",
         "Apa ibu kota Provinsi {province}?", "Hitung 15% dari 2.500.000 rupiah.", "Bagaimana cara membuat rendang?",
         "Siapa presiden pertama Indonesia?", "Terjemahkan 'selamat pagi' ke bahasa Inggris.",
         "Berapa hasil 1234 x 5678?", "Apa perbedaan Jalan Tol dan jalan arteri?", "Kapan Candi Borobudur dibangun?"),
}


def _nik(rng: random.Random, born: date, female: bool) -> str:
    province = rng.choice(sorted(NIK_PROVINCES))
    day = born.day + (40 if female else 0)
    return f"{province:02d}{rng.randint(1, 79):02d}{rng.randint(1, 40):02d}{day:02d}{born:%m%y}{rng.randint(1, 9999):04d}"


def _npwp(rng: random.Random) -> str:
    d = [rng.randint(0, 9) for _ in range(15)]
    s = "".join(map(str, d))
    return f"{s[:2]}.{s[2:5]}.{s[5:8]}.{s[8]}-{s[9:12]}.{s[12:]}"


def _mobile(rng: random.Random) -> str:
    prefix = rng.choice(("0812", "0813", "0821", "0852", "0857", "0878", "0896", "+62 812", "+62812", "62 813"))
    body = f"{rng.randint(1000, 9999)}{rng.randint(100, 9999)}"
    separator = rng.choice(("", " ", "-"))
    return f"{prefix}{separator}{body[:4]}{separator}{body[4:]}"


def generate(n: int = 300, seed: int = 1234) -> list[Case]:
    """`n` cases spread evenly over the kinds (ordinary sentences included)."""
    fake = Faker("id_ID")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    kinds = sorted(_TEMPLATES)
    cases = []
    for index in range(n):
        kind = kinds[index % len(kinds)]
        born = fake.date_of_birth(minimum_age=18, maximum_age=80)
        values = {
            "nik": _nik(rng, born, rng.random() < 0.5), "npwp": _npwp(rng), "phone": fake.phone_number(),
            "mobile": _mobile(rng), "address": fake.address().replace("\n", ", "), "street": fake.street_address(),
            "rt": rng.randint(1, 20), "rw": rng.randint(1, 15), "email": fake.email(), "name": fake.name(),
            "dob": rng.choice((f"{born:%d-%m-%Y}", f"{born:%d/%m/%Y}", f"{born.day} {fake.month_name()} {born.year}")),
            "card": fake.credit_card_number(), "year": rng.randint(1950, 2024), "province": fake.state(),
        }
        cases.append(Case(rng.choice(_TEMPLATES[kind]).format(**values), kind))
    return cases
