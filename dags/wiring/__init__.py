"""Wiring shared by the DAG files, one module per concern: task policy (`policy`), the run's date and context
(`context`), turning a domain step into a task (`steps`), sensors (`sensors`), assets (`assets`), trigger forms
(`forms`) and the failure alert (`alerts`).

Only cheap imports at module level: every DAG file imports these while it is parsed.
"""
