"""raise goes to the handler (or leaves the scope); assert is a test whose false edge
evaluates the message and raises."""


def checks(store, x):
    assert store, message(x)
    if x is None:
        raise ValueError(describe(x)) from cause()
    assert x
    work(x)


def inside_try(store):
    try:
        if not store:
            raise Refused()
        work()
    except Refused:
        refused()
