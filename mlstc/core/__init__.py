"""The layer every other one stands on: where things live (:mod:`~mlstc.core.paths`),
run profiles (:mod:`~mlstc.core.profiles`), the machine and its packages
(:mod:`~mlstc.core.system`) and safe, content-keyed files (:mod:`~mlstc.core.storage`).

Nothing here imports from the rest of ``mlstc``.
"""
