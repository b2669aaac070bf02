"""Nested functions, lambdas and classes are scopes of their own: the enclosing flow evaluates
their decorators, defaults and bases and binds the name, and lists them under nested."""


@decorate(option())
def outer(store, limit=default()):
    def inner(x=store):
        if x:
            persist()

    callback = lambda item, n=count(): handle(item)

    class Local(Base, metaclass=meta()):
        field = compute()

        def method(self):
            return self.field

    inner()
    return callback, Local
