"""The worker processes' own settings: what a worker sets for itself stays in the worker."""

import gc

from storegate.run.workers import _POOL_THRESHOLD, _YOUNG_THRESHOLD, SummaryPool, collected_after


def _in_a_worker(function):
    """What ``function`` returns in a worker process of a pool."""
    with SummaryPool(1) as pool:
        pool.start(_POOL_THRESHOLD)
        assert pool.pool is not None
        return pool.pool.submit(function).result(timeout=60)


def test_a_worker_collects_less_often_and_this_process_is_left_as_it_was():
    before = gc.get_threshold()
    in_worker = _in_a_worker(gc.get_threshold)
    assert in_worker == (_YOUNG_THRESHOLD, *before[1:])
    assert gc.get_threshold() == before


def test_a_run_paces_this_process_collector_only_while_it_analyzes(tmp_path, monkeypatch):
    from storegate.config import load_config
    from storegate.run import pipeline

    (tmp_path / "app.py").write_text("def handler(store=True):\n    return store\n")
    seen = []
    original = pipeline._Run.apply_contracts

    def noting_the_threshold(run):
        seen.append(gc.get_threshold())
        return original(run)

    monkeypatch.setattr(pipeline._Run, "apply_contracts", noting_the_threshold)
    before = gc.get_threshold()
    pipeline.check([tmp_path], load_config([str(tmp_path)], isolated=True), use_cache=False, jobs=1)
    assert seen == [(_YOUNG_THRESHOLD, *before[1:])]
    assert gc.get_threshold() == before


def test_a_project_is_freed_without_a_collection():
    """Each pre-filter round builds a project and drops the last one. While the run paces the
    collector, a project kept alive by a reference cycle would stay until a full collection: on
    litellm, 80 MB more at the peak. A project with callbacks and inherited sinks, asked what a
    round and the checks ask, is freed as soon as it is dropped."""
    import weakref
    from pathlib import Path

    from storegate import checks
    from storegate.config import load_config
    from storegate.project import Project
    from storegate.run.pipeline import summarize_files

    fixtures = Path(__file__).parent.parent / "fixtures" / "cases"
    for name in ("pkg_orm_models", "pkg_callbacks"):
        root = fixtures / name
        config = load_config([str(root)])
        summaries, errors, _ = summarize_files(sorted(root.rglob("*.py")), config, jobs=1)
        assert not errors
        gc.collect()
        gc.disable()
        try:
            project = Project(summaries, config)
            project.unresolved()
            assert checks.run(project)
            project.contracts()
            dropped = weakref.ref(project)
            del project
            assert dropped() is None, f"{name}: a cycle keeps the project"
        finally:
            gc.enable()


def test_a_worker_never_scans_what_it_started_with():
    from storegate.run.workers import _context

    # a forked worker starts with this process's count (the suite's conftest freezes too), a spawned one with none
    inherited = gc.get_freeze_count() if _context().get_start_method() == "fork" else 0
    assert _in_a_worker(gc.get_freeze_count) > inherited


def test_a_file_is_analyzed_without_collections_and_its_cycles_are_collected_after():
    class Node:
        pass

    collections_seen = []

    def noting(phase, info):
        if phase == "start":
            collections_seen.append(info["generation"])

    gc.callbacks.append(noting)
    try:
        with collected_after():
            assert not gc.isenabled()
            for _ in range(50_000):  # far past any threshold: no collection while analyzing
                cycle = Node()
                cycle.self = cycle
            assert collections_seen == []
            cycle = None
        assert gc.isenabled()
        assert collections_seen == [0]  # the young objects once, at the end
        assert not any(type(item) is Node for item in gc.get_objects())
    finally:
        gc.callbacks.remove(noting)


def test_a_collector_turned_off_by_the_caller_stays_off():
    gc.disable()
    try:
        with collected_after():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
