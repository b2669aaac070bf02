"""with: the context expressions are evaluated, the targets bound, then the body runs."""


def managed(path, store):
    with open(path) as handle, lock():
        data = handle.read()
        if store:
            keep(data)
    after()
