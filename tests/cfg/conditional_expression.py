"""x if c else y: as a value, each arm on its own path; as a test, the arms are tests too."""


def value(store, x):
    y = persist(x) if store else skip(x)
    return y


def test(store, flag):
    if (store if flag else False):
        a()
