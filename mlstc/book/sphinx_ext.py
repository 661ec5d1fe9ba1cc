"""A small Sphinx extension for the book's HTML (listed in ``_config.yml``).

sphinx-thebe and sphinx-togglebutton add their inline scripts after the HTML builder
has started, and Sphinx 7 then writes each of them twice into every page. Twice is
harmless for a ``var`` but not for sphinx-thebe's ``const THEBE_JS_URL``: the second
declaration is a SyntaxError in the browser's console on every page. This extension
keeps the first of each identical script.
"""

from __future__ import annotations


def _unique_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    kept, seen = [], set()
    for script in scripts:  # the two copies differ only in a filename of None or ""
        key = (str(getattr(script, "filename", script) or ""), repr(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    scripts[:] = kept


def setup(app):
    app.connect("html-page-context", _unique_scripts, priority=10)  # before any handler that ends the event
    return {"parallel_read_safe": True, "parallel_write_safe": True}
