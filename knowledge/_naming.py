"""A question that names a document ("Can gnuplot read Fortran numbers?"): which document, and the question without its name.

Users name the program or manual they ask about. The name says which document, not what in it:
the passages that answer rarely repeat it, while in the question's vector it weighs as much as the
words that do say what is asked (an unfamiliar name such as "gnuplot" is several word pieces), so
the vector search favoured passages that merely mention the program. So retrieval searches by
vector for the question without the name, and lets the name choose the document instead: the
passages of the documents it does not name count less in the fusion (`_retrieve`). The keyword
search keeps the name (BM25 weighs it by its rarity). On bench/retrieval_set (see the README,
*Retrieval*) this raised hybrid recall@5 from 0.824 to 0.944 on the file whose questions name
the program (105 of 108), and left the three others within a question.

A name is a word of a PDF's file name ("gnuplot.pdf", "camlidl-1.04.doc.pdf"), not a saved answer's
title (a few topic words such as "Kiln cooling time", which are what a question asks about). It
counts only when it tells documents apart: when the question names some of the listed PDFs but not
all (with one PDF, or a word every file name holds, nothing changes).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from knowledge._keywords import terms

#: Words of file names that name a format or a kind of document, not which one.
_GENERIC = frozenset(terms("pdf doc docs document manual guide book handbook draft final copy version"))
_FILE_NAME_SEPARATORS = re.compile(r"[\W_]+")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:['’]s)?")


@functools.lru_cache(maxsize=4096)  # asked for every listed PDF at every question
def name_terms(file_name: str) -> frozenset[str]:
    """The stems that name a PDF: the words of its file name of 3 or more letters, generic ones aside."""
    words = _FILE_NAME_SEPARATORS.sub(" ", file_name)
    return frozenset(term for term in terms(words) if term.isalpha() and len(term) >= 3) - _GENERIC


def named_documents(question: str, names: Mapping[str, frozenset[str]]) -> set[str]:
    """The documents (ids, of `names`: doc id -> `name_terms`) the question names; none if it names all of them."""
    asked = set(terms(question))
    named = {doc_id for doc_id, name in names.items() if name & asked}
    return named if len(named) < len(names) else set()


def without_names(text: str, names: frozenset[str]) -> str:
    """`text` with the words whose stem is in `names` taken out (the text itself if that would leave nothing)."""
    if not names:
        return text
    kept = _WORD.sub(lambda word: " " if set(terms(word.group())) & names else word.group(), text)
    kept = re.sub(r"\s+", " ", kept).strip()
    return kept if terms(kept) else text
