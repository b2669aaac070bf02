"""What a type annotation names, read on libcst's tree: one reader for the flag's kind
(``reads``), the classes of project objects (``typegather``) and library receivers
(``receivers``), so that ``Optional``, unions, ``Annotated`` and string annotations mean the
same everywhere.

(``contracts.annotated_class`` reads the same forms from a summary's annotation text with the
stdlib's parser: the project stage runs without libcst.)
"""

from __future__ import annotations

import libcst as cst

from storegate.paths import dotted_name, string_value

# ``Union[A, B]`` and ``Optional[A]`` stand for each member; ``Annotated[A, ...]`` for its
# first (FastAPI's ``Annotated[Session, Depends(get_db)]`` is a ``Session``).
_UNIONS = frozenset({"Union", "typing.Union", "Optional", "typing.Optional"})
_ANNOTATED = frozenset({"Annotated", "typing.Annotated", "typing_extensions.Annotated"})


def union_parts(annotation: cst.BaseExpression) -> list[cst.BaseExpression]:
    """The members of ``a | b``, ``Union[a, b]``, ``Optional[a]``, ``Annotated[a, ...]``, at
    any depth (a string member, ``Optional["Store"]``, is read as the annotation it holds; one
    that does not parse stays a string)."""
    text = string_value(annotation)
    if text is not None:
        try:
            annotation = cst.parse_expression(text)
        except (cst.ParserSyntaxError, UnicodeError):  # (a lone surrogate cannot be encoded to parse)
            return [annotation]
    # exact types: a failed ``isinstance`` of a libcst class is slow (an ABC's check)
    if type(annotation) is cst.BinaryOperation and type(annotation.operator) is cst.BitOr:
        return union_parts(annotation.left) + union_parts(annotation.right)
    if type(annotation) is cst.Subscript:
        head = dotted_name(annotation.value)
        elements = [element.slice.value for element in annotation.slice if type(element.slice) is cst.Index]
        if head in _UNIONS:
            return [part for element in elements for part in union_parts(element)]
        if head in _ANNOTATED and elements:
            return union_parts(elements[0])
    return [annotation]


def annotated_classes(annotation: cst.BaseExpression) -> list[str]:
    """The classes an annotation names, as written (``A | B | None``: ``A`` and ``B``), a generic
    class's too (``async_sessionmaker[AsyncSession]``: ``async_sessionmaker``); none for anything
    else (``list[A]``, ``Callable[..., A]``; ``Any`` is a name too)."""
    names = (dotted_name(_generic_origin(part)) for part in union_parts(annotation))
    return [name for name in names if name is not None and name != "None"]


_NUMBERS = frozenset({"int", "float", "bool", "complex", "decimal.Decimal", "Decimal"})


def numeric(annotation: cst.BaseExpression) -> bool:
    """Whether an annotation admits only numbers (and None): ``amount: float``, ``n: int | None``."""
    names = {dotted_name(part) for part in union_parts(annotation)}
    return bool(names - {"None"}) and names - {"None"} <= _NUMBERS


_CALLABLES = frozenset({"Callable", "typing.Callable", "collections.abc.Callable"})


def callable_returns(annotation: cst.BaseExpression | None) -> list[str]:
    """The classes a callable annotation says a call returns (``Callable[[], UnitOfWork]``,
    ``Callable[..., A | B] | None``: ``A`` and ``B``), as written; a factory held."""
    found: list[str] = []
    for part in union_parts(annotation) if annotation is not None else ():
        if type(part) is cst.Subscript and dotted_name(part.value) in _CALLABLES:
            elements = [element.slice.value for element in part.slice if type(element.slice) is cst.Index]
            found.extend(cls for cls in (annotated_classes(elements[-1]) if len(elements) == 2 else ()) if cls not in found)
    return found


# Subscripted forms that are no instance of the class they name: collections (their elements
# are: ``element_classes``), classes themselves, callables, typing's markers.
_NOT_INSTANCES = frozenset(
    "type Type Callable Literal ClassVar Final Awaitable Coroutine Iterator AsyncIterator Iterable AsyncIterable "
    "Generator AsyncGenerator Required NotRequired ReadOnly TypeGuard Unpack".split()
)


# Context managers of a class (``AbstractContextManager[Session]``): what ``with`` binds is
# what the expression gives (``typegather._entered``), so each stands for the class it enters.
_CONTEXT_MANAGERS = frozenset({"AbstractContextManager", "AbstractAsyncContextManager", "ContextManager", "AsyncContextManager"})


def _generic_origin(part: cst.BaseExpression) -> cst.BaseExpression:
    """A generic class's annotation as the class itself (``Queue[Job]``: ``Queue``), a context
    manager's as the class it enters (``_CONTEXT_MANAGERS``); anything else as it is."""
    if type(part) is not cst.Subscript:
        return part
    head = (dotted_name(part.value) or "").rpartition(".")[2]
    if head in _CONTEXT_MANAGERS and len(part.slice) == 1 and type(part.slice[0].slice) is cst.Index:
        return _generic_origin(part.slice[0].slice.value)
    if not head or head in _SEQUENCES or head in _MAPPINGS or head in _NOT_INSTANCES:
        return part
    return part.value


def annotated_class(annotation: cst.BaseExpression) -> str | None:
    """The one class an annotation names (``Service``, ``Service | None``,
    ``Annotated[Service, ...]``); None when it names none or several."""
    names = annotated_classes(annotation)
    return names[0] if len(names) == 1 else None


def is_type_alias(value: cst.BaseExpression | None) -> bool:
    """A typing construct bound to a name (``ServiceDep = Annotated[Service, Depends(...)]``,
    ``KeyValueStore = InMemoryKV | RedisKV``): what the name annotates, it holds."""
    if isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.BitOr):
        names = [dotted_name(part) for part in union_parts(value)]
        return all(name is not None and (name == "None" or name.rpartition(".")[2][:1].isupper()) for name in names)
    return isinstance(value, cst.Subscript) and dotted_name(value.value) in _UNIONS | _ANNOTATED


# The collections whose elements an annotation names (``list[Plugin]``, ``Sequence[Plugin]``),
# and the mappings whose values it names (``dict[str, Session]``), by their last name.
_SEQUENCES = frozenset(
    {"list", "List", "set", "Set", "frozenset", "FrozenSet", "tuple", "Tuple", "Sequence", "MutableSequence", "Iterable", "Collection", "deque", "Deque", "AbstractSet"}
)
_MAPPINGS = frozenset({"dict", "Dict", "Mapping", "MutableMapping", "OrderedDict", "defaultdict", "DefaultDict"})


def element_classes(annotation: cst.BaseExpression) -> list[str]:
    """The classes the elements of an annotated collection are, as written: ``list[Plugin]``,
    ``Sequence[A | B] | None`` (``A`` and ``B``), a tuple's members, a mapping's values
    (``dict[str, Session]``: what ``.values()`` gives)."""
    found: list[str] = []
    for part in union_parts(annotation):
        if type(part) is not cst.Subscript:
            continue
        head = (dotted_name(part.value) or "").rpartition(".")[2]
        elements = [element.slice.value for element in part.slice if type(element.slice) is cst.Index]
        if head in _MAPPINGS:
            elements = elements[1:2]
        elif head not in _SEQUENCES:
            continue
        found.extend(cls for element in elements for cls in annotated_classes(element) if cls not in found)
    return found
