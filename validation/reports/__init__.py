"""Reports, torch-free: markdown tables, paper-grade figures, theory-vs-simulation agreement and
verdicts, and a results store's report.

``tables`` (markdown), ``figures`` (matplotlib, one style sheet), ``agreement`` (a prediction
against a stored run), ``verdicts`` (what each comparison concludes), ``store_report`` (the report
of any results store) and ``files`` (where a report is written).
"""
