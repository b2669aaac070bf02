"""match with guards: a case tries the next one when its pattern or its guard fails; an
irrefutable case without a guard ends the chain."""


def dispatch(command, store):
    match command:
        case {"action": "save", **rest} if store:
            save_it(rest)
        case [first, *others]:
            many(first, others)
        case Point(x=0) | None:
            origin()
        case other if other.ready():
            ready(other)
        case _:
            fallback()
    after()


def partial(value):
    match value:
        case 1:
            one()
    after()
