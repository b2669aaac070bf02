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
