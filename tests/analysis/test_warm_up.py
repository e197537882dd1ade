"""The analysis worker loads the analysers before its first analysis; an analyser given by a caller (tests,
tools) is not called to warm up."""

from engagement.worker import AnalysisWorker


async def test_the_worker_warms_up_the_analysers_and_leaves_other_analysers_alone(db):
    called = []
    worker = AnalysisWorker(db, analyse=lambda *a, **k: called.append(a))
    assert not worker.warmed.is_set()
    await worker.warm_up()
    assert worker.warmed.is_set() and called == []
    real = AnalysisWorker(db)
    await real.warm_up()
    assert real.warmed.is_set()
