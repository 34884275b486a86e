"""The pull-request bot: dockfix's changes to a repository as one pull request.

``run`` (one repository: clone, fix, branch, commit, push, open or update the
pull request), ``scan`` (the Dockerfiles of a clone, fixed in memory), ``git``
(real git with hooks, filters and submodules off), ``github`` (the REST calls,
through githubkit), ``cli`` (``dockfix bot ...``).  Needs the ``bot`` extra:
``pip install 'dockfix[bot]'``.
"""
