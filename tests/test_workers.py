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
