"""The fake Bot API server on the command line: ``python chatbot_telegram/tests/fake_telegram --port 8081``.

Run as a folder, this file is not part of its package and Python put the folder itself first on
``sys.path``: the package is imported from its parent folder instead.
"""

import os
import sys

if __package__:
    from .cli import main
else:
    _folder = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0]) == _folder:
        del sys.path[0]
    sys.path.insert(0, os.path.dirname(_folder))
    from fake_telegram.cli import main

sys.exit(main())
