"""doit entry point: wiring only. `doit slate date=2019-10-30`, `doit list --status date=...`."""

from projections.doit_signals import quiet_interrupt

quiet_interrupt()  # first: a Ctrl-C while the rest loads or the tasks are generated is one line too

from doit import get_var  # noqa: E402

from projections.doit_cli import check_command_line  # noqa: E402
from projections.doit_order import dates_in_order  # noqa: E402
from projections.doit_tasks import (  # noqa: E402
    doit_config,
    generate,
    quiet_broken_pipe,
    selected_dates,
    workers_die_with_parent,
)
from projections.doit_workers import watch_workers  # noqa: E402
from projections.wiring import engine_for  # noqa: E402

DOIT_CONFIG = doit_config()
quiet_broken_pipe()
dates_in_order()
workers_die_with_parent()
watch_workers()


def task_pipeline():
    """every stage of the selected dates (date=YYYY-MM-DD, A..B or a comma list; default today)"""
    engine = engine_for()
    check_command_line(engine)
    dates = selected_dates(get_var("date"), engine.now)
    yield from generate(engine, dates)
