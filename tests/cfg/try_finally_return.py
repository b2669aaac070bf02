"""return inside try runs the finally on the way out; return inside finally ends the scope on
every path through it (it swallows the exception)."""


def return_in_try(store):
    try:
        if store:
            return work()
        other()
    finally:
        cleanup()
    after()


def return_in_finally():
    try:
        risky()
    finally:
        return done()


def break_through_finally(items):
    for item in items:
        try:
            if item:
                break
            use(item)
        finally:
            cleanup()
    after()
