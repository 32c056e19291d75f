"""Garbage collection paused while the project starts.

Start-up builds objects that live as long as the process: modules, model classes, URL
patterns, admin registrations. The cycle collector finds nothing to free among them, yet
importing them set it off about 190 times (45 ms of a 0.45 s management command), and the
interpreter walked them all once more on its way out (about 0.1 s). The entry points
(``manage.py``, ``wsgi.py``, ``asgi.py``) pause collection before Django starts; once the apps
are loaded, everything that exists is moved to the permanent generation (``gc.freeze()``),
which later collections and the exit skip, and collection resumes for what the process
does next. Anything else that starts Django (the test suite) is left as it is, and so is a
process whose Django is set up already when an entry point is imported (``runserver`` loads
``wsgi.py`` after ``manage.py`` set it up): no ``ready()`` would come to resume collection.
"""

import gc
import sys

_paused = False


def pause() -> None:
    """Stop cycle collection until ``resume()``; an entry point's first step."""
    global _paused
    django_apps = sys.modules.get("django.apps")
    if django_apps is not None and django_apps.apps.ready:
        return
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Freeze what start-up built and collect again, if ``pause()`` stopped collection."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
