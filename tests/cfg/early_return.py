"""Early return: the code after a return is reached only on the other edge; code after an
unconditional return is unreachable (built, never reached)."""


def gate(store, x):
    if not store:
        return None
    persist(x)
    return x


def dead(x):
    return x
    unreachable(x)
