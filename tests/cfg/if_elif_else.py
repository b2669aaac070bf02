"""if / elif / else: each test is an edge pair; every branch joins after the statement."""


def branches(store, x):
    if store:
        a(x)
    elif x is None:
        b()
    elif store is False:
        pass
    else:
        c(x)
    d()


def no_else(store):
    if not store:
        e()
    f()
