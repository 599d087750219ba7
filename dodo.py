"""doit entry point: wiring only. `doit slate date=2019-10-30`, `doit list --status date=...`."""

from doit import get_var

from projections.doit_tasks import doit_config, generate, quiet_broken_pipe, selected_dates, workers_die_with_parent
from projections.wiring import engine_for

DOIT_CONFIG = doit_config()
quiet_broken_pipe()
workers_die_with_parent()


def task_pipeline():
    """every stage of the selected dates (date=YYYY-MM-DD, A..B or a comma list; default today)"""
    engine = engine_for()
    dates = selected_dates(get_var("date"), engine.now)
    yield from generate(engine, dates)
