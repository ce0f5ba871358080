"""PDFs for the knowledge tests: generated with fpdf2 and pypdf, and the real samples."""

from __future__ import annotations

import io
import zlib
from pathlib import Path

from fpdf import FPDF
from pypdf import PdfWriter

SAMPLES = Path(__file__).resolve().parent.parent / "knowledge" / "samples"

#: One clearly different topic per page, so a question has exactly one right page.
TOPIC_PAGES = [
    "Volcanoes form where magma rises through the crust. Basaltic lava is runny and builds wide shield "
    "volcanoes such as Mauna Loa, while sticky andesitic magma traps gas and erupts explosively.",
    "Honeybees communicate the direction of flowers with the waggle dance. The angle of the run against "
    "gravity shows the angle to the sun, and its length tells how far away the nectar is.",
    "The sourdough starter is a culture of wild yeast and lactic acid bacteria. Feed it flour and water "
    "every day, and bake when it doubles in size within six hours.",
    "A bicycle chain should be cleaned and lubricated every few hundred kilometres. A stretched chain wears "
    "the cassette and chainrings, so measure it with a chain checker.",
]

#: Three pages for the chat's end-to-end tests: only the third tells the lighthouse's code.
HARBOUR_GUIDE = [
    "Apples grow in orchards. Farmers pick them in autumn and store them in cool cellars over winter.",
    "Trains connect the cities of the valley. The night train leaves at ten and arrives at dawn.",
    "The lighthouse keeper of the blue harbour paints the tower white every spring. "
    "The secret code of the blue harbour lighthouse is 7431.",
]


def make_pdf(pages: list[str | None]) -> bytes:
    """A PDF with one page per entry: text, or None for an image-only ("scanned") page."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        if text is None:
            pdf.set_fill_color(90, 90, 90)
            pdf.rect(20, 20, 150, 200, style="F")  # drawn, not text: what a scan looks like to pypdf
        else:
            pdf.multi_cell(0, 7, text)
    return bytes(pdf.output())


def encrypt(data: bytes, *, user_password: str, owner_password: str, algorithm: str = "AES-256") -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(data))
    writer.encrypt(user_password, owner_password=owner_password, algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypted_guide(password: str) -> bytes:
    """The harbour guide, opened only with `password` (AES-256)."""
    return encrypt(make_pdf(HARBOUR_GUIDE), user_password=password, owner_password="owner-secret-of-the-test")


def compression_bomb(*, with_font: bool, expanded_mb: int = 100) -> bytes:
    """A one-page PDF of a few hundred KB whose content stream inflates to `expanded_mb` MB.

    Without a font pypdf never decodes the content for text (the page looks scanned); with one
    it does, and stops at its decompression limit. Written by hand so the test never holds the
    expanded bytes.
    """
    deflate = zlib.compressobj(9)
    content = deflate.compress(b"BT /F1 12 Tf 20 100 Td (boom) Tj ET\n")
    for _ in range(expanded_mb):
        content += deflate.compress(b" " * 1_000_000)
    content += deflate.flush()
    resources = b"/Resources << /Font << /F1 5 0 R >> >>" if with_font else b""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R " + resources + b" >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)

