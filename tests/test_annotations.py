"""What an annotation names: one reader on libcst's tree (``annotations``) for the flag's kind,
project classes and library receivers, and the summary-text reader of the project stage
(``contracts.annotated_class``), which must agree with it."""

from __future__ import annotations

import libcst as cst
import pytest

from storegate import contracts
from storegate.annotations import annotated_class, annotated_classes, is_type_alias

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
