"""Dispatch tables: a job queued reaches the handler of its kind, not every handler.

A worker that takes jobs from a queue often calls the handler its table holds for the job's
kind: ``self._handlers[type(job)](job)``, ``self._handlers[job.kind](job)`` (``Site.chosen``).
The table is filled by a method that keeps one parameter under another (``register(kind,
handler)``: ``FunctionSummary.keeps``) or is written out (``self._handlers = {UsageJob:
self._usage}``: ``FunctionSummary.tables``). Each call that hands a job to the queue (the put
itself, or a call of a function that puts its parameter: ``jobs.submit(MemoryJob(...))``,
up through functions without a flag that hand it their own: ``self._submit_quietly(job)``) is,
besides itself, a call of each handler whose key matches what made the job (``Argument.made``:
its class for ``type(job)``, its ``kind="..."`` for ``job.kind``), and the worker's own call of
the table is dropped: a queued job then reaches its handler from where it was queued, with the
flag as that place knows it. A job or a key nothing says matches every handler. A table called
where no queue feeds it (``PROVIDERS[name](...)``, a registry of every provider's class) calls
nothing the project follows: the key decides, and following every element would read every
provider. Works on the summaries only, like ``project.py``.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import TYPE_CHECKING

from storegate.callbacks import PASSED, Callbacks, install, named_call
from storegate.summary import BUILT, EACH, LOCATED, PARAMETER, Argument, FunctionSummary, ModuleSummary, Site

if TYPE_CHECKING:
    from storegate.project import Project, _Function

# The key a handler is registered under, as written (None: unknown, any job's), and its fq.
Handler = tuple[str | None, str]
# A call that hands a job to a queue: where it is, the job (None: unknown), and its kind as
# the call passes it for a function that makes the job (``submit(JobKind.EXPORT, payload)``).
Entry = tuple["_Function", Site, Argument | None, str | None]


def add_dispatch(project: Project) -> Callbacks:
    """Turn each queue worker's call of a dispatch table into calls of the matching handlers
    where jobs are queued; what the pre-filter must read for them (the files that call a
    table's registering method, the handlers no module read defines)."""
    calls = [(fq, site) for fq, function in project.functions.items() for site in function.summary.sites if site.chosen is not None]
    needs = Callbacks()
    if not calls:
        return needs
    fed = _fed(project)
    added: dict[str, dict[Site, list[Site]]] = {}
    dropped: dict[str, set[Site]] = {}
    for fq, site in calls:
        if (site.chosen or "").startswith(PARAMETER):
            if _chosen_by_callers(project, project.functions[fq], site, needs, added):
                dropped.setdefault(fq, set()).add(site)
            continue  # (else each element is every function put in the collection: ``callbacks.py``)
        dropped.setdefault(fq, set()).add(site)
        if fq not in fed:
            continue  # a table no queue feeds (``PROVIDERS[name](...)``): which element, the key says
        worker = project.functions[fq]
        handlers, registering = _handlers(project, worker, site.text.removesuffix(EACH), needs)
        if registering:
            needs.words[fq] = needs.words.get(fq, frozenset()) | registering
        for caller, call, job, kind in _entries(project, worker, fed, site.chosen or ""):
            for key, target in handlers:
                if _matches(project, caller, site.chosen or "", key, job, kind):
                    copy = replace(call, qualified=PASSED + target, args=(job,) if job is not None else (), bound=None, packed=(), chosen=None)
                    added.setdefault(caller.fq, {}).setdefault(call, []).append(copy)
    rewritten: dict[str, FunctionSummary] = {}
    for fq in sorted(set(added) | set(dropped)):
        summary = project.functions[fq].summary
        mine, gone = added.get(fq, {}), dropped.get(fq, set())
        sites: list[Site] = []
        for site in summary.sites:
            if site not in gone:
                sites.append(site)
            sites.extend(mine.get(site, ()))
        rewritten[fq] = replace(summary, sites=tuple(sites))
    install(project, rewritten)
    return needs


def _chosen_by_callers(project: Project, function: _Function, site: Site, needs: Callbacks, added: dict[str, dict[Site, list[Site]]]) -> bool:
    """A table's element chosen by a parameter of the function that calls it (``emit(self,
    event, payload)`` calling each of ``self._hooks.get(event, ())``): each call of the function
    is a call of the handlers registered under the key it passes (any, for a key not written
    out), given what it passes for the parameters the element is given. False when no method of
    the class registers any: the collection is filled otherwise."""
    from storegate.project import _bound_argument

    handlers, registering = _handlers(project, function, site.text.removesuffix(EACH), needs)
    if registering:
        needs.words[function.fq] = needs.words.get(function.fq, frozenset()) | registering
    if not handlers:
        return False
    chooser = (site.chosen or "")[len(PARAMETER) :]
    typed = _TYPE_OF.fullmatch(chooser)  # ``self._handlers.get(type(event), ())``: by the event's class
    for caller, call in _calls_of(project, {function.fq}, {function.fq.rpartition(".")[2]}):
        if caller.fq not in project.functions or not any(t.fq == function.fq for t in project.resolve_all(caller.module, caller.summary, call)):
            continue
        given = _bound_argument(call, function, typed.group(1) if typed else chooser)
        if typed:  # the class the call's event is made of, as the registering calls name it
            made = _made_class(project, caller.module, caller.summary.name, given.made[0]) if isinstance(given, Argument) and given.made else None
            kind = made.rpartition(".")[2] if made is not None and not made.startswith('"') else None
        else:
            kind = _constant(_key(given)) if isinstance(given, Argument) else None
        args = _forwarded(call, function, site)
        for key, target in handlers:
            written = key if typed and key is not None and "(" not in key else _constant(key)
            if kind is None or written is None or _name(kind) == _name(written):
                copy = replace(call, qualified=PASSED + target, args=args, bound=None, packed=(), chosen=None)
                added.setdefault(caller.fq, {}).setdefault(call, []).append(copy)
    return True


# ``Site.chosen`` of a loop over the entry an event's class keys (``analysis._chooser``).
_TYPE_OF = re.compile(r"type\((\w+)\)")


def _forwarded(call: Site, function: _Function, site: Site) -> tuple[Argument, ...]:
    """What ``call`` of ``function`` passes for the parameters ``site`` (in it) passes on whole
    (``h(payload)``), in ``site``'s order and keywords."""
    from storegate.project import _bound_argument

    found: list[Argument] = []
    for arg in site.args:
        bound = _bound_argument(call, function, arg.path) if arg.path is not None and function.summary.param(arg.path) is not None else None
        if isinstance(bound, Argument):
            found.append(replace(bound, keyword=arg.keyword, star=arg.star))
    return tuple(found)


def _handlers(project: Project, worker: _Function, table: str, needs: Callbacks) -> tuple[list[Handler], frozenset[str]]:
    """The functions a worker's table holds, each with its key: those its class's methods write
    out, and those the calls of a method that keeps one under a key pass; and the names of such
    methods (``register``: the pre-filter reads the files that call them)."""
    from storegate.project import _bound_argument

    module, summary = worker.module, worker.summary
    head, _, attribute = table.partition(".")
    if head in ("self", "cls") and attribute and "." not in attribute and summary.class_name is not None:
        owner = f"{module.module}.{summary.class_name}"
        scopes = [f for fq, f in project.functions.items() if fq.rpartition(".")[0] == owner]
    elif "." not in table:  # a module's table
        scopes = [f for f in project.functions.values() if f.module.path == module.path]
        attribute = ""
    else:
        return [], frozenset()
    found: list[Handler] = []
    for scope in scopes:
        for location, key, value in scope.summary.tables:
            if location == table:
                target = _function(project, scope, value, None, needs)
                if target is not None:
                    found.append((key, target))
    registering = [(scope, param, key) for scope in scopes for kept, param, key in scope.summary.keeps if attribute and kept == attribute]
    names = {scope.fq.rpartition(".")[2] for scope, _, _ in registering}
    for caller, call in _calls_of(project, {scope.fq for scope, _, _ in registering}, names):
        for scope, param, key in registering:
            if any(target.fq == scope.fq for target in project.resolve_all(caller.module, caller.summary, call)):
                passed = _bound_argument(call, scope, param)
                target = _function(project, caller, None, passed, needs) if isinstance(passed, Argument) else None
                if target is not None:
                    given = _bound_argument(call, scope, key) if key else None
                    found.append((_key(given) if isinstance(given, Argument) else None, target))
    return found, frozenset(names)


def _fed(project: Project) -> dict[str, set[str]]:
    """A worker's fq -> the queues it takes jobs from: a function that takes them, and each
    method of its class it calls that calls a table's element (``self._dispatch(job)``)."""
    fed: dict[str, set[str]] = {}
    for queue, workers in project._queue_consumers.items():
        for fq in workers:
            fed.setdefault(fq, set()).add(queue)
            worker = project.functions[fq]
            for site in worker.summary.sites:
                if site.kind == "call" and site.text.startswith("self.") and site.text.count(".") == 1:
                    for target in project.resolve_all(worker.module, worker.summary, site):
                        mine = target.summary.class_name == worker.summary.class_name and target.module.path == worker.module.path
                        if mine and any(called.chosen is not None for called in target.summary.sites):
                            fed.setdefault(target.fq, set()).add(queue)
    return fed


def _entries(project: Project, worker: _Function, fed: dict[str, set[str]], chosen: str) -> list[Entry]:
    """The calls that hand a job to a worker's queues: a put of what the function made itself;
    each call of a function that puts its own parameter (``submit(self, job)``), with the job;
    each call of one that makes the job of the kind it is given (``submit(self, kind, payload)``
    putting ``Job(kind=kind.value, ...)``), with that kind. Never a worker's, which puts back
    what it took, nor a constant's (a sentinel that stops the workers). An attribute's queue
    (``self._queue``) is the one of the worker's own class when that class puts on it, else one
    given to it: any class's of that name."""
    from storegate.project import _PUTS, _bound_argument, _queue_end

    queues = fed[worker.fq]
    puts: list[tuple[bool, _Function, Site]] = []  # (another class's attribute, where, the put)
    for fq, function in project.functions.items():
        summary = function.summary
        for site in summary.sites if fq not in fed else ():
            queue = _queue_end(site, _PUTS)
            if queue is not None and project._container_key(function.module, summary, queue) in queues:
                other = queue.startswith(("self.", "cls.")) and (function.module.path, summary.class_name) != (worker.module.path, worker.summary.class_name)
                puts.append((other, function, site))
    if not all(other for other, _, _ in puts):  # the worker's class puts on its queue: no other class's is it
        puts = [put for put in puts if not put[0]]
    entries: list[Entry] = []
    putting: dict[str, tuple[str, str]] = {}  # fq of a function that puts what it is given -> ("job" | "kind", parameter)
    for _, function, site in puts:
        job = next((arg for arg in site.args if arg.keyword is None), None)
        kind = _label(project, function, job, chosen) if job is not None else None
        if job is not None and job.literal:
            continue
        if job is not None and job.path is not None and function.summary.param(job.path) is not None:
            putting[function.fq] = ("job", job.path)
        elif kind is not None and kind.startswith(LOCATED) and function.summary.param(kind[len(LOCATED) :].partition(".")[0]) is not None:
            putting[function.fq] = ("kind", kind[len(LOCATED) :].partition(".")[0])
        else:
            entries.append((function, site, job, None))
    seen = set(putting)
    for level in range(_HANDED_UP):
        last = level == _HANDED_UP - 1  # (a job handed further up is any kind's: every handler, where it is put)
        handing: dict[str, tuple[str, str]] = {}  # the callers that pass their own parameter on as the job
        for caller, call in _calls_of(project, set(putting), {fq.rpartition(".")[2] for fq in putting}):
            if caller.fq in fed or caller.fq in seen or caller.fq not in project.functions:
                continue
            for target in project.resolve_all(caller.module, caller.summary, call):
                if target.fq in putting:
                    what, param = putting[target.fq]
                    bound = _bound_argument(call, target, param)
                    given = bound if isinstance(bound, Argument) else None
                    own = given.path if given is not None and given.path is not None and caller.summary.param(given.path) is not None else None
                    if what == "job" and own is not None and not caller.summary.flags and not last:
                        handing[caller.fq] = ("job", own)  # ``_submit_quietly(self, job)``: its callers make the job
                    elif what == "job":
                        entries.append((caller, call, given, None))
                    else:
                        entries.append((caller, call, None, _key(given) if given is not None else None))
        if not handing:
            break
        seen.update(handing)
        putting = handing
    return entries


# How many functions up a job passed on as a parameter is followed to where it is made (``_entries``).
_HANDED_UP = 3


def _calls_of(project: Project, fqs: set[str], names: set[str]) -> list[tuple[_Function, Site]]:
    """The calls written with one of ``names`` (the last of the callee's), where each may be
    one of the functions ``fqs``: in any scope, a module's own statements too."""
    from storegate.project import _Function

    if not fqs:
        return []
    return [
        (_Function(f"{module.module}.{function.name}", module, function), site)
        for module in project.summaries
        for function in module.functions
        for site in function.sites
        if site.kind == "call" and site.text.rpartition(".")[2] in names and not (site.qualified or "").startswith(PASSED)
    ]


def _function(project: Project, scope: _Function, written: str | None, value: Argument | None, needs: Callbacks) -> str | None:
    """The function a table holds, as written in ``scope`` (``self._usage``) or passed there: a
    function named, or an object built whose class is called (``AttachmentUploader(blobs)``:
    its ``__call__``), or whose method is passed (``SearchIndexer(repo).on_completed``). One no
    module read defines goes to ``needs`` (the pre-filter reads it)."""
    if value is not None and value.path is None and value.made and not value.made[0].startswith('"'):
        built, _, method = value.made[0].partition(BUILT)
        owner = project._known_class(scope.module, built, scope.summary.name)
        if owner is None:
            needs.unresolved.append((scope, named_call(built, scope.module)))
            return None
        return project._method(owner, method or "__call__", set())
    written = written if written is not None else value.path if value is not None else None
    if written is None:
        return None
    named = named_call(written, scope.module)
    target = project.resolve(scope.module, scope.summary, named)
    if target is None:
        needs.unresolved.append((scope, named))
        return None
    return target.fq


def _key(given: Argument) -> str | None:
    """A registering call's key as written: a string's JSON, or the name passed (``UsageJob``)."""
    if given.made and given.made[0].startswith('"'):
        return given.made[0]
    return given.path


def _constant(key: str | None) -> str | None:
    """A key written out: a string, or a name of a constant (``Topic.CHAT_COMPLETION``,
    ``STORED``); None for anything else, a variable's value, which may be any key."""
    if key is None or key.startswith('"') or key.rpartition(".")[2].isupper():
        return key
    return None


def _matches(project: Project, caller: _Function, chosen: str, key: str | None, job: Argument | None, kind: str | None) -> bool:
    """Whether a handler under ``key`` may take the job a call queues: the job's class for a
    table chosen by ``type(job)``, its constant ``kind`` (by keyword, or by the position of the
    class's field) for one chosen by ``job.kind``, or the ``kind`` the call passes to a function
    that makes the job; true when any of them is unknown."""
    if not chosen or key is None:
        return True
    if kind is not None:
        return _name(kind) == _name(key)
    if job is None or not job.made:
        return True
    if chosen == "type":
        made = _made_class(project, caller.module, caller.summary.name, job.made[0])
        return made is None or _name(made) == _name(key)
    label = _label(project, caller, job, chosen)
    return label is None or label.startswith(LOCATED) or _name(label) == _name(key)


def _label(project: Project, function: _Function, job: Argument, chosen: str) -> str | None:
    """What made ``job`` gave for the field a table is chosen by (``kind``): by keyword, or by
    the position of the made class's field of that name (``Job("upload", payload)``)."""
    labels = dict(label.partition("=")[::2] for label in job.made[1:])
    if chosen in labels or not job.made:
        return labels.get(chosen)
    fields = project._fields.get(_made_class(project, function.module, function.summary.name, job.made[0]) or "", ())
    return labels.get(str(fields.index(chosen))) if chosen in fields else None


def _made_class(project: Project, module: ModuleSummary, where: str, callee: str) -> str | None:
    """The class a call makes, as named: the project's class it calls, or the class the
    function it calls is annotated to return (``def _usage_job(...) -> UsageJob``)."""
    if callee.startswith('"'):
        return None
    known = project._known_class(module, callee, where)
    if known is not None:
        return known
    scope = project._scopes.get((module.module, where))
    target = project.resolve(module, scope, named_call(callee, module)) if scope is not None else None
    return target.summary.returns if target is not None else None


def _name(written: str) -> str:
    """A key or a label as compared: a string's value, or a dotted name's last part."""
    return json.loads(written) if written.startswith('"') else written.rpartition(".")[2]
