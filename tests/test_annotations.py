"""What an annotation names: one reader on libcst's tree (``annotations``) for the flag's kind,
project classes and library receivers, and the summary-text reader of the project stage
(``contracts.annotated_class``), which must agree with it."""

from __future__ import annotations

import libcst as cst
import pytest

from storegate import contracts
from storegate.annotations import annotated_class, annotated_classes, callable_returns, is_type_alias, numeric

ANNOTATIONS = [
    ("Ledger", ["Ledger"]),
    ('"Ledger"', ["Ledger"]),
    ("Optional[Ledger]", ["Ledger"]),
    ('Optional["Ledger"]', ["Ledger"]),
    ("typing.Optional[db.Ledger]", ["db.Ledger"]),
    ("Ledger | None", ["Ledger"]),
    ("None | Ledger", ["Ledger"]),
    ('"Ledger | None"', ["Ledger"]),
    ("Union[Ledger, None]", ["Ledger"]),
    ("Union[Ledger, Scratch, None]", ["Ledger", "Scratch"]),
    ("Ledger | Scratch", ["Ledger", "Scratch"]),
    ("Annotated[Ledger, Depends(get_ledger)]", ["Ledger"]),
    ("typing_extensions.Annotated[Ledger | None, Body()]", ["Ledger"]),
    ("list[Ledger]", []),
    ("dict[str, Ledger]", []),
    ("None", []),
    ('"not an expression ("', []),
]


@pytest.mark.parametrize("annotation, classes", ANNOTATIONS)
def test_the_classes_an_annotation_names(annotation: str, classes: list[str]) -> None:
    node = cst.parse_expression(annotation)
    assert annotated_classes(node) == classes
    one = classes[0] if len(classes) == 1 else None
    assert annotated_class(node) == one
    assert contracts.annotated_class(annotation) == one  # the project stage reads the same


@pytest.mark.parametrize(
    "value, alias",
    [("Annotated[Session, Depends(get_db)]", True), ("Optional[Store]", True), ("Union[A, B]", True),
     ("typing.Annotated[Session, Depends(get_db)]", True), ("dict[str, int]", False), ("Store()", False),
     ("Store", False)],
)
def test_a_typing_construct_bound_to_a_name_is_an_alias(value: str, alias: bool) -> None:
    assert is_type_alias(cst.parse_expression(value)) is alias


@pytest.mark.parametrize(
    "annotation, made",
    [("Callable[[], UnitOfWork]", ["UnitOfWork"]), ("Callable[..., A | B] | None", ["A", "B"]),
     ("Optional[typing.Callable[[str], db.Session]]", ["db.Session"]), ('Callable[[], "Ledger"]', ["Ledger"]),
     ("Callable[[str], None]", []), ("Callable", []), ("Ledger", []), ("list[Callable[[], Ledger]]", [])],
)
def test_a_callable_annotation_names_what_calling_it_makes(annotation: str, made: list[str]) -> None:
    assert callable_returns(cst.parse_expression(annotation)) == made


def test_a_string_annotation_that_cannot_be_encoded_names_nothing() -> None:
    """A lone surrogate in a string annotation (the stdlib's tests have them) is no class."""
    node = cst.SimpleString('"\\ud800"')  # the escape, written out: libcst keeps it as text
    raw = cst.SimpleString('"\ud800"')
    assert annotated_classes(node) == []
    assert annotated_classes(raw) == []
    assert callable_returns(raw) == []


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        ("float", True),
        ("int | None", True),
        ("Optional[int]", True),
        ('"float | None"', True),
        ("decimal.Decimal", True),
        ("str", False),
        ("int | str", False),
        ("None", False),
        ("Any", False),
        ("list[int]", False),
    ],
)
def test_an_annotation_of_numbers_only(annotation: str, expected: bool) -> None:
    assert numeric(cst.parse_expression(annotation)) is expected
