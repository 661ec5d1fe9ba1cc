"""Book tooling, the top of the flow: the notebooks' set-up and staging
(:mod:`~mlstc.book.setup`), prerequisites and the run cache
(:mod:`~mlstc.book.prerequisites`, :mod:`~mlstc.book.runcache`), papermill and
Jupyter Book (:mod:`~mlstc.book.runner`), ``verify`` (:mod:`~mlstc.book.verify`),
plots and the command line (:mod:`~mlstc.book.cli`).
"""
