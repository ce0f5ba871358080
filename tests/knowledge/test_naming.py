"""A question naming a document: which one, and the question without its name for the vector search."""

from __future__ import annotations

from knowledge._naming import name_terms, named_documents, without_names


def test_a_file_name_is_named_by_its_words_not_its_format_version_or_kind():
    assert name_terms("gnuplot.pdf") == {"gnuplot"}
    assert name_terms("camlidl-1.04.doc.pdf") == {"camlidl"}
    assert name_terms("Asymptote_Manual v2.pdf") == {"asymptot"}


NAMES = {"g": name_terms("gnuplot.pdf"), "a": name_terms("asymptote.pdf"), "c": name_terms("camlidl-1.04.doc.pdf")}


def test_the_documents_a_question_names_and_only_when_that_tells_them_apart():
    assert named_documents("Can gnuplot read Fortran numbers?", NAMES) == {"g"}
    assert named_documents("gnuplot's tick labels, or Asymptote's?", NAMES) == {"g", "a"}
    assert named_documents("How do I label the axes?", NAMES) == set()
    assert named_documents("gnuplot, asymptote or camlidl?", NAMES) == set()  # all of them: no choice
    assert named_documents("Does gnuplot plot pies?", {"g": NAMES["g"]}) == set()  # the only document


def test_the_vector_query_drops_the_name_also_possessive_but_never_everything():
    gnuplot = NAMES["g"]
    assert without_names("Can gnuplot read Fortran numbers?", gnuplot) == "Can read Fortran numbers?"
    assert without_names("In gnuplot's postscript terminal, fonts", gnuplot) == "In postscript terminal, fonts"
    assert without_names("gnuplot?", gnuplot) == "gnuplot?"
    assert without_names("Can gnuplot read it?", frozenset()) == "Can gnuplot read it?"
