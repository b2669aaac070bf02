"""while with break, continue and else: the else runs only when the test turns false."""


def loop(store, items):
    while items:
        if store:
            break
        if not items.pop():
            continue
        step()
    else:
        finished()
    after()


def forever():
    while True:
        if ready():
            break
    after()
