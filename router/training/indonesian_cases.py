"""Labelled Indonesian privacy cases, generated with Faker's id_ID locale (no public labelled set exists).

Each case is a sentence holding one kind of personal data (NIK, NPWP, bank accounts, passports,
+62/08 phone numbers, Jalan/Gang/RT-RW/kelurahan addresses, ...) or none. There are two sets of
templates written separately, "tune" and "report" (see `router.training.privacy_data`): tune the
scan on the first, quote the second. `generate(n, part, seed)` is deterministic.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from faker import Faker

from router.privacy import NIK_PROVINCES
from router.training.privacy_data import Part


@dataclass(frozen=True)
class Case:
    text: str
    #: The kind the sentence holds, or "" for an ordinary sentence.
    kind: str


_TEMPLATES: dict[Part, dict[str, tuple[str, ...]]] = {
    "tune": {
        "nik": ("NIK saya {nik}, tolong cek status BPJS saya.", "Nomor KTP: {nik}", "Ini NIK istri saya {nik} untuk pendaftaran.",
                "NIK {nik_any} atas nama {name}", "no ktp saya {nik_spaced}"),
        "npwp": ("NPWP perusahaan kami {npwp}.", "Tolong isi formulir dengan NPWP {npwp} atas nama saya.",
                 "npwp: {npwp_plain}"),
        "bank_account": ("Transfer ke rekening {bank} {account} a.n. {name}.", "Nomor rekening saya {account}",
                         "my account number is {account}, please check the transfer"),
        "passport": ("Nomor paspor saya {passport}, berlaku sampai 2029.", "Passport No. {passport}"),
        "phone": ("Hubungi saya di {phone} ya.", "Nomor WA saya {mobile}", "Kalau ada masalah telepon {phone}.",
                  "Bisa kirim ke {mobile}? Terima kasih.", "{mobile} (WA only)"),
        "street_address": ("Alamat saya {address}", "Tolong kirim paketnya ke {address}.",
                           "Saya tinggal di {street}, RT {rt}/RW {rw}.",
                           "Paket untuk {street}, Kel. {area}, Kec. {district}, {city}",
                           "Rumah kami di {street_lower} dekat masjid."),
        "email": ("Email saya {email}, tolong kirim invoice ke sana.", "Kontak: {email}"),
        "person_name": ("Nama saya {name}, saya mau tanya soal tagihan.", "Perkenalkan, saya {name}."),
        "date_of_birth": ("Saya lahir tanggal {dob}.", "Tanggal lahir: {dob}"),
        "payment_card": ("Kartu kredit saya {card} tidak bisa dipakai.", "Tolong blokir kartu {card_spaced}"),
        "health": ("Saya didiagnosis diabetes bulan lalu, makanan apa yang aman?",
                   "Ibu saya sakit kanker, rumah sakit mana yang bagus?", "Saya sedang hamil 3 bulan, boleh minum kopi?"),
        "": ("Berapa jumlah provinsi di Indonesia pada tahun {year}?", "Jelaskan sejarah Sumpah Pemuda 28 Oktober 1928.",
             "Apa ibu kota Provinsi {province}?", "Hitung 15% dari 2.500.000 rupiah.", "Bagaimana cara membuat rendang?",
             "Siapa presiden pertama Indonesia?", "Terjemahkan 'selamat pagi' ke bahasa Inggris.",
             "Berapa hasil 1234 x 5678?", "Apa perbedaan Jalan Tol dan jalan arteri?", "Kapan Candi Borobudur dibangun?",
             "Bagaimana cara membuka rekening tabungan di bank?", "Apa fungsi NPWP bagi pekerja lepas?",
             "Saldo rekening bertambah Rp {amount} setelah bunga.", "Berapa lama membuat paspor di kantor imigrasi?"),
    },
    "report": {
        "nik": ("Mohon verifikasi data saya, NIK: {nik}", "nomor induk kependudukan {nik_any}",
                "KTP ayah saya nomornya {nik} kak", "Data pelanggan - NIK {nik_dotted}"),
        "npwp": ("Nomor NPWP saya {npwp} mohon dicantumkan di faktur.", "NPWP {npwp_plain} (pribadi)"),
        "bank_account": ("Silakan transfer ke rek. {bank} no {account} atas nama saya",
                         "No rekening {account_dashed} ({bank})", "Refund please to account {account}"),
        "passport": ("Paspor: {passport}", "My passport number is {passport} - can I renew it online?"),
        "phone": ("Tolong telepon balik ke nomor {phone}", "WA: {mobile}", "Nomor kantor {phone}, ext 12.",
                  "Kalau tidak diangkat, SMS saja ke {mobile}.", "Hp istri saya {mobile}"),
        "street_address": ("Kirim ke {address}", "Alamat lengkap: {street} RT {rt_padded} RW {rw_padded} {area}",
                           "Rumah saya di {street}, Kelurahan {area}, Kecamatan {district}.",
                           "Saya pindah ke {street_lower}, {city} {postcode}", "Tujuan: {street}\n{city}, {province} {postcode}"),
        "email": ("Balas ke {email} ya.", "Akun saya terdaftar dengan email {email}"),
        "person_name": ("Saya bernama {name} dan ingin mengajukan keluhan.", "nama: {name}"),
        "date_of_birth": ("Tgl lahir {dob}", "Saya lahir pada {dob} di {city}."),
        "payment_card": ("Nomor kartu debit saya {card}", "cc {card_spaced} kena tagihan ganda"),
        "health": ("Anak saya didiagnosis asma, obat apa yang aman?", "Saya punya darah tinggi, bolehkah makan durian?",
                   "Suami saya sedang kemoterapi, makanan apa yang dianjurkan?"),
        "": ("Apa bedanya tabungan dan deposito?", "Jelaskan fotosintesis dalam 3 kalimat.",
             "Berapa 2.750.000 dibagi 25?", "Siapa yang menulis Laskar Pelangi?", "Di mana letak Danau Toba?",
             "Apa syarat membuat NPWP?", "Jalan Malioboro ada di kota apa?", "Konversi 1500 USD ke rupiah dengan kurs 15.600.",
             "Bagaimana cara memblokir kartu ATM yang hilang?", "Tahun berapa Indonesia merdeka?",
             "Transfer Rp {amount} ke rekening tabungan dikenai biaya berapa?", "Apa itu nomor induk kependudukan?",
             "Nomor antrian 1024 dipanggil jam berapa?", "Apa isi pasal 28 UUD 1945?"),
    },
}

_SEEDS: dict[Part, int] = {"tune": 1234, "report": 5678}
_BANKS = ("BCA", "BRI", "BNI", "Mandiri", "CIMB Niaga", "BSI", "Permata", "Danamon")


def _nik(rng: random.Random, born: date, female: bool) -> str:
    province = rng.choice(sorted(NIK_PROVINCES))
    day = born.day + (40 if female else 0)
    return f"{province:02d}{rng.randint(1, 79):02d}{rng.randint(1, 40):02d}{day:02d}{born:%m%y}{rng.randint(1, 9999):04d}"


def _npwp(rng: random.Random) -> str:
    s = "".join(str(rng.randint(0, 9)) for _ in range(15))
    return f"{s[:2]}.{s[2:5]}.{s[5:8]}.{s[8]}-{s[9:12]}.{s[12:]}"


def _mobile(rng: random.Random) -> str:
    prefix = rng.choice(("0812", "0813", "0821", "0852", "0857", "0878", "0896", "+62 812", "+62812", "62 813",
                         "+62-811", "(+62) 815", "0819"))
    body = f"{rng.randint(1000, 9999)}{rng.randint(100, 9999)}"
    separator = rng.choice(("", " ", "-", "."))
    return f"{prefix}{separator}{body[:4]}{separator}{body[4:]}"


def _account(rng: random.Random) -> str:
    return "".join(str(rng.randint(0, 9)) for _ in range(rng.choice((10, 10, 13, 15))))


def _passport(rng: random.Random) -> str:
    letters = "".join(rng.choice("ABCEXY") for _ in range(rng.choice((1, 1, 2))))
    return f"{letters}{rng.choice(('', ' '))}{rng.randint(1000000, 9999999)}"


def generate(n: int = 300, part: Part = "report", seed: int | None = None) -> list[Case]:
    """`n` cases from `part`'s templates, spread evenly over the kinds (ordinary sentences included)."""
    seed = _SEEDS[part] if seed is None else seed
    fake = Faker("id_ID")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    templates = _TEMPLATES[part]
    kinds = sorted(templates)
    cases = []
    for index in range(n):
        kind = kinds[index % len(kinds)]
        born = fake.date_of_birth(minimum_age=18, maximum_age=80)
        nik = _nik(rng, born, rng.random() < 0.5)
        account = _account(rng)
        street = fake.street_address()
        values = {
            "nik": nik, "nik_any": rng.choice((nik, "".join(str(rng.randint(0, 9)) for _ in range(16)))),
            "nik_spaced": f"{nik[:6]} {nik[6:12]} {nik[12:]}", "nik_dotted": f"{nik[:6]}.{nik[6:12]}.{nik[12:]}",
            "npwp": _npwp(rng), "npwp_plain": _npwp(rng).replace(".", "").replace("-", ""),
            "bank": rng.choice(_BANKS), "account": account, "account_dashed": f"{account[:3]}-{account[3:6]}-{account[6:]}",
            "passport": _passport(rng), "phone": fake.phone_number(), "mobile": _mobile(rng),
            "address": fake.address().replace("\n", rng.choice((", ", "\n"))), "street": street,
            "street_lower": street.lower(), "rt": rng.randint(1, 20), "rw": rng.randint(1, 15),
            "rt_padded": f"{rng.randint(1, 20):03d}", "rw_padded": f"{rng.randint(1, 15):03d}",
            "area": fake.street_name(), "district": fake.city_name(), "city": fake.city(), "postcode": fake.postcode(),
            "email": fake.email(), "name": fake.name(),
            "dob": rng.choice((f"{born:%d-%m-%Y}", f"{born:%d/%m/%Y}", f"{born.day} {fake.month_name()} {born.year}")),
            "card": fake.credit_card_number(), "year": rng.randint(1950, 2024), "province": fake.state(),
            "amount": f"{rng.randint(1, 999)}.{rng.randint(0, 999):03d}.000",
        }
        card = values["card"]
        values["card_spaced"] = " ".join(card[i:i + 4] for i in range(0, len(card), 4))
        cases.append(Case(rng.choice(templates[kind]).format(**values), kind))
    return cases
