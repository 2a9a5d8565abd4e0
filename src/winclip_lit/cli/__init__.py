"""The ``winclip-lit`` command: the task table, argument handling and one-line user errors."""

from winclip_lit.cli.main import TASKS, main, one_line, run_task, script

__all__ = ["TASKS", "main", "one_line", "run_task", "script"]
