"""Comprehensions are loops inside the enclosing flow: the first iterable once, the filters as
tests back to the loop head, the element on the path the filters allow."""


def comprehensions(store, rows):
    kept = [persist(row) for row in rows if store if row]
    pairs = {key: value for key, values in rows.items() for value in values}
    total = sum(size(row) for row in rows)
    return kept, pairs, total


def shadowing(store, rows):
    names = [store.name for store in rows if store]
    found = [row for row in rows if (hit := row.store)]
    return names, found, hit
