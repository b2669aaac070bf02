"""for / else: the iterable is evaluated once, the target bound per item; break skips the else."""


def search(store, items):
    for item in items:
        if item is None:
            continue
        if store:
            break
        use(item)
    else:
        nothing_found()
    after()


def unpack(pairs):
    for key, (value, *rest) in pairs.items():
        use(key, value, rest)
