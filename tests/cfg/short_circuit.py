"""and / or / not: in a test each operand is its own edge; as a value, the right operand is
evaluated only on the path the left one allows."""


def conditions(store, background, x):
    if store and not background:
        a()
    if store is not False or x.get("store"):
        b()
    if not (store and x):
        c()


def values(store, x):
    y = store and persist(x)
    z = x or default()
    return not y
