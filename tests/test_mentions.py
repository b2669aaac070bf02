"""``prefilter.mentions``: whole identifiers, keywords passed and callees, as the rounds search
texts for them (the pattern leads with each word's text, then checks what is around it)."""

import pytest

from storegate.prefilter import mentions

CASES = [
    ("x = store", {"store"}, True),
    ("x = restore + store_all", {"store"}, False),
    ("x = store2", {"store"}, False),
    ("x = self.store", {"store"}, True),
    ("path = '/v1/responses_x'", {"responses*"}, True),
    ("path = '/v1/my_responses'", {"*responses"}, True),
    ("path = '/v1/my_responses'", {"responses"}, False),
    ("f(kwargs=x)", {"kwargs="}, True),
    ("f(kwargs = x)", {"kwargs="}, True),
    ("ok = kwargs == x", {"kwargs="}, False),
    ("jobs.run (x)", {"run("}, True),
    ('getattr(jobs, "run")(x)', {"run("}, True),
    ("from jobs import run", {"run("}, False),
    ("prerun(x)", {"run("}, False),
    # a word present only inside longer identifiers does not hide another that is whole
    ("restore(x); y = params", {"store", "params="}, False),
    ("restore(x); f(params=y)", {"store", "params="}, True),
    ("x = 1", set(), False),
]


@pytest.mark.parametrize(("source", "words", "expected"), CASES)
def test_mentions(source: str, words: set[str], expected: bool) -> None:
    assert mentions(source, frozenset(words)) is expected


def test_no_words_means_anything() -> None:
    assert mentions("x = 1", None) is True
