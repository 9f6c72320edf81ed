"""Benchmark suite of Parcours QPV (issue 7): ``python -m bench`` (or ``make bench``).

Nothing here is imported by the application: the baseline endpoint and the data set
generator live only in this package. See ``bench/README.md``.
"""
