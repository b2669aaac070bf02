"""The worker processes' own settings: what a worker sets for itself stays in the worker."""

import gc

from storegate.run.workers import _YOUNG_THRESHOLD, SummaryPool, _POOL_THRESHOLD


def test_a_worker_collects_less_often_and_this_process_is_left_as_it_was():
    before = gc.get_threshold()
    with SummaryPool(1) as pool:
        pool.start(_POOL_THRESHOLD)
        assert pool.pool is not None
        in_worker = pool.pool.submit(gc.get_threshold).result(timeout=60)
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
