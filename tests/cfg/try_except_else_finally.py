"""try / except / else / finally: each statement of the body may raise to the dispatch block;
the else runs after a body that completed; the finally runs on every way out."""


def full(store):
    try:
        x = first()
        second(x)
    except ValueError as error:
        handle(error)
    except (KeyError, TypeError):
        other()
    else:
        no_error(x)
    finally:
        cleanup()
    after()


def catch_all():
    try:
        risky()
    except BaseException:
        pass
    after()
