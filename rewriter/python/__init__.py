"""Python files that configure Celery: the language, its model and its rules (DFC...).

``detect`` decides cheaply (file names, regular expressions) which files are
Python and which configure Celery; only then is libcst imported, by
``celeryconf``.
"""
